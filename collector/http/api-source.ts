import type { Targets } from '../../contract/inventory.js';
import type { KpiMessage } from '../../contract/messages.js';
import type { SinkHealth } from '../store/metric-sink.js';
import type { MetricFamily } from './prometheus-text.js';

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

export interface ClusterSummary {
  id: string;
  name: string;
  targets: Targets;
  sites: string[];
  kpi_ts: number | null;
}

export interface HealthReport {
  /** ok: all green; degraded: broker or store unreachable, or KPIs late (the collector keeps buffering). */
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
  clusters(): ClusterSummary[];
  clusterKpis(cluster: string): KpiMessage | undefined;
  health(): HealthReport;
  metrics(): MetricFamily[];
}
