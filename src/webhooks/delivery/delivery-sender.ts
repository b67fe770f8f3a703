import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../../config/app.config.js';
import { APP_CONFIG } from '../../config/config.module.js';
import { serializeBody } from '../../events/event-envelope.js';
import { MetricsService } from '../../metrics/metrics.service.js';
import { WebhookSecrets } from '../subscriptions/webhook-secrets.service.js';
import { deliveryRequestHeaders } from './request-headers.js';
import { signatureHeaders } from './signer.js';
import { WebhookHttpClient, type AttemptResult } from './webhook-http-client.js';
import type { ClaimedDelivery } from './delivery-rows.js';

function notSent(errorMessage: string): AttemptResult {
  return { succeeded: false, statusCode: null, durationMs: 0, errorCode: null, errorMessage, responseExcerpt: null, retryAfterSeconds: null };
}

/**
 * Sign-and-send of one leased delivery, for the worker and the test send alike: decrypts the subscription's
 * secret(s) and custom headers, signs (X-Webhook-Signature and Standard Webhooks), and POSTs through the
 * WebhookHttpClient (timeout, no redirects, SSRF guard on the connected address).
 */
@Injectable()
export class DeliverySender {
  private readonly client: WebhookHttpClient;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly secrets: WebhookSecrets,
    private readonly metrics: MetricsService,
  ) {
    this.client = new WebhookHttpClient(config.webhookTimeoutMs, config.webhookAllowPrivateTargets);
  }

  /** Never throws for the receiver's sake: its failures are results. */
  async send(delivery: ClaimedDelivery): Promise<AttemptResult> {
    if (!delivery.enabled) return notSent('Subscription is disabled');
    let secrets: { secret: string; previousSecret: string | null; custom: Record<string, string> };
    try {
      secrets = { secret: this.secrets.secretOf(delivery), previousSecret: this.secrets.previousSecretOf(delivery), custom: this.secrets.headersOf(delivery) };
    } catch {
      // Not a receiver's fault and not transient: fail the delivery (it can be recovered once the key is fixed).
      return notSent('The subscription secret cannot be decrypted: SECRETS_ENCRYPTION_KEY differs from the one it was stored with');
    }
    const body = serializeBody(delivery.payload);
    const headers = deliveryRequestHeaders({
      customHeaders: secrets.custom,
      version: this.config.version,
      eventName: delivery.eventName,
      signature: signatureHeaders({
        id: delivery.eventId,
        timestamp: Math.floor(Date.now() / 1000),
        body,
        secret: secrets.secret,
        previousSecret: secrets.previousSecret,
      }),
    });
    const result = await this.client.post(delivery.targetUrl, body, headers);
    this.metrics.webhookAttemptDuration.observe(result.durationMs / 1000);
    return result;
  }
}
