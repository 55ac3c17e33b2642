import { SystemClock, type Clock, type TimerHandle } from '../contract/clock.js';
import type { ErrorCode } from '../contract/errors.js';
import type { SiteInventory } from '../contract/inventory.js';
import { createLogger, type Logger } from '../contract/log.js';
import type { AgentState, DeviceStatus, KpiMessage } from '../contract/messages.js';
import type { DeviceProfile } from '../contract/profile.js';
import { parseTopic, topics } from '../contract/topics.js';
import type { DecodeFailure } from './ingest/decode-failure.js';
import { decodeState, type DecodedState } from './ingest/decode-status.js';
import { decodeTelemetry, type DecodedTelemetry } from './ingest/decode-telemetry.js';
import { MqttSubscriber, type MqttSubscriberOptions } from './ingest/subscriber.js';
import { livePue, type LivePueOptions } from './kpi/live-pue.js';
import { LogThrottle } from './log-throttle.js';
import { LatestValues } from './state/latest-values.js';
import { SeqDedup } from './state/seq-dedup.js';
import { buildSiteRegistry, type SiteEntry } from './state/site-registry.js';
import { kpiPoint } from './store/kpi-points.js';
import type { MetricSink, SinkStats } from './store/metric-sink.js';
import { readingPoints } from './store/reading-points.js';
import { agentHealthPoint, deviceStatusPoint } from './store/state-points.js';

/**
 * The collector's composition root: it builds every part once and wires them. Telemetry flows
 * subscriber → decode → dedup → latest values + raw points to the sink; every `kpiIntervalMs`
 * (aligned to the wall clock, so active-active collectors stamp the same instants) each site's
 * live PUE is evaluated, written, published retained on `dcim/v1/<site>/kpi` and handed to
 * `onKpi`. Bad input is counted, logged (throttled) and dropped; nothing in the message path
 * may stop the collector.
 */
export interface CollectorOptions {
  id: string;
  inventories: readonly SiteInventory[];
  mqtt: { url: string; username?: string; password?: string; clientId?: string; tls?: MqttSubscriberOptions['tls'] };
  sink: MetricSink;
  clock?: Clock;
  logger?: Logger;
  kpiIntervalMs?: number;
  /** Device profiles, to find each meter's power point; without them `active_power_w` is used. */
  profiles?: ReadonlyMap<string, DeviceProfile>;
  livePue?: LivePueOptions;
  onKpi?: (msg: KpiMessage) => void;
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
  /** Points handed to the sink. */
  points_written: number;
  kpi_evaluations: number;
  kpi_published: number;
  kpi_publish_errors: number;
  /** KPI publishes skipped because the previous one for the site had not been acknowledged. */
  kpi_publish_skipped: number;
  /** Exceptions caught in the message path (a bug, never bad input). */
  handler_errors: number;
  invalid_by_code: Partial<Record<ErrorCode, number>>;
  sink: SinkStats;
}

type Counters = Omit<CollectorStats, 'sink' | 'invalid_by_code'>;

const topicOf = (m: { site: string; device: string }) => topics.telemetry(m.site, m.device);

export class Collector {
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly sites: Map<string, SiteEntry>;
  private readonly latest = new LatestValues();
  private readonly dedup = new SeqDedup();
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
    points_written: 0,
    kpi_evaluations: 0,
    kpi_published: 0,
    kpi_publish_errors: 0,
    kpi_publish_skipped: 0,
    handler_errors: 0,
  };
  private readonly invalidByCode: Partial<Record<ErrorCode, number>> = {};
  private readonly latestKpis = new Map<string, KpiMessage>();
  private readonly publishing = new Set<string>();
  private readonly deviceStatus = new Map<string, Map<string, DeviceStatus>>();
  private readonly agentState = new Map<string, Map<string, AgentState>>();
  private subscriber: MqttSubscriber | undefined;
  private timer: TimerHandle | undefined;

  constructor(private readonly opts: CollectorOptions) {
    this.clock = opts.clock ?? new SystemClock();
    this.logger = opts.logger ?? createLogger({ base: { component: 'collector', collector: opts.id } });
    this.throttle = new LogThrottle(() => this.clock.now());
    this.sites = buildSiteRegistry(opts.inventories, opts.profiles);
  }

  private get intervalMs(): number {
    return this.opts.kpiIntervalMs ?? 5000;
  }

  /** Starts the KPI loop, then connects; resolves once subscribed. */
  async start(): Promise<void> {
    if (this.subscriber) throw new Error('collector already started');
    this.scheduleTick();
    const m = this.opts.mqtt;
    this.subscriber = new MqttSubscriber({
      url: m.url,
      client_id: m.clientId ?? `dcim-collector-${this.opts.id}`,
      ...(m.username !== undefined ? { username: m.username } : {}),
      ...(m.password !== undefined ? { password: m.password } : {}),
      ...(m.tls ? { tls: m.tls } : {}),
      sites: [...this.sites.keys()],
      on_message: (topic, payload) => this.ingest(topic, payload),
      logger: this.logger.child({ component: 'mqtt' }),
    });
    await this.subscriber.start();
    this.logger.info('collector started', { sites: [...this.sites.keys()], kpi_interval_ms: this.intervalMs });
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    await this.subscriber?.stop();
    this.subscriber = undefined;
    await this.opts.sink.flush();
  }

  stats(): CollectorStats {
    return { ...this.counters, invalid_by_code: { ...this.invalidByCode }, sink: this.opts.sink.stats() };
  }

  latestKpi(site: string): KpiMessage | undefined {
    return this.latestKpis.get(site);
  }

  deviceStatuses(site: string): ReadonlyMap<string, DeviceStatus> {
    return this.deviceStatus.get(site) ?? new Map();
  }

  agentStates(site: string): ReadonlyMap<string, AgentState> {
    return this.agentState.get(site) ?? new Map();
  }

  /** One MQTT message in. Public so the HTTP API and tests can feed messages without a broker. */
  ingest(topic: string, payload: Uint8Array): void {
    this.counters.messages_received++;
    try {
      const kind = parseTopic(topic)?.kind;
      if (kind === 'telemetry') {
        const r = decodeTelemetry(topic, payload, this.clock.now());
        if (r.ok) this.onTelemetry(r.value);
        else this.onInvalid(topic, r.reason);
      } else {
        const r = decodeState(topic, payload);
        if (r.ok) this.onState(r.value);
        else this.onInvalid(topic, r.reason);
      }
    } catch (e) {
      this.counters.handler_errors++;
      this.logger.error('message handler failed', { topic: topic.slice(0, 200), error: e as Error });
    }
  }

  /** Evaluate and emit every site's KPIs for the aligned instant `at_ms`. */
  evaluateKpis(at_ms: number): void {
    for (const [site, entry] of this.sites) {
      this.counters.kpi_evaluations++;
      const kpi = livePue(entry.power, this.latest, at_ms, this.opts.livePue);
      const msg: KpiMessage = { schema: 1, site, ts: at_ms, kpis: [kpi] };
      this.latestKpis.set(site, msg);
      this.writePoints([kpiPoint(site, kpi)]);
      this.publish(msg);
      try {
        this.opts.onKpi?.(msg);
      } catch (e) {
        this.logger.error('onKpi callback failed', { site, error: e as Error });
      }
    }
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

  private publish(msg: KpiMessage): void {
    const sub = this.subscriber;
    if (!sub) return;
    // Retained: only the newest matters, so never queue a second one behind an unacknowledged one.
    if (this.publishing.has(msg.site)) {
      this.counters.kpi_publish_skipped++;
      return;
    }
    this.publishing.add(msg.site);
    sub
      .publishKpi(msg)
      .then(
        () => this.counters.kpi_published++,
        (e: unknown) => {
          this.counters.kpi_publish_errors++;
          this.logThrottled('kpi-publish', 'warn', 'KPI publish failed', { site: msg.site, error: e as Error });
        },
      )
      .finally(() => this.publishing.delete(msg.site));
  }

  private writePoints(points: Parameters<MetricSink['write']>[0]): void {
    if (points.length === 0) return;
    this.counters.points_written += points.length;
    this.opts.sink.write(points);
  }

  private onInvalid(topic: string, f: DecodeFailure): void {
    this.counters.messages_invalid++;
    this.invalidByCode[f.code] = (this.invalidByCode[f.code] ?? 0) + 1;
    // Keyed by the reason's shape, so each distinct problem is logged and a flood of one is not.
    this.logThrottled(`invalid:${f.code}:${topic}:${f.reason.replace(/\d+/g, '#').slice(0, 80)}`, 'warn', 'MQTT message refused', { code: f.code, topic: topic.slice(0, 200), reason: f.reason });
  }

  private onUnknown(site: string, what: string): void {
    this.counters.messages_unknown++;
    this.logThrottled(`unknown:${site}/${what}`, 'warn', 'message from outside the inventory ignored', { site, source: what });
  }

  private onTelemetry({ message: m, dropped }: DecodedTelemetry): void {
    const site = this.sites.get(m.site);
    const device = site?.devices.get(m.device);
    if (!site || !device) return this.onUnknown(m.site, `device ${m.device}`);
    if (device.class !== undefined && device.class !== m.class) {
      // The class is the measurement: a wrong one would file the readings under another table.
      return this.onInvalid(topicOf(m), { code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: `class ${m.class} but profile ${device.device.profile} is a ${device.class}` });
    }

    const verdict = this.dedup.check(`${m.site}/${m.agent}`, m.seq);
    if (verdict !== 'new') {
      this.counters.duplicates++;
      if (verdict === 'too_old') {
        this.counters.replays_too_old++;
        this.logThrottled(`too-old:${m.agent}`, 'warn', 'replayed telemetry older than the dedup window dropped', { agent: m.agent, seq: m.seq });
      }
      return;
    }

    if (dropped.length > 0) {
      this.counters.readings_invalid += dropped.length;
      this.invalidByCode.DCIM_E_READING_INVALID = (this.invalidByCode.DCIM_E_READING_INVALID ?? 0) + dropped.length;
      this.logThrottled(`readings:${m.site}/${m.device}`, 'warn', 'invalid readings dropped', {
        code: 'DCIM_E_READING_INVALID',
        site: m.site,
        device: m.device,
        dropped: dropped.length,
        reasons: dropped.slice(0, 3).map((d) => `readings[${d.index}]${d.point ? ` ${d.point}` : ''}: ${d.reason}`),
      });
    }
    for (const r of m.readings) {
      if (this.latest.update(m.site, m.device, r, m.ts) === 'older') this.counters.readings_late++;
    }
    this.counters.readings_accepted += m.readings.length;
    this.writePoints(readingPoints(m, device.tags));
  }

  private onState(s: DecodedState): void {
    if (s.kind === 'cleared') return;
    this.counters.states_received++;
    const site = this.sites.get(s.site);
    if (!site) return this.onUnknown(s.site, s.kind);
    if (s.kind === 'agent_state') {
      let agents = this.agentState.get(s.site);
      if (!agents) this.agentState.set(s.site, (agents = new Map()));
      agents.set(s.agent, s.state);
      this.writePoints([agentHealthPoint(s.site, s.agent, s.state)]);
      return;
    }
    const device = site.devices.get(s.device);
    if (!device) return this.onUnknown(s.site, `device ${s.device}`);
    let statuses = this.deviceStatus.get(s.site);
    if (!statuses) this.deviceStatus.set(s.site, (statuses = new Map()));
    statuses.set(s.device, s.status);
    this.writePoints([deviceStatusPoint(s.site, s.device, device.tags, s.status)]);
  }

  private logThrottled(key: string, level: 'warn' | 'error', msg: string, fields: Record<string, unknown>): void {
    const allowed = this.throttle.allow(key);
    if (!allowed) return;
    this.logger[level](msg, allowed.suppressed > 0 ? { ...fields, suppressed: allowed.suppressed } : fields);
  }
}
