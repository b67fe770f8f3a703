import { DynamicModule, Module } from '@nestjs/common';
import { EventEmitterModule } from '@nestjs/event-emitter';
import { ScheduleModule } from '@nestjs/schedule';
import { LoggerModule } from 'nestjs-pino';
import { AuthModule } from './auth/auth.module.js';
import { ContactsModule } from './contacts/contacts.module.js';
import type { AppConfig } from './config/app.config.js';
import { ConfigModule } from './config/config.module.js';
import { DatabaseModule } from './database/database.module.js';
import { NotificationsModule } from './database/notifications.module.js';
import { DealsModule } from './deals/deals.module.js';
import { EventsModule } from './events/events.module.js';
import { EventFeedModule } from './events/feed/event-feed.module.js';
import { HealthModule } from './health/health.module.js';
import { InvoicesModule } from './invoices/invoices.module.js';
import { loggerOptions } from './logging.js';
import { MetricsModule } from './metrics/metrics.module.js';
import { RetentionModule } from './retention/retention.module.js';
import { TenantsModule } from './tenants/tenants.module.js';
import { UsersModule } from './users/users.module.js';
import { DeliveryModule } from './webhooks/delivery/delivery.module.js';
import { InboundModule } from './webhooks/inbound/inbound.module.js';
import { SubscriptionsModule } from './webhooks/subscriptions/subscriptions.module.js';

@Module({})
export class AppModule {
  static forRoot(config: AppConfig, databaseUrl: string): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot(config),
        LoggerModule.forRoot(loggerOptions(config)),
        DatabaseModule.forRoot(config, databaseUrl),
        NotificationsModule,
        EventEmitterModule.forRoot({ wildcard: false }),
        ScheduleModule.forRoot(),
        EventsModule,
        MetricsModule,
        HealthModule,
        AuthModule,
        UsersModule,
        TenantsModule,
        ContactsModule,
        SubscriptionsModule,
        DeliveryModule,
        InboundModule,
        DealsModule,
        InvoicesModule,
        EventFeedModule,
        RetentionModule,
      ],
    };
  }
}
