import { DCIM_VERSION } from '../../contract/index.js';
import { KpiQualitySchema, TargetStatusSchema, type KpiMessage } from '../../contract/messages.js';
import type { CollectorStats } from '../collector.js';
import type { HealthReport } from './api-source.js';
import type { MetricFamily, Sample as MetricSample } from '../../shared/metrics/exposition.js';

/**
 * The collector's state as Prometheus metric families (GET /metrics): its own counters, the
 * store's, the KPI engine's, the HTTP API's, and one gauge family per KPI attribute for every site
 * and cluster. Pure. Counters end in `_total`, times are Unix seconds, ratios are 0..1.
 *
 * KPI series are labelled by identity only (scope, site, kpi, window, basis, category), so a
 * series stays the same while its quality or status changes; quality and status are state sets
 * (one series per possible state, 1 for the current one), which alert rules can match exactly:
 * `dcim_kpi_status{status="red"} == 1`.
 */
export interface MetricsInput {
  collector: string;
  stats: CollectorStats;
  health: HealthReport;
  kpis: { scope: string; kind: 'site' | 'cluster'; message: KpiMessage }[];
}

const COLLECTOR_HELP: Partial<Record<string, string>> = {
  messages_received: 'MQTT messages received.',
  messages_invalid: 'Messages refused whole (bad topic, too large, not JSON, schema, topic/payload mismatch, clock ahead).',
  messages_unknown: 'Valid messages from a site or device not in the inventory.',
  duplicates: 'Telemetry already seen (same agent and seq): QoS 1 redeliveries and replays, not counted again.',
  replays_too_old: 'Replays below the dedup window floor, dropped.',
  readings_accepted: 'Readings accepted from new telemetry.',
  readings_invalid: 'Single readings dropped from otherwise valid telemetry.',
  readings_late: 'Readings older than the latest value of their series (stored, not live).',
  states_received: 'Retained device-status and agent-state messages received.',
  points_to_store: 'Points handed to the store (stored: dcim_store_points_written_total).',
  kpi_evaluations: 'KPI evaluations (one per site or cluster per tick).',
  kpi_points_written: 'KPI points handed to the store (new or changed windows).',
  kpi_published: 'Retained KPI messages the broker acknowledged.',
  kpi_publish_errors: 'Retained KPI messages the broker did not acknowledge.',
  kpi_publish_skipped: 'KPI publishes skipped while the previous one was unacknowledged.',
  handler_errors: 'Exceptions caught in the message path (a bug, never bad input).',
  seq_implausible: 'Telemetry refused: seq further ahead than the agent could have polled, no new birth (DCIM_E_SEQ_IMPLAUSIBLE).',
  seq_rebased: 'Seq leaps believed once after an agent announced a new birth (bd_seq).',
  agents_refused: 'New agent ids refused: their site already tracks as many agents as it has devices (DCIM_E_AGENT_LIMIT).',
  agents_evicted: 'Agents silent for an hour forgotten by the dedup to make room.',
  series_refused: 'Readings refused: their device holds the most index values or point names kept (DCIM_E_READING_SERIES_LIMIT).',
  series_forgotten: 'Index values idle for a day forgotten to make room for a new one.',
  latest_refused: 'New series the latest-value table refused because it was full.',
  log_lines_suppressed: 'Log lines held back by the throttle (one line per kind of problem and period).',
  alert_observations_refused: 'New series or agents the alert engine did not keep (its bounds reached).',
};

const STORE_COUNTERS = ['points_queued', 'points_written', 'points_invalid', 'fields_dropped', 'points_rejected', 'points_lost', 'batches_written', 'batches_rejected', 'batches_split', 'write_errors', 'retries'] as const;

const counter = (name: string, help: string, value: number, labels?: Record<string, string>): MetricFamily => ({ name, help, type: 'counter', samples: [{ value, ...(labels ? { labels } : {}) }] });
const gauge = (name: string, help: string, value: number, labels?: Record<string, string>): MetricFamily => ({ name, help, type: 'gauge', samples: [{ value, ...(labels ? { labels } : {}) }] });
const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? Number.NaN : ms / 1000);

export function collectorMetricFamilies(input: MetricsInput): MetricFamily[] {
  const { stats, health } = input;
  const out: MetricFamily[] = [gauge('dcim_collector_info', 'The collector: id and version.', 1, { collector: input.collector, version: DCIM_VERSION })];

  for (const [key, value] of Object.entries(stats)) {
    if (typeof value !== 'number') continue;
    out.push(counter(`dcim_collector_${key}_total`, COLLECTOR_HELP[key] ?? key.replaceAll('_', ' '), value));
  }
  out.push({
    name: 'dcim_collector_refused_total',
    help: 'Messages and readings refused, by error code (DCIM_E_*).',
    type: 'counter',
    samples: Object.entries(stats.invalid_by_code).map(([code, n]) => ({ labels: { code }, value: n ?? 0 })),
  });
  out.push(gauge('dcim_collector_broker_connected', '1 while the MQTT session is up.', health.broker.connected ? 1 : 0));
  out.push(gauge('dcim_collector_last_kpi_evaluation_timestamp_seconds', 'When KPIs were last evaluated.', seconds(health.kpi.last_evaluation_ms)));

  out.push(...storeMetricFamilies(stats.sink, health));

  for (const [key, value] of Object.entries(stats.engine)) {
    if (typeof value !== 'number') continue;
    if (key.endsWith('_bytes')) out.push(gauge(`dcim_kpi_engine_${key}`, `KPI engine: ${key.replaceAll('_', ' ')}.`, value));
    else out.push(counter(`dcim_kpi_engine_${key}_total`, `KPI engine: ${key.replaceAll('_', ' ')}.`, value));
  }

  if (stats.alerts) {
    const a = stats.alerts;
    out.push({ name: 'dcim_alerts_firing', help: 'Alerts firing now, by severity.', type: 'gauge', samples: Object.entries(a.firing_by_severity).map(([severity, n]) => ({ labels: { severity }, value: n })) });
    out.push(gauge('dcim_alerts_pending', 'Alerts whose condition holds but not yet for their `for` duration.', a.pending));
    out.push(counter('dcim_alerts_fired_total', 'Alerts that started firing.', a.fired));
    out.push(counter('dcim_alerts_resolved_total', 'Alerts that resolved.', a.resolved_total));
    out.push(counter('dcim_alerts_evaluations_total', 'Alert rule evaluations (one per KPI tick).', a.evaluations));
    out.push(counter('dcim_alerts_state_write_errors_total', 'Failed writes of the alert state file.', a.state_write_errors));
    const notifiers = Object.entries(a.notifiers);
    out.push({
      name: 'dcim_alert_notifications_total',
      help: 'Alert notifications by notifier and result (sent, failed attempts, rejected for good, expired undelivered).',
      type: 'counter',
      samples: notifiers.flatMap(([notifier, n]) => [
        { labels: { notifier, result: 'sent' }, value: n.sent },
        { labels: { notifier, result: 'failed' }, value: n.failures },
        { labels: { notifier, result: 'rejected' }, value: n.rejected },
        { labels: { notifier, result: 'expired' }, value: n.expired },
        { labels: { notifier, result: 'throttled' }, value: n.throttled },
      ]),
    });
    out.push({
      name: 'dcim_alert_notifier_events_total',
      help: "A notifier's own counts by event (group robots: messages, digests, truncated, skipped, refused, throttled_by_robot, unreachable).",
      type: 'counter',
      samples: notifiers.flatMap(([notifier, n]) => Object.entries(n.counters ?? {}).map(([event, value]) => ({ labels: { notifier, event }, value }))),
    });
    out.push({ name: 'dcim_alert_notifications_pending', help: 'Alert states waiting for delivery, by notifier.', type: 'gauge', samples: notifiers.map(([notifier, n]) => ({ labels: { notifier }, value: n.pending })) });
  }

  if (stats.summaries) {
    const s = stats.summaries;
    out.push({ name: 'dcim_collector_summaries_published_total', help: 'Site summaries the broker acknowledged, by window.', type: 'counter', samples: Object.entries(s.published).map(([window, n]) => ({ labels: { window }, value: n })) });
    out.push(counter('dcim_collector_summaries_built_total', 'Site summaries built (new closed windows and revisions), each stored.', s.built));
    out.push(counter('dcim_collector_summary_revisions_total', 'Site summaries rebuilt because late data changed a closed window (a higher revision).', s.revisions));
    out.push(counter('dcim_collector_summary_publish_failures_total', 'Site summary publishes refused or failed (ACL, broker gone); kept pending and retried.', s.publish_failures));
    out.push(gauge('dcim_collector_summaries_pending', 'Site summaries waiting for the broker to acknowledge them.', s.pending));
    out.push(gauge('dcim_collector_summaries_in_flight', 'Of the pending site summaries: sent, not answered yet.', s.in_flight));
    out.push(counter('dcim_collector_summaries_expired_total', 'Pending site summaries dropped unsent past the late-data horizon (still in the store).', s.expired));
  }

  if (stats.http) {
    out.push(counter('dcim_http_requests_total', 'HTTP API requests.', stats.http.requests));
    out.push({
      name: 'dcim_http_responses_total',
      help: 'HTTP API responses by status class.',
      type: 'counter',
      samples: Object.entries(stats.http.responses).map(([cls, n]) => ({ labels: { class: cls }, value: n })),
    });
    out.push(counter('dcim_http_unauthorized_total', 'HTTP API requests refused for a missing or wrong bearer token.', stats.http.unauthorized));
    out.push(counter('dcim_http_connections_refused_total', 'HTTP API connections dropped at accept because the connection limit was reached.', stats.http.connections_refused));
  }

  out.push(...kpiFamilies(input.kpis));
  return out;
}

/** The store's counters, state and spool (the collector's and the bureau's /metrics). */
export function storeMetricFamilies(sink: CollectorStats['sink'], health: HealthReport): MetricFamily[] {
  const out: MetricFamily[] = [];
  for (const key of STORE_COUNTERS) out.push(counter(`dcim_store_${key}_total`, `Store: ${key.replaceAll('_', ' ')}.`, sink[key]));
  out.push(gauge('dcim_store_pending_points', 'Points waiting for the store (memory or spool).', sink.pending));
  out.push(gauge('dcim_store_reachable', '1 while the store answers writes.', health.store.reachable ? 1 : 0, { target: health.store.target }));
  out.push({
    name: 'dcim_store_state',
    help: 'The store state: 1 for the current one of ok, unreachable, refusing, unwritable.',
    type: 'gauge',
    samples: (['ok', 'unreachable', 'refusing', 'unwritable'] as const).map((state) => ({ labels: { state }, value: health.store.state === state ? 1 : 0 })),
  });
  out.push(gauge('dcim_store_last_success_timestamp_seconds', 'When the store last took a batch.', seconds(health.store.last_success_ms)));
  if (sink.spool) {
    const s = sink.spool;
    out.push(gauge('dcim_store_spool_bytes', 'Bytes of spool segment files on disk.', s.bytes));
    out.push(gauge('dcim_store_spool_segments', 'Spool segment files.', s.segments));
    out.push(gauge('dcim_store_spool_oldest_age_seconds', 'Age of the oldest batch waiting in the spool.', s.oldest_age_ms / 1000));
    out.push(counter('dcim_store_spool_dropped_batches_total', 'Batches the spool dropped at its max_bytes / max_age_h bound.', s.dropped_records));
    out.push(counter('dcim_store_spool_refused_batches_total', 'Batches the disk refused (full, I/O error).', s.refused_records));
    out.push(counter('dcim_store_spool_unreadable_batches_total', 'Batches that failed their CRC when read back.', s.unreadable_records));
    out.push(counter('dcim_store_spool_fsync_errors_total', 'Failed fsyncs of the spool.', s.fsync_errors));
    out.push(gauge('dcim_store_spool_recovered_batches', 'Batches found in the spool at start.', s.recovered_records));
  }
  return out;
}

export function kpiFamilies(scopes: MetricsInput['kpis']): MetricFamily[] {
  // Filled below, one sample per KPI; handed out as read-only families.
  const fam = (name: string, help: string): MetricFamily & { samples: MetricSample[] } => ({ name, help, type: 'gauge', samples: [] });
  const value = fam('dcim_kpi_value', 'KPI value (only when it could be computed); ratios 0..1, PUE as is.');
  const ok = fam('dcim_kpi_ok', '1 when the KPI has a value, 0 when it is unknown (insufficient, stale, boundary error).');
  const coverage = fam('dcim_kpi_coverage_ratio', 'Share of required inputs present, 0..1.');
  const target = fam('dcim_kpi_target', 'The target the KPI is judged against.');
  const windowEnd = fam('dcim_kpi_window_end_timestamp_seconds', 'End of the window the KPI value covers.');
  const quality = fam('dcim_kpi_quality', 'KPI quality as a state set: 1 for the current one of measured, partial, estimated, insufficient.');
  const status = fam('dcim_kpi_status', 'Target status as a state set: 1 for the current one of green, amber, red, grey.');
  const seen = new Set<string>();
  for (const { scope, kind, message } of scopes) {
    for (const k of message.kpis) {
      const labels: Record<string, string> = { scope: kind, site: scope, kpi: k.kpi, window: k.window, basis: k.basis, ...(k.category !== undefined ? { category: String(k.category) } : {}) };
      const id = JSON.stringify(labels);
      // Two samples with one label set fail the whole scrape: keep the first.
      if (seen.has(id)) continue;
      seen.add(id);
      const push = (f: { samples: MetricSample[] }, v: number | undefined) => {
        if (v !== undefined) f.samples.push({ labels, value: v } satisfies MetricSample);
      };
      push(value, k.ok ? k.value : undefined);
      push(ok, k.ok ? 1 : 0);
      push(coverage, k.coverage);
      push(target, k.target);
      push(windowEnd, k.window_end / 1000);
      for (const q of KpiQualitySchema.options) quality.samples.push({ labels: { ...labels, quality: q }, value: q === k.quality ? 1 : 0 });
      for (const s of TargetStatusSchema.options) status.samples.push({ labels: { ...labels, status: s }, value: s === k.status ? 1 : 0 });
    }
  }
  return [value, ok, coverage, target, windowEnd, quality, status];
}
