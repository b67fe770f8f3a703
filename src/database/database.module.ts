import { DynamicModule, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { DataSource, type DataSourceOptions } from 'typeorm';
import type { AppConfig } from '../config/app.config.js';
import { buildDataSourceOptions } from './data-source.options.js';
import { runMigrationsExclusively } from './run-migrations.js';

@Module({})
export class DatabaseModule {
  /** Connects to `url` (DATABASE_URL or the embedded server main.ts started) and runs pending migrations. */
  static forRoot(config: AppConfig, url: string): DynamicModule {
    return {
      module: DatabaseModule,
      imports: [
        TypeOrmModule.forRootAsync({
          useFactory: () => ({
            // Migrations run below, under an advisory lock, rather than by TypeORM on initialize.
            ...buildDataSourceOptions({ url, poolSize: config.dbPoolSize, migrationsRun: false }),
            retryAttempts: 3,
            retryDelay: 1000,
          }),
          dataSourceFactory: async (options?: DataSourceOptions) => {
            const dataSource = await new DataSource(options!).initialize();
            try {
              if (config.dbMigrationsRun) await runMigrationsExclusively(dataSource);
            } catch (error) {
              await dataSource.destroy();
              throw error;
            }
            return dataSource;
          },
        }),
      ],
    };
  }
}
