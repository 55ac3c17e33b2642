import type { ErrorCode } from '../../../contract/errors.js';
import type { AlertRecord } from '../alert-record.js';

/**
 * A notifier delivers alert states to one destination (an Alertmanager, a webhook, the MQTT
 * broker). It only sends; what is due, retries, back-off, expiry and bookkeeping live in the
 * dispatcher, so a new notifier is one small file.
 */
export interface Delivery {
  record: AlertRecord;
  /** The state to announce: a record whose new episode is only pending still owes its resolve. */
  state: 'firing' | 'resolved';
  version: number;
}

export interface SendFailure {
  message: string;
  /** false: the destination refused the content (4xx); retrying the same bytes cannot help. */
  retryable: boolean;
  /** Ask for a pause before the next try (HTTP Retry-After), ms. */
  retry_after_ms?: number;
  /**
   * The notifier held the rest back to keep within its destination's rate limit (or the
   * destination asked it to slow down): waited out at `retry_after_ms`, counted as throttled, not
   * as a failure, and it never backs off exponentially.
   */
  throttled?: boolean;
  /** The catalogue code logged with the failure. */
  code?: ErrorCode;
}

export interface SendResult {
  /** Ids acknowledged, in the order sent; a failure stops the batch there. */
  delivered: string[];
  /** Ids the destination refused for good (non-retryable), with the reason in `failure`. */
  rejected: string[];
  failure?: SendFailure;
}

export interface Notifier {
  /** Unique among the engine's notifiers: the key of each record's delivery bookkeeping. */
  readonly name: string;
  /**
   * Re-send every firing alert this often even when nothing changed (Alertmanager forgets alerts
   * on restart and resolves those not refreshed); absent: each state is sent once.
   */
  readonly resend_ms?: number;
  /** Most alerts per send call. */
  readonly batch_size: number;
  send(batch: readonly Delivery[], now_ms: number): Promise<SendResult>;
  /** The notifier's own counters (messages posted, digests …), shown beside the dispatcher's. */
  counters?(): Record<string, number>;
}

/** Retryable unless the destination answered a 4xx other than 408 (timeout) and 429 (slow down). */
export function httpFailure(status: number, body: string, retryAfter: string | null): SendFailure {
  const retryable = status >= 500 || status === 408 || status === 429 || status < 400;
  const seconds = retryAfter !== null && /^\d+$/.test(retryAfter.trim()) ? Number(retryAfter.trim()) : undefined;
  return {
    message: `HTTP ${status}${body ? `: ${body.slice(0, 200)}` : ''}`,
    retryable,
    ...(seconds !== undefined ? { retry_after_ms: Math.min(seconds, 3600) * 1000 } : {}),
  };
}

export function networkFailure(e: unknown, timeout_ms: number): SendFailure {
  const err = e as Error & { cause?: { code?: string } };
  const timedOut = err.name === 'TimeoutError' || err.name === 'AbortError';
  return { message: timedOut ? `no answer within ${timeout_ms} ms` : `${err.message}${err.cause?.code ? ` (${err.cause.code})` : ''}`, retryable: true };
}
