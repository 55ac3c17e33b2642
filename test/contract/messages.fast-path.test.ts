import { describe, expect, it } from 'vitest';
import { ReadingSchema, readingIfPlain } from '../../contract/messages.js';
import { Rng } from '../../simulators/model/rng.js';

/**
 * readingIfPlain answers the common case of ReadingSchema without zod. On any JSON input it must
 * agree with the schema exactly: accept what the schema accepts (the same reading), and refuse
 * the rest, so the collector's verdict never depends on which path ran. Readings with foreign keys,
 * which the schema strips, are left to the schema.
 */
const POOLS: Record<string, readonly unknown[]> = {
  point: ['active_power_w', 'energy_kwh', 'load_state', 'x', 'a1_b2', 'Active_power', '_w', 'power__w', 'power_', '', 'ünit_w', 42, null, ['active_power_w']],
  value: [0, -0, 1.5, -3e12, 1e308, 'normal', '18446744073709551615', '', 'x'.repeat(256), 'x'.repeat(257), true, false, null, {}, [], [1], { v: 1 }],
  unit: ['W', 'kWh', 'degC', '%', 'm3/h', 'w', 'kwh', 'toString', '__proto__', '', 7, null],
  quality: ['good', 'uncertain', 'bad', 'Good', '', null, 1],
  index: [{}, { phase: '1' }, { phase: '1', outlet: '24' }, { gpu: 'GPU-3a:01.0' }, { phase: '' }, { phase: 'x'.repeat(33) }, { phase: 'L 1' }, { rack: '1' }, { phase: 1 }, { phase: null }, [], null, 'phase=1'],
  error: ['DCIM_E_SNMP_TIMEOUT', 'DCIM_E_', 'dcim_e_x', 'E_TIMEOUT', '', 5, null],
  extra: [1, 'x', null],
};
const KEYS = Object.keys(POOLS);

function candidate(rng: Rng): unknown {
  const r = rng.next();
  if (r < 0.01) return [{ point: 'active_power_w', value: 1, quality: 'good' }];
  if (r < 0.02) return rng.next() < 0.5 ? null : 'active_power_w';
  const o: Record<string, unknown> = {};
  for (const k of KEYS) {
    // Required keys are usually present, optional and foreign ones sometimes.
    const p = k === 'point' || k === 'value' || k === 'quality' ? 0.93 : k === 'extra' ? 0.05 : 0.4;
    if (rng.next() < p) {
      const pool = POOLS[k]!;
      o[k] = pool[Math.floor(rng.next() * pool.length)];
    }
  }
  // Through JSON, as a payload arrives (-0 becomes 0, undefined keys vanish).
  return JSON.parse(JSON.stringify(o));
}

describe('readingIfPlain', () => {
  it('agrees with ReadingSchema on 20,000 generated readings, valid and invalid', () => {
    const rng = new Rng(20261129);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 20_000; i++) {
      const x = candidate(rng);
      const fast = readingIfPlain(x);
      const slow = ReadingSchema.safeParse(x);
      if (slow.success && typeof x === 'object' && x !== null && 'extra' in x) {
        // A foreign key: the schema strips it, the fast path leaves such readings to the schema.
        expect(fast, JSON.stringify(x)).toBeUndefined();
      } else if (slow.success) {
        expect(fast, JSON.stringify(x)).toEqual(slow.data);
        accepted++;
      } else {
        expect(fast, JSON.stringify(x)).toBeUndefined();
        refused++;
      }
    }
    // Both sides of the comparison were exercised.
    expect(accepted).toBeGreaterThan(500);
    expect(refused).toBeGreaterThan(5000);
  });

  it('refuses what JSON cannot carry but a caller could pass: NaN, Infinity, undefined values, class instances', () => {
    expect(readingIfPlain({ point: 'active_power_w', value: Number.NaN, quality: 'good' })).toBeUndefined();
    expect(readingIfPlain({ point: 'active_power_w', value: Number.POSITIVE_INFINITY, quality: 'good' })).toBeUndefined();
    expect(readingIfPlain(new (class {
      point = 'active_power_w';
      value = 1;
      quality = 'good';
    })())).toBeUndefined();
    expect(readingIfPlain({ point: 'active_power_w', value: 1, quality: 'good' })).toEqual({ point: 'active_power_w', value: 1, quality: 'good' });
  });
});
