/**
 * Signed distance (ms) of `ts` from the nearest slot of `period_ms`: negative when it is up to
 * `early_ms` before the slot. A timer may fire a millisecond before the wall-clock slot (libuv's
 * monotonic clock and Date.now() round differently): that is on time, not a period late.
 */
export function offsetFromSlot(ts: number, period_ms = 1000, early_ms = 100): number {
  return (((ts % period_ms) + period_ms + early_ms) % period_ms) - early_ms;
}
