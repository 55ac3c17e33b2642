import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/index.js';
import { Collector, createSink, type MetricSink } from '../../collector/index.js';
import { ManualClock, SiteInventorySchema, SystemClock, type SiteInventory } from '../../contract/index.js';
import { createLogger } from '../../shared/log.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { useService } from '../support/require-service.js';
import { startInfluxV1, startMosquitto } from '../support/services.js';
import { until } from '../support/until.js';
import { PATIENT_REQUESTS } from '../support/patient-requests.js';

/**
 * One simulated local day of the Gui'an-like seed (≈1,000 devices) through the whole path
 * with real protocols and real servers: simulator → agent → mosquitto → collector → influxd (/write).
 * The daily energy PUE, rack occupancy and physical green share read back from InfluxDB must equal
 * the simulator's ground truth for that day within 1 %.
 *
 * Time is ONE ManualClock shared by simulator, agent and collector: the loop advances it by the
 * poll interval, then waits (real time) until every device's poll of that step is published and
 * ingested. No part can fall behind simulated time, so the run is exact whatever the machine's load
 * (the wall time only grows). The InfluxDB sink batches on the system clock.
 *
 * Polls every hour (24 steps a day; counters integrate exactly whatever the interval, and a step
 * costs the same wall time whatever its length: every device polled once), with up to 256 polls in
 * flight. Protocol timeouts are real timers: the agent waits as long as PATIENT_REQUESTS says, so a
 * peer that answers late on a loaded machine is not judged down. Long (≈2 min on 2 cores, ≈4 s a
 * step): runs with DCIM_LONG_TESTS=1.
 */

const LONG = process.env.DCIM_LONG_TESTS === '1';
const SEED = join(import.meta.dirname, '..', '..', 'seeds', 'guian.yaml');
const TOLERANCE = 0.01;
/** The poll and KPI interval: an hour, so a day is 24 steps (counters integrate exactly whatever the interval). */
const STEP_MS = 60 * 60_000;
/** Past the agent's per-device jitter (≤ 250 ms), so a step's polls all start within it. */
const PAST_SLOT_MS = 1000;
const HOUR_MS = 3_600_000;
/** 2026-07-10 00:00 Asia/Shanghai (UTC+8): the day under test; a July day, cooling works. */
const DAY_START = Date.UTC(2026, 6, 9, 16);
const DAY_END = DAY_START + 24 * HOUR_MS;
const logger = createLogger({ level: 'error' });
const profiles = loadProfiles();

function relErr(value: number, truth: number): number {
  return Math.abs(value - truth) / Math.abs(truth);
}

describe.runIf(LONG)("Gui'an-like seed, one accelerated local day through the real pipeline", () => {
  const broker = useService('mosquitto', () => startMosquitto());
  const influx = useService('influxd', () => startInfluxV1());
  let parts: { sim?: SimSite; agent?: Agent; collector?: Collector; sink?: MetricSink } = {};

  afterAll(async () => {
    const p = parts;
    parts = {};
    await p.agent?.stop().catch(() => undefined);
    await p.collector?.stop().catch(() => undefined);
    await p.sink?.close().catch(() => undefined);
    await p.sim?.stop();
  });

  it('stores the daily PUE, rack occupancy and green share of the truth within 1 %', async () => {
    const t_wall = Date.now();
    await influx().createDatabase('dcim');
    // Two steps before the day, so the first poll of the day has a counter baseline.
    const clock = new ManualClock(DAY_START - 3 * STEP_MS + PAST_SLOT_MS);
    const seed = loadYamlFile(SiteInventorySchema, SEED);
    parts.sim = await startSimSite({ inventory: seed, profiles, bind: 'ephemeral', logger, clock, tickMs: 60_000 });
    const bound = parts.sim.inventory();
    const inventory: SiteInventory = { ...bound, devices: bound.devices.map((d) => ({ ...d, interval_s: STEP_MS / 1000 })) };
    parts.sink = createSink({ kind: 'influx_v1', url: influx().url, database: 'dcim', batch_lines: 5000 }, { clock: new SystemClock(), logger });
    parts.collector = new Collector({ id: 'guian-day', inventories: [inventory], mqtt: { url: broker().url, clientId: 'guian-day-collector' }, sink: parts.sink, profiles, logger, clock, kpiIntervalMs: STEP_MS });
    parts.agent = new Agent({ id: 'edge-1', inventory, profiles, mqtt: { url: broker().url }, stateDir: mkdtempSync(join(tmpdir(), 'dcim-guian-day-')), logger, clock, maxConcurrent: 256, ...PATIENT_REQUESTS });
    await parts.collector.start();
    await parts.agent.start();
    const { agent, collector } = parts;
    const devices = inventory.devices.map((d) => d.id);
    const t_started = Date.now();

    // Every step: advance to just past the step's poll slots, then wait until every device has
    // polled once more, the agent has nothing in flight and the collector has every message.
    const steps = Math.round((DAY_END + 2 * STEP_MS - clock.now()) / STEP_MS) + 1;
    const stepWalls: number[] = [];
    const polls = (): Record<string, number> => Object.fromEntries(Object.entries(agent.stats().polling.devices).map(([id, d]) => [id, d.polls]));
    for (let k = 1; k <= steps; k++) {
      const t_step = Date.now();
      const before = polls();
      clock.advance(STEP_MS);
      await until(
        `step ${k} of ${steps}: every device polled, published and ingested`,
        () => {
          const s = agent.stats();
          if (s.polling.in_flight > 0 || s.polling.queued > 0) return false;
          if (!devices.every((id) => (s.polling.devices[id]?.polls ?? 0) > (before[id] ?? 0))) return false;
          // Every poll's telemetry in the KPI engine: the collector also receives status and its own
          // KPI messages, so a count of all messages would pass a step a poll or two early.
          const sent = Object.values(s.polling.devices).reduce((n, d) => n + d.polls - d.down_polls, 0);
          return collector.stats().engine.polls >= sent;
        },
        180_000,
        () => {
          const s = agent.stats();
          const behind = devices.filter((id) => (s.polling.devices[id]?.polls ?? 0) <= (before[id] ?? 0));
          return JSON.stringify({ in_flight: s.polling.in_flight, queued: s.polling.queued, behind: behind.length, first: behind.slice(0, 3).map((id) => [id, s.polling.devices[id]]), published: s.mqtt.published, received: collector.stats().messages_received });
        },
      );
      stepWalls.push(Date.now() - t_step);
    }
    const failed = Object.entries(agent.stats().polling.devices).filter(([, d]) => d.down_polls > 0 || d.timeouts > 0).map(([id]) => id);
    await agent.stop();
    await collector.stop();
    await parts.sink.flush();
    const t_ran = Date.now();

    const truth = parts.sim.truth(undefined, { devices: false });
    const day = truth.windows['1d'].find((w) => w.window_end === DAY_END);
    const occ = truth.occupancy.find((o) => o.window_end === DAY_END);
    expect(day, 'truth has the day').toBeDefined();
    expect(occ, 'truth has the day').toBeDefined();
    expect(day!.coverage_ratio).toBe(1);

    const stored = async (kpi: string, basis: string): Promise<number> => {
      const series = await influx().query('dcim', `SELECT "value" FROM "kpi" WHERE "site" = 'guian' AND "kpi" = '${kpi}' AND "window" = '1d' AND "basis" = '${basis}' AND time = ${DAY_END}ms`);
      const rows = series.flatMap((s) => s.values);
      expect(rows, `${kpi} 1d ${basis} stored at the day's end`).toHaveLength(1);
      return Number(rows[0]![1]);
    };
    const pue = await stored('pue', 'energy');
    const occupancy = await stored('rack_occupancy_ratio', 'on_rack_count');
    const green = await stored('green_share_ratio', 'energy_physical');
    const truthGreen = (day!.green_onsite_kwh + day!.green_feed_kwh) / day!.facility_kwh;
    const report = {
      wall_s: { setup: (t_started - t_wall) / 1000, run: (t_ran - t_started) / 1000, step_max: Math.max(...stepWalls) / 1000, steps },
      pue: { stored: pue, truth: day!.pue },
      occupancy: { stored: occupancy, truth: occ!.occupancy_ratio },
      green: { stored: green, truth: truthGreen },
      devices: devices.length,
      failed_devices: failed.length,
    };
    console.log(JSON.stringify(report));
    expect(relErr(pue, day!.pue!)).toBeLessThan(TOLERANCE);
    expect(relErr(occupancy, occ!.occupancy_ratio!)).toBeLessThan(TOLERANCE);
    expect(relErr(green, truthGreen)).toBeLessThan(TOLERANCE);
  }, 1_800_000);
});
