import { computeKpi } from '../compute.js';
import { FORMATS } from '../kpi-module.js';
import { CPUS } from '../spec-inputs.js';

/** Installed general-purpose compute, PFLOPS FP32, from the CPUs seen and the compute catalogue. */
export default computeKpi('compute_general_pflops', 100, { windows: ['instant'], site_basis: ['fp32'], cluster_basis: ['sum:fp32'], inputs: CPUS }, { label: { 'zh-CN': '通用算力', en: 'General compute' }, format: FORMATS.pflops }, { report: { column: 40, figures: [{ field: 'compute_general_pflops', window: 'instant' }] } });
