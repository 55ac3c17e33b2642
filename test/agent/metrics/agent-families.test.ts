import { describe, expect, it } from 'vitest';
import { AGENT_METRICS, agentMetricFamilies } from '../../../agent/metrics/agent-families.js';
import { formatExposition } from '../../../shared/metrics/exposition.js';
import { parseExposition, type ParsedFamily } from './parse-exposition.js';
import { snapshot, T0 } from './snapshot-fixture.js';

const read = (snap = snapshot()) => parseExposition(formatExposition(agentMetricFamilies(snap)));
const value = (f: ParsedFamily | undefined, labels: Record<string, string>) => f?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;

describe('the agent metric families', () => {
  it('every family has the dcim_agent_ prefix, counters end in _total and only counters do', () => {
    for (const [name, def] of Object.entries(AGENT_METRICS)) {
      expect(name).toMatch(/^dcim_agent_[a-z0-9_]+$/);
      expect(name.endsWith('_total')).toBe(def.type === 'counter');
    }
  });

  it('reads back with agent labels on agent series and site, device, profile on device series', () => {
    const m = read();
    for (const [name, f] of m) {
      const def = AGENT_METRICS[name as keyof typeof AGENT_METRICS];
      expect(f.type).toBe(def.type);
      expect(f.help).toBe(def.help);
      const identity = def.scope === 'agent' ? ['site', 'agent'] : ['site', 'device', 'profile'];
      for (const s of f.samples) expect(Object.keys(s.labels).sort()).toEqual([...identity, ...('extra' in def ? def.extra : [])].sort());
    }
  });

  it.each<[string, Record<string, string>, number | undefined]>([
    ['dcim_agent_info', { version: '0.1.0' }, 1],
    ['dcim_agent_start_time_seconds', {}, T0 / 1000],
    ['dcim_agent_devices', {}, 3],
    ['dcim_agent_devices_by_state', { state: 'up' }, 1],
    ['dcim_agent_devices_by_state', { state: 'down' }, 1],
    ['dcim_agent_devices_by_state', { state: 'degraded' }, 0],
    ['dcim_agent_devices_by_state', { state: 'unpolled' }, 1],
    ['dcim_agent_polls_in_flight', {}, 1],
    ['dcim_agent_probes_queued', {}, 2],
    ['dcim_agent_device_probes_total', { device: 'meter-incomer-1' }, 7],
    ['dcim_agent_device_backoff_seconds', { device: 'meter-incomer-1' }, 40],
    ['dcim_agent_device_backoff_seconds', { device: 'pdu-r01-a' }, 0],
    ['dcim_agent_reader_errors_total', {}, 1],
    ['dcim_agent_readings_dropped_total', {}, 9],
    ['dcim_agent_mqtt_connected', {}, 1],
    ['dcim_agent_mqtt_connects_total', {}, 2],
    ['dcim_agent_mqtt_bd_seq', {}, 5],
    ['dcim_agent_mqtt_protocol_version', {}, 4],
    ['dcim_agent_mqtt_refused_total', { reason: 'offline' }, 3],
    ['dcim_agent_mqtt_refused_total', { reason: 'invalid' }, 1],
    ['dcim_agent_mqtt_refused_total', { reason: 'broker' }, 4],
    ['dcim_agent_telemetry_published_total', {}, 17],
    ['dcim_agent_telemetry_refused_total', { reason: 'spool' }, 2],
    ['dcim_agent_telemetry_backlog', {}, 2],
    ['dcim_agent_telemetry_last_puback_timestamp_seconds', {}, (T0 + 59_500) / 1000],
    ['dcim_agent_spool_records', {}, 3],
    ['dcim_agent_spool_bytes', {}, 3 * 1024 * 1024],
    ['dcim_agent_spool_oldest_age_seconds', {}, 15],
    ['dcim_agent_spool_dropped_records_total', {}, 5],
    ['dcim_agent_spool_quarantined_segments_total', {}, 1],
    ['dcim_agent_snmp_sockets', {}, 1],
    ['dcim_agent_snmp_datagrams_sent_total', {}, 40],
    ['dcim_agent_snmp_datagrams_received_total', {}, 37],
    ['dcim_agent_snmp_requests_total', {}, 31],
    ['dcim_agent_snmp_requests_in_flight', {}, 2],
    ['dcim_agent_snmp_timeouts_total', {}, 8],
    ['dcim_agent_snmp_answers_refused_total', { reason: 'invalid' }, 11],
    ['dcim_agent_snmp_answers_refused_total', { reason: 'malformed' }, 4],
    ['dcim_agent_snmp_answers_refused_total', { reason: 'stray' }, 3],
    ['dcim_agent_snmp_send_errors_total', {}, 5],
    ['dcim_agent_snmp_socket_errors_total', {}, 6],
    ['dcim_agent_device_state', { device: 'pdu-r01-a', profile: 'apc-rpdu2', state: 'up' }, 1],
    ['dcim_agent_device_state', { device: 'pdu-r01-a', state: 'down' }, 0],
    ['dcim_agent_device_state', { device: 'meter-incomer-1', state: 'down' }, 1],
    ['dcim_agent_device_state', { device: 'gpu-r11-1' }, undefined], // not polled yet: no state at all
    ['dcim_agent_device_polls_total', { device: 'gpu-r11-1', profile: 'redfish-gpu-server' }, 0],
    ['dcim_agent_device_polls_total', { device: 'meter-incomer-1', profile: 'eastron-sdm630' }, 12],
    ['dcim_agent_device_poll_failures_total', { device: 'meter-incomer-1' }, 10],
    ['dcim_agent_device_requests_total', { device: 'pdu-r01-a' }, 24],
    ['dcim_agent_device_retries_total', { device: 'meter-incomer-1' }, 10],
    ['dcim_agent_device_timeouts_total', { device: 'meter-incomer-1' }, 20],
    ['dcim_agent_device_overruns_total', { device: 'meter-incomer-1' }, 3],
    ['dcim_agent_device_poll_duration_seconds', { device: 'meter-incomer-1' }, 1.2],
    ['dcim_agent_device_poll_duration_seconds', { device: 'gpu-r11-1' }, undefined],
    ['dcim_agent_device_last_success_timestamp_seconds', { device: 'meter-incomer-1' }, (T0 + 10_000) / 1000],
    ['dcim_agent_device_last_poll_timestamp_seconds', { device: 'meter-incomer-1' }, (T0 + 55_000) / 1000],
    ['dcim_agent_device_consecutive_failures', { device: 'meter-incomer-1' }, 10],
    ['dcim_agent_device_faults_total', { device: 'pdu-r01-a', code: 'DCIM_E_SUNSPEC_CHAIN_TRUNCATED' }, 2],
    ['dcim_agent_device_faults_total', { device: 'meter-incomer-1', code: 'DCIM_E_SUNSPEC_CHAIN_TRUNCATED' }, undefined],
  ])('%s %j = %s', (name, labels, want) => {
    expect(value(read().get(name), { site: 'demo', ...labels })).toBe(want);
  });

  it('an agent that never started: every value finite, no timestamps it does not have', () => {
    const snap = snapshot({ devices: [{ id: 'pdu-r01-a', profile: 'apc-rpdu2', state: undefined }] });
    snap.stats.polling = { in_flight: 0, queued: 0, probes_queued: 0, devices: {} };
    snap.stats.telemetry.last_puback_ts = null;
    const m = read(snap);
    for (const f of m.values()) for (const s of f.samples) expect(Number.isFinite(s.value)).toBe(true);
    expect(m.has('dcim_agent_telemetry_last_puback_timestamp_seconds')).toBe(false);
    expect(m.has('dcim_agent_device_last_success_timestamp_seconds')).toBe(false);
    expect(value(m.get('dcim_agent_device_polls_total'), { device: 'pdu-r01-a' })).toBe(0);
  });

  // How long the render takes is bench/agent-snmp.ts's business; here: every device is in it.
  it('10,000 devices render every per-device series', () => {
    const devices = Array.from({ length: 10_000 }, (_, i) => ({ id: `pdu-${i}`, profile: 'apc-rpdu2', state: 'up' as const }));
    const text = formatExposition(agentMetricFamilies(snapshot({ devices })));
    expect(text.split('\n').length).toBeGreaterThan(10_000 * 10);
    expect(text.match(/^dcim_agent_device_state\{/gm)?.length).toBeGreaterThanOrEqual(10_000);
    expect(text).toContain('device="pdu-9999"');
  });
});

describe('implausible readings', () => {
  it('counts every plausibility code agent-wide, zeros included, and per device only the codes it has shown', () => {
    const m = read(snapshot({ stats: { implausible: { 'pdu-r01-a': { DCIM_E_VALUE_OUT_OF_RANGE: 2, DCIM_E_VALUE_STUCK: 1 }, 'meter-incomer-1': { DCIM_E_VALUE_OUT_OF_RANGE: 3 } } } }));
    const agentWide = m.get('dcim_agent_readings_implausible_total');
    expect(Object.fromEntries(agentWide?.samples.map((s) => [s.labels.code, s.value]) ?? [])).toEqual({
      DCIM_E_VALUE_UNAVAILABLE: 0,
      DCIM_E_VALUE_OUT_OF_RANGE: 5,
      DCIM_E_VALUE_INCONSISTENT: 0,
      DCIM_E_VALUE_STUCK: 1,
      DCIM_E_COUNTER_DECREASED: 0,
    });
    const perDevice = m.get('dcim_agent_device_readings_implausible_total')?.samples.map((s) => [s.labels.device, s.labels.profile, s.labels.code, s.value]);
    expect(perDevice).toEqual([
      ['pdu-r01-a', 'apc-rpdu2', 'DCIM_E_VALUE_OUT_OF_RANGE', 2],
      ['pdu-r01-a', 'apc-rpdu2', 'DCIM_E_VALUE_STUCK', 1],
      ['meter-incomer-1', 'eastron-sdm630', 'DCIM_E_VALUE_OUT_OF_RANGE', 3],
    ]);
  });
});
