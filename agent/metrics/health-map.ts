import type { AgentHealthField } from '../../contract/storage-schema.js';
import type { AgentSummary } from './agent-snapshot.js';

/**
 * The agent's self-metrics as the flat `health` map of its retained state message
 * (contract AgentState.health; the collector writes it to `agent_health`). Names are snake_case
 * with the unit suffix of contract/units.ts (`_count`, `_s`, `_ms`, `_mib`); `mqtt_connected`
 * is 1 or 0. Counters (`polls_total_count`, `poll_errors_count` …) count since the agent
 * started: `uptime_s` tells a restart from a quiet period. The map is a summary for the
 * central side; the per-device detail stays on the agent's /metrics endpoint, so the state
 * message keeps the same small size with ten or ten thousand devices. The field names and their
 * help are contract/storage-schema.ts AGENT_HEALTH_HELP.
 */

export type HealthField = AgentHealthField;
export type HealthMap = Record<HealthField, number>;

const MIB = 1024 * 1024;
/** Three decimals are plenty for a dashboard, and keep the retained message short. */
const round3 = (x: number) => Math.round(x * 1000) / 1000;

export function healthMap(snap: AgentSummary): HealthMap {
  const { stats, totals: t, states } = snap;
  const spool = stats.telemetry.spool;
  return {
    uptime_s: round3(Math.max(0, snap.now_ms - snap.started_ms) / 1000),
    devices_count: snap.devices_count,
    devices_up_count: states.up,
    devices_degraded_count: states.degraded,
    devices_down_count: states.down,
    devices_unpolled_count: states.unpolled,
    devices_backing_off_count: t.backing_off,
    polls_total_count: t.polls,
    poll_errors_count: t.down_polls,
    poll_requests_count: t.requests,
    poll_retries_count: t.retries,
    poll_timeouts_count: t.timeouts,
    poll_overruns_count: t.overruns,
    poll_probes_count: t.probes,
    poll_duration_max_ms: round3(t.max_last_poll_ms),
    poll_duration_mean_ms: round3(t.mean_last_poll_ms),
    polls_in_flight_count: stats.polling.in_flight,
    polls_queued_count: stats.polling.queued,
    readings_dropped_count: stats.readings_dropped,
    telemetry_published_count: stats.telemetry.published,
    telemetry_backlog_count: stats.telemetry.backlog,
    telemetry_refused_count: stats.telemetry.refused_invalid + stats.telemetry.refused_spool,
    spool_records_count: spool.records,
    spool_pending_mib: round3(spool.pending_bytes / MIB),
    spool_disk_mib: round3(spool.bytes / MIB),
    spool_oldest_age_s: round3(spool.oldest_age_ms / 1000),
    spool_dropped_count: spool.dropped_records,
    spool_refused_count: spool.refused_records,
    mqtt_connected: stats.mqtt.connected ? 1 : 0,
    mqtt_connects_count: stats.mqtt.connects,
    // Stray answers are left out: a late answer after a timeout is ordinary on a slow network.
    snmp_refused_answers_count: stats.snmp.invalid_answers + stats.snmp.malformed,
  };
}
