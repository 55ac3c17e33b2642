import type { Reading } from '../../contract/messages.js';
import type { Unit } from '../../contract/units.js';
import { readingKey } from '../ingest/decode-telemetry.js';

/**
 * The latest good value of every series (site, device, point, index tags), with the time it was
 * measured. Live KPIs read from here. A replayed or late message never moves a series back in
 * time, and a `bad` reading never replaces a value: the series simply ages until it is stale.
 */

export interface LatestValue {
  value: number | string | boolean;
  unit?: Unit;
  quality: 'good' | 'uncertain';
  /** When it was measured: the telemetry message's `ts` (poll start, agent clock). */
  ts_ms: number;
}

export type UpdateOutcome = 'updated' | 'older' | 'no_value' | 'full';

/** A thousand devices of 250 series each; a few hundred bytes per entry. */
export const DEFAULT_MAX_SERIES = 250_000;

/** docs/design.md §5: a series is stale after max(3 × poll interval, 5 min) without data. */
export function staleAfterMs(interval_s: number): number {
  return Math.max(3 * interval_s * 1000, 5 * 60_000);
}

export function isStale(v: Pick<LatestValue, 'ts_ms'> | undefined, now_ms: number, interval_s: number): boolean {
  return v === undefined || now_ms - v.ts_ms > staleAfterMs(interval_s);
}

/** One series of a device as the API shows it. */
export interface LatestSeries extends LatestValue {
  point: string;
  index?: Reading['index'];
}

interface Entry extends LatestValue {
  point: string;
  index?: Reading['index'];
}

/** Same index tags, so the same series key (readingKey): the same defined tags with the same values. */
function sameIndex(a: Reading['index'], b: Reading['index']): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  let n = 0;
  for (const k in b) {
    if (a[k as keyof typeof a] !== b[k as keyof typeof b]) return false;
    n++;
  }
  for (const _ in a) n--;
  return n === 0;
}

export class LatestValues {
  /** site/device → series key → latest value; per device, so a device's points are found at once. */
  private readonly devices = new Map<string, Map<string, Entry>>();
  /** site/device → its last poll's entries by reading position (undefined where a reading had no value or no room). */
  private readonly pollOrder = new Map<string, (Entry | undefined)[]>();
  private count = 0;
  private refusedCount = 0;

  /**
   * `max_series` bounds memory whatever reaches it; the telemetry gate already holds each device
   * to its profile's points and to MAX_INDEX_VALUES rows per table, far below this on real sites.
   */
  constructor(private readonly max_series = DEFAULT_MAX_SERIES) {}

  update(site: string, device: string, reading: Reading, ts_ms: number): UpdateOutcome {
    return this.apply(this.devices.get(`${site}/${device}`), `${site}/${device}`, reading, ts_ms);
  }

  /** Every reading of one poll; returns how many were older than the value already held. */
  updatePoll(site: string, device: string, readings: readonly Reading[], ts_ms: number): number {
    const dkey = `${site}/${device}`;
    let older = 0;
    let series = this.devices.get(dkey);
    // A device sends the same readings in the same order poll after poll: the entry at the same
    // position of its last poll, when it is the same series, is found without building its key.
    const last = this.pollOrder.get(dkey);
    let order: (Entry | undefined)[] | undefined;
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i]!;
      if (r.quality === 'bad' || r.value === null) {
        order?.push(undefined);
        continue;
      }
      const cached = last?.[i];
      let e: Entry | undefined;
      if (cached !== undefined && cached.point === r.point && sameIndex(cached.index, r.index)) {
        if (this.refresh(cached, r, ts_ms) === 'older') older++;
        e = cached;
      } else {
        const outcome = this.apply(series, dkey, r, ts_ms);
        if (outcome === 'older') older++;
        series ??= this.devices.get(dkey);
        e = series?.get(readingKey(r));
      }
      if (order === undefined && e !== cached) order = last === undefined ? [] : last.slice(0, i);
      order?.push(e);
    }
    if (order !== undefined || (last !== undefined && last.length !== readings.length)) this.pollOrder.set(dkey, order ?? (last ?? []).slice(0, readings.length));
    return older;
  }

  /** An entry's new value, unless it is older than the one held. */
  private refresh(prev: Entry, reading: Reading, ts_ms: number): 'updated' | 'older' {
    if (prev.ts_ms > ts_ms) return 'older';
    // In place: readers get copies (get, deviceSeries), and a poll updates every series.
    prev.value = reading.value as Entry['value'];
    if (reading.unit !== prev.unit) {
      if (reading.unit === undefined) delete prev.unit;
      else prev.unit = reading.unit;
    }
    prev.quality = reading.quality as Entry['quality'];
    prev.ts_ms = ts_ms;
    return 'updated';
  }

  private apply(series: Map<string, Entry> | undefined, dkey: string, reading: Reading, ts_ms: number): UpdateOutcome {
    if (reading.quality === 'bad' || reading.value === null) return 'no_value';
    const key = readingKey(reading);
    const prev = series?.get(key);
    if (prev) return this.refresh(prev, reading, ts_ms);
    if (this.count >= this.max_series) {
      this.refusedCount++;
      return 'full';
    }
    if (!series) this.devices.set(dkey, (series = new Map()));
    this.count++;
    series.set(key, {
      point: reading.point,
      ...(reading.index !== undefined ? { index: reading.index } : {}),
      value: reading.value,
      ...(reading.unit !== undefined ? { unit: reading.unit } : {}),
      quality: reading.quality,
      ts_ms,
    });
    return 'updated';
  }

  get(site: string, device: string, point: string, index?: Reading['index']): LatestValue | undefined {
    const e = this.devices.get(`${site}/${device}`)?.get(readingKey({ point, index }));
    if (!e) return undefined;
    const { point: _p, index: _i, ...value } = e;
    return value;
  }

  /** Every series of one device, in the order they were first seen. */
  deviceSeries(site: string, device: string): LatestSeries[] {
    return [...(this.devices.get(`${site}/${device}`)?.values() ?? [])].map((e) => ({ ...e }));
  }

  /** The newest reading time of a device, or undefined before its first. */
  deviceTs(site: string, device: string): number | undefined {
    let newest: number | undefined;
    for (const e of this.devices.get(`${site}/${device}`)?.values() ?? []) if (newest === undefined || e.ts_ms > newest) newest = e.ts_ms;
    return newest;
  }

  get size(): number {
    return this.count;
  }

  /** New series refused because the table was full. */
  get refused(): number {
    return this.refusedCount;
  }
}
