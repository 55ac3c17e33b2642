import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/index.js';
import { AlertMessageSchema, AlertsConfigSchema, createAlertEngine, type AlertMessage } from '../../collector/alerts/index.js';
import { Collector, createSink, type MetricSink } from '../../collector/index.js';
import type { MetricPoint } from '../../collector/store/metric-point.js';
import { ManualClock, SiteInventorySchema, parseTopic, topics } from '../../contract/index.js';
import { createLogger } from '../../shared/log.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { ControlServer } from '../../simulators/control/control-server.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { useService } from '../support/require-service.js';
import { startMosquitto } from '../support/services.js';
import { until } from '../support/until.js';

/**
 * The alerting scenario on the simulators: seeds/demo.yaml; the agent polls its thermal chain (14 rack
 * inlet sensors, 4 CRAHs, 2 chillers) every simulated minute and publishes through mosquitto; the
 * collector, with the default alert rules, evaluates every 5 simulated seconds. A chiller fault
 * switched on through the simulator's control API warms the racks of the pod it cools: exactly one
 * critical rack-inlet alert must fire for that rack group (none for the other, none per rack),
 * nothing about any other device, on the retained MQTT alert topic as on-call sees it; once the
 * fault is off, everything resolves and the topics are cleared.
 *
 * Time is ONE ManualClock shared by simulator, agent and collector (as in guian-day.test.ts): the
 * test advances it 5 s at a time and, after each minute's poll slot, waits in real time until every
 * device has polled, published and been ingested. No part can fall behind simulated time, so the
 * verdicts do not depend on the machine's load.
 */
const SEED = join(import.meta.dirname, '..', '..', 'seeds', 'demo.yaml');
/** The KPI and alert evaluation period, and the test's clock step. */
const STEP_MS = 5000;
/** Every thermal device is polled once a simulated minute. */
const POLL_MS = 60_000;
/** Past the agent's per-device jitter, so a minute's polls have all started within its step. */
const PAST_SLOT_MS = 1000;
const logger = createLogger({ level: 'error' });
const profiles = loadProfiles();

interface Running {
  sim: SimSite;
  control: ControlServer;
  agent: Agent;
  collector: Collector;
  sink: MetricSink;
  watcher: MqttClient;
}
let running: Running | undefined;

afterEach(async () => {
  const r = running;
  running = undefined;
  if (!r) return;
  await r.watcher.endAsync().catch(() => undefined);
  await r.agent.stop().catch(() => undefined);
  await r.collector.stop().catch(() => undefined);
  await r.sink.close().catch(() => undefined);
  await r.control.stop();
  await r.sim.stop();
});

describe('alerts on the simulated demo site', () => {
  const broker = useService('mosquitto', () => startMosquitto());

  it('a chiller fault raises exactly one critical alert for the rack group it cools, and it resolves when the chiller is back', async () => {
    const seed = loadYamlFile(SiteInventorySchema, SEED);
    const origin = Date.now();
    // 12:00 local (UTC+8) on a November day, just past a minute's poll slot.
    const clock = new ManualClock(Date.UTC(2026, 10, 29, 4, 0, 0) + PAST_SLOT_MS);
    const sim = await startSimSite({ inventory: seed, profiles, bind: 'ephemeral', clock, tickMs: STEP_MS, logger });
    // The site's thermal chain (rack inlet sensors, CRAHs, chillers), each polled every simulated
    // minute: what the rack-inlet, CRAH and chiller rules watch.
    const bound = sim.inventory();
    const thermal = new Set(['sensor', 'crah', 'chiller']);
    const inventory = { ...bound, devices: bound.devices.filter((d) => thermal.has(profiles.get(d.profile)?.class ?? '')).map((d) => ({ ...d, interval_s: POLL_MS / 1000 })) };
    expect(inventory.devices.map((d) => d.id).filter((id) => id.startsWith('th-'))).toHaveLength(14);
    const control = new ControlServer({ port: 0, target: { sites: [sim], uptimeMs: () => Date.now() - origin }, logger });
    await control.start();

    // The collector as the composition root builds it, its `alert` points kept for the test.
    const alertPoints: MetricPoint[] = [];
    const store = createSink({ kind: 'sqlite', path: ':memory:', retention_days: 7 }, { clock, logger });
    const sink: MetricSink = { ...store, start: () => store.start?.(), write: (points) => (alertPoints.push(...points.filter((p) => p.measurement === 'alert')), store.write(points)), flush: () => store.flush(), close: () => store.close(), stats: () => store.stats(), health: () => store.health() };
    const alertsConfig = AlertsConfigSchema.parse({ state_file: join(mkdtempSync(join(tmpdir(), 'dcim-alerts-e2e-')), 'alerts.json') });
    // The engine publishes through the collector's subscriber, as from-config.ts wires it.
    const alerts = createAlertEngine(alertsConfig, { inventories: [inventory], profiles, clock, logger, publish: (site, id, msg) => collector.publishAlert(site, id, msg) });
    const collector = new Collector({ id: 'alerts-e2e', inventories: [inventory], mqtt: { url: broker().url, clientId: 'alerts-e2e-collector' }, sink, profiles, clock, logger, kpiIntervalMs: STEP_MS, alerts });

    // What a dashboard or on-call tool sees: the retained alert topics, set and cleared.
    const seen: { topic: string; alert: AlertMessage | null }[] = [];
    const watcher = await connectAsync(broker().url, { clientId: 'alerts-e2e-watcher', reconnectPeriod: 500 });
    watcher.on('message', (topic, payload) => {
      if (parseTopic(topic)?.kind === 'alert') seen.push({ topic, alert: payload.length === 0 ? null : AlertMessageSchema.parse(JSON.parse(payload.toString('utf8'))) });
    });
    await watcher.subscribeAsync(topics.filters.alerts('demo'), { qos: 1 });

    const agent = new Agent({ id: 'edge-1', inventory, profiles, mqtt: { url: broker().url }, stateDir: mkdtempSync(join(tmpdir(), 'dcim-alerts-e2e-agent-')), clock, logger });
    running = { sim, control, agent, collector, sink, watcher };
    await collector.start();
    await agent.start();

    const inlet = (device: string) => sim.servedQuantities(device)?.values.inlet_temp_c as number;
    const podA = ['th-r01', 'th-r02', 'th-r03', 'th-r04', 'th-r05', 'th-r06', 'th-r07', 'th-r08', 'th-r09', 'th-r10'];
    const podB = ['th-r11', 'th-r12', 'th-r13', 'th-r14'];

    const ids = inventory.devices.map((d) => d.id);
    const polls = (): Record<string, number> => Object.fromEntries(Object.entries(agent.stats().polling.devices).map(([id, d]) => [id, d.polls]));
    /** One clock step; after a minute's poll slot, wait until every device has polled, published and been ingested. */
    const step = async () => {
      const slot = (t: number) => Math.floor((t - PAST_SLOT_MS) / POLL_MS);
      const crosses = slot(clock.now() + STEP_MS) > slot(clock.now());
      const before = polls();
      clock.advance(STEP_MS);
      if (!crosses) return new Promise<void>((r) => setImmediate(r));
      await until(
        `the polls of ${new Date(clock.now()).toISOString()}`,
        () => {
          const st = agent.stats();
          if (st.polling.in_flight > 0 || st.polling.queued > 0) return false;
          if (!ids.every((id) => (st.polling.devices[id]?.polls ?? 0) > (before[id] ?? 0))) return false;
          // Every poll's telemetry in the KPI engine: the collector also receives status and its own
          // KPI messages, so a count of all messages would pass a step a poll or two early.
          const sent = Object.values(st.polling.devices).reduce((n, d) => n + d.polls - d.down_polls, 0);
          return collector.stats().engine.polls >= sent;
        },
        30_000,
        () => JSON.stringify({ published: agent.stats().mqtt.published, received: collector.stats().messages_received, in_flight: agent.stats().polling.in_flight }),
      );
    };
    /** Step the clock until `cond` holds; fails after `max_ms` of simulated time. */
    const runUntil = async (what: string, cond: () => boolean, max_ms: number) => {
      const end = clock.now() + max_ms;
      while (!cond()) {
        if (clock.now() >= end) throw new Error(`${what}: not within ${max_ms / 60_000} simulated minutes`);
        await step();
      }
    };

    // Steady state for 10 simulated minutes: every default rule quiet.
    const calmUntil = clock.now() + 10 * 60_000;
    await runUntil('10 calm simulated minutes', () => clock.now() >= calmUntil, 11 * 60_000);
    expect(alerts.list({ state: 'firing' }).map((a) => a.summary)).toEqual([]);
    expect(Math.max(...podA.map(inlet))).toBeLessThan(27);

    // chiller-1 serves pod-a (seed: sim.serves); switch it off over the control API.
    const put = await fetch(`${control.url()}/sites/demo/devices/chiller-1/faults/equipment_failure`, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(200);
    const faultAt = clock.now();
    const critical = () => alerts.list({ state: 'firing', severity: 'critical' });
    await runUntil('a critical alert', () => critical().length > 0, 60 * 60_000);
    // The racks warmed up past 32 °C, and the alert held for 5 minutes first.
    expect(Math.min(...podA.map(inlet))).toBeGreaterThan(32);
    expect(Math.max(...podB.map(inlet))).toBeLessThan(27);
    const [crit] = critical();
    expect(crit?.labels).toEqual({ alertname: 'RackInletTemperature', severity: 'critical', site: 'demo', hall: 'h1', rack_group: 'pod-a' });
    expect((crit?.starts_at ?? 0) - faultAt).toBeGreaterThan(5 * 60_000);
    expect(crit?.description).toMatch(/^Racks outside 15–32 °C: r\d\d \d\d(\.\d)?, /);
    // Let it run hot a while: still exactly one critical alert, nothing for pod-b, nothing else pages.
    const hotUntil = clock.now() + 5 * 60_000;
    await runUntil('5 more hot minutes', () => clock.now() >= hotUntil, 6 * 60_000);
    expect(critical().map((a) => a.labels.rack_group)).toEqual(['pod-a']);
    const firing = alerts.list({ state: 'firing' });
    expect(firing.filter((a) => a.labels.rack_group !== 'pod-a')).toEqual([]);
    const fired = alertPoints.filter((p) => p.fields.state === 'firing');
    expect(fired.filter((p) => p.tags.severity === 'critical').map((p) => p.tags.rack_group)).toEqual(['pod-a']);
    // On the retained topic: the critical alert as on-call sees it.
    const retained = seen.filter((m) => m.alert?.severity === 'critical');
    expect(retained.map((m) => [m.topic, m.alert?.labels.rack_group])).toEqual([[topics.alert('demo', crit!.id), 'pod-a']]);

    // Chiller back: the racks cool down and every alert of the episode resolves.
    const del = await fetch(`${control.url()}/sites/demo/devices/chiller-1/faults/equipment_failure`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    await runUntil('every alert resolved', () => alerts.list({ state: 'firing' }).length === 0 && alerts.list({ state: 'pending' }).length === 0, 90 * 60_000);
    expect(Math.max(...podA.map(inlet))).toBeLessThan(26);
    const resolved = alertPoints.filter((p) => p.fields.state === 'resolved').map((p) => p.fields.alert_id);
    expect(new Set(resolved)).toEqual(new Set(fired.map((p) => p.fields.alert_id)));
    // What fired, once each: pod-a's warning (27 °C is crossed first), its critical, its rate of change; nothing else.
    expect(fired.map((p) => `${p.tags.rule}/${p.tags.severity}/${p.tags.rack_group}`).sort()).toEqual([
      'rack_inlet_rate_of_change/warning/pod-a',
      'rack_inlet_temperature/critical/pod-a',
      'rack_inlet_temperature/warning/pod-a',
    ]);
    // Every retained alert topic was cleared: the last message on each is empty.
    await until('retained topics cleared', () => alerts.stats().notifiers.mqtt?.pending === 0, 30_000);
    const last = new Map(seen.map((m) => [m.topic, m.alert]));
    expect(last.size).toBe(3);
    expect([...last.values()]).toEqual([null, null, null]);
  }, 180_000);
});
