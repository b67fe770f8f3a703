import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app.config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { sha256Hex } from '../common/crypto/tokens.js';
import { AppError } from '../common/errors/app-error.js';

/**
 * Counts failed logins per email+IP in the database (so every instance shares the count) and locks the
 * pair out for LOGIN_LOCKOUT_SECONDS after LOGIN_MAX_FAILURES failures within that window.
 */
@Injectable()
export class LoginThrottleService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  private key(email: string, ip: string): string {
    return sha256Hex(`${email.toLowerCase()}|${ip}`);
  }

  /** Throws 429 with Retry-After while the email+IP pair is locked out. */
  async assertAllowed(email: string, ip: string): Promise<void> {
    const [row] = await this.dataSource.query<Array<{ retry_after: number }>>(
      `SELECT ceil(extract(epoch FROM locked_until - now()))::int AS retry_after
         FROM login_attempts WHERE key = $1 AND locked_until > now()`,
      [this.key(email, ip)],
    );
    if (row) {
      throw new AppError('LOGIN_LOCKED', `Too many failed logins for this email from your address; try again in ${row.retry_after} seconds`, {
        headers: { 'retry-after': String(row.retry_after) },
      });
    }
  }

  async recordFailure(email: string, ip: string): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO login_attempts AS a (key, failures, window_started_at, locked_until)
       VALUES ($1, 1, now(), CASE WHEN $2::int <= 1 THEN now() + make_interval(secs => $3::int) END)
       ON CONFLICT (key) DO UPDATE SET
         failures = CASE WHEN a.window_started_at < now() - make_interval(secs => $3::int) THEN 1 ELSE a.failures + 1 END,
         window_started_at = CASE WHEN a.window_started_at < now() - make_interval(secs => $3::int) THEN now() ELSE a.window_started_at END,
         locked_until = CASE
           WHEN a.window_started_at >= now() - make_interval(secs => $3::int) AND a.failures + 1 >= $2::int
           THEN now() + make_interval(secs => $3::int) END`,
      [this.key(email, ip), this.config.loginMaxFailures, this.config.loginLockoutSeconds],
    );
  }

  async recordSuccess(email: string, ip: string): Promise<void> {
    await this.dataSource.query('DELETE FROM login_attempts WHERE key = $1', [this.key(email, ip)]);
  }
}
