import { Inject, Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { SecretBox } from '../../common/crypto/secret-box.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { WebhookSubscription } from './webhook-subscription.entity.js';

/** The prefix of a subscription secret (the Standard Webhooks format). */
export const SECRET_PREFIX = 'whsec_';

/** A new subscription secret: `whsec_` + base64 of 32 random bytes. */
export function generateWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(32).toString('base64')}`;
}

/** Opened values kept per instance; past this many the cache starts over. */
const OPENED_CACHE_SIZE = 10_000;

/**
 * Encrypts and decrypts what a subscription keeps secret: its signing secrets and its custom headers. What it
 * opens is kept in memory by sealed value (the delivery worker opens the same secret for every delivery of a
 * subscription); a rotated secret or changed headers are a new sealed value, so nothing stale is ever used.
 */
@Injectable()
export class WebhookSecrets {
  private readonly box: SecretBox;
  private readonly opened = new Map<string, string>();

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.box = new SecretBox(config.secretsEncryptionKey);
  }

  seal(value: string): string {
    return this.box.encrypt(value);
  }

  secretOf(subscription: Pick<WebhookSubscription, 'secretEncrypted'>): string {
    return this.open(subscription.secretEncrypted);
  }

  /** The previous secret while its rotation grace lasts, else null. */
  previousSecretOf(subscription: Pick<WebhookSubscription, 'previousSecretEncrypted' | 'previousSecretExpiresAt'>, now = new Date()): string | null {
    if (!subscription.previousSecretEncrypted || !subscription.previousSecretExpiresAt || subscription.previousSecretExpiresAt <= now) return null;
    return this.open(subscription.previousSecretEncrypted);
  }

  sealHeaders(headers: Record<string, string> | undefined): string | null {
    return headers && Object.keys(headers).length > 0 ? this.box.encrypt(JSON.stringify(headers)) : null;
  }

  headersOf(subscription: Pick<WebhookSubscription, 'headersEncrypted'>): Record<string, string> {
    return subscription.headersEncrypted ? (JSON.parse(this.open(subscription.headersEncrypted)) as Record<string, string>) : {};
  }

  /** Decrypts (or finds what was decrypted before); throws for a value sealed with another key. */
  private open(sealed: string): string {
    const known = this.opened.get(sealed);
    if (known !== undefined) return known;
    const value = this.box.decrypt(sealed);
    if (this.opened.size >= OPENED_CACHE_SIZE) this.opened.clear();
    this.opened.set(sealed, value);
    return value;
  }
}
