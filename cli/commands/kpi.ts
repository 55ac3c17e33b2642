import { resolve } from 'node:path';
import { SystemClock, SiteInventorySchema, DcimError, KpiWindowSchema, NAME_PATTERN, type KpiValue } from '../../contract/index.js';
import { createLogger } from '../../shared/log.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { loadCollectorConfig } from '../../collector/config.js';
import { kpiEngineConfig } from '../../collector/from-config.js';
import { TelemetryGate } from '../../collector/ingest/telemetry-gate.js';
import { KpiEngine } from '../../collector/kpi-engine.js';
import { siteCalendar, type SiteCalendar } from '../../shared/time/site-calendar.js';
import { KpiReplay } from '../../collector/recompute/kpi-replay.js';
import { ReadingsFile } from '../../collector/recompute/readings-file.js';
import { recomputeStored } from '../../collector/recompute/recompute-stored.js';
import { parseTimeArg } from '../../collector/recompute/time-arg.js';
import { SeqDedup } from '../../collector/state/seq-dedup.js';
import { buildSiteRegistry } from '../../collector/state/site-registry.js';
import { KpiConfigSchema } from '../../collector/config.js';
import { UsageError, helpText, parseCommandArgs, stringOption, type CommandSpec, type ParsedValues } from '../args.js';
import type { Command } from '../dcim.js';

/**
 * `dcim kpi --seed site.yaml --readings telemetry.jsonl`: the site's KPIs computed offline from a
 * file of telemetry messages, printed as JSON (the collector's gate, engine and windows: offline
 * equals online).
 * `dcim kpi recompute --site id --from … --to … [--config collector.yaml]`: the stored KPIs of a
 * site recomputed from the stored raw readings and written back (idempotent).
 */
const spec: CommandSpec = {
  name: 'kpi',
  summary: 'compute KPIs offline from a telemetry file, or recompute stored KPIs from stored raw readings',
  usage: 'dcim kpi --seed site.yaml --readings telemetry.jsonl [--from t] [--to t] [--window 1d,1mo] [--kpi pue]\n       dcim kpi recompute --site id --from t --to t [--config collector.yaml] [--dry-run]',
  options: {
    seed: { type: 'string', placeholder: 'site.yaml', description: 'offline: the site inventory the telemetry belongs to' },
    readings: { type: 'string', placeholder: 'file.jsonl', description: 'offline: telemetry messages, one contract TelemetryMessage (JSON) per line; invalid lines are counted and reported' },
    site: { type: 'string', placeholder: 'id', description: 'recompute: the site (one of the config\'s collector.sites)' },
    config: { type: 'string', short: 'c', placeholder: 'file', description: 'recompute: collector config naming the store and the seeds', default: 'collector.yaml' },
    from: { type: 'string', placeholder: 'time', description: 'windows starting at or after this: 2026-03-01 (local midnight at the site), 2026-03-01T08:00+08:00 or epoch ms; offline default: the first reading' },
    to: { type: 'string', placeholder: 'time', description: 'windows ending at or before this (same forms); offline default: the last reading' },
    window: { type: 'string', placeholder: 'list', description: 'offline: print only these windows (15m,1h,1d,1mo,ytd,12mo,1y,instant)' },
    kpi: { type: 'string', placeholder: 'list', description: 'offline: print only these KPIs (pue,rack_occupancy_ratio,…)' },
    'dry-run': { type: 'boolean', description: 'recompute: compute and print the KPIs, write nothing' },
  },
};

const OFFLINE_ONLY = ['seed', 'readings', 'window', 'kpi'] as const;
const RECOMPUTE_ONLY = ['site', 'dry-run'] as const;

function list(values: ParsedValues, name: 'window' | 'kpi', check: (s: string) => boolean): Set<string> | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const items = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  const bad = items.filter((s) => !check(s));
  if (bad.length > 0) throw new UsageError('kpi', `--${name}: unknown ${bad.map((b) => JSON.stringify(b)).join(', ')}`);
  return new Set(items);
}

function time(values: ParsedValues, name: 'from' | 'to', cal: SiteCalendar): number | undefined {
  const raw = stringOption(values, name);
  if (raw === undefined) return undefined;
  const r = parseTimeArg(raw, cal);
  if (!r.ok) throw new UsageError('kpi', `--${name}: ${r.reason}`);
  return r.value;
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

async function offline(values: ParsedValues): Promise<number> {
  const seedFile = stringOption(values, 'seed');
  const readingsFile = stringOption(values, 'readings');
  if (seedFile === undefined || readingsFile === undefined) throw new UsageError('kpi', '--seed <site.yaml> and --readings <file.jsonl> are required (or: dcim kpi recompute …)');
  const windows = list(values, 'window', (s) => KpiWindowSchema.safeParse(s).success);
  const names = list(values, 'kpi', (s) => NAME_PATTERN.test(s));
  const inventory = loadYamlFile(SiteInventorySchema, resolve(seedFile));
  const cal = siteCalendar(inventory.site.timezone);
  const from = time(values, 'from', cal);
  const to = time(values, 'to', cal);
  const profiles = loadProfiles();
  const engine = KpiEngine.create({ inventories: [inventory], profiles, config: kpiEngineConfig(KpiConfigSchema.parse({})) });
  const file = new ReadingsFile(resolve(readingsFile), new TelemetryGate(buildSiteRegistry([inventory], profiles), new SeqDedup()));
  const replay = new KpiReplay(engine);
  for (const p of file.polls()) replay.feed(p);
  const seen = replay.stats;
  const range = { from_ms: from ?? seen.first_ts, to_ms: to ?? seen.last_ts };
  const keep = (k: KpiValue) => (!windows || windows.has(k.window)) && (!names || names.has(k.kpi));
  const closed = replay.finish({ ...(range.from_ms !== undefined ? { from_ms: range.from_ms } : {}), ...(range.to_ms !== undefined ? { to_ms: range.to_ms } : {}) });
  const latest = range.to_ms !== undefined ? engine.evaluate(inventory.site.id, range.to_ms) : [];
  const out = {
    site: inventory.site.id,
    from: iso(range.from_ms),
    to: iso(range.to_ms),
    input: { file: readingsFile, ...file.stats, first_ts: seen.first_ts ?? null, last_ts: seen.last_ts ?? null },
    problems: file.problems,
    /** Every window that closed in [from, to], oldest first. */
    kpis: closed.map((c) => c.value).filter(keep),
    /** Every KPI as the collector would publish it at `to` (live figures, windows to date). */
    latest: latest.filter(keep),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  if (file.stats.invalid + file.stats.unknown > 0) console.error(`dcim kpi: ${file.stats.invalid} invalid and ${file.stats.unknown} unknown line(s) skipped (first ones under "problems")`);
  return 0;
}

async function recompute(values: ParsedValues): Promise<number> {
  const site = stringOption(values, 'site');
  if (site === undefined) throw new UsageError('kpi', 'recompute: --site <id> is required');
  if (stringOption(values, 'from') === undefined || stringOption(values, 'to') === undefined) throw new UsageError('kpi', 'recompute: --from and --to are required');
  const setup = loadCollectorConfig(stringOption(values, 'config') ?? 'collector.yaml');
  const inventory = setup.inventories.find((i) => i.site.id === site);
  if (!inventory) throw new DcimError('DCIM_E_CONFIG_INVALID', `recompute: site ${site} is not one of collector.sites (${setup.inventories.map((i) => i.site.id).join(', ')})`);
  const cal = siteCalendar(inventory.site.timezone);
  const logger = createLogger({ level: (process.env.DCIM_LOG_LEVEL as 'info' | undefined) ?? 'warn', base: { part: 'kpi-recompute', site } });
  const dry = values['dry-run'] === true;
  const report = await recomputeStored({ setup, site, from_ms: time(values, 'from', cal)!, to_ms: time(values, 'to', cal)!, profiles: loadProfiles(), clock: new SystemClock(), logger, dry_run: dry, keep_kpis: dry });
  const { kpis, written, recomputed, held_peak: _held, ...summary } = report;
  const out = {
    ...summary,
    from: iso(report.from_ms),
    to: iso(report.to_ms),
    kpis_recomputed: recomputed,
    ...(written ? { written: { points: written.points_written, batches: written.batches_written } } : {}),
    ...(dry ? { kpis: kpis.map((c) => c.value) } : {}),
  };
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  return 0;
}

async function run(argv: string[]): Promise<number> {
  const parsed = parseCommandArgs(spec, argv);
  if (parsed.help) {
    console.log(helpText(spec));
    return 0;
  }
  const { values, positionals } = parsed;
  const [mode, ...extra] = positionals;
  if (extra.length > 0 || (mode !== undefined && mode !== 'recompute')) throw new UsageError('kpi', `unexpected argument ${JSON.stringify(extra[0] ?? mode)}`);
  const given = (names: readonly string[]) => names.filter((n) => values[n] !== undefined && values[n] !== false && !(n === 'config' && values[n] === spec.options.config?.default));
  if (mode === 'recompute') {
    const wrong = given(OFFLINE_ONLY);
    if (wrong.length > 0) throw new UsageError('kpi', `recompute does not take ${wrong.map((n) => `--${n}`).join(', ')}`);
    return recompute(values);
  }
  const wrong = given([...RECOMPUTE_ONLY, 'config']);
  if (wrong.length > 0) throw new UsageError('kpi', `${wrong.map((n) => `--${n}`).join(', ')} belong to dcim kpi recompute`);
  return offline(values);
}

export const command: Command = { spec, run };
