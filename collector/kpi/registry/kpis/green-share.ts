import type { KpiValue } from '../../../../contract/messages.js';
import { meanOfSites } from '../../cluster-rollup.js';
import { combineTotals } from '../../energy-totals.js';
import { greenShareFromTotals, sumDeclared } from '../../green-share.js';
import { totalsOf, type SiteSource } from '../../site-source.js';
import { windowAt, type WindowBounds } from '../../windows.js';
import { defineKpi, FORMATS } from '../kpi-module.js';
import { GREEN_INPUTS, MEAN_OF_SITES } from '../spec-inputs.js';

/** The day counts physical green supply only (certificates and trades are declared per month). */
export function greenShareOf(src: SiteSource, w: WindowBounds): KpiValue {
  const totals = totalsOf(src, w);
  if (w.window === '1d') return greenShareFromTotals({ window: w, totals, declared: { certificate_kwh: 0, trade_kwh: 0 }, target: src.targets.green_share, basis: 'energy_physical' });
  return greenShareFromTotals({ window: w, totals, declared: sumDeclared(src.declared(w.period!)), target: src.targets.green_share });
}

const DECLARED_WINDOWS = ['1mo', 'ytd', '1y'] as const;

/** Green electricity share of the facility's energy; a cluster pools energy and declarations (each declared item once) and takes the mean of its sites. */
export const greenShare = defineKpi({
  name: 'green_share_ratio',
  order: 40,
  spec: {
    windows: ['1d', '1mo', 'ytd', '1y'],
    // The day counts physical green supply only; month and year add certificates and trades.
    site_basis: ['energy_physical', 'energy_and_certificates'],
    cluster_basis: ['energy_weighted', 'mean_of_sites'],
    inputs: [...GREEN_INPUTS, ...MEAN_OF_SITES],
  },
  display: { label: { 'zh-CN': '绿电占比', en: 'Green share 绿电占比' }, format: FORMATS.ratio },
  target: { key: 'green_share', direction: 'at_least' },
  views: {
    report: {
      column: 80,
      figures: [
        // The month's column also names the certificates and trades declared for it.
        { field: 'green_share', window: '1mo', csv: 'green_share_ratio', label: ['report.col_green'], month: true, html: { cell: 'green_declared' }, chart: { title: 'report.chart_green', from: 0, to: 1 } },
        { field: 'green_share_ytd', window: 'ytd', csv: 'green_share_ytd_ratio', label: ['report.col_green_ytd'], html: {} },
        { field: 'green_share_1y', window: '1y', csv: 'green_share_1y_ratio', label: ['report.col_green_1y'], html: {} },
      ],
      text: ['green_share', 'green_share_ytd', 'green_share_1y'],
      rank: { by: 'green_share', at: 3 },
    },
    live: { tiles: [{ at: 50, windows: ['1mo', '1d', 'ytd'], beside: { kpi: 'green_share_live_ratio', windows: ['instant'] } }] },
  },
  site: ({ src, edge }) => (['1d', ...DECLARED_WINDOWS] as const).map((kind) => greenShareOf(src, windowAt(src.calendar, kind, edge))),
  closed: (src, w) => (w.window === '1d' || w.window === '1mo' ? greenShareOf(src, w) : undefined),
  cluster: (ctx) => {
    const c = ctx.cluster;
    const out: KpiValue[] = [];
    for (const kind of DECLARED_WINDOWS) {
      const seen = new Set<string>();
      const declared = ctx.hosted.map((src) => sumDeclared(src.declared(ctx.windowFor(src, kind).period!), seen));
      const sum = { certificate_kwh: declared.reduce((s, d) => s + d.certificate_kwh, 0), trade_kwh: declared.reduce((s, d) => s + d.trade_kwh, 0) };
      const totals = combineTotals(ctx.hosted.map((src) => totalsOf(src, ctx.windowFor(src, kind))));
      out.push(ctx.noSites(greenShareFromTotals({ window: ctx.windowFor(ctx.hosted[0], kind), totals, declared: sum, target: c.targets.green_share, basis: 'energy_weighted' })));
      const mean = meanOfSites(c.sites, ctx.siteValues((src) => greenShareOf(src, ctx.windowFor(src, kind))), c.targets.green_share, 'at_least');
      if (mean) out.push(mean);
    }
    return out;
  },
});

export default greenShare;
