import type { DeviceProfile } from '../../contract/profile.js';

/**
 * What the ledger must know of a device's cumulative energy counter, from its profile:
 *
 * - Where it wraps, for the rollover rule. A profile's `counter_max` is the largest value the
 *   point can show (e.g. (2^32 − 1) × 0.1 kWh); the counter wraps to 0 one raw step above it.
 *   Without `counter_max`, the raw type's range × scale is used: an unsigned 32-bit register
 *   counts to 2^32 − 1, a signed one to 2^31 − 1 (a meter that lets it run negative is refused
 *   reading by reading). Floats and Redfish numbers never wrap.
 * - Its resolution: the energy of one register step. An integer register moves in steps of
 *   scale (APC tenths of kWh: 0.1 kWh); a float register in steps of its last mantissa bit,
 *   which grows with the value (float32 at 46,341 kWh: 2^-8 ≈ 0.004 kWh); a JSON number in steps
 *   of the decimals the device prints. A runtime exponent (Raritan DecimalDigits, SunSpec WH_SF)
 *   is taken at 10^0: Raritan and SunSpec energy registers count whole Wh.
 */

export interface CounterResolution {
  /** One register step, kWh (0 when only the relative part applies). */
  step_kwh: number;
  /** Floats: one step is at most |value| × this (the mantissa's last bit). */
  relative: number;
  /** JSON numbers: the step is 10^-d for the most decimals d the readings have shown. */
  decimal: boolean;
}

export interface EnergyPointSpec {
  name: string;
  /** Wrap value in kWh; undefined when the counter does not wrap. */
  modulus_kwh: number | undefined;
  resolution: CounterResolution;
}

/** float32 / float64: the last mantissa bit relative to the value. */
const FLOAT_RELATIVE: Record<string, number> = { float32: 2 ** -23, float64: 2 ** -52 };
/** A counter whose profile is unknown: judged by the decimals it reports. */
export const DECIMAL_RESOLUTION: CounterResolution = { step_kwh: 0, relative: 0, decimal: true };
/** Decimals beyond this are float noise, not a device's printed precision. */
const MAX_DECIMALS = 6;

/** One step of the counter at `value_kwh`, kWh; `decimals` is what a decimal counter has shown. */
export function resolutionKwh(r: CounterResolution, value_kwh: number, decimals = 0): number {
  const dec = r.decimal ? 10 ** -Math.min(MAX_DECIMALS, decimals) : 0;
  return Math.max(r.step_kwh, r.relative * Math.abs(value_kwh), dec);
}

/** Decimals of a reading as the device printed it (12.5 → 1, 3e-7 → capped). */
export function decimalsOf(v: number): number {
  if (!Number.isFinite(v) || Number.isInteger(v)) return 0;
  const s = String(v);
  const e = s.indexOf('e');
  const mantissa = e < 0 ? s : s.slice(0, e);
  const exp = e < 0 ? 0 : Number(s.slice(e + 1));
  const dot = mantissa.indexOf('.');
  const frac = dot < 0 ? 0 : mantissa.length - dot - 1;
  return Math.min(MAX_DECIMALS, Math.max(0, frac - exp));
}

export function resolutionOf(p: PointLike): CounterResolution {
  const perUnit = kwhPerUnit(p.unit);
  const rel = p.type !== undefined ? FLOAT_RELATIVE[p.type] : undefined;
  if (rel !== undefined) return { step_kwh: 0, relative: rel, decimal: false };
  if (p.type === undefined || RAW_RANGE[p.type] === undefined || p.scale === 0) return DECIMAL_RESOLUTION;
  return { step_kwh: Math.abs(p.scale) * perUnit, relative: 0, decimal: false };
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

/** The profile's scalar point marked `kpi: energy_kwh`, with its wrap value and resolution. */
export function energyPointOf(profile: DeviceProfile | undefined): EnergyPointSpec | undefined {
  if (!profile) return undefined;
  const scalars: PointLike[] =
    profile.protocol === 'redfish' ? profile.resources.flatMap((r) => r.points) : (profile.points as PointLike[]);
  const p = scalars.find((x) => x.kpi === 'energy_kwh');
  if (!p) return undefined;
  // Redfish numbers are JSON doubles: no wrap, and as fine as the decimals the BMC prints.
  if (profile.protocol === 'redfish') return { name: p.name, modulus_kwh: undefined, resolution: DECIMAL_RESOLUTION };
  return { name: p.name, modulus_kwh: wrapModulusKwh(p), resolution: resolutionOf(p) };
}
