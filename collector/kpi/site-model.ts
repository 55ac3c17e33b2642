import { IT_LEVEL_CATEGORY, type ItLevel, type Rack, type SiteInventory } from '../../contract/inventory.js';
import { profilePoints, type DeviceProfile } from '../../contract/profile.js';
import { DECIMAL_RESOLUTION, energyPointOf, type CounterResolution } from '../ledger/counter-range.js';
import { chooseItLevel } from './live-pue.js';
import { powerPointSpec, sitePowerModel, type SitePowerModel } from './power-meters.js';
import { siteCalendar, type SiteCalendar } from '../../shared/time/site-calendar.js';

/**
 * What the KPI engine needs to know of one site, compiled once from its inventory and the device
 * profiles: each meter's energy source and group, each rack's IT meters, the devices that report
 * accelerators and CPUs, the local calendar.
 */

/** The meter groups (contract/summary.ts: sites and the bureau sum the same groups). */
export { METER_GROUPS, type MeterGroup } from '../../contract/summary.js';
import { METER_GROUPS, type MeterGroup } from '../../contract/summary.js';

/** Facility energy = Σ facility_in + Σ green_feed − Σ export + Σ behind-meter green_onsite. */
export const FACILITY_TERMS: readonly { group: MeterGroup; sign: 1 | -1 }[] = [
  { group: 'facility_in', sign: 1 },
  { group: 'green_feed', sign: 1 },
  { group: 'export', sign: -1 },
  { group: 'green_onsite_behind', sign: 1 },
];

export type EnergySource =
  | {
      mode: 'counter';
      point: string;
      modulus_kwh: number | undefined;
      resolution: CounterResolution;
      /** The device also reports one active power figure: the ledger splits the counter's energy in time by it. */
      power_assist: boolean;
    }
  | { mode: 'power'; point: string; table: boolean };

export interface MeterBinding {
  device: string;
  /** The site group the meter's energy adds to; undefined for IT meters at another level. */
  group: MeterGroup | undefined;
  /** The rack whose IT power this meter measures (at the rack's chosen level). */
  rack: string | undefined;
  energy: EnergySource | undefined;
  power_point: string;
  power_table: boolean;
  interval_s: number;
  rated_kw: number | undefined;
}

export interface RackBinding {
  rack: Rack;
  /** Devices measuring the rack's IT power, all at `level`. */
  meters: string[];
  level: ItLevel | 'device' | undefined;
  /** On-rack threshold, kW: max(min_kw, min_ratio × rated_kw). */
  threshold_kw: number;
}

export interface ComputeBinding {
  device: string;
  interval_s: number;
  gpu_model_point: string | undefined;
  gpu_util_point: string | undefined;
  cpu_model_point: string | undefined;
}

export interface OnRackRule {
  /** Absolute floor, kW (default 0.3). */
  min_kw: number;
  /** Share of the rack's rated power (default 0.1). */
  min_ratio: number;
  /** Share of the (observed) day the rack must be above the threshold (default 0.5). */
  day_ratio: number;
}

export const DEFAULT_ON_RACK: OnRackRule = { min_kw: 0.3, min_ratio: 0.1, day_ratio: 0.5 };

export interface SiteModel {
  site: string;
  inventory: SiteInventory;
  calendar: SiteCalendar;
  it_level: ItLevel | undefined;
  category: 1 | 2 | 3 | undefined;
  meters: Map<string, MeterBinding>;
  /** Meters per group that can report energy (the coverage denominators). */
  group_meters: Record<MeterGroup, number>;
  /** Meters per group the inventory declares, whether or not their profile gives energy. */
  group_declared: Record<MeterGroup, number>;
  racks: RackBinding[];
  compute: Map<string, ComputeBinding>;
  power: SitePowerModel;
}

function groupOf(role: string, behind: boolean, level: ItLevel | undefined, itLevel: ItLevel | undefined): MeterGroup | undefined {
  switch (role) {
    case 'it':
      return level !== undefined && level === itLevel ? 'it' : undefined;
    case 'green_onsite':
      return behind ? 'green_onsite_behind' : 'green_onsite_front';
    case 'facility_in':
    case 'export':
    case 'green_feed':
    case 'cooling':
    case 'other':
      return role;
    default:
      return undefined;
  }
}

const LEVELS_UPSTREAM_FIRST: readonly ItLevel[] = ['ups_out', 'pdu_out', 'it_in'];

/** Throws RangeError for an unusable time zone (the caller reports it with the seed's name). */
export function buildSiteModel(inv: SiteInventory, profiles: ReadonlyMap<string, DeviceProfile>, onRack: OnRackRule = DEFAULT_ON_RACK): SiteModel {
  const calendar = siteCalendar(inv.site.timezone);
  const power = sitePowerModel(inv, profiles);
  const it_level = chooseItLevel(power.meters, inv.site.pue_it_level);
  const zero = () => Object.fromEntries(METER_GROUPS.map((g) => [g, 0])) as Record<MeterGroup, number>;
  const group_meters = zero();
  const group_declared = zero();

  // Each rack's IT meters: at the site's PUE level, else the most upstream level the rack has,
  // else any device in the rack that reports active power (a server read over Redfish).
  const rackMeters = new Map<string, { level: ItLevel; device: string }[]>();
  for (const d of inv.devices) {
    if (d.rack === undefined || d.meter?.role !== 'it' || d.meter.level === undefined) continue;
    const list = rackMeters.get(d.rack) ?? [];
    list.push({ level: d.meter.level, device: d.id });
    rackMeters.set(d.rack, list);
  }
  const rackDevices = new Map<string, string[]>();
  for (const d of inv.devices) {
    if (d.rack === undefined || d.meter) continue;
    const p = profiles.get(d.profile);
    if (p && profilePoints(p).some((x) => x.kpi === 'active_power_w')) rackDevices.set(d.rack, [...(rackDevices.get(d.rack) ?? []), d.id]);
  }
  const racks: RackBinding[] = [];
  const rackOf = new Map<string, string>();
  for (const r of inv.racks) {
    const list = rackMeters.get(r.id) ?? [];
    const level = list.some((x) => x.level === it_level) ? it_level : LEVELS_UPSTREAM_FIRST.find((l) => list.some((x) => x.level === l));
    let meters = list.filter((x) => x.level === level).map((x) => x.device);
    let chosen: RackBinding['level'] = level;
    if (meters.length === 0 && rackDevices.has(r.id)) {
      meters = rackDevices.get(r.id)!;
      chosen = 'device';
    }
    for (const m of meters) rackOf.set(m, r.id);
    racks.push({ rack: r, meters, level: meters.length > 0 ? chosen : undefined, threshold_kw: Math.max(onRack.min_kw, onRack.min_ratio * r.rated_kw) });
  }

  const meters = new Map<string, MeterBinding>();
  const compute = new Map<string, ComputeBinding>();
  for (const d of inv.devices) {
    const profile = profiles.get(d.profile);
    const rack = rackOf.get(d.id);
    if (d.meter || rack !== undefined) {
      const group = d.meter ? groupOf(d.meter.role, d.meter.behind_meter, d.meter.level, it_level) : undefined;
      const pp = powerPointSpec(profile);
      const ep = profile ? energyPointOf(profile) : { name: 'energy_kwh', modulus_kwh: undefined, resolution: DECIMAL_RESOLUTION };
      const hasPower = !profile || profilePoints(profile).some((p) => p.kpi === 'active_power_w');
      const energy: EnergySource | undefined = ep
        ? { mode: 'counter', point: ep.name, modulus_kwh: ep.modulus_kwh, resolution: ep.resolution, power_assist: hasPower && !pp.table }
        : hasPower
          ? { mode: 'power', point: pp.name, table: pp.table }
          : undefined;
      if (group) {
        group_declared[group]++;
        if (energy) group_meters[group]++;
      }
      meters.set(d.id, { device: d.id, group, rack, energy, power_point: pp.name, power_table: pp.table, interval_s: d.interval_s, rated_kw: d.meter?.rated_kw });
    }
    if (profile) {
      const pts = profilePoints(profile);
      const gpuModel = pts.find((p) => p.kpi === 'gpu_model')?.name;
      const gpuUtil = pts.find((p) => p.kpi === 'gpu_utilisation_pct')?.name;
      // The contract has no KPI meaning for CPU models yet: the point is found by its name.
      const cpuModel = pts.find((p) => p.name === 'cpu_model')?.name;
      if (gpuModel || gpuUtil || cpuModel) compute.set(d.id, { device: d.id, interval_s: d.interval_s, gpu_model_point: gpuModel, gpu_util_point: gpuUtil, cpu_model_point: cpuModel });
    }
  }

  return {
    site: inv.site.id,
    inventory: inv,
    calendar,
    it_level,
    category: it_level ? IT_LEVEL_CATEGORY[it_level] : undefined,
    meters,
    group_meters,
    group_declared,
    racks,
    compute,
    power,
  };
}
