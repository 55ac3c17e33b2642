import { describe, expect, it } from 'vitest';
import { counterDelta, type CounterStep } from '../../../collector/ledger/counter-delta.js';
import { decimalsOf, energyPointOf, resolutionKwh, wrapModulusKwh } from '../../../collector/ledger/counter-range.js';
import { loadProfiles } from '../../../profiles/catalogue.js';

const T0 = 1_767_225_600_000;
const step = (prev: number, cur: number, extra: Partial<CounterStep> = {}): CounterStep => ({ prev_kwh: prev, prev_ts_ms: T0, cur_kwh: cur, cur_ts_ms: T0 + 5_000, ...extra });

describe('counterDelta', () => {
  it.each<[string, CounterStep, number | undefined, string]>([
    ['ordinary increase', step(100, 100.5), 0.5, 'ok'],
    ['no change', step(100, 100), 0, 'ok'],
    // Design test vector: 999,990 → 5 with max 1,000,000 → 15.
    ['rollover near the modulus', step(999_990, 5, { modulus_kwh: 1_000_000 }), 15, 'rollover'],
    ['rollover exactly at 90 % of the modulus', step(900_000, 5, { modulus_kwh: 1_000_000 }), 100_005, 'rollover'],
    // Design test vector: 12,345 → 3 → delta 3 and a reset flag.
    ['reset / meter swap', step(12_345, 3), 3, 'reset'],
    ['a decrease far from the modulus is a reset', step(12_345, 3, { modulus_kwh: 1_000_000 }), 3, 'reset'],
    ['a decrease without a known modulus is a reset', step(999_990, 5), 5, 'reset'],
    ['float re-rounding is not a reset', step(123_456.79, 123_456.78), 0, 'ok'],
    // 100 kW rated × 5 s × 1.2 = 0.1667 kWh.
    ['within rated power', step(100, 100.16, { rated_kw: 100 }), 0.16, 'ok'],
    ['above rated × Δt × 1.2 is a spike, dropped', step(100, 100.17, { rated_kw: 100 }), undefined, 'spike'],
    ['a reset to a large value is a spike too', step(12_345, 50_000, { rated_kw: 100 }), undefined, 'spike'],
    ['a rollover that implies too much energy is a spike', step(999_000, 5_000, { modulus_kwh: 1_000_000, rated_kw: 10 }), undefined, 'spike'],
    ['no rating: no spike test', step(100, 1e9), 1e9 - 100, 'ok'],
    // 12 kW × 5 s × 1.2 = 0.02 kWh, plus one 0.1 kWh register step.
    ['one register step is never a spike, however short the span', step(46_341.2, 46_341.3, { rated_kw: 12, resolution_kwh: 0.1 }), 0.1, 'ok'],
    ['without its resolution the same step would be dropped', step(46_341.2, 46_341.3, { rated_kw: 12 }), undefined, 'spike'],
    ['two steps in 5 s from a 12 kW meter are a spike', step(46_341.2, 46_341.4, { rated_kw: 12, resolution_kwh: 0.1 }), undefined, 'spike'],
    // 12 kW × 72 s (since the last move) × 1.2 = 0.288 kWh: two steps fit.
    ['Δt runs from the last move', step(46_341.2, 46_341.4, { rated_kw: 12, resolution_kwh: 0.1, cur_ts_ms: T0 + 72_000 }), 0.2, 'ok'],
    ['a meter swap jumping thousands of kWh is a spike', step(46_341.2, 52_000, { rated_kw: 12, resolution_kwh: 0.1 }), undefined, 'spike'],
    ['a swap near the modulus is a reset, not a wrap the meter could not drive', step(3_266.2, 0, { modulus_kwh: 3_276.8, rated_kw: 74, resolution_kwh: 0.05 }), 0, 'reset'],
    ['a previous value above the modulus was garbage: a decrease from it is a reset', step(1e9, 46_341, { modulus_kwh: 214_748_364.8 }), 46_341, 'reset'],
  ])('%s', (_name, s, delta, flag) => {
    const d = counterDelta(s);
    expect(d.flag).toBe(flag);
    if (delta === undefined) expect(d.delta_kwh).toBeUndefined();
    else expect(d.delta_kwh).toBeCloseTo(delta, 9);
  });
});

describe('counter wrap values from profiles', () => {
  const profiles = loadProfiles();
  it.each<[string, string, number | undefined]>([
    // counter_max is the largest value shown; the wrap is one raw step (scale) above it.
    ['apc-rpdu2', 'energy_kwh', 214_748_364.8],
    ['raritan-px2', 'energy_kwh', undefined], // DecimalDigits exponent: no static step, counter_max itself
    ['chiller-bms', 'energy_kwh', 429_496_729.6],
    ['carlo-gavazzi-em24-e1', 'energy_kwh', 214_748_364.8],
    ['eastron-sdm630', 'energy_kwh', undefined], // float32 registers never wrap
    ['redfish-gpu-server', 'energy_kwh', undefined],
  ])('%s', (id, point, modulus) => {
    const spec = energyPointOf(profiles.get(id));
    expect(spec?.name).toBe(point);
    if (id === 'raritan-px2') expect(spec?.modulus_kwh).toBeCloseTo(4_294_967.295, 6);
    else if (modulus === undefined) expect(spec?.modulus_kwh).toBeUndefined();
    else expect(spec?.modulus_kwh).toBeCloseTo(modulus, 6);
  });

  it('falls back on the raw type range × scale, in kWh', () => {
    expect(wrapModulusKwh({ name: 'e', type: 'counter32', scale: 1, unit: 'Wh' })).toBeCloseTo(2 ** 32 / 1000, 6);
    expect(wrapModulusKwh({ name: 'e', type: 'uint16', scale: 0.1 })).toBeCloseTo(6553.6, 9);
    expect(wrapModulusKwh({ name: 'e', type: 'float32', scale: 1 })).toBeUndefined();
    expect(wrapModulusKwh({ name: 'e', type: 'uint32', scale: 1, scale_factor: { register: 'holding', address: 1 } })).toBeUndefined();
  });

  it('a profile without an energy point has none', () => {
    expect(energyPointOf(profiles.get('rfc1628-ups'))).toBeUndefined();
    expect(energyPointOf(undefined)).toBeUndefined();
  });
});

describe('counter resolutions from profiles (one register step, kWh)', () => {
  const profiles = loadProfiles();
  it.each<[string, number, number]>([
    // [profile, value, step]: integers step by their scale, floats by their last mantissa bit.
    ['apc-rpdu2', 46_341.1, 0.1],
    ['raritan-px2', 46_341.123, 0.001], // Wh, DecimalDigits taken at 10^0
    ['chiller-bms', 46_341.1, 0.1],
    ['crah-bms', 46_341.1, 0.1],
    ['carlo-gavazzi-em24-e1', 46_341.1, 0.1],
    ['schneider-pm5000', 46_341.123, 0.001], // int64 Wh
    ['sunspec-inverter', 46_341.123, 0.001], // acc32 Wh at WH_SF 0
    ['eastron-sdm630', 46_341, 46_341 * 2 ** -23], // float32: ≤ 2^-8 at 46,341
    ['wattnode-wnd', 1_000_000, 1_000_000 * 2 ** -23],
  ])('%s', (id, value, stepKwh) => {
    const spec = energyPointOf(profiles.get(id))!;
    expect(resolutionKwh(spec.resolution, value)).toBeCloseTo(stepKwh, 12);
  });

  it('a float32 register at 46,341 kWh really moves in steps of at most that size', () => {
    const v = Math.fround(46_341.1);
    const next = Math.fround(v + 2 ** -8);
    expect(next - v).toBeLessThanOrEqual(46_341 * 2 ** -23);
    expect(next).toBeGreaterThan(v);
  });

  it('Redfish numbers step by the decimals the BMC prints', () => {
    const r = energyPointOf(profiles.get('redfish-gpu-server'))!.resolution;
    expect(r.decimal).toBe(true);
    expect(resolutionKwh(r, 1234.5, decimalsOf(1234.5))).toBeCloseTo(0.1, 12);
    expect(resolutionKwh(r, 1234, decimalsOf(1234))).toBe(1);
  });

  it.each<[number, number]>([
    [1234, 0],
    [1234.5, 1],
    [0.125, 3],
    [46_341.100000000006, 6], // float noise: capped
    [3e-7, 6],
    [1.5e-3, 4],
  ])('decimalsOf(%s) = %s', (v, d) => expect(decimalsOf(v)).toBe(d));
});
