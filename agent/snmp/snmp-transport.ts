import type { ErrorCode } from '../../contract/index.js';
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
  /**
   * SNMPv3: the agent's engine boots/time and ours disagree by more than 150 s
   * (usmStatsNotInTimeWindows, RFC 3414 §3.2 step 7b). `resync()` forgets the learnt engine
   * state; the next request discovers it again.
   */
  | 'time_window'
  /** SNMPv3 USM refused us: unknown user, wrong digest (auth key), decryption error (priv key). */
  | 'auth'
  /** The local socket failed. */
  | 'socket';

/** `code`: the reason to report when the kind alone would say less (an answer refused as malformed). */
export type SnmpOutcome<T> = { ok: true; value: T } | { ok: false; kind: SnmpFailureKind; status?: number; code?: ErrorCode; message: string };

/** RFC 3416 error-status values the reader acts on. */
export const ErrorStatus = { tooBig: 1, noSuchName: 2, genErr: 5 } as const;

export interface SnmpTransport {
  readonly version: '1' | '2c' | '3';
  get(oids: readonly string[]): Promise<SnmpOutcome<Varbind[]>>;
  getNext(oids: readonly string[]): Promise<SnmpOutcome<Varbind[]>>;
  /** GETBULK with no non-repeaters: one array of up to `maxRepetitions` varbinds per OID. */
  getBulk(oids: readonly string[], maxRepetitions: number): Promise<SnmpOutcome<Varbind[][]>>;
  /** Forget the SNMPv3 engine id, boots and time learnt so far (no-op for v1/v2c). */
  resync(): void;
  close(): void;
}
