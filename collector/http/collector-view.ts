import type { Cluster } from '../../contract/inventory.js';
import type { AgentState, DeviceStatus, KpiMessage } from '../../contract/messages.js';
import type { DeviceProfile } from '../../contract/profile.js';
import type { AlertEngine } from '../alerts/index.js';
import type { OnRackRule } from '../kpi/site-model.js';
import { siteFloor } from '../live/site-floor.js';
import { isStale, type LatestValues } from '../state/latest-values.js';
import type { SiteDevice, SiteEntry } from '../state/site-registry.js';
import type { ApiSource, ClusterSummary, DevicePoint, DeviceSummary, HealthReport, SiteSummary } from './api-source.js';
import type { MetricFamily } from '../../shared/metrics/exposition.js';

/**
 * The site collector's view model: the shapes /api/sites, /api/sites/:id/kpi, /api/clusters and
 * the device, floor and alert routes answer, built from the collector's state (read only). The
 * collector hands its state in; the HTTP layer owns what the answers look like.
 */
export interface CollectorViewState {
  readonly sites: ReadonlyMap<string, SiteEntry>;
  readonly clusters: ReadonlyMap<string, Cluster>;
  readonly deviceStatus: ReadonlyMap<string, ReadonlyMap<string, DeviceStatus>>;
  readonly agentState: ReadonlyMap<string, ReadonlyMap<string, AgentState>>;
  readonly latest: LatestValues;
  readonly profiles: ReadonlyMap<string, DeviceProfile>;
  readonly on_rack: OnRackRule;
  readonly alerts: AlertEngine | undefined;
  now(): number;
  latestKpi(site: string): KpiMessage | undefined;
  latestClusterKpi(cluster: string): KpiMessage | undefined;
  health(): HealthReport;
  metrics(): MetricFamily[];
}

function siteSummary(v: CollectorViewState, entry: SiteEntry): SiteSummary {
  const inv = entry.inventory;
  const statuses = [...(v.deviceStatus.get(inv.site.id)?.values() ?? [])];
  const agents = [...(v.agentState.get(inv.site.id)?.entries() ?? [])].map(([id, a]) => ({ id, online: a.online, ts: a.ts }));
  return {
    id: inv.site.id,
    name: inv.site.name,
    timezone: inv.site.timezone,
    ...(inv.site.cluster !== undefined ? { cluster: inv.site.cluster } : {}),
    targets: inv.targets,
    halls: inv.halls.length,
    racks: inv.racks.length,
    devices: inv.devices.length,
    devices_down: statuses.filter((s) => s.state === 'down').length,
    devices_degraded: statuses.filter((s) => s.state === 'degraded').length,
    agents,
    kpi_ts: v.latestKpi(inv.site.id)?.ts ?? null,
  };
}

function deviceSummary(v: CollectorViewState, site: string, d: SiteDevice, now: number): DeviceSummary {
  const last = v.latest.deviceTs(site, d.device.id);
  return {
    id: d.device.id,
    profile: d.device.profile,
    ...(d.class !== undefined ? { class: d.class } : {}),
    ...d.tags,
    interval_s: d.device.interval_s,
    status: v.deviceStatus.get(site)?.get(d.device.id) ?? null,
    last_ts: last ?? null,
    stale: isStale(last === undefined ? undefined : { ts_ms: last }, now, d.device.interval_s),
  };
}

/** The read-only view the HTTP API serves. */
export function collectorApiSource(v: CollectorViewState): ApiSource {
  const empty = (id: string): KpiMessage => ({ schema: 1, site: id, ts: v.now(), kpis: [] });
  return {
    sites: () => [...v.sites.values()].map((e) => siteSummary(v, e)),
    siteKpis: (id) => (v.sites.has(id) ? (v.latestKpi(id) ?? empty(id)) : undefined),
    devices: (id) => {
      const entry = v.sites.get(id);
      if (!entry) return undefined;
      const now = v.now();
      return { site: id, ts: now, devices: [...entry.devices.values()].map((d) => deviceSummary(v, id, d, now)) };
    },
    device: (id, deviceId) => {
      const d = v.sites.get(id)?.devices.get(deviceId);
      if (!d) return undefined;
      const now = v.now();
      const points = v.latest.deviceSeries(id, deviceId).map((p): DevicePoint => ({ ...p, stale: isStale(p, now, d.device.interval_s) }));
      return { site: id, ts: now, device: deviceSummary(v, id, d, now), points };
    },
    alerts: (filter) => v.alerts?.list(filter),
    alert: (id) => v.alerts?.get(id),
    floor: (id) => {
      const entry = v.sites.get(id);
      if (!entry) return undefined;
      const statuses = v.deviceStatus.get(id);
      return siteFloor({ inventory: entry.inventory, profiles: v.profiles, series: (d) => v.latest.deviceSeries(id, d), status: (d) => statuses?.get(d), now: v.now(), on_rack: v.on_rack });
    },
    clusters: () =>
      [...v.clusters.values()].map(
        (c): ClusterSummary => ({
          id: c.id,
          name: c.name,
          // The roll-up's windows are those of its first served site (kpi-engine.ts).
          timezone: v.sites.get(c.sites.find((s) => v.sites.has(s)) ?? '')?.inventory.site.timezone ?? 'UTC',
          targets: c.targets,
          sites: c.sites,
          kpi_ts: v.latestClusterKpi(c.id)?.ts ?? null,
        }),
      ),
    clusterKpis: (id) => (v.clusters.has(id) ? (v.latestClusterKpi(id) ?? empty(id)) : undefined),
    health: () => v.health(),
    metrics: () => v.metrics(),
  };
}
