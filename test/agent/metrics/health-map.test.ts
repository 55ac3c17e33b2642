import { describe, expect, it } from 'vitest';
import { AgentStateSchema, PointNameSchema, unitForName, UNITS } from '../../../contract/index.js';
import { summarize } from '../../../agent/metrics/agent-snapshot.js';
import { healthMap } from '../../../agent/metrics/health-map.js';
import { AGENT_HEALTH_FIELDS, type AgentHealthField } from '../../../contract/storage-schema.js';
import { snapshot, T0 } from './snapshot-fixture.js';

describe('the health map', () => {
  it.each(AGENT_HEALTH_FIELDS)('%s is a contract point name with a unit suffix (or a 0/1 flag)', (name) => {
    expect(PointNameSchema.safeParse(name).success).toBe(true);
    if (name === 'mqtt_connected') expect(unitForName(name)).toBeUndefined();
    else expect(Object.keys(UNITS)).toContain(unitForName(name));
  });

  it('fits the contract AgentState.health', () => {
    const health = healthMap(summarize(snapshot()));
    expect(AgentStateSchema.parse({ online: true, ts: T0, version: '0.1.0', devices: 3, bd_seq: 5, health }).health).toEqual(health);
    // Every field the storage catalogue declares for agent_health (dashboards are checked against it), no other.
    expect(Object.keys(health).sort()).toEqual([...AGENT_HEALTH_FIELDS].sort());
  });

  it.each<[AgentHealthField, number]>([
    ['uptime_s', 60],
    ['devices_count', 3],
    ['devices_up_count', 1],
    ['devices_degraded_count', 0],
    ['devices_down_count', 1],
    ['devices_unpolled_count', 1],
    ['devices_backing_off_count', 1],
    ['poll_probes_count', 7],
    ['polls_total_count', 24],
    ['poll_errors_count', 10],
    ['poll_requests_count', 54],
    ['poll_retries_count', 11],
    ['poll_timeouts_count', 21],
    ['poll_overruns_count', 3],
    ['poll_duration_max_ms', 1200],
    ['poll_duration_mean_ms', 621],
    ['polls_in_flight_count', 1],
    ['polls_queued_count', 0],
    ['readings_dropped_count', 9],
    ['telemetry_published_count', 17],
    ['telemetry_backlog_count', 2],
    ['telemetry_refused_count', 3],
    ['spool_records_count', 3],
    ['spool_pending_mib', 0.002],
    ['spool_disk_mib', 3],
    ['spool_oldest_age_s', 15],
    ['spool_dropped_count', 5],
    ['spool_refused_count', 2],
    ['mqtt_connected', 1],
    ['mqtt_connects_count', 2],
    ['snmp_refused_answers_count', 15], // 11 invalid + 4 malformed; the 3 stray ones are not refusals of bad input
  ])('%s = %s', (name, want) => {
    expect(healthMap(summarize(snapshot()))[name]).toBe(want);
  });

  it('before any poll, with the broker away: zeros, never NaN', () => {
    const snap = snapshot({ devices: [] });
    snap.stats.polling = { in_flight: 0, queued: 0, probes_queued: 0, devices: {} };
    snap.stats.mqtt = { ...snap.stats.mqtt, connected: false };
    snap.now_ms = snap.started_ms - 5; // a clock stepped back
    const h = healthMap(summarize(snap));
    for (const v of Object.values(h)) expect(Number.isFinite(v)).toBe(true);
    expect(h).toMatchObject({ uptime_s: 0, devices_count: 0, poll_duration_mean_ms: 0, poll_duration_max_ms: 0, mqtt_connected: 0 });
  });
});
