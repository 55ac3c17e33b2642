import { describe, expect, it } from 'vitest';
import { chooseItLevel, livePue } from '../../../collector/kpi/live-pue.js';
import { powerPointOf, sitePowerModel, type PowerMeter, type SitePowerModel } from '../../../collector/kpi/power-meters.js';
import { qualityFromDegradedShare } from '../../../collector/kpi/quality.js';
import { targetStatus } from '../../../collector/kpi/target-status.js';
import type { LatestValue } from '../../../collector/state/latest-values.js';
import { KpiValueSchema } from '../../../contract/messages.js';
import { SiteInventorySchema } from '../../../contract/inventory.js';
import { loadProfiles } from '../../../profiles/catalogue.js';

const AT = 1_767_225_600_000;
const m = (device: string, role: PowerMeter['role'], extra: Partial<PowerMeter> = {}): PowerMeter => ({ device, role, behind_meter: false, interval_s: 5, power_point: 'active_power_w', ...extra });
const model = (meters: PowerMeter[], target_pue = 1.2): SitePowerModel => ({ site: 'demo', target_pue, meters });
type Vals = Record<string, number | [number, Partial<LatestValue>]>;
const lookup = (vals: Vals) => ({
  get: (_site: string, device: string): LatestValue | undefined => {
    const v = vals[device];
    if (v === undefined) return undefined;
    const [value, over] = typeof v === 'number' ? [v, {}] : v;
    return { value, unit: 'W', quality: 'good', ts_ms: AT - 1000, ...over };
  },
});

const BASIC = [m('in-1', 'facility_in'), m('pdu-1', 'it', { level: 'pdu_out' })];

describe('livePue', () => {
  const cases: {
    name: string;
    meters: PowerMeter[];
    vals: Vals;
    target?: number;
    expect: { ok: boolean; value?: number; quality: string; status: string; coverage?: number; category?: number; reason?: RegExp; inputs?: Record<string, number> };
  }[] = [
    { name: 'one incomer, one PDU', meters: BASIC, vals: { 'in-1': 10_000, 'pdu-1': 8_000 }, expect: { ok: true, value: 1.25, quality: 'measured', status: 'amber', coverage: 1, category: 2, inputs: { facility_power_w: 10_000, it_power_w: 8_000 } } },
    { name: 'target met exactly is green', meters: BASIC, vals: { 'in-1': 9_600, 'pdu-1': 8_000 }, expect: { ok: true, value: 1.2, quality: 'measured', status: 'green' } },
    { name: 'far above target is red', meters: BASIC, vals: { 'in-1': 16_000, 'pdu-1': 8_000 }, expect: { ok: true, value: 2, quality: 'measured', status: 'red' } },
    { name: 'PUE exactly 1 is allowed', meters: BASIC, vals: { 'in-1': 8_000, 'pdu-1': 8_000 }, expect: { ok: true, value: 1, quality: 'measured', status: 'green' } },
    {
      name: 'facility = Σ incomers − export + behind-meter PV',
      meters: [m('in-1', 'facility_in'), m('in-2', 'facility_in'), m('exp', 'export'), m('pv', 'green_onsite', { behind_meter: true }), m('pv-front', 'green_onsite'), m('pdu-1', 'it', { level: 'pdu_out' })],
      vals: { 'in-1': 6_000, 'in-2': 5_000, exp: 1_000, pv: 2_000, 'pv-front': 99_999, 'pdu-1': 10_000 },
      expect: { ok: true, value: 1.2, quality: 'measured', status: 'green', inputs: { facility_power_w: 12_000, it_power_w: 10_000 } },
    },
    {
      name: 'IT at one level only: the most upstream level present (UPS out)',
      meters: [m('in-1', 'facility_in'), m('ups-1', 'it', { level: 'ups_out' }), m('pdu-1', 'it', { level: 'pdu_out' }), m('pdu-2', 'it', { level: 'pdu_out' })],
      vals: { 'in-1': 12_000, 'ups-1': 10_000, 'pdu-1': 4_000, 'pdu-2': 5_000 },
      expect: { ok: true, value: 1.2, quality: 'measured', status: 'green', category: 1, inputs: { facility_power_w: 12_000, it_power_w: 10_000 } },
    },
    {
      name: 'a stale meter at an unused level does not matter',
      meters: [m('in-1', 'facility_in'), m('ups-1', 'it', { level: 'ups_out' }), m('srv-1', 'it', { level: 'it_in' })],
      vals: { 'in-1': 12_000, 'ups-1': 10_000 },
      expect: { ok: true, value: 1.2, quality: 'measured', status: 'green', category: 1 },
    },
    { name: 'cooling and other meters are not inputs', meters: [...BASIC, m('crah', 'cooling'), m('light', 'other')], vals: { 'in-1': 10_000, 'pdu-1': 8_000 }, expect: { ok: true, value: 1.25, quality: 'measured', status: 'amber', coverage: 1 } },
    { name: 'kW readings are converted', meters: BASIC, vals: { 'in-1': [10, { unit: 'kW' }], 'pdu-1': 8_000 }, expect: { ok: true, value: 1.25, quality: 'measured', status: 'amber' } },
    { name: 'value rounded to 4 decimals', meters: BASIC, vals: { 'in-1': 10_000, 'pdu-1': 7_000 }, expect: { ok: true, value: 1.4286, quality: 'measured', status: 'red' } },
    {
      name: 'the only IT meter stale: its last power would be all of IT, never carried',
      meters: BASIC,
      vals: { 'in-1': 10_000, 'pdu-1': [8_000, { ts_ms: AT - 300_001 }] },
      expect: { ok: false, quality: 'insufficient', status: 'grey', coverage: 0.5, reason: /^DCIM_E_KPI_STALE: no fresh power from pdu-1; their last power would be 100 % of IT power, at most 10 % is carried$/ },
    },
    { name: 'fresh at the staleness edge', meters: BASIC, vals: { 'in-1': [10_000, { ts_ms: AT - 300_000 }], 'pdu-1': [8_000, { ts_ms: AT - 300_000 }] }, expect: { ok: true, value: 1.25, quality: 'measured', status: 'amber' } },
    { name: 'never-seen facility meter', meters: BASIC, vals: { 'pdu-1': 8_000 }, expect: { ok: false, quality: 'insufficient', status: 'grey', coverage: 0.5, reason: /DCIM_E_KPI_STALE: no fresh power from in-1/ } },
    { name: 'a power value that is text counts as missing', meters: BASIC, vals: { 'in-1': 10_000, 'pdu-1': [8_000, { value: 'n/a' }] }, expect: { ok: false, quality: 'insufficient', status: 'grey', reason: /DCIM_E_KPI_STALE/ } },
    { name: 'a power value in the wrong unit counts as missing', meters: BASIC, vals: { 'in-1': 10_000, 'pdu-1': [8_000, { unit: 'VA' }] }, expect: { ok: false, quality: 'insufficient', status: 'grey', reason: /DCIM_E_KPI_STALE/ } },
    { name: 'PUE < 1 is a boundary error, not a value', meters: BASIC, vals: { 'in-1': 7_000, 'pdu-1': 8_000 }, expect: { ok: false, quality: 'insufficient', status: 'grey', coverage: 1, reason: /^DCIM_E_KPI_BOUNDARY/, inputs: { facility_power_w: 7_000, it_power_w: 8_000 } } },
    { name: 'zero IT power', meters: BASIC, vals: { 'in-1': 7_000, 'pdu-1': 0 }, expect: { ok: false, quality: 'insufficient', status: 'grey', reason: /^DCIM_E_KPI_INSUFFICIENT: IT power is 0 W/ } },
    { name: 'no facility meter in the inventory', meters: [m('pdu-1', 'it', { level: 'pdu_out' })], vals: { 'pdu-1': 1 }, expect: { ok: false, quality: 'insufficient', status: 'grey', coverage: 0, reason: /no facility_in meter/ } },
    { name: 'no IT meter in the inventory', meters: [m('in-1', 'facility_in')], vals: { 'in-1': 1 }, expect: { ok: false, quality: 'insufficient', status: 'grey', coverage: 0, reason: /no it meter/ } },
    {
      name: 'inputs further apart than 1.5 poll intervals: misaligned share > 20 % → insufficient',
      meters: BASIC,
      vals: { 'in-1': [10_000, { ts_ms: AT - 7_600 }], 'pdu-1': [8_000, { ts_ms: AT }] },
      expect: { ok: false, quality: 'insufficient', status: 'grey', reason: /not time-aligned/ },
    },
    {
      name: 'a poll still on its way: inputs a little more than one interval apart are aligned',
      meters: BASIC,
      vals: { 'in-1': [10_000, { ts_ms: AT - 7_400 }], 'pdu-1': [8_000, { ts_ms: AT }] },
      expect: { ok: true, value: 1.25, quality: 'measured', status: 'amber' },
    },
    {
      name: 'a small misaligned meter lowers quality to partial',
      meters: [m('in-1', 'facility_in'), m('pdu-1', 'it', { level: 'pdu_out' }), m('pdu-2', 'it', { level: 'pdu_out' })],
      vals: { 'in-1': 12_000, 'pdu-1': [9_600, { ts_ms: AT }], 'pdu-2': [400, { ts_ms: AT - 10_000 }] },
      expect: { ok: true, value: 1.2, quality: 'partial', status: 'green' },
    },
    {
      name: 'an uncertain meter carrying 15 % of IT lowers quality to estimated',
      meters: [m('in-1', 'facility_in'), m('pdu-1', 'it', { level: 'pdu_out' }), m('pdu-2', 'it', { level: 'pdu_out' })],
      vals: { 'in-1': 12_000, 'pdu-1': 8_500, 'pdu-2': [1_500, { quality: 'uncertain' }] },
      expect: { ok: true, value: 1.2, quality: 'estimated', status: 'green' },
    },
    {
      name: 'a slow meter widens the alignment tolerance',
      meters: [m('in-1', 'facility_in', { interval_s: 60 }), m('pdu-1', 'it', { level: 'pdu_out' })],
      vals: { 'in-1': [12_000, { ts_ms: AT - 50_000 }], 'pdu-1': [10_000, { ts_ms: AT }] },
      expect: { ok: true, value: 1.2, quality: 'measured', status: 'green', inputs: { input_spread_ms: 50_000 } },
    },
  ];

  it.each(cases)('$name', ({ meters, vals, target, expect: e }) => {
    const k = livePue(model(meters, target), lookup(vals), AT);
    expect(KpiValueSchema.parse(k)).toEqual(k);
    expect(k).toMatchObject({ kpi: 'pue_live', window: 'instant', basis: 'power', window_start: AT, window_end: AT, target: target ?? 1.2 });
    expect({ ok: k.ok, quality: k.quality, status: k.status }).toEqual({ ok: e.ok, quality: e.quality, status: e.status });
    if (e.value !== undefined) expect(k.value).toBe(e.value);
    if (!e.ok) expect(k.value).toBeUndefined();
    if (e.coverage !== undefined) expect(k.coverage).toBe(e.coverage);
    if (e.category !== undefined) expect(k.category).toBe(e.category);
    if (e.reason) expect(k.reason).toMatch(e.reason);
    if (e.inputs) expect(k.inputs).toMatchObject(e.inputs);
  });

  it('a pinned level is used even when another is more upstream', () => {
    const meters = [m('in-1', 'facility_in'), m('ups-1', 'it', { level: 'ups_out' }), m('pdu-1', 'it', { level: 'pdu_out' })];
    const k = livePue(model(meters), lookup({ 'in-1': 12_000, 'ups-1': 11_000, 'pdu-1': 10_000 }), AT, { it_level: 'pdu_out' });
    expect(k).toMatchObject({ value: 1.2, category: 2 });
  });

  it('chooseItLevel prefers the shared level, else the most upstream', () => {
    expect(chooseItLevel([m('a', 'it', { level: 'it_in' }), m('b', 'it', { level: 'it_in' })])).toBe('it_in');
    expect(chooseItLevel([m('a', 'it', { level: 'it_in' }), m('b', 'it', { level: 'pdu_out' })])).toBe('pdu_out');
    expect(chooseItLevel([m('a', 'facility_in')])).toBeUndefined();
  });
});

describe('livePue: a stale meter carried within bounds (15 min after it goes stale, 10 % of a side)', () => {
  // One incomer, 31 PDUs of 3 kW: IT 93 kW, facility 111.6 kW → PUE 1.2.
  const pdu = (i: number) => `pdu-${String(i).padStart(2, '0')}`;
  const SITE31 = [m('in-1', 'facility_in'), ...Array.from({ length: 31 }, (_, i) => m(pdu(i + 1), 'it', { level: 'pdu_out', interval_s: 10 }))];
  const fresh31 = (): Vals => Object.fromEntries([['in-1', 111_600], ...Array.from({ length: 31 }, (_, i) => [pdu(i + 1), 3_000])]);
  const silent = (devices: string[], since_ms: number, over: Partial<LatestValue> = {}): Vals => ({ ...fresh31(), ...Object.fromEntries(devices.map((d) => [d, [3_000, { ts_ms: AT - since_ms, ...over }]])) });
  const MIN = 60_000;
  const cases: {
    name: string;
    vals: Vals;
    meters?: PowerMeter[];
    carry?: { max_ms: number; max_share: number };
    expect: { ok: boolean; value?: number; quality: string; reason?: RegExp; coverage?: number; inputs?: Record<string, number>; stale?: { device: string; carried: boolean; last_ts_ms?: number; power_w?: number }[] };
  }[] = [
    {
      name: '1 of 31 PDUs silent for 6 min: carried at its last value, estimated, named',
      vals: silent(['pdu-07'], 6 * MIN),
      expect: { ok: true, value: 1.2, quality: 'estimated', coverage: 0.96875, inputs: { stale_meter_count: 1, carried_ratio: 0.032258, it_power_w: 93_000 }, stale: [{ device: 'pdu-07', carried: true, last_ts_ms: AT - 6 * MIN, power_w: 3_000 }] },
    },
    {
      name: 'at the carry time limit (stale 5 min + 15 min): still carried',
      vals: silent(['pdu-07'], 20 * MIN),
      expect: { ok: true, value: 1.2, quality: 'estimated', stale: [{ device: 'pdu-07', carried: true }] },
    },
    {
      name: 'beyond the carry time: unknown, the meter named',
      vals: silent(['pdu-07'], 20 * MIN + 1),
      expect: { ok: false, quality: 'insufficient', reason: /^DCIM_E_KPI_STALE: no fresh power from pdu-07 \(silent 20 min\); a stale meter is carried for at most 15 min after it goes stale$/, stale: [{ device: 'pdu-07', carried: false, last_ts_ms: AT - 20 * MIN - 1, power_w: 3_000 }] },
    },
    {
      name: '3 of 31 silent (9.7 % of IT): carried',
      vals: silent(['pdu-01', 'pdu-02', 'pdu-03'], 6 * MIN),
      expect: { ok: true, value: 1.2, quality: 'estimated', inputs: { stale_meter_count: 3, carried_ratio: 0.096774 }, stale: [{ device: 'pdu-01', carried: true }, { device: 'pdu-02', carried: true }, { device: 'pdu-03', carried: true }] },
    },
    {
      name: '4 of 31 silent (12.9 % of IT): beyond the share, unknown',
      vals: silent(['pdu-01', 'pdu-02', 'pdu-03', 'pdu-04'], 6 * MIN),
      expect: {
        ok: false,
        quality: 'insufficient',
        reason: /^DCIM_E_KPI_STALE: no fresh power from pdu-01, pdu-02, pdu-03, pdu-04; their last power would be 12.9 % of IT power, at most 10 % is carried$/,
        inputs: { stale_meter_count: 4, carried_ratio: 0 },
        stale: ['pdu-01', 'pdu-02', 'pdu-03', 'pdu-04'].map((device) => ({ device, carried: false })),
      },
    },
    {
      name: 'a share limit of 20 % carries the 4',
      vals: silent(['pdu-01', 'pdu-02', 'pdu-03', 'pdu-04'], 6 * MIN),
      carry: { max_ms: 15 * MIN, max_share: 0.2 },
      expect: { ok: true, value: 1.2, quality: 'estimated' },
    },
    {
      name: 'carrying off (max_ms 0): a stale meter blanks the figure',
      vals: silent(['pdu-07'], 5 * MIN + 1),
      carry: { max_ms: 0, max_share: 0.1 },
      expect: { ok: false, quality: 'insufficient', reason: /^DCIM_E_KPI_STALE: no fresh power from pdu-07 \(silent 5 min\)/, stale: [{ device: 'pdu-07', carried: false }] },
    },
    {
      name: 'a silent incomer (half the facility side) is never carried',
      meters: [m('in-2', 'facility_in'), ...SITE31],
      vals: { ...fresh31(), 'in-1': [55_800, { ts_ms: AT - 6 * MIN }], 'in-2': 55_800 },
      expect: { ok: false, quality: 'insufficient', reason: /their last power would be 50 % of facility power/, stale: [{ device: 'in-1', carried: false }] },
    },
    {
      name: 'a never-seen meter cannot be carried',
      vals: { ...fresh31(), 'pdu-07': undefined as unknown as number },
      expect: { ok: false, quality: 'insufficient', reason: /^DCIM_E_KPI_STALE: no fresh power from pdu-07$/, stale: [{ device: 'pdu-07', carried: false }] },
    },
    {
      name: 'carried 9.7 % and uncertain 12.9 %: more than 20 % of IT degraded, insufficient',
      vals: { ...silent(['pdu-01', 'pdu-02', 'pdu-03'], 6 * MIN), ...Object.fromEntries(['pdu-04', 'pdu-05', 'pdu-06', 'pdu-08'].map((d) => [d, [3_000, { quality: 'uncertain' }]])) },
      expect: { ok: false, quality: 'insufficient', reason: /^DCIM_E_KPI_INSUFFICIENT: inputs are not time-aligned or not measured .*carried 9.7 %/ },
    },
    {
      name: 'the stale meter still reads while fresh (4 min): measured, not named',
      vals: { ...fresh31(), 'pdu-07': [3_000, { ts_ms: AT - 4 * MIN }] },
      // 4 min behind the others: misaligned, 3.2 % of IT → partial.
      expect: { ok: true, value: 1.2, quality: 'partial', inputs: { stale_meter_count: 0, carried_ratio: 0 }, stale: [] },
    },
  ];

  it.each(cases)('$name', ({ vals, meters, carry, expect: e }) => {
    const clean = Object.fromEntries(Object.entries(vals).filter(([, v]) => v !== undefined)) as Vals;
    const k = livePue(model(meters ?? SITE31), lookup(clean), AT, carry ? { stale_carry: carry } : {});
    expect(KpiValueSchema.parse(k)).toEqual(k);
    expect({ ok: k.ok, quality: k.quality }).toEqual({ ok: e.ok, quality: e.quality });
    if (e.value !== undefined) expect(k.value).toBe(e.value);
    if (!e.ok) expect(k.value).toBeUndefined();
    if (e.reason) expect(k.reason).toMatch(e.reason);
    if (e.coverage !== undefined) expect(k.coverage).toBe(e.coverage);
    if (e.inputs) expect(k.inputs).toMatchObject(e.inputs);
    if (e.stale?.length === 0) expect(k.stale_meters).toBeUndefined();
    else if (e.stale) expect(k.stale_meters).toEqual(e.stale.map((s) => expect.objectContaining({ ...s, role: s.device.startsWith('in') ? 'facility_in' : 'it' })));
  });

  it('the carried value is the last one: a PDU whose load changed shows its last reading, close to the truth', () => {
    // pdu-07 really draws 3.3 kW now (10 % more) but last read 3 kW: PUE 111.9 / 93.3 = 1.1994 vs 1.2 shown.
    const vals = { ...silent(['pdu-07'], 8 * MIN), 'in-1': 111_900 };
    const k = livePue(model(SITE31), lookup(vals), AT);
    expect(k).toMatchObject({ ok: true, quality: 'estimated', inputs: { it_power_w: 93_000 } });
    expect(Math.abs(k.value! - 111_900 / 93_300)).toBeLessThan(0.005);
  });

  it('names at most 20 stale meters, the largest first; the count has them all', () => {
    const meters = [m('in-1', 'facility_in'), ...Array.from({ length: 300 }, (_, i) => m(`pdu-${i}`, 'it', { level: 'pdu_out' }))];
    const vals: Vals = { 'in-1': 360_000 };
    for (let i = 0; i < 300; i++) vals[`pdu-${i}`] = i < 25 ? [1_000 + i, { ts_ms: AT - 6 * MIN }] : 1_000;
    const k = livePue(model(meters), lookup(vals), AT);
    expect(k).toMatchObject({ ok: true, quality: 'estimated', inputs: { stale_meter_count: 25 } });
    expect(k.stale_meters!.map((s) => s.device)).toEqual(Array.from({ length: 20 }, (_, i) => `pdu-${24 - i}`));
  });

  it('a reason names at most 10 meters: a hall of silent PDUs does not make a reason of thousands of names', () => {
    const meters = [m('in-1', 'facility_in'), ...Array.from({ length: 300 }, (_, i) => m(`pdu-${String(i).padStart(3, '0')}`, 'it', { level: 'pdu_out' }))];
    const vals: Vals = { 'in-1': 360_000 };
    for (let i = 0; i < 300; i++) vals[`pdu-${String(i).padStart(3, '0')}`] = i < 40 ? [1_000, { ts_ms: AT - 6 * MIN }] : 1_000;
    const k = livePue(model(meters), lookup(vals), AT);
    expect(k.reason).toBe('DCIM_E_KPI_STALE: no fresh power from pdu-000, pdu-001, pdu-002, pdu-003, pdu-004, pdu-005, pdu-006, pdu-007, pdu-008, pdu-009 and 30 more; their last power would be 13.3 % of IT power, at most 10 % is carried');
    expect(k).toMatchObject({ inputs: { stale_meter_count: 40 } });
    expect(k.stale_meters).toHaveLength(20);
  });
});

describe('sitePowerModel from the demo seed and built-in profiles', () => {
  it('finds each meter and its power point', () => {
    const inv = SiteInventorySchema.parse({
      site: { id: 'demo', name: 'Demo' },
      halls: [{ id: 'h1' }],
      devices: [
        { id: 'pdu-1', profile: 'apc-rpdu2', address: { protocol: 'snmp', host: '127.0.0.1' }, meter: { role: 'it', level: 'pdu_out' } },
        { id: 'in-1', profile: 'eastron-sdm630', interval_s: 30, address: { protocol: 'modbus', host: '127.0.0.1' }, meter: { role: 'facility_in' } },
        { id: 'crah-1', profile: 'unknown-crah', address: { protocol: 'modbus', host: '127.0.0.2' } },
      ],
    });
    const pm = sitePowerModel(inv, loadProfiles());
    expect(pm).toEqual({
      site: 'demo',
      target_pue: 1.2,
      meters: [
        { device: 'pdu-1', role: 'it', level: 'pdu_out', behind_meter: false, interval_s: 10, power_point: 'active_power_w' },
        { device: 'in-1', role: 'facility_in', behind_meter: false, interval_s: 30, power_point: 'active_power_w' },
      ],
    });
    expect(powerPointOf(undefined)).toBe('active_power_w');
  });
});

describe('quality ladder and target status', () => {
  it.each([
    [0, 'measured'],
    [0.01, 'measured'],
    [0.011, 'partial'],
    [0.05, 'partial'],
    [0.2, 'estimated'],
    [0.21, 'insufficient'],
    [NaN, 'insufficient'],
  ] as const)('degraded share %s → %s', (share, q) => expect(qualityFromDegradedShare(share)).toBe(q));

  it.each([
    { value: 1.2, target: 1.2, dir: 'at_most', status: 'green' },
    { value: 1.25, target: 1.2, dir: 'at_most', status: 'amber' },
    { value: 1.2501, target: 1.2, dir: 'at_most', status: 'red' },
    { value: 0.7, target: 0.7, dir: 'at_least', status: 'green' },
    { value: 0.66, target: 0.7, dir: 'at_least', status: 'amber' },
    { value: 0.6, target: 0.7, dir: 'at_least', status: 'red' },
    { value: 1.1, target: undefined, dir: 'at_most', status: 'grey' },
  ] as const)('$value vs $target ($dir) → $status', ({ value, target, dir, status }) => {
    expect(targetStatus(value, target, 'measured', dir)).toBe(status);
  });
  it('insufficient quality is grey whatever the value', () => expect(targetStatus(1.0, 1.2, 'insufficient', 'at_most')).toBe('grey'));
});
