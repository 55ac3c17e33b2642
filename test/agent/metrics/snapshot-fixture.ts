import type { AgentStats } from '../../../agent/agent.js';
import type { AgentSnapshot } from '../../../agent/metrics/agent-snapshot.js';
import type { DevicePollStats } from '../../../agent/scheduler.js';
import { emptyOutboxStats } from '../../../agent/telemetry-outbox.js';

export const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

export function devicePoll(over: Partial<DevicePollStats> = {}): DevicePollStats {
  return { polls: 0, down_polls: 0, consecutive_failures: 0, overruns: 0, reader_errors: 0, last_ts: null, last_ok: null, last_poll_ms: null, requests: 0, retries: 0, timeouts: 0, probes: 0, backoff_ms: 0, next_due_ts: null, ...over };
}

/** A three-device agent one minute after start: a PDU up, a meter down since its 3rd poll, a BMC not yet polled. */
export function snapshot(over: { stats?: Partial<AgentStats>; devices?: AgentSnapshot['devices'] } = {}): AgentSnapshot {
  const telemetry = emptyOutboxStats();
  Object.assign(telemetry, { submitted: 20, published: 17, replayed: 4, refused_invalid: 1, refused_spool: 2, in_flight: 1, backlog: 2, live_pending: 1, last_puback_ts: T0 + 59_500 });
  Object.assign(telemetry.spool, { records: 3, pending_bytes: 3 * 700, bytes: 3 * 1024 * 1024, segments: 2, oldest_ts: T0 + 45_000, oldest_age_ms: 15_000, dropped_records: 5, dropped_bytes: 3500, refused_records: 2, quarantined_segments: 1, unreadable_records: 6, fsync_errors: 7 });
  const stats: AgentStats = {
    agent: 'edge1',
    site: 'demo',
    devices: 3,
    seq_next: 21,
    readings_dropped: 9,
    implausible: { 'pdu-r01-a': { DCIM_E_VALUE_OUT_OF_RANGE: 2, DCIM_E_VALUE_STUCK: 1 } },
    mqtt: { connected: true, protocol_version: 4, connects: 2, bd_seq: 5, published: 30, refused_offline: 3, refused_invalid: 1, refused_by_broker: 4, failed: 1 },
    telemetry,
    polling: {
      in_flight: 1,
      queued: 0,
      probes_queued: 2,
      devices: {
        'pdu-r01-a': devicePoll({ polls: 12, requests: 24, retries: 1, timeouts: 1, last_ts: T0 + 55_000, last_ok: T0 + 55_000, last_poll_ms: 42, faults: { DCIM_E_SUNSPEC_CHAIN_TRUNCATED: 2 } }),
        'meter-incomer-1': devicePoll({ polls: 12, down_polls: 10, consecutive_failures: 10, overruns: 3, reader_errors: 1, probes: 7, backoff_ms: 40_000, requests: 30, retries: 10, timeouts: 20, last_ts: T0 + 55_000, last_ok: T0 + 10_000, last_poll_ms: 1200 }),
      },
    },
    snmp: { sockets: 1, sessions: 2, sent: 40, received: 37, stray: 3, malformed: 4, send_errors: 5, socket_errors: 6, requests: 31, timeouts: 8, invalid_answers: 11, pending: 2 },
    ...over.stats,
  };
  return {
    stats,
    version: '0.1.0',
    started_ms: T0,
    now_ms: T0 + 60_000,
    devices: over.devices ?? [
      { id: 'pdu-r01-a', profile: 'apc-rpdu2', state: 'up' },
      { id: 'meter-incomer-1', profile: 'eastron-sdm630', state: 'down' },
      { id: 'gpu-r11-1', profile: 'redfish-gpu-server', state: undefined },
    ],
  };
}
