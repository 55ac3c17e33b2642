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
  /** 429, 5xx, timeouts and network errors: the store may take it later. */
  | { kind: 'retry'; message: string; delay_ms?: number };

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
  if (status === 429 || status >= 500) {
    const s = Number(retry_after);
    return { kind: 'retry', message: `HTTP ${status} ${message}`.trim(), ...(retry_after && Number.isFinite(s) && s > 0 ? { delay_ms: s * 1000 } : {}) };
  }
  return { kind: 'rejected', status, message: status < 400 ? `expected 204, got ${status} ${message.slice(0, 100)}`.trim() : message };
}

/** A network-level failure (refused, reset, timeout) as a retry outcome. */
export function outcomeOfError(e: unknown): SendOutcome {
  const err = e as Error & { cause?: { code?: string }; code?: string };
  const code = err.cause?.code ?? err.code;
  return { kind: 'retry', message: `${err.name ?? 'Error'}: ${err.message ?? String(e)}${code ? ` (${code})` : ''}` };
}
