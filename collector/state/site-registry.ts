import { DcimError } from '../../contract/errors.js';
import { deviceHall, deviceOwner, type Device, type SiteInventory } from '../../contract/inventory.js';
import type { DeviceClass } from '../../contract/ids.js';
import type { DeviceProfile } from '../../contract/profile.js';
import { profileReadingRules, type ProfileReadingRules } from '../ingest/profile-readings.js';
import { sitePowerModel, type SitePowerModel } from '../kpi/power-meters.js';
import type { DeviceTags } from '../store/reading-points.js';

/**
 * What the collector knows of each site, indexed once at construction: devices by id with the
 * tags their points carry, and the meters the power KPIs need. Telemetry from a device that is
 * not in the inventory is refused: tags must stay bounded identity (docs/design.md §7).
 */
export interface SiteDevice {
  device: Device;
  tags: DeviceTags;
  /** The class its profile declares, when profiles are known: the measurement of its readings. */
  class?: DeviceClass;
  /** The readings its profile can produce, when profiles are known: anything else is refused. */
  rules?: ProfileReadingRules;
}

export interface SiteEntry {
  inventory: SiteInventory;
  power: SitePowerModel;
  devices: ReadonlyMap<string, SiteDevice>;
  /** Polls per second all its devices make at their intervals: what bounds a plausible seq step. */
  polls_per_s: number;
  /** The same per owning agent, when the inventory names owners (an agent counts only its own polls). */
  agent_polls_per_s: ReadonlyMap<string, number>;
}

export function deviceTags(inv: SiteInventory, d: Device): DeviceTags {
  const hall = deviceHall(inv, d);
  return {
    ...(hall !== undefined ? { hall } : {}),
    ...(d.rack !== undefined ? { rack: d.rack } : {}),
    ...(d.meter ? { role: d.meter.role } : {}),
    ...(d.meter?.level !== undefined ? { level: d.meter.level } : {}),
  };
}

export function buildSiteRegistry(inventories: readonly SiteInventory[], profiles?: ReadonlyMap<string, DeviceProfile>): Map<string, SiteEntry> {
  const sites = new Map<string, SiteEntry>();
  for (const inv of inventories) {
    if (sites.has(inv.site.id)) throw new DcimError('DCIM_E_CONFIG_INVALID', `site ${inv.site.id} is given twice`);
    const devices = new Map<string, SiteDevice>();
    // Built once per profile: many devices share one.
    const rules = new Map<string, ProfileReadingRules>();
    let polls_per_s = 0;
    const agent_polls_per_s = new Map<string, number>();
    for (const d of inv.devices) {
      const owner = deviceOwner(inv, d);
      if (owner !== undefined) agent_polls_per_s.set(owner, (agent_polls_per_s.get(owner) ?? 0) + 1 / d.interval_s);
      const profile = profiles?.get(d.profile);
      let r = rules.get(d.profile);
      if (profile && !r) rules.set(d.profile, (r = profileReadingRules(profile)));
      polls_per_s += 1 / d.interval_s;
      devices.set(d.id, { device: d, tags: deviceTags(inv, d), ...(profile ? { class: profile.class } : {}), ...(r ? { rules: r } : {}) });
    }
    sites.set(inv.site.id, { inventory: inv, power: sitePowerModel(inv, profiles), devices, polls_per_s, agent_polls_per_s });
  }
  return sites;
}
