import { Global, Module } from '@nestjs/common';
import { PgListener } from './pg-listener.js';
import { WakeableLoops } from './wakeable-loop.js';

/**
 * The one LISTEN connection of an instance (PgListener) and the factory of the workers' loops it wakes
 * (WakeableLoops), provided once for every module.
 */
@Global()
@Module({
  providers: [PgListener, WakeableLoops],
  exports: [PgListener, WakeableLoops],
})
export class NotificationsModule {}
