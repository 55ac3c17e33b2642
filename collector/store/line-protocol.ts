import { fail, ok, type Result } from '../../shared/result.js';
import { isIntField, type FieldValue, type MetricPoint } from './metric-point.js';

/**
 * InfluxDB line protocol (1.x `/write` and 2.x `/api/v2/write` share it), millisecond timestamps.
 * Every external string passes through here (docs/design.md §9). Rules from the InfluxDB line
 * protocol reference:
 * - measurement: escape comma and space;
 * - tag keys, tag values, field keys: escape comma, equals sign and space;
 * - string field values: escape double quote and backslash;
 * - no part may contain a newline (the line separator) — such a tag or key drops the point,
 *   such a string value drops the field; a trailing backslash would escape the separator after
 *   it, so it is refused the same way;
 * - empty tag values are omitted (InfluxDB refuses them); a point needs at least one field;
 * - NaN and ±Infinity have no representation: the field is dropped and counted.
 */

/** InfluxDB's limit for one string field value. */
export const MAX_STRING_FIELD_BYTES = 64 * 1024;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

export interface EncodedLine {
  line: string;
  /** Fields left out of this line (non-finite numbers, bad strings, bad keys). */
  fields_dropped: number;
  /** Why each field was dropped. */
  field_problems: string[];
}

export interface EncodedBatch {
  lines: string[];
  points_dropped: number;
  fields_dropped: number;
  /** The first few reasons, for a log line (bounded so a bad batch cannot flood the log). */
  problems: string[];
}

const MAX_PROBLEMS = 10;

function checkName(what: string, s: string): string | undefined {
  if (s.length === 0) return `${what} is empty`;
  if (CONTROL.test(s)) return `${what} ${JSON.stringify(s)} contains a control character`;
  if (s.endsWith('\\')) return `${what} ${JSON.stringify(s)} ends with a backslash`;
  return undefined;
}

const escapeMeasurement = (s: string) => s.replace(/[, ]/g, (c) => `\\${c}`);
const escapeKey = (s: string) => s.replace(/[,= ]/g, (c) => `\\${c}`);
const escapeString = (s: string) => s.replace(/["\\]/g, (c) => `\\${c}`);

function encodeFieldValue(v: FieldValue): Result<string, string> {
  if (typeof v === 'boolean') return ok(v ? 'true' : 'false');
  if (typeof v === 'number') return Number.isFinite(v) ? ok(String(v)) : fail(`non-finite number ${String(v)}`);
  if (typeof v === 'string') {
    if (/[\r\n]/.test(v)) return fail('string contains a newline');
    if (Buffer.byteLength(v, 'utf8') > MAX_STRING_FIELD_BYTES) return fail(`string longer than ${MAX_STRING_FIELD_BYTES} bytes`);
    return ok(`"${escapeString(v)}"`);
  }
  if (isIntField(v)) {
    const n = v.int;
    if (typeof n === 'number') return Number.isSafeInteger(n) ? ok(`${n}i`) : fail(`integer field ${String(n)} is not a safe integer`);
    return n >= INT64_MIN && n <= INT64_MAX ? ok(`${n}i`) : fail(`integer field ${n} outside int64`);
  }
  return fail('unsupported field type');
}

/** A point that passed every check: sorted tags, the fields that can be written, their text. */
export interface CleanPoint {
  measurement: string;
  tags: [string, string][];
  fields: { key: string; value: FieldValue; text: string }[];
  ts_ms: number;
  /** Why each left-out field was dropped. */
  field_problems: string[];
}

/**
 * The checks every sink applies, so InfluxDB and the embedded store accept and refuse the same
 * points: a bad measurement, tag or timestamp refuses the point; a bad field is left out.
 */
export function cleanPoint(p: MetricPoint): Result<CleanPoint, string> {
  const bad = checkName('measurement', p.measurement);
  if (bad) return fail(bad);
  if (p.measurement.startsWith('#')) return fail(`measurement ${JSON.stringify(p.measurement)} starts with # (a comment line)`);
  if (!Number.isSafeInteger(p.ts_ms)) return fail(`timestamp ${String(p.ts_ms)} is not an integer of ms`);

  const tags: [string, string][] = [];
  for (const key of Object.keys(p.tags).sort()) {
    const value = p.tags[key];
    if (value === undefined || value === '') continue;
    const problem = checkName('tag key', key) ?? checkName(`tag ${key} value`, value);
    if (problem) return fail(problem);
    tags.push([key, value]);
  }

  const fields: CleanPoint['fields'] = [];
  const field_problems: string[] = [];
  for (const key of Object.keys(p.fields).sort()) {
    const value = p.fields[key];
    if (value === undefined) continue;
    const keyProblem = checkName('field key', key);
    const encoded = keyProblem ? fail(keyProblem) : encodeFieldValue(value);
    if (!encoded.ok) field_problems.push(`${p.measurement}.${key}: ${encoded.reason}`);
    else fields.push({ key, value, text: encoded.value });
  }
  if (fields.length === 0) {
    return fail(field_problems.length > 0 ? `no writable field (${field_problems.join('; ')})` : 'no fields');
  }
  return ok({ measurement: p.measurement, tags, fields, ts_ms: p.ts_ms, field_problems });
}

/** One point → one line, or the reason it cannot be written. */
export function encodePoint(p: MetricPoint): Result<EncodedLine, string> {
  const c = cleanPoint(p);
  if (!c.ok) return c;
  const { measurement, tags, fields, ts_ms, field_problems } = c.value;
  const head = escapeMeasurement(measurement) + tags.map(([k, v]) => `,${escapeKey(k)}=${escapeKey(v)}`).join('');
  const body = fields.map((f) => `${escapeKey(f.key)}=${f.text}`).join(',');
  return ok({ line: `${head} ${body} ${ts_ms}`, fields_dropped: field_problems.length, field_problems });
}

/** Many points → lines; bad points and fields are dropped and counted, never thrown. */
export function encodeLines(points: readonly MetricPoint[]): EncodedBatch {
  const out: EncodedBatch = { lines: [], points_dropped: 0, fields_dropped: 0, problems: [] };
  const note = (problem: string) => {
    if (out.problems.length < MAX_PROBLEMS) out.problems.push(problem);
  };
  for (const p of points) {
    const r = encodePoint(p);
    if (!r.ok) {
      out.points_dropped++;
      note(`${p.measurement}: ${r.reason}`);
      continue;
    }
    out.lines.push(r.value.line);
    out.fields_dropped += r.value.fields_dropped;
    r.value.field_problems.forEach(note);
  }
  return out;
}
