import { describe, expect, it } from 'vitest';
import { parseTopic, topics, buildTopic, type Topic } from '../../contract/index.js';

describe('topic grammar', () => {
  const cases: [Topic, string][] = [
    [{ kind: 'agent_state', site: 'guian-1', agent: 'edge_01' }, 'dcim/v1/guian-1/agents/edge_01/state'],
    [{ kind: 'telemetry', site: 'demo', agent: 'edge-1', device: 'pdu-r01-a' }, 'dcim/v1/demo/agents/edge-1/devices/pdu-r01-a/telemetry'],
    [{ kind: 'device_status', site: 'demo', agent: 'edge-1', device: 'm1' }, 'dcim/v1/demo/agents/edge-1/devices/m1/status'],
    // The first contract's device topics still parse, without an agent (the collector decides whether to read them).
    [{ kind: 'telemetry', site: 'demo', device: 'pdu-r01-a' }, 'dcim/v1/demo/devices/pdu-r01-a/telemetry'],
    [{ kind: 'device_status', site: 'demo', device: 'm1' }, 'dcim/v1/demo/devices/m1/status'],
    [{ kind: 'kpi', site: 'demo' }, 'dcim/v1/demo/kpi'],
    [{ kind: 'alert', site: 'demo', alert: 'a1b2' }, 'dcim/v1/demo/alerts/a1b2'],
  ];
  it.each(cases)('builds and parses %j', (t, s) => {
    expect(buildTopic(t)).toBe(s);
    expect(parseTopic(s)).toEqual(t);
  });

  it.each([
    'dcim/v2/demo/kpi',
    'dcim/v1/Demo/kpi',
    'dcim/v1/demo/devices/+/telemetry',
    'dcim/v1/demo/devices/#',
    'dcim/v1/demo/devices/x/telemetry/extra',
    'dcim/v1/demo/devices/x/other',
    'dcim/v1/demo',
    '',
    'dcim/v1//kpi',
    'dcim/v1/demo/agents/a/telemetry',
    'dcim/v1/demo/agents/a/devices/d/state',
    'dcim/v1/demo/agents/+/devices/d/telemetry',
    'dcim/v1/demo/agents/a/devices/d/telemetry/x',
    'dcim/v1/demo/agents/a/devices//telemetry',
    'dcim/v1/demo/agents/A/devices/d/status',
  ])('rejects %j', (s) => {
    expect(parseTopic(s)).toBeUndefined();
  });

  it.each(['', 'UPPER', 'a/b', '+', '#', 'x'.repeat(65), 'sp ace'])('refuses to build a topic with id %j', (id) => {
    expect(() => topics.telemetry('demo', 'edge-1', id)).toThrow(/DCIM_E_MQTT_TOPIC_INVALID|invalid device id/);
    expect(() => topics.deviceStatus('demo', id, 'd1')).toThrow(/invalid agent id/);
    expect(() => topics.kpi(id)).toThrow();
  });

  it('subscription filters use single-level wildcards only where ids go', () => {
    expect(topics.filters.telemetry()).toBe('dcim/v1/+/agents/+/devices/+/telemetry');
    expect(topics.filters.deviceStatus('demo')).toBe('dcim/v1/demo/agents/+/devices/+/status');
    expect(topics.legacy.filters.telemetry('demo')).toBe('dcim/v1/demo/devices/+/telemetry');
    expect(topics.filters.kpi('demo')).toBe('dcim/v1/demo/kpi');
  });
});
