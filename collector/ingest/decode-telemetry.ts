import type { ErrorCode } from '../../contract/errors.js';
import { formatIssues } from '../../shared/config/load.js';
import { EnvelopeSchema, envelopeIfPlain, ReadingSchema, readingIfPlain, type Reading, type TelemetryEnvelope as Envelope, type TelemetryMessage } from '../../contract/messages.js';
import { fail, ok, type Result } from '../../shared/result.js';
import { parseTopic, type Topic } from '../../contract/topics.js';
import { unitForName } from '../../contract/units.js';
import { parseJsonPayload, type DecodeFailure } from './decode-failure.js';

/**
 * Telemetry payload → message. The envelope and the readings are validated separately
 * (docs/design.md §2): a bad envelope refuses the message, a bad reading is dropped on its own with
 * its reason and the rest of the poll is kept.
 */

export interface DroppedReading {
  /** Position in the payload's `readings` array (for the gate's codes: among the readings that decoded). */
  index: number;
  point?: string;
  /** DCIM_E_READING_INVALID here; the telemetry gate adds the profile and series-bound codes. */
  code: ErrorCode;
  reason: string;
}

export interface DecodedTelemetry {
  message: TelemetryMessage;
  dropped: DroppedReading[];
}

/**
 * How far ahead of the collector's clock a poll may be stamped. Further means the agent's clock is
 * wrong, and a reading from the future would stay "latest" and freeze the live value until then.
 */
export const MAX_CLOCK_AHEAD_MS = 5 * 60_000;


const DECIMAL = /^\d{1,20}$/;

/** Key of one series inside one device: point plus its index tags in a fixed order. */
export function readingKey(r: Pick<Reading, 'point' | 'index'>): string {
  if (!r.index) return r.point;
  // Most tables have one index tag (phase, outlet, gpu): no sort needed.
  const names = Object.keys(r.index);
  if (names.length === 1) {
    const v = r.index[names[0] as keyof typeof r.index];
    return v === undefined ? r.point : `${r.point}|${names[0]}=${v}`;
  }
  const tags = Object.entries(r.index)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`);
  return tags.length > 0 ? `${r.point}|${tags.join('|')}` : r.point;
}

/** Checks the schema cannot express: the unit must agree with the name's suffix. */
function readingProblem(r: Reading): string | undefined {
  const implied = unitForName(r.point);
  if (implied !== undefined && r.unit !== undefined && r.unit !== implied) {
    return `unit ${r.unit} does not match the name ${r.point} (expects ${implied})`;
  }
  if (implied !== undefined && r.value !== null && typeof r.value !== 'number' && !(typeof r.value === 'string' && DECIMAL.test(r.value))) {
    return `a ${implied} point needs a number, got ${typeof r.value}`;
  }
  return undefined;
}

/** One raw reading → the reading, or the reason it is dropped; `seen` holds the poll's series keys. */
function checkReading(raw: unknown, index: number, seen: Set<string>): Reading | string {
  let reading = readingIfPlain(raw);
  if (reading === undefined) {
    const r = ReadingSchema.safeParse(raw);
    if (!r.success) return formatIssues(`readings[${index}]`, r.error).slice(0, 3).join('; ');
    reading = r.data;
  }
  const problem = readingProblem(reading);
  if (problem) return problem;
  const key = readingKey(reading);
  if (seen.has(key)) return `duplicate reading for ${key}`;
  seen.add(key);
  return reading;
}

function droppedReading(raw: unknown, index: number, reason: string): DroppedReading {
  const point = typeof raw === 'object' && raw !== null && typeof (raw as { point?: unknown }).point === 'string' ? String((raw as { point: string }).point).slice(0, 64) : undefined;
  return { index, ...(point !== undefined ? { point } : {}), code: 'DCIM_E_READING_INVALID', reason };
}

/**
 * `now_ms` is the collector's clock, to refuse polls stamped in the future and, with
 * `max_age_ms`, polls older than anything the collector still keeps (a 1970 stamp from a device
 * whose clock was reset, or a forged one that would open store shards decades back).
 */
export function decodeTelemetry(topic: string, payload: Uint8Array, now_ms?: number, max_age_ms?: number, parsed?: Topic): Result<DecodedTelemetry, DecodeFailure> {
  // `parsed`: the caller's parse of this same topic (the collector parses it once to route it).
  const t = parsed ?? parseTopic(topic);
  if (!t || t.kind !== 'telemetry') return fail({ code: 'DCIM_E_MQTT_TOPIC_INVALID', reason: `not a telemetry topic: ${JSON.stringify(topic.slice(0, 200))}` });
  const json = parseJsonPayload(payload);
  if (!json.ok) return json;

  let env: Envelope | undefined = envelopeIfPlain(json.value);
  if (env === undefined) {
    const checked = EnvelopeSchema.safeParse(json.value);
    if (!checked.success) return fail({ code: 'DCIM_E_MQTT_PAYLOAD_INVALID', reason: formatIssues('telemetry', checked.error).slice(0, 5).join('; ') });
    env = checked.data;
  }
  if (env.site !== t.site || env.device !== t.device) {
    return fail({
      code: 'DCIM_E_MQTT_PAYLOAD_INVALID',
      reason: `payload names ${env.site}/${env.device} but was published on ${t.site}/${t.device}`,
    });
  }

  if (now_ms !== undefined && env.ts - now_ms > MAX_CLOCK_AHEAD_MS) {
    return fail({
      code: 'DCIM_E_MQTT_TS_AHEAD',
      reason: `ts is ${Math.round((env.ts - now_ms) / 1000)} s ahead of the collector clock (agent ${env.agent}: check its time sync)`,
    });
  }

  if (now_ms !== undefined && max_age_ms !== undefined && now_ms - env.ts > max_age_ms) {
    return fail({
      code: 'DCIM_E_MQTT_TS_TOO_OLD',
      reason: `ts ${new Date(env.ts).toISOString()} is more than ${Math.round(max_age_ms / 86_400_000)} days behind the collector clock (agent ${env.agent}: check its time sync)`,
    });
  }

  const dropped: DroppedReading[] = [];
  const seen = new Set<string>();
  const raws = env.readings;
  // A copy only once a reading differs from its raw form (dropped, or rebuilt by the schema):
  // a clean poll keeps its parsed array and envelope, saving two allocations per message.
  let readings: Reading[] | undefined;
  for (let index = 0; index < raws.length; index++) {
    const checked = checkReading(raws[index], index, seen);
    if (typeof checked === 'string') {
      readings ??= raws.slice(0, index) as Reading[];
      dropped.push(droppedReading(raws[index], index, checked));
    } else if (readings !== undefined) readings.push(checked);
    else if (checked !== raws[index]) {
      readings = raws.slice(0, index) as Reading[];
      readings.push(checked);
    }
  }
  if (readings === undefined && env === json.value) return ok({ message: env as TelemetryMessage, dropped });
  return ok({ message: { ...env, readings: readings ?? (raws as Reading[]) }, dropped });
}
