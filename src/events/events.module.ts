import { Global, Module } from '@nestjs/common';
import { DomainEventPublisher } from './domain-event-publisher.js';

@Global()
@Module({
  providers: [DomainEventPublisher],
  exports: [DomainEventPublisher],
})
export class EventsModule {}
