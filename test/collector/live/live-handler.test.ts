import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiSource } from '../../../collector/http/api-source.js';
import { ApiServer } from '../../../collector/http/api-server.js';
import { BearerToken } from '../../../collector/http/bearer-token.js';
import { KpiHistory } from '../../../collector/live/kpi-history.js';
import { LiveHandler } from '../../../collector/live/live-handler.js';
import { until } from '../../support/until.js';
import { memoryLogger } from '../../../shared/log.js';
import type { KpiMessage, KpiValue } from '../../../contract/messages.js';
import type { AlertMessage } from '../../../collector/alerts/index.js';
import { siteFloor, type SiteFloor } from '../../../collector/live/site-floor.js';
import { demoFloorInput } from './demo-floor.js';

/**
 * The live routes on a real socket (127.0.0.1, free port) over a scripted ApiSource: the page is
 * public and self-contained, the event stream and trends need the token (?token= for the stream
 * only), events follow the source's changes.
 */
const TOKEN = 'live-token-0123456789abcdef';
const T0 = Date.UTC(2026, 0, 1, 8);
const live = (value: number): KpiValue => ({ kpi: 'pue_live', window: 'instant', window_start: T0, window_end: T0, value, ok: true, basis: 'power', category: 2, coverage: 1, quality: 'measured', target: 1.2, status: value <= 1.2 ? 'green' : 'red' });
let msg: KpiMessage = { schema: 1, site: 'demo', ts: T0, kpis: [live(1.16)] };
let firing: AlertMessage[] = [];
const source: ApiSource = {
  sites: () => [{ id: 'demo', name: 'Demo', timezone: 'Asia/Shanghai', targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 }, halls: 1, racks: 1, devices: 2, devices_down: 0, devices_degraded: 0, agents: [], kpi_ts: msg.ts }],
  siteKpis: (id) => (id === 'demo' ? msg : undefined),
  devices: () => undefined,
  device: () => undefined,
  alerts: () => firing,
  alert: () => undefined,
  clusters: () => [],
  clusterKpis: () => undefined,
  health: () => ({ status: 'ok', broker: { connected: true }, store: { target: 'x', state: 'ok', reason: null, since: null, reachable: true, last_success_ms: T0, last_error: null, retry_at_ms: null, pending_points: 0 }, kpi: { last_evaluation_ms: T0, age_ms: 0, interval_ms: 1000, late: false }, problems: [] }),
  metrics: () => [],
};

let server: ApiServer;
let base = '';
let now = T0;
beforeAll(async () => {
  server = new ApiServer({ host: '127.0.0.1', port: 0, token: new BearerToken(TOKEN), source, logger: memoryLogger(), now: () => now });
  base = (await server.start()).url;
});
afterAll(async () => {
  await server.stop();
});

/** Reads SSE events until `count` arrived (or 3 s), then closes the stream. */
function readEvents(path: string, count: number, onOpen?: () => void, at = base): Promise<{ status: number; events: { event: string; data: unknown }[] }> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${at}${path}`, (res) => {
      const events: { event: string; data: unknown }[] = [];
      if (res.statusCode !== 200) {
        res.resume();
        resolve({ status: res.statusCode ?? 0, events });
        return;
      }
      let buf = '';
      const done = () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: 200, events });
      };
      const timer = setTimeout(done, 3000);
      onOpen?.();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (ev && data) events.push({ event: ev, data: JSON.parse(data) });
          if (events.length >= count) done();
        }
      });
    });
    req.on('error', reject);
  });
}

describe('live page routes', () => {
  it.each(['/', '/live'])('%s serves the self-contained page without a token', async (path) => {
    const res = await fetch(`${base}${path}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const html = await res.text();
    expect(html).toMatch(/<script>/);
    // Offline: no asset from anywhere else.
    expect(html).not.toMatch(/(src|href)=["']?(https?:)?\/\//);
    expect(html).toMatch(/instantaneous/);
  });

  it.each([
    ['no token', '/api/events', 401],
    ['a wrong query token', '/api/events?token=not-the-token-at-all', 401],
    ['the query token', `/api/events?token=${TOKEN}`, 200],
  ])('the event stream with %s answers %i', async (_what, path, status) => {
    const got = await readEvents(path, 1);
    expect(got.status).toBe(status);
  });

  it('the stream starts with the current KPIs and then pushes changes and alerts', async () => {
    const got = await readEvents(`/api/events?token=${TOKEN}`, 3, () => {
      setTimeout(() => {
        msg = { ...msg, ts: T0 + 1000, kpis: [live(1.25)] };
        now = T0 + 1000;
        firing = [{ schema: 1, id: 'pue_high-demo', site: 'demo', rule: 'pue_high', name: 'PueHigh', severity: 'warning', state: 'firing', labels: { site: 'demo' }, summary: 'PUE 1.25 > 1.2', starts_at: T0, ts: T0 + 1000 }];
      }, 100);
    });
    expect(got.events.map((e) => e.event).sort()).toEqual(['alert', 'kpi', 'kpi']);
    const kpis = got.events.filter((e) => e.event === 'kpi').map((e) => e.data as KpiMessage & { scope: string });
    expect(kpis.map((k) => [k.scope, k.ts, k.kpis[0]?.value])).toEqual([
      ['site', T0, 1.16],
      ['site', T0 + 1000, 1.25],
    ]);
    expect((got.events.find((e) => e.event === 'alert')?.data as { alerts: AlertMessage[] }).alerts[0]?.id).toBe('pue_high-demo');
  });

  it.each([
    ['without the token', '/api/sites/demo/series?kpi=pue_live&hours=1', false, 401],
    ['of an unknown site', '/api/sites/nope/series?kpi=pue_live&hours=1', true, 404],
    ['with hours out of range', '/api/sites/demo/series?kpi=pue_live&hours=48', true, 400],
    ['with a bad KPI name', '/api/sites/demo/series?kpi=PUE&hours=1', true, 400],
    ['with a malformed %-escape in the id', '/api/sites/%E0%A4%A/series?kpi=pue_live&hours=1', true, 400],
    ['of a cluster with a malformed %-escape', '/api/clusters/%ZZ/series?kpi=pue_live&hours=1', true, 400],
    ['of the site', '/api/sites/demo/series?kpi=pue_live&hours=1', true, 200],
  ])('the trend %s answers %i', async (_what, path, auth, status) => {
    const res = await fetch(`${base}${path}`, { headers: auth ? { authorization: `Bearer ${TOKEN}` } : {} });
    expect(res.status).toBe(status);
    if (status === 200) {
      const body = (await res.json()) as { samples: { ts_ms: number; value: number }[] };
      expect(body.samples.map((s) => s.value)).toEqual([1.16]); // the 1.25 came within min_step (5 s)
    }
  });
});

describe('a collector without alerting, with a floor view', () => {
  // Same KPIs, no alert engine, the demo hall's floor from scripted latest values.
  const bare: ApiSource = { ...source, alerts: () => undefined, floor: (id) => (id === 'demo' ? siteFloor(demoFloorInput({ now: T0 })) : undefined) };
  let other: ApiServer;
  let at = '';
  beforeAll(async () => {
    other = new ApiServer({ host: '127.0.0.1', port: 0, token: new BearerToken(TOKEN), source: bare, logger: memoryLogger(), now: () => T0 });
    at = (await other.start()).url;
  });
  afterAll(async () => {
    await other.stop();
  });

  it('the stream says alerting is not configured (not "no alerts") and sends the floor', async () => {
    const got = await readEvents(`/api/events?token=${TOKEN}`, 3, undefined, at);
    const alert = got.events.find((e) => e.event === 'alert')?.data;
    expect(alert).toEqual({ configured: false, alerts: [], ts: T0 });
    const floor = got.events.find((e) => e.event === 'floor')?.data as SiteFloor | undefined;
    expect(floor?.site).toBe('demo');
    expect(floor?.halls[0]?.racks.map((r) => r.id)).toHaveLength(16);
  });

  it('with alerting, the alert event says configured and carries the server time', async () => {
    const got = await readEvents(`/api/events?token=${TOKEN}`, 2);
    const alert = got.events.find((e) => e.event === 'alert')?.data as { configured: boolean; ts: number } | undefined;
    expect(alert?.configured).toBe(true);
    expect(alert?.ts).toBe(now);
  });

  it('a floor that cannot be built is counted, and the stream and the timer go on', async () => {
    const handler = new LiveHandler({ source: { ...bare, floor: () => { throw new Error('inventory gone'); } }, token: new BearerToken(TOKEN), now: () => T0, poll_ms: 10, floor_ms: 10 });
    const srv = http.createServer((req, res) => {
      if (!handler.handle(req, res)) res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    handler.start();
    try {
      const url = `http://127.0.0.1:${(srv.address() as AddressInfo).port}`;
      const got = await readEvents(`/api/events?token=${TOKEN}`, 2, undefined, url);
      expect(got.events.map((e) => e.event).sort()).toEqual(['alert', 'kpi']);
      const stream = readEvents(`/api/events?token=${TOKEN}`, 99, undefined, url);
      await until('the timer keeps polling past failed floors', () => handler.stats().floor_errors >= 5, 60_000);
      expect((await stream).status).toBe(200);
    } finally {
      handler.stop();
      await new Promise((resolve) => srv.close(resolve));
    }
  });

  it.each([
    ['the floor', '/api/sites/demo/floor', true, 'other', 200],
    ['without the token', '/api/sites/demo/floor', false, 'other', 401],
    ['of an unknown site', '/api/sites/nope/floor', true, 'other', 404],
    ['with a query', '/api/sites/demo/floor?x=1', true, 'other', 400],
    ['from a source without a floor view', '/api/sites/demo/floor', true, 'first', 404],
  ])('GET %s answers %i', async (_what, path, auth, which, status) => {
    const res = await fetch(`${which === 'other' ? at : base}${path}`, { headers: auth ? { authorization: `Bearer ${TOKEN}` } : {} });
    expect(res.status).toBe(status);
    if (status === 200) {
      const body = (await res.json()) as SiteFloor;
      expect(body.halls.map((h) => [h.id, h.racks.length, h.cooling.length])).toEqual([['h1', 16, 6]]);
    } else {
      expect(((await res.json()) as { error: { code: string } }).error.code).toMatch(/^DCIM_E_API_/);
    }
  });
});

describe('KpiHistory', () => {
  const m = (ts: number, value: number, window: KpiValue['window'] = 'instant', ok = true): KpiMessage => ({ schema: 1, site: 's', ts, kpis: [{ ...live(value), window, ok }] });
  it.each([
    ['keeps instant values spaced by min_step', [m(0, 1), m(500, 2), m(1000, 3)], 0, [1, 3]],
    ['ignores windows and failed values', [m(0, 1, '1d'), m(1000, 2, 'instant', false), m(2000, 3)], 0, [3]],
    ['drops what is older than keep_ms', [m(0, 1), m(5000, 2), m(11_000, 3)], 0, [2, 3]],
    ['answers from since_ms', [m(0, 1), m(5000, 2)], 4000, [2]],
  ])('%s', (_what, msgs, since, values) => {
    const h = new KpiHistory({ keep_ms: 10_000, min_step_ms: 1000 });
    for (const x of msgs) h.record('site', x);
    expect(h.series('site', 's', 'pue_live', since).map((s) => s.value)).toEqual(values);
    expect(h.series('cluster', 's', 'pue_live', 0)).toEqual([]);
  });
});

describe('KpiHistory daily figures (the bureau view\'s trend)', () => {
  const DAY = 86_400_000;
  const day = (end: number, value: number, o: Partial<KpiValue> = {}): KpiMessage => ({
    schema: 1,
    site: 'gy',
    ts: end + 600_000,
    kpis: [{ kpi: 'pue', window: '1d', window_start: end - DAY, window_end: end, value, ok: true, basis: 'energy', coverage: 1, quality: 'measured', status: 'green', ...o }],
  });

  it('keeps one figure per closed day, a revision replacing it, a cluster\'s mean of sites and a failed day left out', () => {
    const h = new KpiHistory({ keep_ms: 10_000, min_step_ms: 1000, keep_days: 3 });
    h.record('site', day(T0, 1.2));
    h.record('site', day(T0 + DAY, 1.3));
    h.record('site', day(T0 + DAY, 1.25)); // late data revised the day
    h.record('site', day(T0 + 2 * DAY, 1.1, { ok: false }));
    h.record('cluster', day(T0, 1.4, { basis: 'energy_weighted' }));
    h.record('cluster', day(T0, 1.5, { basis: 'mean_of_sites' }));
    expect(h.dailySeries('site', 'gy', 'pue', 0)).toEqual([
      { ts_ms: T0, value: 1.2 },
      { ts_ms: T0 + DAY, value: 1.25 },
    ]);
    expect(h.dailySeries('cluster', 'gy', 'pue', 0)).toEqual([{ ts_ms: T0, value: 1.4 }]);
    // At most keep_days per KPI: the oldest days fall out.
    for (let i = 2; i < 6; i++) h.record('site', day(T0 + i * DAY, 1 + i / 100));
    expect(h.dailySeries('site', 'gy', 'pue', 0).map((s) => s.ts_ms)).toEqual([T0 + 3 * DAY, T0 + 4 * DAY, T0 + 5 * DAY]);
    expect(h.dailySeries('site', 'gy', 'pue', T0 + 4 * DAY).length).toBe(2);
    // The instant trend is not mixed with the days.
    expect(h.series('site', 'gy', 'pue', 0)).toEqual([]);
  });

  it.each([
    ['days out of range', '/api/sites/demo/series?kpi=pue&window=1d&days=91', 400],
    ['days not a whole number', '/api/sites/demo/series?kpi=pue&window=1d&days=1.5', 400],
    ['a window the trends do not keep', '/api/sites/demo/series?kpi=pue&window=1mo', 400],
    ['the daily series', '/api/sites/demo/series?kpi=pue&window=1d&days=14', 200],
  ])('the series route with %s answers %i', async (_what, path, status) => {
    const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(res.status).toBe(status);
    const body = (await res.json()) as { window?: string; error?: { code: string } };
    if (status === 200) expect(body.window).toBe('1d');
    else expect(body.error?.code).toBe('DCIM_E_API_BAD_REQUEST');
  });
});
