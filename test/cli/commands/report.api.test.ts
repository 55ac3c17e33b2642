import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { command, REPORT_SPEC } from '../../../cli/commands/report.js';
import { UsageError } from '../../../cli/args.js';
import { ApiServer } from '../../../collector/http/api-server.js';
import type { ApiSource } from '../../../collector/http/api-source.js';
import { BearerToken } from '../../../collector/http/bearer-token.js';
import { rowFigure, type MonthlyReport } from '../../../collector/report/monthly-report.js';
import { reportColumns } from '../../../collector/report/report-csv.js';
import { memoryLogger } from '../../../shared/log.js';
import type { KpiMessage, KpiValue } from '../../../contract/messages.js';
import { simulateMonth } from '../../collector/report/simulated-month.js';
import { repoPath } from '../../support/repo-path.js';

/**
 * `dcim report` against a real HTTP API (127.0.0.1, free port) whose KPIs come from the engine
 * fed a simulated February 2026 of the demo seed (model stepped every 15 min: ~7 s). The report's
 * every figure must be the API's for that month, in each format.
 */
const TOKEN = 'report-token-0123456789abcdef';
const TZ_OFFSET = 8 * 3_600_000; // seeds/demo.yaml is Asia/Shanghai
const FROM = Date.UTC(2026, 1, 1) - TZ_OFFSET;
const TO = Date.UTC(2026, 1, 28, 23, 55) - TZ_OFFSET;

let server: ApiServer;
let api = '';
let msg: KpiMessage;
const scratch = mkdtempSync(join(tmpdir(), 'dcim-report-'));

beforeAll(async () => {
  const { engine, inventory } = simulateMonth(FROM, TO, 15 * 60_000);
  msg = { schema: 1, site: inventory.site.id, ts: TO, kpis: engine.evaluate(inventory.site.id, TO) };
  const s = inventory.site;
  const source: ApiSource = {
    sites: () => [{ id: s.id, name: s.name, timezone: s.timezone, targets: inventory.targets, halls: inventory.halls.length, racks: inventory.racks.length, devices: inventory.devices.length, devices_down: 0, devices_degraded: 0, agents: [], kpi_ts: TO }],
    siteKpis: (id) => (id === s.id ? msg : undefined),
    devices: () => undefined,
    device: () => undefined,
    alerts: () => undefined,
    alert: () => undefined,
    clusters: () => [],
    clusterKpis: () => undefined,
    health: () => ({ status: 'ok', broker: { connected: true }, store: { target: 'x', state: 'ok', reason: null, since: null, reachable: true, last_success_ms: TO, last_error: null, retry_at_ms: null, pending_points: 0 }, kpi: { last_evaluation_ms: TO, age_ms: 0, interval_ms: 1000, late: false }, problems: [] }),
    metrics: () => [],
  };
  server = new ApiServer({ host: '127.0.0.1', port: 0, token: new BearerToken(TOKEN), source, logger: memoryLogger() });
  api = (await server.start()).url;
  process.env.DCIM_REPORT_TEST_TOKEN = TOKEN;
}, 60_000);

afterAll(async () => {
  await server?.stop();
  delete process.env.DCIM_REPORT_TEST_TOKEN;
  rmSync(scratch, { recursive: true, force: true });
});

async function report(format: string, extra: string[] = []): Promise<{ code: number; text: string; stderr: string }> {
  const out = join(scratch, `report-${format}-${Math.random().toString(36).slice(2)}`);
  const errors: string[] = [];
  const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
  try {
    const code = await command.run(['--api', api, '--token-env', 'DCIM_REPORT_TEST_TOKEN', '--format', format, '--out', out, ...extra]);
    return { code, text: code === 0 ? readFileSync(out, 'utf8') : '', stderr: errors.join('\n') };
  } finally {
    spy.mockRestore();
  }
}

/** One RFC 4180 line (quotes doubled inside quoted cells). */
function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    }
    else cur += c;
  }
  out.push(cur);
  return out;
}

async function apiKpis(): Promise<KpiValue[]> {
  const res = await fetch(`${api}/api/sites/demo/kpi`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as { kpis: KpiValue[] }).kpis;
}
const pick = (kpis: KpiValue[], kpi: string, window: string) => kpis.find((k) => k.kpi === kpi && k.window === window)!;

describe('dcim report against the API for the same month', () => {
  it('json: every figure is the API value for the month', async () => {
    const r = await report('json', ['--month', '2026-02']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rep = JSON.parse(r.text) as MonthlyReport;
    const kpis = await apiKpis();
    expect(rep.month).toBe('2026-02');
    expect(rep.rows).toHaveLength(1);
    const row = rep.rows[0]!;
    const cases: [keyof typeof row, string, string][] = [
      ['pue_month', 'pue', '1mo'],
      ['pue_12mo', 'pue', '12mo'],
      ['pue_ytd', 'pue', 'ytd'],
      ['pue_1y', 'pue', '1y'],
      ['green_share', 'green_share_ratio', '1mo'],
      ['green_share_ytd', 'green_share_ratio', 'ytd'],
      ['green_share_1y', 'green_share_ratio', '1y'],
      ['rack_occupancy', 'rack_occupancy_ratio', '1mo'],
      ['it_load_utilisation', 'it_load_utilisation_ratio', '1mo'],
      ['compute_ai_pflops', 'compute_ai_pflops', 'instant'],
      ['compute_general_pflops', 'compute_general_pflops', 'instant'],
      ['compute_ai_share', 'compute_ai_share_ratio', 'instant'],
      ['accelerator_utilisation_pct', 'accelerator_utilisation_pct', 'instant'],
    ];
    for (const [field, kpi, window] of cases) {
      const k = pick(kpis, kpi, window);
      expect(row[field], `${field}`).toMatchObject({ value: k.ok ? k.value : null, window, basis: k.basis, quality: k.quality, status: k.status, coverage: k.coverage, category: k.category ?? null });
    }
    // The month really was computed: a measured February PUE with its category.
    expect(rowFigure(row, 'pue_month')).toMatchObject({ quality: 'measured', category: 2 });
    expect(rowFigure(row, 'pue_month').value).toBeGreaterThan(1.05);
    expect(rowFigure(row, 'pue_12mo')).toMatchObject({ value: null, quality: 'insufficient' }); // one month of twelve
    const day = pick(kpis, 'rack_occupancy_ratio', '1d').inputs!;
    expect(row.racks).toEqual({
      designed: day.racks_available! + day.racks_reserved! + day.racks_planned!,
      installed: day.racks_available! + day.racks_reserved!,
      on_rack: day.racks_on,
      standard_installed: day.standard_racks_available,
      standard_on_rack: day.standard_racks_on,
    });
    const green = pick(kpis, 'green_share_ratio', '1mo').inputs!;
    const pue = pick(kpis, 'pue', '1mo').inputs!;
    expect(row.green_energy_kwh).toEqual({ certificates: green.certificate_kwh, trade: green.trade_kwh });
    // A full month: each side's total with its measured and substituted parts named, as the API has them.
    expect(row.energy.facility).toEqual({ state: 'total', kwh: pue.facility_kwh, measured_kwh: pue.facility_measured_kwh, substituted_kwh: pue.facility_substituted_kwh, coverage: pue.facility_coverage });
    expect(row.energy.it).toMatchObject({ state: 'total', kwh: pue.it_kwh, measured_kwh: pue.it_measured_kwh });
    expect(row.energy.green_onsite).toMatchObject({ state: 'total', kwh: green.green_onsite_kwh, measured_kwh: green.green_onsite_measured_kwh });
    expect(row.energy.green_feed).toMatchObject({ state: 'total', kwh: green.green_feed_kwh, measured_kwh: green.green_feed_measured_kwh });
    expect(rep.schema).toBe(3);
    expect(row.data_quality).toMatchObject({ worst: 'measured', min_coverage: 1 });
  }, 20_000);

  it('csv: the same numbers, one row per site', async () => {
    const r = await report('csv', ['--month', '2026-02', '--site', 'demo']);
    expect(r.code).toBe(0);
    const [head, line, rest] = r.text.split('\r\n');
    expect(head!.split(',')).toEqual(reportColumns());
    expect(rest).toBe('');
    const cells = parseCsvLine(line!);
    expect(cells).toHaveLength(reportColumns().length);
    const row = Object.fromEntries(head!.split(',').map((c, i) => [c, cells[i]]));
    expect(row.name).toBe("Demo hall, Gui'an"); // a quoted cell with a comma
    const kpis = await apiKpis();
    expect(Number(row.pue_month)).toBe(pick(kpis, 'pue', '1mo').value);
    expect(Number(row.green_share_ratio)).toBe(pick(kpis, 'green_share_ratio', '1mo').value);
    expect(Number(row.rack_occupancy_ratio)).toBe(pick(kpis, 'rack_occupancy_ratio', '1mo').value);
    expect(row.pue_month_category).toBe('2');
    expect(row.pue_12mo).toBe('');
  }, 20_000);

  it('html: self-contained, with charts and the month PUE', async () => {
    const r = await report('html', ['--month', '2026-02']);
    expect(r.code).toBe(0);
    expect(r.text.match(/<svg /g)?.length).toBe(4);
    expect(r.text).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(r.text).toContain(pick(await apiKpis(), 'pue', '1mo').value!.toFixed(3));
  }, 20_000);

  it.each([
    ['by default in Chinese', [], 'zh-CN', ['月度报告 2026-02', '上架率', '绿电占比', '算力规模（PFLOPS）', '智算占比']],
    ['in English with --lang en', ['--lang', 'en'], 'en', ['Monthly report 2026-02', 'Rack occupancy 上架率', 'Green share 绿电占比', 'Compute scale 算力规模', 'AI share 智算占比']],
  ])('html: labels from the shared catalogue, %s', async (_what, extra, lang, words) => {
    const r = await report('html', ['--month', '2026-02', ...extra]);
    expect(r.code).toBe(0);
    expect(r.text).toContain(`<html lang="${lang}">`);
    for (const w of words) expect(r.text).toContain(w);
  }, 20_000);

  it.each([
    ['another month than the API holds', ['--month', '2026-03'], /month window is 2026-02, not 2026-03/],
    ['an unknown site', ['--month', '2026-02', '--site', 'nope'], /no site "nope"/],
    ['an unknown cluster', ['--month', '2026-02', '--cluster', 'nope'], /no cluster "nope"/],
  ])('refuses %s (exit 1)', async (_what, args, message) => {
    const r = await report('json', args);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(message);
  });

  it('a wrong token is exit 1 with the API answer', async () => {
    process.env.DCIM_REPORT_WRONG = 'wrong-token-0123456789abcdef';
    const errors: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void errors.push(a.join(' ')));
    try {
      expect(await command.run(['--month', '2026-02', '--api', api, '--token-env', 'DCIM_REPORT_WRONG'])).toBe(1);
    } finally {
      spy.mockRestore();
      delete process.env.DCIM_REPORT_WRONG;
    }
    expect(errors.join('\n')).toMatch(/HTTP 401 \(wrong or missing token\)/);
    expect(errors.join('\n')).not.toContain('wrong-token-0123456789abcdef');
  });

  it.each([
    ['no month', ['--api', 'http://127.0.0.1:1'], /--month/],
    ['a bad month', ['--month', '2026-13', '--api', 'http://127.0.0.1:1'], /--month: expected YYYY-MM/],
    ['a bad format', ['--month', '2026-02', '--format', 'pdf', '--api', 'http://127.0.0.1:1'], /--format/],
    ['an unknown language', ['--month', '2026-02', '--format', 'html', '--lang', 'fr', '--api', 'http://127.0.0.1:1'], /--lang: expected zh-CN or en, got "fr"/],
    ['site and cluster', ['--month', '2026-02', '--site', 'a', '--cluster', 'b', '--api', 'http://127.0.0.1:1'], /not both/],
    ['neither --api nor --config', ['--month', '2026-02'], /either --api/],
    ['a bad --api', ['--month', '2026-02', '--api', 'ftp://x'], /http\(s\) URL/],
  ])('usage error: %s', async (_what, args, message) => {
    await expect(command.run(args)).rejects.toThrow(UsageError);
    await expect(command.run(args)).rejects.toThrow(message);
  });
});

describe('collector/report/README.md', () => {
  it('documents every dcim report flag, and no other', () => {
    const readme = readFileSync(repoPath('collector', 'report', 'README.md'), 'utf8');
    const flags = Object.keys(REPORT_SPEC.options).sort();
    for (const f of flags) expect(readme, `--${f}`).toContain(`\`--${f}`);
    const documented = [...new Set([...readme.matchAll(/^\| `--([a-z-]+)/gm)].map((m) => m[1]!))].sort();
    expect(documented).toEqual(flags);
  });
});
