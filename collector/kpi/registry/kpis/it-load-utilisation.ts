import type { KpiValue } from '../../../../contract/messages.js';
import { utilisationValue } from '../../occupancy.js';
import { occupancyWindows, totalsOf, type SiteSource } from '../../site-source.js';
import type { WindowBounds } from '../../windows.js';
import { defineKpi, FORMATS } from '../kpi-module.js';
import { sideInputNames } from '../spec-inputs.js';

function utilisationOf(src: SiteSource, w: WindowBounds): KpiValue {
  const t = totalsOf(src, w);
  return utilisationValue(w, t.missing.includes('it') ? undefined : t.it, t.anomalies, src.rated_kw_available);
}

/** IT energy over the rated power of the available racks, per day and month (no cluster roll-up). */
export const itLoadUtilisation = defineKpi({
  name: 'it_load_utilisation_ratio',
  order: 70,
  spec: { windows: ['1d', '1mo'], site_basis: ['energy'], cluster_basis: [], inputs: [...sideInputNames('it'), 'substituted_ratio', 'rated_kw_available', 'hours'] },
  display: { label: { 'zh-CN': 'IT 负载率', en: 'IT load utilisation' }, format: FORMATS.ratio },
  views: { report: { column: 20, figures: [{ field: 'it_load_utilisation', window: '1mo', csv: 'it_load_utilisation_ratio', month: true }] } },
  site: ({ src, edge }) => {
    const { day, month } = occupancyWindows(src.calendar, edge);
    return [utilisationOf(src, day), utilisationOf(src, month)];
  },
  closed: (src, w) => (w.window === '1d' || w.window === '1mo' ? utilisationOf(src, w) : undefined),
  revised: ['1d'],
});

export default itLoadUtilisation;
