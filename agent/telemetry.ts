import { DEVICE_CLASSES, ID_PATTERN, isPlainRecord, ReadingSchema, readingIfPlain, type DeviceClass, type Reading, type TelemetryMessage } from '../contract/index.js';
import type { PollResult } from './device-reader.js';

/**
 * One poll → one telemetry message (docs/design.md §2). Pure. Readings the contract would reject
 * (an index too long for a tag, a string too long …) are dropped one by one and reported,
 * so one odd value never costs the whole message.
 */
export interface TelemetryInput {
  agent: string;
  site: string;
  device: string;
  deviceClass: DeviceClass;
  seq: number;
  /** Poll start, ms since epoch. */
  ts: number;
  result: PollResult;
}

export interface DroppedReading {
  point: string;
  reason: string;
}

export function buildTelemetry(input: TelemetryInput): { message: TelemetryMessage; dropped: DroppedReading[] } {
  const readings: Reading[] = [];
  const dropped: DroppedReading[] = [];
  for (const r of input.result.readings) {
    // The readers build plain readings: the contract's fast check answers those without zod.
    const plain = readingIfPlain(r);
    if (plain) {
      readings.push(plain);
      continue;
    }
    const v = ReadingSchema.safeParse(r);
    if (v.success) readings.push(v.data);
    else dropped.push({ point: String(r.point), reason: v.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
  }
  const { ms, requests, retries, timeouts } = input.result.poll;
  return {
    message: {
      schema: 1,
      agent: input.agent,
      site: input.site,
      device: input.device,
      class: input.deviceClass,
      seq: input.seq,
      ts: Math.round(input.ts),
      readings,
      poll: { ms: Math.round(Math.max(0, ms)), requests, retries, timeouts },
    },
    dropped,
  };
}

const TELEMETRY_KEYS = new Set(['schema', 'agent', 'site', 'device', 'class', 'seq', 'ts', 'readings', 'poll']);
const POLL_KEYS = new Set(['ms', 'requests', 'retries', 'timeouts']);
const CLASSES: ReadonlySet<unknown> = new Set(DEVICE_CLASSES);
const isCount = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) >= 0;
const isId = (x: unknown): boolean => typeof x === 'string' && ID_PATTERN.test(x);

/**
 * The message itself when it is a plain, valid telemetry message (only the schema's keys, each
 * as TelemetryMessageSchema accepts it, every reading plain and valid), else undefined: then the
 * schema decides and explains. The publisher checks every message before it is spooled; this
 * answers the messages buildTelemetry makes without a second zod parse.
 * test/agent/telemetry.fast-path.test.ts holds it to TelemetryMessageSchema.
 */
export function telemetryIfPlain(raw: unknown): TelemetryMessage | undefined {
  if (!isPlainRecord(raw)) return undefined;
  for (const k in raw) if (!TELEMETRY_KEYS.has(k)) return undefined;
  const { schema, agent, site, device, seq, ts, readings, poll } = raw;
  if (schema !== 1 || !isId(agent) || !isId(site) || !isId(device) || !CLASSES.has(raw.class)) return undefined;
  if (!isCount(seq) || !Number.isSafeInteger(ts) || (ts as number) <= 0) return undefined;
  if (!Array.isArray(readings) || readings.length > 10_000 || !isPlainRecord(poll)) return undefined;
  for (const k in poll) if (!POLL_KEYS.has(k)) return undefined;
  const ms = poll.ms;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || !isCount(poll.requests) || !isCount(poll.retries)) return undefined;
  if (poll.timeouts !== undefined && !isCount(poll.timeouts)) return undefined;
  for (const r of readings) if (readingIfPlain(r) === undefined) return undefined;
  return raw as TelemetryMessage;
}
