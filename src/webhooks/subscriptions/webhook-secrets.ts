import { Inject, Injectable } from '@nestjs/common';
import { SecretBox } from '../../common/crypto/secret-box.js';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import type { WebhookSubscription } from './webhook-subscription.entity.js';

/** Encrypts and decrypts what a subscription keeps secret: its signing secrets and its custom headers. */
@Injectable()
export class WebhookSecrets {
  private readonly box: SecretBox;

  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    this.box = new SecretBox(config.secretsEncryptionKey);
  }

  seal(value: string): string {
    return this.box.encrypt(value);
  }

  secretOf(subscription: Pick<WebhookSubscription, 'secretEncrypted'>): string {
    return this.box.decrypt(subscription.secretEncrypted);
  }

  /** The previous secret while its rotation grace lasts, else null. */
  previousSecretOf(subscription: Pick<WebhookSubscription, 'previousSecretEncrypted' | 'previousSecretExpiresAt'>, now = new Date()): string | null {
    if (!subscription.previousSecretEncrypted || !subscription.previousSecretExpiresAt || subscription.previousSecretExpiresAt <= now) return null;
    return this.box.decrypt(subscription.previousSecretEncrypted);
  }

  sealHeaders(headers: Record<string, string> | undefined): string | null {
    return headers && Object.keys(headers).length > 0 ? this.box.encrypt(JSON.stringify(headers)) : null;
  }

  headersOf(subscription: Pick<WebhookSubscription, 'headersEncrypted'>): Record<string, string> {
    return subscription.headersEncrypted ? (JSON.parse(this.box.decrypt(subscription.headersEncrypted)) as Record<string, string>) : {};
  }
}
