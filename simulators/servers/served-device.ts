import type { Device, DeviceProfile, ModbusProfile, RedfishProfile, SnmpProfile } from '../../contract/index.js';
import { applyMeasurementNoise, noisyPoints, type NoisyPoint } from '../encode/measurement-noise.js';
import { encodeModbusImage, type RegisterImage } from '../encode/modbus-registers.js';
import { encodeRedfishDocuments } from '../encode/redfish-documents.js';
import { encodeSnmpValues, snmpObjectOids, SYSTEM_GROUP, systemGroupValues, type SnmpServedValue } from '../encode/snmp-values.js';
import { counterModuli } from '../faults/counter-limits.js';
import type { FaultBook } from '../faults/fault-book.js';
import { clockSkewMs, decideRequest, type RequestDecision, type WireProtocol } from '../faults/request-faults.js';
import { applyValueFaults, hasValueFaults } from '../faults/value-faults.js';
import type { DeviceQuantities } from '../model/quantities.js';
import { Rng, hash32 } from '../model/rng.js';

/**
 * A device as the protocol servers see it: the model's true quantities, with measurement noise
 * on its live points, through the device's active value faults, through its profile's encoder. Each call encodes afresh; the servers
 * cache by `version()`, which moves with every model step and every fault change of the site,
 * so 10,000 idle devices cost nothing between requests.
 */

export interface ServingContext {
  /** True quantities of a modelled device now. */
  quantities(device: string): DeviceQuantities | undefined;
  /** Changes with every model step and every fault change of the site. */
  version(): number;
  /** The site's faults, keyed by device id. */
  faults: FaultBook;
  /** Uniform draws in [0, 1) for the chance of per-request faults. */
  rand(): number;
  /** Real ms since the site started (sysUpTime). */
  uptimeMs(): number;
  /** Measurement noise on live points (the site's seed and the model time); undefined: exact values. */
  noise?: { seed: number; simTs(): number } | undefined;
}

/** Per-profile data every device of the profile shares. */
export class ProfileShared {
  private readonly moduli = new Map<string, Map<string, number>>();
  private readonly objects = new Map<string, readonly string[]>();
  private readonly noisy = new Map<string, readonly NoisyPoint[]>();

  counterModuli(profile: DeviceProfile): Map<string, number> {
    let m = this.moduli.get(profile.id);
    if (!m) this.moduli.set(profile.id, (m = counterModuli(profile)));
    return m;
  }

  noisyPoints(profile: DeviceProfile): readonly NoisyPoint[] {
    let n = this.noisy.get(profile.id);
    if (!n) this.noisy.set(profile.id, (n = noisyPoints(profile)));
    return n;
  }

  snmpObjects(profile: SnmpProfile): readonly string[] {
    let o = this.objects.get(profile.id);
    if (!o) this.objects.set(profile.id, (o = [...Object.values(SYSTEM_GROUP), ...snmpObjectOids(profile)]));
    return o;
  }
}

export class ServedDevice {
  constructor(
    readonly device: Device,
    readonly profile: DeviceProfile,
    private readonly ctx: ServingContext,
    private readonly shared: ProfileShared,
  ) {}

  get id(): string {
    return this.device.id;
  }

  /** What the device serves now: true quantities with measurement noise, then its value faults. */
  quantities(): DeviceQuantities | undefined {
    const truth = this.ctx.quantities(this.device.id);
    if (!truth) return undefined;
    // Noise before faults: a stuck device serves its frozen baseline, without noise.
    const noise = this.ctx.noise;
    const q = noise ? applyMeasurementNoise(truth, this.shared.noisyPoints(this.profile), noise.seed ^ this.idHash(), noise.simTs()) : truth;
    const active = this.ctx.faults.active(this.device.id);
    if (active.length === 0 || !hasValueFaults(active)) return q;
    const moduli = this.shared.counterModuli(this.profile);
    // Garbage is drawn per model tick, so every read within a tick sees the same nonsense.
    const rng = new Rng(hash32(this.device.id) ^ this.ctx.version());
    return applyValueFaults(q, active, { counterModulus: (name) => moduli.get(name), rand: () => rng.next() });
  }

  private id_hash: number | undefined;

  private idHash(): number {
    return (this.id_hash ??= hash32(this.device.id));
  }

  decide(protocol: WireProtocol): RequestDecision {
    return decideRequest(this.ctx.faults.activeSpecs(this.device.id), protocol, () => this.ctx.rand());
  }

  clockSkewMs(): number {
    return clockSkewMs(this.ctx.faults.activeSpecs(this.device.id));
  }

  snmpObjects(): readonly string[] {
    return this.shared.snmpObjects(this.profile as SnmpProfile);
  }

  snmpValues(): SnmpServedValue[] {
    const profile = this.profile as SnmpProfile;
    const system = systemGroupValues(profile, this.device.id, this.ctx.uptimeMs());
    const q = this.quantities();
    return q ? [...system, ...encodeSnmpValues(profile, q).values] : system;
  }

  modbusImage(): RegisterImage {
    const q = this.quantities();
    if (!q) throw new Error(`device ${this.device.id} has no quantities`);
    const a = this.device.address;
    // SunSpec common model: the serial number and device address a client reads at 40000.
    return encodeModbusImage(this.profile as ModbusProfile, q, { serial: this.device.id, ...(a.protocol === 'modbus' ? { unit_id: a.unit_id } : {}) }).image;
  }

  redfishDocuments(): ReadonlyMap<string, unknown> {
    const q = this.quantities();
    if (!q) throw new Error(`device ${this.device.id} has no quantities`);
    return encodeRedfishDocuments(this.profile as RedfishProfile, q, { name: this.device.id }).documents;
  }

  version(): number {
    return this.ctx.version();
  }
}
