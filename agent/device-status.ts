import type { DeviceStatus, ErrorCode, Reading } from '../contract/index.js';
import { TRANSPORT_FAILURES } from './device-reader.js';

/**
 * Device up / degraded / down from one poll's readings. Pure.
 * - down: nothing could be read (every reading failed in transport: timeout, connection,
 *   error status, exception), or the reader could not run at all;
 * - degraded: some readings failed in transport, others were read;
 * - up: the device answered every request. Values it reports as "not available"
 *   (sentinels, noSuchObject) or that we cannot decode are flagged per reading, not here:
 *   an AP7900B answering -1 for energy forever is working as designed.
 * The code is the most frequent transport failure, so "why is it down" has one answer.
 */
export type DeviceState = DeviceStatus['state'];

export interface PollVerdict {
  state: DeviceState;
  code?: ErrorCode;
}

const UP: PollVerdict = Object.freeze({ state: 'up' });

export function judgePoll(readings: readonly Reading[]): PollVerdict {
  // Called for every poll of every device: a poll with no transport failure (nearly all of
  // them) allocates nothing.
  let counts: Map<ErrorCode, number> | undefined;
  let faults = 0;
  for (const r of readings) {
    const c = r.error as ErrorCode | undefined;
    if (c === undefined || !TRANSPORT_FAILURES.has(c)) continue;
    faults++;
    (counts ??= new Map()).set(c, (counts.get(c) ?? 0) + 1);
  }
  if (!counts) return UP;
  const code = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] as ErrorCode;
  return { state: faults === readings.length ? 'down' : 'degraded', code };
}

/** The next retained status; `changed` when state or code differ (that is when it is published). */
export function nextStatus(prev: DeviceStatus | undefined, verdict: PollVerdict, ts: number): { status: DeviceStatus; changed: boolean } {
  const lastOk = verdict.state === 'down' ? (prev?.last_ok ?? null) : ts;
  const changed = !prev || prev.state !== verdict.state || prev.code !== verdict.code;
  const status: DeviceStatus = {
    state: verdict.state,
    ...(verdict.code ? { code: verdict.code } : {}),
    since: changed || !prev ? ts : prev.since,
    last_ok: lastOk,
  };
  return { status, changed };
}
