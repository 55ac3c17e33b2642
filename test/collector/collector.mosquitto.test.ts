import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { Collector } from '../../collector/collector.js';
import { SqliteSink } from '../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../contract/clock.js';
import { SiteInventorySchema } from '../../contract/inventory.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { memoryLogger } from '../../shared/log.js';
import { topics } from '../../contract/topics.js';
import { startMosquitto } from '../support/mosquitto.js';
import { useService } from '../support/require-service.js';
import { until } from '../support/until.js';
import { repoPath } from '../support/repo-path.js';

const DEMO = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'demo.yaml'));
const T0 = Date.UTC(2026, 0, 1, 8);
const USERS = [
  { username: 'collector', password: 'c-secret' },
  { username: 'agent', password: 'a-secret' },
];

const poll = (seq: number, power_w: number) =>
  JSON.stringify({
    schema: 1,
    agent: 'edge-1',
    site: 'demo',
    device: 'pdu-r01-a',
    class: 'pdu',
    seq,
    ts: T0,
    readings: [{ point: 'active_power_w', value: power_w, unit: 'W', quality: 'good' }],
    poll: { ms: 5, requests: 1, retries: 0 },
  });

describe('Collector against mosquitto with passwords', () => {
  const broker = useService('mosquitto', () => startMosquitto({ users: USERS }));

  it('authenticates, survives a broker restart, and receives what was queued for its session', async () => {
    const clock = new ManualClock(T0);
    const sink = new SqliteSink({ path: ':memory:', clock, logger: memoryLogger() });
    const logger = memoryLogger();
    const collector = new Collector({ id: 'mosq', inventories: [DEMO], mqtt: { url: broker().url, username: 'collector', password: 'c-secret' }, sink, clock, logger });
    await collector.start();
    const agent = await mqtt.connectAsync(broker().url, { clientId: 'agent-edge-1', username: 'agent', password: 'a-secret', protocolVersion: 4, clean: false, reconnectPeriod: 100 });
    try {
      await agent.publishAsync(topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), poll(1, 8000), { qos: 1 });
      await until('first poll', () => collector.stats().readings_accepted === 1);

      // The broker restarts with its persistence: the collector's session and subscriptions survive.
      await broker().restart();
      await until('agent back', () => agent.connected);
      await agent.publishAsync(topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), poll(2, 8100), { qos: 1 });
      await until('poll after the restart', () => collector.stats().readings_accepted === 2);
      expect(collector.stats()).toMatchObject({ messages_received: 2, messages_invalid: 0, duplicates: 0 });
      expect(logger.lines.filter((l) => l.msg === 'connected to the broker').length).toBeGreaterThanOrEqual(2);
    } finally {
      await agent.endAsync(true);
      await collector.stop();
      await sink.close();
    }
  });

  it('a wrong password never connects; stop() still returns', async () => {
    const logger = memoryLogger();
    const sink = new SqliteSink({ path: ':memory:', logger: memoryLogger() });
    const collector = new Collector({ id: 'badpw', inventories: [DEMO], mqtt: { url: broker().url, username: 'collector', password: 'wrong' }, sink, clock: new ManualClock(T0), logger });
    const started = collector.start();
    await until('an error log', () => logger.lines.some((l) => l.msg === 'mqtt error'));
    await collector.stop();
    await expect(started).rejects.toThrow(/stopped before it subscribed/);
    await sink.close();
  });
});
