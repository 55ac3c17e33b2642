import type { DevicePollStats } from '../scheduler.js';
import { countStates, DEVICE_STATES, pollTotals, type AgentSnapshot, type DeviceSnapshot } from './agent-snapshot.js';
import type { MetricFamily, MetricType, Sample } from '../../shared/metrics/exposition.js';
import { PLAUSIBILITY_CODES } from '../plausibility/plausibility.js';

/**
 * The agent's Prometheus metrics (README "Metrics"), a pure function of one snapshot.
 * Agent-wide series carry `site` and `agent`; per-device series carry `site`, `device` and
 * `profile` (bounded identity, as the InfluxDB tags). Times and durations are in seconds and
 * sizes in bytes, the Prometheus base units. Counters count since the agent started; a restart
 * resets them, which `rate()` handles.
 */
interface MetricDef {
  type: MetricType;
  help: string;
  /** Label names besides the family's identity labels, in order. */
  extra?: readonly string[];
  scope: 'agent' | 'device';
}

export const AGENT_METRICS = {
  dcim_agent_info: { scope: 'agent', type: 'gauge', help: 'Always 1; the version label is the agent version.', extra: ['version'] },
  dcim_agent_start_time_seconds: { scope: 'agent', type: 'gauge', help: 'When the agent started, seconds since the epoch.' },
  dcim_agent_devices: { scope: 'agent', type: 'gauge', help: 'Devices this agent polls.' },
  dcim_agent_devices_by_state: { scope: 'agent', type: 'gauge', help: 'Devices by current status (up, degraded, down; unpolled before their first poll).', extra: ['state'] },
  dcim_agent_polls_in_flight: { scope: 'agent', type: 'gauge', help: 'Polls running now (bounded by the global concurrency cap).' },
  dcim_agent_polls_queued: { scope: 'agent', type: 'gauge', help: 'Polls due and waiting for a free slot under the concurrency cap.' },
  dcim_agent_probes_queued: { scope: 'agent', type: 'gauge', help: 'Probes of dead devices waiting for a slot of their own lane (at most a quarter of the cap).' },
  dcim_agent_reader_errors_total: { scope: 'agent', type: 'counter', help: 'Polls whose reader threw (a bug; the device counts as down for that poll).' },
  dcim_agent_readings_dropped_total: { scope: 'agent', type: 'counter', help: 'Readings dropped because the message contract refused them (DCIM_E_READING_INVALID).' },
  dcim_agent_readings_implausible_total: { scope: 'agent', type: 'counter', help: 'Readings published uncertain or bad by a plausibility check, by code: sentinel (VALUE_UNAVAILABLE), out of range, inconsistent, stuck, counter decreased.', extra: ['code'] },
  dcim_agent_mqtt_connected: { scope: 'agent', type: 'gauge', help: '1 while connected to the MQTT broker, else 0.' },
  dcim_agent_mqtt_connects_total: { scope: 'agent', type: 'counter', help: 'Successful MQTT connections (the first and every reconnect).' },
  dcim_agent_mqtt_bd_seq: { scope: 'agent', type: 'gauge', help: 'Birth/death sequence of the current MQTT connection (-1 before the first).' },
  dcim_agent_mqtt_protocol_version: { scope: 'agent', type: 'gauge', help: 'MQTT protocol spoken: 5, or 4 (3.1.1) with a broker that refused 5 (a publish its ACL denies then goes undetected).' },
  dcim_agent_mqtt_publishes_total: { scope: 'agent', type: 'counter', help: 'MQTT messages acknowledged by the broker (telemetry, statuses, agent state).' },
  dcim_agent_mqtt_publish_failures_total: { scope: 'agent', type: 'counter', help: 'MQTT publishes that failed after being handed to the client.' },
  dcim_agent_mqtt_refused_total: { scope: 'agent', type: 'counter', help: 'Publishes refused before sending: reason offline (no connection) or invalid (contract check).', extra: ['reason'] },
  dcim_agent_telemetry_submitted_total: { scope: 'agent', type: 'counter', help: 'Telemetry messages accepted into the spool.' },
  dcim_agent_telemetry_published_total: { scope: 'agent', type: 'counter', help: 'Telemetry messages acknowledged by the broker (PUBACK).' },
  dcim_agent_telemetry_replayed_total: { scope: 'agent', type: 'counter', help: 'Of the published telemetry, messages sent from the backlog after an outage or restart.' },
  dcim_agent_telemetry_refused_total: { scope: 'agent', type: 'counter', help: 'Telemetry messages never spooled: reason invalid (contract check) or spool (full or failing disk).', extra: ['reason'] },
  dcim_agent_telemetry_in_flight: { scope: 'agent', type: 'gauge', help: 'Telemetry messages awaiting their PUBACK.' },
  dcim_agent_telemetry_backlog: { scope: 'agent', type: 'gauge', help: 'Waiting telemetry from before the current connection (replayed, paced).' },
  dcim_agent_telemetry_live_pending: { scope: 'agent', type: 'gauge', help: 'Waiting telemetry appended since the current connection came up.' },
  dcim_agent_telemetry_last_puback_timestamp_seconds: { scope: 'agent', type: 'gauge', help: 'When the broker last acknowledged telemetry, seconds since the epoch (absent before the first).' },
  dcim_agent_spool_records: { scope: 'agent', type: 'gauge', help: 'Records in the disk spool waiting for their PUBACK (spool depth).' },
  dcim_agent_spool_pending_bytes: { scope: 'agent', type: 'gauge', help: 'Bytes of the waiting records.' },
  dcim_agent_spool_bytes: { scope: 'agent', type: 'gauge', help: 'Bytes of spool segment files on disk (what spool.max_bytes bounds).' },
  dcim_agent_spool_segments: { scope: 'agent', type: 'gauge', help: 'Spool segment files on disk.' },
  dcim_agent_spool_oldest_age_seconds: { scope: 'agent', type: 'gauge', help: 'Age of the oldest waiting record (0 when the spool is empty).' },
  dcim_agent_spool_dropped_records_total: { scope: 'agent', type: 'counter', help: 'Records dropped at the byte or age bound (DCIM_E_SPOOL_DROPPED).' },
  dcim_agent_spool_dropped_bytes_total: { scope: 'agent', type: 'counter', help: 'Bytes dropped at the byte or age bound.' },
  dcim_agent_spool_refused_records_total: { scope: 'agent', type: 'counter', help: 'Records the spool refused to write: disk full or failing (DCIM_E_SPOOL_WRITE).' },
  dcim_agent_spool_quarantined_segments_total: { scope: 'agent', type: 'counter', help: 'Corrupt segments moved to quarantine/ (DCIM_E_SPOOL_CORRUPT).' },
  dcim_agent_spool_unreadable_records_total: { scope: 'agent', type: 'counter', help: 'Records that failed their CRC at read time and were skipped.' },
  dcim_agent_spool_fsync_errors_total: { scope: 'agent', type: 'counter', help: 'Failed fsync calls on spool segments.' },
  dcim_agent_snmp_sockets: { scope: 'agent', type: 'gauge', help: 'UDP sockets open for SNMP, shared by every SNMP device (one per address family).' },
  dcim_agent_snmp_datagrams_sent_total: { scope: 'agent', type: 'counter', help: 'SNMP datagrams sent over the shared sockets (lean GETs, walks, SNMPv3), retries included.' },
  dcim_agent_snmp_datagrams_received_total: { scope: 'agent', type: 'counter', help: 'Datagrams received on the shared SNMP sockets, refused ones included.' },
  dcim_agent_snmp_requests_total: { scope: 'agent', type: 'counter', help: 'Lean SNMP GETs (v1/v2c) sent, retries included; walks and SNMPv3 go through net-snmp and count only as datagrams.' },
  dcim_agent_snmp_requests_in_flight: { scope: 'agent', type: 'gauge', help: 'Lean SNMP GETs awaiting their answer.' },
  dcim_agent_snmp_timeouts_total: { scope: 'agent', type: 'counter', help: 'Lean SNMP GETs that timed out (DCIM_E_SNMP_TIMEOUT).' },
  dcim_agent_snmp_answers_refused_total: { scope: 'agent', type: 'counter', help: 'SNMP answers refused: reason invalid (a lean GET answer with bad BER or another community, version or PDU; DCIM_E_SNMP_MALFORMED), malformed (a datagram whose header could not be read), stray (no request waits for it: late after a timeout, or never asked).', extra: ['reason'] },
  dcim_agent_snmp_send_errors_total: { scope: 'agent', type: 'counter', help: 'SNMP datagrams not sent: the socket could not be opened or the kernel refused the send.' },
  dcim_agent_snmp_socket_errors_total: { scope: 'agent', type: 'counter', help: 'Errors of a shared SNMP socket; it is replaced on the next send, requests in flight time out.' },
  dcim_agent_device_state: { scope: 'device', type: 'gauge', help: 'Current device status: 1 for the state it is in, 0 for the others (absent before the first poll).', extra: ['state'] },
  dcim_agent_device_polls_total: { scope: 'device', type: 'counter', help: 'Polls of the device.' },
  dcim_agent_device_poll_failures_total: { scope: 'device', type: 'counter', help: 'Polls that read nothing (the device was down).' },
  dcim_agent_device_requests_total: { scope: 'device', type: 'counter', help: 'Protocol requests sent (SNMP PDUs, Modbus reads, HTTP requests), retries included.' },
  dcim_agent_device_retries_total: { scope: 'device', type: 'counter', help: 'Requests sent again after a timeout or a busy answer.' },
  dcim_agent_device_timeouts_total: { scope: 'device', type: 'counter', help: 'Requests that got no answer within the timeout.' },
  dcim_agent_device_overruns_total: { scope: 'device', type: 'counter', help: 'Poll slots skipped because the previous poll outlasted the interval.' },
  dcim_agent_device_probes_total: { scope: 'device', type: 'counter', help: 'Polls sent as probes of a dead device: one request, no retries.' },
  dcim_agent_device_backoff_seconds: { scope: 'device', type: 'gauge', help: 'Extra wait before the next poll of a dead device, beyond its interval (0 while it answers).' },
  dcim_agent_device_poll_duration_seconds: { scope: 'device', type: 'gauge', help: 'Duration of the last poll.' },
  dcim_agent_device_last_poll_timestamp_seconds: { scope: 'device', type: 'gauge', help: 'Start of the last poll, seconds since the epoch (absent before the first).' },
  dcim_agent_device_last_success_timestamp_seconds: { scope: 'device', type: 'gauge', help: 'Start of the last poll that read anything, seconds since the epoch (absent until one did).' },
  dcim_agent_device_readings_implausible_total: { scope: 'device', type: 'counter', help: 'Readings of the device published uncertain or bad by a plausibility check, by code (a series appears at its first such reading).', extra: ['code'] },
  dcim_agent_device_faults_total: { scope: 'device', type: 'counter', help: 'Device faults outside any one reading, by code (a SunSpec chain that ends early, loops or overruns; a changed model ID); a series appears at its first fault.', extra: ['code'] },
  dcim_agent_device_consecutive_failures: { scope: 'device', type: 'gauge', help: 'Polls in a row that read nothing (0 once the device answers).' },
} as const satisfies Record<string, MetricDef>;

export type AgentMetricName = keyof typeof AGENT_METRICS;

const s = (ms: number) => ms / 1000;

export function agentMetricFamilies(snap: AgentSnapshot): MetricFamily[] {
  const { stats } = snap;
  const agent = { site: stats.site, agent: stats.agent };
  const totals = pollTotals(stats);
  const states = countStates(snap.devices);
  const tel = stats.telemetry;
  const spool = tel.spool;
  const mqtt = stats.mqtt;
  const snmp = stats.snmp;

  const samples = new Map<AgentMetricName, Sample[]>();
  const add = (name: AgentMetricName, value: number, labels: Record<string, string> = agent) => {
    let list = samples.get(name);
    if (!list) samples.set(name, (list = []));
    list.push({ labels, value });
  };

  add('dcim_agent_info', 1, { ...agent, version: snap.version });
  add('dcim_agent_start_time_seconds', s(snap.started_ms));
  add('dcim_agent_devices', snap.devices.length);
  for (const state of [...DEVICE_STATES, 'unpolled'] as const) add('dcim_agent_devices_by_state', states[state], { ...agent, state });
  add('dcim_agent_polls_in_flight', stats.polling.in_flight);
  add('dcim_agent_polls_queued', stats.polling.queued);
  add('dcim_agent_probes_queued', stats.polling.probes_queued);
  add('dcim_agent_reader_errors_total', totals.reader_errors);
  add('dcim_agent_readings_dropped_total', stats.readings_dropped);
  for (const code of PLAUSIBILITY_CODES) {
    let n = 0;
    for (const byCode of Object.values(stats.implausible)) n += byCode[code] ?? 0;
    add('dcim_agent_readings_implausible_total', n, { ...agent, code });
  }
  add('dcim_agent_mqtt_connected', mqtt.connected ? 1 : 0);
  add('dcim_agent_mqtt_connects_total', mqtt.connects);
  add('dcim_agent_mqtt_bd_seq', mqtt.bd_seq);
  add('dcim_agent_mqtt_protocol_version', mqtt.protocol_version ?? 5);
  add('dcim_agent_mqtt_publishes_total', mqtt.published);
  add('dcim_agent_mqtt_publish_failures_total', mqtt.failed);
  add('dcim_agent_mqtt_refused_total', mqtt.refused_offline, { ...agent, reason: 'offline' });
  add('dcim_agent_mqtt_refused_total', mqtt.refused_invalid, { ...agent, reason: 'invalid' });
  add('dcim_agent_mqtt_refused_total', mqtt.refused_by_broker, { ...agent, reason: 'broker' });
  add('dcim_agent_telemetry_submitted_total', tel.submitted);
  add('dcim_agent_telemetry_published_total', tel.published);
  add('dcim_agent_telemetry_replayed_total', tel.replayed);
  add('dcim_agent_telemetry_refused_total', tel.refused_invalid, { ...agent, reason: 'invalid' });
  add('dcim_agent_telemetry_refused_total', tel.refused_spool, { ...agent, reason: 'spool' });
  add('dcim_agent_telemetry_in_flight', tel.in_flight);
  add('dcim_agent_telemetry_backlog', tel.backlog);
  add('dcim_agent_telemetry_live_pending', tel.live_pending);
  if (tel.last_puback_ts !== null) add('dcim_agent_telemetry_last_puback_timestamp_seconds', s(tel.last_puback_ts));
  add('dcim_agent_spool_records', spool.records);
  add('dcim_agent_spool_pending_bytes', spool.pending_bytes);
  add('dcim_agent_spool_bytes', spool.bytes);
  add('dcim_agent_spool_segments', spool.segments);
  add('dcim_agent_spool_oldest_age_seconds', s(spool.oldest_age_ms));
  add('dcim_agent_spool_dropped_records_total', spool.dropped_records);
  add('dcim_agent_spool_dropped_bytes_total', spool.dropped_bytes);
  add('dcim_agent_spool_refused_records_total', spool.refused_records);
  add('dcim_agent_spool_quarantined_segments_total', spool.quarantined_segments);
  add('dcim_agent_spool_unreadable_records_total', spool.unreadable_records);
  add('dcim_agent_spool_fsync_errors_total', spool.fsync_errors);
  add('dcim_agent_snmp_sockets', snmp.sockets);
  add('dcim_agent_snmp_datagrams_sent_total', snmp.sent);
  add('dcim_agent_snmp_datagrams_received_total', snmp.received);
  add('dcim_agent_snmp_requests_total', snmp.requests);
  add('dcim_agent_snmp_requests_in_flight', snmp.pending);
  add('dcim_agent_snmp_timeouts_total', snmp.timeouts);
  add('dcim_agent_snmp_answers_refused_total', snmp.invalid_answers, { ...agent, reason: 'invalid' });
  add('dcim_agent_snmp_answers_refused_total', snmp.malformed, { ...agent, reason: 'malformed' });
  add('dcim_agent_snmp_answers_refused_total', snmp.stray, { ...agent, reason: 'stray' });
  add('dcim_agent_snmp_send_errors_total', snmp.send_errors);
  add('dcim_agent_snmp_socket_errors_total', snmp.socket_errors);

  for (const d of snap.devices) {
    addDevice(add, stats.site, d, stats.polling.devices[d.id]);
    // Only codes a device has shown: five zero series per device would mostly say nothing.
    for (const code of PLAUSIBILITY_CODES) {
      const n = stats.implausible[d.id]?.[code];
      if (n) add('dcim_agent_device_readings_implausible_total', n, { site: stats.site, device: d.id, profile: d.profile, code });
    }
  }

  return (Object.keys(AGENT_METRICS) as AgentMetricName[]).map((name) => ({
    name,
    type: AGENT_METRICS[name].type,
    help: AGENT_METRICS[name].help,
    samples: samples.get(name) ?? [],
  }));
}

function addDevice(add: (name: AgentMetricName, value: number, labels: Record<string, string>) => void, site: string, d: DeviceSnapshot, p: DevicePollStats | undefined): void {
  const labels = { site, device: d.id, profile: d.profile };
  if (d.state !== undefined) for (const state of DEVICE_STATES) add('dcim_agent_device_state', d.state === state ? 1 : 0, { ...labels, state });
  add('dcim_agent_device_polls_total', p?.polls ?? 0, labels);
  add('dcim_agent_device_poll_failures_total', p?.down_polls ?? 0, labels);
  add('dcim_agent_device_requests_total', p?.requests ?? 0, labels);
  add('dcim_agent_device_retries_total', p?.retries ?? 0, labels);
  add('dcim_agent_device_timeouts_total', p?.timeouts ?? 0, labels);
  add('dcim_agent_device_overruns_total', p?.overruns ?? 0, labels);
  add('dcim_agent_device_probes_total', p?.probes ?? 0, labels);
  add('dcim_agent_device_backoff_seconds', s(p?.backoff_ms ?? 0), labels);
  add('dcim_agent_device_consecutive_failures', p?.consecutive_failures ?? 0, labels);
  if (p?.last_poll_ms != null) add('dcim_agent_device_poll_duration_seconds', s(p.last_poll_ms), labels);
  if (p?.last_ts != null) add('dcim_agent_device_last_poll_timestamp_seconds', s(p.last_ts), labels);
  if (p?.last_ok != null) add('dcim_agent_device_last_success_timestamp_seconds', s(p.last_ok), labels);
  for (const [code, n] of Object.entries(p?.faults ?? {})) if (n) add('dcim_agent_device_faults_total', n, { ...labels, code });
}
