import { Global, Module } from '@nestjs/common';
import { HttpActivity } from '../common/http/http-activity.js';
import { PgListener } from './pg-listener.js';
import { WakeableLoops } from './wakeable-loop.js';

/**
 * The one LISTEN connection of an instance (PgListener), the factory of the workers' loops it wakes
 * (WakeableLoops), and the count of HTTP requests under way that the workers give way to (HttpActivity),
 * provided once for every module.
 */
@Global()
@Module({
  providers: [PgListener, WakeableLoops, HttpActivity],
  exports: [PgListener, WakeableLoops, HttpActivity],
})
export class NotificationsModule {}
