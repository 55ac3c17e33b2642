import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from '../../agent/index.js';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../cli/embedded-broker.js';
import { alertPoint } from '../../collector/alerts/alert-points.js';
import { Collector, createSink, encodePoint, type MetricSink } from '../../collector/index.js';
import { ManualClock, SiteInventorySchema, SystemClock, type SiteInventory } from '../../contract/index.js';
import { createLogger } from '../../shared/log.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { loadYamlFile } from '../../shared/config/load.js';
import type { FieldKind } from '../../contract/storage-schema.js';
import { KPI_CATALOGUE } from '../../collector/kpi/registry/index.js';
import { storeSchema } from '../../collector/store/kpi-schema.js';
import { dashboardQueries, variableCombinations, type DashboardJson } from '../../dashboards/check-dashboard.js';
import { expandMacros } from '../../dashboards/grafana/macros.js';
import { checkInfluxQl } from '../../dashboards/influxql/check.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { useService } from '../support/require-service.js';
import { startInfluxV1, type InfluxSeries } from '../support/services.js';
import { PATIENT_REQUESTS } from '../support/patient-requests.js';
import { stepPolls } from '../support/step-polls.js';
import { repoPath } from '../support/repo-path.js';

/**
 * Every query of every committed dashboard, run against a real InfluxDB 1.x that the pipeline
 * filled from the simulators: demo seed → simulator → agent → embedded MQTT broker → collector →
 * influxd (/write). Grafana's macros and variables are substituted as Grafana would.
 *
 * Time is ONE ManualClock shared by simulator, agent and collector (as in demo-energy.test.ts):
 * the test advances it one poll interval at a time and waits in real time until every device has
 * polled, published and been ingested, so nothing falls behind simulated time and what is stored
 * does not depend on the machine's load. The run starts a few simulated minutes before a quarter
 * hour (midday, so the PV inverter produces) and ends once the first complete 15-minute PUE window
 * is stored and a good live PUE followed it. Windows longer than the run (hour, day, month, year)
 * exist as points with no value (quality insufficient); panels drawing day ends by the dashboard
 * range (occupancy, daily PUE) have none in a 25-minute run: those queries must run without
 * error, and their reason is listed below.
 */

const POLL_MS = 60_000;
/** Past the agent's per-device offset (≤ a tenth of the interval), so a step's polls all start within it. */
const PAST_SLOT_MS = 1000;
/** 2026-12-07 12:00 Asia/Shanghai (UTC+8), a quarter hour. */
const NOON = Date.UTC(2026, 11, 7, 4);
/** A poll before the window for a counter baseline, then the window, then a live PUE after it: 40 steps is ample. */
const MAX_STEPS = 40;
const SEED = repoPath('seeds', 'demo.yaml');
const JSON_DIR = repoPath('dashboards', 'json');
const profiles = loadProfiles();
const schema = storeSchema(profiles.values());
const logger = createLogger({ level: 'error' });
const CLUSTER = { id: 'guian', name: "Gui'an", targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 }, sites: ['demo'] };

type Expect =
  /** Rows with at least one number, every number in [min, max], something in every value column. */
  | { kind: 'values'; min: number; max: number }
  /** Rows (text, booleans, or numbers that may be null: windows longer than the run). */
  | { kind: 'rows'; why?: string }
  /** Runs without error; no rows expected from a short run. */
  | { kind: 'valid'; why: string };

const W = { kind: 'values', min: 0, max: 2e6 } as const; // watts of a 16-rack hall
const PUE = { kind: 'values', min: 1, max: 2 } as const;
const RATIO = { kind: 'values', min: 0, max: 1 } as const;
const PCT = { kind: 'values', min: 0, max: 100 } as const;
const TEMP = { kind: 'values', min: 5, max: 45 } as const;
const COUNT = { kind: 'values', min: 0, max: 1e7 } as const;
const LONG = 'windows longer than the run are stored without a value (quality insufficient)';
const DAY_END = 'stamped at the end of a local day; a 25-minute run contains no day end';

/** What each query returns after the run, by `<dashboard> <panel> <refId>`. */
const EXPECTED: Record<string, Expect> = {
  'dcim-site-operations panel "Live PUE" A': { kind: 'values', min: 1, max: 2 },
  'dcim-site-operations panel "PUE by window" A': PUE,
  'dcim-site-operations panel "PUE by window" B': PUE,
  'dcim-site-operations panel "PUE per window: newest value, quality and coverage" A': { kind: 'values', min: 0, max: 2 },
  'dcim-site-operations panel "PUE quality by window" A': { kind: 'rows' },
  'dcim-site-operations panel "Facility, IT and cooling power" A': W,
  'dcim-site-operations panel "Facility, IT and cooling power" B': W,
  'dcim-site-operations panel "Facility, IT and cooling power" C': W,
  'dcim-site-operations panel "IT power by hall" A': W,
  'dcim-site-operations panel "Rack power heat map" A': { kind: 'values', min: 0, max: 60_000 },
  'dcim-site-operations panel "Against the targets" A': { kind: 'rows', why: LONG },
  'dcim-site-operations panel "Against the targets" B': { kind: 'rows', why: LONG },
  'dcim-site-operations panel "Against the targets" C': { kind: 'rows', why: LONG },
  'dcim-site-operations panel "Rack occupancy (上架率)" A': { kind: 'valid', why: DAY_END },
  'dcim-site-operations panel "Rack occupancy (上架率)" B': { kind: 'valid', why: DAY_END },
  'dcim-site-operations panel "Green share (绿电占比)" A': RATIO,
  'dcim-site-operations panel "Green share (绿电占比)" B': { kind: 'valid', why: LONG },
  'dcim-site-operations panel "Chilled water temperatures" A': TEMP,
  'dcim-site-operations panel "CRAH supply and return air" A': TEMP,
  'dcim-site-operations panel "Rack inlet temperature" A': TEMP,
  'dcim-site-operations panel "GPU and server power by rack" A': W,
  'dcim-site-operations panel "GPU and server power by rack" B': W,
  'dcim-site-operations panel "GPU utilisation" A': PCT,
  'dcim-site-operations panel "GPU utilisation" B': PCT,
  'dcim-site-operations panel "Installed compute" A': { kind: 'values', min: 1, max: 1000 },
  'dcim-site-operations panel "Installed compute" B': { kind: 'values', min: 0, max: 1000 },
  'dcim-site-operations panel "Installed compute" C': RATIO,
  'dcim-site-operations annotation "Firing alerts"': { kind: 'valid', why: 'alerts fire only on faults; the demo runs without (the query is checked on alert points below)' },
  'dcim-site-operations annotation "Resolved alerts"': { kind: 'valid', why: 'as above' },
  'dcim-site-operations variable site': { kind: 'rows' },
  'dcim-site-operations variable hall': { kind: 'rows' },
  'dcim-bureau-overview panel "Ranking: sites by PUE, month to date" A': { kind: 'rows', why: LONG },
  'dcim-bureau-overview panel "Ranking: sites by PUE, month to date" B': { kind: 'rows', why: LONG },
  'dcim-bureau-overview panel "Ranking: sites by PUE, month to date" C': { kind: 'rows', why: LONG },
  'dcim-bureau-overview panel "Sites and clusters against the targets" A': { kind: 'rows', why: LONG },
  'dcim-bureau-overview panel "Sites and clusters against the targets" B': { kind: 'rows', why: LONG },
  'dcim-bureau-overview panel "Sites and clusters against the targets" C': { kind: 'rows', why: LONG },
  'dcim-bureau-overview panel "Cluster roll-ups: energy-weighted and mean of sites" A': { kind: 'rows', why: LONG },
  // EFLOPS and PFLOPS of the same figure side by side.
  'dcim-bureau-overview panel "Compute monitoring: scale, intelligent-compute share, utilisation" A': { kind: 'values', min: 0.001, max: 1000 },
  'dcim-bureau-overview panel "Compute monitoring: scale, intelligent-compute share, utilisation" B': { kind: 'values', min: 0, max: 1000 },
  'dcim-bureau-overview panel "Compute monitoring: scale, intelligent-compute share, utilisation" C': RATIO,
  'dcim-bureau-overview panel "Compute monitoring: scale, intelligent-compute share, utilisation" D': PCT,
  'dcim-bureau-overview panel "Data quality per site" A': { kind: 'rows', why: LONG },
  'dcim-bureau-overview panel "Data quality per site" B': { kind: 'rows' },
  'dcim-bureau-overview panel "Data quality per site" C': COUNT,
  'dcim-bureau-overview panel "Daily PUE by site and cluster, last 90 days" A': { kind: 'valid', why: DAY_END },
  'dcim-bureau-overview panel "Daily rack occupancy (上架率), last 90 days" A': { kind: 'valid', why: DAY_END },
  'dcim-bureau-overview panel "Daily green share (绿电占比), last 90 days" A': { kind: 'valid', why: DAY_END },
  'dcim-bureau-overview panel "Meter coverage of the 15-minute PUE windows" A': RATIO,
  'dcim-device-health panel "Agents" A': { kind: 'rows' },
  'dcim-device-health panel "Devices by state" A': COUNT,
  'dcim-device-health panel "Devices by state over time" A': COUNT,
  'dcim-device-health panel "Device status" A': { kind: 'rows' },
  // Within the poll interval.
  'dcim-device-health panel "Poll latency" A': { kind: 'values', min: 0, max: POLL_MS },
  'dcim-device-health panel "Poll errors, timeouts and retries" A': COUNT,
  'dcim-device-health panel "Spool depth" A': COUNT,
  'dcim-device-health panel "Spool depth" B': COUNT,
  'dcim-device-health panel "Agent online and MQTT connection" A': { kind: 'rows' },
  'dcim-device-health panel "Agent online and MQTT connection" B': COUNT,
  'dcim-device-health variable site': { kind: 'rows' },
  'dcim-device-health variable agent': { kind: 'rows' },
};

interface Run {
  from_ms: number;
  to_ms: number;
  vars: Record<string, string>;
}

const dashboards = readdirSync(JSON_DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => JSON.parse(readFileSync(join(JSON_DIR, f), 'utf8')) as DashboardJson & { templating: { list: { name?: string; type?: string }[] } });

/** The Chinese bureau dashboard runs the English one's queries, panel for panel: it expects what they do. */
const englishKey = new Map<string, string>();
{
  const byUid = (uid: string) => dashboardQueries(dashboards.find((d) => (d as { uid?: string }).uid === uid)!);
  const en = byUid('dcim-bureau-overview');
  byUid('dcim-bureau-overview-zh-cn').forEach((q, i) => englishKey.set(`${q.dashboard} ${q.where}`, `${en[i]!.dashboard} ${en[i]!.where}`));
}

/**
 * The value columns (not the time) that hold nothing in any row: a field the store lacks, named
 * beside one it has, is such a column (InfluxDB answers a misspelt field with nulls, not an error).
 */
function emptyColumns(series: readonly InfluxSeries[]): string[] {
  const columns = series[0]?.columns.slice(1) ?? [];
  return columns.filter((_, i) => series.every((s) => s.values.every((row) => row[i + 1] === null || row[i + 1] === undefined)));
}

/** The numbers in the value columns (not the time) of every row. */
function numbersOf(series: readonly InfluxSeries[]): number[] {
  return series.flatMap((s) => s.values.flatMap((row) => row.slice(1).filter((v): v is number => typeof v === 'number')));
}

describe('dashboards against InfluxDB 1.x filled by the pipeline from the simulators', () => {
  const influx = useService('influxd', () => startInfluxV1());
  let run: Run | undefined;
  let parts: { sim?: SimSite; broker?: EmbeddedBroker; agent?: Agent; collector?: Collector; sink?: MetricSink } = {};

  beforeAll(async () => {
    let db;
    try {
      db = influx();
    } catch {
      return; // influxd unavailable: useService skips (or fails) every test of the block
    }
    await db.createDatabase('dcim');
    const t0 = NOON - 6 * 60_000;
    const clock = new ManualClock(t0 + PAST_SLOT_MS);
    const seed = loadYamlFile(SiteInventorySchema, SEED);
    parts.sim = await startSimSite({ inventory: seed, profiles, bind: 'ephemeral', logger, clock, tickMs: 5000 });
    const bound = parts.sim.inventory();
    const inventory: SiteInventory = { ...bound, devices: bound.devices.map((d) => ({ ...d, interval_s: POLL_MS / 1000 })) };
    parts.broker = await startEmbeddedBroker();
    parts.sink = createSink({ kind: 'influx_v1', url: db.url, database: 'dcim', batch_lines: 5000 }, { clock: new SystemClock(), logger });
    parts.collector = new Collector({ id: 'dash', inventories: [inventory], clusters: [CLUSTER], mqtt: { url: parts.broker.url, clientId: 'dash-collector' }, sink: parts.sink, profiles, logger, clock, kpiIntervalMs: POLL_MS });
    parts.agent = new Agent({ id: 'edge-1', inventory, profiles, mqtt: { url: parts.broker.url }, stateDir: mkdtempSync(join(tmpdir(), 'dcim-dash-agent-')), logger, clock, maxConcurrent: 128, ...PATIENT_REQUESTS });
    await parts.collector.start();
    await parts.agent.start();

    // Until the first complete 15-minute PUE window has a value, every live figure the panels
    // draw has had one, and a good live PUE came after the window (the end of the range).
    const kpi = (name: string, window: string) => parts.collector!.latestKpi('demo')?.kpis.find((k) => k.kpi === name && k.window === window);
    const live = ['pue_live', 'green_share_live_ratio', 'accelerator_utilisation_pct', 'compute_ai_pflops', 'compute_general_pflops', 'compute_ai_share_ratio'];
    const seen = new Set<string>();
    let lastLive = 0;
    const complete = () => {
      for (const name of live) if (kpi(name, 'instant')?.ok) seen.add(name);
      const pue = kpi('pue_live', 'instant');
      if (pue?.ok) lastLive = pue.window_end;
      const quarter = kpi('pue', '15m');
      return quarter?.ok === true && lastLive > quarter.window_end + 60_000 && seen.size === live.length;
    };
    const steps = await stepPolls({ clock, agent: parts.agent, collector: parts.collector, devices: inventory.devices.map((d) => d.id), poll_ms: POLL_MS, more: () => !complete() && (clock.now() - t0) / POLL_MS < MAX_STEPS });
    if (!complete()) {
      const quarter = kpi('pue', '15m');
      throw new Error(`after ${steps} polls: 15-minute PUE ${JSON.stringify(quarter && { ok: quarter.ok, end: quarter.window_end, reason: quarter.reason })}, last good live PUE at ${lastLive}, live figures seen: ${[...seen].join(', ')}`);
    }
    await parts.agent.stop();
    await parts.collector.stop();
    await parts.sink.flush();
    run = { from_ms: t0, to_ms: lastLive, vars: { site: 'demo', hall: 'h1', agent: 'edge-1' } };
  }, 600_000);

  afterAll(async () => {
    const p = parts;
    parts = {};
    await p.agent?.stop().catch(() => undefined);
    await p.collector?.stop().catch(() => undefined);
    await p.sink?.close().catch(() => undefined);
    await p.sim?.stop();
    await p.broker?.stop();
  });

  it('runs every panel, annotation and variable query; each returns what a run this long can hold', async () => {
    const r = run!;
    const problems: string[] = [];
    const summary: string[] = [];
    for (const d of dashboards) {
      for (const q of dashboardQueries(d)) {
        const key = `${q.dashboard} ${q.where}`;
        const expected = EXPECTED[englishKey.get(key) ?? key];
        if (!expected) {
          problems.push(`${key}: no expectation in this test (add one)`);
          continue;
        }
        for (const custom of variableCombinations(q.query, d.templating.list.filter((v) => v.type === 'custom'))) {
          const vars = { ...r.vars, ...custom };
          const label = `${key}${Object.keys(custom).length ? ` ${JSON.stringify(custom)}` : ''}`;
          let series: InfluxSeries[];
          try {
            series = await influx().query('dcim', expandMacros(q.query, { from_ms: r.from_ms, to_ms: r.to_ms, interval: '1m', vars }));
          } catch (e) {
            problems.push(`${label}: ${(e as Error).message}`);
            continue;
          }
          const rows = series.reduce((n, s) => n + s.values.length, 0);
          const numbers = numbersOf(series);
          summary.push(`${label}: ${rows} rows, ${numbers.length} numbers${numbers.length ? ` ${Math.min(...numbers).toPrecision(4)}…${Math.max(...numbers).toPrecision(4)}` : ''}`);
          if (expected.kind !== 'valid' && rows === 0) problems.push(`${label}: no rows`);
          if (expected.kind === 'values') {
            if (numbers.length === 0) problems.push(`${label}: no numbers`);
            const empty = emptyColumns(series);
            if (rows > 0 && empty.length > 0) problems.push(`${label}: nothing in column ${empty.join(', ')}`);
            const out = numbers.filter((v) => v < expected.min || v > expected.max);
            if (out.length > 0) problems.push(`${label}: ${out.length} values outside [${expected.min}, ${expected.max}], e.g. ${out[0]}`);
          }
        }
      }
    }
    console.log(`dashboard queries over ${new Date(r.from_ms).toISOString()} … ${new Date(r.to_ms).toISOString()} (simulated):\n  ${summary.join('\n  ')}`);
    expect(problems).toEqual([]);
  });

  it('finds in the store only measurements, tags, fields and KPI labels that contract/storage-schema.ts declares', async () => {
    const problems: string[] = [];
    const measurements = (await influx().query('dcim', 'SHOW MEASUREMENTS')).flatMap((s) => s.values.map((v) => String(v[0])));
    expect(measurements).toEqual(expect.arrayContaining(['kpi', 'agent_health', 'device_status', 'pdu', 'ups', 'meter', 'chiller', 'crah', 'pv_inverter', 'gpu', 'sensor']));
    for (const m of measurements) {
      const spec = schema.get(m);
      if (!spec) {
        problems.push(`measurement ${m}`);
        continue;
      }
      for (const s of await influx().query('dcim', `SHOW FIELD KEYS FROM "${m}"`)) {
        for (const [name, type] of s.values as [string, FieldKind][]) {
          const f = spec.fields[name];
          if (!f) problems.push(`${m}: field ${name} (${type})`);
          else if (f.kind !== type) problems.push(`${m}: field ${name} is ${type} in the store, ${f.kind} in the catalogue`);
        }
      }
      for (const s of await influx().query('dcim', `SHOW TAG KEYS FROM "${m}"`)) for (const [tag] of s.values as [string][]) if (!spec.tags[tag]) problems.push(`${m}: tag ${tag}`);
      for (const [tag, t] of Object.entries(spec.tags)) {
        if (!t.values) continue;
        for (const s of await influx().query('dcim', `SHOW TAG VALUES FROM "${m}" WITH KEY = "${tag}"`)) {
          for (const [, value] of s.values as [string, string][]) if (!t.values.includes(value)) problems.push(`${m}: ${tag}=${value}`);
        }
      }
    }
    // Each KPI's windows and basis labels as the catalogue lists them for it.
    for (const s of await influx().query('dcim', `SELECT count("quality") FROM "kpi" GROUP BY "kpi", "window", "basis"`)) {
      const spec = KPI_CATALOGUE.get(s.tags.kpi!);
      if (!spec) continue; // reported above as a tag value
      if (!spec.windows.includes(s.tags.window as never)) problems.push(`kpi ${s.tags.kpi}: window ${s.tags.window}`);
      if (![...spec.site_basis, ...spec.cluster_basis].includes(s.tags.basis!)) problems.push(`kpi ${s.tags.kpi}: basis ${s.tags.basis}`);
    }
    expect(problems).toEqual([]);
  });

  it('a misspelt field is no error to InfluxDB, only an empty panel: the catalogue check is what catches it', async () => {
    const r = run!;
    const wrong = `SELECT mean("chw_supply_c") FROM "chiller" WHERE $timeFilter GROUP BY time($__interval)`;
    const expanded = expandMacros(wrong, { from_ms: r.from_ms, to_ms: r.to_ms, interval: '1m', vars: r.vars });
    expect(await influx().query('dcim', expanded)).toEqual([]);
    expect(checkInfluxQl(expanded, schema)).toEqual(['mean(): chiller has no field "chw_supply_c"']);
  });

  it("shows the alert engine's points as annotations", async () => {
    await influx().createDatabase('alerts');
    const r = run!;
    const base = { id: 'a1b2c3', rule: 'rack_inlet_temperature', name: 'Rack inlet temperature', severity: 'critical' as const, labels: { site: 'demo', hall: 'h1', rack_group: 'pod-a', rack: 'r01', device: 'th-r01' } };
    const record = { ...base, pending_since: null, value: 33.2, summary: 'Rack r01 inlet 33.2 °C (critical above 32 °C)', description: '', runbook: null, runbook_url: null, inhibited: false, last_event_at: null, version: 1, delivered: {} };
    const fired = r.from_ms + 60_000;
    const resolved = r.from_ms + 300_000;
    const points = [
      alertPoint({ kind: 'firing', at_ms: fired, alert: { ...record, state: 'firing', starts_at: fired, ends_at: null, changed_at: fired, updated_at: fired } }),
      alertPoint({ kind: 'resolved', at_ms: resolved, alert: { ...record, state: 'resolved', starts_at: fired, ends_at: resolved, changed_at: resolved, updated_at: resolved } }),
    ];
    await influx().write('alerts', points.map((p) => (encodePoint(p) as { ok: true; value: { line: string } }).value.line), 'ms');
    const site = dashboards.find((d) => d.uid === 'dcim-site-operations')!;
    const annotations = dashboardQueries(site).filter((q) => q.where.startsWith('annotation'));
    const got = await Promise.all(annotations.map(async (a) => (await influx().query('alerts', expandMacros(a.query, { from_ms: r.from_ms, to_ms: r.to_ms, interval: '1m', vars: r.vars }))).flatMap((s) => s.values)));
    expect(got).toEqual([[[fired, record.summary, 'rack_inlet_temperature', 'critical', 'th-r01']], [[resolved, record.summary, 'rack_inlet_temperature', 'critical', 'th-r01']]]);
  });
});
