import { computeKpi } from './compute.js';

/** Mean utilisation of the accelerators reporting one. */
export const acceleratorUtilisation = computeKpi('accelerator_utilisation_pct');
