import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteInventorySchema, SystemClock, type KpiMessage } from '../../contract/index.js';
import { createLogger } from '../../shared/log.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { loadYamlFile } from '../../shared/config/load.js';
import { Agent } from '../../agent/index.js';
import { Collector, createSink } from '../../collector/index.js';
import { startSimSite } from '../../simulators/index.js';
import { startEmbeddedBroker } from '../../cli/embedded-broker.js';
import { startChromium } from '../support/chromium.js';
import { useService } from '../support/require-service.js';
import mqtt from 'mqtt';
import { Bureau } from '../../collector/bureau/bureau.js';
import { SqliteSink } from '../../collector/store/sqlite-sink.js';
import { ManualClock } from '../../contract/clock.js';
import { topics } from '../../contract/topics.js';
import { startMosquitto } from '../support/mosquitto.js';
import { until } from '../support/until.js';
import { PATIENT_REQUESTS } from '../support/patient-requests.js';
import { CLUSTER, NOW, SETTLE, SITES, threeSites } from '../collector/bureau/three-sites.js';

/**
 * The live page in headless Chromium (Debian's `chromium`, driven by playwright-core) against the
 * demo pipeline in-process: simulator → agent → embedded broker → collector (SQLite store) with
 * its HTTP API and a token. The page's live PUE must equal the API's within display rounding
 * (3 decimals) and change without a reload.
 */
const TOKEN = 'live-page-test-token-0123456789';

// The callbacks below run inside Chromium; this project's tsc has no DOM lib, so the few page
// globals they use are declared here (module scope: nothing leaks into other files).
interface DomElement {
  textContent: string | null;
  dataset: Record<string, string | undefined>;
}
declare const document: { querySelector(sel: string): DomElement | null; querySelectorAll(sel: string): ArrayLike<DomElement> };
declare const window: Record<string, unknown>;
declare function getComputedStyle(el: DomElement | null): { display: string };

describe('live page in headless Chromium', () => {
  const chromium = useService('chromium', startChromium);
  const logger = createLogger({ level: 'error' });
  const scratch = mkdtempSync(join(tmpdir(), 'dcim-live-'));
  let stopAll: (() => Promise<void>) | undefined;
  let apiUrl = '';

  beforeAll(async () => {
    const seed = loadYamlFile(SiteInventorySchema, resolve(import.meta.dirname, '../../seeds/demo.yaml'));
    const profiles = loadProfiles();
    const sim = await startSimSite({ inventory: seed, profiles, bind: 'ephemeral', logger });
    const inventory = { ...sim.inventory(), devices: sim.inventory().devices.map((d) => ({ ...d, interval_s: 1 })) };
    const broker = await startEmbeddedBroker();
    const sink = createSink({ kind: 'sqlite', path: join(scratch, 'demo.sqlite'), retention_days: 7 }, { clock: new SystemClock(), logger });
    const collector = new Collector({ id: 'live-test', inventories: [inventory], mqtt: { url: broker.url }, sink, profiles, logger, kpiIntervalMs: 1000, http: { host: '127.0.0.1', port: 0, token: TOKEN } });
    const agent = new Agent({ id: 'edge-1', inventory, profiles, mqtt: { url: broker.url }, stateDir: join(scratch, 'agent'), logger, ...PATIENT_REQUESTS });
    await collector.start();
    await agent.start();
    apiUrl = collector.httpUrl ?? '';
    stopAll = async () => {
      await agent.stop();
      await collector.stop();
      await sink.close();
      await sim.stop();
      await broker.stop();
    };
  }, 120_000);

  afterAll(async () => {
    await stopAll?.();
    rmSync(scratch, { recursive: true, force: true });
  });

  const apiKpi = async (): Promise<KpiMessage> => {
    const res = await fetch(`${apiUrl}/api/sites/demo/kpi?window=instant&kpi=pue_live`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { site: string; ts: number; kpis: KpiMessage['kpis'] };
    return { schema: 1, site: body.site, ts: body.ts, kpis: body.kpis };
  };

  it('shows the API live PUE within display rounding and updates it without a reload', async () => {
    const page = await chromium().browser.newPage();
    // The token rides in the fragment, which the browser never sends; the page keeps it for the tab.
    // English: the assertions below read the page's English words (zh-CN is the default).
    await page.goto(`${apiUrl}/live?lang=en#token=${TOKEN}`);
    const cardPue = '.card[data-scope="site"][data-id="demo"] .big[data-kpi="pue_live"]';
    const cardTs = '.card[data-scope="site"][data-id="demo"] .ts';
    // Functions, not strings: the page's CSP forbids eval, and playwright evaluates strings with it.
    // On a loaded machine the first live PUEs can be withheld (inputs not time-aligned): allow for it.
    await page.waitForFunction((sel) => /^\d\.\d{3}$/.test(document.querySelector(sel)?.textContent ?? ''), cardPue, { timeout: 45_000 });

    // Compare at the same evaluation: wait until the page shows the API message's timestamp.
    let matched = false;
    for (let attempt = 0; attempt < 5 && !matched; attempt++) {
      const msg = await apiKpi();
      const live = msg.kpis.find((k) => k.kpi === 'pue_live');
      expect(live?.ok).toBe(true);
      try {
        await page.waitForFunction(([sel, ts]) => (document.querySelector(sel))?.dataset.ts === ts, [cardTs, String(msg.ts)] as const, { timeout: 30_000 });
      } catch {
        continue; // the page already moved on to a newer evaluation: read the API again
      }
      // Value and timestamp read together: a newer evaluation may have been painted meanwhile.
      const painted = await page.evaluate(([pue, ts]) => ({ shown: document.querySelector(pue)?.textContent ?? '', ts: document.querySelector(ts)?.dataset.ts }), [cardPue, cardTs] as const);
      if (painted.ts !== String(msg.ts)) continue;
      const shown = painted.shown;
      expect(Math.abs(Number(shown) - live!.value!)).toBeLessThanOrEqual(0.0005 + 1e-9);
      expect(shown).toBe(live!.value!.toFixed(3));
      matched = true;
    }
    expect(matched).toBe(true);

    const sub = await page.evaluate(() => document.querySelector('.card[data-id="demo"] .sub')?.textContent ?? '', null);
    expect(sub).toMatch(/instantaneous/);

    // The floor from the collector's latest values: every rack of the seed, inlet temperatures from the sensors.
    await page.waitForFunction(() => document.querySelectorAll('.rack[data-rack]').length === 16 && Array.from(document.querySelectorAll('.rack[data-rack]')).filter((e) => e.dataset.temp).length === 14, null, { timeout: 20_000 });
    // This collector runs without an alert engine: the page must say so, not "no firing alerts".
    expect(await page.evaluate(() => document.querySelector('.alerts [data-alerts]')?.textContent ?? '', null)).toBe('alerting is not configured on this collector');

    // Updates in place: the timestamp moves on with new events; no navigation happened.
    const before = await page.evaluate((sel) => document.querySelector(sel)?.dataset.ts ?? '', cardTs);
    await page.evaluate(() => (window.sameDocument = true), null);
    await page.waitForFunction(([sel, ts]) => document.querySelector(sel)?.dataset.ts !== ts, [cardTs, before] as const, { timeout: 30_000 });
    expect(await page.evaluate(() => window.sameDocument === true, null)).toBe(true);

    // The trend has a few points before the screenshot.
    await page.waitForFunction(() => Number(document.querySelector('.card[data-id="demo"] svg.spark')?.dataset.n ?? 0) >= 4, null, { timeout: 40_000 });
    // The README's pictures come from the wall page test (test/collector/live/live-page.test.ts).
    const shot = join(scratch, 'live-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  }, 120_000);

  it('asks for the token when none is kept, and refuses the event stream without it', async () => {
    const page = await chromium().browser.newPage();
    await page.goto(`${apiUrl}/`);
    await page.waitForFunction(() => getComputedStyle(document.querySelector('#login')).display !== 'none', null, { timeout: 30_000 });
    const res = await fetch(`${apiUrl}/api/events?token=wrong-token-wrong-token`);
    expect(res.status).toBe(401);
  }, 20_000);
});

/**
 * The bureau view against a real bureau: three hand-checked sites' summaries published through a
 * real mosquitto to a `Bureau` (SQLite store, HTTP API with the live page), and the page in
 * Chromium. The page must open on the bureau view by itself, rank the sites by the API's
 * month-to-date PUE and light each figure with the API's status.
 */
describe('live page bureau view against a real bureau', () => {
  const chromium = useService('chromium', startChromium);
  const broker = useService('mosquitto', () => startMosquitto());
  const world = threeSites();
  const dir = mkdtempSync(join(tmpdir(), 'dcim-bureau-page-'));
  const clock = new ManualClock(NOW - 5_000);
  let sink: SqliteSink;
  let bureau: Bureau;

  beforeAll(async () => {
    sink = new SqliteSink({ path: join(dir, 'bureau.sqlite'), clock, logger: createLogger({ level: 'error' }) });
    bureau = new Bureau({ id: 'b1', clusters: [CLUSTER], mqtt: { url: broker().url, clientId: 'bureau-page' }, sink, clock, logger: createLogger({ level: 'error' }), tickMs: 15_000, settleMs: SETTLE, silentAfterWindows: 4, maxSkewMs: 300_000, http: { host: '127.0.0.1', port: 0, token: TOKEN } });
    await bureau.start();
    const site = await mqtt.connectAsync(broker().url, { clientId: 'bureau-page-sites', protocolVersion: 5 });
    for (const s of world.sent) await site.publishAsync(topics.summary(s.site, s.window), JSON.stringify(s), { qos: 1 });
    await site.endAsync();
    await until('the bureau took every summary', () => bureau.stats().summaries_received === world.sent.length, 60_000);
    clock.advance(5_000); // the tick at NOW evaluates the sites and the cluster
    await until('the bureau evaluated the cluster', async () => ((await (await fetch(`${bureau.httpUrl}/api/clusters/c1/kpi`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { kpis: unknown[] }).kpis.length > 0, 60_000);
  }, 60_000);

  afterAll(async () => {
    await bureau?.stop();
    await sink?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens on the bureau view: every site, ranked by the API\'s month-to-date PUE, lit with its status; in English after the switch', async () => {
    const kpis = async (id: string) => ((await (await fetch(`${bureau.httpUrl}/api/sites/${id}/kpi?kpi=pue&window=1mo`, { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as { kpis: KpiMessage['kpis'] }).kpis.find((k) => k.basis === 'energy');
    const api = await Promise.all(SITES.map(async (id) => ({ id, pue: await kpis(id) })));
    const ranked = [...api].sort((a, b) => (a.pue?.ok ? a.pue.value! : Infinity) - (b.pue?.ok ? b.pue.value! : Infinity) || a.id.localeCompare(b.id));
    const page = await chromium().browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${bureau.httpUrl}/live#token=${TOKEN}`);
    await page.waitForFunction((n) => document.querySelectorAll('tr.bsite').length === n, SITES.length, { timeout: 15_000 });
    const rows = await page.evaluate(
      () => Array.from(document.querySelectorAll('tr.bsite')).map((e) => ({ site: e.dataset.site, pue: (e as unknown as { querySelector(s: string): DomElement | null }).querySelector('td.c-pue')?.dataset.status, text: (e as unknown as { querySelector(s: string): DomElement | null }).querySelector('td.c-pue .fv')?.textContent, report: (e as unknown as { querySelector(s: string): DomElement | null }).querySelector('td.c-report')?.dataset.report })),
      null,
    );
    expect(rows.map((r) => r.site)).toEqual(ranked.map((r) => r.id));
    for (const r of rows) {
      const a = api.find((x) => x.id === r.site)!.pue;
      expect(r.text).toBe(a?.ok ? a.value!.toFixed(3) : '–');
      expect(r.pue).toBe(a?.ok ? a.status : 'grey');
      // Every site sent its summaries up to the last quarter hour: none is silent.
      expect(r.report).not.toBe('silent');
    }
    expect(await page.evaluate(() => document.querySelector('table.branking thead')?.textContent ?? '', null)).toContain('PUE（本月累计）');
    await page.click('button[data-lang="en"]');
    await page.waitForFunction(() => (document.querySelector('table.branking thead')?.textContent ?? '').includes('PUE, month to date'), null, { timeout: 30_000 });
    expect(errors).toEqual([]);
    await page.close();
  }, 60_000);
});
