import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiServer } from '../../../collector/http/api-server.js';
import type { ApiSource } from '../../../collector/http/api-source.js';
import { BearerToken } from '../../../collector/http/bearer-token.js';
import { memoryLogger } from '../../../shared/log.js';
import type { KpiMessage } from '../../../contract/messages.js';
import { startChromium, type Page } from '../../support/chromium.js';
import { useService } from '../../support/require-service.js';
import { until } from '../../support/until.js';
import { CLUSTER_KPIS, CLUSTERS, dayMessage, FIGURES, REPORTS, SITES, siteKpis, T0 } from './page/bureau-fixture.js';

/**
 * The live page's bureau view in headless Chromium, served by the real ApiServer (routes, live
 * handler, event stream, daily series) on 127.0.0.1 over a scripted bureau source: four sites and
 * a cluster with windowed figures and no live PUE, and /api/bureau/sites as the bureau reports it
 * (one site late, one silent, one never heard of). The KPI messages step through five days, so
 * the handler's daily PUE series fills as it would on a bureau running for a week. Checked in
 * zh-CN (the default) and after switching to English: the ranking, the colour of each light, the
 * reporting marks, the trends, and a re-ranking when a site's figure changes, without a reload.
 * DCIM_UPDATE_SCREENSHOTS=1 writes docs/live-page-bureau.png.
 */
const TOKEN = 'bureau-page-token-0123456789abcdef';
const GREEN = 'rgb(47, 191, 113)';
const AMBER = 'rgb(240, 180, 41)';
const RED = 'rgb(239, 78, 78)';
const GREY = 'rgb(107, 119, 133)';

interface DomElement {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
  querySelector(sel: string): DomElement | null;
}
declare const document: { querySelector(sel: string): DomElement | null; querySelectorAll(sel: string): ArrayLike<DomElement>; documentElement: { lang: string } };
declare function getComputedStyle(el: DomElement | null): { backgroundColor: string };

function bureauSource() {
  let step = 0;
  const override: Record<string, KpiMessage> = {};
  const current = (id: string): KpiMessage | undefined => {
    if (override[id]) return override[id];
    for (let i = step; i >= 0; i--) {
      const m = dayMessage(id, i);
      if (m) return m;
    }
    return undefined;
  };
  const source: ApiSource = {
    sites: () => SITES,
    siteKpis: (id) => current(id),
    devices: () => undefined,
    device: () => undefined,
    alerts: () => [],
    alert: () => undefined,
    clusters: () => CLUSTERS,
    clusterKpis: (id) => (id === 'guian' ? CLUSTER_KPIS : undefined),
    health: () => ({ status: 'ok', broker: { connected: true }, store: { target: 'x', state: 'ok', reason: null, since: T0, reachable: true, last_success_ms: T0, last_error: null, retry_at_ms: null, pending_points: 0 }, kpi: { last_evaluation_ms: T0, age_ms: 0, interval_ms: 1000, late: false }, problems: [] }),
    metrics: () => [],
    bureauSites: () => REPORTS,
  };
  return { source, next: () => (step < 4 ? (step++, true) : false), set: (id: string, m: KpiMessage) => (override[id] = m) };
}

const get = (url: string) => fetch(url, { headers: { authorization: `Bearer ${TOKEN}` } }).then((r) => r.json() as Promise<{ samples: unknown[] }>);
const text = (page: Page, sel: string) => page.evaluate((s) => document.querySelector(s)?.textContent ?? '', sel);
const order = (page: Page) => page.evaluate(() => Array.from(document.querySelectorAll('tr.bsite')).map((e) => `${e.dataset.rank} ${e.dataset.site}`), null);
/** The painted colour of each light of a site row, by column. */
const lights = (page: Page, site: string) =>
  page.evaluate((id) => {
    const out: Record<string, string> = {};
    for (const c of ['c-pue', 'c-occupancy', 'c-green', 'c-ai-share']) out[c] = getComputedStyle(document.querySelector(`tr.bsite[data-site="${id}"] td.${c} .pill`)).backgroundColor;
    return out;
  }, site);

describe('live page, bureau view, in headless Chromium', () => {
  const chromium = useService('chromium', () => startChromium({ width: 1920, height: 1080 }));
  const bureau = bureauSource();
  const scratch = mkdtempSync(join(tmpdir(), 'dcim-bureau-wall-'));
  let server: ApiServer;
  let url = '';

  beforeAll(async () => {
    server = new ApiServer({ host: '127.0.0.1', port: 0, token: new BearerToken(TOKEN), source: bureau.source, logger: memoryLogger(), now: () => T0 });
    url = (await server.start()).url;
    // Five days of messages: the handler keeps each closed day's PUE.
    for (let day = 1; day <= 5; day++) {
      await until(`the handler holds day ${day} of gy-a`, async () => (await get(`${url}/api/sites/gy-a/series?kpi=pue&window=1d&days=14`)).samples.length >= day, 60_000);
      bureau.next();
    }
  }, 30_000);

  afterAll(async () => {
    await server?.stop();
    rmSync(scratch, { recursive: true, force: true });
  });

  async function open(query: string): Promise<{ page: Page; errors: string[] }> {
    const page = await chromium().browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${url}/live${query}#token=${TOKEN}`);
    await page.waitForFunction(() => document.querySelectorAll('tr.bsite').length === 4, null, { timeout: 30_000 });
    return { page, errors };
  }

  it('zh-CN: every site ranked by month-to-date PUE, each light in its colour, late and silent sites marked, daily trends; then in English', async () => {
    const { page, errors } = await open('');
    expect(await page.evaluate(() => document.documentElement.lang, null)).toBe('zh-CN');
    // A bureau: no site sections (no floor, no live PUE), the bureau view instead.
    expect(await page.evaluate(() => document.querySelectorAll('.card[data-scope="site"]').length, null)).toBe(0);
    expect(await order(page)).toEqual(['1 gy-a', '2 gy-b', '3 gy-c', '– gy-d']);
    expect(await lights(page, 'gy-a')).toEqual({ 'c-pue': GREEN, 'c-occupancy': GREEN, 'c-green': GREEN, 'c-ai-share': GREEN });
    expect(await lights(page, 'gy-b')).toEqual({ 'c-pue': AMBER, 'c-occupancy': AMBER, 'c-green': RED, 'c-ai-share': AMBER });
    expect(await lights(page, 'gy-c')).toEqual({ 'c-pue': RED, 'c-occupancy': RED, 'c-green': RED, 'c-ai-share': RED });
    expect((await lights(page, 'gy-d'))['c-pue']).toBe(GREY);
    expect(await text(page, 'tr.bsite[data-site="gy-a"] td.c-pue .fv')).toBe('1.182');
    expect(await text(page, 'tr.bsite[data-site="gy-a"] td.c-ai .fv')).toBe('12.50 EFLOPS');
    expect(await text(page, 'tr.bsite[data-site="gy-a"] td.c-pue .meta')).toBe('月 · 实测');
    expect(await text(page, 'tr.bsite[data-site="gy-b"] td.c-pue .meta')).toBe('月 · 部分替代');
    // Reporting, from /api/bureau/sites.
    expect(await text(page, 'tr.bsite[data-site="gy-a"] td.c-report')).toMatch(/^按时 · 最新窗口 /);
    expect(await text(page, 'tr.bsite[data-site="gy-b"] td.c-report')).toMatch(/^迟报 · 最新窗口 /);
    expect(await text(page, 'tr.bsite[data-site="gy-c"] td.c-report')).toMatch(/^已 12 个窗口未上报/);
    expect(await text(page, 'tr.bsite[data-site="gy-d"] td.c-report')).toBe('尚未收到数据');
    // Daily PUE from the handler's daily series: five days of gy-a and gy-b, two of gy-c.
    const sparks = await page.evaluate(() => Array.from(document.querySelectorAll('tr.bsite svg.bspark')).map((e) => Number(e.dataset.n)), null);
    expect(sparks).toEqual([5, 5, 2, 0]);
    const heads = await text(page, 'table.branking thead');
    for (const w of ['排名', 'PUE（本月累计）', '上架率', '绿电占比', '算力规模', '智算占比', '上报状态']) expect(heads).toContain(w);
    expect(await text(page, 'tr.bcluster[data-cluster="guian"] td.c-pue.weighted .fv')).toBe('1.251');
    // The wall: nothing overflows sideways at 1920 px.
    expect(await page.evaluate(() => (document as unknown as { documentElement: { scrollWidth: number } }).documentElement.scrollWidth <= (globalThis as unknown as { innerWidth: number }).innerWidth, null)).toBe(true);
    const shot = process.env.DCIM_UPDATE_SCREENSHOTS === '1' ? resolve(import.meta.dirname, '../../../docs/live-page-bureau.png') : join(scratch, 'live-page-bureau.png');
    await page.screenshot({ path: shot, fullPage: false });
    expect(statSync(shot).size).toBeGreaterThan(20_000);

    await page.click('button[data-lang="en"]');
    await page.waitForFunction(() => document.documentElement.lang === 'en', null, { timeout: 30_000 });
    const enHeads = await text(page, 'table.branking thead');
    for (const w of ['Rank', 'PUE, month to date', 'Rack occupancy 上架率', 'Green share 绿电占比', 'Compute scale 算力规模', 'AI compute share 智算占比', 'Reporting']) expect(enHeads).toContain(w);
    expect(await text(page, 'tr.bsite[data-site="gy-b"] td.c-report')).toMatch(/^late · last window /);
    expect(await text(page, 'tr.bsite[data-site="gy-c"] td.c-report')).toMatch(/^silent for 12 windows/);
    expect(await text(page, 'tr.bsite[data-site="gy-a"] td.c-pue .meta')).toBe('month · measured');
    // Same ranking and colours in English.
    expect(await order(page)).toEqual(['1 gy-a', '2 gy-b', '3 gy-c', '– gy-d']);
    expect(await lights(page, 'gy-b')).toEqual({ 'c-pue': AMBER, 'c-occupancy': AMBER, 'c-green': RED, 'c-ai-share': AMBER });
    expect(errors).toEqual([]);
    await page.close();
  }, 40_000);

  it('re-ranks without a reload when a site\'s figure changes (event stream)', async () => {
    const { page, errors } = await open('?lang=en');
    expect(await order(page)).toEqual(['1 gy-a', '2 gy-b', '3 gy-c', '– gy-d']);
    // gy-c's month improves to 1.150 (green): it moves to the top.
    bureau.set('gy-c', { ...siteKpis('gy-c', { ...FIGURES['gy-c']!, pue: 1.15, pueStatus: 'green' }, 1.42), ts: T0 + 60_000 });
    await page.waitForFunction(() => document.querySelector('tr.bsite')?.dataset.site === 'gy-c', null, { timeout: 30_000 });
    expect(await order(page)).toEqual(['1 gy-c', '2 gy-a', '3 gy-b', '– gy-d']);
    expect((await lights(page, 'gy-c'))['c-pue']).toBe(GREEN);
    expect(errors).toEqual([]);
    await page.close();
  }, 30_000);

  it('a site collector (no /api/bureau/sites) keeps the site view', async () => {
    const site = new ApiServer({ host: '127.0.0.1', port: 0, token: new BearerToken(TOKEN), source: { ...bureau.source, bureauSites: undefined }, logger: memoryLogger(), now: () => T0 });
    const siteUrl = (await site.start()).url;
    try {
      const page = await chromium().browser.newPage();
      await page.goto(`${siteUrl}/live#token=${TOKEN}`);
      await page.waitForFunction(() => document.querySelectorAll('.card[data-scope="site"]').length === 4, null, { timeout: 30_000 });
      expect(await page.evaluate(() => document.querySelectorAll('tr.bsite').length, null)).toBe(0);
      await page.close();
    } finally {
      await site.stop();
    }
  }, 30_000);
});
