import type { KpiName } from '../../../contract/kpi-catalogue.js';
import { defineKpi, type KpiModule } from './kpi-module.js';

/**
 * The compute-scale figures come from one set of installed units (compute-scale.ts evaluates the
 * four together); each KPI module picks its own. A cluster sums what its sites tell.
 */
export function computeKpi<N extends KpiName>(name: N): KpiModule & { readonly name: N } {
  return defineKpi({
    name,
    site: (ctx) => ctx.computeValues().filter((v) => v.kpi === name),
    cluster: (ctx) => ctx.computeValues().filter((v) => v.kpi === name),
  });
}
