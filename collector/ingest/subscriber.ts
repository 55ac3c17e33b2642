import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { describeNetworkError } from '../../contract/errors.js';
import type { Logger } from '../../shared/log.js';
import { AlertMessageSchema, KpiMessageSchema, type AlertMessage, type KpiMessage } from '../../contract/messages.js';
import { SiteSummarySchema, type SiteSummary } from '../../contract/summary.js';
import { topics } from '../../contract/topics.js';

/**
 * The collector's one mqtt.js wrapper; nothing else touches the client. It owns the broker
 * policy of the collector side:
 * - a persistent session (`clean: false`, a stable client id and an MQTT 5 session expiry) so
 *   QoS 1 telemetry published while the collector restarts is queued by the broker and delivered
 *   on reconnect;
 * - MQTT 5, like the agent: a KPI or alert publish the broker's ACL refuses fails with its reason
 *   code (MQTT 3.1.1 would acknowledge it and drop it silently). A broker that refuses MQTT 5
 *   itself (aedes, the demo's embedded broker) gets MQTT 3.1.1 on the next attempt, with a
 *   warning;
 * - QoS 1 subscriptions to the telemetry, device-status and agent-state topics of its sites (the
 *   agent-scoped ones; the legacy device topics too while `legacy_topics` is set);
 * - the retained KPI message and the retained site summaries for the bureau, validated before they leave;
 * - reconnects forever at a fixed period; subscriptions are renewed when the broker lost the
 *   session;
 * - an MQTT 5 receive maximum (default 1,000): the broker keeps at most that many QoS 1 messages
 *   unacknowledged towards us, so a backlog drained after an outage waits in the broker's queue,
 *   not in our socket buffers (each message is acknowledged once its handler has returned; the
 *   acknowledgements of one socket read leave together, in one write).
 * Payload size is enforced by the decoders (contract MAX_PAYLOAD_BYTES) before any parsing;
 * the broker's own `max_packet_size` should be set to match.
 */
export interface MqttSubscriberOptions {
  url: string;
  client_id: string;
  username?: string;
  password?: string;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer; reject_unauthorized?: boolean };
  /** Site ids to subscribe for. */
  sites: readonly string[];
  /** Subscribe to these filters (QoS 1) instead of the sites' device topics (the bureau: every site's summaries). */
  filters?: readonly string[];
  /** Also subscribe to the old device topics without an agent (a migration switch). */
  legacy_topics?: boolean;
  /** How long the broker keeps the session after a disconnect (default a week). */
  session_expiry_s?: number;
  /** QoS 1 messages the broker may have in flight to us (MQTT 5 receive maximum, 1–65535; default 1,000). */
  receive_maximum?: number;
  on_message: (topic: string, payload: Buffer) => void;
  logger: Logger;
  reconnect_period_ms?: number;
  connect_timeout_ms?: number;
  keepalive_s?: number;
  stop_timeout_ms?: number;
}

/**
 * Unacknowledged QoS 1 deliveries the broker may keep in flight to the collector: enough to keep a
 * drain streaming (acknowledgements go back while the next messages are on the wire), small enough
 * that a backlog stays in the broker (1,000 × a 1.3 KB poll ≈ 1.3 MB; MQTT 5 allows up to 65,535).
 */
export const DEFAULT_RECEIVE_MAXIMUM = 1000;

export class MqttSubscriber {
  private client: MqttClient | undefined;
  /** Rejects a pending start() (the broker refused us, or never answered, before stop). */
  private abandonStart: (() => void) | undefined;

  constructor(private readonly opts: MqttSubscriberOptions) {}

  /** Connects and resolves once the first subscriptions are granted (retrying until then). */
  start(): Promise<void> {
    if (this.client) throw new Error('MqttSubscriber already started');
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.client_id,
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: o.session_expiry_s ?? 7 * 24 * 3600, receiveMaximum: o.receive_maximum ?? DEFAULT_RECEIVE_MAXIMUM },
      resubscribe: false,
      reconnectPeriod: o.reconnect_period_ms ?? 1000,
      connectTimeout: o.connect_timeout_ms ?? 10_000,
      keepalive: o.keepalive_s ?? 30,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.tls
        ? {
            ...(o.tls.ca ? { ca: o.tls.ca } : {}),
            ...(o.tls.cert ? { cert: o.tls.cert } : {}),
            ...(o.tls.key ? { key: o.tls.key } : {}),
            rejectUnauthorized: o.tls.reject_unauthorized ?? true,
          }
        : {}),
    };
    const client = mqtt.connect(o.url, options);
    this.client = client;
    const log = o.logger;

    // mqtt.js writes each PUBACK on its own (cork, then uncork on the next tick): one system call
    // per message, an eighth of the collector's CPU during a drain. Holding the socket corked
    // until the messages of this socket read are handled sends their acknowledgements in one
    // write; each still leaves only after its own handler has returned.
    let corked: NodeJS.WritableStream | undefined;
    const uncork = () => {
      const s = corked as { uncork?: () => void } | undefined;
      corked = undefined;
      s?.uncork?.();
    };
    client.on('message', (topic, payload) => {
      if (corked === undefined) {
        const s = client.stream as (NodeJS.WritableStream & { cork?: () => void }) | undefined;
        if (s?.cork) {
          s.cork();
          corked = s;
          setImmediate(uncork);
        }
      }
      try {
        o.on_message(topic, payload);
      } catch (e) {
        log.error('message handler failed', { topic, error: e as Error });
      }
    });
    client.on('reconnect', () => log.debug('reconnecting to the broker', { url: o.url }));
    // After the broker refused MQTT 5, the 3.1.1 attempt goes out at once.
    let protocolRetry = false;
    client.on('close', () => {
      if (!protocolRetry) return;
      protocolRetry = false;
      client.reconnect();
    });
    client.on('offline', () => log.warn('broker connection lost', { url: o.url }));
    // A broker that is down (refused, unknown host) is said once, with its code, until it answers.
    let unreachable = false;
    client.on('connect', () => (unreachable = false));
    client.on('error', (e) => {
      const code = (e as { code?: unknown }).code;
      if (client.options.protocolVersion === 5 && (code === 1 || code === 0x84)) {
        // CONNACK "unacceptable protocol version" (3.1.1 code 1, MQTT 5 reason 0x84).
        client.options.protocolVersion = 4;
        delete client.options.properties;
        protocolRetry = true;
        return log.warn('broker does not speak MQTT 5: using MQTT 3.1.1, under which a publish its ACL denies is acknowledged all the same', { url: o.url });
      }
      const net = describeNetworkError(e);
      if (!net) return log.warn('mqtt error', { url: o.url, error: e });
      if (!unreachable) log.error('broker unreachable; retrying until it answers', { code: net.code, url: o.url, error: net.message, retry_every_ms: options.reconnectPeriod });
      unreachable = true;
    });

    let subscribedOnce = false;
    return new Promise<void>((resolve, reject) => {
      this.abandonStart = () => {
        if (!subscribedOnce) reject(new Error('MqttSubscriber stopped before it subscribed'));
      };
      client.on('connect', (connack) => {
        log.info('connected to the broker', { url: o.url, client_id: o.client_id, session_present: connack.sessionPresent });
        if (subscribedOnce && connack.sessionPresent) return;
        this.subscribe(client).then(
          () => {
            subscribedOnce = true;
            resolve();
          },
          (e: unknown) => log.error('subscribe failed; will retry on reconnect', { error: e as Error }),
        );
      });
    });
  }

  private async subscribe(client: MqttClient): Promise<void> {
    const filters: Record<string, { qos: 1 }> = {};
    for (const f of this.opts.filters ?? []) filters[f] = { qos: 1 };
    for (const site of this.opts.filters ? [] : this.opts.sites) {
      filters[topics.filters.telemetry(site)] = { qos: 1 };
      filters[topics.filters.deviceStatus(site)] = { qos: 1 };
      filters[topics.filters.agentState(site)] = { qos: 1 };
      if (this.opts.legacy_topics === true) {
        filters[topics.legacy.filters.telemetry(site)] = { qos: 1 };
        filters[topics.legacy.filters.deviceStatus(site)] = { qos: 1 };
      }
    }
    const granted = await client.subscribeAsync(filters);
    // MQTT 3.1.1 refuses with 0x80, MQTT 5 with a reason code ≥ 0x80 (0x87 not authorized).
    const refused = granted.filter((g) => g.qos >= 0x80);
    // A broker ACL refusing a filter is a deployment error the operator must see.
    if (refused.length > 0) this.opts.logger.error('broker refused subscriptions', { filters: refused.map((g) => g.topic) });
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Publish a site's KPI message, retained, QoS 1. Refuses a message that breaks the contract. */
  async publishKpi(msg: KpiMessage): Promise<void> {
    if (!this.client) throw new Error('MqttSubscriber not started');
    const checked = KpiMessageSchema.parse(msg);
    await this.client.publishAsync(topics.kpi(checked.site), JSON.stringify(checked), { qos: 1, retain: true });
  }

  /** Publish a site summary on `dcim/v1/<site>/summary/<window>`, retained, QoS 1; resolves on PUBACK. */
  async publishSummary(s: SiteSummary): Promise<void> {
    if (!this.client) throw new Error('MqttSubscriber not started');
    const checked = SiteSummarySchema.parse(s);
    await this.client.publishAsync(topics.summary(checked.site, checked.window), JSON.stringify(checked), { qos: 1, retain: true });
  }

  /**
   * Set (retained, QoS 1) or clear an alert topic `dcim/v1/<site>/alerts/<id>`: `null` publishes
   * an empty retained payload, which deletes the retained message (docs/design.md §2: retained while
   * firing, cleared on resolve). Resolves on PUBACK; the alert notifier retries on failure.
   */
  async publishAlert(site: string, alert_id: string, msg: AlertMessage | null): Promise<void> {
    if (!this.client) throw new Error('MqttSubscriber not started');
    const topic = topics.alert(site, alert_id);
    const payload = msg === null ? '' : JSON.stringify(AlertMessageSchema.parse(msg));
    await this.client.publishAsync(topic, payload, { qos: 1, retain: true });
  }

  async stop(): Promise<void> {
    this.abandonStart?.();
    const client = this.client;
    if (!client) return;
    // Not forced at first, so in-flight PUBACKs and the last KPI publish get out; forced when the
    // broker is gone and a graceful end would wait for it.
    let timer: NodeJS.Timeout | undefined;
    const forced = new Promise<void>((resolve) => {
      timer = setTimeout(() => void client.endAsync(true).then(resolve, resolve), this.opts.stop_timeout_ms ?? 2000);
    });
    await Promise.race([client.endAsync(false), forced]);
    clearTimeout(timer);
  }
}
