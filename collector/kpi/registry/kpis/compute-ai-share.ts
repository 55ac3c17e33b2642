import { computeKpi } from '../compute.js';
import { FORMATS } from '../kpi-module.js';
import { ACCELERATORS, CPUS } from '../spec-inputs.js';

/** AI compute's share of all installed compute. */
export default computeKpi(
  'compute_ai_share_ratio',
  110,
  { windows: ['instant'], site_basis: ['fp16_dense+fp32'], cluster_basis: ['sum:fp16_dense+fp32'], inputs: [...ACCELERATORS, ...CPUS, 'ai_pflops', 'general_pflops'] },
  { label: { 'zh-CN': '智算占比', en: 'AI compute share 智算占比' }, format: FORMATS.ratio },
  {
    report: { column: 50, figures: [{ field: 'compute_ai_share', window: 'instant', csv: 'compute_ai_share_ratio', label: ['report.ai_share'] }], text: ['compute_ai_share'] },
    live: { tiles: [{ at: 70, windows: ['instant', '1d'] }] },
  },
);
