import { KpiQualitySchema, KpiWindowSchema, TargetStatusSchema } from '../../contract/messages.js';
import { storageSchema, type FieldSpec, type MeasurementSpec, type StorageSchema } from '../../contract/storage-schema.js';
import type { DeviceProfile } from '../../contract/profile.js';
import { KPI_REGISTRY, type KpiModule } from '../kpi/registry/index.js';

/**
 * The `kpi` measurement as the store holds it (kpi-points.ts writes it): the fixed fields every
 * figure may carry, plus each registered KPI's stored inputs, and the closed sets of its tags.
 * It follows from the KPI registry, so a KPI module dropped into the registry is declared here
 * with no edit, and the dashboards' query check and the pipeline test know its fields.
 */

/** Fields every `kpi` point may carry, whatever the KPI, with their types (kpi-points.ts KPI_FIXED_FIELDS names the same set). */
export const KPI_FIXED_FIELD_SPECS: Readonly<Record<string, FieldSpec>> = {
  value: { kind: 'float' },
  quality: { kind: 'string', values: KpiQualitySchema.options },
  /** The quality as a number (3 measured … 0 insufficient), for stores that drop string fields. */
  quality_rank: { kind: 'integer' },
  status: { kind: 'string', values: TargetStatusSchema.options },
  coverage: { kind: 'float' },
  target: { kind: 'float' },
  ok: { kind: 'boolean' },
  reason: { kind: 'string' },
  reason_code: { kind: 'string' },
  window_start_ms: { kind: 'integer' },
  /** KpiValue.inputs_version: how the energy inputs are named (2: measured and substituted apart). */
  inputs_version: { kind: 'integer' },
};

export function kpiMeasurement(registry: readonly KpiModule[] = KPI_REGISTRY): MeasurementSpec {
  const fields: Record<string, FieldSpec> = { ...KPI_FIXED_FIELD_SPECS };
  for (const m of registry) for (const name of m.spec.inputs) fields[name] ??= { kind: 'float' };
  return {
    tags: {
      site: {},
      kpi: { values: registry.map((m) => m.name) },
      window: { values: KpiWindowSchema.options },
      basis: { values: [...new Set(registry.flatMap((m) => [...m.spec.site_basis, ...m.spec.cluster_basis]))] },
      category: { values: ['1', '2', '3'] },
    },
    fields,
    time: 'the window end (instant figures: the evaluation time)',
  };
}

/** The whole store schema: the contract's measurements with `kpi` from the registry. */
export function storeSchema(profiles: Iterable<DeviceProfile>, registry: readonly KpiModule[] = KPI_REGISTRY): StorageSchema {
  return storageSchema(profiles, kpiMeasurement(registry));
}
