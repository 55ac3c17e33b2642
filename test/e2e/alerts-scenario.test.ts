import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/index.js';
import { AlertEngine } from '../../collector/alerts/alert-engine.js';
import type { AlertTransition } from '../../collector/alerts/alert-record.js';
import { loadAlertRuleSet } from '../../collector/alerts/load-rules.js';
import { decodeState } from '../../collector/ingest/decode-status.js';
import { decodeTelemetry } from '../../collector/ingest/decode-telemetry.js';
import { ScaledClock, SiteInventorySchema, SystemClock, createLogger, loadProfiles, loadYamlFile, parseTopic, topics, type Clock, type TimerHandle } from '../../contract/index.js';
import { ControlServer } from '../../simulators/control/control-server.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { useService } from '../support/require-service.js';
import { startMosquitto } from '../support/services.js';

/**
 * Issue 6's scenario on the simulators: seeds/demo.yaml served at 120× speed, the agent polling
 * its thermal chain (14 rack inlet sensors, 4 CRAHs, 2 chillers) through mosquitto, the alert engine fed with what arrives (decoded exactly as the
 * collector decodes it) and evaluated every 5 simulated seconds on the same ScaledClock. A chiller
 * fault switched on through the simulator's control API warms the racks of the pod it cools; the
 * default rules must raise exactly one critical rack-inlet alert for that rack group (none for the
 * other, none per rack), nothing about any other device, and resolve everything once the fault is off.
 *
 * The engine is driven here rather than through collector.ts, whose wiring of the AlertEngine is
 * H-store-api's (issue 5); the inputs are the same decoded messages.
 */
const SEED = join(import.meta.dirname, '..', '..', 'seeds', 'demo.yaml');
const SPEED = 120;
const logger = createLogger({ level: 'error' });
const profiles = loadProfiles();

interface Running {
  sim: SimSite;
  control: ControlServer;
  agent: Agent;
  bridge: MqttClient;
  engine: AlertEngine;
  tick: TimerHandle | undefined;
}
let running: Running | undefined;

afterEach(async () => {
  const r = running;
  running = undefined;
  if (!r) return;
  r.tick?.cancel();
  await r.engine.stop();
  await r.bridge.endAsync().catch(() => undefined);
  await r.agent.stop().catch(() => undefined);
  await r.control.stop();
  await r.sim.stop();
});

/** Wait in real time for a condition on simulated state. */
async function waitFor(what: string, cond: () => boolean, clock: Clock, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what} (simulated ${new Date(clock.now()).toISOString()})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('alerts on the simulated demo site', () => {
  const broker = useService('mosquitto', () => startMosquitto());

  it('a chiller fault raises exactly one critical alert for the rack group it cools, and it resolves when the chiller is back', async () => {
    const seed = loadYamlFile(SiteInventorySchema, SEED);
    const origin = Date.now();
    const real = new SystemClock();
    const sim = await startSimSite({ inventory: seed, profiles, bind: 'ephemeral', speed: SPEED, clock: real, logger });
    // The simulator counts simulated time from its start; agent and alert engine share it.
    const clock = new ScaledClock(real, SPEED, origin);
    // The site's thermal chain (rack inlet sensors, CRAHs, chillers), each polled every 30 simulated
    // seconds (0.25 s real). At 120× the whole 53-device seed at its 5–10 s intervals overloads one
    // test process: the agent's per-poll deadlines run on simulated time while requests take real
    // time, so polls time out and stale-meter alerts follow, which is the agent keeping up, not
    // the alerting under test.
    const bound = sim.inventory();
    const thermal = new Set(['sensor', 'crah', 'chiller']);
    const inventory = { ...bound, devices: bound.devices.filter((d) => thermal.has(profiles.get(d.profile)?.class ?? '')).map((d) => ({ ...d, interval_s: 30 })) };
    expect(inventory.devices.map((d) => d.id).filter((id) => id.startsWith('th-'))).toHaveLength(14);
    const control = new ControlServer({ port: 0, target: { sites: [sim], uptimeMs: () => Date.now() - origin }, logger });
    await control.start();

    const engine = new AlertEngine({ inventories: [inventory], profiles, rules: loadAlertRuleSet(), clock, logger, state_file: join(mkdtempSync(join(tmpdir(), 'dcim-alerts-e2e-')), 'alerts.json') });
    const transitions: AlertTransition[] = [];
    const bridge = await connectAsync(broker().url, { clientId: 'alerts-e2e-bridge', reconnectPeriod: 500 });
    bridge.on('message', (topic, payload) => {
      if (parseTopic(topic)?.kind === 'telemetry') {
        const r = decodeTelemetry(topic, payload, clock.now());
        if (r.ok) engine.observeTelemetry(r.value.message);
        return;
      }
      const s = decodeState(topic, payload);
      if (!s.ok || s.value.kind === 'cleared') return;
      if (s.value.kind === 'device_status') engine.observeDeviceStatus(s.value.site, s.value.device, s.value.status);
      else engine.observeAgentState(s.value.site, s.value.agent, s.value.state);
    });
    await bridge.subscribeAsync({ [topics.filters.telemetry('demo')]: { qos: 1 }, [topics.filters.deviceStatus('demo')]: { qos: 1 }, [topics.filters.agentState('demo')]: { qos: 1 } });
    engine.start();

    const agent = new Agent({ id: 'edge-demo', inventory, profiles, mqtt: { url: broker().url }, stateDir: mkdtempSync(join(tmpdir(), 'dcim-alerts-e2e-agent-')), clock, logger });
    await agent.start();
    running = { sim, control, agent, bridge, engine, tick: undefined };
    // The collector's KPI tick: every 5 simulated seconds.
    const tick = () => {
      transitions.push(...engine.evaluate(clock.now()).transitions);
      if (running) running.tick = clock.setTimeout(tick, 5000);
    };
    tick();

    const inlet = (device: string) => sim.servedQuantities(device)?.values.inlet_temp_c as number;
    const podA = ['th-r01', 'th-r02', 'th-r03', 'th-r04', 'th-r05', 'th-r06', 'th-r07', 'th-r08', 'th-r09', 'th-r10'];
    const podB = ['th-r11', 'th-r12', 'th-r13', 'th-r14'];

    // Steady state for 10 simulated minutes: every default rule quiet.
    const calmUntil = clock.now() + 10 * 60_000;
    await waitFor('10 calm simulated minutes', () => clock.now() >= calmUntil, clock);
    expect(engine.list({ state: 'firing' }).map((a) => a.summary)).toEqual([]);
    expect(Math.max(...podA.map(inlet))).toBeLessThan(27);

    // chiller-1 serves pod-a (seed: sim.serves); switch it off over the control API.
    const put = await fetch(`${control.url()}/sites/demo/devices/chiller-1/faults/equipment_failure`, { method: 'PUT', body: '{}' });
    expect(put.status).toBe(200);
    const faultAt = clock.now();
    const critical = () => engine.list({ state: 'firing', severity: 'critical' });
    await waitFor('a critical alert', () => critical().length > 0, clock);
    // The racks warmed up past 32 °C, and the alert held for 5 minutes first.
    expect(Math.min(...podA.map(inlet))).toBeGreaterThan(32);
    expect(Math.max(...podB.map(inlet))).toBeLessThan(27);
    const [crit] = critical();
    expect(crit?.labels).toEqual({ alertname: 'RackInletTemperature', severity: 'critical', site: 'demo', hall: 'h1', rack_group: 'pod-a' });
    expect((crit?.starts_at ?? 0) - faultAt).toBeGreaterThan(5 * 60_000);
    expect(crit?.description).toMatch(/^Racks outside 15–32 °C: r\d\d 3\d\.\d+/);
    // Let it run hot a while: still exactly one critical alert, nothing for pod-b, nothing else pages.
    const hotUntil = clock.now() + 5 * 60_000;
    await waitFor('5 more hot minutes', () => clock.now() >= hotUntil, clock);
    expect(critical().map((a) => a.labels.rack_group)).toEqual(['pod-a']);
    const firing = engine.list({ state: 'firing' });
    expect(firing.filter((a) => a.labels.rack_group !== 'pod-a')).toEqual([]);
    const fired = transitions.filter((t) => t.kind === 'firing');
    expect(fired.filter((t) => t.alert.severity === 'critical').map((t) => t.alert.labels.rack_group)).toEqual(['pod-a']);

    // Chiller back: the racks cool down and every alert of the episode resolves.
    const del = await fetch(`${control.url()}/sites/demo/devices/chiller-1/faults/equipment_failure`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    await waitFor('every alert resolved', () => engine.list({ state: 'firing' }).length === 0 && engine.list({ state: 'pending' }).length === 0, clock, 90_000);
    expect(Math.max(...podA.map(inlet))).toBeLessThan(26);
    const resolved = transitions.filter((t) => t.kind === 'resolved').map((t) => t.alert.id);
    expect(new Set(resolved)).toEqual(new Set(fired.map((t) => t.alert.id)));
    // What fired, once each: pod-a's warning (27 °C is crossed first), its critical, its rate of change; nothing else.
    expect(fired.map((t) => `${t.alert.name}/${t.alert.severity}/${t.alert.labels.rack_group}`).sort()).toEqual([
      'RackInletRateOfChange/warning/pod-a',
      'RackInletTemperature/critical/pod-a',
      'RackInletTemperature/warning/pod-a',
    ]);
  }, 180_000);
});
