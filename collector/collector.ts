import { SystemClock, type Clock, type TimerHandle } from '../contract/clock.js';
import type { ErrorCode } from '../contract/errors.js';
import type { Cluster, SiteInventory } from '../contract/inventory.js';
import { createLogger, type Logger } from '../shared/log.js';
import type { AgentState, DeviceStatus, KpiMessage, KpiValue } from '../contract/messages.js';
import type { DeviceProfile } from '../contract/profile.js';
import { parseTopic } from '../contract/topics.js';
import type { AlertEngine, AlertMessage, AlertStats } from './alerts/index.js';
import { ApiServer, type ApiServerStats } from './http/api-server.js';
import type { ApiSource, HealthReport } from './http/api-source.js';
import { collectorApiSource } from './http/collector-view.js';
import { BearerToken } from './http/bearer-token.js';
import { collectorMetricFamilies } from './http/collector-metrics.js';
import type { DecodeFailure } from './ingest/decode-failure.js';
import { decodeState, type DecodedState } from './ingest/decode-status.js';
import { MqttSubscriber, type MqttSubscriberOptions } from './ingest/subscriber.js';
import { TelemetryGate, type GateVerdict } from './ingest/telemetry-gate.js';
import { Ownership } from './ingest/ownership.js';
import { SummaryPublisher, type SummaryPublisherStats } from './federation/summary-publisher.js';
import type { RestoreReport } from './federation/restore.js';
import { DEFAULT_ENGINE_CONFIG, KpiEngine, type KpiEngineConfig, type KpiEngineStats } from './kpi-engine.js';
import { DAY_MS } from '../shared/time/site-calendar.js';
import { LogThrottle } from './log-throttle.js';
import { LatestValues } from './state/latest-values.js';
import { SeqDedup } from './state/seq-dedup.js';
import { buildSiteRegistry, type SiteEntry } from './state/site-registry.js';
import { DEFAULT_ON_RACK } from './kpi/site-model.js';
import { kpiPoint } from './store/kpi-points.js';
import type { MetricSink, SinkStats } from './store/metric-sink.js';
import { readingPoints } from './store/reading-points.js';
import { agentHealthPoint, deviceStatusPoint } from './store/state-points.js';

/**
 * The collector's composition root: it builds every part once and wires them.
 *
 *   MQTT ─▶ subscriber ─▶ decode ─▶ inventory check ─▶ (agent, seq) dedup ─┬▶ latest values
 *                                                                          ├▶ KPI engine (ledger, windows)
 *                                                                          └▶ raw points ─▶ sink
 *   every kpiIntervalMs (aligned to the wall clock, so active-active collectors evaluate the same
 *   instants): engine.evaluate per site and cluster; live figures and the windows engine.takeClosed
 *   reports new or revised ─▶ KPI points stamped at window end ─▶ sink;  ─▶ retained dcim/v1/<site|cluster>/kpi (on change, at least every
 *   publishEveryMs);  ─▶ onKpi;  the HTTP API reads the same latest messages.
 *   Site summaries for the bureau (closed windows, new or revised) ─▶ sink and retained
 *   dcim/v1/<site>/summary/<window>, pending until acknowledged (federation/summary-publisher.ts).
 *
 * Bad input is counted, logged (throttled) and dropped; nothing in the message path may stop the
 * collector.
 */
export interface CollectorOptions {
  id: string;
  inventories: readonly SiteInventory[];
  /** Roll-ups over sets of sites; each published on dcim/v1/<cluster-id>/kpi. */
  clusters?: readonly Cluster[];
  /** `accept_legacy_topics`: also read the old device topics without an agent (a migration switch, default off). */
  mqtt: { url: string; username?: string; password?: string; clientId?: string; tls?: MqttSubscriberOptions['tls']; accept_legacy_topics?: boolean };
  sink: MetricSink;
  clock?: Clock;
  logger?: Logger;
  kpiIntervalMs?: number;
  /** The retained KPI message is republished at least this often even when nothing changed (default 60 s). */
  publishEveryMs?: number;
  /** Device profiles: each meter's power and energy points, each device's class. */
  profiles?: ReadonlyMap<string, DeviceProfile>;
  /** KPI options (settle time, late window, on-rack rule); ignored when `engine` is given. */
  kpi?: Partial<KpiEngineConfig>;
  /** A ready engine (tests, recompute); default: built from inventories, profiles, clusters and `kpi`. */
  engine?: KpiEngine;
  /** Alerting (collector/alerts); absent: no alerts. */
  alerts?: AlertEngine;
  /** The HTTP API; absent: none. */
  http?: { host: string; port: number; token: string; cors_origin?: string; max_connections?: number; tls?: { cert: Buffer; key: Buffer } };
  onKpi?: (msg: KpiMessage) => void;
  /** `publish_summaries` (default true): publish and store each site's closed-window summaries for a bureau. */
  federation?: { publish_summaries?: boolean };
  /** Rebuilds the engine's history from the store at start (federation/restore.ts); resolves undefined when it could not. */
  restore?: (engine: KpiEngine, now_ms: number) => Promise<RestoreReport | undefined>;
}

export interface CollectorStats {
  messages_received: number;
  /** Messages refused whole (bad topic, too large, not JSON, bad envelope, topic/payload mismatch). */
  messages_invalid: number;
  /** Valid messages from a site or device the inventory does not know. */
  messages_unknown: number;
  /** Telemetry already seen (same agent and seq), including replays older than the dedup window. */
  duplicates: number;
  /** Of `duplicates`: replays below the dedup window's floor. */
  replays_too_old: number;
  readings_accepted: number;
  /** Readings dropped one by one from otherwise valid messages. */
  readings_invalid: number;
  /** Readings older than the latest value of their series (late or replayed data): stored, not live. */
  readings_late: number;
  states_received: number;
  /** Points handed to the sink (raw readings, states, KPIs, alerts); what it stored is `sink.points_written`. */
  points_to_store: number;
  kpi_evaluations: number;
  /** KPI points handed to the sink: live figures every tick, closed windows when new or revised. */
  kpi_points_written: number;
  kpi_published: number;
  kpi_publish_errors: number;
  /** KPI publishes skipped because the previous one for the site had not been acknowledged. */
  kpi_publish_skipped: number;
  /** Exceptions caught in the message path (a bug, never bad input). */
  handler_errors: number;
  /** Telemetry seqs refused as further ahead than the agent could have polled (DCIM_E_SEQ_IMPLAUSIBLE). */
  seq_implausible: number;
  /** Seq leaps believed once because the agent announced a new birth (bd_seq). */
  seq_rebased: number;
  /** New agent ids refused by a full per-site bound (dedup or agent-state map, DCIM_E_AGENT_LIMIT). */
  agents_refused: number;
  /** Silent agents forgotten by the dedup to make room. */
  agents_evicted: number;
  /** Readings refused because their device had no room for another series (DCIM_E_READING_SERIES_LIMIT). */
  series_refused: number;
  /** Idle index values forgotten to make room for a new one. */
  series_forgotten: number;
  /** New series the latest-value table refused because it was full. */
  latest_refused: number;
  /** Log lines held back by the throttle (every occurrence is still counted by its code). */
  log_lines_suppressed: number;
  /** New series or agents the alert engine did not keep (its bounds reached). */
  alert_observations_refused: number;
  invalid_by_code: Partial<Record<ErrorCode, number>>;
  sink: SinkStats;
  engine: KpiEngineStats;
  alerts?: AlertStats;
  http?: ApiServerStats;
  /** Site summaries for the bureau; absent when publishing them is off. */
  summaries?: SummaryPublisherStats;
}

type TrustCounters = 'seq_implausible' | 'seq_rebased' | 'agents_refused' | 'agents_evicted' | 'series_refused' | 'series_forgotten' | 'latest_refused' | 'log_lines_suppressed' | 'alert_observations_refused';
type Counters = Omit<CollectorStats, 'sink' | 'invalid_by_code' | 'engine' | 'alerts' | 'http' | 'summaries' | TrustCounters>;

/** Agents a site may have in the agent-state map: each polls at least one of its devices. */
const maxSiteAgents = (site: SiteEntry): number => Math.max(4, site.devices.size);

/** A message's content without the evaluation instant, to tell whether anything changed. */
function kpiSignature(kpis: readonly KpiValue[]): string {
  return JSON.stringify(kpis.map((k) => (k.window === 'instant' ? { ...k, window_start: 0, window_end: 0 } : k)));
}

interface Scope {
  id: string;
  kind: 'site' | 'cluster';
  latest: KpiMessage | undefined;
  publishedSignature: string | undefined;
  publishedAt: number;
}

export class Collector {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly sites: Map<string, SiteEntry>;
  private readonly clusters: ReadonlyMap<string, Cluster>;
  private readonly engine: KpiEngine;
  private readonly latest = new LatestValues();
  private readonly gate: TelemetryGate;
  private readonly throttle: LogThrottle;
  private readonly counters: Counters = {
    messages_received: 0,
    messages_invalid: 0,
    messages_unknown: 0,
    duplicates: 0,
    replays_too_old: 0,
    readings_accepted: 0,
    readings_invalid: 0,
    readings_late: 0,
    states_received: 0,
    points_to_store: 0,
    kpi_evaluations: 0,
    kpi_points_written: 0,
    kpi_published: 0,
    kpi_publish_errors: 0,
    kpi_publish_skipped: 0,
    handler_errors: 0,
  };
  private readonly invalidByCode: Partial<Record<ErrorCode, number>> = {};
  private agentStatesRefused = 0;
  private readonly scopes = new Map<string, Scope>();
  private readonly publishing = new Set<string>();
  private readonly deviceStatus = new Map<string, Map<string, DeviceStatus>>();
  private readonly agentState = new Map<string, Map<string, AgentState>>();
  private readonly ownership: Ownership;
  private readonly summaries: SummaryPublisher | undefined;
  private subscriber: MqttSubscriber | undefined;
  private api: ApiServer | undefined;
  private apiUrl: string | undefined;
  private timer: TimerHandle | undefined;
  private lastEvaluationMs: number | null = null;

  constructor(private readonly opts: CollectorOptions) {
    this.clock = opts.clock ?? new SystemClock();
    this.logger = opts.logger ?? createLogger({ base: { component: 'collector', collector: opts.id } });
    this.throttle = new LogThrottle(() => this.clock.now());
    this.sites = buildSiteRegistry(opts.inventories, opts.profiles);
    // Nothing older than the day buckets keep can count: such a stamp is a clock reset or a forgery.
    this.ownership = new Ownership(this.sites, { accept_legacy_topics: opts.mqtt.accept_legacy_topics ?? false });
    this.gate = new TelemetryGate(this.sites, new SeqDedup(), (opts.kpi?.day_retention ?? DEFAULT_ENGINE_CONFIG.day_retention) * DAY_MS, this.ownership);
    this.clusters = new Map((opts.clusters ?? []).map((c) => [c.id, c]));
    this.engine = opts.engine ?? KpiEngine.create({ inventories: opts.inventories, profiles: opts.profiles ?? new Map(), clusters: opts.clusters ?? [], ...(opts.kpi ? { config: opts.kpi } : {}) });
    for (const id of this.sites.keys()) this.scopes.set(`site:${id}`, { id, kind: 'site', latest: undefined, publishedSignature: undefined, publishedAt: Number.NEGATIVE_INFINITY });
    for (const id of this.clusters.keys()) this.scopes.set(`cluster:${id}`, { id, kind: 'cluster', latest: undefined, publishedSignature: undefined, publishedAt: Number.NEGATIVE_INFINITY });
    this.summaries = opts.federation?.publish_summaries === false ? undefined : this.summaryPublisher();
  }

  private summaryPublisher(): SummaryPublisher {
    const engine = this.engine;
    return new SummaryPublisher({
      sources: [...this.sites.keys()].flatMap((id) => engine.siteSource(id) ?? []),
      settle_ms: engine.settle_ms,
      late_days: this.opts.kpi?.late_days ?? DEFAULT_ENGINE_CONFIG.late_days,
      publish: (s) => {
        const sub = this.subscriber;
        return sub ? sub.publishSummary(s) : Promise.reject(new Error('the collector is not connected to the broker'));
      },
      write: (points) => this.writePoints(points),
      // Keyed by kind: a broker refusing one site's summaries refuses them every tick.
      onRefused: (s, e) => this.logThrottled('summary-publish', 'warn', 'site summary publish failed; kept pending, retried next tick', { site: s.site, window: s.window, window_start: s.window_start, revision: s.revision, error: e as Error }),
    });
  }

  private get intervalMs(): number {
    return this.opts.kpiIntervalMs ?? 5000;
  }

  /**
   * Opens the sink (its spool, with what a previous run left), starts the HTTP API and the KPI
   * loop, then connects; resolves once subscribed. A bad spool directory, a weak API token or a
   * port in use fails here, before anything runs.
   */
  async start(): Promise<void> {
    if (this.subscriber) throw new Error('collector already started');
    // Checked first: a weak token fails before any file is opened or port bound.
    const token = this.opts.http ? new BearerToken(this.opts.http.token) : undefined;
    this.opts.sink.start?.();
    try {
      // Loads the alert state file before anything is observed, so a restart neither re-fires nor forgets.
      this.opts.alerts?.start();
      if (this.opts.http && token) {
        const h = this.opts.http;
        this.api = new ApiServer({ host: h.host, port: h.port, token, ...(h.cors_origin ? { cors_origin: h.cors_origin } : {}), ...(h.max_connections !== undefined ? { max_connections: h.max_connections } : {}), ...(h.tls ? { tls: h.tls } : {}), source: this.apiSource(), logger: this.logger.child({ component: 'http' }), now: () => this.clock.now() });
        this.apiUrl = (await this.api.start()).url;
      }
    } catch (e) {
      // A port in use: undo what started, so the caller only has the sink to close.
      await this.api?.stop();
      this.api = undefined;
      await this.opts.alerts?.stop();
      throw e;
    }
    // Before the first tick and before telemetry: the month and year windows resume from the store, and what it holds is not sent again.
    const restored = await this.opts.restore?.(this.engine, this.clock.now());
    if (restored) this.summaries?.remember(restored.recent);
    this.scheduleTick();
    const m = this.opts.mqtt;
    this.subscriber = new MqttSubscriber({
      url: m.url,
      client_id: m.clientId ?? `dcim-collector-${this.opts.id}`,
      ...(m.username !== undefined ? { username: m.username } : {}),
      ...(m.password !== undefined ? { password: m.password } : {}),
      ...(m.tls ? { tls: m.tls } : {}),
      sites: [...this.sites.keys()],
      legacy_topics: this.ownership.acceptsLegacyTopics,
      on_message: (topic, payload) => this.ingest(topic, payload),
      logger: this.logger.child({ component: 'mqtt' }),
    });
    const open = this.ownership.openSites();
    if (open.length > 0) this.logger.warn('sites name no device owners: any agent may speak for their devices (set site.agent or devices[].agent)', { code: 'DCIM_E_SITE_OPEN', sites: open });
    await this.subscriber.start();
    this.logger.info('collector started', { sites: [...this.sites.keys()], clusters: [...this.clusters.keys()], kpi_interval_ms: this.intervalMs, ...(this.apiUrl ? { api: this.apiUrl } : {}) });
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    await this.api?.stop();
    this.api = undefined;
    // Before the subscriber: retained alert clears still in flight get their PUBACK.
    await this.opts.alerts?.stop();
    await this.subscriber?.stop();
    this.subscriber = undefined;
    await this.opts.sink.flush();
  }

  /** The HTTP API's base URL once started (port 0 resolved), else undefined. */
  get httpUrl(): string | undefined {
    return this.apiUrl;
  }

  stats(): CollectorStats {
    return {
      ...this.counters,
      ...this.trustCounters(),
      invalid_by_code: { ...this.invalidByCode },
      sink: this.opts.sink.stats(),
      engine: this.engine.stats(),
      ...(this.opts.alerts ? { alerts: this.opts.alerts.stats() } : {}),
      ...(this.api ? { http: this.api.stats() } : {}),
      ...(this.summaries ? { summaries: this.summaries.stats() } : {}),
    };
  }

  latestKpi(site: string): KpiMessage | undefined {
    return this.scopes.get(`site:${site}`)?.latest;
  }

  latestClusterKpi(cluster: string): KpiMessage | undefined {
    return this.scopes.get(`cluster:${cluster}`)?.latest;
  }

  deviceStatuses(site: string): ReadonlyMap<string, DeviceStatus> {
    return this.deviceStatus.get(site) ?? new Map();
  }

  agentStates(site: string): ReadonlyMap<string, AgentState> {
    return this.agentState.get(site) ?? new Map();
  }

  /** One MQTT message in. Public so tests and tools can feed messages without a broker. */
  ingest(topic: string, payload: Uint8Array): void {
    this.counters.messages_received++;
    try {
      const parsed = parseTopic(topic);
      if (parsed?.kind === 'telemetry') {
        this.onTelemetry(this.gate.check(topic, payload, this.clock.now(), parsed), topic);
      } else {
        const r = decodeState(topic, payload);
        const owned = r.ok ? this.ownership.state(r.value) : r;
        if (!owned.ok) this.onInvalid(topic, owned.reason);
        else if (r.ok) this.onState(r.value);
      }
    } catch (e) {
      this.counters.handler_errors++;
      this.logger.error('message handler failed', { topic: topic.slice(0, 200), error: e as Error });
    }
  }

  /**
   * Evaluate every site's and cluster's KPIs for the aligned instant `at_ms`: write the points of
   * windows that are new or changed, publish the retained message when it changed (or is due),
   * hand it to `onKpi`.
   */
  evaluateKpis(at_ms: number): void {
    this.lastEvaluationMs = at_ms;
    for (const scope of this.scopes.values()) {
      this.counters.kpi_evaluations++;
      const kpis = scope.kind === 'site' ? this.engine.evaluate(scope.id, at_ms) : this.engine.evaluateCluster(scope.id, at_ms);
      const msg: KpiMessage = { schema: 1, site: scope.id, ts: at_ms, kpis };
      scope.latest = msg;
      if (scope.kind === 'site') this.observeForAlerts(scope.id, kpis);
      // Live figures are written every tick, stamped at the evaluation instant.
      this.writeKpis(scope.id, kpis.filter((k) => k.window === 'instant'));
      this.publish(scope, msg, at_ms);
      try {
        this.opts.onKpi?.(msg);
      } catch (e) {
        this.logger.error('onKpi callback failed', { site: scope.id, error: e as Error });
      }
    }
    // Closed windows that are new or changed (late data revises past 15m/1h/1d windows), stamped at their end.
    for (const c of this.engine.takeClosed(at_ms)) this.writeKpis(c.id, [c.value]);
    if (this.summaries && this.subscriber) {
      try {
        this.summaries.tick(at_ms);
      } catch (e) {
        this.counters.handler_errors++;
        this.logger.error('site summaries failed', { error: e as Error });
      }
    }
    const alerts = this.opts.alerts;
    if (alerts) {
      try {
        this.writePoints(alerts.evaluate(at_ms).points);
      } catch (e) {
        this.counters.handler_errors++;
        this.logger.error('alert evaluation failed', { error: e as Error });
      }
    }
  }

  /** What the alert rules watch at each tick: the site's KPIs and its meters' counter events. */
  private observeForAlerts(site: string, kpis: readonly KpiValue[]): void {
    const alerts = this.opts.alerts;
    if (!alerts) return;
    alerts.observeKpis(site, kpis);
    alerts.observeMeterEvents(site, this.engine.meterEvents(site));
  }

  /** The retained alert topic (docs/design.md §2), for the alert engine's MQTT notifier; null clears it. */
  publishAlert(site: string, alert_id: string, msg: AlertMessage | null): Promise<void> {
    const sub = this.subscriber;
    if (!sub) return Promise.reject(new Error('the collector is not connected to the broker'));
    return sub.publishAlert(site, alert_id, msg);
  }

  private writeKpis(scope: string, kpis: readonly KpiValue[]): void {
    if (kpis.length === 0) return;
    this.counters.kpi_points_written += kpis.length;
    this.writePoints(kpis.map((k) => kpiPoint(scope, k)));
  }

  private scheduleTick(): void {
    const now = this.clock.now();
    const next = (Math.floor(now / this.intervalMs) + 1) * this.intervalMs;
    this.timer = this.clock.setTimeout(() => {
      try {
        this.evaluateKpis(next);
      } catch (e) {
        this.counters.handler_errors++;
        this.logger.error('KPI evaluation failed', { error: e as Error });
      }
      this.scheduleTick();
    }, next - now);
  }

  private publish(scope: Scope, msg: KpiMessage, now: number): void {
    const sub = this.subscriber;
    if (!sub) return;
    const signature = kpiSignature(msg.kpis);
    if (signature === scope.publishedSignature && now - scope.publishedAt < (this.opts.publishEveryMs ?? 60_000)) return;
    // Retained: only the newest matters, so never queue a second one behind an unacknowledged one.
    if (this.publishing.has(scope.id)) {
      this.counters.kpi_publish_skipped++;
      return;
    }
    this.publishing.add(scope.id);
    sub
      .publishKpi(msg)
      .then(
        () => {
          this.counters.kpi_published++;
          scope.publishedSignature = signature;
          scope.publishedAt = now;
        },
        (e: unknown) => {
          this.counters.kpi_publish_errors++;
          this.logThrottled('kpi-publish', 'warn', 'KPI publish failed', { site: msg.site, error: e as Error });
        },
      )
      .finally(() => this.publishing.delete(scope.id));
  }

  private writePoints(points: Parameters<MetricSink['write']>[0]): void {
    if (points.length === 0) return;
    this.counters.points_to_store += points.length;
    this.opts.sink.write(points);
  }

  private onInvalid(topic: string, f: DecodeFailure): void {
    this.counters.messages_invalid++;
    this.invalidByCode[f.code] = (this.invalidByCode[f.code] ?? 0) + 1;
    // Keyed by the kind of problem only: topics, ids and reasons are the sender's to vary.
    this.logThrottled(`invalid:${f.code}`, 'warn', 'MQTT message refused', { code: f.code, topic: topic.slice(0, 200), reason: f.reason });
  }

  private onUnknown(site: string, what: string): void {
    this.counters.messages_unknown++;
    this.logThrottled(`unknown:${this.sites.has(site) ? 'device' : 'site'}`, 'warn', 'message from outside the inventory ignored', { site, source: what });
  }

  private trustCounters(): Pick<CollectorStats, TrustCounters> {
    const { seq, series } = this.gate.stats();
    return {
      seq_implausible: seq.implausible,
      seq_rebased: seq.rebased,
      agents_refused: seq.agents_refused + this.agentStatesRefused,
      agents_evicted: seq.agents_evicted,
      series_refused: series.refused,
      series_forgotten: series.forgotten,
      latest_refused: this.latest.refused,
      log_lines_suppressed: this.throttle.suppressed,
      alert_observations_refused: this.opts.alerts?.stats().observations_refused ?? 0,
    };
  }

  private onTelemetry(v: GateVerdict, topic: string): void {
    if (v.kind === 'invalid') return this.onInvalid(topic, v.failure);
    if (v.kind === 'unknown') return this.onUnknown(v.site, v.what);
    if (v.kind === 'duplicate') {
      this.counters.duplicates++;
      if (v.too_old) {
        this.counters.replays_too_old++;
        this.logThrottled('too-old', 'warn', 'replayed telemetry older than the dedup window dropped', { agent: v.agent, seq: v.seq });
      }
      return;
    }
    const { message: m, device, dropped } = v;
    if (dropped.length > 0) {
      this.counters.readings_invalid += dropped.length;
      const codes = new Set<ErrorCode>();
      for (const d of dropped) {
        this.invalidByCode[d.code] = (this.invalidByCode[d.code] ?? 0) + 1;
        codes.add(d.code);
      }
      // One line per kind of problem and episode, whichever device or agent sends it.
      for (const code of codes) {
        const some = dropped.filter((d) => d.code === code);
        this.logThrottled(`readings:${code}`, 'warn', 'invalid readings dropped', {
          code,
          site: m.site,
          device: m.device,
          agent: m.agent,
          dropped: some.length,
          reasons: some.slice(0, 3).map((d) => `readings[${d.index}]${d.point ? ` ${d.point}` : ''}: ${d.reason}`),
        });
      }
    }
    this.counters.readings_late += this.latest.updatePoll(m.site, m.device, m.readings, m.ts);
    this.counters.readings_accepted += m.readings.length;
    // Only new (agent, seq) reach the engine: a redelivery or replay never books energy twice.
    this.engine.ingest(m.site, m.device, m.ts, m.readings);
    this.summaries?.touched(m.site);
    this.opts.alerts?.observeTelemetry(m);
    this.writePoints(readingPoints(m, device.tags));
  }

  /** Makes room in a site's full agent map by forgetting an agent whose last state said offline. */
  private forgetOfflineAgent(agents: Map<string, AgentState>): boolean {
    for (const [id, st] of agents) {
      if (st.online) continue;
      agents.delete(id);
      return true;
    }
    return false;
  }

  private onState(s: DecodedState): void {
    if (s.kind === 'cleared') return;
    this.counters.states_received++;
    const site = this.sites.get(s.site);
    if (!site) return this.onUnknown(s.site, s.kind);
    if (s.kind === 'agent_state') {
      let agents = this.agentState.get(s.site);
      if (!agents) this.agentState.set(s.site, (agents = new Map()));
      if (!agents.has(s.agent) && agents.size >= maxSiteAgents(site) && !this.forgetOfflineAgent(agents)) {
        this.agentStatesRefused++;
        return this.onInvalid(`agents/${s.agent}/state`, { code: 'DCIM_E_AGENT_LIMIT', reason: `site ${s.site} already has ${agents.size} agents, none offline: agent ${s.agent} not kept` });
      }
      agents.set(s.agent, s.state);
      // A birth (new bd_seq) is what lets the agent's seq re-base after a restart.
      if (this.gate.agentState(s.site, s.agent, s.state, this.clock.now()) === 'reinstalled') {
        this.logger.warn('agent restarted with a lower birth sequence: its seq history is forgotten (reinstalled or state directory lost)', { site: s.site, agent: s.agent, bd_seq: s.state.bd_seq });
      }
      this.opts.alerts?.observeAgentState(s.site, s.agent, s.state);
      this.writePoints([agentHealthPoint(s.site, s.agent, s.state)]);
      return;
    }
    const device = site.devices.get(s.device);
    if (!device) return this.onUnknown(s.site, `device ${s.device}`);
    let statuses = this.deviceStatus.get(s.site);
    if (!statuses) this.deviceStatus.set(s.site, (statuses = new Map()));
    statuses.set(s.device, s.status);
    this.opts.alerts?.observeDeviceStatus(s.site, s.device, s.status);
    this.writePoints([deviceStatusPoint(s.site, s.device, device.tags, s.status)]);
  }

  /** Broker, store and KPI loop at a glance (GET /healthz). */
  health(): HealthReport {
    const now = this.clock.now();
    const store = { ...this.opts.sink.health(), pending_points: this.opts.sink.stats().pending };
    const connected = this.subscriber?.connected ?? false;
    const age = this.lastEvaluationMs === null ? null : Math.max(0, now - this.lastEvaluationMs);
    // Late: no evaluation for three intervals (the tick is stuck or the process starves).
    const late = this.subscriber !== undefined && (age === null ? false : age > 3 * this.intervalMs);
    const problems: string[] = [];
    if (!connected) problems.push('broker not connected');
    if (store.state !== 'ok') problems.push(`store ${store.state}: ${store.reason ?? store.last_error ?? 'unknown error'}`);
    if (late) problems.push(`no KPI evaluation for ${Math.round((age ?? 0) / 1000)} s`);
    return {
      status: problems.length === 0 ? 'ok' : 'degraded',
      broker: { connected },
      store,
      kpi: { last_evaluation_ms: this.lastEvaluationMs, age_ms: age, interval_ms: this.intervalMs, late },
      problems,
    };
  }

  /** The read-only view the HTTP API serves (collector/http/collector-view.ts). */
  private apiSource(): ApiSource {
    return collectorApiSource({
      sites: this.sites,
      clusters: this.clusters,
      deviceStatus: this.deviceStatus,
      agentState: this.agentState,
      latest: this.latest,
      profiles: this.opts.profiles ?? new Map(),
      on_rack: { ...DEFAULT_ON_RACK, ...this.opts.kpi?.on_rack },
      alerts: this.opts.alerts,
      now: () => this.clock.now(),
      latestKpi: (id) => this.latestKpi(id),
      latestClusterKpi: (id) => this.latestClusterKpi(id),
      health: () => this.health(),
      metrics: () =>
        collectorMetricFamilies({
          collector: this.opts.id,
          stats: this.stats(),
          health: this.health(),
          kpis: [...this.scopes.values()].flatMap((s) => (s.latest ? [{ scope: s.id, kind: s.kind, message: s.latest }] : [])),
        }),
    });
  }

  private logThrottled(key: string, level: 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    const allowed = this.throttle.allow(key);
    if (!allowed) return;
    this.logger[level](msg, allowed.suppressed > 0 ? { ...fields, suppressed: allowed.suppressed } : fields);
  }
}
