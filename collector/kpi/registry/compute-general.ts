import { computeKpi } from './compute.js';

/** Installed general-purpose compute, PFLOPS FP32, from the CPUs seen and the compute catalogue. */
export const computeGeneral = computeKpi('compute_general_pflops');
