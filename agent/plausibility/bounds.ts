import type { Unit } from '../../contract/index.js';

/**
 * Physical bounds per unit: a value outside them cannot be a measurement of a data-center
 * device, whatever the device. Wide on purpose: they catch misread registers (a value read one
 * register off, a sentinel nobody declared, a wrong scale), not unusual but real operation. A
 * profile narrows them per point (`min`/`max`) and may widen them where a document says so
 * (`range_why`). The reasons are in docs/plausibility.md.
 */
export interface Bounds {
  min: number;
  max: number;
}

export const UNIT_BOUNDS: Readonly<Record<Unit, Bounds | undefined>> = {
  // Signed: bidirectional meters and PV export show negative active and reactive power.
  // ±100 MW is beyond any single metering point of a campus; a uint32 sentinel scaled by 0.1 is not.
  W: { min: -1e8, max: 1e8 },
  kW: { min: -1e5, max: 1e5 },
  // Apparent power is a magnitude: never negative.
  VA: { min: 0, max: 1e8 },
  var: { min: -1e8, max: 1e8 },
  // Cumulative energy: a counter starts at zero. 10^12 kWh is ~40 years of a 3 GW site.
  Wh: { min: 0, max: 1e15 },
  kWh: { min: 0, max: 1e12 },
  // Low voltage is up to 1 kV AC by definition (IEC 60038); medium-voltage meters widen it.
  V: { min: 0, max: 1000 },
  // Signed: battery and DC currents change sign with the direction (charge / discharge).
  // 10 kA is above the largest LV incomer breaker (6.3 kA).
  A: { min: -10_000, max: 10_000 },
  // 50 and 60 Hz grids and generators, including a generator starting or overloaded.
  Hz: { min: 40, max: 70 },
  // Outdoor air in winter down to -40 °C; hot-water loops and battery faults up to +150 °C.
  degC: { min: -40, max: 150 },
  // Humidity, charge, utilisation, load: a share. A UPS's load over its rating is widened per point.
  '%': { min: 0, max: 100 },
  // Power factor and other ratios of like quantities: cos φ lies in [-1, 1].
  ratio: { min: -1, max: 1 },
  // Durations, speeds, flows and sizes are non-negative; the upper bounds only stop absurd values.
  s: { min: 0, max: 3.2e9 },
  min: { min: 0, max: 5.3e7 },
  ms: { min: 0, max: 3.2e12 },
  rpm: { min: 0, max: 100_000 },
  // Gauge pressure: down to a full vacuum, up to 10 MPa (refrigerant high side is ~3 MPa).
  kPa: { min: -101.4, max: 10_000 },
  'm3/h': { min: 0, max: 100_000 },
  MiB: { min: 0, max: 1e9 },
  count: { min: 0, max: Number.MAX_SAFE_INTEGER },
};

/** The bounds a point is judged by: its profile's own where given, else its unit's. */
export function pointBounds(unit: Unit | undefined, min: number | undefined, max: number | undefined): Bounds | undefined {
  const u = unit !== undefined ? UNIT_BOUNDS[unit] : undefined;
  const lo = min ?? u?.min;
  const hi = max ?? u?.max;
  if (lo === undefined && hi === undefined) return undefined;
  return { min: lo ?? -Infinity, max: hi ?? Infinity };
}

/** True when a profile's range goes beyond its unit's default (then it must say why). */
export function widensDefault(unit: Unit | undefined, min: number | undefined, max: number | undefined): boolean {
  const u = unit !== undefined ? UNIT_BOUNDS[unit] : undefined;
  if (!u) return false;
  return (min !== undefined && min < u.min) || (max !== undefined && max > u.max);
}

/** Factor to the base unit of a quantity, for cross-checks that mix W and kW. */
export const TO_BASE: Partial<Record<Unit, number>> = { W: 1, kW: 1000, VA: 1, var: 1, Wh: 1, kWh: 1000, V: 1, A: 1 };
