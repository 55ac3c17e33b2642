import { ReadingSchema, readingIfPlain, type DeviceClass, type Reading, type TelemetryMessage } from '../contract/index.js';
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

