import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ApiSource, HealthReport } from '../../../collector/http/api-source.js';
import { ApiServer } from '../../../collector/http/api-server.js';
import { BearerToken } from '../../../collector/http/bearer-token.js';
import { memoryLogger } from '../../../shared/log.js';
import type { KpiMessage, KpiValue } from '../../../contract/messages.js';
import type { AlertMessage } from '../../../collector/alerts/index.js';
import { until } from '../../support/until.js';

/**
 * The HTTP shell and routes on a real socket (127.0.0.1, free port) over a scripted ApiSource:
 * auth, routes, query validation, limits, CORS, errors as JSON with codes.
 */
const TOKEN = 'test-token-0123456789abcdef';
const T0 = Date.UTC(2026, 0, 1, 8);
const kpi = (over: Partial<KpiValue>): KpiValue => ({ kpi: 'pue', window: '1d', window_start: T0 - 86_400_000, window_end: T0, value: 1.31, ok: true, basis: 'energy', category: 2, coverage: 1, quality: 'measured', target: 1.2, status: 'red', ...over });
const MSG: KpiMessage = {
  schema: 1,
  site: 'demo',
  ts: T0,
  kpis: [kpi({ kpi: 'pue_live', window: 'instant', basis: 'power', window_start: T0, value: 1.25, status: 'amber' }), kpi({}), kpi({ window: '1mo', value: 1.28 }), kpi({ kpi: 'rack_occupancy_ratio', value: 0.72, target: 0.7, status: 'green', category: undefined })],
};
let health: HealthReport = {
  status: 'ok',
  broker: { connected: true },
  store: { target: 'influx_v1 http://127.0.0.1:8086 db=dcim', state: 'ok', reason: null, since: T0, reachable: true, last_success_ms: T0, last_error: null, retry_at_ms: null, pending_points: 0 },
  kpi: { last_evaluation_ms: T0, age_ms: 1000, interval_ms: 5000, late: false },
  problems: [],
};
const DEVICE = { id: 'pdu-1', profile: 'apc-rpdu2', class: 'pdu', hall: 'h1', rack: 'r01', role: 'it', level: 'pdu_out', interval_s: 10, status: null, last_ts: T0 - 1000, stale: false };
const ALERT: AlertMessage = { schema: 1, id: 'device_down-demo-pdu-1', site: 'demo', rule: 'device_down', name: 'DeviceDown', severity: 'critical', state: 'firing', labels: { site: 'demo', device: 'pdu-1' }, summary: 'pdu-1 is down', starts_at: T0 - 60_000, ts: T0 };
const alertFilters: unknown[] = [];
let alerting = true;
let sourceThrows = false;
const source: ApiSource = {
  sites: () => {
    if (sourceThrows) throw new Error('boom');
    return [{ id: 'demo', name: 'Demo', timezone: 'Asia/Shanghai', targets: { pue: 1.2, rack_occupancy: 0.7, green_share: 0.8 }, halls: 1, racks: 1, devices: 2, devices_down: 0, devices_degraded: 0, agents: [], kpi_ts: T0 }];
  },
  siteKpis: (id) => (id === 'demo' ? MSG : undefined),
  devices: (id) => (id === 'demo' ? { site: 'demo', ts: T0, devices: [DEVICE] } : undefined),
  device: (id, d) => (id === 'demo' && d === 'pdu-1' ? { site: 'demo', ts: T0, device: DEVICE, points: [{ point: 'active_power_w', value: 8000, unit: 'W', quality: 'good', ts_ms: T0 - 1000, stale: false }] } : undefined),
  alerts: (filter) => {
    alertFilters.push(filter);
    return alerting ? [ALERT].filter((a) => (filter.site === undefined || a.site === filter.site) && (filter.state === undefined || a.state === filter.state)) : undefined;
  },
  alert: (id) => (alerting && id === ALERT.id ? ALERT : undefined),
  clusters: () => [{ id: 'guian', name: 'Gui\'an', timezone: 'Asia/Shanghai', targets: { pue: 1.25, rack_occupancy: 0.7, green_share: 0.8 }, sites: ['demo'], kpi_ts: T0 }],
  clusterKpis: (id) => (id === 'guian' ? { ...MSG, site: 'guian' } : undefined),
  health: () => health,
  metrics: () => [{ name: 'dcim_test_total', help: 'a "test"\ncounter', type: 'counter', samples: [{ labels: { site: 'de"mo\\x' }, value: 3 }] }],
};

function makeServer(cors_origin?: string) {
  return new ApiServer({ host: '127.0.0.1', port: 0, token: new BearerToken(TOKEN), source, logger: memoryLogger(), ...(cors_origin ? { cors_origin } : {}) });
}

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  json: () => { error?: { code: string; message: string } } & Record<string, unknown>;
}

function request(base: string, path: string, opts: { method?: string; token?: string | null; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method: opts.method ?? 'GET', headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) as ReturnType<Reply['json']> });
      });
    });
    req.on('error', reject);
    if (opts.body !== undefined) req.write(opts.body);
    req.end();
  });
}

let server: ApiServer;
let base: string;
beforeAll(async () => {
  server = makeServer();
  base = (await server.start()).url;
});
afterAll(() => server.stop());

describe('API authentication', () => {
  it.each<{ name: string; token: string | null; header?: string; challenge: string }>([
    { name: 'no Authorization header', token: null, challenge: 'Bearer realm="dcim"' },
    { name: 'a wrong token', token: 'test-token-0123456789abcdeX', challenge: 'Bearer realm="dcim", error="invalid_token"' },
    { name: 'a prefix of the token', token: 'test-token', challenge: 'Bearer realm="dcim", error="invalid_token"' },
    { name: 'Basic instead of Bearer', token: null, header: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}`, challenge: 'Bearer realm="dcim", error="invalid_token"' },
  ])('refuses $name with 401, WWW-Authenticate and a JSON error', async ({ token, header, challenge }) => {
    for (const path of ['/api/sites', '/api/sites/demo/kpi', '/api/clusters/guian/kpi', '/metrics', '/api/sites/no-such-site/kpi', '/nope']) {
      const r = await request(base, path, { token, ...(header ? { headers: { authorization: header } } : {}) });
      expect(r.status, path).toBe(401);
      expect(r.headers['www-authenticate']).toBe(challenge);
      expect(r.json().error?.code).toBe('DCIM_E_API_UNAUTHORIZED');
      expect(r.body).not.toContain('demo');
    }
  });

  it('accepts the token, with the scheme in any case', async () => {
    expect((await request(base, '/api/sites')).status).toBe(200);
    expect((await request(base, '/api/sites', { token: null, headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
  });

  it('/healthz needs no token: 200 when ok, 503 with the problems when degraded', async () => {
    const ok = await request(base, '/healthz', { token: null });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'ok', broker: { connected: true }, store: { state: 'ok', reachable: true } });
    const saved = health;
    health = { ...health, status: 'degraded', store: { ...health.store, state: 'unreachable', reachable: false, reason: 'connect ECONNREFUSED 127.0.0.1:8086', last_error: 'connect ECONNREFUSED 127.0.0.1:8086' }, problems: ['store unreachable: connect ECONNREFUSED 127.0.0.1:8086'] };
    try {
      const bad = await request(base, '/healthz', { token: null });
      expect(bad.status).toBe(503);
      expect(bad.json()).toMatchObject({ status: 'degraded', store: { state: 'unreachable', reachable: false }, problems: ['store unreachable'] });
    } finally {
      health = saved;
    }
  });

  it('/healthz shows no store address without the token: no URL, host, database or error text', async () => {
    const saved = health;
    health = { ...health, status: 'degraded', store: { ...health.store, state: 'refusing', reason: 'database "dcim_prod" not found', last_error: 'HTTP 404 from http://10.20.0.5:8086' }, problems: ['store refusing: database "dcim_prod" not found'] };
    try {
      const short = await request(base, '/healthz', { token: null });
      expect(short.status).toBe(503);
      for (const secret of ['127.0.0.1', '8086', 'dcim', '10.20.0.5', 'influx', '"target"', '"last_error"', '"reason"']) expect(short.body, secret).not.toContain(secret);
      expect(short.json()).toEqual({
        status: 'degraded',
        broker: { connected: true },
        store: { state: 'refusing', reachable: true, pending_points: 0 },
        kpi: { age_ms: 1000, late: false },
        problems: ['store refusing'],
        details: 'send Authorization: Bearer <token> for the store target and the reasons',
      });
      // With the token: everything, target and reasons included, same status code.
      const full = await request(base, '/healthz');
      expect(full.status).toBe(503);
      expect(full.json()).toEqual(health);
      // A wrong token is refused like anywhere else, not answered with the short form.
      const wrong = await request(base, '/healthz', { token: 'test-token-0123456789abcdeX' });
      expect(wrong.status).toBe(401);
      expect(wrong.json().error?.code).toBe('DCIM_E_API_UNAUTHORIZED');
      expect(wrong.body).not.toContain('dcim_prod');
    } finally {
      health = saved;
    }
  });

  it('refuses tokens too weak or not RFC 6750 at construction', () => {
    expect(() => new BearerToken('short')).toThrow(/at least 16/);
    expect(() => new BearerToken('has spaces in it 0123456789')).toThrow(/RFC 6750/);
  });

  it('counts refusals', () => {
    expect(server.stats().unauthorized).toBeGreaterThanOrEqual(24);
  });
});

describe('API routes', () => {
  it('GET /api/sites and /api/clusters', async () => {
    expect((await request(base, '/api/sites')).json()).toMatchObject({ sites: [{ id: 'demo', devices: 2, kpi_ts: T0 }] });
    expect((await request(base, '/api/clusters')).json()).toMatchObject({ clusters: [{ id: 'guian', sites: ['demo'] }] });
  });

  it('GET /api/sites/:id/kpi: every KPI with window, value, quality and target status', async () => {
    const r = await request(base, '/api/sites/demo/kpi');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.json()).toEqual({ site: 'demo', ts: T0, kpis: MSG.kpis });
  });

  it.each<[string, string[]]>([
    ['?window=1d', ['pue/1d', 'rack_occupancy_ratio/1d']],
    ['?window=1d,1mo&kpi=pue', ['pue/1d', 'pue/1mo']],
    ['?window=instant', ['pue_live/instant']],
    ['?kpi=rack_occupancy_ratio', ['rack_occupancy_ratio/1d']],
    ['?window=1y', []],
  ])('filters with %s', async (query, expected) => {
    const r = await request(base, `/api/sites/demo/kpi${query}`);
    expect(r.status).toBe(200);
    expect((r.json().kpis as KpiValue[]).map((k) => `${k.kpi}/${k.window}`)).toEqual(expected);
  });

  it('GET /api/sites/:id/devices and /api/sites/:id/devices/:device', async () => {
    expect((await request(base, '/api/sites/demo/devices')).json()).toEqual({ site: 'demo', ts: T0, devices: [DEVICE] });
    expect((await request(base, '/api/sites/demo/devices/pdu-1')).json()).toMatchObject({ device: { id: 'pdu-1' }, points: [{ point: 'active_power_w', value: 8000, stale: false }] });
    const none = await request(base, '/api/sites/demo/devices/pdu-9');
    expect(none.status).toBe(404);
    expect(none.json().error).toMatchObject({ code: 'DCIM_E_API_NOT_FOUND', message: 'no device "pdu-9" at site "demo"' });
    expect((await request(base, '/api/sites/other/devices')).status).toBe(404);
  });

  it('GET /api/alerts with filters, /api/alerts/:id and /api/sites/:id/alerts', async () => {
    alertFilters.length = 0;
    expect((await request(base, '/api/alerts?state=firing&severity=critical&site=demo&rule=device_down')).json()).toEqual({ alerts: [ALERT] });
    expect(alertFilters.at(-1)).toEqual({ state: 'firing', severity: 'critical', site: 'demo', rule: 'device_down' });
    expect((await request(base, '/api/alerts?state=resolved')).json()).toEqual({ alerts: [] });
    expect((await request(base, `/api/alerts/${ALERT.id}`)).json()).toEqual({ alert: ALERT });
    expect((await request(base, '/api/sites/demo/alerts?state=firing')).json()).toEqual({ alerts: [ALERT] });
    expect(alertFilters.at(-1)).toEqual({ state: 'firing', site: 'demo' });
    for (const [path, status, message] of [
      ['/api/alerts?state=burning', 400, /state/],
      ['/api/sites/demo/alerts?site=other', 400, /unknown query parameter.*"site"/],
      ['/api/alerts/no-such-alert', 404, /no alert "no-such-alert"/],
      ['/api/sites/other/alerts', 404, /no site "other"/],
    ] as const) {
      const r = await request(base, path);
      expect(r.status, path).toBe(status);
      expect(r.json().error?.message).toMatch(message);
    }
    alerting = false;
    try {
      expect((await request(base, '/api/alerts')).json().error?.message).toBe('alerting is not configured on this collector');
    } finally {
      alerting = true;
    }
  });

  it('GET /api/clusters/:id/kpi', async () => {
    const r = await request(base, '/api/clusters/guian/kpi?window=1mo');
    expect(r.json()).toMatchObject({ cluster: 'guian', kpis: [{ kpi: 'pue', window: '1mo' }] });
  });

  it.each<{ path: string; status: number; code: string; message: RegExp }>([
    { path: '/api/sites/demo/kpi?window=2d', status: 400, code: 'DCIM_E_API_BAD_REQUEST', message: /window.*"2d"/ },
    { path: '/api/sites/demo/kpi?window=1d&window=1mo', status: 400, code: 'DCIM_E_API_BAD_REQUEST', message: /given twice/ },
    { path: '/api/sites/demo/kpi?windw=1d', status: 400, code: 'DCIM_E_API_BAD_REQUEST', message: /unknown query parameter.*"windw"/ },
    { path: '/api/sites/demo/kpi?kpi=PUE', status: 400, code: 'DCIM_E_API_BAD_REQUEST', message: /snake_case/ },
    { path: '/api/sites?x=1', status: 400, code: 'DCIM_E_API_BAD_REQUEST', message: /unknown query parameter/ },
    { path: '/api/sites/other/kpi', status: 404, code: 'DCIM_E_API_NOT_FOUND', message: /no site "other"/ },
    { path: '/api/sites/%E0%A4%A/kpi', status: 404, code: 'DCIM_E_API_NOT_FOUND', message: /no site/ },
    { path: '/api/sites/DEMO/kpi', status: 404, code: 'DCIM_E_API_NOT_FOUND', message: /no site/ },
    { path: '/api/clusters/demo/kpi', status: 404, code: 'DCIM_E_API_NOT_FOUND', message: /no cluster/ },
    { path: '/api/sites/', status: 404, code: 'DCIM_E_API_NOT_FOUND', message: /no route/ },
    { path: `/api/sites?${'a'.repeat(3000)}`, status: 414, code: 'DCIM_E_API_TOO_LARGE', message: /longer than 2048/ },
  ])('$path → $status $code', async ({ path, status, code, message }) => {
    const r = await request(base, path);
    expect(r.status).toBe(status);
    expect(r.json().error).toMatchObject({ code, message: expect.stringMatching(message) });
  });

  it.each(['POST', 'PUT', 'DELETE', 'PATCH'])('%s → 405 with Allow', async (method) => {
    const r = await request(base, '/api/sites', { method });
    expect(r.status).toBe(405);
    expect(r.headers.allow).toBe('GET, HEAD');
    expect(r.json().error?.code).toBe('DCIM_E_API_METHOD');
  });

  it.each<[string, Record<string, string>]>([
    ['a declared length', { 'content-length': '100' }],
    ['a chunked body', { 'transfer-encoding': 'chunked' }],
  ])('refuses a request body (%s) with 413 and closes the connection', async (_name, headers) => {
    const r = await request(base, '/api/sites', { method: 'GET', body: 'x'.repeat(100), headers: { 'content-type': 'text/plain', ...headers } });
    expect(r.status).toBe(413);
    expect(r.headers.connection).toBe('close');
    expect(r.json().error?.code).toBe('DCIM_E_API_TOO_LARGE');
  });

  it('refuses headers above 16 KiB (node answers 431)', async () => {
    const r = await request(base, '/api/sites', { headers: { 'x-big': 'y'.repeat(20_000) } }).catch(() => ({ status: 431 }) as Reply);
    expect(r.status).toBe(431);
  });

  it('HEAD answers the headers of GET without a body', async () => {
    const get = await request(base, '/api/sites/demo/kpi');
    const head = await request(base, '/api/sites/demo/kpi', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.body).toBe('');
    expect(head.headers['content-length']).toBe(String(Buffer.byteLength(get.body)));
  });

  it('GET /metrics is Prometheus text with escaped labels and help', async () => {
    const r = await request(base, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(r.body).toBe('# HELP dcim_test_total a "test"\\ncounter\n# TYPE dcim_test_total counter\ndcim_test_total{site="de\\"mo\\\\x"} 3\n');
  });

  it('a failing source is a 500 with a code, logged, and the server keeps serving', async () => {
    sourceThrows = true;
    try {
      const r = await request(base, '/api/sites');
      expect(r.status).toBe(500);
      expect(r.json().error?.code).toBe('DCIM_E_API_INTERNAL');
      expect(r.body).not.toContain('boom');
    } finally {
      sourceThrows = false;
    }
    expect((await request(base, '/api/sites')).status).toBe(200);
  });
});

describe('CORS', () => {
  it('is off by default: no Access-Control headers, OPTIONS is not served', async () => {
    const r = await request(base, '/api/sites', { headers: { origin: 'https://grafana.example' } });
    expect(Object.keys(r.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    expect((await request(base, '/api/sites', { method: 'OPTIONS', token: null })).status).toBe(405);
  });

  it('allows exactly the configured origin, and answers its preflight without a token', async () => {
    const s = makeServer('https://grafana.example');
    const url = (await s.start()).url;
    try {
      const ok = await request(url, '/api/sites', { headers: { origin: 'https://grafana.example' } });
      expect(ok.headers['access-control-allow-origin']).toBe('https://grafana.example');
      const other = await request(url, '/api/sites', { headers: { origin: 'https://evil.example' } });
      expect(other.headers['access-control-allow-origin']).toBeUndefined();
      const pre = await request(url, '/api/sites', { method: 'OPTIONS', token: null, headers: { origin: 'https://grafana.example', 'access-control-request-method': 'GET' } });
      expect(pre.status).toBe(204);
      expect(pre.headers).toMatchObject({ 'access-control-allow-origin': 'https://grafana.example', 'access-control-allow-headers': 'Authorization', 'access-control-allow-methods': 'GET, HEAD' });
    } finally {
      await s.stop();
    }
  });
});

describe('connections', () => {
  /** A raw TCP connection that sends nothing; resolves `closed` when the server hangs up. */
  function idleSocket(url: string): Promise<{ socket: net.Socket; closed: Promise<void> }> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => resolve({ socket, closed }));
      // Flowing, so the server's FIN is read and 'close' follows (a paused socket may never see it).
      socket.resume();
      const closed = new Promise<void>((done) => socket.once('close', () => done()));
      socket.on('error', () => undefined);
      socket.once('error', reject);
    });
  }

  it('hangs up on a connection that never sends its headers', async () => {
    const s = new ApiServer({ host: '127.0.0.1', port: 0, token: new BearerToken(TOKEN), source, logger: memoryLogger(), headers_timeout_ms: 200 });
    const url = (await s.start()).url;
    try {
      const idle = await idleSocket(url);
      await idle.closed; // the test's own timeout fails it if the server never closes
      expect(idle.socket.destroyed).toBe(true);
      expect((await request(url, '/api/sites')).status).toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('drops connections beyond max_connections and counts them; a freed slot serves again', async () => {
    const logger = memoryLogger();
    const s = new ApiServer({ host: '127.0.0.1', port: 0, token: new BearerToken(TOKEN), source, logger, max_connections: 3 });
    const url = (await s.start()).url;
    const held = await Promise.all([idleSocket(url), idleSocket(url), idleSocket(url)]);
    try {
      const extra = await idleSocket(url);
      await extra.closed;
      expect(s.stats().connections_refused).toBe(1);
      expect(logger.lines.find((l) => l.msg === 'HTTP API connection refused: too many open')).toMatchObject({ code: 'DCIM_E_API_TOO_LARGE', max_connections: 3 });
      expect(held.every((h) => !h.socket.destroyed)).toBe(true);
      held[0]!.socket.destroy();
      await held[0]!.closed;
      // The server sees the close a moment after the client: retry until the freed slot answers.
      let status = 0;
      while (status !== 200) status = await request(url, '/api/sites').then((r) => r.status, () => 0);
      expect(status).toBe(200);
    } finally {
      for (const h of held) h.socket.destroy();
      await s.stop();
    }
  });
});

describe('refused tokens are not echoed', () => {
  it('a wrong token in /api/events?token= is neither in the 401 nor in the log line', async () => {
    const logger = memoryLogger();
    const s = new ApiServer({ host: '127.0.0.1', port: 0, token: new BearerToken(TOKEN), source, logger });
    const url = (await s.start()).url;
    try {
      const wrong = 'wrong-token-Qz7-0123456789abcdef';
      const r = await request(url, `/api/events?token=${wrong}`, { token: null });
      expect(r.status).toBe(401);
      expect(r.body).not.toContain(wrong);
      const line = logger.lines.find((l) => l.msg === 'HTTP API request refused: no or wrong bearer token');
      expect(line).toMatchObject({ code: 'DCIM_E_API_UNAUTHORIZED', path: '/api/events' });
      expect(JSON.stringify(logger.lines)).not.toContain(wrong);
    } finally {
      await s.stop();
    }
  });
});

describe('HTTPS (http.tls)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'dcim-api-tls-'));
  // A throwaway self-signed certificate for 127.0.0.1, made here so nothing secret is checked in.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=dcim-test', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  const cert = readFileSync(join(dir, 'cert.pem'));
  const key = readFileSync(join(dir, 'key.pem'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Resolves when the server has closed `socket`; fails naming it when that takes over `ms`. */
  function closedWithin(socket: net.Socket, ms: number, what: string | (() => string)): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`the server kept ${typeof what === 'string' ? what : what()} open for ${ms} ms`));
      }, ms);
      socket.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  function httpsGet(url: string, path: string, ca: Buffer): Promise<{ status: number; body: string; protocol: string }> {
    return new Promise((resolve, reject) => {
      const req = https.request(`${url}${path}`, { ca, agent: false, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), protocol: (res.socket as tls.TLSSocket).getProtocol?.() ?? '' }));
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('serves the API over TLS with the configured certificate; plain HTTP on that port gets no answer', async () => {
    const s = new ApiServer({ host: '127.0.0.1', port: 0, token: new BearerToken(TOKEN), source, logger: memoryLogger(), tls: { cert, key } });
    const { url } = await s.start();
    try {
      expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      const r = await httpsGet(url, '/api/sites', cert);
      expect(r.status).toBe(200);
      expect(r.protocol).toMatch(/^TLSv1\.[23]$/);
      expect(JSON.parse(r.body)).toMatchObject({ sites: [{ id: 'demo' }] });
      // A client that does not trust the certificate is refused by its own TLS check.
      await expect(httpsGet(url, '/api/sites', Buffer.from(''))).rejects.toThrow(/self[- ]signed|unable to verify|certificate/i);
      // Plain HTTP to the TLS port: no HTTP answer comes back.
      const plain = await request(url.replace('https:', 'http:'), '/api/sites').then((x) => x.status, () => 0);
      expect(plain).not.toBe(200);
    } finally {
      await s.stop();
    }
  });

  it('closes a connection that never starts the handshake, and one that never sends its headers after it', async () => {
    const s = new ApiServer({ host: '127.0.0.1', port: 0, token: new BearerToken(TOKEN), source, logger: memoryLogger(), tls: { cert, key }, headers_timeout_ms: 2_000 });
    const { port, url } = await s.start();
    try {
      const raw = net.connect(port, '127.0.0.1');
      raw.on('error', () => undefined);
      // Each wait is bounded well inside the test's own, so a failure names the step that hung.
      await closedWithin(raw, 30_000, 'a connection that never started the handshake');
      // The timeout covers the handshake too, so on a loaded machine the server may hang up
      // before the handshake is done: then that attempt proves nothing about a silent client
      // after the handshake, and the next one is made, until one completes it and is closed.
      const silentAfterHandshake = async (): Promise<boolean> => {
        const secure = tls.connect({ port, host: '127.0.0.1', ca: cert });
        let shook = false;
        secure.on('error', () => undefined);
        secure.once('secureConnect', () => (shook = true));
        await closedWithin(secure, 30_000, () => `a silent TLS connection (handshake ${shook ? 'done' : 'not done'})`);
        return shook;
      };
      let attempts = 0;
      await until('a TLS connection that completed its handshake and sent nothing is closed', async () => (++attempts, await silentAfterHandshake()), 60_000, () => `${attempts} attempts`, 0);
      expect((await httpsGet(url, '/api/sites', cert)).status).toBe(200);
    } finally {
      await s.stop();
    }
  });
});

describe('malformed request targets', () => {
  /** Raw HTTP/1.1, as a client that does not check its own request line would send it. */
  function rawGet(url: string, target: string): Promise<{ status: number; body: string }> {
    const { hostname, port } = new URL(url);
    return new Promise((resolve, reject) => {
      const socket = net.connect(Number(port), hostname, () => socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nConnection: close\r\n\r\n`));
      let data = '';
      socket.on('data', (b: Buffer) => (data += b.toString()));
      socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0), body: data.split('\r\n\r\n')[1] ?? '' }));
      socket.on('error', reject);
    });
  }

  it.each(['http://[::1/', 'http://a:b:c/', 'https://%zz/'])('%s (an absolute form no URL parser takes) is a 400 with a code, not a 500', async (target) => {
    const logger = memoryLogger();
    const s = new ApiServer({ host: '127.0.0.1', port: 0, token: new BearerToken(TOKEN), source, logger });
    const url = (await s.start()).url;
    try {
      const r = await rawGet(url, target);
      expect(r.status).toBe(400);
      expect(JSON.parse(r.body)).toEqual({ error: { code: 'DCIM_E_API_BAD_REQUEST', message: 'malformed request target' } });
      expect(s.stats().responses['5xx']).toBe(0);
      expect(logger.lines.filter((l) => l.level === 'error')).toEqual([]);
    } finally {
      await s.stop();
    }
  });
});
