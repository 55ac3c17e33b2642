import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { command } from '../../../cli/commands/report.js';
import { summaryPoint } from '../../../collector/federation/summary-points.js';
import { rowFigure, type MonthlyReport } from '../../../collector/report/monthly-report.js';
import { rankingColumns } from '../../../collector/report/report-csv.js';
import { encodeLines } from '../../../collector/store/line-protocol.js';
import { SqliteSink } from '../../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../../contract/clock.js';
import type { KpiValue } from '../../../contract/messages.js';
import { CLUSTER, MAR1, siteInventories, summariseTwoMonths, type Scenario } from '../../collector/report/support/summarised-sites.js';
import { startInfluxV1 } from '../../support/influxdb-v1.js';
import { useService } from '../../support/require-service.js';
import { spawnDcim } from '../support/run-dcim.js';

/**
 * `dcim report --config` for past months: three sites' summaries of January and February 2026 in a
 * real SQLite store, read by the command (which holds nothing else: a restarted process), from a
 * bureau config and from a site collector config. The figures must be those the engine that
 * produced the summaries computed at each month's end.
 */
const dir = mkdtempSync(join(tmpdir(), 'dcim-report-cli-'));
const store = join(dir, 'summaries.sqlite');
let scenario: Scenario;
let bureauYaml = '';
let collectorYaml = '';

beforeAll(async () => {
  scenario = summariseTwoMonths();
  const sink = new SqliteSink({ path: store, clock: new ManualClock(MAR1 + 2 * 3_600_000) });
  sink.write(scenario.summaries.map(summaryPoint));
  await sink.flush();
  await sink.close();
  writeFileSync(join(dir, 'clusters.yaml'), stringify({ clusters: [CLUSTER] }));
  bureauYaml = join(dir, 'bureau.yaml');
  writeFileSync(bureauYaml, stringify({ bureau: { id: 'bureau', clusters: 'clusters.yaml' }, mqtt: { url: 'mqtt://127.0.0.1:1883' }, store: { kind: 'sqlite', path: 'summaries.sqlite', retention_days: 800 } }));
  const seeds = siteInventories().map((inv) => {
    const file = join(dir, `${inv.site.id}.yaml`);
    writeFileSync(file, stringify(inv));
    return file;
  });
  collectorYaml = join(dir, 'collector.yaml');
  writeFileSync(collectorYaml, stringify({ collector: { id: 'main', sites: seeds, clusters: 'clusters.yaml' }, mqtt: { url: 'mqtt://127.0.0.1:1883' }, store: { kind: 'sqlite', path: store } }));
}, 120_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ code: number; text: string; stderr: string }> {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const errors: string[] = [];
  const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
  try {
    const code = await command.run([...args, '--out', out]);
    return { code, text: code === 0 ? readFileSync(out, 'utf8') : '', stderr: errors.join('\n') };
  } finally {
    spy.mockRestore();
  }
}

const pick = (vals: readonly KpiValue[], kpi: string, window: string, basis?: string) => vals.find((v) => v.kpi === kpi && v.window === window && (basis === undefined || v.basis === basis))!;

function parseCsv(text: string): Record<string, string>[] {
  const [head, ...lines] = text.split('\r\n').filter((l) => l !== '');
  const cols = head!.split(',');
  return lines.map((l) => {
    const cells = [...l.matchAll(/(?:^|,)("(?:[^"]|"")*"|[^,]*)/g)].map((m) => m[1]!.replace(/^"|"$/g, '').replace(/""/g, '"'));
    expect(cells).toHaveLength(cols.length);
    return Object.fromEntries(cols.map((c, i) => [c, cells[i]!]));
  });
}

describe('dcim report --config: a past month from the store', () => {
  it('the bureau config, a cluster, January: each site and the roll-up as the engine computed them at the month end', async () => {
    const r = await run(['--month', '2026-01', '--config', bureauYaml, '--cluster', 'c1', '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.text) as MonthlyReport;
    expect(rep).toMatchObject({ schema: 3, source_kind: 'store', source: store, as_of_ms: MAR1 - 28 * 86_400_000 + 60_000 });
    expect(rep.rows.map((x) => x.id)).toEqual(['hs', 'hs2', 'hs3', 'c1']);
    for (const row of rep.rows) {
      const engine = scenario.atMonthEnd['2026-01'][row.id]!;
      const basis = row.scope === 'cluster' ? 'energy_weighted' : undefined;
      expect(rowFigure(row, 'pue_month').value, row.id).toBe(pick(engine, 'pue', '1mo', basis).value);
      expect(rowFigure(row, 'green_share').value, row.id).toBe(pick(engine, 'green_share_ratio', '1mo', basis).value);
      expect(rowFigure(row, 'rack_occupancy').value, row.id).toBe(pick(engine, 'rack_occupancy_ratio', '1mo', row.scope === 'cluster' ? 'pooled' : undefined).value);
      expect(rowFigure(row, 'pue_ytd').value, row.id).toBe(pick(engine, 'pue', 'ytd', basis).value);
      expect(rowFigure(row, 'pue_month').quality).toBe('measured');
    }
    expect(rowFigure(rep.rows[0]!, 'it_load_utilisation').value).toBe(pick(scenario.atMonthEnd['2026-01'].hs!, 'it_load_utilisation_ratio', '1mo').value);
    expect(rowFigure(rep.rows[0]!, 'pue_month').value).toBeCloseTo(130 / 100.5, 3);
  });

  it('a separate dcim process (nothing but the store): a site and the cluster of January', async () => {
    const site = await spawnDcim(['report', '--month', '2026-01', '--config', collectorYaml, '--site', 'hs3', '--format', 'json']);
    expect(site.stderr).toBe('');
    expect(site.code).toBe(0);
    const row = (JSON.parse(site.stdout) as MonthlyReport).rows[0]!;
    expect(row).toMatchObject({ id: 'hs3', name: 'Site hs3', pue_month: { value: pick(scenario.atMonthEnd['2026-01'].hs3!, 'pue', '1mo').value, quality: 'measured' } });
    const cluster = await spawnDcim(['report', '--month', '2026-01', '--config', collectorYaml, '--cluster', 'c1', '--format', 'json']);
    expect(cluster.code).toBe(0);
    const c1 = (JSON.parse(cluster.stdout) as MonthlyReport).rows.find((x) => x.id === 'c1')!;
    expect(rowFigure(c1, 'pue_month').value).toBe(pick(scenario.atMonthEnd['2026-01'].c1!, 'pue', '1mo', 'energy_weighted').value);
    expect(rowFigure(c1, 'green_share').value).toBe(pick(scenario.atMonthEnd['2026-01'].c1!, 'green_share_ratio', '1mo', 'energy_weighted').value);
  }, 60_000);

  it('the site collector config, one site, February, as csv', async () => {
    const r = await run(['--month', '2026-02', '--config', collectorYaml, '--site', 'hs2']);
    expect(r.code).toBe(0);
    const [row] = parseCsv(r.text);
    const engine = scenario.atMonthEnd['2026-02'].hs2!;
    expect(row).toMatchObject({ id: 'hs2', name: 'Site hs2', pue_month_quality: 'measured', reporting: 'late', days_late: '2026-02-09 2026-02-10', days_missing: '' });
    expect(Number(row!.pue_month)).toBe(pick(engine, 'pue', '1mo').value);
    expect(Number(row!.green_share_ratio)).toBe(pick(engine, 'green_share_ratio', '1mo').value);
    expect(Number(row!.green_share_ytd_ratio)).toBe(pick(engine, 'green_share_ratio', 'ytd').value);
    expect(Number(row!.rack_occupancy_ratio)).toBe(pick(engine, 'rack_occupancy_ratio', '1mo').value);
    expect(Number(row!.it_load_utilisation_ratio)).toBe(pick(engine, 'it_load_utilisation_ratio', '1mo').value);
    // Feb 9 was summarised 54 h after it ended: late under 24 h, on time under 60 h.
    const lenient = parseCsv((await run(['--month', '2026-02', '--config', collectorYaml, '--site', 'hs2', '--late-hours', '60'])).text);
    expect(lenient[0]).toMatchObject({ reporting: 'on_time', days_late: '', max_delay_h: String(Math.round(((scenario.hs2_back_ms - (MAR1 - 19 * 86_400_000)) / 3_600_000) * 100) / 100) });
  });

  it('--rank --by pue: the ranking table, best first, with a late and a missing site marked', async () => {
    const r = await run(['--month', '2026-02', '--config', bureauYaml, '--cluster', 'c1', '--rank', '--by', 'pue']);
    expect(r.code).toBe(0);
    expect(r.text.split('\r\n')[0]).toBe(rankingColumns().join(','));
    const rows = parseCsv(r.text);
    expect(rows.map((x) => [x.rank, x.id, x.quality, x.reporting, x.days_missing])).toEqual([
      ['1', 'hs2', 'measured', 'late', ''],
      ['2', 'hs', 'measured', 'on_time', ''],
      ['3', 'hs3', 'measured', 'missing', '2026-02-19 2026-02-20'],
    ]);
    expect(Number(rows[0]!.value)).toBe(pick(scenario.atMonthEnd['2026-02'].hs2!, 'pue', '1mo').value);
    // --by green_share ranks highest first; the sites draw the same green energy, so the lowest facility energy leads.
    const green = parseCsv((await run(['--month', '2026-02', '--config', bureauYaml, '--cluster', 'c1', '--rank', '--by', 'green_share'])).text);
    expect(green.map((x) => x.id)).toEqual(['hs2', 'hs', 'hs3']);
  });

  it('html in zh-CN by default with the plan’s terms, English with --lang en', async () => {
    const zh = await run(['--month', '2026-02', '--config', bureauYaml, '--cluster', 'c1', '--rank', '--format', 'html']);
    expect(zh.code).toBe(0);
    for (const w of ['<html lang="zh-CN">', '上架率', '绿电占比', '算力规模', '智算占比', 'PUE（年初至今）', '站点排名（按PUE（月））', '迟报', '缺报：2026-02-19, 2026-02-20', '按时', '按 2026-02-28T16:01:00.000Z 计算']) expect(zh.text, w).toContain(w);
    const en = await run(['--month', '2026-02', '--config', bureauYaml, '--cluster', 'c1', '--rank', '--format', 'html', '--lang', 'en']);
    for (const w of ['<html lang="en">', 'Rack occupancy 上架率', 'PUE year to date', 'Sites ranked by PUE, month', 'missing: 2026-02-19, 2026-02-20', 'late (&gt; 24 h after the day): 2026-02-09, 2026-02-10', 'on time']) expect(en.text, w).toContain(w);
    expect(en.text).not.toContain('迟报');
    const text = await run(['--month', '2026-02', '--config', bureauYaml, '--cluster', 'c1', '--format', 'text']);
    expect(text.text).toContain('缺报：2026-02-19, 2026-02-20');
    expect(text.text).toMatch(/ {2}PUE（月）: 1\.\d{3} {2}\(月 · 实测 · 100\.0 % · /);
  });

  it('a month with nothing stored: a row per site saying so, exit 0', async () => {
    const r = await run(['--month', '2025-12', '--config', bureauYaml, '--site', 'hs', '--format', 'json']);
    expect(r.code).toBe(0);
    const row = (JSON.parse(r.text) as MonthlyReport).rows[0]!;
    expect(row).toMatchObject({ id: 'hs', no_data: 'no stored summaries of site hs for 2025-12', reporting: { status: 'silent' } });
    expect(rowFigure(row, 'pue_month').value).toBeNull();
  });

  it('refuses a month that has not begun and an unknown cluster (exit 1), and a bad --by (usage)', async () => {
    expect(await run(['--month', '2099-01', '--config', bureauYaml])).toMatchObject({ code: 1, stderr: expect.stringMatching(/DCIM_E_REPORT_SOURCE: .*2099-01 has not begun/) });
    expect(await run(['--month', '2026-01', '--config', bureauYaml, '--cluster', 'nope'])).toMatchObject({ code: 1, stderr: expect.stringMatching(/no cluster "nope"/) });
    await expect(command.run(['--month', '2026-01', '--config', bureauYaml, '--rank', '--by', 'speed'])).rejects.toThrow(/--by: expected pue, occupancy, green_share, compute/);
  });
});

describe('dcim report --config on InfluxDB 1.6.7 (InfluxQL)', () => {
  const influx = useService('influxd', () => startInfluxV1());

  it('a cluster of January from the day and month summaries in InfluxDB: the engine’s figures', async () => {
    const i = influx();
    await i.createDatabase('bureau');
    // The day and month summaries: what a store keeps of a month past its retention.
    const kept = scenario.summaries.filter((s) => s.window === '1d' || s.window === '1mo');
    const batch = encodeLines(kept.map(summaryPoint));
    expect(batch.points_dropped).toBe(0);
    await i.write('bureau', batch.lines);
    const config = join(dir, 'bureau-influx.yaml');
    writeFileSync(config, stringify({ bureau: { id: 'bureau', clusters: 'clusters.yaml' }, mqtt: { url: 'mqtt://127.0.0.1:1883' }, store: { kind: 'influx_v1', url: i.url, database: 'bureau' } }));
    const r = await run(['--month', '2026-01', '--config', config, '--cluster', 'c1', '--rank', '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.text) as MonthlyReport;
    expect(rep.source).toBe(i.url);
    for (const row of rep.rows) {
      const engine = scenario.atMonthEnd['2026-01'][row.id]!;
      const basis = row.scope === 'cluster' ? 'energy_weighted' : undefined;
      expect(rowFigure(row, 'pue_month').value, row.id).toBe(pick(engine, 'pue', '1mo', basis).value);
      expect(rowFigure(row, 'green_share').value, row.id).toBe(pick(engine, 'green_share_ratio', '1mo', basis).value);
      expect(rowFigure(row, 'rack_occupancy').value, row.id).toBe(pick(engine, 'rack_occupancy_ratio', '1mo', row.scope === 'cluster' ? 'pooled' : undefined).value);
      if (row.scope === 'site') expect(rowFigure(row, 'it_load_utilisation').value, row.id).toBe(pick(engine, 'it_load_utilisation_ratio', '1mo').value);
    }
    expect(rep.ranking!.entries.map((e) => [e.rank, e.id, e.reporting!.status])).toEqual([
      [1, 'hs2', 'on_time'],
      [2, 'hs', 'on_time'],
      [3, 'hs3', 'on_time'],
    ]);
  }, 60_000);
});
