import { describe, expect, it } from 'vitest';
import { KPI_CATALOGUE } from '../../../collector/kpi/registry/index.js';
import { emptyGroupSums, type GroupSums } from '../../../collector/kpi/energy-totals.js';
import { siteCalendar } from '../../../shared/time/site-calendar.js';
import { pastWindowKpis, siteKpis, windowKpis, type SiteSource } from '../../../collector/kpi/site-kpis.js';
import { METER_GROUPS } from '../../../collector/kpi/site-model.js';

/** The registry drives what a site publishes, summarises and revises after late data, and in which order. */
const H = 3_600_000;
const DAY = 24 * H;
const D0 = Date.UTC(2026, 2, 2);

const src: SiteSource = {
  site: 's',
  calendar: siteCalendar('UTC'),
  category: 2,
  targets: { pue: 1.3, rack_occupancy: 0.7, green_share: 0.5 },
  rated_kw_available: 500,
  groupSums: (w): GroupSums => {
    const span = w.end - w.start;
    const s = emptyGroupSums({ ...(Object.fromEntries(METER_GROUPS.map((g) => [g, 0])) as Record<(typeof METER_GROUPS)[number], number>), facility_in: 1, it: 1, cooling: 1 });
    s.facility_in = { ...s.facility_in, kwh: (130 * span) / H, covered_ms: span };
    s.it = { ...s.it, kwh: (100 * span) / H, covered_ms: span };
    s.cooling = { ...s.cooling, kwh: (25 * span) / H, covered_ms: span };
    return s;
  },
  declared: () => ({ certificates: [], trades: [] }),
  occupancyDay: (day) => ({ start: day * DAY, end: (day + 1) * DAY, racks_available: 0, racks_on: 0, racks_metered: 0, racks_reserved: 0, racks_planned: 0, rated_kw_available: 0, rated_kw_on: 0, coverage: 0 }),
  compute: () => undefined,
  live: () => undefined,
};
const names = (vs: readonly { kpi: string; window: string }[]) => vs.map((v) => `${v.kpi}/${v.window}`);

describe('siteKpis, windowKpis, pastWindowKpis over the registry', () => {
  it('publishes every windowed KPI in registry order', () => {
    expect(names(siteKpis(src, D0 + DAY + 30 * 60_000, 20 * 60_000))).toEqual([
      ...['15m', '1h', '1d', '1mo', 'ytd', '12mo', '1y'].map((w) => `pue/${w}`),
      ...['1d', '1mo', 'ytd', '1y'].map((w) => `green_share_ratio/${w}`),
      'ref_ratio/1y',
      'rack_occupancy_ratio/1d',
      'rack_occupancy_ratio/1mo',
      'it_load_utilisation_ratio/1d',
      'it_load_utilisation_ratio/1mo',
      'cooling_load_factor_ratio/1d',
      'cooling_load_factor_ratio/1mo',
    ]);
  });

  it('late data at the end of a day revises its quarter hour, hour and day (PUE, occupancy, utilisation, cooling)', () => {
    const edge = D0 + DAY + 15 * 60_000;
    expect(names(pastWindowKpis(src, D0 + DAY - 15 * 60_000, edge, 3))).toEqual(['pue/15m', 'pue/1h', 'pue/1d', 'rack_occupancy_ratio/1d', 'it_load_utilisation_ratio/1d', 'cooling_load_factor_ratio/1d']);
  });

  it('a closed day summarises PUE, green share, occupancy, utilisation and cooling; a quarter hour PUE only', () => {
    expect(names(windowKpis(src, { window: '1d', start: D0, end: D0 + DAY }))).toEqual(['pue/1d', 'green_share_ratio/1d', 'rack_occupancy_ratio/1d', 'it_load_utilisation_ratio/1d', 'cooling_load_factor_ratio/1d']);
    expect(names(windowKpis(src, { window: '15m', start: D0, end: D0 + 15 * 60_000 }))).toEqual(['pue/15m']);
    // Every figure is a catalogue KPI in one of its windows.
    for (const v of windowKpis(src, { window: '1mo', start: D0, end: D0 + DAY, period: '2026-03' })) expect(KPI_CATALOGUE.get(v.kpi)?.windows).toContain(v.window);
  });
});
