import type { KpiWindow } from './messages.js';

/**
 * What agent, collector, bureau, store and dashboards agree on about a KPI (docs/design.md §5):
 * the shape of a KPI's catalogue entry and a figure's identity. The entries themselves live with
 * the collector, one per KPI module (collector/kpi/registry/kpis/), so adding a KPI edits no
 * shared file; docs/kpi-registry.md lists them.
 */

export interface KpiSpec {
  readonly windows: readonly KpiWindow[];
  /** `basis` tag values of a site's figure. */
  readonly site_basis: readonly string[];
  /** `basis` tag values of a cluster roll-up (its points carry the cluster id in `site`). */
  readonly cluster_basis: readonly string[];
  /** Fields beyond the fixed ones (KpiValue.inputs), for display and diagnosis. */
  readonly inputs: readonly string[];
}

/** Every KPI's entry by name, in the order its figures are published. */
export type KpiCatalogue = ReadonlyMap<string, KpiSpec>;

/**
 * A KPI figure's identity: the same name, window and basis (and, for PUE, the IT measurement
 * category) is the same series. Every place that dedups, orders or matches figures uses this key.
 */
export function kpiKey(v: { readonly kpi: string; readonly window: string; readonly basis: string; readonly category?: number | undefined }): string {
  return `${v.kpi}|${v.window}|${v.basis}|${v.category ?? ''}`;
}
