import type { DeviceProfile, SiteInventory } from '../../contract/index.js';
import { dryBulbC, irradianceWm2, relativeHumidity, sunElevationSin, wetBulbC } from './climate.js';
import { chillerPowerW, fanPowerW, transformerLossW, upsLossW } from './power-curves.js';
import {
  chillerQuantities,
  crahQuantities,
  gpuServerQuantities,
  inletSensorQuantities,
  meterQuantities,
  pduQuantities,
  pvQuantities,
  upsQuantities,
  type DeviceQuantities,
} from './quantities.js';
import { Rng, hash32 } from './rng.js';
import { MEASURE, PLANT, compileSitePlan, type ModelKind, type SitePlan, type SkippedDevice } from './site-plan.js';
import { GPU_RACK_NETWORK_W, RHYTHM, TRAINING, WORKLOAD_CODE, gpuPowerW, gpuServerPowerW, rhythmFactor, trainingTarget } from './workloads.js';

/**
 * The physical model of one site, stepped in simulated time. Struct-of-arrays state in typed
 * arrays allocated once (nothing per device per tick), one seeded RNG drawn in a fixed order,
 * so a seed and a step sequence always give the same numbers. The chain per step:
 * weather → rack IT loads → distribution and UPS losses per hall → heat per cooling group →
 * CRAH fans, chillers (19XR curve, waterside free cooling), pumps, towers → rack inlet
 * temperatures (first-order lag) → lighting → transformer → PV behind the meter → incomers.
 * It knows nothing of protocols; devices read it by point name through quantities().
 */

export interface SiteLive {
  sim_ts: number;
  /** Σ rack IT load (PDU outputs ≈ server inputs). */
  it_power_w: number;
  ups_output_power_w: number;
  ups_loss_w: number;
  distribution_loss_w: number;
  cooling_power_w: number;
  lighting_power_w: number;
  transformer_loss_w: number;
  /** Everything the site consumes: incomers + PV behind the meter. */
  facility_power_w: number;
  pv_power_w: number;
  grid_power_w: number;
  export_power_w: number;
  green_feed_power_w: number;
  /** Physical PUE: facility / IT at the PDU outputs. */
  pue: number;
  free_cooling_ratio: number;
  outdoor_temp_c: number;
  wet_bulb_c: number;
  humidity_ratio: number;
  irradiance_wm2: number;
}

export type CreateSiteModelResult = { ok: true; model: SiteModel; skipped: SkippedDevice[] } | { ok: false; problems: string[] };

export function createSiteModel(inventory: SiteInventory, seed: number, opts: { profiles: ReadonlyMap<string, DeviceProfile>; file?: string }): CreateSiteModelResult {
  const r = compileSitePlan(inventory, seed, opts);
  if (!r.ok) return r;
  return { ok: true, model: new SiteModel(r.plan, seed), skipped: r.skipped };
}

const HOUR_MS = 3_600_000;

/** Counters start as if the device had been in service 1–3 years. */
const SERVICE_HOURS = [8760, 26_280] as const;

export class SiteModel {
  readonly deviceIds: readonly string[];
  sim_ts = 0;
  version = 0;

  private readonly index: Map<string, number>;
  private rng: Rng;
  private readonly seed: number;
  // Weather and grid.
  private temp_walk = 0;
  private rh_walk = 0;
  private cloud = 0;
  private volt_walk = 0;
  private freq_walk = 0;
  private dry_c = 0;
  private rh = 0;
  private wb_c = 0;
  private ghi = 0;
  private daylight = false;
  // Racks.
  private readonly rack_walk: Float64Array;
  private readonly rack_w: Float64Array;
  private readonly rack_util: Float64Array;
  private readonly job_on: Uint8Array;
  private readonly job_elapsed_s: Float64Array;
  private readonly job_left_s: Float64Array;
  private readonly job_level: Float64Array;
  // Halls.
  private readonly hall_it_w: Float64Array;
  private readonly hall_dist_w: Float64Array;
  private readonly hall_loss_ratio: Float64Array;
  // Units.
  private readonly ups_out_w: Float64Array;
  private readonly ups_in_w: Float64Array;
  private readonly crah_failed: Uint8Array;
  private readonly crah_load_w: Float64Array;
  private readonly crah_speed: Float64Array;
  private readonly crah_w: Float64Array;
  private readonly chiller_failed: Uint8Array;
  private readonly chiller_load_w: Float64Array;
  private readonly chiller_over: Float64Array;
  private readonly chiller_mech_w: Float64Array;
  private readonly chiller_w: Float64Array;
  private readonly chiller_aux_w: Float64Array;
  private readonly pv_dc_w: Float64Array;
  private readonly pv_ac_w: Float64Array;
  // Cooling groups.
  private readonly group_heat_w: Float64Array;
  private readonly group_cover: Float64Array;
  private readonly group_failed_crah: Float64Array;
  private readonly group_inlet_c: Float64Array;
  // Devices.
  private readonly device_w: Float64Array;
  private readonly prev_w: Float64Array;
  private readonly energy_kwh: Float64Array;
  private live: SiteLive;

  constructor(
    readonly plan: SitePlan,
    seed: number,
  ) {
    const { racks, devices } = plan;
    const nR = racks.ids.length;
    const nD = devices.ids.length;
    const nG = plan.groups.ids.length;
    this.deviceIds = devices.ids;
    this.index = new Map(devices.ids.map((id, i) => [id, i]));
    this.seed = seed;
    this.rng = new Rng(seed ^ hash32(`${plan.site_id}/state`));
    this.rack_walk = new Float64Array(nR);
    this.rack_w = new Float64Array(nR);
    this.rack_util = new Float64Array(nR);
    this.job_on = new Uint8Array(nR);
    this.job_elapsed_s = new Float64Array(nR);
    this.job_left_s = new Float64Array(nR);
    this.job_level = new Float64Array(nR);
    this.hall_it_w = new Float64Array(plan.halls.length);
    this.hall_dist_w = new Float64Array(plan.halls.length);
    this.hall_loss_ratio = new Float64Array(plan.halls.length);
    const nU = plan.upses.hall.length;
    this.ups_out_w = new Float64Array(nU);
    this.ups_in_w = new Float64Array(nU);
    const nC = plan.crahs.group.length;
    this.crah_failed = new Uint8Array(nC);
    this.crah_load_w = new Float64Array(nC);
    this.crah_speed = new Float64Array(nC);
    this.crah_w = new Float64Array(nC);
    const nCh = plan.chillers.serves.length;
    this.chiller_failed = new Uint8Array(nCh);
    this.chiller_load_w = new Float64Array(nCh);
    this.chiller_over = new Float64Array(nCh);
    this.chiller_mech_w = new Float64Array(nCh);
    this.chiller_w = new Float64Array(nCh);
    this.chiller_aux_w = new Float64Array(nCh);
    this.pv_dc_w = new Float64Array(plan.pv.capacity_w.length);
    this.pv_ac_w = new Float64Array(plan.pv.capacity_w.length);
    this.group_heat_w = new Float64Array(nG);
    this.group_cover = new Float64Array(nG).fill(1);
    this.group_failed_crah = new Float64Array(nG);
    this.group_inlet_c = new Float64Array(nG);
    this.device_w = new Float64Array(nD);
    this.prev_w = new Float64Array(nD);
    this.energy_kwh = new Float64Array(nD);
    this.live = emptyLive();
  }

  /** Steady state at `sim_ts`: walks at rest, jobs drawn, inlets settled, counters 1–3 years old. */
  reset(sim_ts: number): void {
    // Re-seeded, so a reset gives the same start whatever ran before it.
    this.rng = new Rng(this.seed ^ hash32(`${this.plan.site_id}/state`));
    this.sim_ts = sim_ts;
    this.temp_walk = 0;
    this.rh_walk = 0;
    this.cloud = this.plan.climate.cloudiness_ratio;
    this.volt_walk = 0;
    this.freq_walk = 0;
    const { racks } = this.plan;
    this.rack_walk.fill(0);
    for (let r = 0; r < racks.ids.length; r++) {
      if (racks.workload[r] !== WORKLOAD_CODE.gpu_training) continue;
      // Most GPU racks are busy; each starts somewhere inside a job or a gap.
      this.job_on[r] = this.rng.next() < 0.8 ? 1 : 0;
      this.job_level[r] = this.rng.between(TRAINING.level_min, TRAINING.level_max);
      this.job_left_s[r] = this.job_on[r] ? this.rng.between(0, TRAINING.job_max_s) : this.rng.between(0, TRAINING.gap_max_s);
      this.job_elapsed_s[r] = this.job_on[r] ? this.rng.between(0, TRAINING.checkpoint_every_s) : 0;
      this.rack_util[r] = this.job_on[r] ? trainingTarget(this.job_level[r]!, this.job_elapsed_s[r]!) : TRAINING.idle_level;
    }
    this.crah_failed.fill(0);
    this.chiller_failed.fill(0);
    this.compute(0, true);
    const { devices } = this.plan;
    for (let i = 0; i < devices.ids.length; i++) {
      const hours = this.rng.between(SERVICE_HOURS[0], SERVICE_HOURS[1]);
      const typical = devices.measure[i] === MEASURE.pv ? this.plan.pv.capacity_w[devices.target[i]!]! * 0.1 : Math.max(this.device_w[i]!, 0.05 * devices.rated_w[i]!);
      this.energy_kwh[i] = devices.measure[i] === MEASURE.sensor ? 0 : Math.round((typical / 1000) * hours * 1000) / 1000;
    }
    this.version++;
  }

  /** Advance `dt_ms` of simulated time, in place. */
  step(dt_ms: number): void {
    if (!(dt_ms > 0)) return;
    const dt_s = dt_ms / 1000;
    this.prev_w.set(this.device_w);
    this.sim_ts += dt_ms;
    this.advanceWeather(dt_s);
    this.advanceRacks(dt_s);
    this.compute(dt_s, false);
    const h = dt_s / 3600 / 1000;
    const n = this.energy_kwh.length;
    // Trapezoid over the step: each counter follows the power it reports.
    for (let i = 0; i < n; i++) this.energy_kwh[i]! += (this.prev_w[i]! + this.device_w[i]!) * 0.5 * h;
    this.version++;
  }

  deviceIndex(id: string): number {
    return this.index.get(id) ?? -1;
  }

  kind(id: string): ModelKind | undefined {
    const i = this.index.get(id);
    return i === undefined ? undefined : this.plan.devices.kind[i];
  }

  truePowerW(i: number): number {
    return this.device_w[i] ?? 0;
  }

  trueEnergyKwh(i: number): number {
    return this.energy_kwh[i] ?? 0;
  }

  /** Live values of the whole site (a small object per call). */
  siteLive(): SiteLive {
    return { ...this.live };
  }

  /** Power of each rack (inventory racks first), for occupancy. Read-only view. */
  rackPowers(): Readonly<Float64Array> {
    return this.rack_w;
  }

  /** Mean inlet temperature of a cooling group (before the per-rack offset); undefined for an unknown group. */
  groupInletC(group: string): number | undefined {
    const g = this.plan.groups.ids.indexOf(group);
    return g < 0 ? undefined : this.group_inlet_c[g];
  }

  rackInletC(r: number): number {
    return this.group_inlet_c[this.plan.racks.group[r]!]! + this.plan.racks.inlet_offset_c[r]!;
  }

  canFail(id: string): boolean {
    const k = this.kind(id);
    return k === 'chiller' || k === 'crah';
  }

  isFailed(id: string): boolean {
    const i = this.deviceIndex(id);
    if (i < 0) return false;
    const t = this.plan.devices.target[i]!;
    const k = this.plan.devices.kind[i];
    return k === 'chiller' ? this.chiller_failed[t] === 1 : k === 'crah' ? this.crah_failed[t] === 1 : false;
  }

  /**
   * A chiller or CRAH stops (or comes back). Its own points show it at once; the racks it
   * cools warm up over minutes (PLANT.inlet_tau_s) from the next step on.
   */
  setEquipmentFailure(id: string, failed: boolean): void {
    const i = this.deviceIndex(id);
    if (i < 0 || !this.canFail(id)) throw new RangeError(`simulator: ${id} is not a chiller or CRAH of this site`);
    const t = this.plan.devices.target[i]!;
    if (this.plan.devices.kind[i] === 'chiller') this.chiller_failed[t] = failed ? 1 : 0;
    else this.crah_failed[t] = failed ? 1 : 0;
    // Re-derive the powers now; the thermal lag runs with time only.
    this.compute(0, false);
    this.version++;
  }

  /** The device's points by name, or undefined for a device the model does not cover. */
  quantities(id: string): DeviceQuantities | undefined {
    const i = this.index.get(id);
    return i === undefined ? undefined : this.quantitiesAt(i);
  }

  quantitiesAt(i: number): DeviceQuantities {
    const { devices, racks } = this.plan;
    const t = devices.target[i]!;
    const power_w = this.device_w[i]!;
    const energy_kwh = this.energy_kwh[i]!;
    const ac = {
      power_w,
      rated_w: devices.rated_w[i]!,
      voltage_v: this.plan.grid_voltage_v * (1 + this.volt_walk),
      frequency_hz: PLANT.frequency_hz + this.freq_walk,
      phase_shares: devices.phase_shares.subarray(3 * i, 3 * i + 3),
      phase_voltage_offsets: devices.phase_voltage_offsets.subarray(3 * i, 3 * i + 3),
    };
    switch (devices.kind[i]) {
      case 'pdu':
        return pduQuantities({ ...ac, energy_kwh, outlet_shares: devices.outlet_shares[i]! });
      case 'ups':
        return upsQuantities({ ...ac, rated_w: this.plan.upses.capacity_w[t]!, input_w: this.ups_in_w[t]!, battery_temp_c: 24 + 2 * (this.ups_out_w[t]! / this.plan.upses.capacity_w[t]!) });
      case 'chiller':
        return chillerQuantities(this.chillerInput(t, power_w, energy_kwh));
      case 'crah':
        return crahQuantities(this.crahInput(t, power_w, energy_kwh));
      case 'pv_inverter':
        return pvQuantities({ ac_w: this.pv_ac_w[t]!, dc_w: this.pv_dc_w[t]!, energy_kwh, kwp: this.plan.pv.capacity_w[t]! / 1000, voltage_v: ac.voltage_v, frequency_hz: ac.frequency_hz, heatsink_c: this.dry_c + 8 + (25 * this.pv_ac_w[t]!) / Math.max(1, this.plan.pv.capacity_w[t]!), daylight: this.daylight });
      case 'gpu':
        return this.gpuQuantities(i, t, power_w, energy_kwh);
      case 'sensor': {
        const inlet = this.rackInletC(t);
        // The room's absolute humidity is held; warmer air reads a lower relative humidity.
        return inletSensorQuantities(inlet, Math.max(10, Math.min(90, 45 * Math.exp(-0.062 * (inlet - (this.plan.supply_air_c + PLANT.inlet_mixing_c))) + racks.inlet_offset_c[t]!)));
      }
      default:
        return meterQuantities({ ...ac, energy_kwh, export_energy_kwh: 0 });
    }
  }

  private chillerInput(c: number, power_w: number, energy_kwh: number) {
    const failed = this.chiller_failed[c] === 1;
    const load = this.chiller_load_w[c]! * this.chiller_over[c]!;
    const cap = this.plan.chillers.capacity_w[c]!;
    const sup = this.plan.chw_supply_c + (failed ? PLANT.chw_delta_c : (1 - this.chiller_over[c]!) * 8);
    const cond = this.wb_c + PLANT.tower_approach_c;
    return {
      power_w,
      energy_kwh,
      cooling_load_w: failed ? 0 : load,
      running: !failed && this.chiller_mech_w[c]! > 0,
      failed,
      chw_supply_c: sup,
      chw_return_c: sup + (failed ? 0.3 : PLANT.chw_delta_c * Math.min(1.2, load / (0.6 * cap))),
      cw_supply_c: cond,
      cw_return_c: cond + (failed ? 0 : 5 * Math.min(1, (this.chiller_mech_w[c]! + 0.02 * load) / cap)),
    };
  }

  private crahInput(k: number, power_w: number, energy_kwh: number) {
    const g = this.plan.crahs.group[k]!;
    const failed = this.crah_failed[k] === 1;
    const supply = this.plan.supply_air_c + (1 - this.group_cover[g]!) * 12;
    const cap = this.plan.crahs.capacity_w[k]!;
    const returnRise = failed ? 0.5 : 6 + 8 * Math.min(1, this.crah_load_w[k]! / cap);
    return {
      power_w,
      energy_kwh,
      supply_air_c: failed ? this.group_inlet_c[g]! : supply,
      return_air_c: (failed ? this.group_inlet_c[g]! : supply) + returnRise,
      humidity_pct: 45 + 5 * this.rh_walk,
      fan_speed_pct: failed ? 0 : 100 * this.crah_speed[k]!,
      failed,
    };
  }

  private gpuQuantities(i: number, r: number, power_w: number, energy_kwh: number): DeviceQuantities {
    const spec = this.plan.devices.gpu[i]!;
    const n = this.plan.devices.gpus[i]!;
    const u = this.rack_util[r]!;
    const inlet = this.rackInletC(r);
    const phase = this.plan.devices.gpu_phase[i]!;
    const util = new Float64Array(n);
    const pw = new Float64Array(n);
    const temp = new Float64Array(n);
    const mem = new Float64Array(n);
    const busy = this.job_on[r] === 1;
    for (let k = 0; k < n; k++) {
      // Offsets sum to zero over the server, so Σ GPU power stays the server's.
      const uk = Math.min(1, Math.max(0, u + 0.015 * Math.sin(phase + (2 * Math.PI * k) / n)));
      util[k] = Math.round(100 * uk);
      pw[k] = gpuPowerW(spec, uk);
      temp[k] = inlet + 10 + 45 * uk + 2 * Math.cos(phase + k);
      mem[k] = busy ? Math.round(spec.memory_mib * (0.86 + 0.01 * Math.cos(phase + k))) : 4;
    }
    return gpuServerQuantities({ power_w, energy_kwh, gpu_model: spec.model, cpu_model: spec.cpu_model, cpus: 2, gpu_power_w: pw, gpu_utilisation_pct: util, gpu_temp_c: temp, gpu_memory_used_mib: mem, gpu_memory_total_mib: spec.memory_mib, inlet_temp_c: inlet });
  }

  private advanceWeather(dt_s: number): void {
    const c = this.plan.climate;
    this.temp_walk = ouStep(this.temp_walk, dt_s, 172_800, 0.012, 3.5, this.rng);
    this.rh_walk = ouStep(this.rh_walk, dt_s, 86_400, 0.0004, 0.15, this.rng);
    this.cloud = c.cloudiness_ratio + ouStep(this.cloud - c.cloudiness_ratio, dt_s, 10_800, 0.002, Math.max(c.cloudiness_ratio, 1 - c.cloudiness_ratio), this.rng);
    this.cloud = Math.min(1, Math.max(0, this.cloud));
    this.volt_walk = ouStep(this.volt_walk, dt_s, 600, 0.0002, 0.02, this.rng);
    this.freq_walk = ouStep(this.freq_walk, dt_s, 300, 0.001, 0.1, this.rng);
  }

  private advanceRacks(dt_s: number): void {
    const { racks } = this.plan;
    const ramp = 1 - Math.exp(-dt_s / TRAINING.ramp_tau_s);
    for (let r = 0; r < racks.ids.length; r++) {
      const code = racks.workload[r]!;
      if (code === WORKLOAD_CODE.empty) continue;
      if (code !== WORKLOAD_CODE.gpu_training) {
        this.rack_walk[r] = ouStep(this.rack_walk[r]!, dt_s, RHYTHM.walk_tau_s, RHYTHM.walk_sigma, RHYTHM.walk_limit, this.rng);
        continue;
      }
      this.job_left_s[r]! -= dt_s;
      if (this.job_on[r]) this.job_elapsed_s[r]! += dt_s;
      if (this.job_left_s[r]! <= 0) {
        // A job ends and the rack idles, or a new job starts.
        const starting = this.job_on[r] === 0;
        this.job_on[r] = starting ? 1 : 0;
        this.job_elapsed_s[r] = 0;
        this.job_level[r] = this.rng.between(TRAINING.level_min, TRAINING.level_max);
        this.job_left_s[r] = starting ? this.rng.between(TRAINING.job_min_s, TRAINING.job_max_s) : this.rng.between(TRAINING.gap_min_s, TRAINING.gap_max_s);
      }
      const target = this.job_on[r] ? trainingTarget(this.job_level[r]!, this.job_elapsed_s[r]!) : TRAINING.idle_level;
      this.rack_util[r]! += (target - this.rack_util[r]!) * ramp;
    }
  }

  /** Every power of the site from the drivers; `dt_s` advances the thermal lag (0 = hold, or settle when `settle`). */
  private compute(dt_s: number, settle: boolean): void {
    const plan = this.plan;
    const z = plan.zone_time(this.sim_ts);
    const c = plan.climate;
    this.dry_c = dryBulbC(c, z.hour, z.day_of_year) + this.temp_walk;
    this.rh = relativeHumidity(c, z.hour, this.rh_walk);
    this.wb_c = wetBulbC(this.dry_c, this.rh);
    const utcHour = (((this.sim_ts % 86_400_000) + 86_400_000) % 86_400_000) / HOUR_MS;
    const sun = sunElevationSin(c, utcHour, z.day_of_year);
    this.daylight = sun > 0;
    this.ghi = irradianceWm2(sun, this.cloud);

    // Rack IT loads.
    const { racks } = plan;
    const nR = racks.ids.length;
    this.hall_it_w.fill(0);
    for (let r = 0; r < nR; r++) {
      const code = racks.workload[r]!;
      let w: number;
      if (code === WORKLOAD_CODE.empty) w = 0;
      else if (code === WORKLOAD_CODE.gpu_training) w = racks.servers[r]! * gpuServerPowerW(racks.gpu[r]!, racks.gpus_per_server[r]!, this.rack_util[r]!) + GPU_RACK_NETWORK_W;
      else w = racks.mean_w[r]! * rhythmFactor(code, z.hour, z.weekday, racks.peak_shift_h[r]!) * (1 + this.rack_walk[r]!);
      this.rack_w[r] = w;
      this.hall_it_w[racks.hall[r]!]! += w;
    }

    // Distribution and UPS per hall.
    let it = 0;
    let dist = 0;
    let upsOut = 0;
    let upsLoss = 0;
    for (let h = 0; h < plan.halls.length; h++) {
      const hallIt = this.hall_it_w[h]!;
      const x = plan.hall_rated_w[h]! > 0 ? hallIt / plan.hall_rated_w[h]! : 0;
      const d = hallIt * (PLANT.distribution_fixed + PLANT.distribution_square * x * x);
      this.hall_dist_w[h] = d;
      const units = plan.hall_upses[h]!;
      let loss = 0;
      for (const u of units) {
        const out = (hallIt + d) / units.length;
        this.ups_out_w[u] = out;
        const l = upsLossW(plan.upses.capacity_w[u]!, out);
        this.ups_in_w[u] = out + l;
        loss += l;
      }
      this.hall_loss_ratio[h] = hallIt > 0 ? (d + loss) / hallIt : 0;
      it += hallIt;
      dist += d;
      upsOut += units.length > 0 ? hallIt + d : 0;
      upsLoss += loss;
    }

    // Heat per cooling group: its racks plus their hall's conversion losses.
    this.group_heat_w.fill(0);
    for (let r = 0; r < nR; r++) this.group_heat_w[racks.group[r]!]! += this.rack_w[r]! * (1 + this.hall_loss_ratio[racks.hall[r]!]!);
    const cooling = this.computeCooling(dt_s, settle);

    // Lighting and offices: full from 07:30 to 20:00, 40 % at night, soft edges.
    const dayShape = smoothstep(7, 8, z.hour) * (1 - smoothstep(19.5, 20.5, z.hour));
    const lighting = plan.lighting_w * (0.4 + 0.6 * dayShape);

    const load = upsOut + upsLoss + cooling + lighting;
    const tx = transformerLossW(plan.transformer_w, load);
    const facility = load + tx;

    // PV: cell temperature derating, inverter efficiency; behind the meter it offsets the grid.
    let pv = 0;
    let pvBehind = 0;
    for (let p = 0; p < plan.pv.capacity_w.length; p++) {
      const cap = plan.pv.capacity_w[p]!;
      const cell = this.dry_c + 0.03 * this.ghi;
      const dc = cap * (this.ghi / 1000) * (1 - 0.004 * (cell - 25));
      const ac = dc > 0.005 * cap ? dc * 0.965 : 0;
      this.pv_dc_w[p] = dc > 0.005 * cap ? dc : 0;
      this.pv_ac_w[p] = ac;
      pv += ac;
      if (plan.pv.behind_meter[p]) pvBehind += ac;
    }
    const gridSigned = facility - pvBehind;
    const grid = Math.max(0, gridSigned);
    const exported = Math.max(0, -gridSigned);
    const greenFeed = grid * plan.green_feed_share;

    this.live = {
      sim_ts: this.sim_ts,
      it_power_w: it,
      ups_output_power_w: upsOut,
      ups_loss_w: upsLoss,
      distribution_loss_w: dist,
      cooling_power_w: cooling,
      lighting_power_w: lighting,
      transformer_loss_w: tx,
      facility_power_w: facility,
      pv_power_w: pv,
      grid_power_w: grid,
      export_power_w: exported,
      green_feed_power_w: greenFeed,
      pue: it > 0 ? facility / it : 0,
      free_cooling_ratio: this.freeRatio,
      outdoor_temp_c: this.dry_c,
      wet_bulb_c: this.wb_c,
      humidity_ratio: this.rh,
      irradiance_wm2: this.ghi,
    };
    this.assignDevicePowers(cooling, lighting, grid, exported, greenFeed, pv);
  }

  private freeRatio = 0;

  /** CRAHs, chillers, pumps, towers; updates the groups' cover and inlet temperatures. Returns the cooling power. */
  private computeCooling(dt_s: number, settle: boolean): number {
    const plan = this.plan;
    const nG = plan.groups.ids.length;
    let total = 0;

    // Waterside economiser: the towers pre-cool the chilled-water return through a plate exchanger.
    const chwSup = plan.chw_supply_c;
    const chwRet = chwSup + PLANT.chw_delta_c;
    const hxOut = this.wb_c + PLANT.tower_approach_c + PLANT.hx_approach_c;
    this.freeRatio = Math.min(1, Math.max(0, (chwRet - hxOut) / (chwRet - chwSup)));
    const tCond = this.wb_c + PLANT.tower_approach_c;

    // Chillers: each group's heat is shared by its running chillers.
    this.chiller_load_w.fill(0);
    for (let g = 0; g < nG; g++) {
      const list = plan.group_chillers[g]!;
      let running = 0;
      for (const ch of list) if (!this.chiller_failed[ch]) running++;
      if (running === 0) continue;
      for (const ch of list) if (!this.chiller_failed[ch]) this.chiller_load_w[ch]! += this.group_heat_w[g]! / running;
    }
    for (let ch = 0; ch < plan.chillers.serves.length; ch++) {
      const cap = plan.chillers.capacity_w[ch]!;
      const load = this.chiller_load_w[ch]!;
      this.chiller_over[ch] = load > cap ? cap / load : 1;
      const delivered = Math.min(load, cap);
      if (this.chiller_failed[ch]) {
        this.chiller_mech_w[ch] = 0;
        this.chiller_w[ch] = 300;
        this.chiller_aux_w[ch] = 0;
      } else {
        const mechLoad = delivered * (1 - this.freeRatio);
        const compressor = chillerPowerW(cap, mechLoad, chwSup, tCond);
        this.chiller_mech_w[ch] = compressor;
        this.chiller_w[ch] = compressor + PLANT.chiller_controls_w;
        const lf = delivered / cap;
        // Variable-speed pumps against a static head, tower fans on the heat rejected.
        const pumps = cap * PLANT.pump_ratio * (0.2 + 0.8 * lf * lf);
        const towers = cap * PLANT.tower_ratio * Math.min(1.2, ((delivered + compressor) / cap) ** 2);
        this.chiller_aux_w[ch] = pumps + towers;
      }
      total += this.chiller_w[ch]! + this.chiller_aux_w[ch]!;
    }

    // Cover of each group: chilled water delivered, and CRAH capacity running.
    const keep = settle ? 0 : Math.exp(-dt_s / PLANT.inlet_tau_s);
    for (let g = 0; g < nG; g++) {
      const heat = this.group_heat_w[g]!;
      let water = 0;
      for (const ch of plan.group_chillers[g]!) {
        if (this.chiller_failed[ch]) continue;
        let running = 0;
        for (const other of plan.group_chillers[g]!) if (!this.chiller_failed[other]) running++;
        water += (heat / running) * this.chiller_over[ch]!;
      }
      let crahCap = 0;
      let failed = 0;
      const crahs = plan.group_crahs[g]!;
      for (const k of crahs) {
        if (this.crah_failed[k]) failed++;
        else crahCap += plan.crahs.capacity_w[k]!;
      }
      const anyWater = plan.group_chillers[g]!.some((ch) => !this.chiller_failed[ch]);
      const cover = heat > 0 ? Math.min(1, water / heat, crahCap / heat) : anyWater && crahCap > 0 ? 1 : 0;
      this.group_cover[g] = cover;
      this.group_failed_crah[g] = crahs.length > 0 ? failed / crahs.length : 0;
      const target = plan.supply_air_c + PLANT.inlet_mixing_c + PLANT.inlet_rise_no_cooling_c * (1 - cover) + PLANT.inlet_rise_failed_crah_c * this.group_failed_crah[g]!;
      this.group_inlet_c[g] = settle || dt_s > 0 ? target + (this.group_inlet_c[g]! - target) * keep : this.group_inlet_c[g]!;
      // CRAH fans: airflow follows the heat each running unit carries.
      const running = crahs.length - failed;
      for (const k of crahs) {
        if (this.crah_failed[k]) {
          this.crah_load_w[k] = 0;
          this.crah_speed[k] = 0;
          this.crah_w[k] = 100;
        } else {
          const capK = plan.crahs.capacity_w[k]!;
          const share = crahCap > 0 ? (heat * Math.min(1, crahCap / Math.max(heat, 1e-9)) * capK) / crahCap : 0;
          this.crah_load_w[k] = running > 0 ? share : 0;
          this.crah_speed[k] = Math.min(1, Math.max(PLANT.crah_min_speed, share / capK));
          this.crah_w[k] = fanPowerW(PLANT.crah_fan_ratio * capK, this.crah_speed[k]!);
        }
        total += this.crah_w[k]!;
      }
    }
    return total;
  }

  private assignDevicePowers(cooling: number, lighting: number, grid: number, exported: number, greenFeed: number, pv: number): void {
    const { devices, racks } = this.plan;
    const n = devices.ids.length;
    const utility = grid - greenFeed;
    for (let i = 0; i < n; i++) {
      const t = devices.target[i]!;
      const share = devices.share[i]!;
      let w = 0;
      switch (devices.measure[i]) {
        case MEASURE.rack:
          w = t >= 0 ? this.rack_w[t]! * share : 0;
          break;
        case MEASURE.server: {
          const spec = devices.gpu[i]!;
          if (racks.workload[t] === WORKLOAD_CODE.gpu_training) w = gpuServerPowerW(spec, devices.gpus[i]!, this.rack_util[t]!);
          else w = this.rack_w[t]! * share;
          break;
        }
        case MEASURE.ups:
          w = this.ups_out_w[t]!;
          break;
        case MEASURE.hall_ups_out:
          w = (this.hall_it_w[t]! + this.hall_dist_w[t]!) * share;
          break;
        case MEASURE.utility:
          w = utility * share;
          break;
        case MEASURE.green_feed:
          w = greenFeed * share;
          break;
        case MEASURE.export:
          w = exported * share;
          break;
        case MEASURE.cooling:
          w = cooling * share;
          break;
        case MEASURE.other:
          w = lighting * share;
          break;
        case MEASURE.pv_share:
          w = pv * share;
          break;
        case MEASURE.pv:
          w = this.pv_ac_w[t]!;
          break;
        case MEASURE.chiller:
          w = this.chiller_w[t]!;
          break;
        case MEASURE.crah:
          w = this.crah_w[t]!;
          break;
        default:
          w = 0;
      }
      this.device_w[i] = w;
    }
  }
}

function emptyLive(): SiteLive {
  return {
    sim_ts: 0,
    it_power_w: 0,
    ups_output_power_w: 0,
    ups_loss_w: 0,
    distribution_loss_w: 0,
    cooling_power_w: 0,
    lighting_power_w: 0,
    transformer_loss_w: 0,
    facility_power_w: 0,
    pv_power_w: 0,
    grid_power_w: 0,
    export_power_w: 0,
    green_feed_power_w: 0,
    pue: 0,
    free_cooling_ratio: 0,
    outdoor_temp_c: 0,
    wet_bulb_c: 0,
    humidity_ratio: 0,
    irradiance_wm2: 0,
  };
}

function smoothstep(a: number, b: number, x: number): number {
  const t = Math.min(1, Math.max(0, (x - a) / (b - a)));
  return t * t * (3 - 2 * t);
}

/**
 * One Ornstein-Uhlenbeck step towards 0, bounded. Exact discretisation, so a coarse catch-up
 * step keeps the walk's variance.
 */
function ouStep(x: number, dt_s: number, tau_s: number, sigma: number, limit: number, rng: Rng): number {
  const decay = Math.exp(-dt_s / tau_s);
  const sd = sigma * Math.sqrt((tau_s / 2) * (1 - decay * decay));
  return Math.max(-limit, Math.min(limit, x * decay + sd * rng.gaussian()));
}
