import {
  DcimError,
  SystemClock,
  createLogger,
  loadProfiles,
  resolveSecret,
  type Clock,
  type Device,
  type DeviceProfile,
  type Logger,
  type ModbusProfile,
  type SiteInventory,
  type SnmpProfile,
  type TimerHandle,
} from '../contract/index.js';
import { encodeModbusImage, type RegisterImage } from './encode/modbus-registers.js';
import { SYSTEM_GROUP, encodeSnmpValues, snmpObjectOids, systemGroupValues, type SnmpServedValue } from './encode/snmp-values.js';
import { deviceQuantities, type DeviceQuantities } from './model/quantities.js';
import { buildSiteModel, initialSiteState, stepSiteState, type DeviceStatic, type SiteModelConfig, type SiteModelState } from './model/site-model.js';
import { ModbusEndpoint, type ModbusUnitBinding } from './servers/modbus-endpoint.js';
import { SnmpEndpoint, type SnmpDeviceBinding, type SnmpSnapshot } from './servers/snmp-endpoint.js';
import { TruthRing } from './truth-ring.js';

/**
 * A simulated site: the physical model (model/), stepped in simulated time, served over the
 * real protocols (servers/) through the same device profiles the agent reads (encode/). This
 * file only wires them: it owns the timer, the published state and the truth history.
 */

export interface SimSiteOptions {
  inventory: SiteInventory;
  /** Defaults to the built-in profiles (agent/profiles). */
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
  /** How far back `truth(ts)` reaches, in real milliseconds; default 15 minutes. */
  truthWindowMs?: number;
}

export interface SimEndpoint {
  device: string;
  protocol: 'snmp' | 'modbus';
  host: string;
  port: number;
  community?: string;
  unit_id?: number;
}

export interface SiteTruth {
  /** Real time (the clock's) at which this state started being served. */
  ts: number;
  /** Simulated time of the state. */
  sim_ts: number;
  site: string;
  it_power_w: number;
  facility_power_w: number;
  pue: number;
  outdoor_temp_c: number;
  devices: Record<string, { power_w: number; energy_kwh: number }>;
}

export interface SimSite {
  /** The inventory with the ports actually bound. */
  inventory(): SiteInventory;
  /** Ground truth of the state that was served at real time `ts` (default: now). */
  truth(ts?: number): SiteTruth;
  endpoints(): SimEndpoint[];
  stop(): Promise<void>;
}

/** Real-time floor between model updates, so a high speed does not spin the event loop. */
const MIN_REAL_TICK_MS = 20;
/** Steps run per update; a longer stall is caught up in one coarse step (logged). */
const MAX_STEPS_PER_UPDATE = 10_000;

export async function startSimSite(opts: SimSiteOptions): Promise<SimSite> {
  const site = new SimSiteRunner(opts);
  await site.start();
  return site;
}

interface ServedDevice {
  index: number;
  device: Device;
  static: DeviceStatic;
}

interface Published {
  version: number;
  state: SiteModelState;
}

export class SimSiteRunner implements SimSite {
  private clock: Clock = new SystemClock();
  private logger: Logger = createLogger();
  private config: SiteModelConfig | undefined;
  private published: Published | undefined;
  private ring: TruthRing<SiteModelState> = new TruthRing(15 * 60_000);
  private readonly snmpEndpoints: SnmpEndpoint[] = [];
  private readonly modbusEndpoints: ModbusEndpoint[] = [];
  private bound: SiteInventory | undefined;
  private served: SimEndpoint[] = [];
  private timer: TimerHandle | undefined;
  private running = false;
  private real_start = 0;
  private steps_done = 0;

  constructor(private readonly opts: SimSiteOptions) {}

  async start(): Promise<void> {
    const { inventory } = this.opts;
    this.clock = this.opts.clock ?? new SystemClock();
    this.logger = (this.opts.logger ?? createLogger()).child({ component: 'simulator', site: inventory.site.id });
    const speed = this.speed();
    const tickMs = this.tickMs();
    const seed = this.opts.rngSeed ?? 1;
    const profiles = this.opts.profiles ?? loadProfiles();
    this.ring = new TruthRing(this.opts.truthWindowMs ?? 15 * 60_000);

    const built = buildSiteModel(inventory, seed);
    if (!built.ok) throw new DcimError('DCIM_E_CONFIG_INVALID', `simulator: site ${inventory.site.id} cannot be simulated`, built.problems);
    const config = built.config;
    this.config = config;
    for (const s of built.skipped) this.logger.warn('device not simulated', { device: s.device, reason: s.reason });

    this.real_start = this.clock.now();
    this.publish(this.real_start, initialSiteState(config, seed, this.real_start));

    const devices = this.servedDevices(profiles);
    this.bound = structuredClone(inventory);
    try {
      await this.startEndpoints(devices, profiles);
    } catch (e) {
      await this.stopEndpoints();
      throw e;
    }
    this.running = true;
    this.schedule();
    this.logger.info('simulator started', { speed, tick_ms: tickMs, endpoints: this.served.length, devices: devices.length });
  }

  inventory(): SiteInventory {
    if (!this.bound) throw new Error('simulator not started');
    return structuredClone(this.bound);
  }

  endpoints(): SimEndpoint[] {
    return this.served.map((e) => ({ ...e }));
  }

  truth(ts: number = this.clock.now()): SiteTruth {
    const entry = this.ring.at(ts);
    if (!entry) {
      throw new RangeError(`simulator: no truth for ts ${ts}; history covers ${this.ring.oldest()?.ts ?? 'nothing'} to ${this.ring.latest()?.ts ?? 'nothing'}`);
    }
    const s = entry.state;
    const devices: SiteTruth['devices'] = {};
    for (const [id, d] of Object.entries(s.devices)) devices[id] = { power_w: d.power_w, energy_kwh: d.energy_kwh };
    return {
      ts: entry.ts,
      sim_ts: s.sim_ts,
      site: this.opts.inventory.site.id,
      it_power_w: s.it_power_w,
      facility_power_w: s.facility_power_w,
      // buildSiteModel guarantees a positive IT load.
      pue: s.facility_power_w / s.it_power_w,
      outdoor_temp_c: s.outdoor_temp_c,
      devices,
    };
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

  /** Devices the model covers, with a known profile; encoding gaps fail the start, all listed. */
  private servedDevices(profiles: Map<string, DeviceProfile>): ServedDevice[] {
    const config = this.config!;
    const problems: string[] = [];
    const out: ServedDevice[] = [];
    this.opts.inventory.devices.forEach((device, index) => {
      const stat = config.devices[device.id];
      if (!stat) return;
      const profile = profiles.get(device.profile);
      if (!profile) {
        throw new DcimError('DCIM_E_PROFILE_UNKNOWN', `devices[${index}] (${device.id}): unknown profile ${device.profile}`);
      }
      if (profile.protocol !== device.address.protocol) {
        problems.push(`devices[${index}] (${device.id}): profile ${profile.id} speaks ${profile.protocol}, the address ${device.address.protocol}`);
        return;
      }
      if (device.address.protocol === 'snmp' && device.address.version === '3') {
        this.logger.warn('device not simulated', { device: device.id, reason: 'SNMPv3 is not simulated yet' });
        return;
      }
      if (profile.protocol === 'redfish') {
        this.logger.warn('device not simulated', { device: device.id, reason: 'Redfish is not simulated yet' });
        return;
      }
      const q = this.quantities(device.id, stat);
      if (profile.protocol === 'snmp') {
        problems.push(...encodeSnmpValues(profile, q).problems.map((p) => `devices[${index}] (${device.id}): ${p}`));
      } else {
        const enc = encodeModbusImage(profile, q);
        problems.push(...enc.problems.map((p) => `devices[${index}] (${device.id}): ${p}`));
        if (enc.missing.length > 0) problems.push(`devices[${index}] (${device.id}): the model has no value for ${enc.missing.join(', ')} of profile ${profile.id}`);
      }
      out.push({ index, device, static: stat });
    });
    if (problems.length > 0) throw new DcimError('DCIM_E_CONFIG_INVALID', `simulator: ${problems.length} device(s) cannot be served`, problems);
    return out;
  }

  private async startEndpoints(devices: ServedDevice[], profiles: Map<string, DeviceProfile>): Promise<void> {
    const ephemeral = this.opts.bind === 'ephemeral';
    const groups = new Map<string, ServedDevice[]>();
    for (const d of devices) {
      const a = d.device.address;
      const key = `${a.protocol}|${a.host}|${a.port}`;
      groups.set(key, [...(groups.get(key) ?? []), d]);
    }
    for (const group of groups.values()) {
      const first = group[0]!.device.address;
      const port = ephemeral ? 0 : first.port;
      let bound: number;
      if (first.protocol === 'snmp') {
        const bindings: (SnmpDeviceBinding & { index: number })[] = group.map((d) => {
          const a = d.device.address;
          if (a.protocol !== 'snmp') throw new Error('unreachable: grouped by protocol');
          const community = resolveSecret(a.community, `devices[${d.index}].address.community`);
          const profile = profiles.get(d.device.profile) as SnmpProfile;
          return { index: d.index, device: d.device.id, community, objects: [...Object.values(SYSTEM_GROUP), ...snmpObjectOids(profile)], snapshot: this.snmpSnapshot(d, profile) };
        });
        const endpoint = new SnmpEndpoint({ host: first.host, port, devices: bindings, logger: this.logger });
        this.snmpEndpoints.push(endpoint);
        bound = await endpoint.start();
        for (const b of bindings) this.served.push({ device: b.device, protocol: 'snmp', host: first.host, port: bound, community: b.community });
      } else {
        const units: (ModbusUnitBinding & { index: number })[] = group.map((d) => {
          const a = d.device.address;
          if (a.protocol !== 'modbus') throw new Error('unreachable: grouped by protocol');
          return { index: d.index, device: d.device.id, unit_id: a.unit_id, image: this.modbusImage(d, profiles.get(d.device.profile) as ModbusProfile) };
        });
        const endpoint = new ModbusEndpoint({ host: first.host, port, units, logger: this.logger });
        this.modbusEndpoints.push(endpoint);
        bound = await endpoint.start();
        for (const u of units) this.served.push({ device: u.device, protocol: 'modbus', host: first.host, port: bound, unit_id: u.unit_id });
      }
      for (const d of group) {
        const target = this.bound!.devices[d.index];
        if (target) target.address.port = bound;
      }
    }
  }

  private async stopEndpoints(): Promise<void> {
    await Promise.all([...this.snmpEndpoints.map((e) => e.stop()), ...this.modbusEndpoints.map((e) => e.stop())]);
  }

  private quantities(deviceId: string, stat: DeviceStatic): DeviceQuantities {
    const state = this.published!.state;
    const power = state.devices[deviceId] ?? { power_w: 0, energy_kwh: 0 };
    return deviceQuantities(power, stat, state.grid);
  }

  /** Values are encoded on demand, once per published state, so idle devices cost nothing. */
  private snmpSnapshot(d: ServedDevice, profile: SnmpProfile): () => SnmpSnapshot {
    let cache: { version: number; values: SnmpServedValue[] } | undefined;
    return () => {
      const version = this.published!.version;
      if (cache?.version !== version) {
        const system = systemGroupValues(profile, d.device.id, this.clock.now() - this.real_start);
        cache = { version, values: [...system, ...encodeSnmpValues(profile, this.quantities(d.device.id, d.static)).values] };
      }
      return cache;
    };
  }

  private modbusImage(d: ServedDevice, profile: ModbusProfile): () => RegisterImage {
    let cache: { version: number; image: RegisterImage } | undefined;
    return () => {
      const version = this.published!.version;
      if (cache?.version !== version) cache = { version, image: encodeModbusImage(profile, this.quantities(d.device.id, d.static)).image };
      return cache.image;
    };
  }

  private publish(ts: number, state: SiteModelState): void {
    this.published = { version: (this.published?.version ?? 0) + 1, state };
    this.ring.push(ts, state);
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
    const tickMs = this.tickMs();
    const due = Math.floor(((now - this.real_start) * this.speed()) / tickMs);
    const n = due - this.steps_done;
    if (n <= 0) return;
    const config = this.config!;
    let state = this.published!.state;
    const coarse = n - MAX_STEPS_PER_UPDATE;
    if (coarse > 0) {
      this.logger.warn('simulator fell behind; catching up in one coarse step', { steps: coarse });
      state = stepSiteState(config, state, coarse * tickMs);
    }
    for (let i = Math.max(0, coarse); i < n; i++) state = stepSiteState(config, state, tickMs);
    this.steps_done = due;
    this.publish(now, state);
  }
}
