import { computeKpi } from '../compute.js';
import { FORMATS } from '../kpi-module.js';
import { ACCELERATORS } from '../spec-inputs.js';

/** Installed AI compute, PFLOPS FP16 dense, from the accelerators seen and the compute catalogue. */
export default computeKpi(
  'compute_ai_pflops',
  90,
  { windows: ['instant'], site_basis: ['fp16_dense'], cluster_basis: ['sum:fp16_dense'], inputs: ACCELERATORS },
  { label: { 'zh-CN': '智算算力', en: 'AI compute' }, format: FORMATS.pflops },
  {
    // The html report's compute column joins the general compute and the AI share beside it.
    report: { column: 30, figures: [{ field: 'compute_ai_pflops', window: 'instant', label: ['report.col_compute', 'report.ai'], html: { cell: 'compute' } }], text: ['compute_ai_pflops'], rank: { by: 'compute', at: 4 } },
    live: { tiles: [{ at: 60, windows: ['instant', '1d'], label: ['kpi.compute_scale', 'kpi.compute_ai_pflops'], beside: { kpi: 'compute_general_pflops', windows: ['instant', '1d'] } }] },
  },
);
