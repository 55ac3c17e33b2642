import type { KpiName } from '../../../contract/kpi-catalogue.js';
import { acceleratorUtilisation } from './accelerator-utilisation.js';
import { computeAiShare } from './compute-ai-share.js';
import { computeAi } from './compute-ai.js';
import { computeGeneral } from './compute-general.js';
import { coolingLoadFactorKpi } from './cooling-load-factor.js';
import { greenShareLive } from './green-share-live.js';
import { greenShare } from './green-share.js';
import { itLoadUtilisation } from './it-load-utilisation.js';
import type { KpiModule } from './kpi-module.js';
import { pueLive } from './pue-live.js';
import { pue } from './pue.js';
import { rackOccupancy } from './rack-occupancy.js';
import { ref } from './ref.js';

/**
 * Every KPI the collector evaluates, in the order its figures are published. Keyed by catalogue
 * name: the type requires one module for every KPI in the contract's catalogue and none beyond it.
 */
export const KPI_MODULES = {
  pue_live: pueLive,
  green_share_live_ratio: greenShareLive,
  pue,
  green_share_ratio: greenShare,
  ref_ratio: ref,
  rack_occupancy_ratio: rackOccupancy,
  it_load_utilisation_ratio: itLoadUtilisation,
  cooling_load_factor_ratio: coolingLoadFactorKpi,
  compute_ai_pflops: computeAi,
  compute_general_pflops: computeGeneral,
  compute_ai_share_ratio: computeAiShare,
  accelerator_utilisation_pct: acceleratorUtilisation,
} as const satisfies { readonly [K in KpiName]: KpiModule & { readonly name: K } };

export const KPI_REGISTRY: readonly KpiModule[] = Object.values(KPI_MODULES);

export type { ClusterContext, KpiModule, SiteContext } from './kpi-module.js';
