import type { TelemetryMessage } from '../../contract/messages.js';
import { unitForName } from '../../contract/units.js';
import type { FieldValue, MetricPoint } from './metric-point.js';

/**
 * Raw readings → points (docs/design.md §7): measurement = device class; tags = bounded identity
 * (site, hall, rack, device, role, level) plus the reading's index tags; one field per point,
 * named by the point (its unit is the suffix). Readings sharing index tags share a point.
 */

/** Where a device sits, from the site inventory. */
export interface DeviceTags {
  hall?: string;
  rack?: string;
  role?: string;
  level?: string;
}

const DECIMAL = /^\d{1,20}$/;

function fieldValue(point: string, value: number | string | boolean): FieldValue {
  // Counter64 values travel as decimal strings; a point with a unit is numeric, so store a float
  // (exact below 2^53) and keep the field's type stable for InfluxDB.
  if (typeof value === 'string' && unitForName(point) !== undefined && DECIMAL.test(value)) return Number(value);
  return value;
}

const NO_TAGS: Record<string, string> = Object.freeze({}) as Record<string, string>;

function definedTags(index: TelemetryMessage['readings'][number]['index']): Record<string, string> {
  if (index === undefined) return NO_TAGS;
  const out: Record<string, string> = {};
  for (const k in index) {
    const v = index[k as keyof typeof index];
    if (v !== undefined) out[k] = v;
  }
  return out;
}

/** The group of readings sharing index tags: sorted `k=v` pairs of the defined tags (most polls have none or one). */
function indexKey(index: TelemetryMessage['readings'][number]['index']): string {
  if (index === undefined) return '';
  let only: string | undefined;
  let many = false;
  for (const k in index) {
    if (index[k as keyof typeof index] === undefined) continue;
    if (only === undefined) only = k;
    else many = true;
  }
  if (only === undefined) return '';
  if (!many) return `${only}=${index[only as keyof typeof index]}`;
  const tags = definedTags(index);
  return Object.keys(tags)
    .sort()
    .map((k) => `${k}=${tags[k]}`)
    .join(',');
}

/**
 * A device's own tags (site, device, then its place) are the same in every poll: built once per
 * device and shared, frozen, by the points of its polls without index tags.
 */
const baseTagsCache = new WeakMap<DeviceTags, Readonly<Record<string, string>>>();

function baseTags(msg: TelemetryMessage, device: DeviceTags): Readonly<Record<string, string>> {
  const cached = baseTagsCache.get(device);
  if (cached !== undefined && cached.site === msg.site && cached.device === msg.device) return cached;
  const tags = Object.freeze({ site: msg.site, device: msg.device, ...device } as Record<string, string>);
  baseTagsCache.set(device, tags);
  return tags;
}

export function readingPoints(msg: TelemetryMessage, device: DeviceTags): MetricPoint[] {
  const base = baseTags(msg, device);
  const points: MetricPoint[] = [];
  // Group key → its point's fields; a poll has a handful of groups, so lists beat a Map.
  const keys: string[] = [];
  const fields: Record<string, FieldValue>[] = [];
  for (const r of msg.readings) {
    if (r.value === null) continue;
    const key = indexKey(r.index);
    let at = keys.indexOf(key);
    if (at < 0) {
      at = keys.push(key) - 1;
      fields.push({});
      points.push({ measurement: msg.class, tags: key === '' ? base : { ...base, ...definedTags(r.index) }, fields: fields[at]!, ts_ms: msg.ts });
    }
    fields[at]![r.point] = fieldValue(r.point, r.value);
  }
  return points;
}
