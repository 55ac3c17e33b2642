import type { Reading } from '../../contract/messages.js';

/**
 * Bounds the series a device can open. Table index values are chosen by the device (an SNMP row
 * index, a Redfish member Id, a UPS alarm id that grows with every new alarm), so each
 * (device, index tag) may hold at most `max_index_values` distinct values, and a device without
 * a profile at most `max_points` distinct point names. A full set makes room only by forgetting
 * a value not seen for `idle_ms`: rotating alarm ids keep flowing, while a flood of invented
 * values that keeps itself fresh is refused instead of pushing out real rows.
 */

/** Rows per table a device may have: above any PDU's outlets, a UPS's alarm table or a server's GPUs. */
export const MAX_INDEX_VALUES = 256;
/** Point names of a device without a profile (nothing else bounds them). */
export const MAX_POINTS_UNPROFILED = 1024;
export const SERIES_IDLE_MS = 24 * 60 * 60_000;

export interface SeriesBudgetOptions {
  max_index_values?: number;
  max_points?: number;
  idle_ms?: number;
}

export interface SeriesBudgetStats {
  /** Distinct (device, tag, value) and (device, point) entries held. */
  entries: number;
  /** Readings refused because their device's set was full. */
  refused: number;
  /** Idle entries forgotten to make room. */
  forgotten: number;
}

export class SeriesBudget {
  /** `site/device` → `tag` (or the point set, key '') → value → last seen (collector clock). */
  private readonly devices = new Map<string, Map<string, Map<string, number>>>();
  private readonly max_index: number;
  private readonly max_points: number;
  private readonly idle_ms: number;
  private readonly counts = { entries: 0, refused: 0, forgotten: 0 };

  constructor(opts: SeriesBudgetOptions = {}) {
    this.max_index = opts.max_index_values ?? MAX_INDEX_VALUES;
    this.max_points = opts.max_points ?? MAX_POINTS_UNPROFILED;
    this.idle_ms = opts.idle_ms ?? SERIES_IDLE_MS;
  }

  /**
   * Admits one reading's series for `device` (`site/device`, an inventory device); `profiled`:
   * the profile already bounds its point names. Undefined when admitted, else the reason.
   */
  admit(device: string, r: Reading, profiled: boolean, now_ms: number): string | undefined {
    let sets = this.devices.get(device);
    if (!sets) this.devices.set(device, (sets = new Map()));
    if (!profiled) {
      const why = this.touch(sets, '', r.point, this.max_points, now_ms);
      if (why) return `device has ${this.max_points} point names already (${why})`;
    }
    if (r.index) {
      for (const tag in r.index) {
        const value = r.index[tag as keyof typeof r.index];
        if (value === undefined) continue;
        const why = this.touch(sets, tag, value, this.max_index, now_ms);
        if (why) return `index ${tag}=${value}: device has ${this.max_index} ${tag} values already (${why})`;
      }
    }
    return undefined;
  }

  private touch(sets: Map<string, Map<string, number>>, key: string, value: string, max: number, now: number): string | undefined {
    let seen = sets.get(key);
    if (!seen) sets.set(key, (seen = new Map()));
    const last = seen.get(value);
    if (last !== undefined) {
      // Map order is least recently seen first. A poll's readings share one stamp and a table's
      // index value recurs in many of them (phase 1 of current, voltage, power): moved once.
      if (last !== now) {
        seen.delete(value);
        seen.set(value, now);
      }
      return undefined;
    }
    if (seen.size >= max) {
      const oldest = seen.entries().next().value;
      if (!oldest || now - oldest[1] < this.idle_ms) {
        this.counts.refused++;
        return 'none idle';
      }
      seen.delete(oldest[0]);
      this.counts.entries--;
      this.counts.forgotten++;
    }
    seen.set(value, now);
    this.counts.entries++;
    return undefined;
  }

  stats(): SeriesBudgetStats {
    return { ...this.counts };
  }
}
