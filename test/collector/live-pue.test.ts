import { describe, expect, it } from 'vitest';
import { chooseItLevel, livePue } from '../../collector/kpi/live-pue.js';
import { powerPointOf, sitePowerModel, type PowerMeter, type SitePowerModel } from '../../collector/kpi/power-meters.js';
import { qualityFromDegradedShare } from '../../collector/kpi/quality.js';
import { targetStatus } from '../../collector/kpi/target-status.js';
import type { LatestValue } from '../../collector/state/latest-values.js';
import { KpiValueSchema } from '../../contract/messages.js';
import { SiteInventorySchema } from '../../contract/inventory.js';
import { loadProfiles } from '../../contract/profiles.js';

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
    { name: 'stale IT meter: unknown, not wrong', meters: BASIC, vals: { 'in-1': 10_000, 'pdu-1': [8_000, { ts_ms: AT - 300_001 }] }, expect: { ok: false, quality: 'insufficient', status: 'grey', coverage: 0.5, reason: /^DCIM_E_KPI_STALE: no fresh power from pdu-1$/ } },
    { name: 'fresh at the staleness edge', meters: BASIC, vals: { 'in-1': [10_000, { ts_ms: AT - 300_000 }], 'pdu-1': [8_000, { ts_ms: AT - 300_000 }] }, expect: { ok: true, value: 1.25, quality: 'measured', status: 'amber' } },
    { name: 'never-seen facility meter', meters: BASIC, vals: { 'pdu-1': 8_000 }, expect: { ok: false, quality: 'insufficient', status: 'grey', coverage: 0.5, reason: /DCIM_E_KPI_STALE: no fresh power from in-1/ } },
    { name: 'a power value that is text counts as missing', meters: BASIC, vals: { 'in-1': 10_000, 'pdu-1': [8_000, { value: 'n/a' }] }, expect: { ok: false, quality: 'insufficient', status: 'grey', reason: /DCIM_E_KPI_STALE/ } },
    { name: 'a power value in the wrong unit counts as missing', meters: BASIC, vals: { 'in-1': 10_000, 'pdu-1': [8_000, { unit: 'VA' }] }, expect: { ok: false, quality: 'insufficient', status: 'grey', reason: /DCIM_E_KPI_STALE/ } },
    { name: 'PUE < 1 is a boundary error, not a value', meters: BASIC, vals: { 'in-1': 7_000, 'pdu-1': 8_000 }, expect: { ok: false, quality: 'insufficient', status: 'grey', coverage: 1, reason: /^DCIM_E_KPI_BOUNDARY/, inputs: { facility_power_w: 7_000, it_power_w: 8_000 } } },
    { name: 'zero IT power', meters: BASIC, vals: { 'in-1': 7_000, 'pdu-1': 0 }, expect: { ok: false, quality: 'insufficient', status: 'grey', reason: /^DCIM_E_KPI_INSUFFICIENT: IT power is 0 W/ } },
    { name: 'no facility meter in the inventory', meters: [m('pdu-1', 'it', { level: 'pdu_out' })], vals: { 'pdu-1': 1 }, expect: { ok: false, quality: 'insufficient', status: 'grey', coverage: 0, reason: /no facility_in meter/ } },
    { name: 'no IT meter in the inventory', meters: [m('in-1', 'facility_in')], vals: { 'in-1': 1 }, expect: { ok: false, quality: 'insufficient', status: 'grey', coverage: 0, reason: /no it meter/ } },
    {
      name: 'inputs further apart than the largest poll interval: misaligned share > 20 % → insufficient',
      meters: BASIC,
      vals: { 'in-1': [10_000, { ts_ms: AT - 6_000 }], 'pdu-1': [8_000, { ts_ms: AT }] },
      expect: { ok: false, quality: 'insufficient', status: 'grey', reason: /not time-aligned/ },
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
