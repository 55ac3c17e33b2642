import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { topics } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { memoryLogger } from '../../shared/log.js';
import { Agent, type AgentOptions } from '../../agent/agent.js';
import { startMosquitto } from '../support/mosquitto.js';
import { useService } from '../support/require-service.js';
import { countingReaders, meterSite, type TakenReading } from './support/counting-reader.js';
import { durableSubscriber, pollCount, type Arrival, type DurableSubscriber } from './support/durable-subscriber.js';

/**
 * The spool against a real mosquitto that goes away and comes back (docs/design.md §2):
 * readings taken while the broker is down arrive afterwards exactly once and in order, paced,
 * while live readings keep arriving; the byte and age bounds drop the oldest, counted.
 */
const profiles = loadProfiles();
let stateDir: string;
const agents: Agent[] = [];
const subs: DurableSubscriber[] = [];
beforeEach(() => {
  stateDir = mkdtempSync(join(tmpdir(), 'dcim-spool-broker-'));
});
afterEach(async () => {
  for (const a of agents.splice(0)) await a.stop();
  for (const s of subs.splice(0)) await s.close();
  rmSync(stateDir, { recursive: true, force: true });
});

// Each wait below is bounded on its own, generously for a loaded machine; the test's bound is the sum.
describe('spool with a real mosquitto', { timeout: 120_000 }, () => {
  const broker = useService('mosquitto', () => startMosquitto());

  function agent(devices: number, taken: TakenReading[], over: Partial<AgentOptions> = {}, readMs = 0, padReadings = 0) {
    const { readerFor, inFlight } = countingReaders({ readMs, padReadings, onRead: (r) => taken.push(r) });
    const logger = memoryLogger('info');
    const a = new Agent({ id: 'edge1', inventory: meterSite(devices), profiles, mqtt: { url: broker().url }, stateDir, logger, reconnectPeriodMs: 300, maxJitterMs: 0, readerFor, ...over });
    agents.push(a);
    return { a, logger, readsInFlight: inFlight };
  }

  async function subscribe() {
    const s = await durableSubscriber(broker().url, topics.filters.telemetry('demo'));
    subs.push(s);
    return s;
  }

  const key = (device: string, n: number) => `${device}#${n}`;
  const keyOf = (m: Arrival) => key(m.payload.device, pollCount(m));

  it('a broker stopped mid-cycle: readings taken while it was down arrive once, in order, paced, beside live data', async () => {
    const rate = 10;
    const taken: TakenReading[] = [];
    const sub = await subscribe();
    const { a, logger, readsInFlight } = agent(8, taken, { spool: { replayRatePerS: rate } }, 250);
    await a.start();
    await sub.until(() => sub.arrivals.length >= 8, 60_000, 'a first full cycle');

    // Stop the broker while reads are under way.
    await sub.until(() => readsInFlight() > 0, 60_000, 'a poll in progress');
    const downFrom = Date.now();
    await broker().halt();
    // Down for at least 1.6 s and until a full cycle of readings was taken meanwhile: a loaded
    // machine may poll late, and the outage lasts until it has something to hold.
    const heldFor = Date.now() + 1600;
    await sub.until(() => Date.now() >= heldFor && taken.filter((t) => t.ts >= downFrom).length >= 8, 60_000, 'a cycle of readings taken while the broker is down');
    const downTo = Date.now();
    await broker().restart();
    const upAt = Date.now();

    const whileDown = taken.filter((t) => t.ts >= downFrom && t.ts < downTo);
    expect(whileDown.length).toBeGreaterThanOrEqual(8);
    const downKeys = new Set(whileDown.map((t) => key(t.device, t.n)));
    await sub.until(() => [...downKeys].every((k) => sub.arrivals.some((m) => keyOf(m) === k)), 30_000, 'every reading taken while the broker was down');
    const takenSoFar = [...taken];
    await sub.until(() => takenSoFar.every((t) => sub.arrivals.some((m) => keyOf(m) === key(t.device, t.n))), 60_000, 'every reading taken');

    // Exactly once, for what was taken while the broker was down.
    const fromDown = sub.arrivals.filter((m) => downKeys.has(keyOf(m)));
    expect(fromDown).toHaveLength(downKeys.size);
    // In order: the agent's seq rises with the time the readings were taken.
    const seqs = fromDown.map((m) => m.payload.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    // Content: what was read, stamped with when it was read.
    for (const m of fromDown) {
      const t = whileDown.find((x) => x.device === m.payload.device && x.n === pollCount(m));
      expect(Math.abs((t as TakenReading).ts - m.payload.ts)).toBeLessThanOrEqual(5);
    }
    // Paced: at most the rate, after a burst of one.
    const spanMs = (fromDown.at(-1) as Arrival).at - (fromDown[0] as Arrival).at;
    expect(spanMs).toBeGreaterThanOrEqual(((fromDown.length - 2) * 1000) / rate * 0.9);
    // Live data kept flowing: readings taken after the restart arrived before the backlog was through.
    const lastBacklog = (fromDown.at(-1) as Arrival).at;
    const liveDuringReplay = sub.arrivals.filter((m) => m.payload.ts > upAt && m.at < lastBacklog);
    expect(liveDuringReplay.length).toBeGreaterThanOrEqual(4);
    // A duplicate (a message in flight when the broker went) is the same message, byte for byte.
    for (const m of sub.arrivals) {
      const first = sub.arrivals.find((x) => x.payload.seq === m.payload.seq);
      expect(m.text).toBe(first?.text);
    }

    const s = a.stats();
    expect(s.mqtt.connects).toBeGreaterThanOrEqual(2);
    expect(s.telemetry.replayed).toBeGreaterThanOrEqual(downKeys.size);
    expect(s.telemetry.spool).toMatchObject({ dropped_records: 0, refused_records: 0 });
    expect(logger.lines.some((l) => l.msg === 'replaying spooled telemetry')).toBe(true);
  });

  it('max_bytes: an outage longer than the spool holds loses the oldest readings, counted, and delivers the newest', async () => {
    const taken: TakenReading[] = [];
    const sub = await subscribe(); // its session outlives the broker restart
    await broker().halt();
    const { a, logger } = agent(10, taken, { spool: { maxBytes: 24 * 1024, segmentBytes: 4096, replayRatePerS: 500 } }, 0, 6);
    await a.start();
    // ~2 cycles × 10 devices × ~1.5 KB > 24 KiB: wait for the first drop, however long the
    // polls take on this machine.
    await sub.until(() => a.stats().telemetry.spool.dropped_records > 0, 30_000, 'the spool to drop at its byte bound');
    const spooled = a.stats().telemetry.spool;
    expect(spooled.bytes).toBeLessThanOrEqual(24 * 1024);
    expect(spooled.dropped_records + spooled.records).toBe(spooled.appended);
    await broker().restart();
    await sub.until(() => a.stats().mqtt.connected && a.stats().telemetry.spool.records === 0 && a.stats().telemetry.in_flight === 0, 30_000, 'the spool to drain');
    // The agent keeps polling and dropping until it has reconnected, so the drop count is read
    // once the spool is drained; with the broker back, nothing more is dropped. Everything below
    // next_id has now been either dropped or acknowledged by the broker, which queued it for the
    // subscriber's session: the dropped ones are the oldest, the rest arrive without holes.
    const drained = a.stats().telemetry.spool;
    const dropped = drained.dropped_records;
    expect(dropped).toBeGreaterThanOrEqual(spooled.dropped_records);
    expect(dropped).toBeLessThan(drained.next_id);
    const kept = Array.from({ length: drained.next_id - dropped }, (_, i) => dropped + i);
    const arrivedSeqs = () => new Set(sub.arrivals.map((m) => m.payload.seq));
    await sub.until(() => kept.every((seq) => arrivedSeqs().has(seq)), 30_000, `seqs ${dropped}..${drained.next_id - 1} at the subscriber`);
    expect([...arrivedSeqs()].filter((seq) => seq < dropped)).toEqual([]);
    expect(a.stats().telemetry.spool.dropped_records).toBe(dropped);
    const line = logger.lines.filter((l) => l.msg === 'spool limit reached: oldest records dropped');
    expect(line).toHaveLength(1);
    expect(line[0]).toMatchObject({ level: 'warn', limit: 'bytes' });
  });

  it('max_age: readings older than the limit are dropped while the broker is away, the newest delivered', async () => {
    const taken: TakenReading[] = [];
    const sub = await subscribe();
    await broker().halt();
    const { a, logger } = agent(4, taken, { spool: { maxAgeMs: 2000, replayRatePerS: 500 } });
    const startedAt = Date.now();
    await a.start();
    // Run long enough that a spool without the age bound would hold a reading 3.3 s old, and
    // until the bound has dropped a cycle's worth.
    await sub.until(() => Date.now() - startedAt >= 3300 && a.stats().telemetry.spool.dropped_records >= 4, 30_000, 'the age bound to drop a cycle');
    const during = a.stats().telemetry.spool;
    const takenWhileDown = [...taken];
    expect(during.dropped_records).toBeGreaterThanOrEqual(4);
    // The bound is kept on every append and by a 200 ms housekeeping timer, which a loaded
    // machine may run late: allow a second of lateness, still well under the 3.3 s a spool
    // that never dropped by age would hold by now.
    expect(during.oldest_age_ms).toBeLessThan(2000 + 1000);
    const restartAt = Date.now();
    await broker().restart();
    await sub.until(() => a.stats().mqtt.connected && a.stats().telemetry.spool.records === 0 && a.stats().telemetry.in_flight === 0, 30_000, 'the spool to drain');
    const after = a.stats().telemetry.spool;
    const arrived = (t: TakenReading) => sub.arrivals.some((m) => m.payload.device === t.device && pollCount(m) === t.n);
    // Compare over every reading taken while the broker was away: the age limit may still drop
    // records between the snapshot above and the restart; later readings are live traffic.
    const all = taken.filter((t) => t.ts < restartAt);
    // Drained means each of them was dropped or acknowledged by the broker, which queued it for
    // the subscriber's session: wait for the acknowledged ones to reach the subscriber.
    await sub.until(() => all.filter(arrived).length + after.dropped_records >= all.length, 30_000, 'every reading not dropped at the subscriber');
    expect(all.length).toBeGreaterThanOrEqual(takenWhileDown.length);
    const lost = all.filter((t) => !arrived(t));
    const delivered = all.filter(arrived);
    // Every reading is either delivered or counted as dropped; the dropped ones are the oldest.
    expect(lost.length).toBe(after.dropped_records);
    expect(delivered.length).toBeGreaterThanOrEqual(1);
    expect(Math.max(...lost.map((t) => t.ts))).toBeLessThan(Math.min(...delivered.map((t) => t.ts)));
    expect(logger.lines.filter((l) => l.msg === 'spool limit reached: oldest records dropped')).toEqual([expect.objectContaining({ limit: 'age', max_age_ms: 2000 })]);
  });
});
