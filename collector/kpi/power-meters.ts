import { profilePoints } from '../../contract/profile.js';
import type { ItLevel, MeterRole, SiteInventory } from '../../contract/inventory.js';
import type { DeviceProfile } from '../../contract/profile.js';

/**
 * The meters of one site as the power KPIs see them: role, IT level, poll interval, and which
 * point carries the device's total active power.
 */
export interface PowerMeter {
  device: string;
  role: MeterRole;
  level?: ItLevel;
  behind_meter: boolean;
  interval_s: number;
  /** The point holding total active power (the profile point marked `kpi: active_power_w`). */
  power_point: string;
}

export interface SitePowerModel {
  site: string;
  target_pue: number;
  meters: PowerMeter[];
}

/** Point name used when no profile is known or the profile marks none. */
export const DEFAULT_POWER_POINT = 'active_power_w';

/** The profile's scalar (non-table) point that means total active power. */
export function powerPointOf(profile: DeviceProfile | undefined): string {
  if (!profile) return DEFAULT_POWER_POINT;
  return profilePoints(profile).find((p) => p.kpi === 'active_power_w' && p.index_tag === undefined)?.name ?? DEFAULT_POWER_POINT;
}

export function sitePowerModel(inv: SiteInventory, profiles?: ReadonlyMap<string, DeviceProfile>): SitePowerModel {
  const meters: PowerMeter[] = [];
  for (const d of inv.devices) {
    if (!d.meter) continue;
    meters.push({
      device: d.id,
      role: d.meter.role,
      ...(d.meter.level !== undefined ? { level: d.meter.level } : {}),
      behind_meter: d.meter.behind_meter,
      interval_s: d.interval_s,
      power_point: powerPointOf(profiles?.get(d.profile)),
    });
  }
  return { site: inv.site.id, target_pue: inv.targets.pue, meters };
}
