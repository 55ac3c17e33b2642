import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { Agent } from '../../../agent/index.js';
import { Collector, createSink, type MetricSink } from '../../../collector/index.js';
import type { MetricPoint } from '../../../collector/store/metric-point.js';
import { ManualClock, SiteInventorySchema, type KpiValue, type SiteInventory } from '../../../contract/index.js';
import { createLogger } from '../../../shared/log.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { startSimSite, type SimSite, type SiteTruth } from '../../../simulators/index.js';
import { stepPolls } from '../../support/step-polls.js';
import { PATIENT_REQUESTS } from '../../support/patient-requests.js';

/**
 * The demo seed through simulator → agent → mosquitto → collector on one ManualClock, for the
 * demo-energy*.test.ts suites (which say what each run proves). Time is ONE ManualClock shared by
 * simulator, agent and collector (as in guian-day.test.ts): a run advances it one poll interval at
 * a time and waits in real time until every device has polled, published and been ingested.
 * Nothing can fall behind simulated time, so the figures do not depend on the machine's load (only
 * the wall time does). A step costs ≈ 0.15–0.4 s of wall time whatever the interval (53 devices
 * polled, published and ingested).
 */

export const LONG = process.env.DCIM_LONG_TESTS === '1';
export const SOAK = process.env.DCIM_SOAK_TESTS === '1';
const SEED = join(import.meta.dirname, '..', '..', '..', 'seeds', 'demo.yaml');
/** The bar the demo is held to: energy KPIs within 0.5 % of the truth. */
export const TOLERANCE = 0.005;
/** Past the agent's per-device offset (≤ 250 ms, ≤ a tenth of the interval), so a step's polls all start within it. */
const PAST_SLOT_MS = 1000;
export const MIN_MS = 60_000;
export const HOUR_MS = 3_600_000;
/** 2026-12-07 12:00 Asia/Shanghai (UTC+8): midday, so the PV inverter produces. */
export const NOON = Date.UTC(2026, 11, 7, 4);
/** 2026-12-07 00:00 Asia/Shanghai. */
export const MIDNIGHT = NOON - 12 * HOUR_MS;
const logger = createLogger({ level: 'error' });
const profiles = loadProfiles();

interface Running {
  sim: SimSite;
  agent: Agent;
  collector: Collector;
  sink: MetricSink;
}
let running: Running | undefined;

/** Stops the run in progress, if any (each suite's afterEach: a failed run leaves nothing behind). */
export async function stopDemoSite(): Promise<void> {
  const r = running;
  running = undefined;
  if (!r) return;
  await r.agent.stop().catch(() => undefined);
  await r.collector.stop().catch(() => undefined);
  await r.sink.close().catch(() => undefined);
  await r.sim.stop();
}

export const relErr = (value: number, truth: number) => Math.abs(value - truth) / Math.abs(truth);
const hhmm = (ts: number) => new Date(ts + 8 * HOUR_MS).toISOString().slice(11, 16);

/** A KPI figure as published or stored. */
interface Figure {
  value: number | undefined;
  quality: string;
}

export interface Run {
  /** Every windowed KPI value the collector published (onKpi, as the demo reads and prints it), by kpi|basis|window|end: the first seen. */
  published: Map<string, KpiValue>;
  /** The last KPI point written to the store per kpi|basis|window|end (revisions included): what reports read. */
  stored: Map<string, Figure>;
  truth: SiteTruth;
  ledger: { spikes: number; resets: number; rollovers: number };
  failed_devices: string[];
  wall_s: number;
  steps: number;
}

/**
 * The demo seed, every device polled every `poll_ms`, from `from` (a slot boundary) until the
 * clock reaches `to`; the collector evaluates at each poll.
 */
export async function runDemoSite(broker: string, poll_ms: number, from: number, to: number, tickMs: number): Promise<Run> {
  const t0 = Date.now();
  const clock = new ManualClock(from + PAST_SLOT_MS);
  const seed = loadYamlFile(SiteInventorySchema, SEED);
  const sim = await startSimSite({ inventory: seed, profiles, bind: 'ephemeral', logger, clock, tickMs });
  const bound = sim.inventory();
  const inventory: SiteInventory = { ...bound, site: { ...bound.site, agent: `demo-energy-${poll_ms}-edge` }, devices: bound.devices.map((d) => ({ ...d, interval_s: poll_ms / 1000 })) };
  const store = createSink({ kind: 'sqlite', path: ':memory:', retention_days: 7 }, { clock, logger });
  const stored = new Map<string, Figure>();
  const keep = (points: readonly MetricPoint[]) => {
    for (const p of points) {
      if (p.measurement !== 'kpi' || p.tags.window === 'instant') continue;
      stored.set(`${p.tags.kpi}|${p.tags.basis}|${p.tags.window}|${p.ts_ms}`, { value: p.fields.value as number | undefined, quality: String(p.fields.quality) });
    }
  };
  const sink: MetricSink = { ...store, start: () => store.start?.(), write: (points) => (keep(points), store.write(points)), flush: () => store.flush(), close: () => store.close(), stats: () => store.stats(), health: () => store.health() };
  const published = new Map<string, KpiValue>();
  const collector = new Collector({
    id: `demo-energy-${poll_ms}`,
    inventories: [inventory],
    mqtt: { url: broker, clientId: `demo-energy-${poll_ms}-collector` },
    sink,
    profiles,
    clock,
    logger,
    kpiIntervalMs: poll_ms,
    onKpi: (m) => {
      for (const k of m.kpis) {
        if (k.window === 'instant') continue;
        const key = `${k.kpi}|${k.basis}|${k.window}|${k.window_end}`;
        if (!published.has(key)) published.set(key, k);
      }
    },
  });
  const agent = new Agent({ id: `demo-energy-${poll_ms}-edge`, inventory, profiles, mqtt: { url: broker }, stateDir: mkdtempSync(join(tmpdir(), 'dcim-demo-energy-')), logger, clock, maxConcurrent: 128, ...PATIENT_REQUESTS });
  running = { sim, agent, collector, sink };
  await collector.start();
  await agent.start();

  const steps = await stepPolls({ clock, agent, collector, devices: inventory.devices.map((d) => d.id), poll_ms, more: () => clock.now() < to });
  const failed_devices = Object.entries(agent.stats().polling.devices).filter(([, d]) => d.down_polls > 0 || d.timeouts > 0).map(([id]) => id);
  const { spikes, resets, rollovers } = collector.stats().engine;
  // Every window of the run (a day is 96 quarter hours; the default keeps the newest 96).
  const truth = sim.truth(undefined, { devices: false, limit: { '15m': 200, '1h': 50, '1d': 5, occupancy: 5 } });
  return { published, stored, truth, ledger: { spikes, resets, rollovers }, failed_devices, wall_s: (Date.now() - t0) / 1000, steps };
}

/** The published PUE of each window ending in `ends`, against the truth's window: [{window, end, value, truth, err}]. */
export function pueAgainstTruth(run: Run, window: '15m' | '1h' | '1d', ends: number[]) {
  return ends.map((end) => {
    const v = run.published.get(`pue|energy|${window}|${end}`);
    const last = run.stored.get(`pue|energy|${window}|${end}`);
    const truth = run.truth.windows[window].find((w) => w.window_end === end);
    return {
      window,
      at: hhmm(end),
      value: v?.value ?? null,
      quality: v?.quality ?? null,
      coverage: v?.coverage ?? null,
      revised: last !== undefined && (last.value !== v?.value || last.quality !== v?.quality),
      last_value: last?.value ?? null,
      last_quality: last?.quality ?? null,
      last_err: last?.value !== undefined && truth?.pue ? relErr(last.value, truth.pue) : null,
      truth: truth?.pue ?? null,
      truth_coverage: truth?.coverage_ratio ?? null,
      err: v?.value !== undefined && truth?.pue ? relErr(v.value, truth.pue) : null,
      it_kwh: v?.inputs?.it_kwh ?? null,
      truth_it_kwh: truth?.it_kwh ?? null,
      facility_kwh: v?.inputs?.facility_kwh ?? null,
      truth_facility_kwh: truth?.facility_kwh ?? null,
    };
  });
}

/**
 * The figure first published once the window settled (what the demo prints) and the last one
 * written to the store (revisions included: what reports read) are both `measured` and within the
 * tolerance of the truth.
 */
export function expectWithinTolerance(rows: ReturnType<typeof pueAgainstTruth>): void {
  for (const r of rows) {
    expect(r.truth_coverage, `truth covers ${r.window} ending ${r.at}`).toBe(1);
    expect(r.value, `${r.window} PUE ending ${r.at} published (quality ${r.quality})`).not.toBeNull();
    expect(r.quality, `${r.window} PUE ending ${r.at} as first published`).toBe('measured');
    expect(r.err!, `${r.window} PUE ending ${r.at} as first published: ${r.value} against truth ${r.truth}`).toBeLessThan(TOLERANCE);
    expect(r.last_quality, `${r.window} PUE ending ${r.at} as last published`).toBe('measured');
    expect(r.last_err!, `${r.window} PUE ending ${r.at} as last published: ${r.last_value} against truth ${r.truth}`).toBeLessThan(TOLERANCE);
  }
}


/**
 * One test: the demo seed polled every `poll_s` from two polls before noon (a counter baseline) to
 * one settle time (60 s) past the end of the first quarter hour or of the hour; the 15-minute (and,
 * through the hour, the hourly) energy PUE within 0.5 % of the truth.
 */
export function quarterAndHourCase(broker: () => { url: string }, poll_s: number, windows: 'quarter' | 'hour', enabled: boolean): void {
  const what = windows === 'hour' ? 'each 15-minute and the hourly energy PUE' : 'the 15-minute energy PUE';
  it.runIf(enabled)(`polled every ${poll_s} s: ${what} within 0.5 % of the truth`, async () => {
    const span = windows === 'hour' ? HOUR_MS : 15 * MIN_MS;
    const run = await runDemoSite(broker().url, poll_s * 1000, NOON - 2 * poll_s * 1000, NOON + span + MIN_MS + 1000, 1000);
    const quarters = pueAgainstTruth(run, '15m', Array.from({ length: span / (15 * MIN_MS) }, (_, k) => NOON + (k + 1) * 15 * MIN_MS));
    const hour = windows === 'hour' ? pueAgainstTruth(run, '1h', [NOON + HOUR_MS]) : [];
    console.log(JSON.stringify({ poll_s, wall_s: run.wall_s, steps: run.steps, ledger: run.ledger, failed_devices: run.failed_devices, windows: [...quarters, ...hour] }));
    expect(run.failed_devices).toEqual([]);
    expectWithinTolerance([...quarters, ...hour]);
  }, 900_000);
}

/**
 * One test: the demo seed polled every `poll_s` through a local day (from two polls before
 * midnight to one settle time past the next); every 15-minute and hourly window, the daily PUE,
 * rack occupancy and green share within 0.5 % of the truth.
 */
export function dayCase(broker: () => { url: string }, poll_s: number, enabled: boolean): void {
  it.runIf(enabled)(`polled every ${poll_s} s for a local day: every window, the daily PUE, rack occupancy and green share within 0.5 % of the truth`, async () => {
    const dayEnd = MIDNIGHT + 24 * HOUR_MS;
    const run = await runDemoSite(broker().url, poll_s * 1000, MIDNIGHT - 2 * poll_s * 1000, dayEnd + MIN_MS + 1000, 5000);
    const quarters = pueAgainstTruth(run, '15m', Array.from({ length: 96 }, (_, k) => MIDNIGHT + (k + 1) * 15 * MIN_MS));
    const hours = pueAgainstTruth(run, '1h', Array.from({ length: 24 }, (_, k) => MIDNIGHT + (k + 1) * HOUR_MS));
    const day = pueAgainstTruth(run, '1d', [dayEnd]);
    const occupancy = run.published.get(`rack_occupancy_ratio|on_rack_count|1d|${dayEnd}`);
    const green = run.published.get(`green_share_ratio|energy_physical|1d|${dayEnd}`);
    const truthOcc = run.truth.occupancy.find((o) => o.window_end === dayEnd);
    const truthDay = run.truth.windows['1d'].find((w) => w.window_end === dayEnd)!;
    const truthGreen = Math.min(1, (truthDay.green_onsite_kwh + truthDay.green_feed_kwh) / truthDay.facility_kwh);
    const worst = [...quarters, ...hours].filter((r) => r.err === null || r.err >= TOLERANCE);
    console.log(JSON.stringify({ wall_s: run.wall_s, steps: run.steps, ledger: run.ledger, day, worst, occupancy: [occupancy?.value, occupancy?.quality, truthOcc?.occupancy_ratio], green: [green?.value, green?.quality, truthGreen] }));
    expect(run.failed_devices).toEqual([]);
    expectWithinTolerance([...quarters, ...hours, ...day]);
    expect(truthOcc?.coverage_ratio).toBe(1);
    expect(occupancy?.quality).toBe('measured');
    expect(relErr(occupancy!.value!, truthOcc!.occupancy_ratio!)).toBeLessThan(TOLERANCE);
    expect(green?.quality).toBe('measured');
    expect(relErr(green!.value!, truthGreen)).toBeLessThan(TOLERANCE);
  }, 1_800_000);
}
