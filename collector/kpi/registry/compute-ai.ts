import { computeKpi } from './compute.js';

/** Installed AI compute, PFLOPS FP16 dense, from the accelerators seen and the compute catalogue. */
export const computeAi = computeKpi('compute_ai_pflops');
