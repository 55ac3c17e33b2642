import { DCIM_VERSION } from '../../contract/index.js';
import type { ApiServerStats } from '../http/api-server.js';
import type { HealthReport } from '../http/api-source.js';
import { kpiFamilies, storeMetricFamilies, type MetricsInput } from '../http/collector-metrics.js';
import type { MetricFamily } from '../../shared/metrics/exposition.js';
import type { SinkStats } from '../store/metric-sink.js';
import type { BureauSiteState, BureauStats } from './bureau.js';

/**
 * The bureau's /metrics: its own counters (refusals by code), per-site freshness, the store's
 * families and the KPI gauges the collector exposes, under the same names, so one dashboard and
 * one set of alert rules read both.
 */
export interface BureauMetricsInput {
  bureau: string;
  stats: BureauStats;
  sink: SinkStats;
  health: HealthReport;
  sites: readonly BureauSiteState[];
  http?: ApiServerStats;
  kpis: MetricsInput['kpis'];
}

const HELP: Partial<Record<keyof BureauStats, string>> = {
  summaries_received: 'Site summary messages received.',
  summaries_stored: 'Summaries of a window the bureau did not hold, stored.',
  summaries_revised: 'Summaries replacing a lower revision of their window, stored.',
  summaries_unchanged: 'Summaries the bureau already held with the same content (redeliveries, republications).',
  summaries_refused: 'Summaries refused (by code: dcim_bureau_refused_total).',
  summaries_restored: 'Summaries read back from the store at start.',
  ticks: 'Roll-up ticks.',
  site_evaluations: 'Site KPI evaluations.',
  cluster_evaluations: 'Cluster roll-ups.',
  kpi_points_written: 'KPI points handed to the store (new or changed windows).',
  points_to_store: 'Points handed to the store (summaries and KPIs).',
  handler_errors: 'Exceptions caught in the message path or the roll-up (a bug, never bad input).',
  log_lines_suppressed: 'Log lines held back by the throttle.',
};

const gauge = (name: string, help: string, samples: MetricFamily['samples']): MetricFamily => ({ name, help, type: 'gauge', samples });
const counter = (name: string, help: string, samples: MetricFamily['samples']): MetricFamily => ({ name, help, type: 'counter', samples });

export function bureauMetricFamilies(input: BureauMetricsInput): MetricFamily[] {
  const { stats, health } = input;
  const out: MetricFamily[] = [gauge('dcim_bureau_info', 'The bureau: id and version.', [{ labels: { bureau: input.bureau, version: DCIM_VERSION }, value: 1 }])];
  for (const [key, help] of Object.entries(HELP)) out.push(counter(`dcim_bureau_${key}_total`, help, [{ value: stats[key as keyof BureauStats] as number }]));
  out.push(counter('dcim_bureau_refused_total', 'Summaries refused, by error code (DCIM_E_SUMMARY_*).', Object.entries(stats.refused_by_code).map(([code, n]) => ({ labels: { code }, value: n ?? 0 }))));
  out.push(gauge('dcim_bureau_sites_silent', 'Sites alerted silent (DCIM_E_SITE_SILENT).', [{ value: stats.sites_silent }]));
  out.push(gauge('dcim_bureau_last_rollup_seconds', 'Duration of the last roll-up tick.', [{ value: stats.last_tick_ms / 1000 }]));
  out.push(gauge('dcim_bureau_broker_connected', '1 while the MQTT session is up.', [{ value: health.broker.connected ? 1 : 0 }]));
  out.push(gauge('dcim_bureau_site_silent', '1 while the site is alerted silent.', input.sites.map((s) => ({ labels: { site: s.site }, value: s.silent ? 1 : 0 }))));
  out.push(gauge('dcim_bureau_site_newest_window_end_timestamp_seconds', 'End of the newest summary window held per site.', input.sites.flatMap((s) => (s.newest_window_end !== null ? [{ labels: { site: s.site }, value: s.newest_window_end / 1000 }] : []))));
  out.push(gauge('dcim_bureau_site_lag_seconds', 'How long after its window end the last quarter-hour summary arrived, per site.', input.sites.flatMap((s) => (s.last_lag_ms !== null ? [{ labels: { site: s.site }, value: s.last_lag_ms / 1000 }] : []))));
  const notifiers = Object.entries(stats.notifiers ?? {});
  out.push(
    counter(
      'dcim_alert_notifications_total',
      'Silence alert notifications by notifier and result (sent, failed attempts, rejected for good, expired undelivered).',
      notifiers.flatMap(([notifier, n]) => (['sent', 'failed', 'rejected', 'expired'] as const).map((result) => ({ labels: { notifier, result }, value: result === 'failed' ? n.failures : n[result] }))),
    ),
  );
  out.push(...storeMetricFamilies(input.sink, health));
  if (input.http) {
    out.push(counter('dcim_http_requests_total', 'HTTP API requests.', [{ value: input.http.requests }]));
    out.push(counter('dcim_http_responses_total', 'HTTP API responses by status class.', Object.entries(input.http.responses).map(([cls, n]) => ({ labels: { class: cls }, value: n }))));
    out.push(counter('dcim_http_unauthorized_total', 'HTTP API requests refused for a missing or wrong bearer token.', [{ value: input.http.unauthorized }]));
  }
  out.push(...kpiFamilies(input.kpis));
  return out;
}
