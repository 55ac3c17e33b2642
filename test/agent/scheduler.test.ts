import { describe, expect, it } from 'vitest';
import { ManualClock, type DeviceStatus, type Reading } from '../../contract/index.js';
import { memoryLogger } from '../../shared/log.js';
import type { PollResult, ReadOptions } from '../../agent/device-reader.js';
import { backoffDelay, deviceOffset, nextSlot, Scheduler, type ScheduledDevice } from '../../agent/scheduler.js';

const flush = () => new Promise<void>((r) => setImmediate(r));
/** Move the manual clock in small steps, letting promise chains run between steps. */
async function runFor(clock: ManualClock, ms: number, step = 10): Promise<void> {
  for (let t = 0; t < ms; t += step) {
    clock.advance(Math.min(step, ms - t));
    await flush();
  }
}

const good: Reading = { point: 'active_power_w', value: 1, unit: 'W', quality: 'good' };
const timeout: Reading = { point: 'active_power_w', value: null, unit: 'W', quality: 'bad', error: 'DCIM_E_SNMP_TIMEOUT' };

interface Call {
  id: string;
  ts: number;
  opts: ReadOptions;
}

function device(clock: ManualClock, id: string, intervalMs: number, calls: Call[], behave: (n: number) => { takesMs?: number; readings?: Reading[]; throws?: boolean } = () => ({})): ScheduledDevice {
  let n = 0;
  let inFlight = 0;
  return {
    id,
    intervalMs,
    read: async (opts) => {
      const b = behave(n++);
      inFlight++;
      if (inFlight > 1) throw new Error(`${id}: two polls in flight`);
      calls.push({ id, ts: clock.now(), opts });
      try {
        if (b.takesMs) await clock.sleep(b.takesMs);
        if (b.throws) throw new Error('reader bug');
        return { readings: b.readings ?? [good], poll: { ms: b.takesMs ?? 0, requests: 1, retries: 0, timeouts: 0 } } satisfies PollResult;
      } finally {
        inFlight--;
      }
    },
  };
}

function sinkRecorder() {
  const polls: { device: string; ts: number }[] = [];
  const statuses: { device: string; status: DeviceStatus }[] = [];
  return { polls, statuses, sink: { poll: (device: string, ts: number) => polls.push({ device, ts }), status: (device: string, status: DeviceStatus) => statuses.push({ device, status }) } };
}

describe('slot arithmetic', () => {
  it.each([
    [1000, 1000, 50, 1050],
    [1050, 1000, 50, 2050],
    [1049, 1000, 50, 1050],
    [0, 10_000, 0, 10_000],
    [12_345, 5000, 120, 15_120],
  ])('nextSlot(%i, %i, %i) = %i', (now, interval, offset, expected) => {
    expect(nextSlot(now, interval, offset)).toBe(expected);
  });

  it('offsets are stable, bounded by the cap and a tenth of the interval', () => {
    expect(deviceOffset('pdu-r01-a', 10_000, 250)).toBe(deviceOffset('pdu-r01-a', 10_000, 250));
    for (const id of ['a', 'b', 'meter-incomer-1', 'pdu-r01-a', 'x'.repeat(64)]) {
      expect(deviceOffset(id, 10_000, 250)).toBeLessThan(250);
      expect(deviceOffset(id, 1000, 250)).toBeLessThan(100);
      expect(deviceOffset(id, 1000, 0)).toBe(0);
    }
  });
});

describe('back-off arithmetic', () => {
  it.each([
    [10_000, 0, 300_000, 10_000],
    [10_000, 1, 300_000, 10_000],
    [10_000, 2, 300_000, 20_000],
    [10_000, 3, 300_000, 40_000],
    [10_000, 6, 300_000, 300_000],
    [10_000, 1000, 300_000, 300_000],
    // A device polled less often than the cap keeps its own interval.
    [600_000, 5, 300_000, 600_000],
    [5000, 2, 0, 5000],
  ])('interval %i, %i failures in a row, cap %i → %i', (interval, failures, cap, expected) => {
    expect(backoffDelay(interval, failures, cap)).toBe(expected);
  });
});

describe('Scheduler', () => {
  it('aligns polls to interval boundaries; devices of one interval read within the jitter cap', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 1, 3)); // 1.003 s past the minute
    const calls: Call[] = [];
    const rec = sinkRecorder();
    const s = new Scheduler({ devices: [device(clock, 'pdu-r01-a', 5000, calls), device(clock, 'meter-incomer-1', 5000, calls)], sink: rec.sink, clock, logger: memoryLogger(), maxJitterMs: 200 });
    s.start();
    await runFor(clock, 16_000);
    await s.stop();
    const base = Date.UTC(2026, 0, 1, 0, 0, 0);
    const offsets = calls.map((c) => (c.ts - base) % 5000);
    expect(calls.map((c) => Math.floor((c.ts - base) / 5000))).toEqual([1, 1, 2, 2, 3, 3]);
    for (const o of offsets) expect(o).toBeLessThan(200);
    // ts handed to the sink is the poll start
    expect(rec.polls.map((p) => p.ts)).toEqual(calls.map((c) => c.ts));
    // deadline = start + 0.8 × interval
    expect(calls[0]?.opts.deadlineAt).toBe((calls[0]?.ts ?? 0) + 4000);
  });

  it('never runs two polls of one device at once; an overrun skips missed boundaries', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const calls: Call[] = [];
    const logger = memoryLogger();
    const s = new Scheduler({ devices: [device(clock, 'slow', 5000, calls, (n) => ({ takesMs: n === 0 ? 12_000 : 10 }))], sink: sinkRecorder().sink, clock, logger, maxJitterMs: 0 });
    s.start();
    await runFor(clock, 26_000, 50);
    await s.stop();
    const t0 = Date.UTC(2026, 0, 1);
    // Poll 1 at 5 s runs until 17 s: boundaries 10 s and 15 s are skipped, next at 20 s, 25 s.
    expect(calls.map((c) => c.ts - t0)).toEqual([5000, 20_000, 25_000]);
    expect(s.stats().devices.slow?.overruns).toBe(2);
    expect(logger.lines.some((l) => l.msg === 'poll took longer than its interval')).toBe(true);
  });

  it('caps polls in flight across devices, and still reads them all', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const calls: Call[] = [];
    let concurrent = 0;
    let peak = 0;
    const devices = Array.from({ length: 5 }, (_, i) => {
      const d = device(clock, `d${i}`, 10_000, calls, () => ({ takesMs: 1000 }));
      return {
        ...d,
        read: async (o: ReadOptions) => {
          peak = Math.max(peak, ++concurrent);
          try {
            return await d.read(o);
          } finally {
            concurrent--;
          }
        },
      };
    });
    const s = new Scheduler({ devices, sink: sinkRecorder().sink, clock, logger: memoryLogger(), maxConcurrent: 2, maxJitterMs: 0 });
    s.start();
    await runFor(clock, 14_000, 50);
    await s.stop();
    expect(peak).toBe(2);
    expect(new Set(calls.map((c) => c.id)).size).toBe(5);
    // Queued devices start later than the boundary: ts is when they really started.
    expect(calls.map((c) => c.ts - Date.UTC(2026, 0, 1, 0, 0, 10))).toEqual([0, 0, 1000, 1000, 2000]);
  });

  it('publishes the status only when it changes', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const script: Reading[][] = [[good], [good], [timeout], [timeout], [good, timeout], [good]];
    const rec = sinkRecorder();
    const s = new Scheduler({ devices: [device(clock, 'pdu', 1000, [], (n) => ({ readings: script[Math.min(n, script.length - 1)] }))], sink: rec.sink, clock, logger: memoryLogger(), maxJitterMs: 0 });
    s.start();
    // Polls at 1, 2, 3 (down), 4 (probe, still down: back-off 2 s), 6, 7 s.
    await runFor(clock, 7500);
    await s.stop();
    expect(rec.statuses.map((x) => [x.status.state, x.status.code])).toEqual([
      ['up', undefined],
      ['down', 'DCIM_E_SNMP_TIMEOUT'],
      ['degraded', 'DCIM_E_SNMP_TIMEOUT'],
      ['up', undefined],
    ]);
    const t0 = Date.UTC(2026, 0, 1);
    expect(rec.statuses[1]?.status).toEqual({ state: 'down', code: 'DCIM_E_SNMP_TIMEOUT', since: t0 + 3000, last_ok: t0 + 2000 });
    expect(s.stats().devices.pdu).toMatchObject({ polls: 6, down_polls: 2, consecutive_failures: 0, last_ok: t0 + 7000, probes: 2 });
  });

  it('a reader that throws is logged, marks the device down, and the schedule goes on', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const calls: Call[] = [];
    const rec = sinkRecorder();
    const logger = memoryLogger();
    const s = new Scheduler({ devices: [device(clock, 'buggy', 1000, calls, (n) => ({ throws: n === 0 }))], sink: rec.sink, clock, logger, maxJitterMs: 0 });
    s.start();
    await runFor(clock, 2500);
    await s.stop();
    expect(calls).toHaveLength(2);
    expect(rec.statuses.map((x) => x.status.state)).toEqual(['down', 'up']);
    expect(s.stats().devices.buggy?.reader_errors).toBe(1);
    expect(logger.lines.some((l) => l.msg === 'reader failed')).toBe(true);
  });

  it('sums the device faults each poll reports, by code', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const faulty: ScheduledDevice = {
      id: 'inverter',
      intervalMs: 1000,
      read: async () => ({ readings: [good], poll: { ms: 0, requests: 2, retries: 0, timeouts: 0, faults: { DCIM_E_SUNSPEC_CHAIN_TRUNCATED: 1 } } }),
    };
    const s = new Scheduler({ devices: [faulty], sink: sinkRecorder().sink, clock, logger: memoryLogger(), maxJitterMs: 0 });
    s.start();
    await runFor(clock, 2500);
    await s.stop();
    expect(s.stats().devices.inverter?.faults).toEqual({ DCIM_E_SUNSPEC_CHAIN_TRUNCATED: s.stats().devices.inverter?.polls });
    expect(s.stats().devices.inverter?.polls).toBeGreaterThanOrEqual(2);
  });

  it('stop() waits for the poll in flight and schedules nothing more', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    const calls: Call[] = [];
    const rec = sinkRecorder();
    const s = new Scheduler({ devices: [device(clock, 'd', 1000, calls, () => ({ takesMs: 500 }))], sink: rec.sink, clock, logger: memoryLogger(), maxJitterMs: 0 });
    s.start();
    await runFor(clock, 1200);
    let stopped = false;
    const stopping = s.stop().then(() => (stopped = true));
    await flush();
    expect(stopped).toBe(false);
    await runFor(clock, 400);
    await stopping;
    expect(rec.polls).toHaveLength(1);
    await runFor(clock, 5000);
    expect(calls).toHaveLength(1);
  });

  it('backs off a dead device exponentially to the cap, probes it without retries, and ends the back-off on its first answer', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const clock = new ManualClock(t0);
    const calls: Call[] = [];
    const rec = sinkRecorder();
    let alive = false;
    const dead = device(clock, 'dead', 10_000, calls, () => (alive ? {} : { takesMs: 2000, readings: [timeout] }));
    const s = new Scheduler({ devices: [dead], sink: rec.sink, clock, logger: memoryLogger(), maxJitterMs: 0, backoffMaxMs: 60_000 });
    s.start();
    await runFor(clock, 400_000, 500);
    const seconds = calls.map((c) => (c.ts - t0) / 1000);
    // Down after the poll at 10 s; then waits of 10, 20, 40, 60 (cap), 60 … seconds, on its slots.
    expect(seconds.slice(0, 8)).toEqual([10, 20, 40, 80, 140, 200, 260, 320]);
    expect(calls.map((c) => c.opts.probe === true)).toEqual(calls.map((_, i) => i > 0));
    expect(s.stats().devices.dead).toMatchObject({ backoff_ms: 60_000, probes: calls.length - 1, consecutive_failures: calls.length });
    alive = true;
    await runFor(clock, 70_000, 500);
    await s.stop();
    const after = calls.slice(8).map((c) => (c.ts - t0) / 1000);
    // The probe at 380 s still failed; the one at 440 s answers: back to every 10 s, full polls again.
    expect(after).toEqual([380, 440, 450, 460, 470]);
    expect(calls.slice(10).every((c) => c.opts.probe === undefined)).toBe(true);
    expect(rec.statuses.map((x) => x.status.state)).toEqual(['down', 'up']);
    expect(s.stats().devices.dead?.backoff_ms).toBe(0);
  });

  it('dead devices never delay live ones: probes keep to a quarter of the cap, live polls start on their slots', async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const clock = new ManualClock(t0);
    const calls: Call[] = [];
    // 12 dead devices whose every poll hangs for the full 8 s deadline, 4 live ones, a cap of 8:
    // without a lane of their own the dead would fill all 8 slots at every aligned tick.
    const deadOnes = Array.from({ length: 12 }, (_, i) => device(clock, `dead-${i}`, 10_000, calls, () => ({ takesMs: 8000, readings: [timeout] })));
    const live = Array.from({ length: 4 }, (_, i) => device(clock, `live-${i}`, 10_000, calls, () => ({ takesMs: 50 })));
    const s = new Scheduler({ devices: [...deadOnes, ...live], sink: sinkRecorder().sink, clock, logger: memoryLogger(), maxJitterMs: 0, maxConcurrent: 8 });
    s.start();
    await runFor(clock, 200_000, 50);
    const stopping = s.stop();
    await runFor(clock, 10_000, 50);
    await stopping;
    // Once every dead device is known down (from the third cycle on), live polls start on time.
    const lateStarts = calls.filter((c) => c.id.startsWith('live') && c.ts >= t0 + 60_000).map((c) => (c.ts - t0) % 10_000);
    expect(lateStarts.length).toBeGreaterThanOrEqual(4 * 13);
    expect(Math.max(...lateStarts)).toBe(0);
    // And the dead ones still get probed, each at most once per back-off period.
    for (const d of deadOnes) {
      const ts = calls.filter((c) => c.id === d.id).map((c) => c.ts);
      expect(ts.length).toBeGreaterThanOrEqual(3);
      for (let i = 2; i < ts.length; i++) expect((ts[i] as number) - (ts[i - 1] as number)).toBeGreaterThanOrEqual(20_000);
    }
  });
});

describe('Scheduler: one clock timer for every device', () => {
  /** A manual clock that counts the timers it holds that neither ran nor were cancelled. */
  function countingClock() {
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 0, 0, 0));
    let live = 0;
    let most = 0;
    const setTimeout = clock.setTimeout.bind(clock);
    clock.setTimeout = (fn, ms) => {
      let done = false;
      const end = () => {
        if (done) return;
        done = true;
        live--;
      };
      live++;
      most = Math.max(most, live);
      const h = setTimeout(() => (end(), fn()), ms);
      return { cancel: () => (end(), h.cancel()) };
    };
    return { clock, most: () => most, live: () => live };
  }

  it('polls each device at its own slot, whatever the order their due times were scheduled in', async () => {
    const { clock, most, live } = countingClock();
    const calls: Call[] = [];
    // Intervals of 5, 7 and 3 s and offsets up to 0.3 s: due times interleave, and a device due
    // earlier than the one the timer waits for is scheduled after it.
    const devices = ['pdu-a', 'pdu-b', 'ups-c', 'meter-d', 'crah-e', 'pdu-f'].map((id, i) => device(clock, id, [5000, 7000, 3000][i % 3] as number, calls));
    const s = new Scheduler({ devices, sink: sinkRecorder().sink, clock, logger: memoryLogger(), maxJitterMs: 300 });
    const start = clock.now();
    s.start();
    await runFor(clock, 21_500);
    for (const d of devices) {
      const offset = deviceOffset(d.id, d.intervalMs, 300);
      const expected: number[] = [];
      for (let at = nextSlot(start, d.intervalMs, offset); at <= start + 21_500; at = nextSlot(at, d.intervalMs, offset)) expected.push(at);
      expect(calls.filter((c) => c.id === d.id).map((c) => c.ts), d.id).toEqual(expected);
    }
    // The readers above set no timers of their own: every timer was the scheduler's.
    expect(most()).toBe(1);
    await s.stop();
    expect(live()).toBe(0);
    const polled = calls.length;
    await runFor(clock, 10_000);
    expect(calls.length).toBe(polled);
  });

  it('a device whose poll overruns rejoins the timer after it, the others keep their slots', async () => {
    const { clock } = countingClock();
    const calls: Call[] = [];
    const s = new Scheduler({ devices: [device(clock, 'slow', 5000, calls, (n) => ({ takesMs: n === 0 ? 7000 : 10 })), device(clock, 'fast', 5000, calls)], sink: sinkRecorder().sink, clock, logger: memoryLogger(), maxJitterMs: 0 });
    const base = clock.now();
    s.start();
    await runFor(clock, 21_000);
    await s.stop();
    const at = (id: string) => calls.filter((c) => c.id === id).map((c) => (c.ts - base) / 1000);
    expect(at('fast')).toEqual([5, 10, 15, 20]);
    // Polled at 5 s, done at 12 s: the 10 s slot is skipped, the next is 15 s.
    expect(at('slow')).toEqual([5, 15, 20]);
  });
});
