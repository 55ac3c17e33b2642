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

/** Suffix → unit, longest first: the first suffix that matches is the longest that does. */
const BY_SUFFIX: readonly (readonly [string, Unit])[] = (Object.entries(UNITS) as [Unit, { suffix: string }][])
  .map(([unit, { suffix }]) => [`_${suffix}`, unit] as const)
  .sort((a, b) => b[0].length - a[0].length);
/** Point names repeat in every poll; the answer is remembered for a bounded number of names. */
const implied = new Map<string, Unit | null>();
const IMPLIED_CACHE_MAX = 10_000;

/** The unit a point name implies by its suffix, or undefined for state/text points. */
export function unitForName(name: string): Unit | undefined {
  const known = implied.get(name);
  if (known !== undefined) return known ?? undefined;
  let best: Unit | null = null;
  for (const [suffix, unit] of BY_SUFFIX) {
    if (name.endsWith(suffix)) {
      best = unit;
      break;
    }
  }
  if (implied.size >= IMPLIED_CACHE_MAX) implied.clear();
  implied.set(name, best);
  return best ?? undefined;
}
