import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlertMessageSchema, type AlertMessage } from '../../collector/alerts/index.js';
import { loadCollectorConfig } from '../../collector/config.js';
import { createCollectorFromConfig } from '../../collector/from-config.js';
import type { SqliteSink } from '../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../contract/clock.js';
import { memoryLogger } from '../../shared/log.js';
import { topics } from '../../contract/topics.js';
import { startMosquitto } from '../support/mosquitto.js';
import { useService } from '../support/require-service.js';
import { until } from '../support/until.js';
import { repoPath } from '../support/repo-path.js';

/**
 * The composition root wires alerting (collector/alerts) from a config file: a device reported
 * down (retained status through mosquitto) fires `device_down` after its minute, which appears in
 * /api/alerts, on the retained dcim/v1/<site>/alerts/<id> topic, in /metrics and in the store.
 */
const SEED = repoPath('seeds', 'minimal.yaml');
const TOKEN = 'alerts-wiring-test-token-1234';
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'dcim-collector-alerts-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('alerting wired into the collector', () => {
  const broker = useService('mosquitto', () => startMosquitto());

  it('a device down fires device_down: API, retained MQTT topic, metrics, store', async () => {
    const file = path.join(dir, 'collector.yaml');
    await writeFile(
      file,
      [
        `collector: { id: alerts, sites: [${SEED}] }`,
        `mqtt: { url: '${broker().url}' }`,
        `store: { kind: sqlite, path: ':memory:' }`,
        `http: { listen: '127.0.0.1:0', token: { env: API_TOKEN } }`,
        `kpi: { interval_s: 5 }`,
        `alerts: { state_file: state/alerts.json }`,
      ].join('\n'),
    );
    const clock = new ManualClock(T0);
    const { collector, sink } = createCollectorFromConfig(loadCollectorConfig(file), { clock, logger: memoryLogger(), env: { API_TOKEN: TOKEN } });
    await collector.start();
    const agent = await mqtt.connectAsync(broker().url, { clientId: 'agent-alerts', protocolVersion: 4 });
    const viewer = await mqtt.connectAsync(broker().url, { clientId: 'viewer-alerts', protocolVersion: 4 });
    const seen: { topic: string; payload: string; retain: boolean }[] = [];
    viewer.on('message', (topic, payload, packet) => seen.push({ topic, payload: payload.toString(), retain: packet.retain }));
    await viewer.subscribeAsync(topics.filters.alerts('demo'), { qos: 1 });
    try {
      await agent.publishAsync(topics.deviceStatus('demo', 'edge-1', 'pdu-r01-a'), JSON.stringify({ state: 'down', code: 'DCIM_E_SNMP_TIMEOUT', since: T0, last_ok: T0 - 60_000 }), { qos: 1, retain: true });
      await until('the status', () => collector.stats().states_received === 1);
      for (let i = 0; i < 14; i++) clock.advance(5000);

      const firing = (a: AlertMessage) => a.rule === 'device_down' && a.state === 'firing' && a.labels.device === 'pdu-r01-a';
      const api = (await (await fetch(`${collector.httpUrl}/api/alerts?state=firing&severity=critical`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { alerts: AlertMessage[] };
      expect(api.alerts.filter(firing)).toHaveLength(1);
      const id = api.alerts.find(firing)!.id;

      await until('the retained alert', () => seen.some((m) => m.topic === topics.alert('demo', id)));
      const msg = AlertMessageSchema.parse(JSON.parse(seen.find((m) => m.topic === topics.alert('demo', id))!.payload));
      expect(msg).toMatchObject({ id, site: 'demo', rule: 'device_down', severity: 'critical', state: 'firing' });

      await until('the PUBACK of the alert', () => (collector.stats().alerts?.notifiers.mqtt?.sent ?? 0) >= 1);
      const metrics = await (await fetch(`${collector.httpUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })).text();
      expect(metrics).toContain('dcim_alerts_firing{severity="critical"} 1\n');
      expect(metrics).toMatch(/^dcim_alert_notifications_total\{notifier="mqtt",result="sent"\} [1-9]/m);

      await sink.flush();
      const stored = (sink as SqliteSink).series({ measurement: 'alert', field: 'state', tags: { rule: 'device_down' }, since_ms: 0 });
      expect(stored.map((s) => s.value)).toContain('firing');
      expect(collector.stats().alerts).toMatchObject({ firing: expect.any(Number), fired: expect.any(Number), state_write_errors: 0 });
    } finally {
      await agent.publishAsync(topics.deviceStatus('demo', 'edge-1', 'pdu-r01-a'), '', { qos: 1, retain: true });
      await agent.endAsync();
      await viewer.endAsync();
      await collector.stop();
      await sink.close();
    }
  });
});
