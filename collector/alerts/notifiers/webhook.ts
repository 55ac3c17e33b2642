import { createHmac } from 'node:crypto';
import { DCIM_VERSION } from '../../../contract/index.js';
import type { AlertMessage } from '../../../contract/messages.js';
import { alertMessage } from '../alert-message.js';
import { httpFailure, networkFailure, type Delivery, type Notifier, type SendResult } from './notifier.js';

/**
 * A generic JSON webhook: one POST per alert state change, retried until a 2xx (the dispatcher
 * backs off on 5xx, 408, 429 and timeouts). Receivers deduplicate retries by `X-Dcim-Delivery`
 * (`<alert id>.<version>`). With a secret, `X-Dcim-Signature: sha256=<hex>` is the HMAC-SHA256 of
 * `<X-Dcim-Timestamp>.<raw body>` with that secret: the receiver recomputes it over the bytes it
 * got, compares in constant time, and refuses old timestamps (replays).
 */
export interface WebhookOptions {
  url: string;
  name?: string;
  /** HMAC-SHA256 key; absent: no signature header. */
  secret?: string;
  timeout_ms?: number;
}

export interface WebhookBody {
  version: 1;
  status: 'firing' | 'resolved';
  alert: AlertMessage;
}

export const SIGNATURE_HEADER = 'x-dcim-signature';
export const TIMESTAMP_HEADER = 'x-dcim-timestamp';
export const DELIVERY_HEADER = 'x-dcim-delivery';

/** `sha256=<hex>` over `<timestamp>.<body>`. */
export function webhookSignature(secret: string, timestamp: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(body).digest('hex')}`;
}

export class WebhookNotifier implements Notifier {
  readonly name: string;
  readonly batch_size = 1;

  constructor(private readonly opts: WebhookOptions) {
    this.name = opts.name ?? 'webhook';
  }

  async send(batch: readonly Delivery[], now_ms: number): Promise<SendResult> {
    const delivered: string[] = [];
    for (const d of batch) {
      const payload: WebhookBody = { version: 1, status: d.state, alert: alertMessage(d.record, d.state) };
      const body = JSON.stringify(payload);
      const timestamp = String(Math.floor(now_ms / 1000));
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        'user-agent': `dcim-pulse/${DCIM_VERSION}`,
        [DELIVERY_HEADER]: `${d.record.id}.${d.version}`,
        [TIMESTAMP_HEADER]: timestamp,
      };
      if (this.opts.secret !== undefined) headers[SIGNATURE_HEADER] = webhookSignature(this.opts.secret, timestamp, body);
      const timeout = this.opts.timeout_ms ?? 10_000;
      let res: Response;
      try {
        res = await fetch(this.opts.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeout) });
      } catch (e) {
        return { delivered, rejected: [], failure: networkFailure(e, timeout) };
      }
      const text = await res.text().catch(() => '');
      if (res.ok) {
        delivered.push(d.record.id);
        continue;
      }
      const failure = httpFailure(res.status, text, res.headers.get('retry-after'));
      return failure.retryable ? { delivered, rejected: [], failure } : { delivered, rejected: [d.record.id], failure };
    }
    return { delivered, rejected: [] };
  }
}
