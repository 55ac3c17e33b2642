import { describe, expect, it } from 'vitest';
import type { DeviceStatus } from '../../contract/index.js';
import { DevicePollTable } from '../../agent/device-poll-table.js';
import { nextStatus, type PollVerdict } from '../../agent/device-status.js';

const up: PollVerdict = { state: 'up' };
const degraded: PollVerdict = { state: 'degraded', code: 'DCIM_E_SNMP_ERROR' };
const downTimeout: PollVerdict = { state: 'down', code: 'DCIM_E_SNMP_TIMEOUT' };
const downRefused: PollVerdict = { state: 'down', code: 'DCIM_E_MODBUS_CONNECT' };

describe('DevicePollTable status', () => {
  it.each([
    ['up, up, down, down, up', [up, up, downTimeout, downTimeout, up]],
    ['down from the first poll, then up', [downTimeout, downTimeout, up]],
    ['degraded, up, degraded', [degraded, up, degraded, degraded]],
    ['down with a new code is a change', [up, downTimeout, downRefused, downRefused, up]],
  ])('follows nextStatus poll by poll: %s', (_, verdicts) => {
    const t = new DevicePollTable(3);
    let prev: DeviceStatus | undefined;
    verdicts.forEach((v, k) => {
      const ts = 1_800_000_000_000 + k * 10_000;
      const want = nextStatus(prev, v, ts);
      const changed = t.judge(1, v, ts);
      // A change is returned (to publish), the rest is not; the retained status is the same either way.
      expect(changed).toEqual(want.changed ? want.status : undefined);
      expect(t.status(1)).toEqual(want.status);
      prev = want.status;
    });
    // Rows are the device's alone.
    expect(t.status(0)).toBeUndefined();
    expect(t.status(2)).toBeUndefined();
    expect(t.hasStatus(1)).toBe(true);
    expect(t.hasStatus(0)).toBe(false);
  });

  it('isDown says the current state', () => {
    const t = new DevicePollTable(2);
    expect(t.isDown(0)).toBe(false);
    t.judge(0, downTimeout, 1000);
    expect(t.isDown(0)).toBe(true);
    expect(t.isDown(1)).toBe(false);
    t.judge(0, up, 2000);
    expect(t.isDown(0)).toBe(false);
  });
});

describe('DevicePollTable stats', () => {
  it('starts with zero counters and null times', () => {
    const t = new DevicePollTable(2);
    expect(t.stats(1)).toEqual({
      polls: 0,
      down_polls: 0,
      consecutive_failures: 0,
      overruns: 0,
      reader_errors: 0,
      last_ts: null,
      last_ok: null,
      last_poll_ms: null,
      requests: 0,
      retries: 0,
      timeouts: 0,
      probes: 0,
      backoff_ms: 0,
      next_due_ts: null,
    });
  });

  it('keeps counters, times and faults per row, exact for epoch milliseconds', () => {
    const t = new DevicePollTable(3);
    const ts = 1_796_688_000_123;
    t.add(2, 'polls', 1);
    t.add(2, 'polls', 1);
    t.add(2, 'requests', 3);
    t.set(2, 'backoff_ms', 60_000);
    t.setTime(2, 'last_ts', ts);
    t.setTime(2, 'last_poll_ms', 0);
    t.setTime(2, 'next_due_ts', ts + 10_000);
    t.setTime(2, 'next_due_ts', null);
    t.addFaults(2, { DCIM_E_SUNSPEC_CHAIN_TRUNCATED: 1 });
    t.addFaults(2, { DCIM_E_SUNSPEC_CHAIN_TRUNCATED: 2 });
    t.addFaults(1, {});
    expect(t.stats(2)).toMatchObject({ polls: 2, requests: 3, backoff_ms: 60_000, last_ts: ts, last_poll_ms: 0, next_due_ts: null, faults: { DCIM_E_SUNSPEC_CHAIN_TRUNCATED: 3 } });
    expect(t.get(2, 'polls')).toBe(2);
    expect(t.time(2, 'last_ts')).toBe(ts);
    // Neighbours untouched; an empty fault report makes no faults entry.
    expect(t.stats(1)).not.toHaveProperty('faults');
    expect(t.stats(1).polls).toBe(0);
    expect(t.stats(0).last_ts).toBeNull();
    // stats() is a copy: changing it changes nothing held.
    const copy = t.stats(2);
    (copy.faults as Record<string, number>).DCIM_E_SUNSPEC_CHAIN_TRUNCATED = 99;
    expect(t.stats(2).faults).toEqual({ DCIM_E_SUNSPEC_CHAIN_TRUNCATED: 3 });
  });
});
