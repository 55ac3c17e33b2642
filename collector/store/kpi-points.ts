import type { KpiValue } from '../../contract/messages.js';
import type { FieldValue, MetricPoint } from './metric-point.js';

/**
 * A KPI value → one `kpi` point stamped at its window end, so two collectors computing the same
 * window write the same point (DESIGN.md §7). Tags: site, kpi, window, basis, quality, category;
 * fields: value (when ok), coverage, target, status, ok, reason, and the display inputs.
 */
export const KPI_MEASUREMENT = 'kpi';

export function kpiPoint(site: string, k: KpiValue): MetricPoint {
  const fields: Record<string, FieldValue | undefined> = {
    value: k.value,
    coverage: k.coverage,
    target: k.target,
    status: k.status,
    ok: k.ok,
    reason: k.reason,
  };
  for (const [name, v] of Object.entries(k.inputs ?? {})) if (!(name in fields)) fields[name] = v;
  return {
    measurement: KPI_MEASUREMENT,
    tags: {
      site,
      kpi: k.kpi,
      window: k.window,
      basis: k.basis,
      quality: k.quality,
      category: k.category !== undefined ? String(k.category) : undefined,
    },
    fields,
    ts_ms: k.window_end,
  };
}
