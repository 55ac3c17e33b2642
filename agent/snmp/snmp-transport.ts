import type { Varbind } from './asn1-types.js';

/**
 * The SNMP port: one call = one request PDU, sent once, no retries. The reader owns retries,
 * timeouts accounting, batching and walking, so it can be tested with a scripted transport
 * and run against any library behind this interface.
 */
export type SnmpFailureKind =
  /** No answer within the timeout. */
  | 'timeout'
  /** error-status tooBig: the answer would not fit in one message. */
  | 'too_big'
  /** Any other non-zero error-status (noSuchName on v1, genErr …); `status` holds it. */
  | 'error_status'
  /** An answer we could not use: auth failure, bad community, malformed PDU … */
  | 'invalid'
  /** The local socket failed. */
  | 'socket';

export type SnmpOutcome<T> = { ok: true; value: T } | { ok: false; kind: SnmpFailureKind; status?: number; message: string };

/** RFC 3416 error-status values the reader acts on. */
export const ErrorStatus = { tooBig: 1, noSuchName: 2, genErr: 5 } as const;

export interface SnmpTransport {
  readonly version: '1' | '2c' | '3';
  get(oids: readonly string[]): Promise<SnmpOutcome<Varbind[]>>;
  getNext(oids: readonly string[]): Promise<SnmpOutcome<Varbind[]>>;
  /** GETBULK with no non-repeaters: one array of up to `maxRepetitions` varbinds per OID. */
  getBulk(oids: readonly string[], maxRepetitions: number): Promise<SnmpOutcome<Varbind[][]>>;
  close(): void;
}
