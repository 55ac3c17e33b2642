import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlertMessage } from '../../../collector/alerts/index.js';
import { ApiServer } from '../../../collector/http/api-server.js';
import type { ApiSource } from '../../../collector/http/api-source.js';
import { BearerToken } from '../../../collector/http/bearer-token.js';
import { siteFloor } from '../../../collector/live/site-floor.js';
import { memoryLogger } from '../../../shared/log.js';
import type { KpiMessage, KpiValue } from '../../../contract/messages.js';
import { startChromium, type Page } from '../../support/chromium.js';
import { useService } from '../../support/require-service.js';
import { until } from '../../support/until.js';
import { demoFloorInput, demoInventory } from './demo-floor.js';

/**
 * The wall page in headless Chromium at 1920 × 1080, served by the real ApiServer on 127.0.0.1
 * over a scripted source: the demo seed's hall with scripted latest values (siteFloor), KPI
 * messages whose trend builds up, and one firing alert started 12 minutes before the server's
 * clock. Checked in zh-CN (the default) and en: the header KPIs, the note of a filling window,
 * halls and racks, the heat map's ASHRAE bands, cooling states, the alert's age, the trend's
 * axes, no horizontal overflow; and "alerting not configured" when the source has no alerting.
 * DCIM_UPDATE_SCREENSHOTS=1 refreshes docs/live-page.png and docs/live-page-en.png.
 */
const TOKEN = 'wall-page-token-0123456789abcdef';
// 11:37 in Asia/Shanghai: the last complete quarter is 11:15–11:30.
const T0 = Date.UTC(2026, 0, 12, 3, 37);
const MIN = 60_000;
const QUARTER = 15 * MIN;
const DOCS = resolve(import.meta.dirname, '../../../docs');

// The callbacks below run inside Chromium; this project's tsc has no DOM lib, so the few page
// globals they use are declared here (module scope: nothing leaks into other files).
interface DomElement {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  getBoundingClientRect(): { width: number; right: number };
}
declare const document: {
  querySelector(sel: string): DomElement | null;
  querySelectorAll(sel: string): ArrayLike<DomElement>;
  documentElement: { scrollWidth: number; lang: string };
};
declare const window: { innerWidth: number };

const base = { window_start: T0 - QUARTER, window_end: T0, basis: 'energy', coverage: 1, quality: 'measured' as const };
const value = (kpi: string, window: KpiValue['window'], v: number, extra: Partial<KpiValue> = {}): KpiValue => ({ kpi, window, ...base, value: v, ok: true, status: 'green', ...extra });

// A PDU silent beyond the carry bounds: the live PUE has no value and names it.
const liveGap: KpiValue = { kpi: 'pue_live', window: 'instant', window_start: T0, window_end: T0, ok: false, reason: 'DCIM_E_KPI_INSUFFICIENT: pdu-r11-b silent for 40 min', basis: 'power', coverage: 0.9, quality: 'insufficient', target: 1.2, status: 'grey', stale_meters: [{ device: 'pdu-r11-b', role: 'it', last_ts_ms: T0 - 40 * MIN, power_w: 15_500, carried: false }] };

function kpis(ts: number, live: number, gap = false): KpiMessage {
  const lastQuarterEnd = Math.floor((ts - 3 * MIN) / QUARTER) * QUARTER;
  return {
    schema: 1,
    site: 'demo',
    ts,
    kpis: [
      gap ? liveGap : value('pue_live', 'instant', live, {
        basis: 'power',
        category: 2,
        quality: 'estimated',
        coverage: 0.97,
        target: 1.2,
        status: live <= 1.2 ? 'green' : 'amber',
        inputs: { facility_power_w: 145_600, it_power_w: 125_500 },
        stale_meters: [{ device: 'pdu-r07-a', role: 'it', last_ts_ms: ts - 7 * MIN, power_w: 6000, carried: true }],
      }),
      // Started mid-quarter: the last complete quarter is 40 % covered, so the next one is the first with a value.
      { kpi: 'pue', window: '15m', window_start: lastQuarterEnd - QUARTER, window_end: lastQuarterEnd, ok: false, reason: 'DCIM_E_KPI_INSUFFICIENT: inputs cover 40 % of the window', basis: 'energy', coverage: 0.4, quality: 'insufficient', target: 1.2, status: 'grey' },
      gap
        ? { kpi: 'pue', window: '1h', window_start: T0 - 97 * MIN, window_end: T0 - 37 * MIN, ok: false, reason: 'DCIM_E_KPI_BOUNDARY: facility energy 90 kWh is below IT energy 95 kWh', reason_code: 'DCIM_E_KPI_BOUNDARY', basis: 'energy', coverage: 1, quality: 'measured', target: 1.2, status: 'grey' }
        : value('pue', '1h', 1.214, { target: 1.2, status: 'amber', quality: 'partial', coverage: 0.97 }),
      { kpi: 'pue', window: '1d', window_start: Date.UTC(2026, 0, 10, 16), window_end: Date.UTC(2026, 0, 11, 16), ok: false, reason: 'DCIM_E_KPI_INSUFFICIENT: inputs cover 0 % of the window', basis: 'energy', coverage: 0, quality: 'insufficient', target: 1.2, status: 'grey' },
      value('rack_occupancy_ratio', '1d', 0.846, { target: 0.7, status: 'green' }),
      value('green_share_ratio', '1mo', 0.31, { target: 0.8, status: 'red' }),
      value('green_share_live_ratio', 'instant', 0.3 + (live - 1.15) / 2, { target: 0.8, status: 'red' }),
      value('compute_ai_pflops', 'instant', 31.6, { status: 'grey' }),
      value('compute_general_pflops', 'instant', 0.92, { status: 'grey' }),
      value('compute_ai_share_ratio', 'instant', 0.972, { status: 'grey' }),
    ],
  };
}

const thermalAlert: AlertMessage = {
  schema: 1,
  id: 'rack-inlet-critical-demo-r12',
  site: 'demo',
  rule: 'rack-inlet-critical',
  name: 'RackInletCritical',
  severity: 'critical',
  state: 'firing',
  labels: { site: 'demo', hall: 'h1', rack: 'r12', device: 'th-r12' },
  summary: 'rack r12 inlet 33.4 °C outside 15–32 °C',
  starts_at: T0 - 12 * MIN,
  ts: T0,
};

function scriptedSource(alerting: boolean, silent: readonly string[] = []): { source: ApiSource; advance(): boolean } {
  // Trend samples every 5 minutes up to T0 (the handler records one per new message).
  const steps = [25, 20, 15, 10, 5, 0].map((m, i) => kpis(T0 - m * MIN, 1.16 + 0.012 * i, silent.length > 0));
  let at = 0;
  const source: ApiSource = {
    sites: () => [{ id: 'demo', name: demoInventory.site.name, timezone: 'Asia/Shanghai', targets: demoInventory.targets, halls: 1, racks: 16, devices: demoInventory.devices.length, devices_down: 0, devices_degraded: 0, agents: [], kpi_ts: steps[at]!.ts }],
    siteKpis: (id) => (id === 'demo' ? steps[at] : undefined),
    devices: () => undefined,
    device: () => undefined,
    alerts: () => (alerting ? [thermalAlert] : undefined),
    alert: () => undefined,
    floor: (id) => (id === 'demo' ? siteFloor(demoFloorInput({ now: T0, silent })) : undefined),
    clusters: () => [],
    clusterKpis: () => undefined,
    health: () => ({ status: 'ok', broker: { connected: true }, store: { target: 'x', state: 'ok', reason: null, since: T0, reachable: true, last_success_ms: T0, last_error: null, retry_at_ms: null, pending_points: 0 }, kpi: { last_evaluation_ms: T0, age_ms: 0, interval_ms: 1000, late: false }, problems: [] }),
    metrics: () => [],
  };
  return { source, advance: () => (at < steps.length - 1 ? (at++, true) : false) };
}

async function serve(alerting: boolean, silent: readonly string[] = []) {
  const s = scriptedSource(alerting, silent);
  const server = new ApiServer({ host: '127.0.0.1', port: 0, token: new BearerToken(TOKEN), source: s.source, logger: memoryLogger(), now: () => T0 });
  const url = (await server.start()).url;
  return { ...s, server, url };
}

const text = (page: Page, sel: string) => page.evaluate((s) => document.querySelector(s)?.textContent ?? '', sel);
const texts = (page: Page, sel: string) => page.evaluate((s) => Array.from(document.querySelectorAll(s)).map((e) => e.textContent ?? ''), sel);

describe('wall page in headless Chromium at 1920 × 1080', () => {
  const chromium = useService('chromium', () => startChromium({ width: 1920, height: 1080 }));
  const scratch = mkdtempSync(join(tmpdir(), 'dcim-wall-'));
  let app: Awaited<ReturnType<typeof serve>>;

  beforeAll(async () => {
    app = await serve(true);
    // Step the KPI messages along so the handler's trend holds several samples.
    while (app.advance()) {
      const before = await fetch(`${app.url}/api/sites/demo/series?kpi=pue_live&hours=1`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json() as Promise<{ samples: unknown[] }>);
      await until('the handler records the next trend sample', async () => {
        const now = await fetch(`${app.url}/api/sites/demo/series?kpi=pue_live&hours=1`, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json() as Promise<{ samples: unknown[] }>);
        return now.samples.length > before.samples.length;
      }, 5000);
    }
  }, 60_000);

  afterAll(async () => {
    await app?.server.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function open(lang: 'zh-CN' | 'en'): Promise<{ page: Page; errors: string[] }> {
    const page = await chromium().browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(`${app.url}/live${lang === 'en' ? '?lang=en' : ''}#token=${TOKEN}`);
    await page.waitForFunction(() => /^\d\.\d{3}$/.test(document.querySelector('.card[data-id="demo"] .big[data-kpi="pue_live"]')?.textContent ?? ''), null, { timeout: 30_000 });
    await page.waitForFunction(() => document.querySelectorAll('.rack[data-rack]').length === 16 && document.querySelector('.alerts li[data-alert]') !== null, null, { timeout: 30_000 });
    return { page, errors };
  }

  it.each([
    ['zh-CN', { lang: 'zh-CN', occupancy: '上架率', green: '绿电占比', compute: '算力规模', aiShare: '智算占比', note15: '首个数值预计 11:45 后', cover: '窗口覆盖率 40.0 %', age: '12 分钟', severity: '严重', hall: '机房 Hall 1', powered: '加电机柜', stale: '电表 pdu-r07-a 数据过期', running: '运行', alarm: '告警', time: '时间', file: 'live-page.png' }],
    ['en', { lang: 'en', occupancy: 'Rack occupancy 上架率', green: 'Green share 绿电占比', compute: 'Compute scale 算力规模', aiShare: 'AI compute share 智算占比', note15: 'first value after 11:45', cover: 'window covered 40.0 %', age: '12 min', severity: 'critical', hall: 'Hall 1', powered: 'Racks with power', stale: 'meter pdu-r07-a is stale', running: 'running', alarm: 'alarm', time: 'time', file: 'live-page-en.png' }],
  ])('%s: site KPIs, halls and racks, heat map, cooling, alert age, trend axes, no overflow', async (_name, want) => {
    const { page, errors } = await open(want.lang as 'zh-CN' | 'en');
    expect(await page.evaluate(() => document.documentElement.lang, null)).toBe(want.lang);

    // Header: live PUE with category and the stale meter it is estimated for; each KPI against its target.
    const hero = await text(page, '.card[data-id="demo"] .hero');
    expect(hero).toContain('1.220');
    expect(hero).toContain('PUE₂');
    expect(hero).toContain(want.stale);
    const labels = await texts(page, '.site-head .box .l');
    for (const l of [want.occupancy, want.green, want.compute, want.aiShare]) expect(labels.some((x) => x.startsWith(l))).toBe(true);
    expect(await text(page, '.box[data-kpi="rack_occupancy_ratio/1d"] .v')).toBe('84.6 %');
    expect(await page.evaluate(() => (document.querySelector('.box[data-kpi="green_share_ratio/1mo"] .v') as unknown as { className: string }).className, null)).toContain('s-red');
    expect(await text(page, '.box[data-kpi="pue/1h"] .v')).toBe('1.214');
    // A filling window says when its value is due instead of a bare "–".
    const note15 = await text(page, '.box[data-kpi="pue/15m"] .note');
    expect(note15).toContain(want.note15);
    expect(note15).toContain(want.cover);
    expect(await text(page, '.box[data-kpi="pue/1d"] .note')).toMatch(/01[/-]14/);

    // Halls and racks: 16 racks (14 available, 2 without a PDU are not counted), the heat map in ASHRAE bands.
    expect(await text(page, '.hall[data-hall="h1"] h2')).toBe(want.hall);
    expect(await text(page, '.hall[data-hall="h1"]')).toContain(want.powered);
    expect(await text(page, '[data-racks-powered]')).toBe('13 / 15');
    expect(await text(page, '[data-hall-pue]')).toBe('1.180');
    const bands = await page.evaluate(() => Object.fromEntries(Array.from(document.querySelectorAll('.rack[data-rack]')).map((e) => [e.dataset.rack, e.dataset.band])), null);
    expect(bands).toMatchObject({ r01: 'recommended', r07: 'allowable', r12: 'outside', r15: 'none', r16: 'none' });
    expect(await text(page, '.rack[data-rack="r12"] .temp')).toBe('33.4 °C');

    // Cooling: chillers running with supply/return, the CRAH with its alarm.
    expect(await text(page, '.unit[data-unit="chiller-1"]')).toContain(want.running);
    expect(await text(page, '.unit[data-unit="chiller-1"]')).toContain('12.1 °C');
    expect(await page.evaluate(() => document.querySelector('.unit[data-unit="crah-b2"]')?.dataset.state, null)).toBe('alarm');
    expect(await text(page, '.unit[data-unit="crah-b2"] .st')).toBe(want.alarm);

    // The alert with its age on the collector's clock, severity, rack and device.
    const alert = await text(page, '.alerts li[data-alert="rack-inlet-critical-demo-r12"]');
    expect(alert).toContain(want.age);
    expect(alert).toContain(want.severity);
    expect(alert).toContain('r12 · th-r12');

    // The trend: samples, value axis with its unit, time ticks, the target line.
    await page.waitForFunction(() => Number(document.querySelector('svg.spark')?.dataset.n ?? 0) >= 4, null, { timeout: 30_000 });
    const chart = await text(page, 'svg.spark');
    expect(chart).toContain('PUE');
    expect(chart).toContain(want.time);
    expect(chart).toMatch(/11:\d0/);
    expect(await page.evaluate(() => document.querySelectorAll('svg.spark line.target').length, null)).toBe(1);

    // The wall: the site uses the full width and nothing overflows sideways.
    const layout = await page.evaluate(
      () => ({
        scroll: document.documentElement.scrollWidth,
        inner: window.innerWidth,
        site: document.querySelector('.card[data-id="demo"]')?.getBoundingClientRect().width ?? 0,
        right: Math.max(...Array.from(document.querySelectorAll('#app *')).map((e) => e.getBoundingClientRect().right)),
      }),
      null,
    );
    expect(layout.scroll).toBeLessThanOrEqual(layout.inner);
    expect(layout.right).toBeLessThanOrEqual(layout.inner);
    expect(layout.site).toBeGreaterThan(1800);
    expect(errors).toEqual([]);

    const shot = process.env.DCIM_UPDATE_SCREENSHOTS === '1' ? join(DOCS, want.file) : join(scratch, want.file);
    await page.screenshot({ path: shot, fullPage: false });
    expect(statSync(shot).size).toBeGreaterThan(20_000);
    await page.close();
  }, 40_000);

  it('switches language on the page, and keeps the choice', async () => {
    const { page } = await open('zh-CN');
    expect(await text(page, '.box[data-kpi="rack_occupancy_ratio/1d"] .l')).toBe('上架率');
    await page.click('button[data-lang="en"]');
    await page.waitForFunction(() => document.documentElement.lang === 'en', null, { timeout: 30_000 });
    expect(await text(page, '.box[data-kpi="rack_occupancy_ratio/1d"] .l')).toBe('Rack occupancy 上架率');
    expect(await page.evaluate(() => (globalThis as unknown as { location: { search: string } }).location.search, null)).toBe('?lang=en');
    await page.close();
  }, 30_000);

  it('says alerting is not configured when the collector has no alert engine, and why a hall has no PUE', async () => {
    const off = await serve(false, ['pdu-r11-b']);
    try {
      const page = await chromium().browser.newPage();
      await page.goto(`${off.url}/live?lang=en#token=${TOKEN}`);
      await page.waitForFunction(() => document.querySelector('.alerts [data-alerts]') !== null, null, { timeout: 30_000 });
      expect(await text(page, '.alerts [data-alerts]')).toBe('alerting is not configured on this collector');
      expect(await page.evaluate(() => document.querySelector('.alerts [data-alerts]')?.dataset.alerts, null)).toBe('off');
      // A silent PDU: the hall PUE is withheld and says why; the rack is neither load nor headroom.
      await page.waitForFunction(() => document.querySelector('[data-hall-pue]') !== null, null, { timeout: 30_000 });
      expect(await text(page, '[data-hall-pue]')).toBe('–');
      const stats = await text(page, '.hall[data-hall="h1"] .hall-stats');
      expect(stats).toContain('a meter has no fresh data');
      expect(stats).toContain('racks without data: 1');
      expect(await text(page, '.card[data-id="demo"] .big[data-kpi="pue_live"]')).toBe('–');
      expect(await text(page, '.card[data-id="demo"] .hero')).toContain('no value: meter pdu-r11-b is stale beyond what can be carried');
      // A reason is named in the page's language by its code, with the engine's detail.
      expect(await text(page, '.box[data-kpi="pue/1h"] .note')).toBe('no value: facility below IT (PUE < 1), a metering boundary error — facility energy 90 kWh is below IT energy 95 kWh');
      await page.close();
    } finally {
      await off.server.stop();
    }
  }, 30_000);
});
