import type { KpiValue } from '../../../../contract/messages.js';
import { meanOfSites, pooledOccupancyDay } from '../../cluster-rollup.js';
import { occupancyDayValue, occupancyMonthValue, type OccupancyDay } from '../../occupancy.js';
import { occupancyWindows, type SiteSource } from '../../site-source.js';
import type { WindowBounds } from '../../windows.js';
import { defineKpi, FORMATS } from '../kpi-module.js';
import { MEAN_OF_SITES } from '../spec-inputs.js';

/** A month (or the month to date) of a site's occupancy: the mean of its days. */
function monthValue(src: SiteSource, w: WindowBounds): KpiValue {
  const cal = src.calendar;
  const target = src.targets.rack_occupancy;
  const first = cal.dayNumber(w.start);
  const last = cal.dayNumber(w.end - 1);
  const days: { value: KpiValue; day_ms: number }[] = [];
  for (let d = first; d <= last; d++) days.push({ value: occupancyDayValue(src.occupancyDay(d), target), day_ms: cal.dayStart(d) });
  return occupancyMonthValue(w, days, last - first + 1, target);
}

function occupancyOf(src: SiteSource, w: WindowBounds): KpiValue | undefined {
  if (w.window === '1d') return occupancyDayValue(src.occupancyDay(src.calendar.dayNumber(w.start)), src.targets.rack_occupancy);
  return w.window === '1mo' ? monthValue(src, w) : undefined;
}

/** The last complete day and the month to that day. */
function siteOccupancy(src: SiteSource, edge: number): [KpiValue, KpiValue] {
  const { day, month } = occupancyWindows(src.calendar, edge);
  return [occupancyOf(src, day)!, monthValue(src, month)];
}

/**
 * Rack occupancy per day and month. A cluster pools its sites' days (Σ on-rack / Σ available),
 * its month is the mean of the pooled days; and the mean of the sites' values.
 */
export const rackOccupancy = defineKpi({
  name: 'rack_occupancy_ratio',
  order: 60,
  spec: {
    windows: ['1d', '1mo'],
    site_basis: ['on_rack_count', 'mean_of_days'],
    cluster_basis: ['pooled', 'mean_of_sites'],
    inputs: ['racks_available', 'racks_on', 'racks_metered', 'racks_reserved', 'racks_planned', 'standard_racks_available', 'standard_racks_on', 'days', 'days_with_value', ...MEAN_OF_SITES],
  },
  display: { label: { 'zh-CN': '上架率', en: 'Rack occupancy 上架率' }, format: FORMATS.ratio },
  target: { key: 'rack_occupancy', direction: 'at_least' },
  views: {
    report: {
      column: 10,
      figures: [{ field: 'rack_occupancy', window: '1mo', csv: 'rack_occupancy_ratio', label: ['report.col_occupancy'], month: true, html: {}, chart: { title: 'report.chart_occupancy', from: 0, to: 1 } }],
      text: ['rack_occupancy'],
      rank: { by: 'occupancy', at: 2 },
    },
    live: { tiles: [{ at: 40, windows: ['1d', 'instant', '1mo'] }] },
  },
  site: ({ src, edge }) => siteOccupancy(src, edge),
  closed: occupancyOf,
  revised: ['1d'],
  cluster: (ctx) => {
    const c = ctx.cluster;
    const occ = ctx.hosted.map((src) => {
      const { day, month } = occupancyWindows(src.calendar, ctx.edge);
      const cal = src.calendar;
      const days: OccupancyDay[] = [];
      for (let d = cal.dayNumber(month.start); d <= cal.dayNumber(day.start); d++) days.push(src.occupancyDay(d));
      return { src, month, days };
    });
    const o0 = occ[0]!;
    const nDays = Math.min(...occ.map((o) => o.days.length));
    const pooledDays = Array.from({ length: nDays }, (_, i) => pooledOccupancyDay(occ.map((o) => o.days[o.days.length - nDays + i]!))!);
    const pooledValues = pooledDays.map((d) => ({ value: { ...occupancyDayValue(d, c.targets.rack_occupancy), basis: 'pooled' }, day_ms: d.start }));
    const out: KpiValue[] = [ctx.noSites(pooledValues.at(-1)!.value), ctx.noSites({ ...occupancyMonthValue(o0.month, pooledValues, o0.days.length, c.targets.rack_occupancy), basis: 'pooled' })];
    for (const [i, kind] of (['1d', '1mo'] as const).entries()) {
      const perSite = new Map(occ.map((o) => [o.src.site, siteOccupancy(o.src, ctx.edge)[i]!]));
      const mean = meanOfSites(c.sites, perSite, c.targets.rack_occupancy, 'at_least');
      if (mean) out.push({ ...mean, window: kind });
    }
    return out;
  },
});

export default rackOccupancy;
