import type http from 'node:http';
import type { KpiMessage } from '../../contract/messages.js';
import { safeDecode } from '../http/api-routes.js';
import type { ApiSource } from '../http/api-source.js';
import type { BearerToken } from '../http/bearer-token.js';
import { KpiHistory } from './kpi-history.js';
import { livePageHtml } from './live-page.js';

/**
 * The live page's server side, mounted in front of the JSON API by api-server.ts:
 *
 *   GET / and /live                     the page (HTML with its CSS and JS inline: no CDN, works offline); public,
 *                                       it holds no data
 *   GET /api/events                     server-sent events: `kpi` per site/cluster KPI message, `alert` with the
 *                                       firing alerts when they change (`configured: false` when the collector
 *                                       has no alert engine: "no alerts" would be a lie), `floor` per site every
 *                                       floor_ms (halls, racks, inlet temperatures, cooling); a `: ping` comment
 *                                       every 15 s. `alert` and `floor` carry the server's `ts`, so the page
 *                                       counts alert ages on the collector's clock, not the wall screen's.
 *   GET /api/sites/:id/series?kpi=&hours=  (and /api/clusters/:id/series) the in-memory trend of an instant KPI
 *   GET /api/sites/:id/series?kpi=pue&window=1d&days=  the daily figures (pue, rack_occupancy_ratio,
 *                                       green_share_ratio) of the last days, one per closed day (the bureau view)
 *
 * Auth: the data routes need the API token. EventSource cannot send headers, so /api/events also
 * accepts `?token=`; it is checked by the same BearerToken (SHA-256 then timingSafeEqual: constant
 * time). A token in a URL can reach access logs, so the page uses it only for the event stream.
 * The handler polls the ApiSource (it never reaches into the collector) every poll_ms and pushes
 * what changed.
 */
export interface LiveHandlerOptions {
  source: ApiSource;
  token: BearerToken;
  now: () => number;
  /** How often the source is read for new KPI messages and alerts. */
  poll_ms?: number;
  /** How long the trends reach back. */
  history_ms?: number;
  /** Most simultaneous event streams (each is an open connection). */
  max_streams?: number;
  /** How often the floor view (racks, temperatures, cooling) is pushed while a stream is open. */
  floor_ms?: number;
}

export interface LiveHandlerStats {
  streams_open: number;
  streams_refused: number;
  events_sent: number;
  /** Floor views that could not be built (the stream goes on without them). */
  floor_errors: number;
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  // Everything is inline and same-origin: nothing else may load or run.
  'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'",
};
const ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const KPI = /^[a-z][a-z0-9_]{0,62}$/;
const MAX_HOURS = 24;
const MAX_DAYS = 90;
const DAY_MS = 86_400_000;

type Scope = 'site' | 'cluster';

export class LiveHandler {
  private readonly streams = new Set<http.ServerResponse>();
  private readonly sent = new Map<string, number>();
  private alertSignature = '';
  private alertsJson = '';
  private timer: NodeJS.Timeout | undefined;
  private ticks = 0;
  private readonly history: KpiHistory;
  private readonly counters = { streams_refused: 0, events_sent: 0, floor_errors: 0 };
  private readonly page: string;

  constructor(private readonly opts: LiveHandlerOptions) {
    this.history = new KpiHistory({ keep_ms: opts.history_ms ?? 6 * 3_600_000, min_step_ms: 5_000 });
    // A bureau's source reports its sites' lateness: the page opens on the bureau view.
    this.page = livePageHtml({ bureau: typeof opts.source.bureauSites === 'function' });
  }

  start(): void {
    if (this.timer) return;
    this.poll();
    this.timer = setInterval(() => this.poll(), this.opts.poll_ms ?? 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    for (const res of this.streams) res.end();
    this.streams.clear();
  }

  stats(): LiveHandlerStats {
    return { streams_open: this.streams.size, ...this.counters };
  }

  /** true when the request was one of the live routes (and is answered); false: not ours. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://x');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    if (path === '/' || path === '/live') {
      if (method !== 'GET' && method !== 'HEAD') return false;
      res.writeHead(200, { ...PAGE_HEADERS, 'content-length': String(Buffer.byteLength(this.page)) });
      res.end(method === 'HEAD' ? undefined : this.page);
      return true;
    }
    if (path === '/api/events' && method === 'GET') {
      const q = url.searchParams.get('token');
      const header = req.headers.authorization ?? (q !== null ? `Bearer ${q}` : undefined);
      if (this.opts.token.check(header) !== 'ok') return false; // the API answers 401 as for any route
      this.openStream(req, res);
      return true;
    }
    const m = /^\/api\/(sites|clusters)\/([^/]+)\/series$/.exec(path);
    if (m && method === 'GET') {
      if (this.opts.token.check(req.headers.authorization) !== 'ok') return false;
      this.answerSeries(m[1] === 'sites' ? 'site' : 'cluster', safeDecode(m[2]!), url.searchParams, res);
      return true;
    }
    return false;
  }

  /** `id` undefined: the path's %-escapes do not decode (a client error, not the server's). */
  private answerSeries(scope: Scope, id: string | undefined, params: URLSearchParams, res: http.ServerResponse): void {
    const window = params.get('window') ?? 'instant';
    const daily = window === '1d';
    const kpi = params.get('kpi') ?? (daily ? 'pue' : 'pue_live');
    const hours = Number(params.get('hours') ?? '6');
    const days = Number(params.get('days') ?? '14');
    const known = scope === 'site' ? this.opts.source.sites().some((s) => s.id === id) : this.opts.source.clusters().some((c) => c.id === id);
    let status = 200;
    let body: unknown;
    if (id === undefined) {
      status = 400;
      body = { error: { code: 'DCIM_E_API_BAD_REQUEST', message: `malformed %-escape in the ${scope} id` } };
    } else if (!ID.test(id) || !known) {
      status = 404;
      body = { error: { code: 'DCIM_E_API_NOT_FOUND', message: `no ${scope} ${JSON.stringify(id.slice(0, 64))}` } };
    } else if (daily) {
      if (!KPI.test(kpi) || !Number.isInteger(days) || days <= 0 || days > MAX_DAYS) {
        status = 400;
        body = { error: { code: 'DCIM_E_API_BAD_REQUEST', message: `expected ?kpi=<snake_case name>&window=1d&days=<1..${MAX_DAYS}>` } };
      } else {
        const since = this.opts.now() - days * DAY_MS;
        body = { [scope]: id, kpi, window: '1d', source: 'memory', samples: this.history.dailySeries(scope, id, kpi, since) };
      }
    } else if (window !== 'instant' || !KPI.test(kpi) || !Number.isFinite(hours) || hours <= 0 || hours > MAX_HOURS) {
      status = 400;
      body = { error: { code: 'DCIM_E_API_BAD_REQUEST', message: `expected ?kpi=<snake_case name>&hours=<0..${MAX_HOURS}> or ?kpi=<name>&window=1d&days=<1..${MAX_DAYS}>` } };
    } else {
      const since = this.opts.now() - hours * 3_600_000;
      body = { [scope]: id, kpi, window: 'instant', source: 'memory', samples: this.history.series(scope, id, kpi, since) };
    }
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  }

  private openStream(req: http.IncomingMessage, res: http.ServerResponse): void {
    if (this.streams.size >= (this.opts.max_streams ?? 32)) {
      this.counters.streams_refused++;
      res.writeHead(503, { 'content-type': 'application/json; charset=utf-8', 'retry-after': '10' });
      res.end(JSON.stringify({ error: { code: 'DCIM_E_API_TOO_LARGE', message: 'too many live streams open' } }));
      return;
    }
    // The server's per-request timeout would cut a stream after 10 s; a stream lives until the client leaves.
    req.socket.setTimeout(0);
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff', connection: 'keep-alive' });
    res.write('retry: 3000\n\n');
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
    // A new stream gets the current state at once, not at the next change.
    for (const [scope, msg] of this.currentMessages()) this.write(res, 'kpi', JSON.stringify({ scope, ...msg }));
    if (this.alertsJson) this.write(res, 'alert', this.alertsJsonNow());
    for (const floor of this.floors()) this.write(res, 'floor', floor);
  }

  /** The alert event with the server's current time (ages are counted from it). */
  private alertsJsonNow(): string {
    return `${this.alertsJson.slice(0, -1)},"ts":${this.opts.now()}}`;
  }

  private floors(): string[] {
    const floor = this.opts.source.floor;
    if (!floor) return [];
    const out: string[] = [];
    for (const s of this.opts.source.sites()) {
      // Runs on a timer: a failure must not end the process, only this site's floor event.
      try {
        const f = floor.call(this.opts.source, s.id);
        if (f) out.push(JSON.stringify(f));
      } catch {
        this.counters.floor_errors++;
      }
    }
    return out;
  }

  private currentMessages(): [Scope, KpiMessage][] {
    const out: [Scope, KpiMessage][] = [];
    for (const s of this.opts.source.sites()) {
      const m = this.opts.source.siteKpis(s.id);
      if (m && m.kpis.length > 0) out.push(['site', m]);
    }
    for (const c of this.opts.source.clusters()) {
      const m = this.opts.source.clusterKpis(c.id);
      if (m && m.kpis.length > 0) out.push(['cluster', m]);
    }
    return out;
  }

  private poll(): void {
    this.ticks++;
    for (const [scope, msg] of this.currentMessages()) {
      const key = `${scope}/${msg.site}`;
      if (this.sent.get(key) === msg.ts) continue;
      this.sent.set(key, msg.ts);
      this.history.record(scope, msg);
      this.broadcast('kpi', JSON.stringify({ scope, ...msg }));
    }
    const firing = this.opts.source.alerts({ state: 'firing' });
    const alerts = firing ?? [];
    const signature = firing === undefined ? 'off' : alerts.map((a) => `${a.id}:${a.state}:${a.starts_at ?? ''}`).join(',');
    if (signature !== this.alertSignature) {
      this.alertSignature = signature;
      this.alertsJson = JSON.stringify({ configured: firing !== undefined, alerts });
      this.broadcast('alert', this.alertsJsonNow());
    }
    const floorEvery = Math.max(1, Math.round((this.opts.floor_ms ?? 5000) / (this.opts.poll_ms ?? 1000)));
    if (this.streams.size > 0 && this.ticks % floorEvery === 0) for (const floor of this.floors()) this.broadcast('floor', floor);
    if (this.ticks % 15 === 0) for (const res of this.streams) res.write(': ping\n\n');
  }

  private broadcast(event: string, data: string): void {
    for (const res of this.streams) this.write(res, event, data);
  }

  private write(res: http.ServerResponse, event: string, data: string): void {
    // JSON.stringify never emits a raw newline, so the data is one `data:` line.
    res.write(`event: ${event}\ndata: ${data}\n\n`);
    this.counters.events_sent++;
  }
}
