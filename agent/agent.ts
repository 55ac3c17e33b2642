import { join } from 'node:path';
import { DCIM_VERSION, DcimError, describeNetworkError, SystemClock, topics, type Clock, type DeviceProfile, type DeviceStatus, type SiteInventory } from '../contract/index.js';
import { createLogger, type Logger } from '../shared/log.js';
import type { AgentMqttOptions, AgentSpoolOptions } from './config.js';
import type { DeviceReader, PollResult, ReadOptions, RequestPolicy } from './device-reader.js';
import { selectDevices, type AgentDevice } from './devices.js';
import type { ModbusTransport } from './modbus/modbus-transport.js';
import { Publisher, type PublisherStats } from './publisher.js';
import { createDeviceReader } from './reader-factory.js';
import { Scheduler, type ScheduledDevice, type SchedulerStats } from './scheduler.js';
import { SeqStore } from './seq-store.js';
import { SnmpSocketPool, emptySnmpSocketPoolStats, type SnmpSocketPoolStats } from './snmp/snmp-socket-pool.js';
import { buildTelemetry } from './telemetry.js';
import { countImplausible, isPlausibilityCode, type PlausibilityCode } from './plausibility/plausibility.js';
// --- self-metrics (H-ops) ---
import { formatListenAddress, type ListenAddress } from './metrics/listen-address.js';
import { AgentSelfMetrics, DEFAULT_HEALTH_INTERVAL_MS } from './metrics/self-metrics.js';
// --- end self-metrics ---
import { DEFAULT_MAX_IN_FLIGHT, DEFAULT_REPLAY_RATE_PER_S, SpoolOutbox, emptyOutboxStats, type OutboxStats, type TelemetryOutbox } from './telemetry-outbox.js';
import { DEFAULT_FSYNC, MIB, Spool } from '../shared/spool/spool.js';

/**
 * The agent's composition root: builds every part once and wires them (after
 * Zigbee2MQTT's controller). Readers per device → scheduler → telemetry builder (seq) →
 * outbox → disk spool → publisher (deleted from the spool on PUBACK); device status changes →
 * publisher directly (retained state, not history), and again after every reconnect so a
 * broker restart loses no state.
 */
export interface AgentOptions {
  id: string;
  inventory: SiteInventory;
  profiles: ReadonlyMap<string, DeviceProfile>;
  mqtt: AgentMqttOptions;
  /** Where seq and bd_seq survive restarts. */
  stateDir: string;
  clock?: Clock;
  logger?: Logger;
  /** Poll only these inventory devices (default: all). */
  deviceIds?: readonly string[];
  /** Request policy per protocol; a device's own `timeout_ms` / `retries` (seed) win. */
  snmp?: RequestPolicy;
  modbus?: RequestPolicy;
  redfish?: RequestPolicy;
  prometheus?: RequestPolicy;
  /** Polls in flight at once, all devices together (default 64). */
  maxConcurrent?: number;
  maxJitterMs?: number;
  /** Longest wait between probes of a dead device (default 5 min). */
  backoffMaxMs?: number;
  /** Where `{env: …}` secrets are looked up. */
  env?: NodeJS.ProcessEnv;
  reconnectPeriodMs?: number;
  /** The telemetry spool; every field defaults (SPOOL_DEFAULTS, dir `<stateDir>/spool`). */
  spool?: Partial<AgentSpoolOptions>;
  /** Supply a device's reader instead of building one from its profile (tests, embedders). */
  readerFor?: (device: AgentDevice) => DeviceReader | undefined;
  // --- self-metrics (H-ops) ---
  /** Serve Prometheus /metrics here (port 0: any free port); undefined: no endpoint. */
  metrics?: ListenAddress;
  /** How often the retained agent state is republished with the `health` map; default 60 s. */
  health?: { intervalMs: number };
  // --- end self-metrics ---
}

export const SPOOL_DEFAULTS: AgentSpoolOptions = {
  maxBytes: 512 * MIB,
  maxAgeMs: 72 * 3_600_000,
  replayRatePerS: DEFAULT_REPLAY_RATE_PER_S,
  maxInFlight: DEFAULT_MAX_IN_FLIGHT,
  fsync: DEFAULT_FSYNC,
};

export interface AgentStats {
  agent: string;
  site: string;
  devices: number;
  seq_next: number;
  readings_dropped: number;
  /** Readings published uncertain or bad by the plausibility checks (sentinels included), by code, per device. */
  implausible: Record<string, Partial<Record<PlausibilityCode, number>>>;
  mqtt: PublisherStats;
  /** Spool and sender; after stop(), their last values. */
  telemetry: OutboxStats;
  polling: SchedulerStats;
  /** The shared SNMP sockets: requests, timeouts, and answers refused (invalid, malformed, stray). */
  snmp: SnmpSocketPoolStats;
}

interface Running {
  seq: SeqStore;
  spool: Spool;
  publisher: Publisher;
  outbox: TelemetryOutbox;
  scheduler: Scheduler;
  readers: DeviceReader[];
  /** Every SNMP device's requests go through its sockets (one per address family). */
  snmpPool: SnmpSocketPool;
  statusWrites: Set<Promise<unknown>>;
  selfMetrics: AgentSelfMetrics; // self-metrics (H-ops)
}

export class Agent {
  private running: Running | undefined;
  private readingsDropped = 0;
  private readonly implausible: Record<string, Partial<Record<PlausibilityCode, number>>> = {};
  private lastTelemetry: OutboxStats = emptyOutboxStats();

  constructor(private readonly opts: AgentOptions) {}

  async start(): Promise<void> {
    if (this.running) return;
    const o = this.opts;
    const clock = o.clock ?? new SystemClock();
    const logger = (o.logger ?? createLogger()).child({ component: 'agent', agent: o.id, site: o.inventory.site.id });
    const site = o.inventory.site.id;

    const sel = selectDevices(o.inventory, o.profiles, o.deviceIds, o.id);
    if (sel.problems.length > 0) {
      const code = sel.problems.every((p) => p.code === 'DCIM_E_PROFILE_UNKNOWN') ? 'DCIM_E_PROFILE_UNKNOWN' : 'DCIM_E_CONFIG_INVALID';
      throw new DcimError(code, `agent ${o.id}: ${sel.problems.length} problem(s) with its devices`, sel.problems.map((p) => `${p.where}: ${p.path.join('.')}: ${p.message}`));
    }

    const seq = new SeqStore({ file: join(o.stateDir, 'seq.json'), block: 1000, now: () => clock.now(), onCorrupt: (r) => logger.error(r) });
    const bdSeq = new SeqStore({ file: join(o.stateDir, 'bd-seq.json'), block: 1, now: () => clock.now(), onCorrupt: (r) => logger.error(r) });
    seq.open();
    bdSeq.open();

    const publisher = new Publisher({
      url: o.mqtt.url,
      clientId: o.mqtt.clientId ?? `dcim-agent-${site}-${o.id}`,
      username: o.mqtt.username,
      password: o.mqtt.password,
      tls: o.mqtt.tls,
      site,
      agentId: o.id,
      devices: sel.devices.length,
      version: DCIM_VERSION,
      bdSeq,
      clock,
      logger,
      ...(o.reconnectPeriodMs !== undefined ? { reconnectPeriodMs: o.reconnectPeriodMs } : {}),
    });
    const sp = { ...SPOOL_DEFAULTS, ...o.spool };
    const spool = this.openSpool(sp, clock, logger);
    const outbox = new SpoolOutbox({ spool, publisher, clock, logger, maxInFlight: sp.maxInFlight, replayRatePerS: sp.replayRatePerS });
    const statusWrites = new Set<Promise<unknown>>();
    const publishStatus = (device: string, status: DeviceStatus) => {
      if (!publisher.connected) return; // republished from scheduler.statuses() on (re)connect
      const p = publisher.publish(topics.deviceStatus(site, o.id, device), status, { retain: true });
      statusWrites.add(p);
      void p.finally(() => statusWrites.delete(p));
    };

    const snmpPool = new SnmpSocketPool({ clock, logger: logger.child({ part: 'snmp' }) });
    const readers = this.buildReaders(sel.devices, clock, logger, snmpPool);
    const classes = new Map(sel.devices.map((d) => [d.device.id, d.profile.class]));
    const scheduler = new Scheduler({
      devices: sel.devices.map((d, i) => new ScheduledReader(d.device.id, d.device.interval_s * 1000, readers[i] as DeviceReader)),
      clock,
      logger,
      ...(o.maxConcurrent !== undefined ? { maxConcurrent: o.maxConcurrent } : {}),
      ...(o.maxJitterMs !== undefined ? { maxJitterMs: o.maxJitterMs } : {}),
      ...(o.backoffMaxMs !== undefined ? { backoffMaxMs: o.backoffMaxMs } : {}),
      sink: {
        poll: (device: string, ts: number, result: PollResult) => {
          const { message, dropped } = buildTelemetry({ agent: o.id, site, device, deviceClass: classes.get(device) ?? 'generic', seq: seq.next(), ts, result });
          if (dropped.length > 0) {
            this.readingsDropped += dropped.length;
            logger.warn('readings dropped', { code: 'DCIM_E_READING_INVALID', device, dropped });
          }
          // A device gets its counts at its first implausible reading: most never have one.
          const counts = this.implausible[device];
          if (counts) countImplausible(message.readings, counts);
          else if (message.readings.some((r) => isPlausibilityCode(r.error))) countImplausible(message.readings, (this.implausible[device] = {}));
          outbox.submit(message);
        },
        status: (device: string, status: DeviceStatus) => {
          logger.info('device status', { device, state: status.state, code: status.code });
          publishStatus(device, status);
        },
      },
    });
    publisher.onConnect(() => {
      for (const [device, status] of scheduler.statuses()) publishStatus(device, status);
    });

    // --- self-metrics (H-ops): /metrics and the health map in the retained agent state (README "Metrics") ---
    const startedMs = clock.now();
    const selfMetrics = new AgentSelfMetrics({
      snapshot: () => {
        const statuses = scheduler.statuses();
        return { stats: this.stats(), version: DCIM_VERSION, started_ms: startedMs, now_ms: clock.now(), devices: sel.devices.map((d) => ({ id: d.device.id, profile: d.profile.id, state: statuses.get(d.device.id)?.state })) };
      },
      summary: () => ({
        stats: this.stats({ perDevice: false }),
        version: DCIM_VERSION,
        devices_count: sel.devices.length,
        totals: scheduler.totals(),
        states: scheduler.stateCounts(),
        started_ms: startedMs,
        now_ms: clock.now(),
      }),
      publishHealth: async (health) => {
        if (!publisher.connected) return false; // the birth after the reconnect is followed by publishNow()
        const state = { online: true, ts: Math.max(1, Math.round(clock.now())), version: DCIM_VERSION, devices: sel.devices.length, bd_seq: publisher.stats().bd_seq, health };
        return (await publisher.publish(publisher.stateTopic, state, { retain: true })).ok;
      },
      listen: o.metrics,
      healthIntervalMs: o.health?.intervalMs ?? DEFAULT_HEALTH_INTERVAL_MS,
      clock,
      logger: logger.child({ part: 'metrics' }),
    });
    try {
      await selfMetrics.start();
    } catch (e) {
      await spool.close();
      await Promise.all(readers.map((x) => x.close()));
      snmpPool.close();
      const net = describeNetworkError(e);
      throw new DcimError(net?.code ?? 'DCIM_E_CONFIG_INVALID', `agent ${o.id}: cannot serve metrics on ${formatListenAddress(o.metrics as ListenAddress)}: ${net?.reason ?? (e as Error).message}`);
    }
    // Right after every birth, so the retained state carries health again at once.
    publisher.onConnect(() => void selfMetrics.publishNow());
    // --- end self-metrics ---

    this.running = { seq, spool, publisher, outbox, scheduler, readers, snmpPool, statusWrites, selfMetrics };
    outbox.start();
    publisher.start();
    scheduler.start();
    logger.info('agent started', { devices: sel.devices.map((d) => d.device.id), version: DCIM_VERSION });
  }

  /**
   * Finish the polls in flight, wait (≤ 2 s) for the PUBACKs of messages in flight, publish
   * the offline state, close the spool and every connection. Unacknowledged telemetry stays
   * in the spool for the next start.
   */
  async stop(): Promise<void> {
    const r = this.running;
    if (!r) return;
    this.running = undefined;
    await r.selfMetrics.stop(); // self-metrics (H-ops)
    await r.scheduler.stop();
    await Promise.race([Promise.all([r.outbox.stop(2000), ...r.statusWrites]), new Promise((res) => setTimeout(res, 2000))]);
    await r.publisher.stop();
    await r.spool.close();
    this.lastTelemetry = r.outbox.stats();
    await Promise.all(r.readers.map((x) => x.close()));
    r.snmpPool.close();
  }

  // --- self-metrics (H-ops) ---
  /** The /metrics URL while running with an endpoint (with the port actually bound). */
  metricsUrl(): string | undefined {
    return this.running?.selfMetrics.url;
  }
  // --- end self-metrics ---

  /**
   * `perDevice: false` leaves `polling.devices` empty: the sums the health map and a benchmark
   * need come from the scheduler's columns (scheduler.totals()), and 10,000 per-device objects
   * for nothing would outlive the young generation.
   */
  stats(opts: { perDevice?: boolean } = {}): AgentStats {
    const r = this.running;
    return {
      agent: this.opts.id,
      site: this.opts.inventory.site.id,
      devices: r ? r.readers.length : 0,
      seq_next: r ? r.seq.peek() : 0,
      readings_dropped: this.readingsDropped,
      implausible: structuredClone(this.implausible),
      mqtt: r ? r.publisher.stats() : { connected: false, connects: 0, bd_seq: -1, published: 0, refused_offline: 0, refused_invalid: 0, refused_by_broker: 0, failed: 0 },
      telemetry: r ? r.outbox.stats() : this.lastTelemetry,
      polling: r ? r.scheduler.stats(opts) : { in_flight: 0, queued: 0, probes_queued: 0, devices: {} },
      snmp: r ? r.snmpPool.stats() : emptySnmpSocketPoolStats(),
    };
  }

  /** Recovers what a previous run left (torn tail, corrupt segments); throws if another agent holds it. */
  private openSpool(sp: AgentSpoolOptions, clock: Clock, logger: Logger): Spool {
    const spool = new Spool({
      dir: sp.dir ?? join(this.opts.stateDir, 'spool'),
      maxBytes: sp.maxBytes,
      maxAgeMs: sp.maxAgeMs,
      fsync: sp.fsync,
      ...(sp.segmentBytes !== undefined ? { segmentBytes: sp.segmentBytes } : {}),
      clock,
      logger: logger.child({ part: 'spool' }),
    });
    spool.open();
    return spool;
  }

  private buildReaders(devices: AgentDevice[], clock: Clock, logger: Logger, snmpPool: SnmpSocketPool): DeviceReader[] {
    const o = this.opts;
    // One connection per Modbus endpoint: devices behind one gateway share it, one request at a time.
    const modbusLinks = new Map<string, ModbusTransport>();
    const ctx = {
      clock,
      logger,
      modbusLinks,
      snmpPool,
      ...(o.env ? { env: o.env } : {}),
      ...(o.snmp ? { snmp: o.snmp } : {}),
      ...(o.modbus ? { modbus: o.modbus } : {}),
      ...(o.redfish ? { redfish: o.redfish } : {}),
      ...(o.prometheus ? { prometheus: o.prometheus } : {}),
    };
    return devices.map((d) => o.readerFor?.(d) ?? createDeviceReader(d, ctx));
  }
}

/** A device as the scheduler sees it: one small object per device, its read on the prototype (no closure each). */
class ScheduledReader implements ScheduledDevice {
  constructor(
    readonly id: string,
    readonly intervalMs: number,
    private readonly reader: DeviceReader,
  ) {}

  read(opts: ReadOptions): Promise<PollResult> {
    return this.reader.read(opts);
  }
}
