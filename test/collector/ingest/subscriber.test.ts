import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { MqttSubscriber } from '../../../collector/ingest/subscriber.js';
import { memoryLogger } from '../../../shared/log.js';
import { topics } from '../../../contract/topics.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { useService } from '../../support/require-service.js';
import { until } from '../../support/until.js';

/**
 * The collector's MQTT 5 session on a real mosquitto: the agent-scoped topics always, the old
 * device topics only with the migration switch, and a session that outlives a disconnect (MQTT 5
 * ends it at once unless the CONNECT asks for a session expiry).
 */
describe('MqttSubscriber on mosquitto (MQTT 5)', () => {
  const broker = useService('mosquitto', () => startMosquitto());

  async function run(legacy_topics: boolean, clientId: string, send: () => Promise<void>): Promise<string[]> {
    const got: string[] = [];
    const sub = new MqttSubscriber({ url: broker().url, client_id: clientId, sites: ['demo'], legacy_topics, on_message: (t) => got.push(t), logger: memoryLogger() });
    await sub.start();
    try {
      await send();
      await until('the marker', () => got.includes(topics.telemetry('demo', 'edge-1', 'marker')));
      return got;
    } finally {
      await sub.stop();
    }
  }

  async function publish(...list: string[]): Promise<void> {
    const pub = await mqtt.connectAsync(broker().url, { clientId: `pub-${Math.random().toString(36).slice(2)}`, protocolVersion: 5 });
    for (const t of list) await pub.publishAsync(t, '{}', { qos: 1 });
    await pub.publishAsync(topics.telemetry('demo', 'edge-1', 'marker'), '{}', { qos: 1 });
    await pub.endAsync();
  }

  const sent = [topics.telemetry('demo', 'edge-1', 'd1'), topics.deviceStatus('demo', 'edge-1', 'd1'), topics.agentState('demo', 'edge-1'), topics.legacy.telemetry('demo', 'd1'), topics.legacy.deviceStatus('demo', 'd1'), topics.telemetry('other', 'edge-1', 'd1')];

  it('reads the agent-scoped topics of its sites, and the old device topics only with legacy_topics', async () => {
    const strict = await run(false, 'sub-strict', () => publish(...sent));
    expect(strict.filter((t) => !t.endsWith('/marker/telemetry')).sort()).toEqual([sent[0], sent[1], sent[2]].sort());
    const legacy = await run(true, 'sub-legacy', () => publish(...sent));
    expect(legacy.filter((t) => !t.endsWith('/marker/telemetry')).sort()).toEqual(sent.slice(0, 5).sort());
  });

  it('keeps its session across a disconnect: QoS 1 telemetry sent meanwhile arrives', async () => {
    await run(false, 'sub-session', () => publish());
    await publish(topics.telemetry('demo', 'edge-1', 'while-away'));
    const got = await run(false, 'sub-session', async () => undefined);
    expect(got).toContain(topics.telemetry('demo', 'edge-1', 'while-away'));
  });
});
