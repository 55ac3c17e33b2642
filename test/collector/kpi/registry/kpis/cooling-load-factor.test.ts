import { describe, expect, it } from 'vitest';
import type { Cluster } from '../../../../../contract/inventory.js';
import { KPI_CATALOGUE } from '../../../../../collector/kpi/registry/index.js';
import type { KpiValue } from '../../../../../contract/messages.js';
import { emptyGroupSums, type GroupSums } from '../../../../../collector/kpi/energy-totals.js';
import { coolingLoadFactor } from '../../../../../collector/kpi/registry/kpis/cooling-load-factor.js';
import { siteCalendar } from '../../../../../shared/time/site-calendar.js';
import { clusterKpis, siteKpis, windowKpis, type SiteSource } from '../../../../../collector/kpi/site-kpis.js';
import { METER_GROUPS } from '../../../../../collector/kpi/site-model.js';

/**
 * Cooling load factor, worked by hand. Site "a": two cooling meters drawing 15 kW each (30 kW) and
 * one IT meter at 100 kW, all day → 720 kWh / 2,400 kWh = 0.3. Site "b": one cooling meter at
 * 10 kW, IT at 300 kW → 240 / 7,200 = 0.0333. The cluster pools energy: (720 + 240) / (2,400 +
 * 7,200) = 0.1 — not the 0.1667 a mean of the two ratios would claim.
 */
const H = 3_600_000;
const DAY = 24 * H;
// 2026-03-02 00:00 UTC; settled at 00:30 the next day.
const D0 = Date.UTC(2026, 2, 2);
const NOW = D0 + DAY + 30 * 60_000;
const SETTLE = 20 * 60_000;

function source(site: string, cooling: { meters: number; kw: number }, it_kw: number, coveredShare = 1): SiteSource {
  const meters = Object.fromEntries(METER_GROUPS.map((g) => [g, 0])) as Record<(typeof METER_GROUPS)[number], number>;
  return {
    site,
    calendar: siteCalendar('UTC'),
    category: 2,
    targets: { pue: 1.3, rack_occupancy: 0.7, green_share: 0.5 },
    rated_kw_available: 500,
    groupSums: (w): GroupSums => {
      const span = w.end - w.start;
      const s = emptyGroupSums({ ...meters, cooling: cooling.meters, it: 1, facility_in: 1 });
      s.cooling = { ...s.cooling, kwh: (cooling.kw * span * coveredShare) / H, covered_ms: cooling.meters * span * coveredShare };
      s.it = { ...s.it, kwh: (it_kw * span) / H, covered_ms: span };
      s.facility_in = { ...s.facility_in, kwh: ((it_kw + cooling.kw) * span) / H, covered_ms: span };
      return s;
    },
    declared: () => ({ certificates: [], trades: [] }),
    occupancyDay: (day) => ({ start: day * DAY, end: (day + 1) * DAY, racks_available: 0, racks_on: 0, racks_metered: 0, racks_reserved: 0, racks_planned: 0, rated_kw_available: 0, rated_kw_on: 0, coverage: 0 }),
    compute: () => undefined,
    live: () => undefined,
  };
}

const pick = (vs: readonly KpiValue[], window: string) => vs.find((v) => v.kpi === 'cooling_load_factor_ratio' && v.window === window);

describe('cooling load factor (ΣE_cooling / ΣE_IT)', () => {
  it("a site's day: 720 kWh of cooling over 2,400 kWh of IT = 0.3, with both sides as inputs", () => {
    const v = pick(siteKpis(source('a', { meters: 2, kw: 30 }, 100), NOW, SETTLE), '1d');
    expect(v).toMatchObject({ ok: true, value: 0.3, basis: 'energy', quality: 'measured', window_start: D0, window_end: D0 + DAY, inputs: { cooling_kwh: 720, it_kwh: 2400 } });
  });

  it('is in the summary of a closed day and month, not of a quarter hour', () => {
    const src = source('a', { meters: 2, kw: 30 }, 100);
    expect(pick(windowKpis(src, { window: '1d', start: D0, end: D0 + DAY }), '1d')?.value).toBe(0.3);
    expect(pick(windowKpis(src, { window: '15m', start: D0, end: D0 + 15 * 60_000 }), '15m')).toBeUndefined();
  });

  it('a cluster pools energy: (720 + 240) / (2,400 + 7,200) = 0.1', () => {
    const c: Cluster = { id: 'c', name: 'C', targets: { pue: 1.3, rack_occupancy: 0.7, green_share: 0.5 }, sites: ['a', 'b'] };
    const vs = clusterKpis(c, [source('a', { meters: 2, kw: 30 }, 100), source('b', { meters: 1, kw: 10 }, 300)], [], NOW, SETTLE);
    expect(pick(vs, '1d')).toMatchObject({ ok: true, value: 0.1, basis: 'energy_weighted', inputs: { cooling_kwh: 960, it_kwh: 9600 } });
    expect(pick(clusterKpis(c, [source('a', { meters: 2, kw: 30 }, 100)], ['b'], NOW, SETTLE), '1d')).toMatchObject({ ok: false, reason_code: 'DCIM_E_KPI_INSUFFICIENT' });
  });

  it('no cooling meters: no value (unknown, not zero); cooling meters covering half the day: insufficient', () => {
    expect(pick(siteKpis(source('a', { meters: 0, kw: 0 }, 100), NOW, SETTLE), '1d')).toMatchObject({ ok: false, reason_code: 'DCIM_E_KPI_INSUFFICIENT', status: 'grey' });
    const half = pick(siteKpis(source('a', { meters: 2, kw: 30 }, 100, 0.5), NOW, SETTLE), '1d');
    expect(half).toMatchObject({ ok: false, quality: 'insufficient' });
    expect(half?.value).toBeUndefined();
  });

  it('its windows, bases and inputs are the catalogue entry the store and dashboards read', () => {
    const spec = KPI_CATALOGUE.get('cooling_load_factor_ratio')!;
    const v = coolingLoadFactor([source('a', { meters: 2, kw: 30 }, 100).groupSums({ start: D0, end: D0 + DAY })], { window: '1d', start: D0, end: D0 + DAY }, 'energy');
    expect((spec.windows as readonly string[]).includes(v.window)).toBe(true);
    expect((spec.site_basis as readonly string[]).includes(v.basis)).toBe(true);
    for (const k of Object.keys(v.inputs ?? {})) expect(spec.inputs).toContain(k);
  });
});
