import type { KpiSpec } from '../../../contract/kpi-catalogue.js';
import { defineKpi, type KpiDisplay, type KpiModule, type KpiViews } from './kpi-module.js';

/**
 * The compute-scale figures come from one set of installed units (compute-scale.ts evaluates the
 * four together); each KPI module picks its own. A cluster sums what its sites tell.
 */
export function computeKpi(name: string, order: number, spec: KpiSpec, display: KpiDisplay, views: KpiViews): KpiModule {
  return defineKpi({
    name,
    order,
    spec,
    display,
    views,
    site: (ctx) => ctx.computeValues().filter((v) => v.kpi === name),
    cluster: (ctx) => ctx.computeValues().filter((v) => v.kpi === name),
  });
}
