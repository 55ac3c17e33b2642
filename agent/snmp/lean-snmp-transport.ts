import type { Logger } from '../../shared/log.js';
import type { Varbind } from './asn1-types.js';
import { decodeGetResponse, encodeGetList, encodeGetRequest, type EncodedGetList } from './lean-get-codec.js';
import { createNetSnmpTransport, type ResolvedSnmpAddress } from './net-snmp-transport.js';
import type { Family, PooledRequest, SnmpSocketPool } from './snmp-socket-pool.js';
import type { SnmpOutcome, SnmpTransport } from './snmp-transport.js';

/**
 * SnmpTransport for v1/v2c devices whose GETs skip net-snmp: the agent's polling hot path.
 *
 * Why hand-written: a CPU profile of the agent at 3,000 devices put ~37 % of its time in
 * net-snmp's BER writer and reader (a Writer and Reader object per message, a varbind object
 * and a join()ed OID string per value, a request object and a timer per request) and the UDP
 * calls. A poll asks the same OIDs every time, so here the varbind list is encoded once per OID
 * list and shared by every device (lean-get-codec.ts); a request is 20-odd header octets around
 * it; the answer is decoded in one pass over the datagram, reusing the asked OID strings; the
 * pool times every request out with one timer. No library offers that for Node: net-snmp is the
 * maintained one, and the rest of SNMP stays with it.
 *
 * net-snmp still serves, for the same device: GETNEXT and GETBULK (table walks, detection
 * probes), opened on first use. SNMPv3 (USM authentication and privacy), traps and everything
 * else never come here (reader-factory.ts builds a net-snmp transport for v3).
 *
 * A GET answer that breaks BER, or echoes another version, community or PDU than asked, fails
 * that request with DCIM_E_SNMP_MALFORMED and counts it in the pool (`invalid_answers`); it
 * never yields a value.
 */
export interface LeanSnmpTransportOptions {
  timeoutMs: number;
  pool: SnmpSocketPool;
  logger?: Logger;
}

export function createLeanSnmpTransport(address: ResolvedSnmpAddress, opts: LeanSnmpTransportOptions): SnmpTransport {
  if (address.version === '3') throw new Error('the lean SNMP transport speaks v1 and v2c only');
  return new LeanSnmpTransport(address, opts);
}

/**
 * Encoded varbind lists by their first OID, shared by every device: 10,000 PDUs of one profile
 * ask the same OIDs and share one list. Bounded: a poller asks a few lists per profile; past
 * MAX_LISTS (odd OIDs from row exponents) the cache starts over.
 */
const lists = new Map<string, EncodedGetList[]>();
let listCount = 0;
const MAX_LISTS = 4096;

function listFor(oids: readonly string[]): EncodedGetList {
  const first = oids[0] as string;
  const candidates = lists.get(first);
  if (candidates) {
    for (const l of candidates) if (sameOids(l.oids, oids)) return l;
  }
  const l = encodeGetList(oids);
  if (listCount >= MAX_LISTS) {
    lists.clear();
    listCount = 0;
  }
  const again = lists.get(first);
  if (again) again.push(l);
  else lists.set(first, [l]);
  listCount++;
  return l;
}

function sameOids(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A class rather than closures: 10,000 devices hold 10,000 of these, their methods on the prototype. */
class LeanSnmpTransport implements SnmpTransport {
  private walker: SnmpTransport | undefined;
  private closed = false;
  /** The list this device asked last: a poll of one batch finds it without a lookup. */
  private last: EncodedGetList | undefined;
  private readonly community: Buffer;
  private readonly versionNumber: number;
  readonly family: Family;

  constructor(
    private readonly address: ResolvedSnmpAddress,
    private readonly opts: LeanSnmpTransportOptions,
  ) {
    this.community = Buffer.from(address.community, 'utf8');
    this.versionNumber = address.version === '1' ? 0 : 1;
    this.family = address.host.includes(':') ? 'udp6' : 'udp4';
  }

  get version(): '1' | '2c' | '3' {
    return this.address.version;
  }

  get(oids: readonly string[]): Promise<SnmpOutcome<Varbind[]>> {
    if (this.closed) return Promise.resolve({ ok: false, kind: 'socket', message: 'session closed' });
    let list = this.last;
    if (!list || !sameOids(list.oids, oids)) {
      try {
        list = listFor(oids);
      } catch (e) {
        return Promise.resolve({ ok: false, kind: 'invalid', message: (e as Error).message });
      }
      this.last = list;
    }
    const l = list;
    return new Promise((resolve) => {
      const pool = this.opts.pool;
      const r = new LeanGet(this, l, resolve);
      r.id = pool.requestId();
      pool.request(r, encodeGetRequest(this.versionNumber, this.community, r.id, l));
    });
  }

  getNext(oids: readonly string[]): Promise<SnmpOutcome<Varbind[]>> {
    return this.walk().getNext(oids);
  }

  getBulk(oids: readonly string[], maxRepetitions: number): Promise<SnmpOutcome<Varbind[][]>> {
    return this.walk().getBulk(oids, maxRepetitions);
  }

  /** v1/v2c keep no engine state. */
  resync(): void {}

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.walker?.close();
    this.walker = undefined;
  }

  /** @internal LeanGet */
  decode(r: LeanGet, msg: Buffer): SnmpOutcome<Varbind[]> {
    const a = decodeGetResponse(msg, { version: this.versionNumber, community: this.community, id: r.id, list: r.list });
    if (a.ok) return { ok: true, value: a.varbinds };
    if (a.kind === 'error_status') {
      const message = `error-status ${a.status} at varbind ${a.index}`;
      return a.status === 1 ? { ok: false, kind: 'too_big', status: 1, message } : { ok: false, kind: 'error_status', status: a.status, message };
    }
    this.opts.pool.countInvalidAnswer();
    this.opts.logger?.debug('snmp answer refused', { host: this.address.host, port: this.address.port, reason: a.reason });
    return { ok: false, kind: 'invalid', code: 'DCIM_E_SNMP_MALFORMED', message: `answer refused: ${a.reason}` };
  }

  get host(): string {
    return this.address.host;
  }

  get port(): number {
    return this.address.port;
  }

  get timeoutMs(): number {
    return this.opts.timeoutMs;
  }

  /** Walks and probes through net-snmp, over the same shared socket, opened on first use. */
  private walk(): SnmpTransport {
    if (this.closed) return closedTransport;
    return (this.walker ??= createNetSnmpTransport(this.address, { timeoutMs: this.opts.timeoutMs, pool: this.opts.pool, ...(this.opts.logger ? { logger: this.opts.logger } : {}) }));
  }
}

/**
 * One GET in flight: what the pool settles. The pool keeps a settled request in its timeout
 * queue until that queue's head expires (up to a timeout later), so `resolve` is let go as soon
 * as it has been called: it holds the promise, and the promise its answer (the decoded varbinds).
 * Kept, every answer of a sweep lived a timeout long, survived two scavenges and was promoted
 * to the old space only to die there (at 10,000 devices, most of what grew the heap).
 */
class LeanGet implements PooledRequest {
  id = 0;
  deadline = 0;
  settled = false;
  private resolve: ((o: SnmpOutcome<Varbind[]>) => void) | undefined;

  constructor(
    private readonly t: LeanSnmpTransport,
    readonly list: EncodedGetList,
    resolve: (o: SnmpOutcome<Varbind[]>) => void,
  ) {
    this.resolve = resolve;
  }

  get family(): Family {
    return this.t.family;
  }

  get address(): string {
    return this.t.host;
  }

  get port(): number {
    return this.t.port;
  }

  get timeoutMs(): number {
    return this.t.timeoutMs;
  }

  answer(msg: Buffer): void {
    this.settle(this.t.decode(this, msg));
  }

  fail(kind: 'timeout' | 'socket', message: string): void {
    this.settle({ ok: false, kind, message });
  }

  private settle(o: SnmpOutcome<Varbind[]>): void {
    const resolve = this.resolve;
    this.resolve = undefined;
    resolve?.(o);
  }
}

const closedResult = Promise.resolve({ ok: false, kind: 'socket', message: 'session closed' } as const);
const closedTransport: SnmpTransport = {
  version: '2c',
  get: () => closedResult,
  getNext: () => closedResult,
  getBulk: () => closedResult,
  resync: () => undefined,
  close: () => undefined,
};
