import type { DeviceProfile } from '../../contract/profile.js';

/**
 * Where a device's cumulative energy counter wraps, for the ledger's rollover rule. A profile's
 * `counter_max` is the largest value the point can show (e.g. (2^32 − 1) × 0.1 kWh); the counter
 * wraps to 0 one raw step above it. Without `counter_max`, the raw type's range × scale is used:
 * an unsigned 32-bit register counts to 2^32 − 1, a signed one to 2^31 − 1 (a meter that lets it
 * run negative is refused reading by reading). Floats and Redfish numbers never wrap.
 */

export interface EnergyPointSpec {
  name: string;
  /** Wrap value in kWh; undefined when the counter does not wrap. */
  modulus_kwh: number | undefined;
}

const RAW_RANGE: Record<string, number> = {
  counter32: 2 ** 32,
  counter64: 2 ** 64,
  gauge: 2 ** 32,
  integer: 2 ** 31,
  uint16: 2 ** 16,
  int16: 2 ** 15,
  uint32: 2 ** 32,
  int32: 2 ** 31,
  uint64: 2 ** 64,
  int64: 2 ** 63,
};

interface PointLike {
  name: string;
  kpi?: string | undefined;
  type?: string | undefined;
  scale: number;
  counter_max?: number | undefined;
  unit?: string | undefined;
  /** Values scaled by a runtime exponent have no static raw step. */
  scale_factor?: unknown;
  exponent_from?: unknown;
}

/** kWh per unit of the point's value (Wh counters exist: Raritan, SunSpec before scaling). */
function kwhPerUnit(unit: string | undefined): number {
  return unit === 'Wh' ? 0.001 : 1;
}

export function wrapModulusKwh(p: PointLike): number | undefined {
  const perUnit = kwhPerUnit(p.unit);
  const step = Math.abs(p.scale);
  const staticStep = p.scale_factor === undefined && p.exponent_from === undefined;
  if (p.counter_max !== undefined) return (p.counter_max + (staticStep ? step : 0)) * perUnit;
  const range = p.type !== undefined ? RAW_RANGE[p.type] : undefined;
  if (range === undefined || !staticStep || step === 0) return undefined;
  return range * step * perUnit;
}

/** The profile's scalar point marked `kpi: energy_kwh`, with its wrap value. */
export function energyPointOf(profile: DeviceProfile | undefined): EnergyPointSpec | undefined {
  if (!profile) return undefined;
  const scalars: PointLike[] =
    profile.protocol === 'redfish' ? profile.resources.flatMap((r) => r.points) : (profile.points as PointLike[]);
  const p = scalars.find((x) => x.kpi === 'energy_kwh');
  if (!p) return undefined;
  // Redfish numbers are JSON doubles: no wrap.
  return { name: p.name, modulus_kwh: profile.protocol === 'redfish' ? undefined : wrapModulusKwh(p) };
}
