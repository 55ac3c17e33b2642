import { describeNetworkError } from '../../contract/errors.js';
/**
 * One request to a line-protocol store: the lines of one batch in, an outcome out. Transports
 * never throw and never retry; what an outcome means (split, quarantine, back off) is decided
 * once, in batch-writer.ts, for every store.
 */
export type SendOutcome =
  | { kind: 'written' }
  /** 413: the body is larger than the server accepts. */
  | { kind: 'too_large' }
  /** Any other 4xx (and an unexpected 2xx/3xx): the same batch would be refused again. */
  | { kind: 'rejected'; status: number; message: string }
  /**
   * 429, 5xx, timeouts and network errors: the store may take it later. `refusing`: the store
   * answered but will not take any batch until someone acts (database or bucket missing,
   * credentials refused); the points are kept, since the same batch is good once that is fixed.
   */
  | { kind: 'retry'; message: string; delay_ms?: number; refusing?: boolean };

export interface BatchTransport {
  /** Names the store in logs and /healthz, without credentials (e.g. `influx_v1 http://influx:8086 db=dcim`). */
  readonly target: string;
  send(lines: readonly string[]): Promise<SendOutcome>;
  close(): Promise<void>;
}

/** Outcome of an HTTP status, shared by the transports so they classify the same way. */
export function outcomeOfStatus(status: number, message: string, retry_after?: string | null): SendOutcome {
  // Only 204 (and 201, which the official client also accepts) means written: a 200 from a write
  // endpoint is not InfluxDB (a proxy's page, a wrong URL) and must never count as stored.
  if (status === 204 || status === 201) return { kind: 'written' };
  if (status === 413) return { kind: 'too_large' };
  // Not the batch's fault: a missing database/bucket or refused credentials refuse every batch
  // alike, and the data is good once an operator fixes it. Keep it (as Telegraf does) rather
  // than quarantine a whole outage's worth of points.
  if (status === 401 || status === 403 || (status === 404 && /not found/i.test(message))) {
    return { kind: 'retry', refusing: true, message: `HTTP ${status}: ${storeMessage(message)}` };
  }
  if (status === 429 || status >= 500) {
    const s = Number(retry_after);
    return { kind: 'retry', message: `HTTP ${status} ${message}`.trim(), ...(retry_after && Number.isFinite(s) && s > 0 ? { delay_ms: s * 1000 } : {}) };
  }
  return { kind: 'rejected', status, message: status < 400 ? `expected 204, got ${status} ${message.slice(0, 100)}`.trim() : message };
}

/** InfluxDB answers `{"error":"database not found: \"dcim\""}`; its words, without the JSON. */
export function storeMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: unknown; message?: unknown };
    const text = parsed.error ?? parsed.message;
    if (typeof text === 'string') return text;
  } catch {
    // not JSON: the body is the message
  }
  return body.trim();
}

/** A network-level failure (refused, unknown host, reset, timeout) as a retry outcome. */
export function outcomeOfError(e: unknown): SendOutcome {
  const net = describeNetworkError(e);
  if (net) return { kind: 'retry', message: net.message };
  const err = e as Error & { cause?: { code?: string; message?: string }; code?: string };
  const code = err.cause?.code ?? err.code;
  // fetch says only "fetch failed"; the reason (bad port, TLS, reset) is in its cause.
  const cause = err.cause?.message !== undefined && err.cause.message !== err.message ? `: ${err.cause.message}` : '';
  return { kind: 'retry', message: `${err.name ?? 'Error'}: ${err.message ?? String(e)}${cause}${code && !cause.includes(code) ? ` (${code})` : ''}` };
}
