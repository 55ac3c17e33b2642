import { SnmpType, type Varbind } from '../../../agent/snmp/asn1-types.js';
import { compareOids } from '../../../agent/snmp/oid.js';
import type { SnmpOutcome, SnmpTransport } from '../../../agent/snmp/snmp-transport.js';

/**
 * An in-memory SNMP agent behind the SnmpTransport port, with the misbehaviours real agents
 * show: a response size limit (tooBig), v1 whole-PDU noSuchName, genErr on chosen OIDs, lost
 * requests, OIDs that go backwards. Every request is logged for assertions.
 */
export interface FakeOptions {
  version?: '1' | '2c' | '3';
  /** More varbinds than this in one answer → tooBig. */
  maxVarbinds?: number;
  genErr?: string[];
  /** Number of requests to drop (time out) before answering. */
  dropFirst?: number;
  /** Drop every request. */
  dead?: boolean;
  /** getnext/getbulk after this OID answer this one (a loop). */
  backwards?: Record<string, string>;
  /** v3 agent whose clock went back: every request fails with time_window until resync(), `true` = even after it. */
  skewed?: boolean | 'forever';
  /** v3 USM refuses every request (wrong key, unknown user). */
  authFail?: boolean;
}

export function fakeTransport(data: Record<string, [number, unknown]>, o: FakeOptions = {}) {
  const oids = Object.keys(data).sort(compareOids);
  const log: { op: string; oids: string[]; reps?: number }[] = [];
  let drops = o.dropFirst ?? 0;
  let skewed = o.skewed ?? false;
  const version = o.version ?? '2c';
  const vb = (oid: string): Varbind => {
    const d = data[oid];
    return d ? { oid, type: d[0], value: d[1] } : { oid, type: SnmpType.NoSuchInstance, value: null };
  };
  const next = (oid: string): Varbind => {
    const b = o.backwards?.[oid];
    if (b) return vb(b);
    const n = oids.find((x) => compareOids(x, oid) > 0);
    return n ? vb(n) : { oid, type: SnmpType.EndOfMibView, value: null };
  };
  function answer<T>(op: string, req: readonly string[], build: () => T, count: number, reps?: number): Promise<SnmpOutcome<T>> {
    log.push({ op, oids: [...req], ...(reps !== undefined ? { reps } : {}) });
    if (skewed) return Promise.resolve({ ok: false, kind: 'time_window', message: 'Not In Time Window' });
    if (o.authFail) return Promise.resolve({ ok: false, kind: 'auth', message: 'Wrong Digest' });
    if (o.dead || drops > 0) {
      drops--;
      return Promise.resolve({ ok: false, kind: 'timeout', message: 'Request timed out' });
    }
    const bad = req.findIndex((x) => o.genErr?.includes(x));
    if (bad >= 0) return Promise.resolve({ ok: false, kind: 'error_status', status: 5, message: `GeneralError: ${req[bad]}` });
    if (o.maxVarbinds !== undefined && count > o.maxVarbinds) return Promise.resolve({ ok: false, kind: 'too_big', status: 1, message: 'TooBig' });
    return Promise.resolve({ ok: true, value: build() });
  }
  const transport: SnmpTransport = {
    version,
    get: (req) => {
      if (version === '1') {
        const missing = req.find((x) => !data[x]);
        if (missing) {
          log.push({ op: 'get', oids: [...req] });
          return Promise.resolve({ ok: false, kind: 'error_status', status: 2, message: `NoSuchName: ${missing}` });
        }
      }
      return answer('get', req, () => req.map(vb), req.length);
    },
    getNext: (req) => {
      if (version === '1' && req.some((x) => next(x).type === SnmpType.EndOfMibView)) {
        log.push({ op: 'getnext', oids: [...req] });
        return Promise.resolve({ ok: false, kind: 'error_status', status: 2, message: 'NoSuchName' });
      }
      return answer('getnext', req, () => req.map(next), req.length);
    },
    getBulk: (req, reps) =>
      answer(
        'getbulk',
        req,
        () =>
          req.map((start) => {
            const out: Varbind[] = [];
            let cur = start;
            for (let i = 0; i < reps; i++) {
              const n = next(cur);
              out.push(n);
              if (n.type === SnmpType.EndOfMibView) break;
              cur = n.oid;
            }
            return out;
          }),
        req.length * reps,
        reps,
      ),
    resync: () => {
      log.push({ op: 'resync', oids: [] });
      if (skewed !== 'forever') skewed = false;
    },
    close: () => undefined,
  };
  return { transport, log };
}
