import { INDEX_TAGS, type DeviceClass } from '../../contract/ids.js';
import type { Reading } from '../../contract/messages.js';
import { unitForName } from '../../contract/units.js';
import type { RecordedPoll } from './kpi-replay.js';

/**
 * Raw readings as the store holds them (docs/design.md §7: measurement = device class, tags = site,
 * device, hall, rack, role, level + index tags, one field per point, stamped at the poll's `ts`)
 * turned back into polls: every reading of one device with one timestamp is one poll. What the
 * store does not keep comes back as a default: quality `good` (only good and uncertain values are
 * stored), the unit implied by the point name.
 */
export interface StoredRow {
  measurement: string;
  tags: Readonly<Record<string, string>>;
  ts_ms: number;
  fields: Readonly<Record<string, unknown>>;
}

/** Reads one time slice of one site's raw readings. */
export interface StoredReadings {
  /** Names the store in messages (no credentials). */
  readonly target: string;
  /** Rows of these measurements for the site with from_ms <= ts < to_ms, any order. */
  slice(site: string, measurements: readonly DeviceClass[], from_ms: number, to_ms: number): Promise<StoredRow[]>;
  close(): Promise<void>;
}

const INDEX = new Set<string>(INDEX_TAGS);

function readingValue(v: unknown): Reading['value'] | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string') return v.length <= 256 ? v : undefined;
  if (typeof v === 'boolean') return v;
  return undefined;
}

/** Rows → polls in time order (ties: by device, so a replay is deterministic). */
export function pollsFromRows(site: string, rows: readonly StoredRow[]): RecordedPoll[] {
  const polls = new Map<string, { device: string; ts: number; readings: Reading[] }>();
  for (const r of rows) {
    const device = r.tags.device;
    if (device === undefined || !Number.isSafeInteger(r.ts_ms)) continue;
    const index: Partial<Record<(typeof INDEX_TAGS)[number], string>> = {};
    for (const [k, v] of Object.entries(r.tags)) if (INDEX.has(k) && v !== '') index[k as (typeof INDEX_TAGS)[number]] = v;
    const key = `${device}\u0000${r.ts_ms}`;
    let poll = polls.get(key);
    if (!poll) polls.set(key, (poll = { device, ts: r.ts_ms, readings: [] }));
    for (const [point, raw] of Object.entries(r.fields)) {
      const value = readingValue(raw);
      if (value === undefined) continue;
      const unit = unitForName(point);
      poll.readings.push({ point, value, quality: 'good', ...(unit !== undefined ? { unit } : {}), ...(Object.keys(index).length > 0 ? { index: { ...index } } : {}) });
    }
  }
  return [...polls.values()]
    .filter((p) => p.readings.length > 0)
    .sort((a, b) => a.ts - b.ts || (a.device < b.device ? -1 : a.device > b.device ? 1 : 0))
    .map((p) => ({ site, device: p.device, ts: p.ts, readings: p.readings }));
}
