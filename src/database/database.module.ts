import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import type { AppConfig } from '../config/app.config.js';
import { buildDataSourceOptions } from './data-source.options.js';

@Module({})
export class DatabaseModule {
  /** Connects to `url` (DATABASE_URL or the embedded server main.ts started) and runs pending migrations. */
  static forRoot(config: AppConfig, url: string): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRoot({
          ...buildDataSourceOptions({ url, poolSize: config.dbPoolSize, migrationsRun: config.dbMigrationsRun }),
          // The app's shutdown sequence decides when to close the pool.
          retryAttempts: 3,
          retryDelay: 1000,
        }),
      ],
    };
  }
}
