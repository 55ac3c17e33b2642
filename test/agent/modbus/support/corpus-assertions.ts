import { expect } from 'vitest';
import type { Reading } from '../../../../contract/index.js';
import type { ModbusFixture } from '../device-corpus.js';

/**
 * The readings of one poll against a corpus fixture's hand-worked values: the same points, each
 * number to the hand figure (relative 1e-9: float32 and decimal scales), each text as written, and
 * each value the device marks "not available" (null) not good, with DCIM_E_VALUE_UNAVAILABLE.
 */
export function expectHandValues(readings: readonly Pick<Reading, 'point' | 'value' | 'quality' | 'error'>[], fx: ModbusFixture): void {
  expect(readings.map((r) => r.point).sort()).toEqual(Object.keys(fx.readings).sort());
  for (const r of readings) {
    const want = fx.readings[r.point];
    if (want === null) expect([r.point, r.quality === 'good', r.error]).toEqual([r.point, false, 'DCIM_E_VALUE_UNAVAILABLE']);
    else if (typeof want === 'number') {
      expect([r.point, r.quality]).toEqual([r.point, 'good']);
      expect(Math.abs((r.value as number) - want), `${r.point}: ${String(r.value)} vs ${want}`).toBeLessThanOrEqual(Math.abs(want) * 1e-9);
    } else expect([r.point, r.quality, r.value]).toEqual([r.point, 'good', want]);
  }
}
