import { describe, expect, it } from 'vitest';
import type { DeviceStatus } from '../../contract/index.js';
import { DevicePollTable } from '../../agent/device-poll-table.js';
import { nextStatus, type PollVerdict } from '../../agent/device-status.js';
import type { AgentStats } from '../../agent/agent.js';
import { countStates, pollTotals, type DeviceSnapshot } from '../../agent/metrics/agent-snapshot.js';
import type { DevicePollStats } from '../../agent/scheduler.js';

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

describe('DevicePollTable sums from the columns', () => {
  /** A fleet of `n` devices with polls of every kind: what a day of polling leaves in the table. */
  function fleet(n: number, seed: number): DevicePollTable {
    let x = seed;
    // A small deterministic generator (mulberry32): the same fleet on every run.
    const rnd = () => {
      x = (x + 0x6d2b79f5) | 0;
      let r = Math.imul(x ^ (x >>> 15), 1 | x);
      r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
      return ((r ^ (r >>> 14)) >>> 0) / 4294967296;
    };
    const t = new DevicePollTable(n);
    const verdicts = [up, degraded, downTimeout, downRefused];
    for (let i = 0; i < n; i++) {
      const polls = Math.floor(rnd() * 5); // 0: never polled yet
      for (let k = 0; k < polls; k++) {
        const ts = 1_800_000_000_000 + k * 30_000 + i;
        const v = verdicts[Math.floor(rnd() * verdicts.length)] as PollVerdict;
        t.add(i, 'polls', 1);
        t.add(i, 'requests', 1 + Math.floor(rnd() * 3));
        t.add(i, 'retries', Math.floor(rnd() * 2));
        t.add(i, 'timeouts', v.state === 'down' ? 1 : 0);
        t.add(i, 'overruns', rnd() < 0.05 ? 1 : 0);
        t.add(i, 'reader_errors', rnd() < 0.02 ? 1 : 0);
        t.add(i, 'probes', v.state === 'down' && rnd() < 0.5 ? 1 : 0);
        if (v.state === 'down') t.add(i, 'down_polls', 1);
        t.set(i, 'backoff_ms', v.state === 'down' && rnd() < 0.5 ? 60_000 : 0);
        t.setTime(i, 'last_ts', ts);
        t.setTime(i, 'last_poll_ms', Math.round(rnd() * 2000 * 1000) / 1000);
        t.judge(i, v, ts);
      }
    }
    return t;
  }

  it.each([
    [1, 7],
    [1000, 11],
    [10_000, 42],
  ])('totals() and stateCounts() equal the per-device sums over stats(i) and status(i) (%s devices)', (n, seed) => {
    const t = fleet(n, seed);
    const devices: Record<string, DevicePollStats> = {};
    const snapDevices: DeviceSnapshot[] = [];
    for (let i = 0; i < n; i++) {
      devices[`d${i}`] = t.stats(i);
      snapDevices.push({ id: `d${i}`, profile: 'p', state: t.status(i)?.state });
    }
    const stats = { polling: { in_flight: 0, queued: 0, probes_queued: 0, devices } } as AgentStats;
    const want = pollTotals(stats);
    const got = t.totals();
    // The mean is a sum divided in another order at most: equal to the last few bits.
    expect({ ...got, mean_last_poll_ms: 0 }).toEqual({ ...want, mean_last_poll_ms: 0 });
    expect(got.mean_last_poll_ms).toBeCloseTo(want.mean_last_poll_ms, 9);
    expect(t.stateCounts()).toEqual(countStates(snapDevices));
    // The fleet has every kind of device, so no sum above is trivially zero.
    if (n >= 1000) {
      expect(Object.values(t.stateCounts()).every((c) => c > 0)).toBe(true);
      expect(got.backing_off).toBeGreaterThan(0);
      expect(got.reader_errors).toBeGreaterThan(0);
    }
  });

  it('an empty table sums to zeros', () => {
    const t = new DevicePollTable(0);
    expect(t.totals()).toEqual({ polls: 0, down_polls: 0, requests: 0, retries: 0, timeouts: 0, overruns: 0, reader_errors: 0, probes: 0, backing_off: 0, max_last_poll_ms: 0, mean_last_poll_ms: 0 });
    expect(t.stateCounts()).toEqual({ up: 0, degraded: 0, down: 0, unpolled: 0 });
  });
});
