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

/** DESIGN.md §5: a series is stale after max(3 × poll interval, 5 min) without data. */
export function staleAfterMs(interval_s: number): number {
  return Math.max(3 * interval_s * 1000, 5 * 60_000);
}

export function isStale(v: Pick<LatestValue, 'ts_ms'> | undefined, now_ms: number, interval_s: number): boolean {
  return v === undefined || now_ms - v.ts_ms > staleAfterMs(interval_s);
}

const seriesKey = (site: string, device: string, key: string) => `${site}/${device}/${key}`;

export class LatestValues {
  private readonly values = new Map<string, LatestValue>();

  /** `max_series` bounds memory against an agent that invents point names. */
  constructor(private readonly max_series = 1_000_000) {}

  update(site: string, device: string, reading: Reading, ts_ms: number): UpdateOutcome {
    if (reading.quality === 'bad' || reading.value === null) return 'no_value';
    const key = seriesKey(site, device, readingKey(reading));
    const prev = this.values.get(key);
    if (prev && prev.ts_ms > ts_ms) return 'older';
    if (!prev && this.values.size >= this.max_series) return 'full';
    this.values.set(key, {
      value: reading.value,
      ...(reading.unit !== undefined ? { unit: reading.unit } : {}),
      quality: reading.quality,
      ts_ms,
    });
    return 'updated';
  }

  get(site: string, device: string, point: string, index?: Reading['index']): LatestValue | undefined {
    return this.values.get(seriesKey(site, device, readingKey({ point, index })));
  }

  get size(): number {
    return this.values.size;
  }
}
