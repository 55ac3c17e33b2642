import { computeKpi } from '../compute.js';
import { FORMATS } from '../kpi-module.js';

/** Mean utilisation of the accelerators reporting one. */
export default computeKpi('accelerator_utilisation_pct', 120, { windows: ['instant'], site_basis: ['mean_of_reporting'], cluster_basis: ['sum:mean_of_reporting'], inputs: ['accelerators', 'accelerators_reporting'] }, { label: { 'zh-CN': '加速卡利用率', en: 'Accelerator utilisation' }, format: FORMATS.pct }, { report: { column: 60, figures: [{ field: 'accelerator_utilisation_pct', window: 'instant', label: ['report.col_accel'], html: {} }], text: ['accelerator_utilisation_pct'] } });
