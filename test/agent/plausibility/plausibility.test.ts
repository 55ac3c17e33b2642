import { describe, expect, it } from 'vitest';
import { DeviceProfileSchema, type DeviceProfile, type Reading } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { countImplausible, PlausibilityChecker, plausibilityProblems, profileRules, type PlausibilityCode } from '../../../agent/plausibility/plausibility.js';
import { checkProfile } from '../../../agent/profile-checks.js';
import { UNIT_BOUNDS } from '../../../agent/plausibility/bounds.js';

/** A small SNMP UPS profile: scalar frequency and energy, an output table per line. */
function ups(extra: { points?: object[]; columns?: object[]; checks?: object[] } = {}): DeviceProfile {
  return DeviceProfileSchema.parse({
    id: 'test-ups',
    class: 'ups',
    vendor: 'Test',
    model: 'UPS',
    protocol: 'snmp',
    test_vectors: [{ point: 'output_frequency_hz', raw: 500, expected: 50 }],
    points: [
      { name: 'output_frequency_hz', oid: '1.3.6.1.2.1.33.1.4.2.0', type: 'integer', scale: 0.1, unit: 'Hz' },
      { name: 'input_voltage_v', oid: '1.3.6.1.2.1.33.1.3.3.1.3.1', type: 'integer', unit: 'V' },
      { name: 'energy_kwh', oid: '1.3.6.1.4.1.1.1.0', type: 'counter32', unit: 'kWh', counter_max: 1_000_000 },
      { name: 'total_power_w', oid: '1.3.6.1.4.1.1.2.0', type: 'gauge', unit: 'W' },
      ...(extra.points ?? []),
    ],
    tables: [
      {
        entry: '1.3.6.1.2.1.33.1.4.4.1',
        index_tag: 'line',
        columns: [
          { name: 'output_voltage_v', column: 2, type: 'integer', unit: 'V' },
          { name: 'output_current_a', column: 3, type: 'integer', scale: 0.1, unit: 'A' },
          { name: 'output_power_w', column: 4, type: 'integer', unit: 'W', min: 0 },
          ...(extra.columns ?? []),
        ],
      },
    ],
    checks: extra.checks ?? [],
  });
}

const good = (point: string, value: number | string, unit?: Reading['unit'], line?: string): Reading => ({
  point,
  value,
  quality: 'good',
  ...(unit ? { unit } : {}),
  ...(line ? { index: { line } } : {}),
});

const one = (checker: PlausibilityChecker, r: Reading): Reading => checker.check([r]).readings[0] as Reading;

describe('plausibility: physical bounds', () => {
  const checker = new PlausibilityChecker(ups());
  it.each([
    ['65534 Hz (one register off)', good('output_frequency_hz', 65534, 'Hz'), 'bad'],
    ['6553.4 Hz', good('output_frequency_hz', 6553.4, 'Hz'), 'bad'],
    ['39.9 Hz', good('output_frequency_hz', 39.9, 'Hz'), 'bad'],
    ['50 Hz', good('output_frequency_hz', 50, 'Hz'), 'good'],
    ['60.2 Hz', good('output_frequency_hz', 60.2, 'Hz'), 'good'],
    ['2284 V on a 230 V system', good('input_voltage_v', 2284, 'V'), 'bad'],
    ['230 V', good('input_voltage_v', 230, 'V'), 'good'],
    ['negative UPS output power (RFC 1628: non-negative)', good('output_power_w', -120, 'W', '1'), 'bad'],
    ['UPS output power 0 W', good('output_power_w', 0, 'W', '1'), 'good'],
    ['a negative energy counter', good('energy_kwh', -1, 'kWh'), 'bad'],
  ])('%s → %s', (_what, reading, quality) => {
    const r = one(checker, reading);
    expect(r.quality).toBe(quality);
    if (quality === 'bad') expect(r).toMatchObject({ value: null, error: 'DCIM_E_VALUE_OUT_OF_RANGE' });
    else expect(r).toEqual(reading);
  });

  it('a profile narrows its unit: 150 V is outside 180–260 V', () => {
    const c = new PlausibilityChecker(ups({ points: [{ name: 'bypass_voltage_v', oid: '1.3.6.1.4.1.1.3.0', type: 'integer', unit: 'V', min: 180, max: 260 }] }));
    expect(one(c, good('bypass_voltage_v', 150, 'V')).quality).toBe('bad');
    expect(one(c, good('bypass_voltage_v', 231, 'V')).quality).toBe('good');
  });

  it('a profile widens its unit where documented: 105 % load of an overloaded UPS stays good', () => {
    const c = new PlausibilityChecker(ups({ columns: [{ name: 'output_load_pct', column: 5, type: 'integer', unit: '%', max: 200, range_why: 'load above rating' }] }));
    expect(one(c, good('output_load_pct', 105, '%', '1')).quality).toBe('good');
    expect(one(c, good('output_load_pct', 250, '%', '1')).quality).toBe('bad');
  });

  it('judges Counter64 decimal strings by their number', () => {
    const c = new PlausibilityChecker(ups());
    expect(one(c, good('energy_kwh', '2000000000000', 'kWh'))).toMatchObject({ quality: 'bad', error: 'DCIM_E_VALUE_OUT_OF_RANGE' });
  });

  it('leaves bad readings, text and points without bounds alone', () => {
    const c = new PlausibilityChecker(ups());
    const bad: Reading = { point: 'output_frequency_hz', value: null, quality: 'bad', error: 'DCIM_E_SNMP_TIMEOUT' };
    expect(one(c, bad)).toEqual(bad);
    expect(one(c, good('unknown_point', 1e30))).toEqual(good('unknown_point', 1e30));
  });

  it('has a default for every unit, each with min < max', () => {
    for (const [unit, b] of Object.entries(UNIT_BOUNDS)) {
      expect(b, unit).toBeDefined();
      expect(b!.min, unit).toBeLessThan(b!.max);
    }
    expect(UNIT_BOUNDS.Hz).toEqual({ min: 40, max: 70 });
    expect(UNIT_BOUNDS.ratio).toEqual({ min: -1, max: 1 });
    expect(UNIT_BOUNDS.degC).toEqual({ min: -40, max: 150 });
  });
});

describe('plausibility: active power against V × I', () => {
  const check = { kind: 'power_vs_vi', power: 'output_power_w', voltage: 'output_voltage_v', current: 'output_current_a', min_power_factor: 0.5 };
  const poll = (p: number) => [good('output_voltage_v', 230, 'V', '1'), good('output_current_a', 7.4, 'A', '1'), good('output_power_w', p, 'W', '1'), good('output_frequency_hz', 50, 'Hz')];

  it.each([
    ['1 W while V × I is about 1.7 kVA', 1, 'bad'],
    ['800 W (power factor 0.47, below the declared 0.5)', 800, 'bad'],
    ['1,500 W (power factor 0.88)', 1500, 'good'],
    ['1,880 W (within 10 % headroom + 10 W)', 1880, 'good'],
    ['1,900 W (more than V × I allows)', 1900, 'bad'],
  ])('%s → %s', (_what, p, quality) => {
    const c = new PlausibilityChecker(ups({ checks: [check] }));
    const out = c.check(poll(p)).readings;
    expect(out[2]).toMatchObject({ quality, ...(quality === 'bad' ? { value: null, error: 'DCIM_E_VALUE_INCONSISTENT' } : { value: p }) });
    // The other readings of the same poll are untouched.
    expect([out[0], out[1], out[3]]).toEqual([poll(p)[0], poll(p)[1], poll(p)[3]]);
  });

  it('without a power factor bound, low power is not judged (an idle output)', () => {
    const c = new PlausibilityChecker(ups({ checks: [{ ...check, min_power_factor: undefined }] }));
    expect(c.check(poll(1)).readings[2]?.quality).toBe('good');
  });

  it('below min_apparent_va the power factor is not judged (a nearly idle UPS)', () => {
    const c = new PlausibilityChecker(ups({ checks: [check] }));
    const out = c.check([good('output_voltage_v', 230, 'V', '1'), good('output_current_a', 0.5, 'A', '1'), good('output_power_w', 3, 'W', '1')]).readings;
    expect(out[2]?.quality).toBe('good');
  });

  it('pairs rows by index: line 2 is judged by line 2', () => {
    const c = new PlausibilityChecker(ups({ checks: [check] }));
    const out = c.check([
      good('output_voltage_v', 230, 'V', '1'),
      good('output_voltage_v', 230, 'V', '2'),
      good('output_current_a', 10, 'A', '1'),
      good('output_current_a', 1, 'A', '2'),
      good('output_power_w', 2000, 'W', '1'),
      good('output_power_w', 2000, 'W', '2'),
    ]).readings;
    expect(out[4]?.quality).toBe('good');
    expect(out[5]).toMatchObject({ quality: 'bad', error: 'DCIM_E_VALUE_INCONSISTENT', index: { line: '2' } });
  });

  it('a scalar power over per-line V and I uses the sum of the lines, in kW', () => {
    const c = new PlausibilityChecker(ups({ points: [{ name: 'output_power_kw', oid: '1.3.6.1.4.1.1.9.0', type: 'integer', unit: 'kW' }], checks: [{ ...check, power: 'output_power_kw' }] }));
    const rows = [good('output_voltage_v', 230, 'V', '1'), good('output_voltage_v', 230, 'V', '2'), good('output_current_a', 10, 'A', '1'), good('output_current_a', 10, 'A', '2')];
    expect(c.check([...rows, good('output_power_kw', 4.2, 'kW')]).readings[4]?.quality).toBe('good');
    expect(c.check([...rows, good('output_power_kw', 42, 'kW')]).readings[4]).toMatchObject({ quality: 'bad', error: 'DCIM_E_VALUE_INCONSISTENT' });
  });

  it('is not judged when V or I is missing from the poll (a bad voltage row)', () => {
    const c = new PlausibilityChecker(ups({ checks: [check] }));
    const out = c.check([{ point: 'output_voltage_v', index: { line: '1' }, value: null, quality: 'bad', error: 'DCIM_E_SNMP_TIMEOUT' }, good('output_current_a', 7.4, 'A', '1'), good('output_power_w', 1, 'W', '1')]).readings;
    expect(out[2]?.quality).toBe('good');
  });

  it('can mark uncertain instead of bad where the profile says so', () => {
    const c = new PlausibilityChecker(ups({ checks: [{ ...check, quality: 'uncertain' }] }));
    expect(c.check(poll(1)).readings[2]).toMatchObject({ quality: 'uncertain', value: 1, error: 'DCIM_E_VALUE_INCONSISTENT' });
  });
});

describe('plausibility: parts against their total', () => {
  const sum = { kind: 'sum', total: 'total_power_w', parts: ['output_power_w'], tolerance: 0.05, allowance: 20 };
  const poll = (total: number) => [good('output_power_w', 1000, 'W', '1'), good('output_power_w', 1100, 'W', '2'), good('output_power_w', 900, 'W', '3'), good('total_power_w', total, 'W')];
  it.each([
    [3000, 'good'],
    [3150, 'good'],
    [3200, 'bad'],
    [30_000, 'bad'],
  ])('lines 1000 + 1100 + 900 W, total %d W → %s', (total, quality) => {
    const c = new PlausibilityChecker(ups({ checks: [sum] }));
    const out = c.check(poll(total)).readings;
    expect(out[3]).toMatchObject({ quality, ...(quality === 'bad' ? { error: 'DCIM_E_VALUE_INCONSISTENT' } : {}) });
    expect(out.slice(0, 3)).toEqual(poll(total).slice(0, 3));
  });

  it('is not judged when a part is missing', () => {
    const c = new PlausibilityChecker(ups({ checks: [sum] }));
    const p = poll(30_000);
    p[1] = { point: 'output_power_w', index: { line: '2' }, value: null, quality: 'bad', error: 'DCIM_E_VALUE_UNAVAILABLE' };
    expect(c.check(p).readings[3]?.quality).toBe('good');
  });
});

describe('plausibility: cumulative counters', () => {
  it('flags a decrease as uncertain, once, and keeps its value', () => {
    const c = new PlausibilityChecker(ups());
    const seq = [100, 101.5, 99, 99.5, 100].map((v) => one(c, good('energy_kwh', v, 'kWh')));
    expect(seq.map((r) => r.quality)).toEqual(['good', 'good', 'uncertain', 'good', 'good']);
    expect(seq[2]).toMatchObject({ value: 99, error: 'DCIM_E_COUNTER_DECREASED' });
  });

  it('a rollover near counter_max is not a decrease', () => {
    const c = new PlausibilityChecker(ups());
    expect([999_990, 5, 12].map((v) => one(c, good('energy_kwh', v, 'kWh')).quality)).toEqual(['good', 'good', 'good']);
  });

  it('a decimal-string counter going back is flagged too', () => {
    const c = new PlausibilityChecker(ups());
    expect(['12345', '3'].map((v) => one(c, good('energy_kwh', v, 'kWh')).quality)).toEqual(['good', 'uncertain']);
  });
});

describe('plausibility: stuck live values', () => {
  const profile = ups({ columns: [{ name: 'output_true_power_w', column: 9, type: 'integer', unit: 'W', live: true, stuck_polls: 3 }] });
  const run = (values: number[]) => {
    const c = new PlausibilityChecker(profile);
    return values.map((v) => one(c, good('output_true_power_w', v, 'W', '1')));
  };

  it('flags the third identical poll and every one after', () => {
    const out = run([1200, 1200, 1200, 1200, 1201, 1201]);
    expect(out.map((r) => r.quality)).toEqual(['good', 'good', 'uncertain', 'uncertain', 'good', 'good']);
    expect(out[2]).toMatchObject({ value: 1200, error: 'DCIM_E_VALUE_STUCK' });
  });

  it('a value that moves is never stuck', () => {
    expect(run([1200, 1201, 1200, 1201, 1200]).every((r) => r.quality === 'good')).toBe(true);
  });

  it('an idle load at exactly zero is not stuck', () => {
    expect(run([0, 0, 0, 0, 0]).every((r) => r.quality === 'good')).toBe(true);
  });

  it('points not marked live are never stuck (a setpoint, an idle meter’s energy)', () => {
    const c = new PlausibilityChecker(profile);
    expect([1, 2, 3, 4, 5].map(() => one(c, good('output_power_w', 500, 'W', '1')).quality)).toEqual(['good', 'good', 'good', 'good', 'good']);
  });

  it('rows are separate series', () => {
    const c = new PlausibilityChecker(profile);
    const out = [1, 2, 3].map((i) => c.check([good('output_true_power_w', 700, 'W', '1'), good('output_true_power_w', 700 + i, 'W', '2')]).readings);
    expect(out[2]?.map((r) => r.quality)).toEqual(['uncertain', 'good']);
  });
});

describe('countImplausible', () => {
  it('counts readings by plausibility code and nothing else', () => {
    const into: Partial<Record<PlausibilityCode, number>> = { DCIM_E_VALUE_STUCK: 2 };
    const n = countImplausible(
      [
        { point: 'a_w', value: null, quality: 'bad', error: 'DCIM_E_VALUE_OUT_OF_RANGE' },
        { point: 'b_w', value: null, quality: 'bad', error: 'DCIM_E_VALUE_OUT_OF_RANGE' },
        { point: 'c_w', value: 3, quality: 'uncertain', error: 'DCIM_E_VALUE_STUCK' },
        { point: 'd_w', value: null, quality: 'bad', error: 'DCIM_E_SNMP_TIMEOUT' },
        { point: 'e_w', value: 1, quality: 'good' },
      ],
      into,
    );
    expect(n).toBe(3);
    expect(into).toEqual({ DCIM_E_VALUE_OUT_OF_RANGE: 2, DCIM_E_VALUE_STUCK: 3 });
  });
});

describe('plausibility: a three-phase meter, one voltage and current point per phase', () => {
  const meter = DeviceProfileSchema.parse({
    id: 'test-meter',
    class: 'meter',
    vendor: 'Test',
    model: 'Meter',
    protocol: 'modbus',
    test_vectors: [{ point: 'active_power_w', raw: [0], expected: 0 }],
    points: [
      ...[1, 2, 3].flatMap((k) => [
        { name: `voltage_l${k}_v`, register: 'input', address: k * 2, type: 'float32', unit: 'V' },
        { name: `current_l${k}_a`, register: 'input', address: 10 + k * 2, type: 'float32', unit: 'A' },
      ]),
      { name: 'active_power_w', register: 'input', address: 30, type: 'float32', unit: 'W' },
    ],
    checks: [{ kind: 'power_vs_vi', power: 'active_power_w', voltage: ['voltage_l1_v', 'voltage_l2_v', 'voltage_l3_v'], current: ['current_l1_a', 'current_l2_a', 'current_l3_a'] }],
  });
  const poll = (p: number, i3 = 10): Reading[] => [
    good('voltage_l1_v', 230, 'V'),
    good('voltage_l2_v', 231, 'V'),
    good('voltage_l3_v', 229, 'V'),
    good('current_l1_a', 10, 'A'),
    good('current_l2_a', 10, 'A'),
    good('current_l3_a', i3, 'A'),
    good('active_power_w', p, 'W'),
  ];
  it.each([
    [6500, 'good'],
    [-6500, 'good'],
    [7600, 'good'],
    [7700, 'bad'],
  ])('Σ V × I = 6,900 VA, P = %d W → %s', (p, quality) => {
    expect(new PlausibilityChecker(meter).check(poll(p)).readings[6]?.quality).toBe(quality);
  });

  it('is not judged with a phase missing', () => {
    const r = poll(20_000);
    r[5] = { point: 'current_l3_a', value: null, quality: 'bad', error: 'DCIM_E_MODBUS_TIMEOUT' };
    expect(new PlausibilityChecker(meter).check(r).readings[6]?.quality).toBe('good');
  });

  it('refuses voltage and current lists of different lengths', () => {
    expect(() => DeviceProfileSchema.parse({ ...meter, checks: [{ kind: 'power_vs_vi', power: 'active_power_w', voltage: ['voltage_l1_v'], current: ['current_l1_a', 'current_l2_a'] }] })).toThrow(/same length/);
  });
});

describe('the built-in profiles on the examples real devices gave', () => {
  const builtin = loadProfiles();
  const judge = (id: string, readings: Reading[]) => new PlausibilityChecker(builtin.get(id) as DeviceProfile).check(readings).readings;
  const line = (point: string, value: number, unit: Reading['unit']): Reading => good(point, value, unit, '1');

  it.each([
    ['rfc1628-ups: 1 W of output while V × I is about 1.7 kVA', 'rfc1628-ups', [line('output_voltage_v', 230, 'V'), line('output_current_a', 7.4, 'A'), line('output_power_w', 1, 'W')], 2, 'DCIM_E_VALUE_INCONSISTENT'],
    ['rfc1628-ups: a negative output power', 'rfc1628-ups', [line('output_voltage_v', 230, 'V'), line('output_current_a', 7.4, 'A'), line('output_power_w', -1600, 'W')], 2, 'DCIM_E_VALUE_OUT_OF_RANGE'],
    ['rfc1628-ups: an output frequency of 6553.4 Hz', 'rfc1628-ups', [good('output_frequency_hz', 6553.4, 'Hz')], 0, 'DCIM_E_VALUE_OUT_OF_RANGE'],
    ['eaton-ups inherits the same checks', 'eaton-ups', [line('output_voltage_v', 230, 'V'), line('output_current_a', 7.4, 'A'), line('output_power_w', 1, 'W')], 2, 'DCIM_E_VALUE_INCONSISTENT'],
    ['sunspec-inverter read one register off: 65534 Hz', 'sunspec-inverter', [good('frequency_hz', 65534, 'Hz')], 0, 'DCIM_E_VALUE_OUT_OF_RANGE'],
    ['sunspec-inverter read one register off: 2284 V', 'sunspec-inverter', [good('voltage_l1_v', 2284, 'V')], 0, 'DCIM_E_VALUE_OUT_OF_RANGE'],
    ['apc-rpdu2: 1 MW on the device, 3 kW on its phases', 'apc-rpdu2', [good('active_power_w', 1e6, 'W'), { point: 'phase_power_w', unit: 'W', index: { phase: '1' }, value: 3000, quality: 'good' } as Reading], 0, 'DCIM_E_VALUE_INCONSISTENT'],
  ])('%s → bad', (_what, id, readings, at, code) => {
    expect(judge(id, readings)[at]).toMatchObject({ quality: 'bad', value: null, error: code });
  });

  it('rfc1628-ups: an honest line stays good, a 105 % load too', () => {
    const out = judge('rfc1628-ups', [line('output_voltage_v', 230, 'V'), line('output_current_a', 7.4, 'A'), line('output_power_w', 1620, 'W'), line('output_load_pct', 105, '%')]);
    expect(out.every((r) => r.quality === 'good')).toBe(true);
  });
});

describe('plausibilityProblems (part of checkProfile: refused before polling)', () => {
  it('names checks over missing points or units that cannot be compared, and ranges that make no sense', () => {
    const p = ups({
      points: [
        { name: 'bypass_voltage_v', oid: '1.3.6.1.4.1.1.3.0', type: 'integer', unit: 'V', min: 260, max: 180 },
        { name: 'mv_voltage_v', oid: '1.3.6.1.4.1.1.4.0', type: 'integer', unit: 'V', max: 11_000 },
        { name: 'mv_bus_voltage_v', oid: '1.3.6.1.4.1.1.5.0', type: 'integer', unit: 'V', max: 11_000, range_why: 'a 10 kV meter' },
      ],
      checks: [
        { kind: 'power_vs_vi', power: 'output_power_w', voltage: 'output_volts_v', current: 'output_current_a' },
        { kind: 'power_vs_vi', power: 'output_power_w', voltage: 'output_current_a', current: 'output_voltage_v' },
        { kind: 'sum', total: 'total_power_w', parts: ['output_current_a'] },
        { kind: 'sum', total: 'total_power_w', parts: ['output_power_w'] },
      ],
    });
    expect(plausibilityProblems(p)).toEqual([
      'point bypass_voltage_v: min 260 is not below max 180',
      'point mv_voltage_v: range wider than the bounds of V needs range_why (the document that allows it)',
      'checks[0] (power_vs_vi): no point output_volts_v in this profile',
      'checks[1] (power_vs_vi): voltage output_current_a is in A, expected V',
      'checks[1] (power_vs_vi): current output_voltage_v is in V, expected A',
      'checks[2] (sum): part output_current_a (A) cannot be added to total total_power_w (W)',
    ]);
    expect(checkProfile(p)).toEqual(expect.arrayContaining(plausibilityProblems(p)));
  });
});

describe('plausibility: devices of one profile', () => {
  // The rules are built once per profile object and shared; each device's history is its own.
  const profile = ups({ columns: [{ name: 'output_true_power_w', column: 9, type: 'integer', unit: 'W', live: true, stuck_polls: 3 }] });

  it('share the rules of their profile object', () => {
    expect(profileRules(profile)).toBe(profileRules(profile));
    expect(profileRules(profile).get('energy_kwh')).toMatchObject({ cumulative: true, counterMax: 1_000_000 });
    expect(profileRules(ups())).not.toBe(profileRules(profile));
  });

  it('keep their own counters: one device going back says nothing about another', () => {
    const a = new PlausibilityChecker(profile);
    const b = new PlausibilityChecker(profile);
    expect(one(a, good('energy_kwh', 5000, 'kWh')).quality).toBe('good');
    // b's first reading is lower than a's last: not a decrease, b has no history yet.
    expect(one(b, good('energy_kwh', 100, 'kWh')).quality).toBe('good');
    expect(one(a, good('energy_kwh', 4000, 'kWh')).quality).toBe('uncertain');
    expect(one(b, good('energy_kwh', 101, 'kWh')).quality).toBe('good');
  });

  it('keep their own runs of identical values', () => {
    const a = new PlausibilityChecker(profile);
    const b = new PlausibilityChecker(profile);
    const poll = (c: PlausibilityChecker) => one(c, good('output_true_power_w', 1200, 'W', '1')).quality;
    expect([poll(a), poll(b), poll(a), poll(b)]).toEqual(['good', 'good', 'good', 'good']);
    // The third poll of each is its third, not the fifth of a shared run.
    expect(poll(a)).toBe('uncertain');
    expect(poll(b)).toBe('uncertain');
    expect(one(new PlausibilityChecker(profile), good('output_true_power_w', 1200, 'W', '1')).quality).toBe('good');
  });
});
