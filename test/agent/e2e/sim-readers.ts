import type { DeviceProfile, Reading } from '../../../contract/index.js';
import type { DeviceQuantities, QuantityValue } from '../../../simulators/model/quantities.js';

/**
 * Checking a poll against what the simulator served, point by point, within the profile's
 * resolution: a value the device rounds to `precision` decimals (exponent points, SunSpec
 * scale factors) may be off by one step of 10^-precision; an integer register scaled by `scale`
 * by one step of |scale|; a float by its float32 precision. Text, enums and booleans match
 * exactly.
 */
export interface PointSpec {
  scale: number;
  precision?: number | undefined;
  type: string;
  float?: boolean;
  stepped?: boolean;
}

export function pointSpec(profile: DeviceProfile, name: string): PointSpec | undefined {
  switch (profile.protocol) {
    case 'snmp': {
      const p = [...profile.points, ...profile.tables.flatMap((t) => t.columns)].find((x) => x.name === name);
      return p && { scale: p.scale, precision: p.precision, type: p.type, stepped: (p.exponent_from?.length ?? 0) > 0 };
    }
    case 'modbus': {
      const p = profile.points.find((x) => x.name === name);
      return p && { scale: p.scale, precision: p.precision, type: p.type, float: p.type === 'float32' || p.type === 'float64', stepped: p.scale_factor !== undefined };
    }
    case 'redfish': {
      const p = [...profile.resources.flatMap((r) => r.points), ...profile.collections.flatMap((c) => c.points)].find((x) => x.name === name);
      return p && { scale: p.scale, precision: p.precision, type: p.type, float: true };
    }
  }
}

/** The largest difference a correct reading may show from the served quantity. */
export function resolution(spec: PointSpec, expected: number): number {
  if (spec.float) return Math.max(1e-9, Math.abs(expected) * 1e-6);
  if (spec.stepped) return 10 ** -(spec.precision ?? 0) + 1e-9;
  return Math.abs(spec.scale) + 1e-9;
}

/**
 * The quantity the simulator served for this reading (table rows by their index tag; a Redfish
 * member's Id is the tag in capitals and the row number, `GPU3`).
 */
export function servedValue(q: DeviceQuantities, r: Reading): QuantityValue | undefined {
  if (!r.index) return q.values[r.point];
  const [tag, index] = Object.entries(r.index)[0] as [keyof DeviceQuantities['rows'], string];
  return q.rows[tag]?.get(rowNumber(index))?.[r.point];
}

export function rowNumber(index: string): number {
  return Number(index.replace(/^[A-Z]+/, ''));
}

export type Mismatch = { point: string; index?: Reading['index']; got: Reading['value']; want: QuantityValue | undefined; tol?: number; error?: string };

/** Every reading that disagrees with what was served. */
export function mismatches(profile: DeviceProfile, q: DeviceQuantities, readings: readonly Reading[]): Mismatch[] {
  const out: Mismatch[] = [];
  for (const r of readings) {
    const want = servedValue(q, r);
    const base = { point: r.point, ...(r.index ? { index: r.index } : {}), got: r.value, want };
    if (r.quality !== 'good') {
      // A point the model has no quantity for is served as noSuchInstance (SNMP): bad, and rightly so.
      if (want === undefined && r.error === 'DCIM_E_SNMP_NO_SUCH_OBJECT') continue;
      out.push({ ...base, ...(r.error ? { error: r.error } : {}) });
      continue;
    }
    if (want === undefined) {
      out.push(base);
      continue;
    }
    if (typeof want === 'string' || typeof r.value === 'string') {
      if (String(r.value) !== String(want)) out.push(base);
      continue;
    }
    const got = typeof r.value === 'boolean' ? Number(r.value) : r.value;
    const spec = pointSpec(profile, r.point);
    const tol = spec ? resolution(spec, want) : 0;
    if (typeof got !== 'number' || Math.abs(got - want) > tol) out.push({ ...base, tol });
  }
  return out;
}
