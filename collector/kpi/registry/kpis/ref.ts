import { greenShareFromTotals, REF_KPI, sumDeclared } from '../../green-share.js';
import { totalsOf } from '../../site-source.js';
import { windowAt } from '../../windows.js';
import { defineKpi, FORMATS } from '../kpi-module.js';
import { GREEN_INPUTS } from '../spec-inputs.js';

/** ISO/IEC 30134-3 renewable energy factor: the last calendar year's green share under its standard's name. */
export const ref = defineKpi({
  name: 'ref_ratio',
  order: 50,
  spec: { windows: ['1y'], site_basis: ['iso_iec_30134_3'], cluster_basis: [], inputs: GREEN_INPUTS },
  display: { label: { 'zh-CN': '可再生能源因子（REF）', en: 'Renewable energy factor (REF)' }, format: FORMATS.ratio },
  site: ({ src, edge }) => {
    const w = windowAt(src.calendar, '1y', edge);
    return [greenShareFromTotals({ window: w, totals: totalsOf(src, w), declared: sumDeclared(src.declared(w.period!)), target: src.targets.green_share, kpi: REF_KPI, basis: 'iso_iec_30134_3' })];
  },
});

export default ref;
