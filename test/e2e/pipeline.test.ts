import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/index.js';
import { Collector, createSink, type MetricSink, type StoreConfig } from '../../collector/index.js';
import { SiteInventorySchema, SystemClock, type SiteInventory } from '../../contract/index.js';
import { createLogger } from '../../shared/log.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { useService } from '../support/require-service.js';
import { startInfluxV1, startMosquitto, startVictoriaMetrics } from '../support/services.js';
import { until } from '../support/until.js';
import { PATIENT_REQUESTS } from '../support/patient-requests.js';

/**
 * The whole path, once, with real protocols and real servers:
 *   simulator (SNMP v2c PDU + Modbus TCP meter) → agent → mosquitto → collector → InfluxDB,
 * then the stored live PUE is read back and compared with the simulator's ground truth.
 */
// The smallest complete site (one PDU, one incomer): the full demo seed through the pipeline runs on a
// ManualClock in demo-energy.test.ts; here, on the system clock, 53 devices polled every second in the
// test's own process would make a loaded machine read them seconds apart, not at one instant.
const SEED = join(import.meta.dirname, '..', '..', 'seeds', 'minimal.yaml');
const TOLERANCE = 0.005;
const logger = createLogger({ level: 'warn' });
const profiles = loadProfiles();

interface Pipeline {
  sim: SimSite;
  collector: Collector;
  agent: Agent;
  sink: MetricSink;
  inventory: SiteInventory;
}

let running: Pipeline | undefined;

async function startPipeline(brokerUrl: string, store: StoreConfig): Promise<Pipeline> {
  const seed = loadYamlFile(SiteInventorySchema, SEED);
  const sim = await startSimSite({ inventory: seed, profiles, bind: 'ephemeral', logger });
  const bound = sim.inventory();
  const inventory: SiteInventory = { ...bound, devices: bound.devices.map((d) => ({ ...d, interval_s: 1 })) };
  const sink = createSink(store, { clock: new SystemClock(), logger });
  const collector = new Collector({ id: 'e2e', inventories: [inventory], mqtt: { url: brokerUrl, clientId: `e2e-collector-${store.kind}` }, sink, profiles, logger, kpiIntervalMs: 1000 });
  const agent = new Agent({ id: 'edge-1', inventory, profiles, mqtt: { url: brokerUrl }, stateDir: mkdtempSync(join(tmpdir(), 'dcim-e2e-agent-')), logger, ...PATIENT_REQUESTS });
  await collector.start();
  await agent.start();
  running = { sim, collector, agent, sink, inventory };
  return running;
}

/** Run until the collector has published `n` good live PUE figures, then stop everything. */
async function runUntilKpis(p: Pipeline, n: number): Promise<void> {
  let good = 0;
  let lastTs = 0;
  await until(`${n} live PUE figures`, () => {
    const k = p.collector.latestKpi('demo')?.kpis.find((x) => x.kpi === 'pue_live');
    if (k?.ok && k.window_end !== lastTs) {
      lastTs = k.window_end;
      good++;
    }
    return good >= n;
  }, 60_000);
  await p.agent.stop();
  await p.collector.stop();
  await p.sink.flush();
}

afterEach(async () => {
  const p = running;
  running = undefined;
  if (!p) return;
  await p.agent.stop().catch(() => undefined);
  await p.collector.stop().catch(() => undefined);
  await p.sink.close().catch(() => undefined);
  await p.sim.stop();
});

function expectNearTruth(sim: SimSite, samples: { time: number; value: number }[]): void {
  expect(samples.length).toBeGreaterThanOrEqual(3);
  for (const s of samples) {
    const truth = sim.truth(s.time).pue;
    expect(Math.abs(s.value - truth) / truth, `PUE ${s.value} at ${new Date(s.time).toISOString()} vs truth ${truth}`).toBeLessThan(TOLERANCE);
  }
}

describe('end to end: simulator → agent → mosquitto → collector → InfluxDB 1.x (/write)', () => {
  const broker = useService('mosquitto', () => startMosquitto());
  const influx = useService('influxd', () => startInfluxV1());

  it('stores a live PUE equal to the ground truth within 0.5 %, and the raw readings', async () => {
    await influx().createDatabase('dcim');
    const p = await startPipeline(broker().url, { kind: 'influx_v1', url: influx().url, database: 'dcim', batch_lines: 5000 });
    await runUntilKpis(p, 4);

    // One series only: category 2 (the IT meter is at pdu_out), measured, labelled instantaneous.
    const tagged = await influx().query('dcim', `SELECT "value", "quality" FROM "kpi" WHERE "kpi" = 'pue_live' AND "site" = 'demo' GROUP BY "category", "window", "basis"`);
    expect(tagged.map((s) => s.tags)).toEqual([{ basis: 'power', category: '2', window: 'instant' }]);
    // quality is a field (a recompute may upgrade it without creating a second series).
    expect(new Set((tagged[0]?.values ?? []).filter(([, v]) => v !== null).map(([, , q]) => q))).toEqual(new Set(['measured']));
    const samples = (tagged[0]?.values ?? []).filter(([, value]) => value !== null).map(([time, value]) => ({ time: Number(time), value: Number(value) }));
    expectNearTruth(p.sim, samples);

    // Raw readings: the PDU's device power and the meter's power match the truth at their poll time.
    // A poll may straddle a model tick (the truth then holds the neighbouring state, < 0.1 %/s
    // apart), so the bound is the PUE tolerance, not the encoding's resolution alone.
    const pdu = await influx().query('dcim', `SELECT "active_power_w", "energy_kwh" FROM "pdu" WHERE "device" = 'pdu-r01-a' AND "phase" = ''`);
    const rows = pdu[0]?.values ?? [];
    expect(rows.length).toBeGreaterThanOrEqual(3);
    for (const [time, power] of rows) {
      const truth = p.sim.truth(Number(time)).devices['pdu-r01-a']!.power_w;
      // The APC MIB reports hundredths of kW: 10 W resolution.
      expect(Math.abs(Number(power) - truth)).toBeLessThanOrEqual(Math.max(10, truth * TOLERANCE));
    }
    const meter = await influx().query('dcim', `SELECT "active_power_w" FROM "meter" WHERE "device" = 'meter-incomer-1'`);
    for (const [time, power] of meter[0]?.values ?? []) {
      const truth = p.sim.truth(Number(time)).devices['meter-incomer-1']!.power_w;
      expect(Math.abs(Number(power) - truth) / truth).toBeLessThan(TOLERANCE);
    }
    const phases = await influx().query('dcim', `SELECT count("phase_power_w") FROM "pdu" GROUP BY "phase"`);
    expect(phases.map((s) => s.tags.phase).sort()).toEqual(['1', '2', '3']);
  });
});

describe('end to end: simulator → agent → mosquitto → collector → InfluxDB v2 write API (VictoriaMetrics)', () => {
  const broker = useService('mosquitto', () => startMosquitto());
  const vm = useService('victoria-metrics', () => startVictoriaMetrics());

  it('stores a live PUE equal to the ground truth within 0.5 % through @influxdata/influxdb-client', async () => {
    const p = await startPipeline(broker().url, { kind: 'influx_v2', url: vm().url, org: 'dcim', bucket: 'dcim', token: 'unused-by-victoria-metrics', batch_lines: 5000 });
    await runUntilKpis(p, 4);
    await vm().flush();
    const series = await vm().waitForSeries('kpi_value{kpi="pue_live",site="demo"}', (s) => (s[0]?.values.length ?? 0) >= 3);
    expect(series).toHaveLength(1);
    expect(series[0]!.metric).toMatchObject({ category: '2', window: 'instant', basis: 'power' });
    const samples = series[0]!.timestamps.map((time, i) => ({ time, value: series[0]!.values[i]! }));
    expectNearTruth(p.sim, samples);
    const power = await vm().waitForSeries('meter_active_power_w{device="meter-incomer-1"}', (s) => (s[0]?.values.length ?? 0) >= 3);
    expect(power[0]!.metric).toMatchObject({ site: 'demo', role: 'facility_in', hall: 'h1' });
  });
});
