import type { KpiQuality, KpiValue } from '../../contract/messages.js';
import { int, type FieldValue, type MetricPoint } from './metric-point.js';

/**
 * A KPI value → one `kpi` point stamped at its window end. The tags are the KPI's identity only
 * — site (or cluster), kpi, window, basis, category — so the same window computed again, by a
 * second collector or by `dcim kpi recompute` after late data, lands on the same point and
 * replaces it. What a recompute may change is a field: value, quality, quality_rank, status,
 * coverage, target, ok, reason, reason_code, window_start_ms, inputs_version and the inputs
 * (energy as `<side>_measured_kwh` and `<side>_substituted_kwh`, never one extrapolated total).
 * (With quality as a tag, a window re-evaluated from `partial` to `measured` would leave both points.)
 * Category stays a tag: PUE₁, PUE₂ and PUE₃ are different figures (ISO/IEC 30134-2).
 * Deterministic: the same value gives the same line, byte for byte (tags and fields are sorted by
 * the encoder, numbers printed by String()).
 */
export const KPI_MEASUREMENT = 'kpi';

/** Field names a KPI point uses itself; an input of the same name is left out. */
export const KPI_FIXED_FIELDS: ReadonlySet<string> = new Set(['value', 'quality', 'quality_rank', 'status', 'coverage', 'target', 'ok', 'reason', 'reason_code', 'window_start_ms', 'inputs_version']);

/**
 * Quality as a number too (3 measured … 0 insufficient): stores that drop string fields
 * (VictoriaMetrics) keep it as `kpi_quality_rank`, and `WHERE quality_rank >= 2` reads "partial
 * or better".
 */
export const QUALITY_RANK: Readonly<Record<KpiQuality, number>> = { measured: 3, partial: 2, estimated: 1, insufficient: 0 };

export function kpiPoint(scope: string, k: KpiValue): MetricPoint {
  const fields: Record<string, FieldValue | undefined> = {
    value: k.value,
    quality: k.quality,
    quality_rank: int(QUALITY_RANK[k.quality]),
    status: k.status,
    coverage: k.coverage,
    target: k.target,
    ok: k.ok,
    reason: k.reason,
    reason_code: k.reason_code,
    window_start_ms: int(k.window_start),
    inputs_version: k.inputs_version !== undefined ? int(k.inputs_version) : undefined,
  };
  for (const [name, v] of Object.entries(k.inputs ?? {})) if (!KPI_FIXED_FIELDS.has(name)) fields[name] = v;
  return {
    measurement: KPI_MEASUREMENT,
    tags: {
      site: scope,
      kpi: k.kpi,
      window: k.window,
      basis: k.basis,
      category: k.category !== undefined ? String(k.category) : undefined,
    },
    fields,
    ts_ms: k.window_end,
  };
}
