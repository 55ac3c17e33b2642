import { profilePoints } from '../../contract/profile.js';
import type { ItLevel, MeterRole, SiteInventory } from '../../contract/inventory.js';
import type { StaleMeter } from '../../contract/messages.js';
import type { DeviceProfile } from '../../contract/profile.js';
import { isStale, staleAfterMs, type LatestValue } from '../state/latest-values.js';

/**
 * The meters of one site as the power KPIs see them (role, IT level, poll interval, and which
 * point carries the device's total active power), and their latest power as the live KPIs use it.
 */
export interface PowerMeter {
  device: string;
  role: MeterRole;
  level?: ItLevel;
  behind_meter: boolean;
  interval_s: number;
  /** The point holding total active power (the profile point marked `kpi: active_power_w`). */
  power_point: string;
  /**
   * The power point is a table column (UPS output power per line): the device's power is the
   * sum of its rows in one poll.
   */
  power_table?: boolean;
}

export interface SitePowerModel {
  site: string;
  target_pue: number;
  meters: PowerMeter[];
}

/** Point name used when no profile is known or the profile marks none. */
export const DEFAULT_POWER_POINT = 'active_power_w';

/**
 * The profile's point that means active power: a scalar one when there is one, else a table
 * column, whose rows add up to the device's power (a KPI point inside a table means the sum of
 * its rows: UPS output power per line).
 */
export function powerPointSpec(profile: DeviceProfile | undefined): { name: string; table: boolean } {
  if (!profile) return { name: DEFAULT_POWER_POINT, table: false };
  const points = profilePoints(profile).filter((p) => p.kpi === 'active_power_w');
  const scalar = points.find((p) => p.index_tag === undefined);
  if (scalar) return { name: scalar.name, table: false };
  const column = points[0];
  return column ? { name: column.name, table: true } : { name: DEFAULT_POWER_POINT, table: false };
}

export function powerPointOf(profile: DeviceProfile | undefined): string {
  return powerPointSpec(profile).name;
}

export function sitePowerModel(inv: SiteInventory, profiles?: ReadonlyMap<string, DeviceProfile>): SitePowerModel {
  const meters: PowerMeter[] = [];
  for (const d of inv.devices) {
    if (!d.meter) continue;
    const power = powerPointSpec(profiles?.get(d.profile));
    meters.push({
      device: d.id,
      role: d.meter.role,
      ...(d.meter.level !== undefined ? { level: d.meter.level } : {}),
      behind_meter: d.meter.behind_meter,
      interval_s: d.interval_s,
      power_point: power.name,
      ...(power.table ? { power_table: true } : {}),
    });
  }
  return { site: inv.site.id, target_pue: inv.targets.pue, meters };
}

/** The latest value of a series, as the live KPIs look it up (the engine's latest power per meter). */
export interface LatestLookup {
  get(site: string, device: string, point: string): LatestValue | undefined;
}

const FACILITY_SIGN: Partial<Record<MeterRole, 1 | -1>> = { facility_in: 1, green_feed: 1, export: -1 };

/** How a meter's power enters P_facility: incomers and green feeds add, export subtracts, PV behind the incomers adds. */
export function facilitySign(m: Pick<PowerMeter, 'role' | 'behind_meter'>): 1 | -1 | 0 {
  if (m.role === 'green_onsite' && m.behind_meter) return 1;
  return FACILITY_SIGN[m.role] ?? 0;
}

/** Watts from a latest value, or undefined when it is not a power figure. */
export function powerW(v: LatestValue): number | undefined {
  if (typeof v.value !== 'number' || !Number.isFinite(v.value)) return undefined;
  if (v.unit === 'kW') return v.value * 1000;
  if (v.unit === undefined || v.unit === 'W') return v.value;
  return undefined;
}

/**
 * How long and how much a stale meter's last power may stand in for it in a live figure. One
 * silent PDU among thirty should not blank a site's live PUE, but a carried value is a guess
 * that grows worse with time and with its weight: past either bound the figure is unknown.
 */
export interface StaleCarry {
  /** How long after a meter goes stale its last value is still carried, ms (0: never). */
  max_ms: number;
  /** The largest share of a side's power (facility, IT, green) that carried values may make up (0: none). */
  max_share: number;
}

/**
 * 15 minutes: a PDU's load seldom moves much within a quarter hour (the energy windows' grain),
 * and with the 5-minute staleness limit an input is at most 20 minutes old. 10 % of a side: a
 * carried meter off by half its value then moves the figure by at most 5 %, and in a site of ~30
 * PDUs three may be silent, while a silent incomer (usually half the facility side) never is carried.
 */
export const DEFAULT_STALE_CARRY: StaleCarry = { max_ms: 15 * 60_000, max_share: 0.1 };

/** A meter's power as a live KPI uses it. */
export interface MeterPower {
  meter: PowerMeter;
  power_w: number;
  ts_ms: number;
  uncertain: boolean;
  /** Stale, its last value carried within the bounds of `StaleCarry`. */
  carried: boolean;
}

/** A meter with no fresh power: never seen, not a power figure, or silent beyond the carry time. */
export interface MeterGap {
  meter: PowerMeter;
  /** Its last valid power and when it was measured, when there is one. */
  last?: { power_w: number; ts_ms: number };
}

export interface LatestPowers {
  /** Fresh and carried meters. */
  powers: Map<PowerMeter, MeterPower>;
  /** Meters that cannot be used, not even carried. */
  gaps: MeterGap[];
}

/** The latest power of each meter at `at_ms`: fresh, carried (stale within `carry.max_ms`) or a gap. */
export function latestPowers(site: string, meters: Iterable<PowerMeter>, latest: LatestLookup, at_ms: number, carry: StaleCarry): LatestPowers {
  const powers = new Map<PowerMeter, MeterPower>();
  const gaps: MeterGap[] = [];
  for (const m of meters) {
    const v = latest.get(site, m.device, m.power_point);
    const w = v === undefined ? undefined : powerW(v);
    if (v === undefined || w === undefined) {
      gaps.push({ meter: m });
      continue;
    }
    const stale = isStale(v, at_ms, m.interval_s);
    if (stale && at_ms - v.ts_ms - staleAfterMs(m.interval_s) > carry.max_ms) gaps.push({ meter: m, last: { power_w: w, ts_ms: v.ts_ms } });
    else powers.set(m, { meter: m, power_w: w, ts_ms: v.ts_ms, uncertain: v.quality !== 'good', carried: stale });
  }
  return { powers, gaps };
}

/** Share of a side's power (by magnitude) that `pick` selects; 1 when a side with picked meters sums to 0. */
export function shareOf(side: readonly MeterPower[], pick: (p: MeterPower) => boolean): number {
  let total = 0;
  let part = 0;
  let picked = false;
  for (const p of side) {
    const w = Math.abs(p.power_w);
    total += w;
    if (pick(p)) {
      part += w;
      picked = true;
    }
  }
  if (total === 0) return picked ? 1 : 0;
  return part / total;
}

/** At most this many stale meters are named in one KPI value (the largest first); `stale_meter_count` has them all. */
export const MAX_STALE_NAMED = 20;

/** The stale meters of a live figure, for the value's `stale_meters`: the largest last power first. */
export function staleMeters(carried: readonly MeterPower[], gaps: readonly MeterGap[]): StaleMeter[] {
  const out: StaleMeter[] = [
    ...carried.map((p) => ({ device: p.meter.device, role: p.meter.role, last_ts_ms: p.ts_ms, power_w: p.power_w, carried: true })),
    ...gaps.map((g) => ({ device: g.meter.device, role: g.meter.role, ...(g.last ? { last_ts_ms: g.last.ts_ms, power_w: g.last.power_w } : {}), carried: false })),
  ];
  out.sort((a, b) => Math.abs(b.power_w ?? 0) - Math.abs(a.power_w ?? 0) || a.device.localeCompare(b.device));
  return out.slice(0, MAX_STALE_NAMED);
}
