import type { DeviceClass } from '../../contract/ids.js';
import type { SiteInventory } from '../../contract/inventory.js';
import type { DeviceStatus } from '../../contract/messages.js';
import { profilePoints, type DeviceProfile } from '../../contract/profile.js';
import { DEFAULT_ON_RACK, FACILITY_TERMS, buildSiteModel, type OnRackRule, type SiteModel } from '../kpi/site-model.js';
import { isStale, type LatestSeries } from '../state/latest-values.js';

/**
 * The site's floor as the wall screen shows it, from the collector's latest values and the
 * inventory: per hall the IT power, an instantaneous hall PUE where the hall's own meters allow
 * one, each rack's power against its rating and its inlet temperature (ASHRAE band), and the
 * cooling units' state. A pure function of its inputs and `now`; stale values are shown as
 * missing, never as current.
 */
export type InletBand = 'recommended' | 'allowable' | 'outside';
export type CoolingState = 'running' | 'stopped' | 'alarm' | 'offline' | 'unknown';

export interface FloorRack {
  id: string;
  status: 'available' | 'reserved' | 'planned';
  rated_kw: number;
  /** The rack has IT meters (those the occupancy KPI reads). */
  metered: boolean;
  /** Σ of the rack's IT meters; null: no meter, or one is stale. */
  power_w: number | null;
  /** At or above the rack's on-rack threshold (max(0.3 kW, 10 % of rated) by default). */
  powered: boolean;
  /** The hottest inlet sensor of the rack; null: none, or all stale. */
  inlet_temp_c: number | null;
  inlet_band: InletBand | null;
}

export interface FloorCoolingUnit {
  id: string;
  class: 'chiller' | 'crah';
  state: CoolingState;
  /** Alarm points that are set (e.g. compressor_alarm). */
  alarms: string[];
  supply_temp_c: number | null;
  return_temp_c: number | null;
  power_w: number | null;
}

export type HallPue = { ok: true; value: number; facility_power_w: number; it_power_w: number } | { ok: false; reason: 'no_hall_meters' | 'stale_or_missing' | 'no_it_power' | 'below_one' };

export interface FloorHall {
  /** null: the devices that belong to no hall (site-wide plant). */
  id: string | null;
  name: string;
  it_power_w: number | null;
  pue: HallPue;
  racks_available: number;
  racks_powered: number;
  /** Available racks with meters but no fresh power: left out of IT power and headroom. */
  racks_unknown: number;
  /** Σ rated kW of the available racks. */
  rated_kw: number;
  /**
   * Rated kW minus measured IT power over the available racks whose power is known (a rack
   * without meters counts as empty); null when no rack power is known.
   */
  headroom_kw: number | null;
  inlet_min_c: number | null;
  inlet_max_c: number | null;
  racks: FloorRack[];
  cooling: FloorCoolingUnit[];
}

export interface SiteFloor {
  site: string;
  ts: number;
  /** ASHRAE TC 9.9 class A1 inlet bands the heat map is coloured by. */
  bands: { recommended_c: [number, number]; allowable_c: [number, number] };
  halls: FloorHall[];
}

export interface SiteFloorInput {
  inventory: SiteInventory;
  profiles: ReadonlyMap<string, DeviceProfile>;
  /** Every latest series of one device. */
  series: (device: string) => readonly LatestSeries[];
  status: (device: string) => DeviceStatus | null | undefined;
  now: number;
  /** The occupancy KPI's on-rack rule (kpi.on_rack), so "racks with power" counts as 上架率 does. */
  on_rack?: OnRackRule;
}

export const ASHRAE_RECOMMENDED_C: [number, number] = [18, 27];
export const ASHRAE_ALLOWABLE_C: [number, number] = [15, 32];

export function inletBand(t: number): InletBand {
  if (t >= ASHRAE_RECOMMENDED_C[0] && t <= ASHRAE_RECOMMENDED_C[1]) return 'recommended';
  if (t >= ASHRAE_ALLOWABLE_C[0] && t <= ASHRAE_ALLOWABLE_C[1]) return 'allowable';
  return 'outside';
}

// The site model (rack meters, groups, on-rack thresholds) is built once per inventory and rule.
const models = new WeakMap<SiteInventory, { rule: string; model: SiteModel }>();
function modelOf(inv: SiteInventory, profiles: ReadonlyMap<string, DeviceProfile>, onRack: OnRackRule): SiteModel {
  const rule = JSON.stringify(onRack);
  let m = models.get(inv);
  if (m?.rule !== rule) models.set(inv, (m = { rule, model: buildSiteModel(inv, profiles, onRack) }));
  return m.model;
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

export function siteFloor(input: SiteFloorInput): SiteFloor {
  const { inventory: inv, profiles, now } = input;
  const model = modelOf(inv, profiles, input.on_rack ?? DEFAULT_ON_RACK);
  const intervals = new Map(inv.devices.map((d) => [d.id, d.interval_s]));
  // One read of each device's series per call (the source may copy them).
  const cache = new Map<string, readonly LatestSeries[]>();
  const seriesOf = (device: string): readonly LatestSeries[] => {
    let s = cache.get(device);
    if (!s) cache.set(device, (s = input.series(device)));
    return s;
  };

  /** Fresh values of one point of a device (all rows of a table point). */
  const fresh = (device: string, point: string): LatestSeries[] =>
    seriesOf(device).filter((s) => s.point === point && !isStale(s, now, intervals.get(device) ?? 60));
  const numberOf = (device: string, point: string | undefined): number | null => {
    if (point === undefined) return null;
    const v = fresh(device, point).find((s) => s.index === undefined)?.value;
    return typeof v === 'number' ? v : null;
  };
  /** A device's total active power: its scalar point, or the sum of its table's rows. */
  const powerOf = (device: string): number | null => {
    const b = model.meters.get(device);
    const point = b?.power_point ?? 'active_power_w';
    const rows = fresh(device, point).filter((s) => typeof s.value === 'number');
    if (rows.length === 0) return null;
    if (b?.power_table) return rows.reduce((a, s) => a + (s.value as number), 0);
    const scalar = rows.find((s) => s.index === undefined);
    return scalar ? (scalar.value as number) : null;
  };
  const sumOf = (devices: readonly string[]): number | null => {
    let sum = 0;
    for (const d of devices) {
      const p = powerOf(d);
      if (p === null) return null;
      sum += p;
    }
    return sum;
  };

  // A device's own hall, else its rack's (indexed: a lookup per device would be racks × devices).
  const rackHall = new Map(inv.racks.map((r) => [r.id, r.hall]));
  const hallOf = new Map<string, string | undefined>(inv.devices.map((d) => [d.id, d.hall ?? (d.rack === undefined ? undefined : rackHall.get(d.rack))]));
  const pointsByProfile = new Map<string, ReturnType<typeof profilePoints>>();
  const inletSensors = new Map<string, { device: string; point: string }[]>();
  const cooling = new Map<string | null, FloorCoolingUnit[]>();
  for (const d of inv.devices) {
    const profile = profiles.get(d.profile);
    if (!profile) continue;
    let points = pointsByProfile.get(d.profile);
    if (!points) pointsByProfile.set(d.profile, (points = profilePoints(profile)));
    const inlet = points.find((p) => p.kpi === 'inlet_temp_c' && p.index_tag === undefined);
    if (inlet && d.rack !== undefined) inletSensors.set(d.rack, [...(inletSensors.get(d.rack) ?? []), { device: d.id, point: inlet.name }]);
    if (profile.class === 'chiller' || profile.class === 'crah') {
      const hall = hallOf.get(d.id) ?? null;
      cooling.set(hall, [...(cooling.get(hall) ?? []), coolingUnit(d.id, profile.class, points, input, fresh, numberOf, powerOf)]);
    }
  }

  const hallPues = hallPuesOf(model, hallOf, powerOf);
  const halls: FloorHall[] = [];
  for (const h of inv.halls) {
    const racks: FloorRack[] = [];
    for (const rb of model.racks.filter((r) => r.rack.hall === h.id)) {
      const r = rb.rack;
      const power_w = rb.meters.length > 0 ? sumOf(rb.meters) : null;
      const temps = (inletSensors.get(r.id) ?? []).map((s) => numberOf(s.device, s.point)).filter((t): t is number => t !== null);
      const inlet = temps.length > 0 ? Math.max(...temps) : null;
      racks.push({
        id: r.id,
        status: r.status,
        rated_kw: r.rated_kw,
        metered: rb.meters.length > 0,
        power_w: power_w === null ? null : round(power_w, 1),
        powered: power_w !== null && power_w / 1000 >= rb.threshold_kw,
        inlet_temp_c: inlet === null ? null : round(inlet, 1),
        inlet_band: inlet === null ? null : inletBand(inlet),
      });
    }
    const available = racks.filter((r) => r.status === 'available');
    const known = available.filter((r) => r.power_w !== null);
    const unknown = available.filter((r) => r.metered && r.power_w === null);
    const it_power = known.reduce((a, r) => a + (r.power_w ?? 0), 0);
    const rated = available.reduce((a, r) => a + r.rated_kw, 0);
    const ratedKnown = rated - unknown.reduce((a, r) => a + r.rated_kw, 0);
    const temps = racks.map((r) => r.inlet_temp_c).filter((t): t is number => t !== null);
    const hallPue = hallPues.get(h.id) ?? { ok: false, reason: 'no_hall_meters' };
    halls.push({
      id: h.id,
      name: h.name ?? h.id,
      it_power_w: hallPue.ok ? hallPue.it_power_w : known.length > 0 ? round(it_power, 1) : null,
      pue: hallPue,
      racks_available: available.length,
      racks_powered: available.filter((r) => r.powered).length,
      racks_unknown: unknown.length,
      rated_kw: round(rated, 1),
      headroom_kw: known.length > 0 ? round(ratedKnown - it_power / 1000, 1) : null,
      inlet_min_c: temps.length > 0 ? Math.min(...temps) : null,
      inlet_max_c: temps.length > 0 ? Math.max(...temps) : null,
      racks,
      cooling: cooling.get(h.id) ?? [],
    });
  }
  const plant = cooling.get(null);
  if (plant && plant.length > 0) {
    halls.push({ id: null, name: '', it_power_w: null, pue: { ok: false, reason: 'no_hall_meters' }, racks_available: 0, racks_powered: 0, racks_unknown: 0, rated_kw: 0, headroom_kw: null, inlet_min_c: null, inlet_max_c: null, racks: [], cooling: plant });
  }
  return { site: inv.site.id, ts: now, bands: { recommended_c: ASHRAE_RECOMMENDED_C, allowable_c: ASHRAE_ALLOWABLE_C }, halls };
}

/**
 * A hall has its own PUE only when every facility-side meter of the site (incomers, exports,
 * green feeds, behind-meter generation) is placed in a hall, and this hall has an incomer: then
 * the hall's facility and IT power (IT meters at the site's PUE level) are both its own. One
 * pass over the meters for all halls.
 */
function hallPuesOf(model: SiteModel, hallOf: ReadonlyMap<string, string | undefined>, powerOf: (d: string) => number | null): Map<string, HallPue> {
  const sign = new Map<string, number>(FACILITY_TERMS.map((t) => [t.group, t.sign]));
  const sums = new Map<string, { facility: number; it: number; incomer: boolean; missing: boolean }>();
  for (const m of model.meters.values()) {
    const s = m.group === undefined ? undefined : sign.get(m.group);
    if (s === undefined && m.group !== 'it') continue;
    const hall = hallOf.get(m.device);
    if (hall === undefined) {
      if (s !== undefined) return new Map(); // a facility meter outside every hall: no hall has its own PUE
      continue;
    }
    let sum = sums.get(hall);
    if (!sum) sums.set(hall, (sum = { facility: 0, it: 0, incomer: false, missing: false }));
    const p = powerOf(m.device);
    if (p === null) sum.missing = true;
    else if (s !== undefined) sum.facility += s * p;
    else sum.it += p;
    if (m.group === 'facility_in') sum.incomer = true;
  }
  const out = new Map<string, HallPue>();
  for (const [hall, sum] of sums) {
    if (!sum.incomer) out.set(hall, { ok: false, reason: 'no_hall_meters' });
    else if (sum.missing) out.set(hall, { ok: false, reason: 'stale_or_missing' });
    else if (sum.it <= 0) out.set(hall, { ok: false, reason: 'no_it_power' });
    else if (sum.facility < sum.it) out.set(hall, { ok: false, reason: 'below_one' });
    else out.set(hall, { ok: true, value: round(sum.facility / sum.it, 3), facility_power_w: round(sum.facility, 1), it_power_w: round(sum.it, 1) });
  }
  return out;
}

/** Supply and return: the profile's KPI meanings first, else chilled-water points by name. */
function coolingUnit(
  id: string,
  cls: Extract<DeviceClass, 'chiller' | 'crah'>,
  points: ReturnType<typeof profilePoints>,
  input: SiteFloorInput,
  fresh: (device: string, point: string) => LatestSeries[],
  numberOf: (device: string, point: string | undefined) => number | null,
  powerOf: (device: string) => number | null,
): FloorCoolingUnit {
  const named = (kpi: 'supply_temp_c' | 'return_temp_c', word: string) =>
    points.find((p) => p.kpi === kpi)?.name ?? points.find((p) => p.name === `chw_${word}_temp_c`)?.name ?? points.find((p) => p.name.includes(word) && p.name.endsWith('_temp_c'))?.name;
  // Run state: a boolean point named running / unit_on / on.
  const runPoint = points.find((p) => p.name === 'running' || p.name === 'unit_on' || p.name === 'on')?.name;
  const alarms = points
    .filter((p) => p.name.endsWith('_alarm') && p.index_tag === undefined)
    .filter((p) => fresh(id, p.name).some((s) => s.value === true || s.value === 1))
    .map((p) => p.name);
  const run = runPoint === undefined ? undefined : fresh(id, runPoint).find((s) => s.index === undefined)?.value;
  const status = input.status(id);
  let state: CoolingState;
  if (status?.state === 'down') state = 'offline';
  else if (alarms.length > 0) state = 'alarm';
  else if (run === true || run === 1) state = 'running';
  else if (run === false || run === 0) state = 'stopped';
  else state = 'unknown';
  const supply = numberOf(id, named('supply_temp_c', 'supply'));
  const ret = numberOf(id, named('return_temp_c', 'return'));
  const power = powerOf(id);
  return {
    id,
    class: cls,
    state,
    alarms,
    supply_temp_c: supply === null ? null : round(supply, 1),
    return_temp_c: ret === null ? null : round(ret, 1),
    power_w: power === null ? null : round(power, 1),
  };
}
