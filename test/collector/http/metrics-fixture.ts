import type { CollectorStats } from '../../../collector/collector.js';
import type { HealthReport } from '../../../collector/http/api-source.js';
import type { KpiEngineStats } from '../../../collector/kpi-engine.js';
import { emptySinkStats } from '../../../collector/store/metric-sink.js';

/** Collector stats and health with a value in every counter family: what the /metrics tests render. */
export const engine: KpiEngineStats = { polls: 7, polls_unknown: 0, readings_used: 10, readings_ignored: 1, readings_invalid: 0, readings_late: 0, readings_absorbed: 0, readings_duplicate: 0, power_polls_incomplete: 0, readings_before_restore: 0, pieces_too_old: 0, rollovers: 0, resets: 1, spikes: 0, bucket_bytes: 4096 };
export const stats: CollectorStats = {
  messages_received: 12, messages_invalid: 2, messages_unknown: 0, duplicates: 3, replays_too_old: 0, readings_accepted: 20, readings_invalid: 1, readings_late: 0, states_received: 0, points_to_store: 9, kpi_evaluations: 4, kpi_points_written: 5, kpi_published: 4, kpi_publish_errors: 0, kpi_publish_skipped: 0, handler_errors: 0,
  seq_implausible: 0, seq_rebased: 0, agents_refused: 0, agents_evicted: 0, series_refused: 0, series_forgotten: 0, latest_refused: 0, log_lines_suppressed: 0, alert_observations_refused: 0,
  invalid_by_code: { DCIM_E_MQTT_PAYLOAD_INVALID: 2, DCIM_E_READING_INVALID: 1 },
  sink: { ...emptySinkStats(), points_written: 9, pending: 2, spool: { dir: '/s', bytes: 1000, segments: 1, oldest_age_ms: 2500, dropped_records: 0, refused_records: 0, unreadable_records: 0, recovered_records: 3, fsync_errors: 0 } },
  engine,
  alerts: {
    evaluations: 3, fired: 1, resolved_total: 0, observations_unknown: 0, observations_refused: 0, state_writes: 0, state_write_errors: 0, state_load_errors: 0, pending: 0, firing: 1, resolved: 0,
    firing_by_severity: { info: 0, warning: 0, critical: 1 },
    notifiers: { 'wecom-ops': { sent: 21, failures: 0, rejected: 1, expired: 0, throttled: 2, pending: 0, consecutive_failures: 0, last_error: null, last_success_ms: null, counters: { messages: 20, digests: 1 } } },
  },
};
export const health: HealthReport = { status: 'ok', broker: { connected: true }, store: { target: 'influx_v1 http://db:8086 db=dcim', state: 'unreachable', reason: 'x', since: 1_767_225_600_000, reachable: false, last_success_ms: 1_767_225_600_000, last_error: 'x', retry_at_ms: null, pending_points: 2 }, kpi: { last_evaluation_ms: 1_767_225_605_000, age_ms: 0, interval_ms: 5000, late: false }, problems: [] };
