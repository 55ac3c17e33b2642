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
