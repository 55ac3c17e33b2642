import type { Device, SiteInventory } from '../../contract/index.js';
import { localTimeIn, type LocalTimeFn } from './local-time.js';
import { Rng, hash32 } from './rng.js';

/**
 * The physical model of one site: IT load per IT meter, facility draw = IT × (1 + overhead),
 * energy counters integrated from power. Pure: a state plus a step in simulated time gives the
 * next state; the RNG state travels inside the state, so a seed and a step sequence always
 * give the same numbers. It knows nothing of SNMP, Modbus or profiles.
 */

/** Defaults the brief and DESIGN.md agree on; all in one place so tests can quote them. */
export const LOAD_MODEL = {
  /** Mean IT load as a share of the meter's rating when the seed gives no `sim.load_kw`. */
  default_load_ratio: 0.6,
  /** Daily rhythm amplitude (± share of the mean), peaking at 14:00 local time. */
  daily_amplitude: 0.1,
  daily_peak_hour: 14,
  /** Slow random walk of each IT load (Ornstein-Uhlenbeck, bounded per second). */
  walk_tau_s: 7200,
  walk_sigma_per_sqrt_s: 0.0003,
  walk_max_rate_per_s: 0.0003,
  walk_limit: 0.08,
  /** UPS and distribution losses: ~4 % at full load, ~6 % near idle (UPS efficiency curve). */
  ups_loss_full_load: 0.04,
  ups_loss_extra_idle: 0.02,
  /** Cooling overhead grows with outdoor temperature between these points (free cooling below). */
  cooling_min_ratio: 0.12,
  cooling_max_ratio: 0.25,
  cooling_min_temp_c: 10,
  cooling_max_temp_c: 35,
  lighting_ratio: 0.015,
  /** Synthetic outdoor climate (a Gui'an-like annual mean and swings). */
  outdoor_mean_c: 15,
  outdoor_seasonal_c: 10,
  outdoor_daily_c: 6,
  outdoor_walk_tau_s: 21_600,
  outdoor_walk_sigma: 0.01,
  outdoor_walk_max_rate: 0.01,
  /** Grid: nominal phase voltage and frequency with small slow wander. */
  nominal_voltage_v: 230,
  nominal_frequency_hz: 50,
} as const;

export interface ItLoadSpec {
  device: string;
  mean_w: number;
  /** Shifts this load's daily peak by up to ±1 h so racks do not move in lock-step. */
  peak_shift_h: number;
}

/** What the model needs to know about a device to derive its electrical quantities. */
export interface DeviceStatic {
  role: ModelledRole;
  rated_w: number;
  /** Share of the power on L1, L2, L3 (sums to 1). */
  phase_shares: readonly [number, number, number];
  /** Per-phase voltage deviation from the site's grid voltage (wiring drop, imbalance). */
  phase_voltage_offsets: readonly [number, number, number];
}

export type ModelledRole = 'it' | 'facility_in' | 'cooling' | 'other';

export interface SiteModelConfig {
  site: string;
  local_time: LocalTimeFn;
  it_loads: readonly ItLoadSpec[];
  facility_in: readonly string[];
  cooling: readonly string[];
  other: readonly string[];
  /** Every modelled device by id. */
  devices: Readonly<Record<string, DeviceStatic>>;
  /** Σ rated power of the IT load carriers, for the UPS loss curve. */
  it_rated_w: number;
}

export interface SkippedDevice {
  device: string;
  reason: string;
}

export interface DevicePower {
  power_w: number;
  energy_kwh: number;
}

export interface GridState {
  voltage_ratio: number;
  frequency_hz: number;
}

export interface OverheadState {
  ups_loss_ratio: number;
  cooling_ratio: number;
  lighting_ratio: number;
}

export interface SiteModelState {
  sim_ts: number;
  rng: number;
  /** Relative deviation of each IT load from its rhythm (random walk). */
  load_walk: Readonly<Record<string, number>>;
  outdoor_walk_c: number;
  outdoor_temp_c: number;
  grid: GridState;
  overhead: OverheadState;
  it_power_w: number;
  facility_power_w: number;
  devices: Readonly<Record<string, DevicePower>>;
}

const IT_LEVEL_ORDER = ['it_in', 'pdu_out', 'ups_out'] as const;

/**
 * Derive the model's view of a site. Problems that make the site unusable are returned as
 * strings (the shell turns them into one config error); devices the model cannot simulate yet
 * are returned as `skipped` with the reason, and the shell logs them.
 */
export function buildSiteModel(
  inventory: SiteInventory,
  seed: number,
): { ok: true; config: SiteModelConfig; skipped: SkippedDevice[] } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const skipped: SkippedDevice[] = [];
  let local_time: LocalTimeFn;
  try {
    local_time = localTimeIn(inventory.site.timezone);
  } catch {
    return { ok: false, problems: [`site.timezone: unknown time zone ${inventory.site.timezone}`] };
  }
  const rng = new Rng(seed ^ hash32(inventory.site.id));
  const rackRated = new Map(inventory.racks.map((r) => [r.id, r.rated_kw * 1000]));

  // PUE sums IT at one level (DESIGN.md §4): the most downstream level present carries the load.
  const itLevels = new Set(inventory.devices.filter((d) => d.meter?.role === 'it').map((d) => d.meter?.level));
  const carrierLevel = IT_LEVEL_ORDER.find((l) => itLevels.has(l));

  const devices: Record<string, DeviceStatic> = {};
  const it_loads: ItLoadSpec[] = [];
  const byRole: Record<'facility_in' | 'cooling' | 'other', string[]> = { facility_in: [], cooling: [], other: [] };
  inventory.devices.forEach((d: Device, i) => {
    const role = d.meter?.role;
    if (role === undefined) {
      skipped.push({ device: d.id, reason: 'no meter role; only metered devices are simulated so far' });
      return;
    }
    if (role === 'it' && d.meter?.level !== carrierLevel) {
      skipped.push({ device: d.id, reason: `IT level ${d.meter?.level} upstream of ${carrierLevel}; nested IT levels are not simulated yet` });
      return;
    }
    if (role !== 'it' && role !== 'facility_in' && role !== 'cooling' && role !== 'other') {
      skipped.push({ device: d.id, reason: `meter role ${role} is not simulated yet` });
      return;
    }
    const ratedFromSeed = d.meter?.rated_kw !== undefined ? d.meter.rated_kw * 1000 : d.rack !== undefined ? rackRated.get(d.rack) : undefined;
    let rated_w = ratedFromSeed;
    if (role === 'it') {
      const hinted = d.sim?.load_kw;
      const mean_w = typeof hinted === 'number' ? hinted * 1000 : ratedFromSeed !== undefined ? ratedFromSeed * LOAD_MODEL.default_load_ratio : undefined;
      if (mean_w === undefined || mean_w <= 0) {
        problems.push(`devices[${i}] (${d.id}): an it meter needs sim.load_kw > 0, meter.rated_kw or a rack with rated_kw`);
        return;
      }
      rated_w ??= mean_w / LOAD_MODEL.default_load_ratio;
      it_loads.push({ device: d.id, mean_w, peak_shift_h: rng.between(-1, 1) });
    } else {
      byRole[role].push(d.id);
    }
    const shares = [1 + rng.between(-0.06, 0.06), 1 + rng.between(-0.06, 0.06), 1 + rng.between(-0.06, 0.06)];
    const sum = shares.reduce((a, b) => a + b, 0);
    devices[d.id] = {
      role,
      // Facility-side meters without a rating are sized later from the site's IT load.
      rated_w: rated_w ?? 0,
      phase_shares: [shares[0]! / sum, shares[1]! / sum, shares[2]! / sum],
      phase_voltage_offsets: [rng.between(-0.01, 0.01), rng.between(-0.01, 0.01), rng.between(-0.01, 0.01)],
    };
  });
  if (it_loads.length === 0 && problems.length === 0) problems.push('devices: the simulator needs at least one it meter with a load');
  if (problems.length > 0) return { ok: false, problems };

  const it_rated_w = it_loads.reduce((a, l) => a + (devices[l.device]?.rated_w ?? 0), 0);
  // An unrated facility-side meter is sized for the whole site at the worst-case overhead.
  for (const id of [...byRole.facility_in, ...byRole.cooling, ...byRole.other]) {
    const dev = devices[id];
    if (dev && dev.rated_w === 0) devices[id] = { ...dev, rated_w: it_rated_w * 1.5 };
  }
  return {
    ok: true,
    config: { site: inventory.site.id, local_time, it_loads, facility_in: byRole.facility_in, cooling: byRole.cooling, other: byRole.other, devices, it_rated_w },
    skipped,
  };
}

/** The starting state at `sim_ts`: walks at rest, counters at a plausible age. */
export function initialSiteState(config: SiteModelConfig, seed: number, sim_ts: number): SiteModelState {
  const rng = new Rng(seed ^ hash32(`${config.site}/state`));
  const load_walk: Record<string, number> = {};
  for (const l of config.it_loads) load_walk[l.device] = 0;
  const base = computePowers(config, {
    sim_ts,
    load_walk,
    outdoor_walk_c: 0,
    grid: { voltage_ratio: 1, frequency_hz: LOAD_MODEL.nominal_frequency_hz },
  });
  // Meters in service for 1-3 years at roughly today's load.
  const devices: Record<string, DevicePower> = {};
  for (const [id, p] of Object.entries(base.power_w)) devices[id] = { power_w: p, energy_kwh: round3((p / 1000) * rng.between(8760, 26_280)) };
  return { ...base.summary, sim_ts, rng: rng.state, load_walk, outdoor_walk_c: 0, grid: { voltage_ratio: 1, frequency_hz: LOAD_MODEL.nominal_frequency_hz }, devices };
}

/** Advance the model by `dt_ms` of simulated time. */
export function stepSiteState(config: SiteModelConfig, state: SiteModelState, dt_ms: number): SiteModelState {
  if (!(dt_ms > 0)) return state;
  const dt_s = dt_ms / 1000;
  const rng = new Rng(state.rng);
  const load_walk: Record<string, number> = {};
  for (const l of config.it_loads) {
    load_walk[l.device] = ouStep(state.load_walk[l.device] ?? 0, dt_s, LOAD_MODEL.walk_tau_s, LOAD_MODEL.walk_sigma_per_sqrt_s, LOAD_MODEL.walk_max_rate_per_s, LOAD_MODEL.walk_limit, rng);
  }
  const outdoor_walk_c = ouStep(state.outdoor_walk_c, dt_s, LOAD_MODEL.outdoor_walk_tau_s, LOAD_MODEL.outdoor_walk_sigma, LOAD_MODEL.outdoor_walk_max_rate, 4, rng);
  const grid: GridState = {
    voltage_ratio: 1 + ouStep(state.grid.voltage_ratio - 1, dt_s, 600, 0.0002, 0.0005, 0.02, rng),
    frequency_hz: LOAD_MODEL.nominal_frequency_hz + ouStep(state.grid.frequency_hz - LOAD_MODEL.nominal_frequency_hz, dt_s, 300, 0.001, 0.002, 0.1, rng),
  };
  const sim_ts = state.sim_ts + dt_ms;
  const next = computePowers(config, { sim_ts, load_walk, outdoor_walk_c, grid });
  const devices: Record<string, DevicePower> = {};
  for (const [id, p] of Object.entries(next.power_w)) {
    const prev = state.devices[id];
    const prevPower = prev?.power_w ?? p;
    // Trapezoid over the step: the counter follows the power it reports.
    devices[id] = { power_w: p, energy_kwh: (prev?.energy_kwh ?? 0) + ((prevPower + p) / 2) * (dt_s / 3_600_000) };
  }
  return { ...next.summary, sim_ts, rng: rng.state, load_walk, outdoor_walk_c, grid, devices };
}

interface Drivers {
  sim_ts: number;
  load_walk: Readonly<Record<string, number>>;
  outdoor_walk_c: number;
  grid: GridState;
}

function computePowers(config: SiteModelConfig, d: Drivers): {
  power_w: Record<string, number>;
  summary: Pick<SiteModelState, 'outdoor_temp_c' | 'overhead' | 'it_power_w' | 'facility_power_w'>;
} {
  const local = config.local_time(d.sim_ts);
  const power_w: Record<string, number> = {};
  let it_power_w = 0;
  for (const l of config.it_loads) {
    const daily = Math.sin((2 * Math.PI * (local.hour - (LOAD_MODEL.daily_peak_hour - 6) - l.peak_shift_h)) / 24);
    const p = l.mean_w * (1 + LOAD_MODEL.daily_amplitude * daily) * (1 + (d.load_walk[l.device] ?? 0));
    power_w[l.device] = p;
    it_power_w += p;
  }
  const outdoor_temp_c = outdoorTemperature(local.hour, local.day_of_year) + d.outdoor_walk_c;
  const overhead = overheadRatios(it_power_w, config.it_rated_w, outdoor_temp_c);
  const facility_power_w = it_power_w * (1 + overhead.ups_loss_ratio + overhead.cooling_ratio + overhead.lighting_ratio);
  const split = (ids: readonly string[], total: number) => {
    for (const id of ids) power_w[id] = total / ids.length;
  };
  split(config.facility_in, facility_power_w);
  split(config.cooling, it_power_w * overhead.cooling_ratio);
  split(config.other, it_power_w * overhead.lighting_ratio);
  return { power_w, summary: { outdoor_temp_c, overhead, it_power_w, facility_power_w } };
}

/** Seasonal mean (coldest mid-January) plus a daily swing peaking at 15:00. */
export function outdoorTemperature(hour: number, day_of_year: number): number {
  const seasonal = -LOAD_MODEL.outdoor_seasonal_c * Math.cos((2 * Math.PI * (day_of_year - 15)) / 365);
  const daily = LOAD_MODEL.outdoor_daily_c * Math.sin((2 * Math.PI * (hour - 9)) / 24);
  return LOAD_MODEL.outdoor_mean_c + seasonal + daily;
}

export function overheadRatios(it_power_w: number, it_rated_w: number, outdoor_temp_c: number): OverheadState {
  const loadRatio = it_rated_w > 0 ? Math.min(1, it_power_w / it_rated_w) : 1;
  const t = (outdoor_temp_c - LOAD_MODEL.cooling_min_temp_c) / (LOAD_MODEL.cooling_max_temp_c - LOAD_MODEL.cooling_min_temp_c);
  const cooling = LOAD_MODEL.cooling_min_ratio + (LOAD_MODEL.cooling_max_ratio - LOAD_MODEL.cooling_min_ratio) * Math.min(1, Math.max(0, t));
  return {
    ups_loss_ratio: LOAD_MODEL.ups_loss_full_load + LOAD_MODEL.ups_loss_extra_idle * (1 - loadRatio),
    cooling_ratio: cooling,
    lighting_ratio: LOAD_MODEL.lighting_ratio,
  };
}

/**
 * One Ornstein-Uhlenbeck step towards 0, with the change bounded per second so the served
 * power stays smooth (tests compare readings taken milliseconds apart) and the value bounded.
 */
function ouStep(x: number, dt_s: number, tau_s: number, sigma: number, maxRate: number, limit: number, rng: Rng): number {
  const raw = (-x * dt_s) / tau_s + sigma * Math.sqrt(dt_s) * rng.gaussian();
  const dx = Math.max(-maxRate * dt_s, Math.min(maxRate * dt_s, raw));
  return Math.max(-limit, Math.min(limit, x + dx));
}

function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}
