import { connectAsync, type MqttClient } from 'mqtt';
import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../../../contract/clock.js';
import { memoryLogger } from '../../../../shared/log.js';
import { topics } from '../../../../contract/topics.js';
import { AlertEngine } from '../../../../collector/alerts/alert-engine.js';
import { AlertMessageSchema } from '../../../../contract/messages.js';
import { parseAlertRules } from '../../../../collector/alerts/load-rules.js';
import { MqttAlertNotifier } from '../../../../collector/alerts/notifiers/mqtt-alerts.js';
import { MqttSubscriber } from '../../../../collector/ingest/subscriber.js';
import { useService } from '../../../support/require-service.js';
import { startMosquitto } from '../../../support/services.js';
import { agentState, profiles, testInventory } from '../fixtures.js';
import { until } from '../../../support/until.js';

const RULES = parseAlertRules('rules: [{ id: agent_offline, kind: agent_offline, severity: critical, summary: "Agent {agent} offline" }]');

/** A fresh client's view of the retained alert topics: what a dashboard sees when it connects. */
async function retainedAlerts(url: string): Promise<Map<string, string>> {
  const client: MqttClient = await connectAsync(url, { clientId: `probe-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 0 });
  const got = new Map<string, string>();
  // The broker sends the retained messages on SUBSCRIBE, before anything this client publishes
  // afterwards: a marker to its own topic, once back, says every retained message is in.
  const marker = `probe/${Math.random().toString(16).slice(2)}`;
  let markerBack = false;
  client.on('message', (topic, payload, packet) => {
    if (topic === marker) markerBack = true;
    else if (packet.retain) got.set(topic, payload.toString('utf8'));
  });
  await client.subscribeAsync(topics.filters.alerts('t'), { qos: 1 });
  await client.subscribeAsync(marker, { qos: 1 });
  await client.publishAsync(marker, 'done', { qos: 1 });
  await until('the retained alerts, then the marker', () => markerBack, 30_000);
  await client.endAsync();
  return got;
}

describe('retained MQTT alert topic, through the collector subscriber (real mosquitto)', () => {
  const broker = useService('mosquitto', () => startMosquitto());

  it('is set while firing and cleared with an empty retained payload on resolve; a broker outage only delays it', async () => {
    const logger = memoryLogger('info');
    const subscriber = new MqttSubscriber({ url: broker().url, client_id: 'dcim-collector-alerts-test', sites: ['t'], on_message: () => undefined, logger, reconnect_period_ms: 200 });
    await subscriber.start();
    const engine = new AlertEngine({
      inventories: [testInventory()],
      profiles,
      rules: RULES,
      clock: new SystemClock(),
      logger,
      notifiers: [new MqttAlertNotifier((site, id, msg) => subscriber.publishAlert(site, id, msg), 1000)],
      backoff_min_ms: 100,
      backoff_max_ms: 400,
    });
    engine.start();
    try {
      engine.observeAgentState('t', 'edge-1', agentState(false, Date.now()));
      engine.evaluate();
      await until('one sent', () => engine.stats().notifiers.mqtt?.sent === 1);
      const [alert] = engine.list({ state: 'firing' });
      const topic = topics.alert('t', alert!.id);
      const retained = await retainedAlerts(broker().url);
      expect([...retained.keys()]).toEqual([topic]);
      expect(AlertMessageSchema.parse(JSON.parse(retained.get(topic)!))).toMatchObject({ id: alert!.id, state: 'firing', severity: 'critical', labels: { agent: 'edge-1' } });

      // The broker goes away; the resolve waits and is published once it is back.
      await broker().halt();
      engine.observeAgentState('t', 'edge-1', agentState(true, Date.now()));
      engine.evaluate();
      await until('a failure', () => (engine.stats().notifiers.mqtt?.failures ?? 0) >= 1);
      expect(engine.stats().notifiers.mqtt?.pending).toBe(1);
      await broker().restart();
      await until('nothing pending', () => engine.stats().notifiers.mqtt?.pending === 0, 60_000);
      expect(await retainedAlerts(broker().url)).toEqual(new Map());
    } finally {
      await engine.stop();
      await subscriber.stop();
    }
  });
});
