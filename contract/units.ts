import { z } from 'zod';

/**
 * The closed set of units. A point's name ends in the suffix of its unit
 * (`active_power_w` is in W, `energy_kwh` in kWh); the catalogue test checks it.
 */
export const UNITS = {
  W: { suffix: 'w', quantity: 'active power' },
  kW: { suffix: 'kw', quantity: 'active power' },
  VA: { suffix: 'va', quantity: 'apparent power' },
  var: { suffix: 'var', quantity: 'reactive power' },
  Wh: { suffix: 'wh', quantity: 'energy' },
  kWh: { suffix: 'kwh', quantity: 'energy' },
  V: { suffix: 'v', quantity: 'voltage' },
  A: { suffix: 'a', quantity: 'current' },
  Hz: { suffix: 'hz', quantity: 'frequency' },
  degC: { suffix: 'c', quantity: 'temperature' },
  '%': { suffix: 'pct', quantity: 'percentage' },
  ratio: { suffix: 'ratio', quantity: 'dimensionless ratio' },
  s: { suffix: 's', quantity: 'duration' },
  min: { suffix: 'min', quantity: 'duration' },
  ms: { suffix: 'ms', quantity: 'duration' },
  rpm: { suffix: 'rpm', quantity: 'rotational speed' },
  kPa: { suffix: 'kpa', quantity: 'pressure' },
  'm3/h': { suffix: 'm3h', quantity: 'volume flow' },
  MiB: { suffix: 'mib', quantity: 'memory' },
  count: { suffix: 'count', quantity: 'count' },
} as const;

export type Unit = keyof typeof UNITS;
export const UnitSchema = z.enum(Object.keys(UNITS) as [Unit, ...Unit[]]);

/** The unit a point name implies by its suffix, or undefined for state/text points. */
export function unitForName(name: string): Unit | undefined {
  let best: Unit | undefined;
  for (const [unit, { suffix }] of Object.entries(UNITS) as [Unit, { suffix: string }][]) {
    if (name.endsWith(`_${suffix}`) && (!best || suffix.length > UNITS[best].suffix.length)) best = unit;
  }
  return best;
}
