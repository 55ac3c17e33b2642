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

/** The group of readings sharing index tags: sorted `k=v` pairs (most polls have none or one). */
function indexKey(index: Record<string, string>): string {
  const keys = Object.keys(index);
  if (keys.length === 0) return '';
  if (keys.length === 1) return `${keys[0]}=${index[keys[0]!]}`;
  return keys
    .sort()
    .map((k) => `${k}=${index[k]}`)
    .join(',');
}

export function readingPoints(msg: TelemetryMessage, device: DeviceTags): MetricPoint[] {
  const byIndex = new Map<string, { index: Record<string, string>; fields: Record<string, FieldValue> }>();
  for (const r of msg.readings) {
    if (r.value === null) continue;
    const index = definedTags(r.index);
    const key = indexKey(index);
    let group = byIndex.get(key);
    if (!group) byIndex.set(key, (group = { index, fields: {} }));
    group.fields[r.point] = fieldValue(r.point, r.value);
  }
  return [...byIndex.values()].map(({ index, fields }) => ({
    measurement: msg.class,
    tags: { site: msg.site, device: msg.device, ...device, ...index },
    fields,
    ts_ms: msg.ts,
  }));
}
