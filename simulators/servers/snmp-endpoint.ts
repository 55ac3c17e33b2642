import dgram from 'node:dgram';
import { bindOrStop } from './listener.js';
import type { Clock, TimerHandle } from '../../contract/index.js';
import type { Logger } from '../../shared/log.js';
import type { SnmpServedValue } from '../encode/snmp-values.js';
import type { RequestDecision } from '../faults/request-faults.js';
import { COUNTER32_TYPE, ERROR_STATUS, PDU, parseMessage, toWire, type NetSnmpMessage, type NetSnmpPdu, type NetSnmpVarbind } from './snmp-message.js';
import { SECURITY_LEVEL, engineIdFor, engineTime, inTimeWindow, sameUser, usmUser, type EngineTime, type NetSnmpUser, type UsmUserConfig } from './snmp-usm.js';
import { SnmpViewCache, getBulk, getNextOne, getOne, isEncodableOid, parseOid, type AnswerVarbind, type SnmpView, type ViewValue, type Visible } from './snmp-view.js';

/**
 * One SNMP agent on one UDP host:port serving many devices: v1/v2c requests pick the device by
 * community, SNMPv3 requests by USM user and context name (RFC 3411 §3.3.1: a context is one
 * device's view behind a shared engine, as behind a proxy or a chassis manager). One SNMP
 * engine per port: one engine id, snmpEngineBoots, snmpEngineTime counting real seconds since
 * start, and a clock skew when a device behind it has that fault.
 *
 * Malformed datagrams are dropped (RFC 3412 §7.2: snmpInASNParseErrs); unknown communities get
 * no answer (RFC 3584 §5.2.1); v3 security errors get the USM report (RFC 3414 §3.2); SETs are
 * refused (notWritable, noSuchName in v1). Faults decide per request: answer, late, or not.
 */

export interface SnmpDeviceBinding {
  /** Unique among the endpoint's devices; used in logs (`site/device`). */
  key: string;
  /** v1/v2c: the community that selects the device. */
  community?: string | undefined;
  /** SNMPv3: the user and context that select the device. */
  v3?: { user: UsmUserConfig; context: string } | undefined;
  /** Devices of one layout (profile) share the sorted OID index. */
  layout: string;
  /** Object OIDs the device implements (noSuchInstance below them, noSuchObject elsewhere). */
  objects: readonly string[];
  /** Changes whenever the values may have changed. */
  version(): number;
  values(): readonly SnmpServedValue[];
  decide(): RequestDecision;
}

export interface SnmpEndpointOptions {
  host: string;
  /** 0 binds an ephemeral port. */
  port: number;
  devices: readonly SnmpDeviceBinding[];
  logger: Logger;
  clock: Clock;
  /** Text the engine id is derived from; default `host:port`. */
  engine_id_seed?: string;
  /** snmpEngineBoots; default 1 (the composition root passes engineBootsAt(start)). */
  engine_boots?: number;
  /** Largest response in bytes (RFC 3417 transport limit 65507 over UDP/IPv4). */
  max_message_bytes?: number;
  /** Devices whose encoded values are kept between requests (a walk asks many times per tick). */
  cached_devices?: number;
}

export interface SnmpEndpointStats {
  datagrams: number;
  answered: number;
  /** Not parseable as SNMP, or an unsupported PDU. */
  malformed: number;
  /** Unknown community (silently dropped). */
  bad_community: number;
  /** USM reports sent, by usmStats / snmpUnknownContexts name. */
  reports: Record<string, number>;
  /** Requests a fault swallowed. */
  dropped_by_fault: number;
  delayed_by_fault: number;
  /** Answers that could not be built (a bug; logged). */
  errors: number;
}

interface CachedValues {
  version: number;
  /** Over the device's values followed by the engine group. */
  view: SnmpView;
  values: readonly SnmpServedValue[];
}

const USM_STATS = '1.3.6.1.6.3.15.1.1';
const REPORT_OIDS = {
  unsupported_sec_level: `${USM_STATS}.1.0`,
  not_in_time_window: `${USM_STATS}.2.0`,
  unknown_user_name: `${USM_STATS}.3.0`,
  unknown_engine_id: `${USM_STATS}.4.0`,
  wrong_digest: `${USM_STATS}.5.0`,
  decryption_error: `${USM_STATS}.6.0`,
  unknown_context: '1.3.6.1.6.3.12.1.5.0',
} as const;
type ReportKind = keyof typeof REPORT_OIDS;

/**
 * SNMP-FRAMEWORK-MIB snmpEngine group (RFC 3411 §5): every SNMP engine serves it, so a manager
 * (and a test) can read the engine's id, boots and time, which a clock_skew fault moves.
 */
const ENGINE_GROUP = '1.3.6.1.6.3.10.2.1';
const ENGINE_OIDS = [`${ENGINE_GROUP}.1.0`, `${ENGINE_GROUP}.2.0`, `${ENGINE_GROUP}.3.0`, `${ENGINE_GROUP}.4.0`].map((oid) => ({ oid }));
/** Largest message this engine accepts and sends (snmpEngineMaxMessageSize). */
const MAX_MESSAGE = 65_507;

const V1 = 0;
const V2C = 1;
const V3 = 3;
const NO_COUNTER64: Visible = (v) => v.type !== 'counter64';
const FLAG_AUTH = 1;
const FLAG_PRIV = 2;
const FLAG_REPORTABLE = 4;

export class SnmpEndpoint {
  private socket: dgram.Socket | undefined;
  private readonly byCommunity = new Map<string, SnmpDeviceBinding>();
  private readonly byContext = new Map<string, SnmpDeviceBinding>();
  private readonly users = new Map<string, NetSnmpUser>();
  private readonly contexts = new Set<string>();
  private readonly views = new SnmpViewCache();
  private readonly cache = new Map<string, CachedValues>();
  private readonly pending = new Set<TimerHandle>();
  private readonly engineId: Buffer;
  private start_ms = 0;
  private skew_ms = 0;
  private readonly counters: SnmpEndpointStats = { datagrams: 0, answered: 0, malformed: 0, bad_community: 0, reports: {}, dropped_by_fault: 0, delayed_by_fault: 0, errors: 0 };

  constructor(private readonly opts: SnmpEndpointOptions) {
    this.engineId = engineIdFor(opts.engine_id_seed ?? `${opts.host}:${opts.port}`);
  }

  /** Bind and serve; resolves with the bound UDP port. */
  async start(): Promise<number> {
    this.index();
    this.start_ms = this.opts.clock.now();
    const socket = dgram.createSocket('udp4');
    this.socket = socket;
    socket.on('message', (buffer, rinfo) => this.onDatagram(buffer, rinfo));
    await bindOrStop(socket, (ready) => socket.bind(this.opts.port, this.opts.host, ready), {
      failure: `SNMP agent cannot listen on ${this.opts.host}:${this.opts.port}/udp`,
      on_error: (e) => this.opts.logger.warn('snmp socket error', { port: this.port(), error: e }),
      stop: () => this.stop(),
    });
    return this.port();
  }

  async stop(): Promise<void> {
    for (const t of this.pending) t.cancel();
    this.pending.clear();
    const socket = this.socket;
    this.socket = undefined;
    if (!socket) return;
    await new Promise<void>((resolve) => {
      try {
        socket.close(() => resolve());
      } catch {
        // Never bound: nothing to close.
        resolve();
      }
    });
  }

  port(): number {
    try {
      return this.socket?.address().port ?? this.opts.port;
    } catch {
      return this.opts.port;
    }
  }

  engineIdHex(): string {
    return this.engineId.toString('hex');
  }

  /** The engine's clock offset (a clock_skew fault on a device behind it), in ms. */
  setClockSkew(skew_ms: number): void {
    this.skew_ms = skew_ms;
  }

  engineTime(): EngineTime {
    return engineTime(this.opts.engine_boots ?? 1, this.start_ms, this.opts.clock.now(), this.skew_ms);
  }

  stats(): SnmpEndpointStats {
    return { ...this.counters, reports: { ...this.counters.reports } };
  }

  private index(): void {
    const where = `${this.opts.host}:${this.opts.port}`;
    if (this.opts.devices.length === 0) throw new Error(`${where}: an SNMP endpoint needs at least one device`);
    for (const d of this.opts.devices) {
      if (d.community !== undefined) {
        const prev = this.byCommunity.get(d.community);
        if (prev) throw new Error(`${where}: devices ${prev.key} and ${d.key} share a community`);
        this.byCommunity.set(d.community, d);
      }
      if (d.v3) {
        const u = usmUser(d.v3.user);
        if (!u.ok) throw new Error(`${where}: device ${d.key}: SNMPv3 user ${d.v3.user.name}: ${u.reason}`);
        const known = this.users.get(u.user.name);
        if (known && !sameUser(known, u.user)) throw new Error(`${where}: device ${d.key}: user ${u.user.name} is declared with other keys or protocols by another device`);
        this.users.set(u.user.name, u.user);
        const key = `${u.user.name}\u0000${d.v3.context}`;
        const prev = this.byContext.get(key);
        if (prev) throw new Error(`${where}: devices ${prev.key} and ${d.key} share user ${u.user.name} and context "${d.v3.context}"`);
        this.byContext.set(key, d);
        this.contexts.add(d.v3.context);
      }
      if (d.community === undefined && !d.v3) throw new Error(`${where}: device ${d.key} has neither a community nor an SNMPv3 user`);
    }
  }

  private onDatagram(buffer: Buffer, rinfo: dgram.RemoteInfo): void {
    this.counters.datagrams++;
    let message: NetSnmpMessage;
    try {
      message = parseMessage(buffer);
    } catch {
      this.counters.malformed++;
      return;
    }
    try {
      if (message.version === V1 || message.version === V2C) this.onCommunityMessage(message, rinfo);
      else if (message.version === V3) this.onV3Message(message, rinfo);
      else this.counters.malformed++;
    } catch (e) {
      // Whatever a datagram holds, the simulator keeps serving the others.
      this.counters.errors++;
      this.opts.logger.warn('snmp request failed', { port: this.port(), error: e as Error });
    }
  }

  private onCommunityMessage(message: NetSnmpMessage, rinfo: dgram.RemoteInfo): void {
    const device = this.byCommunity.get(String(message.community));
    if (!device) {
      this.counters.bad_community++;
      return;
    }
    const pdu = message.pdu;
    if (!pdu || !this.isRequest(pdu, message.version)) {
      this.counters.malformed++;
      return;
    }
    this.answer(device, message, pdu, rinfo, MAX_MESSAGE);
  }

  private onV3Message(message: NetSnmpMessage, rinfo: dgram.RemoteInfo): void {
    const global = message.msgGlobalData;
    const sp = message.msgSecurityParameters;
    if (!global || !sp || global.msgSecurityModel !== 3 || (global.msgFlags & FLAG_PRIV && !(global.msgFlags & FLAG_AUTH))) {
      this.counters.malformed++;
      return;
    }
    const reportable = (global.msgFlags & FLAG_REPORTABLE) !== 0;
    // RFC 3414 §3.2 steps 3-8, in order.
    if (!this.engineId.equals(sp.msgAuthoritativeEngineID)) return this.report(message, rinfo, 'unknown_engine_id', reportable);
    const user = this.users.get(sp.msgUserName);
    if (!user) return this.report(message, rinfo, 'unknown_user_name', reportable);
    const level = global.msgFlags & FLAG_PRIV ? SECURITY_LEVEL.authPriv : global.msgFlags & FLAG_AUTH ? SECURITY_LEVEL.authNoPriv : SECURITY_LEVEL.noAuthNoPriv;
    if (level !== user.level) return this.report(message, rinfo, 'unsupported_sec_level', reportable);
    message.user = user;
    if (level >= SECURITY_LEVEL.authNoPriv) {
      if (!message.checkAuthentication(user, () => undefined)) return this.report(message, rinfo, 'wrong_digest', reportable);
      const msgTime = { boots: sp.msgAuthoritativeEngineBoots, time: sp.msgAuthoritativeEngineTime };
      if (!inTimeWindow(this.engineTime(), msgTime)) return this.report(message, rinfo, 'not_in_time_window', reportable, user);
    }
    if (level === SECURITY_LEVEL.authPriv && !message.decryptPdu(user, () => undefined)) return this.report(message, rinfo, 'decryption_error', reportable);
    const pdu = message.pdu;
    if (!pdu || !this.isRequest(pdu, V3)) {
      this.counters.malformed++;
      return;
    }
    const contextEngine = pdu.contextEngineID;
    const context = pdu.contextName ?? '';
    const device = contextEngine && contextEngine.length > 0 && !this.engineId.equals(contextEngine) ? undefined : this.byContext.get(`${user.name}\u0000${context}`);
    if (!device) return this.report(message, rinfo, 'unknown_context', reportable, user, level);
    this.answer(device, message, pdu, rinfo, Math.min(MAX_MESSAGE, global.msgMaxSize));
  }

  private isRequest(pdu: NetSnmpPdu, version: number): boolean {
    if (pdu.type === PDU.getBulk) return version !== V1;
    return pdu.type === PDU.get || pdu.type === PDU.getNext || pdu.type === PDU.set;
  }

  private answer(device: SnmpDeviceBinding, message: NetSnmpMessage, pdu: NetSnmpPdu, rinfo: dgram.RemoteInfo, peerMax: number): void {
    if (!pdu.varbinds.every((vb) => typeof vb.oid === 'string' && isEncodableOid(parseOid(vb.oid) ?? []))) {
      this.counters.malformed++;
      return;
    }
    const decision = device.decide();
    if (decision.action === 'drop') {
      this.counters.dropped_by_fault++;
      return;
    }
    const buffer = this.response(device, message, pdu, Math.min(peerMax, this.opts.max_message_bytes ?? MAX_MESSAGE));
    if (!buffer) return;
    if (decision.delay_ms > 0) {
      this.counters.delayed_by_fault++;
      const timer = this.opts.clock.setTimeout(() => {
        this.pending.delete(timer);
        this.send(buffer, rinfo);
      }, decision.delay_ms);
      this.pending.add(timer);
    } else {
      this.send(buffer, rinfo);
    }
  }

  private response(device: SnmpDeviceBinding, message: NetSnmpMessage, pdu: NetSnmpPdu, maxBytes: number): Buffer | undefined {
    const v1 = message.version === V1;
    const visible = v1 ? NO_COUNTER64 : undefined;
    const oids = pdu.varbinds.map((vb) => vb.oid);
    let answers: AnswerVarbind[] = [];
    let status: number = ERROR_STATUS.noError;
    let index = 0;
    if (pdu.type === PDU.set) {
      // Read-only device (RFC 3416 §4.2.5); SNMPv1 has no notWritable (RFC 3584 §4.4).
      status = v1 ? ERROR_STATUS.noSuchName : ERROR_STATUS.notWritable;
      index = 1;
    } else {
      const cached = this.valuesOf(device);
      const values = [...cached.values, ...this.engineValues()];
      if (pdu.type === PDU.get) answers = oids.map((oid) => getOne(cached.view, values, oid, visible));
      else if (pdu.type === PDU.getNext) answers = oids.map((oid) => getNextOne(cached.view, values, oid, parseOid(oid) ?? [], visible));
      else answers = getBulk(cached.view, values, { oids, non_repeaters: pdu.nonRepeaters ?? 0, max_repetitions: pdu.maxRepetitions ?? 0 }, visible);
      if (v1) {
        // SNMPv1 has no exception values: the first one becomes noSuchName (RFC 3584 §4.2.2.1).
        const bad = answers.findIndex((a) => a.value === null);
        if (bad >= 0) {
          status = ERROR_STATUS.noSuchName;
          index = bad + 1;
        }
      }
    }
    const build = (varbinds: NetSnmpVarbind[], errorStatus: number, errorIndex: number): Buffer => {
      const out = pdu.getResponsePduForRequest();
      out.varbinds = varbinds;
      out.errorStatus = errorStatus;
      out.errorIndex = errorIndex;
      const reply = message.createResponseForRequest(out);
      this.stampEngine(reply);
      return reply.toBuffer();
    };
    const echo = pdu.varbinds.map((vb) => ({ oid: vb.oid, type: vb.type, value: vb.value }));
    try {
      if (status !== ERROR_STATUS.noError) return build(echo, status, index);
      const wire = answers.map(toWire);
      let buffer = build(wire, status, 0);
      if (buffer.length <= maxBytes) return buffer;
      if (pdu.type !== PDU.getBulk) return build([], ERROR_STATUS.tooBig, 0);
      // GETBULK answers as many varbinds as fit (RFC 3416 §4.2.3).
      let lo = 0;
      let hi = wire.length;
      while (lo + 1 < hi) {
        const mid = (lo + hi) >> 1;
        if (build(wire.slice(0, mid), status, 0).length <= maxBytes) lo = mid;
        else hi = mid;
      }
      buffer = build(wire.slice(0, lo), lo === 0 ? ERROR_STATUS.tooBig : status, 0);
      return buffer;
    } catch (e) {
      this.counters.errors++;
      this.opts.logger.warn('snmp answer could not be encoded', { device: device.key, error: e as Error });
      try {
        return build(echo, ERROR_STATUS.genErr, 1);
      } catch {
        return undefined;
      }
    }
  }

  private valuesOf(device: SnmpDeviceBinding): CachedValues {
    const version = device.version();
    const hit = this.cache.get(device.key);
    if (hit && hit.version === version) {
      // Map order is insertion order: re-insert to mark it recently used.
      this.cache.delete(device.key);
      this.cache.set(device.key, hit);
      return hit;
    }
    const values = device.values();
    const entry: CachedValues = { version, values, view: this.views.view(device.layout, [...values, ...ENGINE_OIDS], device.objects) };
    this.cache.delete(device.key);
    this.cache.set(device.key, entry);
    if (this.cache.size > (this.opts.cached_devices ?? 1024)) this.cache.delete(this.cache.keys().next().value!);
    return entry;
  }

  private engineValues(): ViewValue[] {
    const t = this.engineTime();
    return [
      { oid: ENGINE_OIDS[0]!.oid, type: 'octet_string', value: this.engineId },
      { oid: ENGINE_OIDS[1]!.oid, type: 'integer', value: t.boots },
      { oid: ENGINE_OIDS[2]!.oid, type: 'integer', value: t.time },
      { oid: ENGINE_OIDS[3]!.oid, type: 'integer', value: MAX_MESSAGE },
    ];
  }

  /** A response carries the authoritative engine's own boots and time (RFC 3414 §3.1.1). */
  private stampEngine(reply: NetSnmpMessage): void {
    const sp = reply.msgSecurityParameters;
    if (reply.version !== V3 || !sp) return;
    const t = this.engineTime();
    sp.msgAuthoritativeEngineID = this.engineId;
    sp.msgAuthoritativeEngineBoots = t.boots;
    sp.msgAuthoritativeEngineTime = t.time;
  }

  /**
   * A Report PDU (RFC 3412 §7.1 step 3). USM errors go unauthenticated, except notInTimeWindow,
   * which is authenticated so the manager may trust the time in it (RFC 3414 §3.2 step 7b); an
   * unknown context is reported at the request's own security level.
   */
  private report(message: NetSnmpMessage, rinfo: dgram.RemoteInfo, kind: ReportKind, reportable: boolean, user?: NetSnmpUser, level?: number): void {
    const count = (this.counters.reports[kind] ?? 0) + 1;
    this.counters.reports[kind] = count;
    if (!reportable) return;
    const t = this.engineTime();
    const context = message.pdu?.contextName ?? '';
    const report = message.createReportResponseMessage({ engineID: this.engineId, engineBoots: t.boots, engineTime: t.time }, context);
    if (!report.pdu || !report.msgGlobalData || !report.msgSecurityParameters) throw new Error('net-snmp report message without PDU or headers');
    report.pdu.varbinds = [{ oid: REPORT_OIDS[kind], type: COUNTER32_TYPE, value: count }];
    if (message.pdu) report.pdu.id = message.pdu.id;
    const secured = user ? (level ?? SECURITY_LEVEL.authNoPriv) : SECURITY_LEVEL.noAuthNoPriv;
    if (user && secured > SECURITY_LEVEL.noAuthNoPriv) {
      report.user = secured === SECURITY_LEVEL.authPriv ? user : { name: user.name, level: SECURITY_LEVEL.authNoPriv, authProtocol: user.authProtocol!, authKey: user.authKey! };
      report.msgSecurityParameters.msgUserName = user.name;
    }
    // net-snmp marks reports reportable; RFC 3412 §6.4 says a Report never is.
    report.msgGlobalData.msgFlags = secured === SECURITY_LEVEL.authPriv ? FLAG_AUTH | FLAG_PRIV : secured === SECURITY_LEVEL.authNoPriv ? FLAG_AUTH : 0;
    this.send(report.toBuffer(), rinfo);
  }

  private send(buffer: Buffer, rinfo: dgram.RemoteInfo): void {
    const socket = this.socket;
    if (!socket) return;
    this.counters.answered++;
    socket.send(buffer, rinfo.port, rinfo.address, (e) => {
      if (e) this.opts.logger.debug('snmp send failed', { port: this.port(), error: e });
    });
  }
}
