import type { Targets } from '../../contract/inventory.js';
import type { DeviceStatus, KpiMessage } from '../../contract/messages.js';
import type { AlertFilter, AlertMessage } from '../alerts/index.js';
import type { SiteFloor } from '../live/site-floor.js';
import type { SinkHealth } from '../store/metric-sink.js';
import type { MetricFamily } from '../../shared/metrics/exposition.js';

/**
 * What the HTTP API reads, and nothing else: the collector implements it, tests can too. The
 * API never reaches into the collector's parts (engine, sink, subscriber) directly.
 */
export interface SiteSummary {
  id: string;
  name: string;
  timezone: string;
  cluster?: string;
  targets: Targets;
  halls: number;
  racks: number;
  devices: number;
  /** Devices whose last retained status is `down` / `degraded`. */
  devices_down: number;
  devices_degraded: number;
  /** Agents of the site and whether each is online (its retained birth/death state). */
  agents: { id: string; online: boolean; ts: number }[];
  /** When the site's KPIs were last evaluated; null before the first evaluation. */
  kpi_ts: number | null;
}

/** A device as the API shows it: where it sits, its retained status and the age of its data. */
export interface DeviceSummary {
  id: string;
  profile: string;
  class?: string;
  hall?: string;
  rack?: string;
  role?: string;
  level?: string;
  interval_s: number;
  /** The device's retained status (agent's view), or null before the first. */
  status: DeviceStatus | null;
  /** Poll time of its newest reading, or null before the first. */
  last_ts: number | null;
  /** No reading for max(3 × interval, 5 min) (docs/design.md §5), or never one. */
  stale: boolean;
}

export interface DevicePoint {
  point: string;
  index?: Partial<Record<string, string>>;
  value: number | string | boolean;
  unit?: string;
  quality: 'good' | 'uncertain';
  ts_ms: number;
  stale: boolean;
}

export interface ClusterSummary {
  id: string;
  name: string;
  /** The time zone its windows align to: its first served site's (a month report needs it). */
  timezone: string;
  targets: Targets;
  sites: string[];
  kpi_ts: number | null;
}

export interface HealthReport {
  /** ok: all green; degraded: broker not connected, store not `ok` (unreachable, refusing, unwritable), or KPIs late (the collector keeps buffering). */
  status: 'ok' | 'degraded';
  broker: { connected: boolean };
  store: SinkHealth & { pending_points: number };
  kpi: { last_evaluation_ms: number | null; age_ms: number | null; interval_ms: number; late: boolean };
  problems: string[];
}

export interface ApiSource {
  sites(): SiteSummary[];
  /** undefined: no such site; a message without KPIs before the first evaluation. */
  siteKpis(site: string): KpiMessage | undefined;
  /** undefined: no such site. */
  devices(site: string): { site: string; ts: number; devices: DeviceSummary[] } | undefined;
  /** undefined: no such site or device. The latest value of every point, with its age. */
  device(site: string, device: string): { site: string; ts: number; device: DeviceSummary; points: DevicePoint[] } | undefined;
  /** Alerts matching the filter (newest state of each); undefined when alerting is off. */
  alerts(filter: AlertFilter): AlertMessage[] | undefined;
  alert(id: string): AlertMessage | undefined;
  /**
   * The site's halls, racks (power, headroom, inlet temperature) and cooling units from the latest
   * values; undefined: no such site. Optional: a source without live device state has no floor.
   */
  floor?(site: string): SiteFloor | undefined;
  clusters(): ClusterSummary[];
  clusterKpis(cluster: string): KpiMessage | undefined;
  health(): HealthReport;
  metrics(): MetricFamily[];
  /** A bureau's view of its sites (GET /api/bureau/sites); absent on a site collector. */
  bureauSites?(): unknown[];
}
