import { computeKpi } from './compute.js';

/** AI compute's share of all installed compute. */
export const computeAiShare = computeKpi('compute_ai_share_ratio');
