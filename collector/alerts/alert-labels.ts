import type { DeviceClass } from '../../contract/ids.js';
import { deviceHall, type Device, type MeterRole, type Rack, type SiteInventory } from '../../contract/inventory.js';
import { profilePoints, type DeviceProfile, type KpiMeaning } from '../../contract/profile.js';
import type { DeviceMatch, Scope } from './rule-schema.js';

/**
 * Where every device sits, as alert labels: site, hall, rack, rack group (cooling pod) and the
 * device id, indexed once from the inventories. Labels are bounded identity only; they name the
 * alert (its id is a hash of them), so they never depend on live data.
 */
// A type, not an interface: it must fit Record<string, string | undefined>.
export type PlaceLabels = {
  site: string;
  hall?: string;
  rack?: string;
  rack_group?: string;
  device?: string;
};

export interface AlertDevice {
  id: string;
  labels: PlaceLabels & { device: string };
  class: DeviceClass | undefined;
  profile: string;
  role: MeterRole | undefined;
  interval_s: number;
  /** The hall of its rack group when the whole group stands in one hall (a label of group alerts). */
  group_hall: string | undefined;
  /** Every point name of its profile; undefined when the profile is not known. */
  points: ReadonlySet<string> | undefined;
  /** Point names per KPI meaning, from the profile (`inlet_temp_c` → [inlet_temp_c]). */
  meanings: ReadonlyMap<KpiMeaning, readonly string[]>;
}

export interface AlertSite {
  id: string;
  devices: ReadonlyMap<string, AlertDevice>;
}

/**
 * The rack group (cooling pod, contained aisle) of a rack. Inventory data (`racks[].group`, proposed
 * for contract/inventory.ts); until the contract has it, the seeds only carry the simulator's
 * `sim.cooling_group`, which is read here as a stand-in, in this one place.
 */
export function rackGroupOf(rack: Rack): string | undefined {
  const declared = (rack as Rack & { group?: unknown }).group;
  if (typeof declared === 'string') return declared;
  const hinted = rack.sim?.['cooling_group'];
  return typeof hinted === 'string' ? hinted : undefined;
}

function deviceLabels(inv: SiteInventory, d: Device, racks: ReadonlyMap<string, Rack>): AlertDevice['labels'] {
  const hall = deviceHall(inv, d);
  const rack = d.rack !== undefined ? racks.get(d.rack) : undefined;
  const group = rack ? rackGroupOf(rack) : undefined;
  return {
    site: inv.site.id,
    ...(hall !== undefined ? { hall } : {}),
    ...(d.rack !== undefined ? { rack: d.rack } : {}),
    ...(group !== undefined ? { rack_group: group } : {}),
    device: d.id,
  };
}

export function buildAlertSites(inventories: readonly SiteInventory[], profiles: ReadonlyMap<string, DeviceProfile>): Map<string, AlertSite> {
  const sites = new Map<string, AlertSite>();
  for (const inv of inventories) {
    const racks = new Map(inv.racks.map((r) => [r.id, r]));
    const groupHalls = new Map<string, Set<string>>();
    for (const r of inv.racks) {
      const g = rackGroupOf(r);
      if (g !== undefined) groupHalls.set(g, (groupHalls.get(g) ?? new Set()).add(r.hall));
    }
    const devices = new Map<string, AlertDevice>();
    for (const d of inv.devices) {
      const profile = profiles.get(d.profile);
      const meanings = new Map<KpiMeaning, string[]>();
      const refs = profile ? profilePoints(profile) : [];
      for (const p of refs) {
        if (p.kpi === undefined) continue;
        const list = meanings.get(p.kpi) ?? [];
        if (!list.includes(p.name)) list.push(p.name);
        meanings.set(p.kpi, list);
      }
      const labels = deviceLabels(inv, d, racks);
      const halls = labels.rack_group !== undefined ? groupHalls.get(labels.rack_group) : undefined;
      const group_hall = halls?.size === 1 ? [...halls][0] : undefined;
      devices.set(d.id, { id: d.id, labels, class: profile?.class, profile: d.profile, role: d.meter?.role, interval_s: d.interval_s, group_hall, points: profile ? new Set(refs.map((p) => p.name)) : undefined, meanings });
    }
    sites.set(inv.site.id, { id: inv.site.id, devices });
  }
  return sites;
}

export function deviceMatches(d: AlertDevice, m: DeviceMatch | undefined): boolean {
  if (!m) return true;
  const has = <T>(list: readonly T[] | undefined, v: T | undefined) => list === undefined || (v !== undefined && list.includes(v));
  return (
    has(m.sites, d.labels.site) &&
    has(m.halls, d.labels.hall) &&
    has(m.racks, d.labels.rack) &&
    has(m.rack_groups, d.labels.rack_group) &&
    has(m.devices, d.id) &&
    has(m.classes, d.class) &&
    has(m.profiles, d.profile) &&
    has(m.roles, d.role)
  );
}

/** The point names a device reports for a rule's `point` or `meaning`. */
export function selectedPoints(d: AlertDevice, sel: { point?: string | undefined; meaning?: KpiMeaning | undefined }): readonly string[] {
  // A named point counts for devices whose profile has it (all devices when profiles are unknown).
  if (sel.point !== undefined) return d.points === undefined || d.points.has(sel.point) ? [sel.point] : [];
  if (sel.meaning !== undefined) return d.meanings.get(sel.meaning) ?? [];
  return [];
}

/**
 * The labels of the alert a device contributes to at `scope`. A coarser scope the device lacks
 * falls back to the next finer one it has (a rack without a group alerts per rack, a device
 * without a rack per device), so nothing is lumped together by accident.
 */
export function scopeLabels(d: AlertDevice, scope: Scope): PlaceLabels {
  const l = d.labels;
  const chain: Scope[] = ['site', 'hall', 'rack_group', 'rack', 'device'];
  let effective = scope;
  for (let i = chain.indexOf(scope); i < chain.length; i++) {
    effective = chain[i] as Scope;
    if (effective === 'site' || effective === 'device' || l[effective] !== undefined) break;
  }
  switch (effective) {
    case 'site':
      return { site: l.site };
    case 'hall':
      return { site: l.site, hall: l.hall as string };
    case 'rack_group':
      return { site: l.site, ...(d.group_hall !== undefined ? { hall: d.group_hall } : {}), rack_group: l.rack_group as string };
    case 'rack':
      return { site: l.site, ...(l.hall !== undefined ? { hall: l.hall } : {}), ...(l.rack_group !== undefined ? { rack_group: l.rack_group } : {}), rack: l.rack as string };
    case 'device':
      return { ...l };
  }
}

/** `rack group pod-a (hall h1)`, `rack r05`, `device th-r05`, `site demo`: for summaries. */
export function describePlace(l: PlaceLabels): string {
  if (l.device !== undefined) return `device ${l.device}${l.rack !== undefined ? ` (rack ${l.rack})` : ''}`;
  if (l.rack !== undefined) return `rack ${l.rack}`;
  if (l.rack_group !== undefined) return `rack group ${l.rack_group}${l.hall !== undefined ? ` (hall ${l.hall})` : ''}`;
  if (l.hall !== undefined) return `hall ${l.hall}`;
  return `site ${l.site}`;
}

/** The name a member of a scoped alert is listed by: its rack, else the device. */
export function memberName(d: AlertDevice, scope: Scope): string {
  return scope === 'device' ? d.id : (d.labels.rack ?? d.id);
}
