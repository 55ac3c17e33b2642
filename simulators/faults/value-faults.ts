import type { DeviceQuantities, QuantityValue } from '../model/quantities.js';
import type { FaultSpec } from './fault-spec.js';

/**
 * Faults that change what a device serves, applied to its quantities before encoding: pure.
 * The model and the truth keep the true values; only the wire lies. A counter is a numeric
 * quantity whose name ends in `_kwh` (docs/design.md §3: names carry their unit).
 */

export interface ValueFault {
  spec: FaultSpec;
  /** The device's true quantities when the fault began (counter faults and stuck need them). */
  baseline: DeviceQuantities | undefined;
}

export interface ValueFaultContext {
  /** The counter's wrap-around value in kWh, for counter_rollover; undefined when it has none. */
  counterModulus(name: string): number | undefined;
  /** A per-tick uniform draw in [0, 1), for garbage. */
  rand(): number;
}

export function isCounterName(name: string): boolean {
  return name.endsWith('_kwh');
}

const VALUE_KINDS = new Set<FaultSpec['kind']>(['stuck', 'counter_reset', 'counter_rollover', 'meter_swap', 'garbage']);

export function hasValueFaults(faults: readonly ValueFault[]): boolean {
  return faults.some((f) => VALUE_KINDS.has(f.spec.kind));
}

export function applyValueFaults(q: DeviceQuantities, faults: readonly ValueFault[], ctx: ValueFaultContext): DeviceQuantities {
  let out = q;
  const stuck = faults.find((f) => f.spec.kind === 'stuck');
  if (stuck?.baseline) out = stuck.baseline;
  for (const f of faults) {
    const base = f.baseline;
    if (!base) continue;
    switch (f.spec.kind) {
      case 'counter_reset':
        out = mapCounters(out, base, (v, b) => Math.max(0, v - b));
        break;
      case 'meter_swap': {
        const start = f.spec.start_kwh;
        out = mapCounters(out, base, (v, b) => start + Math.max(0, v - b));
        break;
      }
      case 'counter_rollover': {
        const headroom = f.spec.headroom_kwh;
        out = mapCounters(out, base, (v, b, name) => {
          const m = ctx.counterModulus(name);
          if (m === undefined || !(m > headroom)) return v;
          return (m - headroom + Math.max(0, v - b)) % m;
        });
        break;
      }
      default:
        break;
    }
  }
  const garbage = faults.find((f) => f.spec.kind === 'garbage');
  if (garbage && garbage.spec.kind === 'garbage' && ctx.rand() < garbage.spec.probability) out = garble(out, ctx.rand);
  return out;
}

type CounterFn = (value: number, baseline: number, name: string) => number;

function mapCounters(q: DeviceQuantities, base: DeviceQuantities, fn: CounterFn): DeviceQuantities {
  const values: Record<string, QuantityValue> = { ...q.values };
  for (const [name, v] of Object.entries(q.values)) {
    const b = base.values[name];
    if (isCounterName(name) && typeof v === 'number' && typeof b === 'number') values[name] = fn(v, b, name);
  }
  const rows: DeviceQuantities['rows'] = {};
  for (const [tag, table] of Object.entries(q.rows) as [keyof DeviceQuantities['rows'], NonNullable<DeviceQuantities['rows'][keyof DeviceQuantities['rows']]>][]) {
    const baseTable = base.rows[tag];
    const next = new Map<number, Record<string, QuantityValue>>();
    for (const [index, row] of table) {
      const baseRow = baseTable?.get(index);
      const r: Record<string, QuantityValue> = { ...row };
      for (const [name, v] of Object.entries(row)) {
        const b = baseRow?.[name];
        if (isCounterName(name) && typeof v === 'number' && typeof b === 'number') r[name] = fn(v, b, name);
      }
      next.set(index, r);
    }
    rows[tag] = next;
  }
  return { values, rows };
}

/** Nonsense a broken transducer or a bad register map produces. */
const GARBAGE_FACTORS = [-1, 0, 1000, 0.001, -37.5, 65.535];

function garble(q: DeviceQuantities, rand: () => number): DeviceQuantities {
  const bad = (v: QuantityValue): QuantityValue => (typeof v === 'number' ? v * GARBAGE_FACTORS[Math.floor(rand() * GARBAGE_FACTORS.length)]! : v);
  const values: Record<string, QuantityValue> = {};
  for (const [name, v] of Object.entries(q.values)) values[name] = bad(v);
  const rows: DeviceQuantities['rows'] = {};
  for (const [tag, table] of Object.entries(q.rows) as [keyof DeviceQuantities['rows'], NonNullable<DeviceQuantities['rows'][keyof DeviceQuantities['rows']]>][]) {
    const next = new Map<number, Record<string, QuantityValue>>();
    for (const [index, row] of table) {
      const r: Record<string, QuantityValue> = {};
      for (const [name, v] of Object.entries(row)) r[name] = bad(v);
      next.set(index, r);
    }
    rows[tag] = next;
  }
  return { values, rows };
}
