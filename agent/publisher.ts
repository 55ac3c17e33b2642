import type { Writable } from 'node:stream';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import type { z } from 'zod';
import { AgentStateSchema, describeNetworkError, ID_PATTERN, DeviceStatusSchema, KpiMessageSchema, MAX_PAYLOAD_BYTES, parseTopic, TelemetryMessageSchema, telemetryIfPlain, topics, type AgentState, type Clock, type ErrorCode } from '../contract/index.js';
import type { Logger } from '../shared/log.js';
import type { Result } from '../shared/result.js';
import { holdWritesForThisTurn, type TurnWriteBatch } from './turn-write-batch.js';

/**
 * The agent's one MQTT wrapper, the only file that touches mqtt.js (after
 * Zigbee2MQTT's lib/mqtt.ts). It owns every broker policy:
 * - MQTT 5, so a publish the broker refuses (its ACL: reason 0x87 Not authorized) comes back
 *   as a refusal with its reason code instead of the silent PUBACK of MQTT 3.1.1; the telemetry
 *   then stays in the spool. A broker that refuses MQTT 5 itself (aedes, the demo's embedded
 *   broker) gets MQTT 3.1.1 on the next attempt, said once as a warning: such a broker cannot
 *   report a denied publish;
 * - QoS 1 for everything; a persistent session (`clean: false`, a stable client id and, as
 *   MQTT 5 asks, a session expiry) so the broker keeps in-flight messages across a reconnect;
 * - everything it publishes sits under its own `agents/<agent>/` branch (the branch a broker
 *   ACL grants this identity), and a telemetry payload names this agent;
 * - the last will: retained `{online: false}` on `dcim/v1/<site>/agents/<agent>/state`;
 * - a retained `{online: true}` birth on every (re)connect, with `bd_seq` one higher on every
 *   CONNECT and the same number in that connection's will (Sparkplug's bdSeq rule), so a late
 *   will of an old session can be told from the current one;
 * - refusal of wildcard topics, of topics outside this agent's site, of payloads the contract
 *   schema rejects and of payloads over MAX_PAYLOAD_BYTES;
 * - `reconnectOnConnackError`, without which mqtt.js ≥ 5.16 gives up after a refused CONNACK.
 * Publishing while disconnected is refused (a Result, not a throw), so nothing piles up in
 * mqtt.js's unbounded in-memory queue; telemetry waits in the disk spool instead
 * (telemetry-outbox.ts). A QoS 1 message already handed to mqtt.js when the connection drops
 * stays in its session store and is resent after the reconnect; its publish resolves then.
 */
export interface PublisherOptions {
  url: string;
  clientId: string;
  username?: string | undefined;
  password?: string | undefined;
  tls?: { ca?: string | Buffer | undefined; cert?: string | Buffer | undefined; key?: string | Buffer | undefined; rejectUnauthorized?: boolean | undefined } | undefined;
  site: string;
  agentId: string;
  /** Devices this agent polls, reported in its state. */
  devices: number;
  version: string;
  /** Birth/death sequence; persisted so it keeps rising across restarts. */
  bdSeq: { next(): number };
  clock: Clock;
  logger: Logger;
  keepaliveS?: number;
  reconnectPeriodMs?: number;
  connectTimeoutMs?: number;
  /** How long the broker keeps the session after a disconnect (MQTT 5 session expiry). */
  sessionExpiryS?: number;
}

export interface PublishFailure {
  code: ErrorCode | 'offline';
  message: string;
  /** The broker's MQTT 5 reason code when it refused the publish (0x87: not authorized). */
  reason_code?: number;
}

/** A week: an agent cut off longer than this starts a new session and replays from its spool. */
const DEFAULT_SESSION_EXPIRY_S = 7 * 24 * 3600;

export interface PublisherStats {
  connected: boolean;
  /** 5, or 4 (3.1.1) after a broker refused MQTT 5. */
  protocol_version?: 4 | 5;
  connects: number;
  bd_seq: number;
  published: number;
  refused_offline: number;
  refused_invalid: number;
  /** Publishes the broker answered with an error reason code (ACL denial, quota): kept, retried. */
  refused_by_broker: number;
  failed: number;
}

const TELEMETRY_LEAF = '/telemetry';

const SCHEMAS: Partial<Record<NonNullable<ReturnType<typeof parseTopic>>['kind'], z.ZodType>> = {
  agent_state: AgentStateSchema,
  telemetry: TelemetryMessageSchema,
  device_status: DeviceStatusSchema,
  kpi: KpiMessageSchema,
};

export class Publisher {
  private client: MqttClient | undefined;
  private bdSeq = -1;
  private readonly hooks = new Set<() => void>();
  private readonly closeHooks = new Set<() => void>();
  private readonly counts = { connects: 0, published: 0, refused_offline: 0, refused_invalid: 0, refused_by_broker: 0, failed: 0 };
  /** The broker is refusing our publishes: said once per episode, again after one is accepted. */
  private brokerRefusing = false;
  /** The writes held until the end of the current event-loop turn (holdWritesForThisTurn). */
  private held: TurnWriteBatch | undefined;
  /** `dcim/v1/<site>/agents/<agent>/devices/`, made on first use. */
  private telemetryPrefix: string | null | undefined;

  constructor(private readonly opts: PublisherOptions) {}

  get stateTopic(): string {
    return topics.agentState(this.opts.site, this.opts.agentId);
  }

  get connected(): boolean {
    return this.client?.connected === true;
  }

  /** Connect in the background; reconnects forever until stop(). */
  start(): void {
    if (this.client) return;
    const o = this.opts;
    this.bdSeq = o.bdSeq.next();
    const options: IClientOptions = {
      clientId: o.clientId,
      clean: false,
      protocolVersion: 5,
      properties: { sessionExpiryInterval: o.sessionExpiryS ?? DEFAULT_SESSION_EXPIRY_S },
      keepalive: o.keepaliveS ?? 30,
      reconnectPeriod: o.reconnectPeriodMs ?? 2000,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      reconnectOnConnackError: true,
      queueQoSZero: false,
      resubscribe: false,
      // mqtt-packet's default number cache is 65,536 two-byte Buffers (about 6 MB of heap) built
      // on the first publish; writing a packet id or a length without it costs a few bytes each.
      writeCache: false,
      manualConnect: true,
      will: this.will(),
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...(o.tls?.ca !== undefined ? { ca: o.tls.ca } : {}),
      ...(o.tls?.cert !== undefined ? { cert: o.tls.cert } : {}),
      ...(o.tls?.key !== undefined ? { key: o.tls.key } : {}),
      ...(o.tls?.rejectUnauthorized !== undefined ? { rejectUnauthorized: o.tls.rejectUnauthorized } : {}),
    };
    const client = connect(o.url, options);
    this.client = client;
    // Set when the broker refused MQTT 5: the retry with 3.1.1 goes out at once, with the same
    // bd_seq (the refused CONNECT opened no session, so its will can never be published).
    let protocolRetry = false;
    let open = false;
    client.on('reconnect', () => {
      // A new CONNECT is about to be sent from client.options: give it the next bd_seq.
      if (!protocolRetry) this.bdSeq = o.bdSeq.next();
      protocolRetry = false;
      client.options.will = this.will();
    });
    client.on('connect', () => {
      open = true;
      this.counts.connects++;
      o.logger.info('mqtt connected', { url: redactUrl(o.url), client_id: o.clientId, bd_seq: this.bdSeq });
      void this.send(this.stateTopic, this.state(true), true).then((r) => {
        if (!r.ok) o.logger.warn('mqtt birth not published', { code: r.reason.code, message: r.reason.message });
      });
      for (const hook of this.hooks) {
        try {
          hook();
        } catch (e) {
          o.logger.error('mqtt connect hook failed', { error: e as Error });
        }
      }
    });
    client.on('offline', () => o.logger.warn('mqtt offline', { url: redactUrl(o.url) }));
    client.on('close', () => {
      if (protocolRetry) client.reconnect();
      if (!open) return;
      open = false;
      for (const hook of this.closeHooks) {
        try {
          hook();
        } catch (e) {
          o.logger.error('mqtt close hook failed', { error: e as Error });
        }
      }
    });
    // A broker that is down (refused, unknown host) is said once, with its code, until it answers;
    // meanwhile readings go to the spool.
    let unreachable = false;
    client.on('connect', () => (unreachable = false));
    client.on('error', (e) => {
      if (fallBackToMqtt311(client, e)) {
        protocolRetry = true;
        return o.logger.warn('broker does not speak MQTT 5: using MQTT 3.1.1, under which a publish its ACL denies is acknowledged all the same and cannot be kept', { url: redactUrl(o.url) });
      }
      const net = describeNetworkError(e);
      if (!net) return o.logger.warn('mqtt error', { url: redactUrl(o.url), error: e });
      if (!unreachable) o.logger.error('broker unreachable; spooling and retrying until it answers', { code: net.code, url: redactUrl(o.url), error: net.message });
      unreachable = true;
    });
    client.connect();
  }

  /** Resolves true once connected, false after `timeoutMs`. */
  whenConnected(timeoutMs: number): Promise<boolean> {
    const client = this.client;
    if (!client) return Promise.resolve(false);
    if (client.connected) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = this.opts.clock.setTimeout(() => {
        client.off('connect', onConnect);
        resolve(false);
      }, timeoutMs);
      const onConnect = () => {
        timer.cancel();
        resolve(true);
      };
      client.once('connect', onConnect);
    });
  }

  /** Run `fn` after every (re)connect, once the birth is sent. Returns an unsubscribe. */
  onConnect(fn: () => void): () => void {
    this.hooks.add(fn);
    return () => this.hooks.delete(fn);
  }

  /**
   * Run `fn` whenever the connection closes. mqtt.js marks a new connection `connected` while it
   * is still resending the old session's messages, before the connect hooks run; a caller that
   * must not send until its onConnect hook has run tracks both.
   */
  onClose(fn: () => void): () => void {
    this.closeHooks.add(fn);
    return () => this.closeHooks.delete(fn);
  }

  /**
   * Publish one contract message (QoS 1); resolves once the broker acknowledged it.
   * Refused without sending: a wildcard, a topic outside the grammar or this site, a payload
   * its schema rejects or over the size limit, or no connection.
   */
  async publish(topic: string, payload: unknown, opts: { retain?: boolean } = {}): Promise<Result<void, PublishFailure>> {
    const checked = this.prepare(topic, payload);
    if (!checked.ok) return checked;
    return this.publishPrepared(topic, checked.value, opts);
  }

  /**
   * Check a message as publish() would and return its JSON, without sending. The telemetry
   * spool stores what this returns, so nothing invalid is ever spooled or replayed.
   */
  prepare(topic: string, payload: unknown): Result<string, PublishFailure> {
    const checked = this.check(topic, payload);
    if (!checked.ok) {
      this.counts.refused_invalid++;
      this.opts.logger.warn('mqtt publish refused', { topic, code: checked.reason.code, message: checked.reason.message });
    }
    return checked;
  }

  /**
   * Publish JSON that prepare() returned (QoS 1), as the string or as its UTF-8 bytes; resolves
   * on a PUBACK that accepts it. Refused while disconnected, and when the broker answers with an
   * error reason code. The outbox hands over Buffers: a message waiting for its PUBACK then
   * keeps its bytes outside the V8 heap instead of a string that outlives the young generation.
   * A record spooled before the agent-scoped topics existed carries the old device topic; it is
   * sent on this agent's topic, which is the one the broker's ACL grants.
   */
  async publishPrepared(topic: string, json: string | Buffer, opts: { retain?: boolean } = {}): Promise<Result<void, PublishFailure>> {
    if (!this.connected) {
      this.counts.refused_offline++;
      return { ok: false, reason: { code: 'offline', message: 'not connected to the broker' } };
    }
    const t = this.ownTelemetryDevice(topic) === undefined ? parseTopic(topic) : undefined;
    if (t?.kind === 'telemetry' && t.agent === undefined) topic = topics.telemetry(t.site, this.opts.agentId, t.device);
    return this.send(topic, json, opts.retain ?? false);
  }

  /** Publish the offline state (retained) and end the session cleanly, so the broker drops the will. */
  async stop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    if (client.connected) {
      const sent = this.sendOn(client, this.stateTopic, JSON.stringify(this.state(false)), true);
      const acked = await Promise.race([sent, this.opts.clock.sleep(2000).then(() => undefined)]);
      if (!acked?.ok) this.opts.logger.warn('mqtt offline state not acknowledged before stop');
      await client.endAsync();
    } else {
      await client.endAsync(true);
    }
  }

  stats(): PublisherStats {
    return { connected: this.connected, bd_seq: this.bdSeq, protocol_version: this.client?.options.protocolVersion === 4 ? 4 : 5, ...this.counts };
  }

  private check(topic: string, payload: unknown): Result<string, PublishFailure> {
    if (/[#+]/.test(topic)) return { ok: false, reason: { code: 'DCIM_E_MQTT_TOPIC_INVALID', message: `wildcards are not allowed in a publish topic: ${topic}` } };
    const own = this.ownTelemetryDevice(topic);
    const parsed = own !== undefined ? ({ kind: 'telemetry', site: this.opts.site, agent: this.opts.agentId, device: own } as const) : parseTopic(topic);
    if (!parsed) return { ok: false, reason: { code: 'DCIM_E_MQTT_TOPIC_INVALID', message: `not a dcim/v1 topic: ${topic}` } };
    if (parsed.site !== this.opts.site) return { ok: false, reason: { code: 'DCIM_E_MQTT_TOPIC_INVALID', message: `topic ${topic} is outside site ${this.opts.site}` } };
    const schema = SCHEMAS[parsed.kind];
    if (!schema) return { ok: false, reason: { code: 'DCIM_E_MQTT_TOPIC_INVALID', message: `an agent does not publish ${parsed.kind} messages` } };
    // Only this agent's branch: the broker and the collector would refuse any other.
    if ('agent' in parsed && parsed.agent !== this.opts.agentId) {
      return { ok: false, reason: { code: 'DCIM_E_MQTT_TOPIC_INVALID', message: `topic ${topic} is not under agent ${this.opts.agentId}` } };
    }
    // Telemetry, every poll of every device: the fast check answers the plain messages
    // buildTelemetry makes; anything else goes through the schema, which explains a refusal.
    const plain = parsed.kind === 'telemetry' ? telemetryIfPlain(payload) : undefined;
    const r = plain ? { success: true as const, data: plain } : schema.safeParse(payload);
    if (!r.success) {
      const first = r.error.issues[0];
      return { ok: false, reason: { code: 'DCIM_E_MQTT_PAYLOAD_INVALID', message: `${first?.path.join('.') || '(root)'}: ${first?.message ?? 'invalid'}` } };
    }
    if (parsed.kind === 'telemetry') {
      const m = r.data as { agent: string; site: string; device: string };
      if (m.agent !== this.opts.agentId || m.site !== parsed.site || m.device !== parsed.device) {
        return { ok: false, reason: { code: 'DCIM_E_MQTT_PAYLOAD_INVALID', message: `payload names ${m.site}/${m.agent}/${m.device}, topic ${topic}` } };
      }
    }
    const json = JSON.stringify(r.data);
    // UTF-8 takes at most 3 bytes per UTF-16 unit: only a text over a third of the limit is
    // counted (a poll's 1–2 KB never is).
    const bytes = json.length * 3 <= MAX_PAYLOAD_BYTES ? 0 : Buffer.byteLength(json);
    if (bytes > MAX_PAYLOAD_BYTES) return { ok: false, reason: { code: 'DCIM_E_MQTT_PAYLOAD_TOO_LARGE', message: `${bytes} bytes > ${MAX_PAYLOAD_BYTES}` } };
    return { ok: true, value: json };
  }

  /**
   * The device of a telemetry topic under this agent's own branch, or undefined for any other
   * topic (which parseTopic then reads). Every poll's message takes this path: a prefix test and
   * one slice instead of splitting the topic into its levels, twice per message.
   */
  private ownTelemetryDevice(topic: string): string | undefined {
    if (this.telemetryPrefix === undefined) {
      try {
        this.telemetryPrefix = topics.telemetry(this.opts.site, this.opts.agentId, 'x').slice(0, -`x${TELEMETRY_LEAF}`.length);
      } catch {
        this.telemetryPrefix = null; // a site or agent id no topic can carry: everything goes through parseTopic, which refuses it
      }
    }
    const prefix = this.telemetryPrefix;
    if (prefix === null || !topic.startsWith(prefix) || !topic.endsWith(TELEMETRY_LEAF)) return undefined;
    const device = topic.slice(prefix.length, topic.length - TELEMETRY_LEAF.length);
    return ID_PATTERN.test(device) ? device : undefined;
  }

  private send(topic: string, payload: string | Buffer | AgentState, retain: boolean): Promise<Result<void, PublishFailure>> {
    const client = this.client;
    if (!client) return Promise.resolve({ ok: false, reason: { code: 'offline', message: 'publisher stopped' } });
    return this.sendOn(client, topic, typeof payload === 'string' || Buffer.isBuffer(payload) ? payload : JSON.stringify(payload), retain);
  }

  private sendOn(client: MqttClient, topic: string, json: string | Buffer, retain: boolean): Promise<Result<void, PublishFailure>> {
    this.holdWritesForThisTurn(client);
    return new Promise((resolve) => {
      client.publish(topic, json, { qos: 1, retain }, (err) => {
        const reasonCode = (err as { code?: unknown } | undefined)?.code;
        if (err && typeof reasonCode === 'number' && reasonCode >= 0x80) {
          // MQTT 5 PUBACK with an error reason: the broker did not take it (its ACL, a quota).
          this.counts.refused_by_broker++;
          if (!this.brokerRefusing) {
            this.brokerRefusing = true;
            this.opts.logger.error('broker refused a publish; the message stays in the spool and is retried (check the broker ACL for this agent)', {
              code: 'DCIM_E_MQTT_PUBLISH_REFUSED',
              reason_code: reasonCode,
              topic,
            });
          }
          resolve({ ok: false, reason: { code: 'DCIM_E_MQTT_PUBLISH_REFUSED', message: err.message, reason_code: reasonCode } });
        } else if (err) {
          this.counts.failed++;
          resolve({ ok: false, reason: { code: 'offline', message: err.message } });
        } else {
          this.counts.published++;
          if (this.brokerRefusing) {
            this.brokerRefusing = false;
            this.opts.logger.info('broker accepts publishes again');
          }
          resolve({ ok: true, value: undefined });
        }
      });
    });
  }

  /**
   * Hold the connection's writes until the end of this event-loop turn. In a sweep, dozens of
   * polls finish in one turn (one batch of UDP answers); their PUBLISHes then leave as one
   * Buffer in one write (turn-write-batch.ts says why not cork). Order and QoS are unchanged; a
   * packet waits at most for the rest of the turn.
   */
  private holdWritesForThisTurn(client: MqttClient): void {
    const stream = (client as { stream?: Writable }).stream;
    if (!stream || this.held?.stream === stream) return;
    const batch = holdWritesForThisTurn(stream, (b) => {
      if (this.held === b) this.held = undefined;
    });
    if (batch) this.held = batch;
  }

  private state(online: boolean): AgentState {
    return { online, ts: Math.max(1, Math.round(this.opts.clock.now())), version: this.opts.version, devices: this.opts.devices, bd_seq: this.bdSeq };
  }

  private will(): NonNullable<IClientOptions['will']> {
    return { topic: this.stateTopic, payload: Buffer.from(JSON.stringify(this.state(false))), qos: 1, retain: true };
  }
}

/**
 * A CONNACK refusing the protocol version (3.1.1 return code 1, MQTT 5 reason 0x84) while we
 * speak MQTT 5: the next CONNECT uses 3.1.1. True when it switched.
 */
function fallBackToMqtt311(client: MqttClient, e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  if (client.options.protocolVersion !== 5 || (code !== 1 && code !== 0x84)) return false;
  client.options.protocolVersion = 4;
  delete client.options.properties;
  return true;
}

/** Broker URLs may carry credentials (mqtt://user:pass@host); never log them. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable url)';
  }
}
