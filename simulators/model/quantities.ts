import type { IndexTag } from '../../contract/index.js';

/**
 * Physical quantities of one device, keyed by the point names profiles use (docs/design.md §3:
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

/* One builder per device kind. Each takes plain numbers from the model (site.ts), so the physics
 * stays there and the point vocabulary stays here. */

type Rows = Map<number, Record<string, QuantityValue>>;

/** What every AC-metered device shares: a power on three phases of a grid. */
export interface AcInput {
  power_w: number;
  /** Rating, for power factor and load state; 0 when unknown. */
  rated_w: number;
  /** Phase-to-neutral voltage of the grid now. */
  voltage_v: number;
  frequency_hz: number;
  phase_shares: ArrayLike<number>;
  phase_voltage_offsets: ArrayLike<number>;
}

/** Device-level electrical values plus the `phase` table (rows 1–3), as meters and PDUs report them. */
export function acQuantities(a: AcInput): { values: Record<string, QuantityValue>; phases: Rows } {
  const p = Math.max(0, a.power_w);
  const load_ratio = a.rated_w > 0 ? p / a.rated_w : 0;
  const pf = powerFactor(load_ratio);
  const apparent = p / pf;
  const values: Record<string, QuantityValue> = {
    active_power_w: p,
    apparent_power_va: apparent,
    reactive_power_var: Math.sqrt(Math.max(0, apparent * apparent - p * p)),
    power_factor_ratio: pf,
    frequency_hz: a.frequency_hz,
    load_state: loadState(load_ratio),
  };
  const phases: Rows = new Map();
  let current = 0;
  for (let i = 0; i < 3; i++) {
    const l = i + 1;
    const v = a.voltage_v * (1 + (a.phase_voltage_offsets[i] ?? 0));
    const pPhase = p * (a.phase_shares[i] ?? 1 / 3);
    const amps = pPhase / (v * pf);
    current += amps;
    values[`voltage_l${l}_v`] = v;
    values[`current_l${l}_a`] = amps;
    values[`power_l${l}_w`] = pPhase;
    phases.set(l, { phase_voltage_v: v, phase_current_a: amps, phase_power_w: pPhase, phase_apparent_power_va: pPhase / pf, phase_power_factor_ratio: pf });
  }
  values.current_a = current;
  values.voltage_v = a.voltage_v;
  // Line-to-line voltages of a balanced three-phase supply (√3 × phase).
  values.voltage_l1_l2_v = Math.sqrt(3) * ((Number(values.voltage_l1_v) + Number(values.voltage_l2_v)) / 2);
  values.voltage_l2_l3_v = Math.sqrt(3) * ((Number(values.voltage_l2_v) + Number(values.voltage_l3_v)) / 2);
  values.voltage_l3_l1_v = Math.sqrt(3) * ((Number(values.voltage_l3_v) + Number(values.voltage_l1_v)) / 2);
  return { values, phases };
}

export interface MeterInput extends AcInput {
  /** The counter the device shows (true energy unless a fault layer changes it later). */
  energy_kwh: number;
  /** Energy fed back to the grid (export meters). */
  export_energy_kwh?: number;
}

export function meterQuantities(m: MeterInput): DeviceQuantities {
  const { values, phases } = acQuantities(m);
  values.energy_kwh = m.energy_kwh;
  values.import_energy_kwh = m.energy_kwh;
  values.export_energy_kwh = m.export_energy_kwh ?? 0;
  return { values, rows: { phase: phases } };
}

export interface PduInput extends MeterInput {
  /** Share of the inlet power on each outlet (sums a little under 1: the PDU's own draw). */
  outlet_shares: ArrayLike<number>;
}

/** Rack PDU: inlet (device), phases and outlets; Σ outlets ≈ inlet as real PDUs show (Raritan recordings agree within 0.4 %). */
export function pduQuantities(m: PduInput): DeviceQuantities {
  const q = meterQuantities(m);
  const values = q.values as Record<string, QuantityValue>;
  const pf = Number(values.power_factor_ratio);
  const outlets: Rows = new Map();
  for (let i = 0; i < m.outlet_shares.length; i++) {
    const share = m.outlet_shares[i] ?? 0;
    const w = m.power_w * share;
    const v = m.voltage_v * (1 + (m.phase_voltage_offsets[i % 3] ?? 0));
    outlets.set(i + 1, {
      outlet_power_w: w,
      outlet_current_a: w / (v * pf),
      outlet_energy_kwh: m.energy_kwh * share,
      outlet_voltage_v: v,
      outlet_power_factor_ratio: pf,
      outlet_state: w > 0 ? 'on' : 'off',
    });
  }
  return { values, rows: { ...q.rows, outlet: outlets } };
}

export interface UpsInput extends AcInput {
  /** `power_w` is the output (load) power; this is what the rectifier draws. */
  input_w: number;
  battery_temp_c: number;
}

/** Battery autonomy: ≈15 min at full load, longer at part load (Peukert-like), capped. */
export function upsRuntimeMin(load_ratio: number): number {
  return Math.min(600, 15 / Math.max(0.02, load_ratio) ** 1.2);
}

/**
 * RFC 1628 UPS: battery group, then the input and output tables. Both tables are indexed by
 * `line` 1–3, so each row carries the input and the output columns of its line.
 */
export function upsQuantities(u: UpsInput): DeviceQuantities {
  const load_ratio = u.rated_w > 0 ? u.power_w / u.rated_w : 0;
  const pf = powerFactor(load_ratio);
  const lines: Rows = new Map();
  for (let i = 0; i < 3; i++) {
    const v = u.voltage_v * (1 + (u.phase_voltage_offsets[i] ?? 0));
    const share = u.phase_shares[i] ?? 1 / 3;
    const outW = u.power_w * share;
    const inW = u.input_w * share;
    lines.set(i + 1, {
      input_frequency_hz: u.frequency_hz,
      input_voltage_v: v,
      // The rectifier draws at near-unity power factor; the load side at the IT power factor.
      input_current_a: inW / (v * 0.99),
      input_power_w: inW,
      output_voltage_v: u.voltage_v,
      output_current_a: outW / (u.voltage_v * pf),
      output_power_w: outW,
      output_load_pct: u.rated_w > 0 ? (100 * outW) / (u.rated_w / 3) : 0,
      // On the inverter the static bypass is live but carries nothing.
      bypass_voltage_v: v,
      bypass_current_a: 0,
      bypass_power_w: 0,
    });
  }
  return {
    values: {
      active_power_w: u.power_w,
      input_power_w: u.input_w,
      battery_status: 'battery_normal',
      seconds_on_battery_s: 0,
      battery_runtime_min: Math.round(upsRuntimeMin(load_ratio)),
      battery_charge_pct: 100,
      battery_temp_c: u.battery_temp_c,
      output_source: 'normal',
      output_frequency_hz: u.frequency_hz,
      input_frequency_hz: u.frequency_hz,
      alarms_present_count: 0,
      rated_output_power_w: u.rated_w,
      // A 0.9 power-factor rating, the usual one of double-conversion UPSes.
      rated_output_va: u.rated_w / 0.9,
      ups_manufacturer: 'dcim-pulse',
      ups_model: 'simulated UPS',
      // 40 blocks of 12 V on float charge (13.5 V each), a small float current.
      battery_voltage_v: 540,
      battery_current_a: 0.5,
      bypass_frequency_hz: u.frequency_hz,
      output_load_pct: 100 * load_ratio,
    },
    rows: { line: lines },
  };
}

export interface ChillerInput {
  power_w: number;
  energy_kwh: number;
  cooling_load_w: number;
  /** Compressor running (off in full free cooling and when failed). */
  running: boolean;
  failed: boolean;
  chw_supply_c: number;
  chw_return_c: number;
  cw_supply_c: number;
  cw_return_c: number;
}

export function chillerQuantities(c: ChillerInput): DeviceQuantities {
  return {
    values: {
      active_power_w: c.power_w,
      energy_kwh: c.energy_kwh,
      cooling_load_kw: c.cooling_load_w / 1000,
      chw_supply_temp_c: c.chw_supply_c,
      chw_return_temp_c: c.chw_return_c,
      cw_supply_temp_c: c.cw_supply_c,
      cw_return_temp_c: c.cw_return_c,
      running: c.running ? 1 : 0,
      compressor_alarm: c.failed ? 1 : 0,
      flow_alarm: c.failed ? 1 : 0,
      high_pressure_alarm: 0,
      common_alarm: c.failed ? 1 : 0,
    },
    rows: {},
  };
}

export interface CrahInput {
  power_w: number;
  energy_kwh: number;
  supply_air_c: number;
  return_air_c: number;
  humidity_pct: number;
  fan_speed_pct: number;
  failed: boolean;
}

export function crahQuantities(c: CrahInput): DeviceQuantities {
  return {
    values: {
      active_power_w: c.power_w,
      energy_kwh: c.energy_kwh,
      supply_air_temp_c: c.supply_air_c,
      return_air_temp_c: c.return_air_c,
      humidity_pct: c.humidity_pct,
      fan_speed_pct: c.fan_speed_pct,
      unit_on: c.failed ? 0 : 1,
      common_alarm: c.failed ? 1 : 0,
      filter_alarm: 0,
    },
    rows: {},
  };
}

export interface PvInput {
  ac_w: number;
  dc_w: number;
  energy_kwh: number;
  kwp: number;
  voltage_v: number;
  frequency_hz: number;
  heatsink_c: number;
  /** Sun above the horizon (the inverter wakes up and tracks even when clouds cut the power). */
  daylight: boolean;
}

/** SunSpec model 103 values (three-phase inverter); St follows the sun. */
export function pvQuantities(p: PvInput): DeviceQuantities {
  const amps = p.ac_w / (3 * p.voltage_v);
  const dcV = p.dc_w > 0 ? 600 + 80 * Math.min(1, p.dc_w / (p.kwp * 1000)) : 0;
  const ll = Math.sqrt(3) * p.voltage_v;
  return {
    values: {
      active_power_w: p.ac_w,
      energy_kwh: p.energy_kwh,
      dc_power_w: p.dc_w,
      dc_voltage_v: dcV,
      dc_current_a: dcV > 0 ? p.dc_w / dcV : 0,
      operating_state: p.ac_w > 0 ? 'mppt' : p.daylight ? 'starting' : 'sleeping',
      current_a: 3 * amps,
      current_l1_a: amps,
      current_l2_a: amps,
      current_l3_a: amps,
      voltage_l1_v: p.voltage_v,
      voltage_l2_v: p.voltage_v,
      voltage_l3_v: p.voltage_v,
      voltage_l1_l2_v: ll,
      voltage_l2_l3_v: ll,
      voltage_l3_l1_v: ll,
      frequency_hz: p.frequency_hz,
      apparent_power_va: p.ac_w,
      power_factor_ratio: 1,
      heatsink_temp_c: p.heatsink_c,
    },
    rows: { module: pvModules(p, dcV) },
  };
}

/**
 * SunSpec model 160 rows: two MPPT inputs sharing the DC power equally at the array voltage. The
 * model keeps no DC energy of its own: each input counts half of the AC counter, which rises with
 * it and never goes back.
 */
function pvModules(p: PvInput, dcV: number): ReadonlyMap<number, Readonly<Record<string, QuantityValue>>> {
  const state = p.ac_w > 0 ? 'mppt' : p.daylight ? 'starting' : 'sleeping';
  const row = {
    dc_module_current_a: dcV > 0 ? p.dc_w / 2 / dcV : 0,
    dc_module_voltage_v: dcV,
    dc_module_power_w: p.dc_w / 2,
    dc_module_energy_kwh: p.energy_kwh / 2,
    dc_module_temp_c: Math.round(p.heatsink_c),
    dc_module_state: state,
  };
  return new Map([
    [1, row],
    [2, row],
  ]);
}

export interface GpuServerInput {
  power_w: number;
  energy_kwh: number;
  gpu_model: string;
  cpu_model: string;
  cpus: number;
  /** Per accelerator, in row order. */
  gpu_power_w: ArrayLike<number>;
  gpu_utilisation_pct: ArrayLike<number>;
  gpu_temp_c: ArrayLike<number>;
  gpu_memory_used_mib: ArrayLike<number>;
  gpu_memory_total_mib: number;
  inlet_temp_c: number;
}

/** A GPU server's BMC: chassis power and energy, one row per accelerator and per CPU. */
export function gpuServerQuantities(g: GpuServerInput): DeviceQuantities {
  const gpus: Rows = new Map();
  for (let i = 0; i < g.gpu_power_w.length; i++) {
    gpus.set(i + 1, {
      gpu_model: g.gpu_model,
      gpu_power_w: g.gpu_power_w[i] ?? 0,
      gpu_utilisation_pct: g.gpu_utilisation_pct[i] ?? 0,
      gpu_temp_c: g.gpu_temp_c[i] ?? 0,
      gpu_memory_used_mib: g.gpu_memory_used_mib[i] ?? 0,
      // Redfish carries memory as total MiB and a utilisation percentage (MemoryMetrics).
      gpu_memory_total_mib: g.gpu_memory_total_mib,
      gpu_memory_utilisation_pct: g.gpu_memory_total_mib > 0 ? (100 * (g.gpu_memory_used_mib[i] ?? 0)) / g.gpu_memory_total_mib : 0,
    });
  }
  const cpus: Rows = new Map();
  for (let i = 1; i <= g.cpus; i++) cpus.set(i, { cpu_model: g.cpu_model });
  return {
    values: { active_power_w: g.power_w, energy_kwh: g.energy_kwh, inlet_temp_c: g.inlet_temp_c, gpu_count: g.gpu_power_w.length },
    rows: { gpu: gpus, cpu: cpus },
  };
}

/** Rack inlet temperature/humidity transmitter. */
export function inletSensorQuantities(inlet_temp_c: number, humidity_pct: number): DeviceQuantities {
  return { values: { inlet_temp_c, humidity_pct, temperature_c: inlet_temp_c }, rows: {} };
}
