import { DcimError, deviceHall, type Device, type DeviceProfile, type ItLevel, type MeterRole, type SiteInventory } from '../../contract/index.js';
import { parseSimHints, type DeviceSimHints, type RackSimHints, type SiteHints, type Workload } from '../sim-hints.js';
import { GUIZHOU_CLIMATE, type ClimateParams } from './climate.js';
import { zoneTimeIn, type ZoneTime } from './local-time.js';
import { Rng, hash32 } from './rng.js';
import { DEFAULT_LOAD_RATIO, GPU_RACK_NETWORK_W, IDLE_RACK_W, WORKLOAD_CODE, gpuServerPowerW, gpuSpec, type GpuSpec } from './workloads.js';

/**
 * The static shape of a simulated site, compiled once from the seed: racks with workloads and
 * cooling groups, the UPS, chiller, CRAH and PV plant (from the seed's devices, completed with
 * virtual units where the seed meters none), and for every device what it measures. Indices
 * into typed arrays, no per-tick objects. The model (site.ts) steps state over this plan.
 */

export const MODEL_KINDS = ['pdu', 'ups', 'meter', 'chiller', 'crah', 'pv_inverter', 'gpu', 'sensor'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** Outlets of a simulated PDU when neither the seed nor the profile says. */
export const DEFAULT_PDU_OUTLETS = 8;

/** What a device's power is a share of. */
export const MEASURE = {
  rack: 0,
  server: 1,
  ups: 2,
  hall_ups_out: 3,
  utility: 4,
  green_feed: 5,
  export: 6,
  cooling: 7,
  other: 8,
  pv_share: 9,
  pv: 10,
  chiller: 11,
  crah: 12,
  sensor: 13,
} as const;

/** Defaults of the facility, in one place so tests can quote them. */
export const PLANT = {
  grid_voltage_v: 220,
  frequency_hz: 50,
  chw_supply_c: 16,
  chw_delta_c: 6,
  tower_approach_c: 4,
  hx_approach_c: 1.5,
  supply_air_c: 22,
  /** Rack inlet above the CRAH supply air in normal operation (mixing, bypass). */
  inlet_mixing_c: 1.5,
  /** Inlet rise with no cooling at all, and per share of a group's CRAHs that failed (airflow). */
  inlet_rise_no_cooling_c: 16,
  inlet_rise_failed_crah_c: 3,
  inlet_tau_s: 300,
  /** Sizing when the seed gives no capacity: plant 25 % above the racks' rating. */
  cooling_margin: 1.25,
  crah_fan_ratio: 0.05,
  crah_min_speed: 0.3,
  chiller_controls_w: 1500,
  pump_ratio: 0.025,
  tower_ratio: 0.01,
  lighting_ratio: 0.012,
  transformer_ratio: 1.6,
  green_feed_share: 0.3,
  /** Distribution between UPS output and PDU outputs (cables, floor PDUs' transformers). */
  distribution_fixed: 0.008,
  distribution_square: 0.006,
} as const;

export interface RackPlan {
  ids: string[];
  /** Racks after the inventory's are virtual loads of IT meters outside racks. */
  inventory_count: number;
  hall: Int32Array;
  group: Int32Array;
  rated_w: Float64Array;
  workload: Uint8Array;
  mean_w: Float64Array;
  peak_shift_h: Float64Array;
  inlet_offset_c: Float64Array;
  available: Uint8Array;
  /** GPU racks: servers (devices and unmetered ones), their accelerator spec, GPUs per server. */
  servers: Int32Array;
  gpus_per_server: Int32Array;
  gpu: GpuSpec[];
}

export interface UnitPlan {
  /** Device index, or −1 for a virtual unit the seed does not meter. */
  device: Int32Array;
  capacity_w: Float64Array;
}

export interface SitePlan {
  site_id: string;
  file: string;
  zone_time: (ts_ms: number) => ZoneTime;
  climate: ClimateParams;
  grid_voltage_v: number;
  chw_supply_c: number;
  supply_air_c: number;
  lighting_w: number;
  transformer_w: number;
  green_feed_share: number;
  pue_it_level: ItLevel | undefined;
  halls: string[];
  hall_rated_w: Float64Array;
  racks: RackPlan;
  groups: { ids: string[]; design_w: Float64Array };
  crahs: UnitPlan & { group: Int32Array };
  chillers: UnitPlan & { serves: Int32Array[] };
  /** Chillers serving each group (inverse of `serves`). */
  group_chillers: Int32Array[];
  group_crahs: Int32Array[];
  upses: UnitPlan & { hall: Int32Array };
  hall_upses: Int32Array[];
  pv: UnitPlan & { behind_meter: Uint8Array };
  devices: DevicePlan;
}

export interface DevicePlan {
  ids: string[];
  /** Index into inventory.devices. */
  inventory_index: Int32Array;
  kind: ModelKind[];
  measure: Uint8Array;
  /** Rack, UPS, chiller, CRAH or PV index the device measures; hall for hall_ups_out; −1 otherwise. */
  target: Int32Array;
  share: Float64Array;
  rated_w: Float64Array;
  phase_shares: Float64Array;
  phase_voltage_offsets: Float64Array;
  outlet_shares: Float64Array[];
  /** GPU servers: accelerators, spec. */
  gpus: Int32Array;
  gpu: (GpuSpec | undefined)[];
  /** Fixed per-accelerator utilisation offsets (sum 0 per server). */
  gpu_phase: Float64Array;
  role: (MeterRole | undefined)[];
  level: (ItLevel | undefined)[];
  behind_meter: Uint8Array;
  /** Rack of the device (inventory racks only), −1 otherwise. */
  rack: Int32Array;
}

export interface SkippedDevice {
  device: string;
  reason: string;
}

export type PlanResult = { ok: true; plan: SitePlan; skipped: SkippedDevice[] } | { ok: false; problems: string[] };

export interface PlanOptions {
  /** The profile catalogue: each device's kind (its class) and table sizes (`simulation`). */
  profiles: ReadonlyMap<string, DeviceProfile>;
  /** Seed file name, for error messages. */
  file?: string;
}

/** The device's kind is its profile's class; a device of another class is modelled only as a meter with a role. */
function kindOf(device: Device, profiles: ReadonlyMap<string, DeviceProfile>): ModelKind | undefined {
  const cls = profiles.get(device.profile)?.class;
  if (cls !== undefined && (MODEL_KINDS as readonly string[]).includes(cls)) return cls as ModelKind;
  return device.meter ? 'meter' : undefined;
}

/** The PUE IT level: pinned by the seed, else the one all IT meters share, else the most upstream. */
export function pueItLevel(inventory: SiteInventory): ItLevel | undefined {
  if (inventory.site.pue_it_level) return inventory.site.pue_it_level;
  const levels = new Set(inventory.devices.filter((d) => d.meter?.role === 'it').map((d) => d.meter?.level));
  for (const l of ['ups_out', 'pdu_out', 'it_in'] as const) if (levels.has(l)) return l;
  return undefined;
}

export function compileSitePlan(inventory: SiteInventory, seed: number, opts: PlanOptions): PlanResult {
  const file = opts.file ?? `${inventory.site.id}.yaml`;
  let hints: SiteHints;
  try {
    hints = parseSimHints(inventory, file);
  } catch (e) {
    if (e instanceof DcimError) return { ok: false, problems: e.details.length > 0 ? [...e.details] : [e.message] };
    throw e;
  }
  let zone_time: (ts_ms: number) => ZoneTime;
  try {
    zone_time = zoneTimeIn(inventory.site.timezone);
  } catch {
    return { ok: false, problems: [`${file}: site.timezone: unknown time zone ${inventory.site.timezone}`] };
  }
  return new PlanBuilder(inventory, hints, seed, file, opts.profiles, zone_time).build();
}

interface Modelled {
  d: Device;
  /** Index in inventory.devices. */
  i: number;
  kind: ModelKind;
  hints: DeviceSimHints;
}

interface RackDraft {
  id: string;
  hall: number;
  group: string;
  rated_w: number;
  workload: Workload;
  mean_w: number;
  available: boolean;
  servers: number;
  gpus_per_server: number;
  gpu: GpuSpec;
}

class PlanBuilder {
  private readonly problems: string[] = [];
  private readonly skipped: SkippedDevice[] = [];
  private readonly rng: Rng;

  constructor(
    private readonly inv: SiteInventory,
    private readonly hints: SiteHints,
    seed: number,
    private readonly file: string,
    private readonly profiles: ReadonlyMap<string, DeviceProfile>,
    private readonly zone_time: (ts_ms: number) => ZoneTime,
  ) {
    this.rng = new Rng(seed ^ hash32(`${inv.site.id}/plan`));
  }

  private problem(path: string, message: string): void {
    this.problems.push(`${this.file}: ${path}: ${message}`);
  }

  build(): PlanResult {
    const inv = this.inv;
    const site = this.hints.site;
    const halls = inv.halls.map((h) => h.id);
    const hallIndex = new Map(halls.map((h, i) => [h, i]));
    const rackIndex = new Map(inv.racks.map((r, i) => [r.id, i]));
    const hallOf = (d: Device) => hallIndex.get(deviceHall(inv, d) ?? '') ?? 0;

    // Devices the model covers, with their kind.
    const modelled: Modelled[] = [];
    inv.devices.forEach((d, i) => {
      const kind = kindOf(d, this.profiles);
      const hints = this.hints.devices[i] ?? {};
      if (kind === undefined) {
        this.skipped.push({ device: d.id, reason: `profile ${d.profile} is no device kind the model knows, and the device has no meter role` });
        return;
      }
      if (kind === 'meter' && d.meter === undefined) {
        this.skipped.push({ device: d.id, reason: 'a meter without a meter role measures nothing the model knows' });
        return;
      }
      if ((kind === 'sensor' || kind === 'gpu') && d.rack === undefined) {
        this.problem(`devices[${i}].rack`, `a ${kind === 'sensor' ? 'rack inlet sensor' : 'GPU server'} needs a rack`);
        return;
      }
      modelled.push({ d, i, kind, hints });
    });

    // Racks: the inventory's, then one virtual rack per IT load outside a rack.
    const byRack = new Map<string, Modelled[]>();
    for (const m of modelled) {
      if (m.d.rack === undefined) continue;
      const list = byRack.get(m.d.rack);
      if (list) list.push(m);
      else byRack.set(m.d.rack, [m]);
    }
    const drafts: RackDraft[] = inv.racks.map((r, ri) => this.rackDraft(r, ri, hallIndex.get(r.hall) ?? 0, byRack.get(r.id) ?? []));
    const virtualOf = new Map<number, number>();
    for (const m of modelled) {
      if (m.d.rack !== undefined || !this.carriesRackLoad(m)) continue;
      const load = m.hints.load_kw !== undefined ? m.hints.load_kw * 1000 : m.d.meter?.rated_kw !== undefined ? m.d.meter.rated_kw * 600 : undefined;
      if (load === undefined || load <= 0) {
        this.problem(`devices[${m.i}]`, `(${m.d.id}) an IT meter outside a rack needs sim.load_kw > 0 or meter.rated_kw`);
        continue;
      }
      virtualOf.set(m.i, drafts.length);
      const hall = hallOf(m.d);
      drafts.push({ id: `~${m.d.id}`, hall, group: halls[hall]!, rated_w: m.d.meter?.rated_kw !== undefined ? m.d.meter.rated_kw * 1000 : load / 0.6, workload: 'general', mean_w: load, available: false, servers: 0, gpus_per_server: 0, gpu: gpuSpec(undefined) });
    }

    const groupIds = [...new Set(drafts.map((r) => r.group))];
    for (const m of modelled) if (m.kind === 'crah' && m.hints.cooling_group !== undefined && !groupIds.includes(m.hints.cooling_group)) groupIds.push(m.hints.cooling_group);
    const groupIndex = new Map(groupIds.map((g, i) => [g, i]));
    const nR = drafts.length;
    const racks: RackPlan = {
      ids: drafts.map((r) => r.id),
      inventory_count: inv.racks.length,
      hall: Int32Array.from(drafts, (r) => r.hall),
      group: Int32Array.from(drafts, (r) => groupIndex.get(r.group)!),
      rated_w: Float64Array.from(drafts, (r) => r.rated_w),
      workload: Uint8Array.from(drafts, (r) => WORKLOAD_CODE[r.workload]),
      mean_w: Float64Array.from(drafts, (r) => r.mean_w),
      peak_shift_h: new Float64Array(nR),
      inlet_offset_c: new Float64Array(nR),
      available: Uint8Array.from(drafts, (r) => (r.available ? 1 : 0)),
      servers: Int32Array.from(drafts, (r) => r.servers),
      gpus_per_server: Int32Array.from(drafts, (r) => r.gpus_per_server),
      gpu: drafts.map((r) => r.gpu),
    };
    for (let r = 0; r < nR; r++) {
      racks.peak_shift_h[r] = this.rng.between(-1, 1);
      // Racks at row ends and near hot spots run warmer than the group's mean.
      racks.inlet_offset_c[r] = this.rng.between(-0.8, 1.6);
    }
    const design = new Float64Array(groupIds.length);
    for (let r = 0; r < nR; r++) design[racks.group[r]!]! += racks.rated_w[r]!;
    const hall_rated_w = new Float64Array(halls.length);
    for (let r = 0; r < nR; r++) hall_rated_w[racks.hall[r]!]! += racks.rated_w[r]!;
    const totalRated = hall_rated_w.reduce((a, b) => a + b, 0);

    // Cooling plant: CRAHs per group, chillers serving groups; virtual units where the seed has none.
    const crahDevs = modelled.filter((m) => m.kind === 'crah');
    const crahGroup = crahDevs.map((m) => groupIndex.get(m.hints.cooling_group ?? halls[hallOf(m.d)]!) ?? 0);
    for (let g = 0; g < groupIds.length; g++) if (!crahGroup.includes(g)) crahGroup.push(g);
    const crahCount = new Int32Array(groupIds.length);
    for (const g of crahGroup) crahCount[g]!++;
    const crahCap = crahGroup.map((g, k) => {
      const hinted = crahDevs[k]?.hints.capacity_kw;
      if (hinted !== undefined) return hinted * 1000;
      const n = crahCount[g]!;
      return Math.max(5000, (PLANT.cooling_margin * design[g]!) / Math.max(1, n - 1));
    });

    const chillerDevs = modelled.filter((m) => m.kind === 'chiller');
    const serves: Int32Array[] = chillerDevs.map((m) => {
      const list = m.hints.serves ?? groupIds;
      const out: number[] = [];
      list.forEach((g, k) => {
        const gi = groupIndex.get(g);
        if (gi === undefined) this.problem(`devices[${m.i}].sim.serves[${k}]`, `unknown cooling group ${g} (groups: ${groupIds.join(', ')})`);
        else out.push(gi);
      });
      return Int32Array.from(out);
    });
    const served = new Set(serves.flatMap((s) => [...s]));
    const unserved = groupIds.map((_, g) => g).filter((g) => !served.has(g));
    if (unserved.length > 0) serves.push(Int32Array.from(unserved));
    const chillersPerGroup = new Int32Array(groupIds.length);
    for (const s of serves) for (const g of s) chillersPerGroup[g]!++;
    const chillerCap = serves.map((s, k) => {
      const hinted = chillerDevs[k]?.hints.capacity_kw;
      if (hinted !== undefined) return hinted * 1000;
      let sum = 0;
      for (const g of s) sum += design[g]! / chillersPerGroup[g]!;
      return Math.max(20_000, PLANT.cooling_margin * sum);
    });

    // UPS units per hall; a hall without metered UPSes gets a virtual 2N pair.
    const upsDevs = modelled.filter((m) => m.kind === 'ups');
    const upsHall = upsDevs.map((m) => hallOf(m.d));
    for (let h = 0; h < halls.length; h++) if (hall_rated_w[h]! > 0 && !upsHall.includes(h)) upsHall.push(h, h);
    const upsCount = new Int32Array(halls.length);
    for (const h of upsHall) upsCount[h]!++;
    const upsCap = upsHall.map((h, k) => {
      const m = upsDevs[k];
      const hinted = m?.hints.capacity_kw ?? m?.d.meter?.rated_kw;
      if (hinted !== undefined) return hinted * 1000;
      return Math.max(10_000, (2 * hall_rated_w[h]!) / upsCount[h]!);
    });

    // PV arrays: inverters, else the site's kWp behind green_onsite meters.
    const pvDevs = modelled.filter((m) => m.kind === 'pv_inverter');
    const pvMeters = modelled.filter((m) => m.kind === 'meter' && m.d.meter?.role === 'green_onsite');
    const pvKwp: number[] = pvDevs.map((m) => m.hints.kwp ?? (site.pv_kwp !== undefined ? site.pv_kwp / pvDevs.length : 50));
    const pvBehind: number[] = pvDevs.map((m) => (m.d.meter?.behind_meter === false && m.d.meter.role === 'green_onsite' ? 0 : 1));
    if (pvDevs.length === 0 && pvMeters.length > 0) {
      pvKwp.push(site.pv_kwp ?? 100);
      pvBehind.push(pvMeters.some((m) => m.d.meter?.behind_meter) ? 1 : 0);
    }
    if (pvDevs.length === 0 && pvMeters.length === 0 && (site.pv_kwp ?? 0) > 0) {
      this.problem('sim.pv_kwp', 'PV needs a pv inverter device or a green_onsite meter to be seen by anyone');
    }

    const devices = this.devicePlan(modelled, racks, rackIndex, virtualOf, hallOf, { crahDevs, chillerDevs, upsDevs, pvDevs });
    // Site-level meters without a rating: sized like the transformer, for power factor and load state.
    for (let k = 0; k < devices.ids.length; k++) {
      const m = devices.measure[k]!;
      const siteLevel = m === MEASURE.utility || m === MEASURE.green_feed || m === MEASURE.export || m === MEASURE.cooling || m === MEASURE.other || m === MEASURE.pv_share || m === MEASURE.hall_ups_out;
      if (siteLevel && devices.rated_w[k] === 0) devices.rated_w[k] = PLANT.transformer_ratio * totalRated * devices.share[k]!;
    }

    if (this.problems.length > 0) return { ok: false, problems: this.problems };
    if (!devices.kind.some((k, i) => k === 'pdu' || k === 'gpu' || devices.role[i] === 'it')) {
      return { ok: false, problems: [`${this.file}: devices: the simulator needs at least one IT meter (a PDU, a GPU server or a meter with role it)`] };
    }

    const groupMembers = (of: number[], n: number) => {
      const lists: number[][] = Array.from({ length: n }, () => []);
      of.forEach((g, k) => lists[g]!.push(k));
      return lists.map((l) => Int32Array.from(l));
    };
    const group_chillers: number[][] = groupIds.map(() => []);
    serves.forEach((s, c) => {
      for (const g of s) group_chillers[g]!.push(c);
    });
    const climate: ClimateParams = {
      ...GUIZHOU_CLIMATE,
      ...definedOnly({
        mean_c: site.climate?.mean_c,
        seasonal_c: site.climate?.seasonal_c,
        daily_c: site.climate?.daily_c,
        humidity_ratio: site.climate?.humidity_ratio,
        cloudiness_ratio: site.climate?.cloudiness_ratio,
        latitude_deg: site.latitude_deg,
        longitude_deg: site.longitude_deg,
      }),
    };
    const deviceIndex = new Map(devices.ids.map((id, k) => [id, k]));
    const unitDevice = (list: Modelled[], count: number) => Int32Array.from({ length: count }, (_, u) => (list[u] ? (deviceIndex.get(list[u].d.id) ?? -1) : -1));
    const hasGreenFeed = modelled.some((m) => m.d.meter?.role === 'green_feed');
    const plan: SitePlan = {
      site_id: inv.site.id,
      file: this.file,
      zone_time: this.zone_time,
      climate,
      grid_voltage_v: site.grid_voltage_v ?? PLANT.grid_voltage_v,
      chw_supply_c: site.chw_supply_c ?? PLANT.chw_supply_c,
      supply_air_c: site.supply_air_c ?? PLANT.supply_air_c,
      lighting_w: site.lighting_kw !== undefined ? site.lighting_kw * 1000 : Math.max(2000, PLANT.lighting_ratio * totalRated),
      transformer_w: PLANT.transformer_ratio * totalRated,
      green_feed_share: hasGreenFeed ? (site.green_feed_share ?? PLANT.green_feed_share) : 0,
      pue_it_level: pueItLevel(inv),
      halls,
      hall_rated_w,
      racks,
      groups: { ids: groupIds, design_w: design },
      crahs: { device: unitDevice(crahDevs, crahGroup.length), capacity_w: Float64Array.from(crahCap), group: Int32Array.from(crahGroup) },
      chillers: { device: unitDevice(chillerDevs, serves.length), capacity_w: Float64Array.from(chillerCap), serves },
      group_chillers: group_chillers.map((l) => Int32Array.from(l)),
      group_crahs: groupMembers(crahGroup, groupIds.length),
      upses: { device: unitDevice(upsDevs, upsHall.length), capacity_w: Float64Array.from(upsCap), hall: Int32Array.from(upsHall) },
      hall_upses: groupMembers(upsHall, halls.length),
      pv: { device: unitDevice(pvDevs, pvKwp.length), capacity_w: Float64Array.from(pvKwp, (k) => k * 1000), behind_meter: Uint8Array.from(pvBehind) },
      devices,
    };
    return { ok: true, plan, skipped: this.skipped };
  }

  /** Devices whose power is a share of their rack's IT load (or of a virtual rack of their own). */
  private carriesRackLoad(m: { d: Device; kind: ModelKind }): boolean {
    if (m.kind === 'pdu') return true;
    return m.kind === 'meter' && m.d.meter?.role === 'it' && m.d.meter.level !== 'ups_out';
  }

  private rackDraft(r: SiteInventory['racks'][number], ri: number, hall: number, inRack: Modelled[]): RackDraft {
    const h: RackSimHints = this.hints.racks[ri] ?? {};
    const gpuDevices = inRack.filter((m) => m.kind === 'gpu');
    const carriers = inRack.filter((m) => this.carriesRackLoad(m));
    const available = r.status === 'available';
    const workload: Workload = h.workload ?? (!available ? 'empty' : gpuDevices.length > 0 ? 'gpu_training' : carriers.length > 0 ? 'general' : 'empty');
    const rated_w = r.rated_kw * 1000;
    const gpu = gpuSpec(h.gpu_model ?? gpuDevices[0]?.hints.gpu_model);
    const gpus_per_server = h.gpus_per_server ?? gpuDevices[0]?.hints.gpus ?? 8;
    const servers = workload === 'gpu_training' ? (h.servers ?? (gpuDevices.length > 0 ? gpuDevices.length : Math.max(1, Math.floor(r.rated_kw / 10.2)))) : 0;
    if (workload === 'gpu_training' && h.servers !== undefined && h.servers < gpuDevices.length) {
      this.problem(`racks[${ri}].sim.servers`, `${h.servers} servers but the rack holds ${gpuDevices.length} GPU server devices`);
    }
    // Mean load: the rack's hint, else its devices' hints (one level: A/B PDUs share one load), else by workload.
    const deviceHinted = carriers.reduce((a, m) => a + (m.hints.load_kw ?? 0), 0);
    let mean_w: number;
    if (workload === 'empty') mean_w = 0;
    else if (workload === 'gpu_training') mean_w = servers * gpuServerPowerW(gpu, gpus_per_server, 0.6) + GPU_RACK_NETWORK_W;
    else if (h.load_kw !== undefined) mean_w = h.load_kw * 1000;
    else if (deviceHinted > 0) mean_w = deviceHinted * 1000;
    else if (workload === 'idle') mean_w = Math.min(IDLE_RACK_W, 0.05 * rated_w);
    else mean_w = DEFAULT_LOAD_RATIO[workload] * rated_w;
    if (workload === 'gpu_training' && servers * gpuServerPowerW(gpu, gpus_per_server, 1) + GPU_RACK_NETWORK_W > rated_w * 1.05) {
      this.problem(`racks[${ri}]`, `(${r.id}) ${servers} × ${gpus_per_server} ${gpu.model} need ${Math.round(servers * gpuServerPowerW(gpu, gpus_per_server, 1) / 100) / 10} kW at full load, above rated_kw ${r.rated_kw}`);
    }
    return { id: r.id, hall, group: h.cooling_group ?? r.hall, rated_w, workload, mean_w, available, servers, gpus_per_server, gpu };
  }

  private devicePlan(
    modelled: Modelled[],
    racks: RackPlan,
    rackIndex: Map<string, number>,
    virtualOf: Map<number, number>,
    hallOf: (d: Device) => number,
    units: Record<'crahDevs' | 'chillerDevs' | 'upsDevs' | 'pvDevs', Modelled[]>,
  ): DevicePlan {
    const unitIndex = (list: Modelled[]) => new Map(list.map((m, u) => [m.d.id, u]));
    const crahOf = unitIndex(units.crahDevs);
    const chillerOf = unitIndex(units.chillerDevs);
    const upsOf = unitIndex(units.upsDevs);
    const pvOf = unitIndex(units.pvDevs);
    const n = modelled.length;
    const plan: DevicePlan = {
      ids: modelled.map((m) => m.d.id),
      inventory_index: Int32Array.from(modelled, (m) => m.i),
      kind: modelled.map((m) => m.kind),
      measure: new Uint8Array(n),
      target: new Int32Array(n).fill(-1),
      share: new Float64Array(n).fill(1),
      rated_w: new Float64Array(n),
      phase_shares: new Float64Array(3 * n),
      phase_voltage_offsets: new Float64Array(3 * n),
      outlet_shares: [],
      gpus: new Int32Array(n),
      gpu: [],
      gpu_phase: new Float64Array(n),
      role: modelled.map((m) => m.d.meter?.role),
      level: modelled.map((m) => (m.d.meter?.role === 'it' ? m.d.meter.level : undefined)),
      behind_meter: Uint8Array.from(modelled, (m) => (m.d.meter?.behind_meter ? 1 : 0)),
      rack: Int32Array.from(modelled, (m) => (m.d.rack !== undefined ? (rackIndex.get(m.d.rack) ?? -1) : -1)),
    };
    const shareGroups = new Map<string, number[]>();
    const addShare = (key: string, k: number) => {
      const list = shareGroups.get(key);
      if (list) list.push(k);
      else shareGroups.set(key, [k]);
    };

    modelled.forEach((m, k) => {
      const { d, kind, hints } = m;
      const rack = d.rack !== undefined ? rackIndex.get(d.rack) : virtualOf.get(m.i);
      const rackRated = rack !== undefined ? racks.rated_w[rack]! : 0;
      plan.rated_w[k] = d.meter?.rated_kw !== undefined ? d.meter.rated_kw * 1000 : rackRated;
      plan.gpu[k] = undefined;
      plan.outlet_shares[k] = new Float64Array(0);
      switch (kind) {
        case 'pdu':
        case 'meter': {
          const role = d.meter?.role;
          if (kind === 'pdu' || (role === 'it' && d.meter?.level !== 'ups_out')) {
            plan.measure[k] = MEASURE.rack;
            plan.target[k] = rack ?? -1;
            addShare(`rack|${rack}|${kind === 'pdu' ? 'pdu_out' : (d.meter?.level ?? '')}`, k);
            if (kind === 'pdu') plan.outlet_shares[k] = this.outletShares(hints.outlets ?? this.profiles.get(d.profile)?.simulation?.outlets ?? DEFAULT_PDU_OUTLETS);
          } else if (role === 'it') {
            plan.measure[k] = MEASURE.hall_ups_out;
            plan.target[k] = hallOf(d);
            addShare(`hall_ups_out|${hallOf(d)}`, k);
          } else {
            const measure = role === 'facility_in' ? MEASURE.utility : role === 'green_feed' ? MEASURE.green_feed : role === 'export' ? MEASURE.export : role === 'cooling' ? MEASURE.cooling : role === 'other' ? MEASURE.other : MEASURE.pv_share;
            plan.measure[k] = measure;
            addShare(`role|${measure}`, k);
          }
          break;
        }
        case 'ups':
          plan.measure[k] = MEASURE.ups;
          plan.target[k] = upsOf.get(d.id) ?? -1;
          plan.rated_w[k] = hints.capacity_kw !== undefined ? hints.capacity_kw * 1000 : d.meter?.rated_kw !== undefined ? d.meter.rated_kw * 1000 : 0;
          break;
        case 'chiller':
          plan.measure[k] = MEASURE.chiller;
          plan.target[k] = chillerOf.get(d.id) ?? -1;
          break;
        case 'crah':
          plan.measure[k] = MEASURE.crah;
          plan.target[k] = crahOf.get(d.id) ?? -1;
          break;
        case 'pv_inverter':
          plan.measure[k] = MEASURE.pv;
          plan.target[k] = pvOf.get(d.id) ?? -1;
          break;
        case 'gpu': {
          plan.measure[k] = MEASURE.server;
          plan.target[k] = rack ?? -1;
          const spec = gpuSpec(hints.gpu_model ?? (rack !== undefined ? racks.gpu[rack]?.model : undefined));
          plan.gpu[k] = hints.cpu_model !== undefined ? { ...spec, cpu_model: hints.cpu_model } : spec;
          plan.gpus[k] = hints.gpus ?? (rack !== undefined ? racks.gpus_per_server[rack]! : 8) ?? 8;
          plan.gpu_phase[k] = this.rng.between(0, 2 * Math.PI);
          addShare(`server|${rack}`, k);
          break;
        }
        case 'sensor':
          plan.measure[k] = MEASURE.sensor;
          plan.target[k] = rack ?? -1;
          break;
      }
      const shares = [1 + this.rng.between(-0.06, 0.06), 1 + this.rng.between(-0.06, 0.06), 1 + this.rng.between(-0.06, 0.06)];
      const sum = shares[0]! + shares[1]! + shares[2]!;
      for (let p = 0; p < 3; p++) {
        plan.phase_shares[3 * k + p] = shares[p]! / sum;
        plan.phase_voltage_offsets[3 * k + p] = this.rng.between(-0.01, 0.01);
      }
    });

    // Shares within each group of devices measuring the same thing: hints, else even with a small A/B imbalance.
    for (const members of shareGroups.values()) {
      const weights = members.map((k) => {
        const h = modelled[k]!.hints;
        return h.share ?? (h.load_kw !== undefined && h.load_kw > 0 ? h.load_kw : undefined);
      });
      const allHinted = weights.every((w) => w !== undefined);
      const raw = members.map((_, j) => (allHinted ? weights[j]! : 1 + this.rng.between(-0.04, 0.04)));
      const explicitShares = members.every((k) => modelled[k]!.hints.share !== undefined);
      const total = raw.reduce((a, b) => a + b, 0);
      members.forEach((k, j) => {
        plan.share[k] = explicitShares ? raw[j]! : total > 0 ? raw[j]! / total : 0;
      });
    }
    return plan;
  }

  /** Outlet shares of a PDU's inlet power: a few outlets unused, the rest uneven, Σ = 99.6 % (own draw). */
  private outletShares(n: number): Float64Array {
    const out = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const used = n <= 2 || this.rng.next() > 0.2;
      out[i] = used ? this.rng.between(0.5, 1.5) : 0;
      sum += out[i]!;
    }
    if (sum === 0 && n > 0) {
      out[0] = 1;
      sum = 1;
    }
    for (let i = 0; i < n; i++) out[i] = (out[i]! / sum) * 0.996;
    return out;
  }
}

function definedOnly<T extends Record<string, number | undefined>>(o: T): Partial<Record<keyof T, number>> {
  const out: Partial<Record<keyof T, number>> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k as keyof T] = v;
  return out;
}
