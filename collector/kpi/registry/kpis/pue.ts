import type { KpiValue } from '../../../../contract/messages.js';
import { meanOfSites } from '../../cluster-rollup.js';
import { pueFromTotals } from '../../energy-pue.js';
import { combineTotals } from '../../energy-totals.js';
import { totalsOf, type SiteSource } from '../../site-source.js';
import { ENERGY_WINDOWS, windowAt, type WindowBounds } from '../../windows.js';
import { defineKpi, FORMATS } from '../kpi-module.js';
import { MEAN_OF_SITES, sideInputNames } from '../spec-inputs.js';

export function pueOf(src: SiteSource, w: WindowBounds): KpiValue {
  return pueFromTotals({ window: w, totals: totalsOf(src, w), category: src.category, target: src.targets.pue });
}

/** Energy PUE (ISO/IEC 30134-2) over every energy window; a cluster pools energy and takes the mean of its sites. */
export const pue = defineKpi({
  name: 'pue',
  order: 30,
  spec: {
    windows: ['15m', '1h', '1d', '1mo', 'ytd', '12mo', '1y'],
    site_basis: ['energy'],
    cluster_basis: ['energy_weighted', 'mean_of_sites'],
    inputs: [...sideInputNames('facility'), ...sideInputNames('it'), 'substituted_ratio', 'anomalies', ...MEAN_OF_SITES],
  },
  display: { label: { 'zh-CN': 'PUE', en: 'PUE' }, format: FORMATS.pue },
  target: { key: 'pue', direction: 'at_most' },
  views: {
    report: {
      column: 70,
      figures: [
        { field: 'pue_month', window: '1mo', label: ['report.col_pue_month'], month: true, category: true, html: {}, chart: { title: 'report.chart_pue_month', from: 1 } },
        { field: 'pue_12mo', window: '12mo', label: ['report.col_pue_12mo'], category: true, html: {}, chart: { title: 'report.chart_pue_12mo', from: 1 } },
        { field: 'pue_ytd', window: 'ytd', label: ['report.col_pue_ytd'], html: {} },
        { field: 'pue_1y', window: '1y', label: ['report.col_pue_1y'], html: {} },
      ],
      text: ['pue_month', 'pue_ytd', 'pue_12mo', 'pue_1y'],
      rank: { by: 'pue', at: 1 },
    },
    live: { tiles: (['15m', '1h', '1d'] as const).map((w, i) => ({ at: 10 * (i + 1), windows: [w], label: ['kpi.pue', `window.${w}`] })) },
  },
  site: ({ src, edge }) => ENERGY_WINDOWS.map((kind) => pueOf(src, windowAt(src.calendar, kind, edge))),
  closed: pueOf,
  revised: ['15m', '1h', '1d'],
  cluster: (ctx) => {
    const c = ctx.cluster;
    const out: KpiValue[] = [];
    for (const kind of ENERGY_WINDOWS) {
      const totals = combineTotals(ctx.hosted.map((src) => totalsOf(src, ctx.windowFor(src, kind))));
      out.push(ctx.noSites(pueFromTotals({ window: ctx.windowFor(ctx.hosted[0], kind), totals, category: ctx.category, target: c.targets.pue, basis: 'energy_weighted' })));
      const mean = meanOfSites(c.sites, ctx.siteValues((src) => pueOf(src, ctx.windowFor(src, kind))), c.targets.pue, 'at_most');
      if (mean) out.push(mean);
    }
    return out;
  },
});

export default pue;
