import { describe, expect, it } from 'vitest';
import { liveGreenShare } from '../../../collector/kpi/green-share.js';
import type { PowerMeter, SitePowerModel } from '../../../collector/kpi/power-meters.js';
import type { LatestValue } from '../../../collector/state/latest-values.js';
import { KpiValueSchema } from '../../../contract/messages.js';

const AT = 1_767_225_600_000;
const MIN = 60_000;
const m = (device: string, role: PowerMeter['role'], extra: Partial<PowerMeter> = {}): PowerMeter => ({ device, role, behind_meter: false, interval_s: 5, power_point: 'active_power_w', ...extra });
const model = (meters: PowerMeter[]): SitePowerModel => ({ site: 'demo', target_pue: 1.2, meters });
type Vals = Record<string, number | [number, Partial<LatestValue>]>;
const lookup = (vals: Vals) => ({
  get: (_site: string, device: string): LatestValue | undefined => {
    const v = vals[device];
    if (v === undefined) return undefined;
    const [value, over] = typeof v === 'number' ? [v, {}] : v;
    return { value, unit: 'W', quality: 'good', ts_ms: AT - 1000, ...over };
  },
});

// Two incomers and a metered green feed beside them; PV behind the incomers.
const SITE = [m('in-1', 'facility_in'), m('in-2', 'facility_in'), m('feed', 'green_feed'), m('pv', 'green_onsite', { behind_meter: true, interval_s: 10 })];

describe('liveGreenShare: metered green supply (on-site generation and green feeds) over facility power', () => {
  const cases: {
    name: string;
    meters?: PowerMeter[];
    vals: Vals;
    expect: { ok: boolean; value?: number; quality: string; status?: string; reason?: RegExp; inputs?: Record<string, number>; stale?: string[] };
  }[] = [
    {
      name: 'a green feed of 35 kW counts: (35 + 5) / (30 + 30 + 35 + 5) = 40 %',
      vals: { 'in-1': 30_000, 'in-2': 30_000, feed: 35_000, pv: 5_000 },
      expect: { ok: true, value: 0.4, quality: 'measured', status: 'red', inputs: { facility_power_w: 100_000, green_onsite_power_w: 5_000, green_feed_power_w: 35_000 } },
    },
    {
      name: 'a green feed alone, no PV in the inventory: 35 / 100 kW',
      meters: [m('in-1', 'facility_in'), m('feed', 'green_feed')],
      vals: { 'in-1': 65_000, feed: 35_000 },
      expect: { ok: true, value: 0.35, quality: 'measured', inputs: { green_onsite_power_w: 0, green_feed_power_w: 35_000 } },
    },
    {
      name: 'on-site PV alone, as before',
      meters: [m('in-1', 'facility_in'), m('pv', 'green_onsite', { behind_meter: true })],
      vals: { 'in-1': 90_000, pv: 10_000 },
      expect: { ok: true, value: 0.1, quality: 'measured' },
    },
    {
      name: 'capped at 1 (PV exporting more than the site uses)',
      meters: [m('in-1', 'facility_in'), m('exp', 'export'), m('pv', 'green_onsite', { behind_meter: true })],
      vals: { 'in-1': 0, exp: 20_000, pv: 80_000 },
      expect: { ok: true, value: 1, quality: 'measured', status: 'green' },
    },
    {
      name: 'a negative reading of a green meter (inverter standby draw) is no green supply',
      meters: [m('in-1', 'facility_in'), m('pv', 'green_onsite')],
      vals: { 'in-1': 50_000, pv: -40 },
      expect: { ok: true, value: 0, quality: 'measured', inputs: { green_onsite_power_w: 0 } },
    },
    {
      name: 'the green feed stale for 6 min: 35 % of facility power, too much to carry → unknown',
      vals: { 'in-1': 30_000, 'in-2': 30_000, feed: [35_000, { ts_ms: AT - 6 * MIN }], pv: 5_000 },
      expect: { ok: false, quality: 'insufficient', status: 'grey', reason: /^DCIM_E_KPI_STALE: no fresh power from feed; their last power would be 35 % of facility power and 87.5 % of green power/, stale: ['feed'] },
    },
    {
      name: 'a small PV stale for 6 min (≤ 10 % of each side): carried, estimated',
      vals: { 'in-1': 30_000, 'in-2': 30_000, feed: 36_000, pv: [4_000, { ts_ms: AT - 6 * MIN }] },
      expect: { ok: true, value: 0.4, quality: 'estimated', inputs: { stale_meter_count: 1, carried_ratio: 0.1 }, stale: ['pv'] },
    },
    {
      name: 'PV silent beyond the carry time → unknown',
      vals: { 'in-1': 30_000, 'in-2': 30_000, feed: 36_000, pv: [4_000, { ts_ms: AT - 21 * MIN }] },
      expect: { ok: false, quality: 'insufficient', reason: /no fresh power from pv \(silent 21 min\)/, stale: ['pv'] },
    },
    {
      name: 'a side at 0 W with a carried meter: its share is unknown, so it is all of it (PV asleep at dusk, no feed)',
      meters: [m('in-1', 'facility_in'), m('pv', 'green_onsite')],
      vals: { 'in-1': 50_000, pv: [0, { ts_ms: AT - 6 * MIN }] },
      expect: { ok: false, quality: 'insufficient', reason: /their last power would be 100 % of green power/, stale: ['pv'] },
    },
    { name: 'no facility_in meter', meters: [m('feed', 'green_feed')], vals: { feed: 1 }, expect: { ok: false, quality: 'insufficient', reason: /^DCIM_E_KPI_INSUFFICIENT: the site has no facility_in meter$/ } },
    {
      name: 'zero facility power',
      meters: [m('in-1', 'facility_in'), m('feed', 'green_feed')],
      vals: { 'in-1': 0, feed: 0 },
      expect: { ok: false, quality: 'insufficient', reason: /^DCIM_E_KPI_INSUFFICIENT: facility power is 0 W$/ },
    },
  ];

  it.each(cases)('$name', ({ meters, vals, expect: e }) => {
    const k = liveGreenShare(model(meters ?? SITE), lookup(vals), AT, 0.8);
    expect(KpiValueSchema.parse(k)).toEqual(k);
    expect(k).toMatchObject({ kpi: 'green_share_live_ratio', window: 'instant', basis: 'power_metered', target: 0.8 });
    expect({ ok: k.ok, quality: k.quality }).toEqual({ ok: e.ok, quality: e.quality });
    if (e.value !== undefined) expect(k.value).toBe(e.value);
    if (!e.ok) expect([k.status, k.value]).toEqual(['grey', undefined]);
    if (e.status) expect(k.status).toBe(e.status);
    if (e.reason) expect(k.reason).toMatch(e.reason);
    if (e.inputs) expect(k.inputs).toMatchObject(e.inputs);
    expect(k.stale_meters?.map((s) => s.device)).toEqual(e.stale);
  });
});
