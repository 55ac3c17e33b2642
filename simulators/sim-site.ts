import { DcimError, SystemClock, profilePoints, type Clock, type Device, type DeviceProfile, type SiteInventory, type TimerHandle } from '../contract/index.js';
import { createLogger, type Logger } from '../shared/log.js';
import { loadProfiles } from '../profiles/catalogue.js';
import { resolveSecret } from '../shared/config/secrets.js';
import { encodeModbusImage } from './encode/modbus-registers.js';
import { encodeRedfishDocuments } from './encode/redfish-documents.js';
import { encodeSnmpValues } from './encode/snmp-values.js';
import { FaultBook, type FaultEntry, type FaultTransition } from './faults/fault-book.js';
import { faultProblem, type FaultTarget } from './faults/fault-rules.js';
import type { FaultKind, FaultSpec } from './faults/fault-spec.js';
import { isCounterName } from './faults/value-faults.js';
import type { DeviceQuantities } from './model/quantities.js';
import { Rng, hash32 } from './model/rng.js';
import { createSiteModel, type SiteModel } from './model/site.js';
import { ModbusEndpoint, type ModbusEndpointStats, type ModbusTransport, type ModbusUnitBinding } from './servers/modbus-endpoint.js';
import { RedfishEndpoint, type RedfishEndpointStats, type TlsMaterial } from './servers/redfish-endpoint.js';
import { selfSignedTls } from './servers/self-signed-tls.js';
import { ProfileShared, ServedDevice, type ServingContext } from './servers/served-device.js';
import { SnmpEndpoint, type SnmpDeviceBinding, type SnmpEndpointStats } from './servers/snmp-endpoint.js';
import { engineBootsAt, type AuthProtocolName, type PrivProtocolName } from './servers/snmp-usm.js';
import { parseSimHints } from './sim-hints.js';
import { TruthRecorder, type SiteTruth, type TruthQuery } from './truth/truth-recorder.js';

/**
 * A simulated site: the physical model (model/), stepped in simulated time, served over the
 * real protocols (servers/) through the same device profiles the agent reads (encode/), with
 * faults (faults/) and the ground truth (truth/). This file only wires them: it owns the
 * timer, the fault book and the endpoints.
 */

export interface SimSiteOptions {
  inventory: SiteInventory;
  /** The seed file, for error messages. */
  file?: string;
  /** Defaults to the built-in profiles (profiles/devices). */
  profiles?: Map<string, DeviceProfile>;
  clock?: Clock;
  /** Simulated seconds per real second; default 1. */
  speed?: number;
  /** `seed`: the ports in the inventory; `ephemeral`: a free port for every endpoint. */
  bind?: 'seed' | 'ephemeral';
  rngSeed?: number;
  logger?: Logger;
  /** Model step in simulated milliseconds; default 1000. */
  tickMs?: number;
  /** Faults from a `--faults` file by device id, on top of the seed's `sim.faults`. */
  faults?: Readonly<Record<string, readonly FaultSpec[]>>;
  /** Key and certificate for HTTPS BMCs; default: a self-signed pair made with openssl at start. */
  tls?: () => Promise<TlsMaterial>;
  /**
   * Small zero-mean noise (±0.2 %, seeded) on the live points served, as real meters show even on
   * a steady load; the model, the counters and the truth stay exact. Default true; false serves
   * the model's values exactly.
   */
  measurement_noise?: boolean;
}

export interface SimEndpoint {
  device: string;
  protocol: 'snmp' | 'modbus' | 'redfish';
  host: string;
  port: number;
  community?: string;
  snmp_version?: '1' | '2c' | '3';
  user?: string;
  context?: string;
  unit_id?: number;
  transport?: ModbusTransport;
  scheme?: 'http' | 'https';
}

/** One listening socket and how many devices it serves. */
export interface SimListener {
  protocol: 'snmp' | 'modbus' | 'redfish';
  host: string;
  port: number;
  transport?: ModbusTransport;
  /** SNMP: the engine id (hex) v3 managers discover. */
  engine_id?: string;
  scheme?: 'http' | 'https';
  devices: number;
  stats: SnmpEndpointStats | ModbusEndpointStats | RedfishEndpointStats;
}

/** The truth recorder's document, plus the original top-level fields older callers read. */
export type SimTruth = SiteTruth & {
  /** = live.pue; 0 when there is no IT load (original field; read live.pue). */
  pue: number;
  it_power_w: number;
  facility_power_w: number;
  outdoor_temp_c: number;
};

export interface FaultView {
  kind: FaultKind;
  spec: FaultSpec;
  state: 'scheduled' | 'active';
  start_sim_ts: number;
  end_sim_ts: number | null;
}

export type FaultOutcome<T> = { ok: true; value: T } | { ok: false; status: 404 | 409 | 422; message: string };

export interface SimSite {
  readonly id: string;
  readonly name: string;
  /** The inventory with the ports actually bound. */
  inventory(): SiteInventory;
  /** Ground truth of the state that was served at real time `ts` (default: now). */
  truth(ts?: number, query?: TruthQuery): SimTruth;
  endpoints(): SimEndpoint[];
  listeners(): SimListener[];
  /** Served device ids. */
  deviceIds(): string[];
  /** What a device serves now: its quantities after its value faults (undefined: not served). */
  servedQuantities(device: string): DeviceQuantities | undefined;
  faults(device: string): FaultOutcome<FaultView[]>;
  putFault(device: string, spec: FaultSpec): FaultOutcome<FaultView>;
  removeFaults(device: string, kind?: FaultKind): FaultOutcome<FaultView[]>;
  stop(): Promise<void>;
}

/** Real-time floor between model updates, so a high speed does not spin the event loop. */
const MIN_REAL_TICK_MS = 20;
/** Steps run per update; a longer stall is caught up in one coarse step (logged). */
const MAX_STEPS_PER_UPDATE = 10_000;
/** Per-device truth history is capped at about this many bytes per site (16 bytes per device per record). */
const TRUTH_DEVICE_BYTES = 32 * 1024 * 1024;

export async function startSimSite(opts: SimSiteOptions): Promise<SimSite> {
  const site = new SimSiteRunner(opts);
  await site.start();
  return site;
}

type Endpoint = SnmpEndpoint | ModbusEndpoint | RedfishEndpoint;

interface Group {
  protocol: 'snmp' | 'modbus' | 'redfish';
  host: string;
  port: number;
  members: { index: number; served: ServedDevice }[];
}

export class SimSiteRunner implements SimSite {
  readonly id: string;
  readonly name: string;
  private clock: Clock = new SystemClock();
  private logger: Logger = createLogger();
  private model: SiteModel | undefined;
  private recorder: TruthRecorder | undefined;
  private book = new FaultBook(0);
  private readonly devices = new Map<string, { index: number; served: ServedDevice; target: FaultTarget }>();
  private readonly endpointsByDevice = new Map<string, Endpoint>();
  private readonly endpointList: { endpoint: Endpoint; group: Group; transport?: ModbusTransport }[] = [];
  private bound: SiteInventory | undefined;
  private servedEndpoints: SimEndpoint[] = [];
  private timer: TimerHandle | undefined;
  private running = false;
  private real_start = 0;
  private steps_done = 0;
  private served_version = 0;
  private last_model_version = -1;
  private rng = new Rng(1);
  private tls: Promise<TlsMaterial> | undefined;

  constructor(private readonly opts: SimSiteOptions) {
    this.id = opts.inventory.site.id;
    this.name = opts.inventory.site.name;
  }

  async start(): Promise<void> {
    const { inventory } = this.opts;
    const file = this.opts.file ?? `site ${inventory.site.id}`;
    this.clock = this.opts.clock ?? new SystemClock();
    this.logger = (this.opts.logger ?? createLogger()).child({ component: 'simulator', site: inventory.site.id });
    const speed = this.speed();
    const tickMs = this.tickMs();
    const seed = this.opts.rngSeed ?? 1;
    const profiles = this.opts.profiles ?? loadProfiles();
    this.rng = new Rng(seed ^ hash32(`${inventory.site.id}/faults`));

    const unknown = inventory.devices.flatMap((d, i) => (profiles.has(d.profile) ? [] : [`${file}: devices[${i}] (${d.id}): unknown profile ${d.profile}`]));
    if (unknown.length > 0) throw new DcimError('DCIM_E_PROFILE_UNKNOWN', `simulator: ${unknown.length} device(s) name an unknown profile`, unknown);
    const built = createSiteModel(inventory, seed, { profiles, file });
    if (!built.ok) throw new DcimError('DCIM_E_CONFIG_INVALID', `simulator: site ${inventory.site.id} cannot be simulated`, built.problems);
    const model = built.model;
    this.model = model;
    for (const s of built.skipped) this.logger.warn('device not simulated', { device: s.device, reason: s.reason });

    this.real_start = this.clock.now();
    model.reset(this.real_start);
    this.last_model_version = model.version;
    this.book = new FaultBook(model.sim_ts);
    const perDevice = Math.max(1, model.deviceIds.length) * 16;
    this.recorder = new TruthRecorder({ model, inventory, device_window: Math.max(128, Math.min(4096, Math.floor(TRUTH_DEVICE_BYTES / perDevice))) });
    this.recorder.record(this.real_start);

    this.servedDevices(profiles, file);
    const scripted = this.scriptedFaults(file);
    this.bound = structuredClone(inventory);
    try {
      await this.startEndpoints();
      this.startFaults(scripted);
    } catch (e) {
      await this.stopEndpoints();
      throw e;
    }
    this.running = true;
    this.schedule();
    this.logger.info('simulator started', { speed, tick_ms: tickMs, listeners: this.endpointList.length, devices: this.devices.size });
  }

  inventory(): SiteInventory {
    if (!this.bound) throw new Error('simulator not started');
    return structuredClone(this.bound);
  }

  endpoints(): SimEndpoint[] {
    return this.servedEndpoints.map((e) => ({ ...e }));
  }

  listeners(): SimListener[] {
    return this.endpointList.map(({ endpoint, group, transport }) => ({
      protocol: group.protocol,
      host: group.host,
      port: endpoint.port(),
      ...(transport ? { transport } : {}),
      ...(endpoint instanceof SnmpEndpoint ? { engine_id: endpoint.engineIdHex() } : {}),
      ...(endpoint instanceof RedfishEndpoint ? { scheme: endpoint.scheme() } : {}),
      devices: group.members.length,
      stats: endpoint.stats(),
    }));
  }

  deviceIds(): string[] {
    return [...this.devices.keys()];
  }

  servedQuantities(device: string): DeviceQuantities | undefined {
    return this.devices.get(device)?.served.quantities();
  }

  truth(ts?: number, query?: TruthQuery): SimTruth {
    if (!this.recorder) throw new Error('simulator not started');
    const t = this.recorder.truth(ts, query);
    return {
      ...t,
      pue: t.live.pue ?? 0,
      it_power_w: t.live.it_power_w,
      facility_power_w: t.live.facility_power_w,
      outdoor_temp_c: t.live.outdoor_temp_c,
    };
  }

  faults(device: string): FaultOutcome<FaultView[]> {
    if (!this.devices.has(device)) return { ok: false, status: 404, message: `no served device ${device} in site ${this.id}` };
    return { ok: true, value: this.book.list(device).map(view) };
  }

  putFault(device: string, spec: FaultSpec): FaultOutcome<FaultView> {
    const d = this.devices.get(device);
    if (!d) return { ok: false, status: 404, message: `no served device ${device} in site ${this.id}` };
    const problem = faultProblem(spec, d.target);
    if (problem) return { ok: false, status: 422, message: `${spec.kind} on ${device}: ${problem}` };
    const conflict = this.skewConflict(device, spec);
    if (conflict) return { ok: false, status: 409, message: conflict };
    const model = this.model!;
    this.applyTransitions(this.book.put(device, spec, model.sim_ts, (id) => model.quantities(id)));
    const entry = this.book.list(device).find((e) => e.spec.kind === spec.kind)!;
    this.logger.info('fault set', { device, kind: spec.kind, active: entry.active });
    return { ok: true, value: view(entry) };
  }

  removeFaults(device: string, kind?: FaultKind): FaultOutcome<FaultView[]> {
    if (!this.devices.has(device)) return { ok: false, status: 404, message: `no served device ${device} in site ${this.id}` };
    const before = this.book.list(device).filter((e) => kind === undefined || e.spec.kind === kind);
    if (kind !== undefined && before.length === 0) return { ok: false, status: 404, message: `device ${device} has no ${kind} fault` };
    this.applyTransitions(this.book.remove(device, kind));
    this.logger.info('fault cleared', { device, kind: kind ?? 'all' });
    return { ok: true, value: before.map(view) };
  }

  async stop(): Promise<void> {
    this.running = false;
    this.timer?.cancel();
    this.timer = undefined;
    await this.stopEndpoints();
    this.logger.info('simulator stopped');
  }

  private speed(): number {
    const speed = this.opts.speed ?? 1;
    if (!(speed > 0 && Number.isFinite(speed))) throw new DcimError('DCIM_E_CONFIG_INVALID', `simulator: speed must be a positive number, got ${speed}`);
    return speed;
  }

  private tickMs(): number {
    const tick = this.opts.tickMs ?? 1000;
    if (!(tick >= 1 && Number.isFinite(tick))) throw new DcimError('DCIM_E_CONFIG_INVALID', `simulator: tickMs must be ≥ 1, got ${tick}`);
    return tick;
  }

  /** The serving context every device of the site shares. */
  private context(): ServingContext {
    return {
      quantities: (id) => this.model!.quantities(id),
      version: () => this.servedVersion(),
      faults: this.book,
      rand: () => this.rng.next(),
      uptimeMs: () => this.clock.now() - this.real_start,
      noise: this.opts.measurement_noise === false ? undefined : { seed: hash32(`${this.id}/noise`) ^ (this.opts.rngSeed ?? 1), simTs: () => this.model!.sim_ts },
    };
  }

  private servedVersion(): number {
    const v = this.model!.version;
    if (v !== this.last_model_version) {
      this.last_model_version = v;
      this.served_version++;
    }
    return this.served_version;
  }

  /** Devices the model covers, with a known profile; every encoding gap fails the start, all listed. */
  private servedDevices(profiles: Map<string, DeviceProfile>, file: string): void {
    const model = this.model!;
    const ctx = this.context();
    const shared = new ProfileShared();
    const problems: string[] = [];
    this.opts.inventory.devices.forEach((device, index) => {
      if (model.deviceIndex(device.id) < 0) return;
      const where = `${file}: devices[${index}] (${device.id})`;
      const profile = profiles.get(device.profile)!;
      if (profile.protocol !== device.address.protocol) {
        problems.push(`${where}: profile ${profile.id} speaks ${profile.protocol}, the address ${device.address.protocol}`);
        return;
      }
      if (profile.protocol === 'prometheus') {
        problems.push(`${where}: profile ${profile.id} is read from a Prometheus exporter; the simulators serve none`);
        return;
      }
      const served = new ServedDevice(device, profile, ctx, shared);
      const q = served.quantities();
      if (!q) return;
      if (profile.protocol === 'snmp') {
        problems.push(...encodeSnmpValues(profile, q).problems.map((p) => `${where}: ${p}`));
      } else if (profile.protocol === 'redfish') {
        problems.push(...encodeRedfishDocuments(profile, q, { name: device.id }).problems.map((p) => `${where}: ${p}`));
      } else {
        const enc = encodeModbusImage(profile, q);
        problems.push(...enc.problems.map((p) => `${where}: ${p}`));
        if (enc.missing.length > 0) problems.push(`${where}: the model has no value for ${enc.missing.join(', ')} of profile ${profile.id}`);
      }
      const counters = profilePoints(profile).map((p) => p.name).filter(isCounterName);
      const moduli = shared.counterModuli(profile);
      const target: FaultTarget = {
        protocol: profile.protocol,
        snmp_version: device.address.protocol === 'snmp' ? device.address.version : undefined,
        counters,
        wrapping_counters: counters.filter((c) => moduli.has(c)),
        can_fail: model.canFail(device.id),
      };
      this.devices.set(device.id, { index, served, target });
    });
    if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `simulator: ${problems.length} device problem(s)`, problems);
  }

  /** The seed's `sim.faults` and the faults file, checked before anything listens. */
  private scriptedFaults(file: string): { device: string; spec: FaultSpec; where: string }[] {
    const inventory = this.opts.inventory;
    const hints = parseSimHints(inventory, file);
    const problems: string[] = [];
    const out: { device: string; spec: FaultSpec; where: string }[] = [];
    const add = (device: string, spec: FaultSpec, where: string) => {
      const d = this.devices.get(device);
      const problem = d ? faultProblem(spec, d.target) : `no served device ${device} (not in the seed, or not simulated)`;
      if (problem) problems.push(`${where}: ${problem}`);
      else out.push({ device, spec, where });
    };
    inventory.devices.forEach((d, i) => (hints.devices[i]?.faults ?? []).forEach((f, k) => add(d.id, f, `${file}: devices[${i}].sim.faults[${k}]`)));
    for (const [device, specs] of Object.entries(this.opts.faults ?? {})) specs.forEach((f, k) => add(device, f, `faults file: ${device}[${k}]`));
    if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `simulator: ${problems.length} fault problem(s)`, problems);
    return out;
  }

  /** Scripted faults join the book once the endpoints exist (a clock skew needs its engine). */
  private startFaults(scripted: readonly { device: string; spec: FaultSpec; where: string }[]): void {
    const model = this.model!;
    const problems: string[] = [];
    for (const f of scripted) {
      const conflict = this.skewConflict(f.device, f.spec);
      if (conflict) problems.push(`${f.where}: ${conflict}`);
      else this.applyTransitions(this.book.put(f.device, f.spec, model.sim_ts, (id) => model.quantities(id)));
    }
    if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `simulator: ${problems.length} fault problem(s)`, problems);
  }

  /**
   * SNMPv3 devices behind one port share one engine, hence one clock: two different skews there
   * cannot both be true.
   */
  private skewConflict(device: string, spec: FaultSpec): string | undefined {
    if (spec.kind !== 'clock_skew') return undefined;
    const d = this.devices.get(device);
    if (!d || d.target.protocol !== 'snmp') return undefined;
    const a = d.served.device.address;
    for (const [other, o] of this.devices) {
      if (other === device || o.target.snmp_version !== '3') continue;
      const b = o.served.device.address;
      if (b.host !== a.host || b.port !== a.port) continue;
      const skew = this.book.list(other).find((e) => e.spec.kind === 'clock_skew')?.spec;
      if (skew && skew.kind === 'clock_skew' && skew.skew_s !== spec.skew_s) {
        return `clock_skew on ${device}: ${other} shares its SNMP engine (${a.host}:${a.port}) with a skew of ${skew.skew_s} s; one engine has one clock`;
      }
    }
    return undefined;
  }

  private applyTransitions(transitions: FaultTransition[]): void {
    if (transitions.length === 0) return;
    this.served_version++;
    const model = this.model!;
    for (const t of transitions) {
      if (t.entry.spec.kind === 'equipment_failure') model.setEquipmentFailure(t.device, t.change === 'start');
      if (t.entry.spec.kind === 'clock_skew') this.updateEngineSkew(t.device);
      this.logger.info(t.change === 'start' ? 'fault began' : 'fault ended', { device: t.device, kind: t.entry.spec.kind });
    }
  }

  private updateEngineSkew(device: string): void {
    const endpoint = this.endpointsByDevice.get(device);
    if (!(endpoint instanceof SnmpEndpoint)) return;
    let skew = 0;
    for (const [id, e] of this.endpointsByDevice) {
      if (e !== endpoint) continue;
      const f = this.book.activeSpecs(id).find((s) => s.kind === 'clock_skew');
      if (f && f.kind === 'clock_skew') skew = f.skew_s * 1000;
    }
    endpoint.setClockSkew(skew);
  }

  private async startEndpoints(): Promise<void> {
    const ephemeral = this.opts.bind === 'ephemeral';
    const groups = new Map<string, Group>();
    for (const [, { index, served }] of this.devices) {
      const a = served.device.address;
      // servedDevices refuses Prometheus devices: the simulators serve no exporter.
      if (a.protocol === 'prometheus') continue;
      const key = `${a.protocol}|${a.host}|${a.port}`;
      let g = groups.get(key);
      if (!g) groups.set(key, (g = { protocol: a.protocol, host: a.host, port: a.port, members: [] }));
      g.members.push({ index, served });
    }
    const problems: string[] = [];
    const planned: { group: Group; endpoint: Endpoint; transport?: ModbusTransport }[] = [];
    for (const group of groups.values()) {
      const port = ephemeral ? 0 : group.port;
      if (group.protocol === 'snmp') {
        const devices: SnmpDeviceBinding[] = [];
        for (const m of group.members) {
          try {
            devices.push(this.snmpBinding(m.served, m.index));
          } catch (e) {
            problems.push(`devices[${m.index}] (${m.served.id}): ${(e as Error).message}`);
          }
        }
        planned.push({ group, endpoint: new SnmpEndpoint({ host: group.host, port, devices, logger: this.logger, clock: this.clock, engine_id_seed: `${this.id}/${group.host}:${group.port}`, engine_boots: engineBootsAt(this.real_start) }) });
      } else if (group.protocol === 'redfish') {
        // One BMC per port: the inventory refuses two Redfish devices on one address.
        const m = group.members[0]!;
        try {
          planned.push({ group, endpoint: await this.redfishEndpoint(m.served, m.index, port) });
        } catch (e) {
          problems.push(`devices[${m.index}] (${m.served.id}): ${(e as Error).message}`);
        }
      } else {
        const transports = new Set(group.members.map((m) => (m.served.device.address.protocol === 'modbus' ? m.served.device.address.transport : 'tcp')));
        if (transports.size > 1) {
          problems.push(`${group.host}:${group.port}: Modbus devices on one port must share a transport, found ${[...transports].join(' and ')}`);
          continue;
        }
        const transport = [...transports][0] as ModbusTransport;
        const units: ModbusUnitBinding[] = group.members.map((m) => this.modbusBinding(m.served));
        planned.push({ group, transport, endpoint: new ModbusEndpoint({ host: group.host, port, transport, units, logger: this.logger, clock: this.clock }) });
      }
    }
    if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `simulator: ${problems.length} address problem(s)`, problems);
    for (const p of planned) {
      this.endpointList.push(p);
      for (const m of p.group.members) this.endpointsByDevice.set(m.served.id, p.endpoint);
    }
    const ports = await Promise.all(planned.map((p) => p.endpoint.start()));
    planned.forEach((p, k) => {
      const port = ports[k]!;
      for (const m of p.group.members) {
        const target = this.bound!.devices[m.index];
        if (target) target.address.port = port;
        this.servedEndpoints.push(describe(m.served.device, port, p.transport));
      }
    });
  }

  private snmpBinding(served: ServedDevice, index: number): SnmpDeviceBinding {
    const a = served.device.address;
    if (a.protocol !== 'snmp') throw new Error('unreachable: grouped by protocol');
    const common = {
      key: served.id,
      layout: served.profile.id,
      objects: served.snmpObjects(),
      version: () => served.version(),
      values: () => served.snmpValues(),
      decide: () => served.decide('snmp'),
    };
    if (a.version !== '3') return { ...common, community: resolveSecret(a.community, `devices[${index}].address.community`) };
    if (a.user === undefined) throw new Error('an SNMPv3 address needs a user');
    return {
      ...common,
      v3: {
        context: a.context ?? '',
        user: {
          name: a.user,
          auth_protocol: a.auth_protocol as AuthProtocolName | undefined,
          auth_key: a.auth_key === undefined ? undefined : resolveSecret(a.auth_key, `devices[${index}].address.auth_key`),
          priv_protocol: a.priv_protocol as PrivProtocolName | undefined,
          priv_key: a.priv_key === undefined ? undefined : resolveSecret(a.priv_key, `devices[${index}].address.priv_key`),
        },
      },
    };
  }

  private async redfishEndpoint(served: ServedDevice, index: number, port: number): Promise<RedfishEndpoint> {
    const a = served.device.address;
    if (a.protocol !== 'redfish') throw new Error('unreachable: grouped by protocol');
    if ((a.username === undefined) !== (a.password === undefined)) throw new Error('a Redfish address names both username and password, or neither');
    const credentials = a.username !== undefined && a.password !== undefined ? { username: a.username, password: resolveSecret(a.password, `devices[${index}].address.password`) } : undefined;
    const tls = a.scheme === 'https' ? await this.tlsMaterial() : undefined;
    return new RedfishEndpoint({
      host: a.host,
      port,
      tls,
      logger: this.logger,
      clock: this.clock,
      device: { key: served.id, credentials, version: () => served.version(), documents: () => served.redfishDocuments(), decide: () => served.decide('redfish'), clockSkewMs: () => served.clockSkewMs() },
    });
  }

  /** One self-signed certificate for every HTTPS BMC of the site, made on first need. */
  private tlsMaterial(): Promise<TlsMaterial> {
    this.tls ??= (this.opts.tls ?? selfSignedTls)();
    return this.tls;
  }

  private modbusBinding(served: ServedDevice): ModbusUnitBinding {
    const a = served.device.address;
    if (a.protocol !== 'modbus') throw new Error('unreachable: grouped by protocol');
    return { key: served.id, unit_id: a.unit_id, version: () => served.version(), image: () => served.modbusImage(), decide: () => served.decide('modbus') };
  }

  private async stopEndpoints(): Promise<void> {
    await Promise.all(this.endpointList.map((e) => e.endpoint.stop()));
  }

  private schedule(): void {
    if (!this.running) return;
    const period = Math.max(MIN_REAL_TICK_MS, this.tickMs() / this.speed());
    // Stay on the real-time grid of the start, whatever the timer's lateness.
    const elapsed = this.clock.now() - this.real_start;
    const wait = period - (elapsed % period);
    this.timer = this.clock.setTimeout(() => {
      try {
        this.advanceTo(this.clock.now());
      } catch (e) {
        this.logger.error('simulator step failed', { error: e as Error });
      }
      this.schedule();
    }, wait);
  }

  private advanceTo(now: number): void {
    const model = this.model!;
    const tickMs = this.tickMs();
    const due = Math.floor(((now - this.real_start) * this.speed()) / tickMs);
    const n = due - this.steps_done;
    if (n <= 0) return;
    const coarse = n - MAX_STEPS_PER_UPDATE;
    if (coarse > 0) {
      this.logger.warn('simulator fell behind; catching up in one coarse step', { steps: coarse });
      model.step(coarse * tickMs);
    }
    for (let i = Math.max(0, coarse); i < n; i++) model.step(tickMs);
    this.steps_done = due;
    this.applyTransitions(this.book.advance(model.sim_ts, (id) => model.quantities(id)));
    this.recorder!.record(now);
  }
}

function view(e: FaultEntry): FaultView {
  return { kind: e.spec.kind, spec: e.spec, state: e.active ? 'active' : 'scheduled', start_sim_ts: e.start_sim_ms, end_sim_ts: e.end_sim_ms ?? null };
}

function describe(device: Device, port: number, transport?: ModbusTransport): SimEndpoint {
  const a = device.address;
  if (a.protocol === 'snmp') {
    const base: SimEndpoint = { device: device.id, protocol: 'snmp', host: a.host, port, snmp_version: a.version };
    if (a.version === '3') return { ...base, user: a.user ?? '', context: a.context ?? '' };
    return { ...base, community: typeof a.community === 'string' ? a.community : '(secret)' };
  }
  if (a.protocol === 'modbus') return { device: device.id, protocol: 'modbus', host: a.host, port, unit_id: a.unit_id, transport: transport ?? a.transport };
  return { device: device.id, protocol: 'redfish', host: a.host, port, scheme: a.scheme };
}
