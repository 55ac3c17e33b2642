import { z } from 'zod';
import { ID_PATTERN, NAME_PATTERN } from '../../contract/ids.js';
import { KpiWindowSchema, type KpiMessage, type KpiValue } from '../../contract/messages.js';
import type { ApiSource, HealthReport } from './api-source.js';
import type { BearerToken } from './bearer-token.js';
import { EXPOSITION_CONTENT_TYPE, formatExposition } from '../../shared/metrics/exposition.js';

/**
 * The HTTP API as a pure function: a parsed request in, a response out (status, headers, body).
 * api-server.ts is the node:http shell around it. Routes:
 *
 *   GET /healthz                  status of broker, store and KPI loop (200 ok, 503 degraded);
 *                                 without a token a short form, with it the store's target and reasons
 *   GET /api/sites                the sites and their state
 *   GET /api/sites/:id/kpi        every KPI of the site (?window=1d,1mo&kpi=pue filter)
 *   GET /api/sites/:id/devices    the site's devices: status, newest reading, stale or not
 *   GET /api/sites/:id/devices/:d the latest value of every point of a device, with its age
 *   GET /api/sites/:id/floor      per hall: IT power, hall PUE, racks (power, rated, inlet °C), cooling units
 *   GET /api/alerts               alerts (?site=&state=firing&severity=critical&rule=), firing first
 *   GET /api/alerts/:id           one alert
 *   GET /api/sites/:id/alerts     the site's alerts (same filters but site)
 *   GET /api/clusters             the clusters
 *   GET /api/clusters/:id/kpi     the cluster roll-ups (same filters)
 *   GET /api/bureau/sites         a bureau's sites: latest window, lateness, silence, refusals (bureau only)
 *   GET /metrics                  Prometheus text format
 *
 * Everything but /healthz needs `Authorization: Bearer <token>`. /healthz answers a load balancer
 * or a probe without one, but only with states: the store's URL, database and error texts name
 * hosts inside the site, so they need the token (a wrong token is a 401, as anywhere). The token is
 * checked before the
 * path, so an unauthenticated caller learns nothing about which sites exist. Errors are JSON
 * `{"error": {"code": "DCIM_E_API_…", "message": "…"}}`.
 */
export interface ApiRequest {
  method: string;
  /** The raw request target (path and query). */
  url: string;
  authorization?: string;
  origin?: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type ApiErrorCode = 'DCIM_E_API_UNAUTHORIZED' | 'DCIM_E_API_NOT_FOUND' | 'DCIM_E_API_BAD_REQUEST' | 'DCIM_E_API_METHOD' | 'DCIM_E_API_TOO_LARGE' | 'DCIM_E_API_INTERNAL';

export interface ApiRoutesOptions {
  source: ApiSource;
  token: BearerToken;
  /** Answer browser calls from this origin; absent: no CORS headers at all. */
  cors_origin?: string;
  /** Longest accepted request target. */
  max_url_bytes?: number;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const BASE_HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

/** A comma-separated list, each element checked; repeated parameters are refused by the parser. */
const listOf = <T extends z.ZodType>(item: T) =>
  z
    .string()
    .max(512)
    .transform((s, ctx) => {
      const parts = s.split(',').map((p) => p.trim()).filter((p) => p.length > 0);
      const out: z.infer<T>[] = [];
      for (const p of parts) {
        const r = item.safeParse(p);
        if (r.success) out.push(r.data as z.infer<T>);
        else ctx.addIssue({ code: 'custom', message: `${JSON.stringify(p.slice(0, 40))}: ${r.error.issues[0]?.message ?? 'invalid'}` });
      }
      return out;
    });

/** `?window=1d,1mo&kpi=pue,rack_occupancy_ratio` on the KPI routes. */
export const KpiQuerySchema = z
  .object({
    window: listOf(KpiWindowSchema).optional(),
    kpi: listOf(z.string().regex(NAME_PATTERN, 'expected a snake_case KPI name')).optional(),
  })
  .strict();
export type KpiQuery = z.infer<typeof KpiQuerySchema>;
const NoQuerySchema = z.object({}).strict();

/** `?state=firing&severity=critical&rule=…` on the alert routes (and `site` on /api/alerts). */
export const AlertQuerySchema = z
  .object({
    site: z.string().regex(ID_PATTERN, 'expected a site id').optional(),
    state: z.enum(['pending', 'firing', 'resolved']).optional(),
    severity: z.enum(['info', 'warning', 'critical']).optional(),
    rule: z.string().regex(ID_PATTERN, 'expected a rule id').optional(),
  })
  .strict();

export function apiError(status: number, code: ApiErrorCode, message: string, headers: Record<string, string> = {}): ApiResponse {
  return { status, headers: { ...BASE_HEADERS, 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify({ error: { code, message } }) };
}

function json(status: number, value: unknown): ApiResponse {
  return { status, headers: { ...BASE_HEADERS, 'content-type': JSON_TYPE }, body: JSON.stringify(value) };
}

/** Query string → plain object; a repeated parameter is an error (which one would win?). */
function queryObject(params: URLSearchParams): { ok: true; value: Record<string, string> } | { ok: false; message: string } {
  const out: Record<string, string> = {};
  for (const [k, v] of params) {
    if (k in out) return { ok: false, message: `query parameter ${JSON.stringify(k.slice(0, 40))} is given twice` };
    out[k] = v;
  }
  return { ok: true, value: out };
}

function parseQuery<S extends z.ZodType>(schema: S, params: URLSearchParams): { ok: true; value: z.infer<S> } | { ok: false; response: ApiResponse } {
  const q = queryObject(params);
  if (!q.ok) return { ok: false, response: apiError(400, 'DCIM_E_API_BAD_REQUEST', q.message) };
  const r = schema.safeParse(q.value);
  if (r.success) return { ok: true, value: r.data };
  const message = r.error.issues
    .slice(0, 5)
    .map((i) => (i.code === 'unrecognized_keys' ? `unknown query parameter(s) ${i.keys.map((k) => JSON.stringify(k.slice(0, 40))).join(', ')}` : `${i.path.join('.') || 'query'}: ${i.message}`))
    .join('; ');
  return { ok: false, response: apiError(400, 'DCIM_E_API_BAD_REQUEST', message) };
}

export function filterKpis(kpis: readonly KpiValue[], q: KpiQuery): KpiValue[] {
  const windows = q.window && q.window.length > 0 ? new Set<string>(q.window) : undefined;
  const names = q.kpi && q.kpi.length > 0 ? new Set(q.kpi) : undefined;
  return kpis.filter((k) => (!windows || windows.has(k.window)) && (!names || names.has(k.kpi)));
}

function kpiBody(scope: 'site' | 'cluster', msg: KpiMessage, q: KpiQuery) {
  return { [scope]: msg.site, ts: msg.ts, kpis: filterKpis(msg.kpis, q) };
}

export class ApiRoutes {
  constructor(private readonly opts: ApiRoutesOptions) {}

  handle(req: ApiRequest): ApiResponse {
    const res = this.route(req);
    const cors = this.corsHeaders(req);
    if (cors) Object.assign(res.headers, cors);
    res.headers['content-length'] = String(Buffer.byteLength(res.body));
    if (req.method === 'HEAD') return { ...res, body: '' };
    return res;
  }

  private corsHeaders(req: ApiRequest): Record<string, string> | undefined {
    const allowed = this.opts.cors_origin;
    if (!allowed) return undefined;
    if (req.origin !== allowed) return { vary: 'Origin' };
    return { 'access-control-allow-origin': allowed, vary: 'Origin' };
  }

  private route(req: ApiRequest): ApiResponse {
    if (Buffer.byteLength(req.url) > (this.opts.max_url_bytes ?? 2048)) return apiError(414, 'DCIM_E_API_TOO_LARGE', `request target longer than ${this.opts.max_url_bytes ?? 2048} bytes`);
    let url: URL;
    try {
      url = new URL(req.url, 'http://api.invalid');
    } catch {
      return apiError(400, 'DCIM_E_API_BAD_REQUEST', 'malformed request target');
    }
    const path = url.pathname;

    if (req.method === 'OPTIONS' && this.opts.cors_origin) {
      // CORS preflight: no credentials travel with it, so no auth here (Fetch standard).
      return { status: 204, headers: { ...BASE_HEADERS, 'access-control-allow-methods': 'GET, HEAD', 'access-control-allow-headers': 'Authorization', 'access-control-max-age': '600' }, body: '' };
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return apiError(405, 'DCIM_E_API_METHOD', `method ${req.method.slice(0, 16)} not allowed; the API is read-only`, { allow: 'GET, HEAD' });
    }

    const verdict = this.opts.token.check(req.authorization);
    if (path === '/healthz') {
      if (verdict === 'invalid') return unauthorized(verdict);
      const q = parseQuery(NoQuerySchema, url.searchParams);
      if (!q.ok) return q.response;
      const h = this.opts.source.health();
      return json(h.status === 'ok' ? 200 : 503, verdict === 'ok' ? h : shortHealth(h));
    }
    if (verdict !== 'ok') return unauthorized(verdict);

    if (path === '/metrics') {
      const q = parseQuery(NoQuerySchema, url.searchParams);
      if (!q.ok) return q.response;
      return { status: 200, headers: { ...BASE_HEADERS, 'content-type': EXPOSITION_CONTENT_TYPE }, body: formatExposition(this.opts.source.metrics()) };
    }
    if (path === '/api/sites' || path === '/api/clusters') {
      const q = parseQuery(NoQuerySchema, url.searchParams);
      if (!q.ok) return q.response;
      return path === '/api/sites' ? json(200, { sites: this.opts.source.sites() }) : json(200, { clusters: this.opts.source.clusters() });
    }
    if (path === '/api/bureau/sites' && this.opts.source.bureauSites) {
      const q = parseQuery(NoQuerySchema, url.searchParams);
      return q.ok ? json(200, { sites: this.opts.source.bureauSites() }) : q.response;
    }
    const a = /^\/api\/(?:alerts(?:\/([^/]+))?|sites\/([^/]+)\/alerts)$/.exec(path);
    if (a) return this.alertRoute(url, a[1], a[2]);
    const d = /^\/api\/sites\/([^/]+)\/devices(?:\/([^/]+))?$/.exec(path);
    if (d) {
      const site = safeDecode(d[1]!);
      const device = d[2] !== undefined ? safeDecode(d[2]) : undefined;
      const valid = (id: string | undefined) => id !== undefined && ID_PATTERN.test(id);
      const body = !valid(site) ? undefined : d[2] === undefined ? this.opts.source.devices(site!) : valid(device) ? this.opts.source.device(site!, device!) : undefined;
      if (!body) return apiError(404, 'DCIM_E_API_NOT_FOUND', d[2] === undefined ? `no site ${JSON.stringify((site ?? d[1]!).slice(0, 64))}` : `no device ${JSON.stringify((device ?? d[2]).slice(0, 64))} at site ${JSON.stringify((site ?? d[1]!).slice(0, 64))}`);
      const q = parseQuery(NoQuerySchema, url.searchParams);
      if (!q.ok) return q.response;
      return json(200, body);
    }
    const f = /^\/api\/sites\/([^/]+)\/floor$/.exec(path);
    if (f) {
      const site = safeDecode(f[1]!);
      const floor = site !== undefined && ID_PATTERN.test(site) ? this.opts.source.floor?.(site) : undefined;
      if (!floor) return apiError(404, 'DCIM_E_API_NOT_FOUND', `no floor view of site ${JSON.stringify((site ?? f[1]!).slice(0, 64))}`);
      const q = parseQuery(NoQuerySchema, url.searchParams);
      return q.ok ? json(200, floor) : q.response;
    }
    const m = /^\/api\/(sites|clusters)\/([^/]+)\/kpi$/.exec(path);
    if (m) {
      const scope = m[1] === 'sites' ? 'site' : 'cluster';
      const id = safeDecode(m[2]!);
      const msg = id !== undefined && ID_PATTERN.test(id) ? (scope === 'site' ? this.opts.source.siteKpis(id) : this.opts.source.clusterKpis(id)) : undefined;
      if (!msg) return apiError(404, 'DCIM_E_API_NOT_FOUND', `no ${scope} ${JSON.stringify((id ?? m[2]!).slice(0, 64))}`);
      const q = parseQuery(KpiQuerySchema, url.searchParams);
      if (!q.ok) return q.response;
      return json(200, kpiBody(scope, msg, q.value));
    }
    return apiError(404, 'DCIM_E_API_NOT_FOUND', `no route ${JSON.stringify(path.slice(0, 100))}; see /api/sites, /api/sites/<id>/kpi, /api/sites/<id>/devices, /api/sites/<id>/floor, /api/clusters, /api/clusters/<id>/kpi, /metrics, /healthz`);
  }

  /** /api/alerts, /api/alerts/:id, /api/sites/:site/alerts. */
  private alertRoute(url: URL, rawId: string | undefined, rawSite: string | undefined): ApiResponse {
    const src = this.opts.source;
    if (src.alerts({}) === undefined) return apiError(404, 'DCIM_E_API_NOT_FOUND', 'alerting is not configured on this collector');
    if (rawId !== undefined) {
      const id = safeDecode(rawId);
      const alert = id !== undefined && ID_PATTERN.test(id) ? src.alert(id) : undefined;
      if (!alert) return apiError(404, 'DCIM_E_API_NOT_FOUND', `no alert ${JSON.stringify((id ?? rawId).slice(0, 64))}`);
      const q = parseQuery(NoQuerySchema, url.searchParams);
      return q.ok ? json(200, { alert }) : q.response;
    }
    const site = rawSite === undefined ? undefined : safeDecode(rawSite);
    if (rawSite !== undefined && (site === undefined || !ID_PATTERN.test(site) || src.siteKpis(site) === undefined)) {
      return apiError(404, 'DCIM_E_API_NOT_FOUND', `no site ${JSON.stringify((site ?? rawSite).slice(0, 64))}`);
    }
    const q = parseQuery(site === undefined ? AlertQuerySchema : AlertQuerySchema.omit({ site: true }), url.searchParams);
    if (!q.ok) return q.response;
    const filter = { ...q.value, ...(site !== undefined ? { site } : {}) };
    return json(200, { alerts: src.alerts(filter) ?? [] });
  }
}

/** RFC 6750 §3: no error code when no credentials were sent, invalid_token when they were wrong; the token is never echoed. */
function unauthorized(verdict: 'missing' | 'invalid'): ApiResponse {
  const challenge = verdict === 'missing' ? 'Bearer realm="dcim"' : 'Bearer realm="dcim", error="invalid_token"';
  return apiError(401, 'DCIM_E_API_UNAUTHORIZED', verdict === 'missing' ? 'an Authorization: Bearer <token> header is required' : 'the bearer token is not valid', { 'www-authenticate': challenge });
}

/** /healthz without a token: states and counts only, nothing that names a host, a database or an error text. */
export function shortHealth(h: HealthReport): ShortHealthReport {
  const problems: string[] = [];
  if (!h.broker.connected) problems.push('broker not connected');
  if (h.store.state !== 'ok') problems.push(`store ${h.store.state}`);
  if (h.kpi.late) problems.push('KPI evaluation late');
  return {
    status: h.status,
    broker: { connected: h.broker.connected },
    store: { state: h.store.state, reachable: h.store.reachable, pending_points: h.store.pending_points },
    kpi: { age_ms: h.kpi.age_ms, late: h.kpi.late },
    problems,
    details: 'send Authorization: Bearer <token> for the store target and the reasons',
  };
}

export interface ShortHealthReport {
  status: HealthReport['status'];
  broker: { connected: boolean };
  store: Pick<HealthReport['store'], 'state' | 'reachable' | 'pending_points'>;
  kpi: Pick<HealthReport['kpi'], 'age_ms' | 'late'>;
  problems: string[];
  details: string;
}

/** decodeURIComponent, or undefined for a malformed %-escape (a 400, never a 500). */
export function safeDecode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}
