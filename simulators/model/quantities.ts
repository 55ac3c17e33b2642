import type { IndexTag } from '../../contract/index.js';
import { LOAD_MODEL, type DevicePower, type DeviceStatic, type GridState } from './site-model.js';

/**
 * Physical quantities of one device, keyed by the point names profiles use (DESIGN.md §3:
 * snake_case with the unit as suffix). A profile point whose name is not here is simply not
 * served; adding a quantity here serves it for every profile that names it.
 */
export type QuantityValue = number | string;

export interface DeviceQuantities {
  values: Readonly<Record<string, QuantityValue>>;
  /** Table rows by index tag, then by 1-based index, then by column name. */
  rows: Partial<Record<IndexTag, ReadonlyMap<number, Readonly<Record<string, QuantityValue>>>>>;
}

/** APC's load states, applied to load vs rating (the PDU's own thresholds are on current). */
export function loadState(load_ratio: number): string {
  if (load_ratio < 0.05) return 'low_load';
  if (load_ratio < 0.8) return 'normal';
  if (load_ratio < 1) return 'near_overload';
  return 'overload';
}

/** IT power supplies run at a better power factor under load (80 PLUS curves). */
export function powerFactor(load_ratio: number): number {
  return 0.93 + 0.05 * Math.min(1, Math.max(0, load_ratio));
}

export function deviceQuantities(power: DevicePower, device: DeviceStatic, grid: GridState): DeviceQuantities {
  const p = power.power_w;
  const load_ratio = device.rated_w > 0 ? p / device.rated_w : 0;
  const pf = powerFactor(load_ratio);
  const apparent = p / pf;
  const values: Record<string, QuantityValue> = {
    active_power_w: p,
    energy_kwh: power.energy_kwh,
    import_energy_kwh: power.energy_kwh,
    export_energy_kwh: 0,
    apparent_power_va: apparent,
    reactive_power_var: Math.sqrt(Math.max(0, apparent * apparent - p * p)),
    power_factor_ratio: pf,
    frequency_hz: grid.frequency_hz,
    load_state: loadState(load_ratio),
  };
  const phases = new Map<number, Record<string, QuantityValue>>();
  for (let i = 0; i < 3; i++) {
    const l = i + 1;
    const v = LOAD_MODEL.nominal_voltage_v * grid.voltage_ratio * (1 + (device.phase_voltage_offsets[i] ?? 0));
    const pPhase = p * (device.phase_shares[i] ?? 1 / 3);
    const a = pPhase / (v * pf);
    values[`voltage_l${l}_v`] = v;
    values[`current_l${l}_a`] = a;
    values[`power_l${l}_w`] = pPhase;
    phases.set(l, {
      phase_voltage_v: v,
      phase_current_a: a,
      phase_power_w: pPhase,
      phase_apparent_power_va: pPhase / pf,
      phase_power_factor_ratio: pf,
    });
  }
  return { values, rows: { phase: phases } };
}
