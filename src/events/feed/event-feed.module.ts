import { Module } from '@nestjs/common';
import { EventsFeedController } from './events-feed.controller.js';
import { EventsFeedService } from './events-feed.service.js';

@Module({
  controllers: [EventsFeedController],
  providers: [EventsFeedService],
})
export class EventFeedModule {}
