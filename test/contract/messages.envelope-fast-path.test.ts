import { describe, expect, it } from 'vitest';
import { EnvelopeSchema, envelopeIfPlain } from '../../contract/messages.js';
import { Rng } from '../../simulators/model/rng.js';

/**
 * envelopeIfPlain answers the common case of the telemetry envelope without zod. On any JSON
 * input without foreign keys it must agree with EnvelopeSchema exactly; with foreign keys (the
 * schema strips them) it leaves the message to the schema.
 */
const POOLS: Record<string, readonly unknown[]> = {
  schema: [1, 2, '1', 0, null],
  agent: ['edge-1', 'e', 'x'.repeat(64), 'x'.repeat(65), 'Edge-1', 'edge 1', '', 3, null],
  site: ['demo', 'guian_a', 'Demo', '', 'a/b', 7],
  device: ['pdu-r01-a', 'm', 'PDU', '', '../x', null],
  class: ['pdu', 'ups', 'meter', 'chiller', 'crah', 'pv_inverter', 'gpu', 'sensor', 'generic', 'toaster', 'PDU', '', 1],
  seq: [0, 1, 123456, 2 ** 53 - 1, 2 ** 53, 2 ** 60, -1, 1.5, '5', null],
  ts: [1, 1_795_000_000_000, 0, -5, 1.5, 2 ** 53 - 1, 2 ** 53, 1e300, '1795000000000', null],
  readings: [[], [{ point: 'a_w' }], [1, 'x', null], Array.from({ length: 10_001 }, () => 0), {}, 'r', null],
  poll: [
    { ms: 4, requests: 2, retries: 0 },
    { ms: 0, requests: 0, retries: 0, timeouts: 0 },
    { ms: 1.25, requests: 1, retries: 1, timeouts: 3 },
    { ms: -1, requests: 1, retries: 0 },
    { ms: 4, requests: 1.5, retries: 0 },
    { ms: 4, requests: 1, retries: -1 },
    { ms: 4, requests: 1, retries: 0, timeouts: 0.5 },
    { ms: 4, requests: 1, retries: 0, timeouts: null },
    { ms: '4', requests: 1, retries: 0 },
    { ms: 4, requests: 1 },
    { ms: 4, requests: 1, retries: 0, extra: 1 },
    [],
    null,
  ],
  extra: [1, null],
};
const KEYS = Object.keys(POOLS);

function candidate(rng: Rng): unknown {
  if (rng.next() < 0.01) return rng.next() < 0.5 ? [] : null;
  const o: Record<string, unknown> = {};
  for (const k of KEYS) {
    if (rng.next() < (k === 'extra' ? 0.05 : 0.97)) {
      const pool = POOLS[k]!;
      // Mostly valid values, so that both verdicts come up often.
      o[k] = pool[rng.next() < 0.6 ? 0 : Math.floor(rng.next() * pool.length)];
    }
  }
  return JSON.parse(JSON.stringify(o));
}

const hasForeignKey = (x: unknown): boolean => {
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
  const poll = (x as { poll?: unknown }).poll;
  return 'extra' in x || (typeof poll === 'object' && poll !== null && 'extra' in poll);
};

describe('envelopeIfPlain', () => {
  it('agrees with EnvelopeSchema on 20,000 generated envelopes, valid and invalid', () => {
    const rng = new Rng(1129);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = candidate(rng);
      const fast = envelopeIfPlain(x);
      const slow = EnvelopeSchema.safeParse(x);
      const label = JSON.stringify(x).slice(0, 300);
      if (slow.success && hasForeignKey(x)) expect(fast, label).toBeUndefined();
      else if (slow.success) {
        expect(fast, label).toEqual(slow.data);
        accepted++;
      } else {
        expect(fast, label).toBeUndefined();
        refused++;
      }
    }
    expect(accepted).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(5000);
  });
});
