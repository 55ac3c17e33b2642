import { createHash } from 'node:crypto';
import { SystemClock, type Clock, type TimerHandle } from '../../contract/clock.js';
import type { ErrorCode } from '../../contract/errors.js';
import { kpiKey } from '../../contract/kpi-catalogue.js';
import type { Cluster } from '../../contract/inventory.js';
import { createLogger, type Logger } from '../../shared/log.js';
import type { AlertMessage, KpiMessage, KpiValue } from '../../contract/messages.js';
import type { SiteSummary, SUMMARY_WINDOWS } from '../../contract/summary.js';
import { topics } from '../../contract/topics.js';
import type { AlertRecord } from '../alerts/alert-record.js';
import type { AlertFilter } from '../alerts/index.js';
import { AlertDispatcher, type NotifierStats } from '../alerts/notifiers/dispatcher.js';
import type { Notifier } from '../alerts/notifiers/notifier.js';
import { SummarySiteSource, type PutOutcome, type SummarySiteSourceOptions } from '../federation/summary-source.js';
import { summaryPoint } from '../federation/summary-points.js';
import type { StoredSummaries } from '../federation/summary-store.js';
import { ApiServer } from '../http/api-server.js';
import type { ApiSource, ClusterSummary, HealthReport, SiteSummary as ApiSiteSummary } from '../http/api-source.js';
import { BearerToken } from '../http/bearer-token.js';
import { MqttSubscriber, type MqttSubscriberOptions } from '../ingest/subscriber.js';
import { DAY_MS, QUARTER_MS } from '../../shared/time/site-calendar.js';
import { clusterKpis, pastWindowKpis, siteKpis } from '../kpi/site-kpis.js';
import { settledEdge } from '../kpi/windows.js';
import { LogThrottle } from '../log-throttle.js';
import { kpiPoint } from '../store/kpi-points.js';
import type { MetricPoint } from '../store/metric-point.js';
import type { MetricSink } from '../store/metric-sink.js';
import { bureauMetricFamilies } from './bureau-metrics.js';
import { checkSummary } from './summary-checks.js';

/**
 * The bureau's collector (docs/bureau.md): it takes the KPI summaries many sites publish, never
 * their raw telemetry, and evaluates every site and cluster with the functions a site collector
 * uses (`siteKpis`, `clusterKpis` over a `SummarySiteSource` per site).
 *
 *   MQTT dcim/v1/+/summary/+ ─▶ checks (schema, topic, site, bounds, sums, clock) ─▶ site source
 *   (revisions in order) ─▶ summary point ─▶ sink;   each tick: the sites that took a summary
 *   (all of them when a quarter hour closed) and their clusters re-evaluated ─▶ KPI points whose
 *   content changed ─▶ sink;  sites silent for `silent_after_windows` quarter hours alerted.
 *
 * A refused summary changes nothing: it is counted by its code and logged (throttled per code).
 */
export interface BureauOptions {
  id: string;
  clusters: readonly Cluster[];
  mqtt: { url: string; username?: string; password?: string; clientId?: string; tls?: MqttSubscriberOptions['tls'] };
  sink: MetricSink;
  clock?: Clock;
  logger?: Logger;
  /** Re-evaluation period (default 15 s): summaries arriving within one tick cost one roll-up. */
  tickMs?: number;
  /** The same settle time the site collectors use, so a window is judged when they judge it. */
  settleMs?: number;
  /** Late summaries revise 15m/1h/1d KPI points this many days back (default 3). */
  lateDays?: number;
  /** Quarter hours without any summary before a site is alerted silent. */
  silentAfterWindows: number;
  /** Future tolerance for window ends and generation times (ms). */
  maxSkewMs: number;
  /** Where the bureau's own stored summaries are read back at start; absent: it starts empty. */
  stored?: StoredSummaries;
  sourceOptions?: SummarySiteSourceOptions;
  http?: { host: string; port: number; token: string; cors_origin?: string; max_connections?: number; tls?: { cert: Buffer; key: Buffer } };
  /** The collector's alert notifiers (Alertmanager, webhooks, group robots, MQTT) for the silence alerts; absent: none. */
  notifiers?: readonly Notifier[];
  /** A silence notification not delivered within this long is given up (default a day). */
  alertExpireMs?: number;
}

/** What the bureau knows of one site beyond its summaries (GET /api/bureau/sites). */
export interface BureauSiteState {
  site: string;
  clusters: string[];
  timezone: string | null;
  /** End of the newest window held, ms; null before the first summary. */
  newest_window_end: number | null;
  /** When the last summary of the site was accepted (the bureau's clock), ms. */
  last_received_ms: number | null;
  /** How long after its window's end the last accepted quarter hour arrived, ms. */
  last_lag_ms: number | null;
  /** Bureau clock − newest window end, ms. */
  age_ms: number | null;
  silent: boolean;
  silent_since_ms: number | null;
  held: Record<(typeof SUMMARY_WINDOWS)[number], number>;
  accepted: Record<'stored' | 'revised' | 'unchanged', number>;
  refused: Partial<Record<ErrorCode, number>>;
}

export interface BureauStats {
  summaries_received: number;
  summaries_stored: number;
  summaries_revised: number;
  summaries_unchanged: number;
  summaries_refused: number;
  /** Summaries read back from the store at start. */
  summaries_restored: number;
  ticks: number;
  site_evaluations: number;
  cluster_evaluations: number;
  kpi_points_written: number;
  points_to_store: number;
  handler_errors: number;
  log_lines_suppressed: number;
  sites_silent: number;
  /** Duration of the last tick's roll-up, ms. */
  last_tick_ms: number;
  refused_by_code: Partial<Record<ErrorCode, number>>;
  /** Silence notifications by notifier (the collector's dispatcher figures). */
  notifiers?: Record<string, NotifierStats>;
}

interface SiteEntry {
  source: SummarySiteSource | undefined;
  clusters: string[];
  /** Earliest window start accepted since the last tick: late summaries re-evaluate windows from there. */
  dirtyFrom: number | undefined;
  lastReceived: number | undefined;
  lastLag: number | undefined;
  accepted: Record<'stored' | 'revised' | 'unchanged', number>;
  refused: Partial<Record<ErrorCode, number>>;
  silentSince: number | undefined;
  /** The last silence episode, kept after it resolves so /api/alerts and the notifiers have it. */
  alert: AlertRecord | undefined;
  latest: KpiMessage | undefined;
}

const SILENT_PREFIX = 'site_silent-';
/** Days of quarter-hour and hour summaries read back at start (the sources keep 4 by default). */
export const RESTORED_QUARTER_DAYS = 4;

export class Bureau {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly throttle: LogThrottle;
  private readonly sites = new Map<string, SiteEntry>();
  private readonly clusters: ReadonlyMap<string, Cluster>;
  private readonly clusterLatest = new Map<string, KpiMessage>();
  /** Signature of the last KPI point written per (scope, kpi, window, basis, window end). */
  private readonly written = new Map<string, string>();
  private readonly counters = {
    summaries_received: 0,
    summaries_stored: 0,
    summaries_revised: 0,
    summaries_unchanged: 0,
    summaries_refused: 0,
    summaries_restored: 0,
    ticks: 0,
    site_evaluations: 0,
    cluster_evaluations: 0,
    kpi_points_written: 0,
    points_to_store: 0,
    handler_errors: 0,
    last_tick_ms: 0,
  };
  private readonly refusedByCode: Partial<Record<ErrorCode, number>> = {};
  private subscriber: MqttSubscriber | undefined;
  private api: ApiServer | undefined;
  private apiUrl: string | undefined;
  private timer: TimerHandle | undefined;
  private lastEdge: number | undefined;
  private lastTickAt: number | null = null;
  private startedAt: number;
  private readonly dispatcher: AlertDispatcher | undefined;

  constructor(private readonly opts: BureauOptions) {
    this.clock = opts.clock ?? new SystemClock();
    this.logger = opts.logger ?? createLogger({ base: { component: 'bureau', bureau: opts.id } });
    this.throttle = new LogThrottle(() => this.clock.now());
    this.clusters = new Map(opts.clusters.map((c) => [c.id, c]));
    for (const c of opts.clusters) {
      for (const site of c.sites) {
        const e = this.sites.get(site) ?? this.newEntry();
        e.clusters.push(c.id);
        this.sites.set(site, e);
      }
    }
    this.startedAt = this.clock.now();
    // The collector's dispatcher: retries, back-off, expiry and Alertmanager re-sends, per notifier.
    if (opts.notifiers && opts.notifiers.length > 0) {
      this.dispatcher = new AlertDispatcher({
        clock: this.clock,
        logger: this.logger.child({ component: 'alerts' }),
        notifiers: opts.notifiers,
        records: () => [...this.sites.values()].flatMap((e) => (e.alert ? [e.alert] : [])),
        markDelivered: (id, notifier, version) => {
          const r = this.sites.get(id.slice(SILENT_PREFIX.length))?.alert;
          if (r && r.id === id) r.delivered[notifier] = Math.max(r.delivered[notifier] ?? 0, version);
        },
        expire_ms: opts.alertExpireMs ?? 86_400_000,
      });
    }
  }

  private newEntry(): SiteEntry {
    return { source: undefined, clusters: [], dirtyFrom: undefined, lastReceived: undefined, lastLag: undefined, accepted: { stored: 0, revised: 0, unchanged: 0 }, refused: {}, silentSince: undefined, alert: undefined, latest: undefined };
  }

  private get tickMs(): number {
    return this.opts.tickMs ?? 15_000;
  }

  private get settleMs(): number {
    return this.opts.settleMs ?? 60_000;
  }

  /** Reads its stored summaries back (when it has a store reader), starts the API and the tick, then subscribes. */
  async start(): Promise<void> {
    if (this.subscriber) throw new Error('bureau already started');
    const token = this.opts.http ? new BearerToken(this.opts.http.token) : undefined;
    this.opts.sink.start?.();
    this.startedAt = this.clock.now();
    await this.restore();
    if (this.opts.http && token) {
      const h = this.opts.http;
      this.api = new ApiServer({ host: h.host, port: h.port, token, ...(h.cors_origin ? { cors_origin: h.cors_origin } : {}), ...(h.max_connections !== undefined ? { max_connections: h.max_connections } : {}), ...(h.tls ? { tls: h.tls } : {}), source: this.apiSource(), logger: this.logger.child({ component: 'http' }), now: () => this.clock.now() });
      this.apiUrl = (await this.api.start()).url;
    }
    this.scheduleTick();
    this.dispatcher?.start();
    const m = this.opts.mqtt;
    this.subscriber = new MqttSubscriber({
      url: m.url,
      client_id: m.clientId ?? `dcim-bureau-${this.opts.id}`,
      ...(m.username !== undefined ? { username: m.username } : {}),
      ...(m.password !== undefined ? { password: m.password } : {}),
      ...(m.tls ? { tls: m.tls } : {}),
      sites: [],
      filters: [topics.filters.summary()],
      on_message: (topic, payload) => this.ingest(topic, payload),
      logger: this.logger.child({ component: 'mqtt' }),
    });
    await this.subscriber.start();
    this.logger.info('bureau started', { sites: this.sites.size, clusters: [...this.clusters.keys()], restored: this.counters.summaries_restored, ...(this.apiUrl ? { api: this.apiUrl } : {}) });
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    await this.api?.stop();
    this.api = undefined;
    // Before the subscriber: an MQTT alert publish in flight gets its PUBACK.
    await this.dispatcher?.stop();
    await this.subscriber?.stop();
    this.subscriber = undefined;
    await this.opts.sink.flush();
  }

  /** The retained alert topic on the bureau broker, for the MQTT alert notifier; null clears it. */
  publishAlert(site: string, alert_id: string, msg: AlertMessage | null): Promise<void> {
    const sub = this.subscriber;
    if (!sub) return Promise.reject(new Error('the bureau is not connected to its broker'));
    return sub.publishAlert(site, alert_id, msg);
  }

  get httpUrl(): string | undefined {
    return this.apiUrl;
  }

  /**
   * Every site's summaries as the store holds them: months and days as far back as the sources
   * keep them, hours and quarter hours for the late-data days. Taken without the ingest checks:
   * they passed them when they arrived.
   */
  private async restore(): Promise<void> {
    const stored = this.opts.stored;
    if (!stored) return;
    const now = this.clock.now();
    const back: Record<(typeof SUMMARY_WINDOWS)[number], number> = { '1mo': 26 * 31 * DAY_MS, '1d': 400 * DAY_MS, '1h': RESTORED_QUARTER_DAYS * DAY_MS, '15m': RESTORED_QUARTER_DAYS * DAY_MS };
    for (const [site, e] of this.sites) {
      for (const w of ['1mo', '1d', '1h', '15m'] as const) {
        for (const s of await stored.summaries(site, w, now - back[w], now + 1)) {
          e.source ??= new SummarySiteSource(site, s.timezone, this.opts.sourceOptions);
          if (s.timezone !== e.source.timezone) continue;
          e.source.put(s);
          this.counters.summaries_restored++;
        }
      }
      if (e.source) e.dirtyFrom = Number.NEGATIVE_INFINITY;
    }
    if (stored.skipped > 0) this.logger.warn('stored summaries that do not parse were skipped', { skipped: stored.skipped });
  }

  /** One MQTT message in; public so tests and the benchmark can feed messages without a broker. */
  ingest(topic: string, payload: Uint8Array): void {
    this.counters.summaries_received++;
    try {
      const now = this.clock.now();
      const v = checkSummary(topic, payload, { known: this.sites, timezoneOf: (site) => this.sites.get(site)?.source?.timezone, now_ms: now, max_skew_ms: this.opts.maxSkewMs });
      if (!v.ok) return this.refuse(v.code, v.reason, topic, v.site);
      const s = v.summary;
      const e = this.sites.get(s.site)!;
      e.source ??= new SummarySiteSource(s.site, s.timezone, this.opts.sourceOptions);
      const outcome = e.source.put(s);
      if (outcome === 'stale') return this.refuse('DCIM_E_SUMMARY_STALE_REVISION', `revision ${s.revision} of ${s.window} ${new Date(s.window_start).toISOString()}: the bureau holds revision ${e.source.revisionOf(s.window, s.window_start)}`, topic, s.site);
      this.accepted(e, s, outcome, now);
    } catch (e) {
      this.counters.handler_errors++;
      this.logger.error('summary handler failed', { topic: topic.slice(0, 200), error: e as Error });
    }
  }

  private accepted(e: SiteEntry, s: SiteSummary, outcome: Exclude<PutOutcome, 'stale'>, now: number): void {
    e.accepted[outcome]++;
    this.counters[`summaries_${outcome}`]++;
    e.lastReceived = now;
    if (s.window === '15m') e.lastLag = now - s.window_end;
    if (outcome === 'unchanged') return;
    e.dirtyFrom = Math.min(e.dirtyFrom ?? Number.POSITIVE_INFINITY, s.window_start);
    this.writePoints([summaryPoint(s)]);
  }

  private refuse(code: ErrorCode, reason: string, topic: string, site: string | undefined): void {
    this.counters.summaries_refused++;
    this.refusedByCode[code] = (this.refusedByCode[code] ?? 0) + 1;
    const e = site !== undefined ? this.sites.get(site) : undefined;
    if (e) e.refused[code] = (e.refused[code] ?? 0) + 1;
    // One line per code and period: the sender chooses topics and reasons.
    const allowed = this.throttle.allow(`refused:${code}`);
    if (allowed) this.logger.warn('site summary refused', { code, topic: topic.slice(0, 200), reason, ...(allowed.suppressed > 0 ? { suppressed: allowed.suppressed } : {}) });
  }

  private scheduleTick(): void {
    const now = this.clock.now();
    const next = (Math.floor(now / this.tickMs) + 1) * this.tickMs;
    this.timer = this.clock.setTimeout(() => {
      try {
        this.tick(next);
      } catch (e) {
        this.counters.handler_errors++;
        this.logger.error('bureau roll-up failed', { error: e as Error });
      }
      this.scheduleTick();
    }, next - now);
  }

  /**
   * One roll-up at `at_ms`: the sites that took a summary since the last tick (every site with
   * summaries when a quarter hour closed, since every current window moved), then the clusters
   * holding any of them; KPI points written when their content changed; silence checked.
   */
  tick(at_ms: number): void {
    const t0 = performance.now();
    this.counters.ticks++;
    this.lastTickAt = at_ms;
    const edge = settledEdge(at_ms, this.settleMs);
    const moved = edge !== this.lastEdge;
    this.lastEdge = edge;
    const clustersDue = new Set<string>();
    for (const [site, e] of this.sites) {
      if (!e.source || (!moved && e.dirtyFrom === undefined)) continue;
      this.counters.site_evaluations++;
      const kpis = siteKpis(e.source, at_ms, this.settleMs);
      e.latest = { schema: 1, site, ts: at_ms, kpis };
      const late = e.dirtyFrom !== undefined && Number.isFinite(e.dirtyFrom) ? pastWindowKpis(e.source, e.dirtyFrom, edge, this.opts.lateDays ?? 3) : [];
      e.dirtyFrom = undefined;
      this.writeKpis(site, [...kpis, ...late]);
      for (const c of e.clusters) clustersDue.add(c);
    }
    for (const id of clustersDue) {
      const c = this.clusters.get(id)!;
      const hosted: SummarySiteSource[] = [];
      const absent: string[] = [];
      for (const s of c.sites) {
        const src = this.sites.get(s)?.source;
        if (src) hosted.push(src);
        else absent.push(s);
      }
      this.counters.cluster_evaluations++;
      const kpis = clusterKpis(c, hosted, absent, at_ms, this.settleMs);
      this.clusterLatest.set(id, { schema: 1, site: id, ts: at_ms, kpis });
      this.writeKpis(id, kpis);
    }
    this.checkSilence(at_ms);
    this.counters.last_tick_ms = performance.now() - t0;
  }

  /** A KPI point per value whose content differs from the last one written for its window. */
  private writeKpis(scope: string, kpis: readonly KpiValue[]): void {
    const points: MetricPoint[] = [];
    for (const k of kpis) {
      const id = `${scope}|${kpiKey(k)}|${k.window_end}`;
      // A digest, not the JSON: 500 sites hold some 140,000 of these.
      const sig = createHash('sha1').update(JSON.stringify(k)).digest('base64');
      if (this.written.get(id) === sig) continue;
      this.written.set(id, sig);
      points.push(kpiPoint(scope, k));
    }
    // Windows long closed are not revised here any more: forget their signatures.
    if (this.written.size > 200_000) this.written.clear();
    this.counters.kpi_points_written += points.length;
    this.writePoints(points);
  }

  private writePoints(points: MetricPoint[]): void {
    if (points.length === 0) return;
    this.counters.points_to_store += points.length;
    this.opts.sink.write(points);
  }

  /**
   * A site with no window newer than `silent_after_windows` quarter hours before now (or, never
   * heard of since start, that long after the start) is silent until a summary moves its newest
   * window forward again. Each transition is logged once.
   */
  private checkSilence(now: number): void {
    const limit = this.opts.silentAfterWindows * QUARTER_MS;
    let changed = false;
    for (const [site, e] of this.sites) {
      const reference = e.source?.newest_window_end ?? this.startedAt;
      const silent = now - reference >= limit;
      const quarters = Math.floor((now - reference) / QUARTER_MS);
      if (silent && e.silentSince === undefined) {
        e.silentSince = reference + limit;
        e.alert = this.silenceRecord(site, e, 'firing', now, quarters);
        changed = true;
        this.logger.warn('site silent: no summary for the allowed quarter hours', { code: 'DCIM_E_SITE_SILENT', site, newest_window_end: e.source?.newest_window_end ?? null, silent_after_windows: this.opts.silentAfterWindows });
      } else if (!silent && e.silentSince !== undefined) {
        e.alert = this.silenceRecord(site, e, 'resolved', now, quarters);
        e.silentSince = undefined;
        changed = true;
        this.logger.info('site reports again', { code: 'DCIM_E_SITE_SILENT', site, newest_window_end: e.source?.newest_window_end ?? null });
      } else if (e.alert?.state === 'firing') {
        e.alert.value = quarters;
        e.alert.updated_at = now;
      }
    }
    if (changed) this.dispatcher?.kick();
  }

  /** A silence episode as the collector's alert record (what its notifiers deliver); each transition a new version. */
  private silenceRecord(site: string, e: SiteEntry, state: 'firing' | 'resolved', now: number, quarters: number): AlertRecord {
    const prev = e.alert;
    const newest = e.source?.newest_window_end;
    return {
      id: `${SILENT_PREFIX}${site}`,
      rule: 'site_silent',
      name: 'SiteSilent',
      severity: 'warning',
      // Alertmanager routes on labels alone: the name and severity travel as labels, as the rule engine's do.
      labels: { alertname: 'SiteSilent', severity: 'warning', site, code: 'DCIM_E_SITE_SILENT', bureau: this.opts.id, clusters: e.clusters.join(',') },
      state,
      pending_since: null,
      starts_at: e.silentSince!,
      ends_at: state === 'resolved' ? now : null,
      value: quarters,
      summary: `site ${site} has sent no summary for ${this.opts.silentAfterWindows} quarter hours (newest window ends ${newest !== undefined ? new Date(newest).toISOString() : 'never'})`,
      description: `No site summary moved the newest window forward for bureau.silent_after_windows = ${this.opts.silentAfterWindows} quarter hours: the site's uplink, its broker bridge or its collector is down. Its figures lose coverage until it reports again.`,
      runbook: null,
      runbook_url: null,
      inhibited: false,
      last_event_at: null,
      version: (prev?.version ?? 0) + 1,
      changed_at: now,
      delivered: prev?.delivered ?? {},
      updated_at: now,
    };
  }

  /** A record as the API's alert message. */
  private alertMessage(site: string, r: AlertRecord): AlertMessage {
    return {
      schema: 1,
      id: r.id,
      site,
      rule: r.rule,
      name: r.name,
      severity: r.severity,
      state: r.state,
      labels: r.labels,
      summary: r.summary,
      description: r.description,
      ...(r.value !== null ? { value: r.value } : {}),
      ...(r.starts_at !== null ? { starts_at: r.starts_at } : {}),
      ...(r.ends_at !== null ? { ends_at: r.ends_at } : {}),
      ts: r.updated_at,
    };
  }

  stats(): BureauStats {
    return {
      ...this.counters,
      log_lines_suppressed: this.throttle.suppressed,
      sites_silent: [...this.sites.values()].filter((e) => e.silentSince !== undefined).length,
      refused_by_code: { ...this.refusedByCode },
      ...(this.dispatcher ? { notifiers: this.dispatcher.stats() } : {}),
    };
  }

  /** The source the bureau holds for a site (tests, the benchmark). */
  siteSource(site: string): SummarySiteSource | undefined {
    return this.sites.get(site)?.source;
  }

  latestSiteKpi(site: string): KpiMessage | undefined {
    return this.sites.get(site)?.latest;
  }

  latestClusterKpi(cluster: string): KpiMessage | undefined {
    return this.clusterLatest.get(cluster);
  }

  siteStates(): BureauSiteState[] {
    const now = this.clock.now();
    return [...this.sites].map(([site, e]) => {
      const newest = e.source?.newest_window_end;
      return {
        site,
        clusters: e.clusters,
        timezone: e.source?.timezone ?? null,
        newest_window_end: newest ?? null,
        last_received_ms: e.lastReceived ?? null,
        last_lag_ms: e.lastLag ?? null,
        age_ms: newest !== undefined ? now - newest : null,
        silent: e.silentSince !== undefined,
        silent_since_ms: e.silentSince ?? null,
        held: e.source?.counts() ?? { '15m': 0, '1h': 0, '1d': 0, '1mo': 0 },
        accepted: { ...e.accepted },
        refused: { ...e.refused },
      };
    });
  }

  alerts(filter: AlertFilter = {}): AlertMessage[] {
    const out: AlertMessage[] = [];
    for (const [site, e] of this.sites) {
      if (!e.alert) continue;
      const a = this.alertMessage(site, e.alert);
      if (filter.site !== undefined && a.site !== filter.site) continue;
      if (filter.state !== undefined && a.state !== filter.state) continue;
      if (filter.severity !== undefined && a.severity !== filter.severity) continue;
      if (filter.rule !== undefined && a.rule !== filter.rule) continue;
      out.push(a);
    }
    return out.sort((a, b) => (a.state === b.state ? a.site.localeCompare(b.site) : a.state === 'firing' ? -1 : 1));
  }

  health(): HealthReport {
    const now = this.clock.now();
    const store = { ...this.opts.sink.health(), pending_points: this.opts.sink.stats().pending };
    const connected = this.subscriber?.connected ?? false;
    const age = this.lastTickAt === null ? null : Math.max(0, now - this.lastTickAt);
    const late = this.subscriber !== undefined && age !== null && age > 3 * this.tickMs;
    const problems: string[] = [];
    if (!connected) problems.push('broker not connected');
    if (store.state !== 'ok') problems.push(`store ${store.state}: ${store.reason ?? store.last_error ?? 'unknown error'}`);
    if (late) problems.push(`no roll-up for ${Math.round((age ?? 0) / 1000)} s`);
    return { status: problems.length === 0 ? 'ok' : 'degraded', broker: { connected }, store, kpi: { last_evaluation_ms: this.lastTickAt, age_ms: age, interval_ms: this.tickMs, late }, problems };
  }

  private apiSource(): ApiSource {
    const empty = (id: string): KpiMessage => ({ schema: 1, site: id, ts: this.clock.now(), kpis: [] });
    return {
      sites: () =>
        [...this.sites].map(([site, e]): ApiSiteSummary => {
          const src = e.source;
          return {
            id: site,
            name: site,
            timezone: src?.timezone ?? 'UTC',
            ...(e.clusters[0] !== undefined ? { cluster: e.clusters[0] } : {}),
            targets: src?.targets ?? this.clusters.get(e.clusters[0]!)!.targets,
            // A bureau holds no inventory: halls, racks and devices are the site collector's to tell.
            halls: 0,
            racks: 0,
            devices: 0,
            devices_down: 0,
            devices_degraded: 0,
            agents: [],
            kpi_ts: e.latest?.ts ?? null,
          };
        }),
      siteKpis: (id) => {
        const e = this.sites.get(id);
        return e ? (e.latest ?? empty(id)) : undefined;
      },
      devices: () => undefined,
      device: () => undefined,
      alerts: (filter) => this.alerts(filter),
      alert: (id) => this.alerts().find((a) => a.id === id),
      clusters: () =>
        [...this.clusters.values()].map(
          (c): ClusterSummary => ({
            id: c.id,
            name: c.name,
            // The roll-up's windows are those of its first site with summaries (clusterKpis).
            timezone: c.sites.map((s) => this.sites.get(s)?.source?.timezone).find((tz) => tz !== undefined) ?? 'UTC',
            targets: c.targets,
            sites: c.sites,
            kpi_ts: this.clusterLatest.get(c.id)?.ts ?? null,
          }),
        ),
      clusterKpis: (id) => (this.clusters.has(id) ? (this.clusterLatest.get(id) ?? empty(id)) : undefined),
      health: () => this.health(),
      bureauSites: () => this.siteStates(),
      metrics: () =>
        bureauMetricFamilies({
          bureau: this.opts.id,
          stats: this.stats(),
          sink: this.opts.sink.stats(),
          health: this.health(),
          sites: this.siteStates(),
          ...(this.api ? { http: this.api.stats() } : {}),
          kpis: [
            ...[...this.sites].flatMap(([id, e]) => (e.latest ? [{ scope: id, kind: 'site' as const, message: e.latest }] : [])),
            ...[...this.clusterLatest].map(([id, message]) => ({ scope: id, kind: 'cluster' as const, message })),
          ],
        }),
    };
  }
}
