/**
 * The Redfish port: one GET of one resource, sent once, no retries; the reader owns retries,
 * concurrency, deadlines and decoding, so it can be tested with a scripted transport.
 */
export type RedfishFailureKind =
  /** No complete answer (headers and body) within the timeout. */
  | 'timeout'
  /** The connection could not be opened or broke (refused, reset, TLS handshake failed). */
  | 'connect'
  /** 401 or 403: the credentials were refused. */
  | 'auth'
  /** Any other status outside 2xx; `status` holds it. */
  | 'http'
  /** The body was larger than the size limit; the rest was not read. */
  | 'too_large'
  /** The body was not JSON. */
  | 'not_json';

export type RedfishOutcome = { ok: true; value: unknown } | { ok: false; kind: RedfishFailureKind; status?: number; message: string };

export interface RedfishTransport {
  /** GET `path` (under /redfish/v1) and parse the JSON body. */
  get(path: string, timeoutMs: number): Promise<RedfishOutcome>;
  close(): void;
}
