import type { DeviceQuantities } from '../model/quantities.js';
import type { FaultKind, FaultSpec } from './fault-spec.js';

/**
 * The faults of every device of a simulator: scheduled, active, and their baselines. A plain
 * state container with time passed in (simulated ms), so it is driven the same way by the
 * model tick, the control API and the tests. Devices are keyed `site/device`.
 */

export interface FaultEntry {
  spec: FaultSpec;
  /** Simulated ms at which the fault begins and (exclusive) ends. */
  start_sim_ms: number;
  end_sim_ms: number | undefined;
  active: boolean;
  /** The device's true quantities when the fault began; set on activation. */
  baseline: DeviceQuantities | undefined;
}

export interface FaultTransition {
  device: string;
  entry: FaultEntry;
  /** `start`: became active; `end`: its time ran out or it was removed while active. */
  change: 'start' | 'end';
}

/** Reads a device's true quantities at the moment a fault begins. */
export type CaptureQuantities = (device: string) => DeviceQuantities | undefined;

const NONE: readonly FaultEntry[] = Object.freeze([]);
const NO_SPECS: readonly FaultSpec[] = Object.freeze([]);

export class FaultBook {
  private readonly devices = new Map<string, Map<FaultKind, FaultEntry>>();
  /** Active entries per device, rebuilt on change so the request path only reads. */
  private readonly activeCache = new Map<string, readonly FaultEntry[]>();
  private readonly activeSpecCache = new Map<string, readonly FaultSpec[]>();

  /** @param sim_start_ms simulated time of the simulator's start, the origin of `at_s`. */
  constructor(private readonly sim_start_ms: number) {}

  /**
   * Add or replace the device's fault of this kind; returns the transitions it causes now
   * (the replaced fault ending, the new one starting when it is due).
   */
  put(device: string, spec: FaultSpec, now_sim_ms: number, capture: CaptureQuantities): FaultTransition[] {
    const transitions = this.remove(device, spec.kind);
    const start_sim_ms = spec.at_s !== undefined ? this.sim_start_ms + spec.at_s * 1000 : now_sim_ms;
    const entry: FaultEntry = {
      spec,
      start_sim_ms,
      end_sim_ms: spec.for_s !== undefined ? start_sim_ms + spec.for_s * 1000 : undefined,
      active: false,
      baseline: undefined,
    };
    let map = this.devices.get(device);
    if (!map) this.devices.set(device, (map = new Map()));
    map.set(spec.kind, entry);
    this.refresh(device);
    return [...transitions, ...this.advanceDevice(device, now_sim_ms, capture)];
  }

  /** Remove one kind (or all) of a device's faults; active ones are reported as ending. */
  remove(device: string, kind?: FaultKind): FaultTransition[] {
    const map = this.devices.get(device);
    if (!map) return [];
    const out: FaultTransition[] = [];
    for (const [k, entry] of [...map]) {
      if (kind !== undefined && k !== kind) continue;
      map.delete(k);
      if (entry.active) out.push({ device, entry: { ...entry, active: false }, change: 'end' });
    }
    if (map.size === 0) this.devices.delete(device);
    this.refresh(device);
    return out;
  }

  /** Start and end the faults whose time has come; call on every model tick. */
  advance(now_sim_ms: number, capture: CaptureQuantities): FaultTransition[] {
    const out: FaultTransition[] = [];
    for (const device of [...this.devices.keys()]) out.push(...this.advanceDevice(device, now_sim_ms, capture));
    return out;
  }

  /** Active faults of a device; the same frozen array until something changes. */
  active(device: string): readonly FaultEntry[] {
    return this.activeCache.get(device) ?? NONE;
  }

  activeSpecs(device: string): readonly FaultSpec[] {
    return this.activeSpecCache.get(device) ?? NO_SPECS;
  }

  /** Every fault of a device, scheduled or active. */
  list(device: string): FaultEntry[] {
    return [...(this.devices.get(device)?.values() ?? [])];
  }

  /** Devices that have at least one fault, scheduled or active. */
  faultyDevices(): string[] {
    return [...this.devices.keys()];
  }

  private advanceDevice(device: string, now_sim_ms: number, capture: CaptureQuantities): FaultTransition[] {
    const map = this.devices.get(device);
    if (!map) return [];
    const out: FaultTransition[] = [];
    for (const [kind, entry] of [...map]) {
      if (entry.end_sim_ms !== undefined && now_sim_ms >= entry.end_sim_ms) {
        map.delete(kind);
        if (entry.active) out.push({ device, entry: { ...entry, active: false }, change: 'end' });
        continue;
      }
      if (!entry.active && now_sim_ms >= entry.start_sim_ms) {
        entry.active = true;
        entry.baseline = capture(device);
        out.push({ device, entry, change: 'start' });
      }
    }
    if (map.size === 0) this.devices.delete(device);
    if (out.length > 0) this.refresh(device);
    return out;
  }

  private refresh(device: string): void {
    const active = [...(this.devices.get(device)?.values() ?? [])].filter((e) => e.active);
    if (active.length === 0) {
      this.activeCache.delete(device);
      this.activeSpecCache.delete(device);
    } else {
      this.activeCache.set(device, Object.freeze(active));
      this.activeSpecCache.set(device, Object.freeze(active.map((e) => e.spec)));
    }
  }
}
