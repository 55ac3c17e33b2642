import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ManualClock, type TelemetryMessage } from '../../contract/index.js';
import { memoryLogger } from '../../shared/log.js';
import { ok, type Result } from '../../shared/result.js';
import type { PublishFailure } from '../../agent/publisher.js';
import { Spool } from '../../shared/spool/spool.js';
import { SpoolOutbox, type TelemetryPublisher } from '../../agent/telemetry-outbox.js';

/**
 * The sender's rules with a scripted broker and a manual clock: what is sent when, in which
 * order, how much at once, and what is deleted from the spool on which answer.
 */
interface Sent {
  seq: number;
  at: number;
  answer(r: Result<void, PublishFailure>): void;
}

class ScriptedBroker implements TelemetryPublisher {
  connected = false;
  autoAck = true;
  readonly sent: Sent[] = [];
  private readonly hooks = new Set<() => void>();
  private readonly closeHooks = new Set<() => void>();
  constructor(private readonly clock: ManualClock) {}
  onConnect(fn: () => void) {
    this.hooks.add(fn);
    return () => this.hooks.delete(fn);
  }
  onClose(fn: () => void) {
    this.closeHooks.add(fn);
    return () => this.closeHooks.delete(fn);
  }
  prepare(_topic: string, payload: unknown): Result<string, PublishFailure> {
    const m = payload as TelemetryMessage;
    if (m.seq < 0) return { ok: false, reason: { code: 'DCIM_E_MQTT_PAYLOAD_INVALID', message: 'seq: too small' } };
    return ok(JSON.stringify(m));
  }
  publishPrepared(_topic: string, json: Buffer): Promise<Result<void, PublishFailure>> {
    if (!this.connected) return Promise.resolve({ ok: false, reason: { code: 'offline', message: 'not connected' } });
    return new Promise((resolve) => {
      this.sent.push({ seq: (JSON.parse(json.toString('utf8')) as TelemetryMessage).seq, at: this.clock.now(), answer: resolve });
      if (this.autoAck) queueMicrotask(() => resolve(ok(undefined)));
    });
  }
  connect() {
    this.connected = true;
    for (const h of this.hooks) h();
  }
  /** A connection loss: what was handed over stays pending (mqtt.js keeps QoS 1 in its store). */
  drop() {
    this.connected = false;
    for (const h of this.closeHooks) h();
  }
  /** mqtt.js between CONNACK and its 'connect' event: connected, old session still being resent. */
  connackOnly() {
    this.connected = true;
  }
  seqs() {
    return this.sent.map((s) => s.seq);
  }
}

const dirs: string[] = [];
const spools: Spool[] = [];
afterEach(async () => {
  for (const s of spools.splice(0)) await s.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function setup(over: { maxInFlight?: number; replayRatePerS?: number } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'dcim-outbox-'));
  dirs.push(dir);
  const clock = new ManualClock();
  const logger = memoryLogger();
  const spool = new Spool({ dir, maxBytes: 1024 * 1024, maxAgeMs: 3_600_000, clock, logger });
  spool.open();
  spools.push(spool);
  const broker = new ScriptedBroker(clock);
  const outbox = new SpoolOutbox({ spool, publisher: broker, clock, logger, ...over });
  outbox.start();
  let seq = 0;
  const submit = (n = 1) => {
    for (let i = 0; i < n; i++) outbox.submit(message(seq++));
  };
  return { spool, broker, outbox, clock, logger, submit };
}

function message(seq: number): TelemetryMessage {
  return { schema: 1, agent: 'edge1', site: 'demo', device: 'pdu-r01-a', class: 'pdu', seq, ts: 1_767_225_600_000 + seq, readings: [], poll: { ms: 1, requests: 1, retries: 0, timeouts: 0 } };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('SpoolOutbox', () => {
  it('sends live messages at once and deletes them from the spool only on PUBACK', async () => {
    const { broker, spool, outbox, submit } = setup();
    broker.connect();
    broker.autoAck = false;
    submit(3);
    expect(broker.seqs()).toEqual([0, 1, 2]);
    expect(spool.stats().records).toBe(3);
    broker.sent[1]?.answer(ok(undefined));
    await settle();
    expect(spool.stats().records).toBe(2);
    expect(outbox.stats()).toMatchObject({ submitted: 3, published: 1, replayed: 0, in_flight: 2, last_puback_ts: expect.any(Number) });
  });

  it('while disconnected nothing is sent; on connect the backlog is replayed oldest first, paced', async () => {
    const { broker, clock, outbox, submit, logger } = setup({ replayRatePerS: 10 });
    submit(25);
    expect(broker.sent).toHaveLength(0);
    expect(outbox.stats()).toMatchObject({ backlog: 25, live_pending: 0 });
    broker.connect();
    await settle();
    // A burst of rate/10 = 1, then one every 100 ms.
    for (let i = 0; i < 30; i++) {
      clock.advance(100);
      await settle();
    }
    expect(broker.seqs()).toEqual(Array.from({ length: 25 }, (_, i) => i));
    const times = broker.sent.map((s) => s.at - (broker.sent[0] as Sent).at);
    for (let i = 1; i < times.length; i++) expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThanOrEqual(100);
    expect(outbox.stats()).toMatchObject({ published: 25, replayed: 25, backlog: 0 });
    expect(logger.lines.find((l) => l.msg === 'replaying spooled telemetry')).toMatchObject({ records: 25, replay_rate_per_s: 10 });
    expect(logger.lines.find((l) => l.msg === 'spooled telemetry replayed')).toMatchObject({ records: 25 });
  });

  it('live data keeps flowing, unpaced, while the backlog replays', async () => {
    const { broker, clock, submit } = setup({ replayRatePerS: 10 });
    submit(10); // seq 0..9: backlog
    broker.connect();
    await settle();
    clock.advance(100);
    await settle();
    submit(3); // seq 10..12: live
    await settle();
    expect(broker.seqs()).toEqual([0, 1, 10, 11, 12]);
    for (let i = 0; i < 10; i++) {
      clock.advance(100);
      await settle();
    }
    const seqs = broker.seqs();
    expect([...seqs].sort((a, b) => a - b)).toEqual(Array.from({ length: 13 }, (_, i) => i));
    // Each cursor is strictly in order.
    const backlog = seqs.filter((s) => s < 10);
    expect(backlog).toEqual([...backlog].sort((a, b) => a - b));
  });

  it('keeps at most max_in_flight awaiting PUBACK and a quarter of it for the backlog', async () => {
    const { broker, submit, outbox } = setup({ maxInFlight: 8, replayRatePerS: 1000 });
    submit(20); // backlog
    broker.autoAck = false;
    broker.connect();
    await settle();
    submit(20); // live
    await settle();
    expect(broker.sent).toHaveLength(8);
    const live = broker.seqs().filter((s) => s >= 20).length;
    expect(live).toBeLessThanOrEqual(6);
    expect(8 - live).toBeGreaterThanOrEqual(2);
    expect(outbox.stats().in_flight).toBe(8);
    // Each PUBACK frees one slot.
    broker.sent[0]?.answer(ok(undefined));
    await settle();
    expect(broker.sent).toHaveLength(9);
  });

  it('a message whose connection dropped is sent again after the reconnect, and only once', async () => {
    const { broker, spool, submit } = setup({ replayRatePerS: 1000 });
    broker.connect();
    broker.autoAck = false;
    submit(3);
    expect(broker.seqs()).toEqual([0, 1, 2]);
    broker.sent[0]?.answer(ok(undefined));
    broker.drop();
    // mqtt.js gives up on seq 1 (e.g. stopped), keeps seq 2 in its session store.
    broker.sent[1]?.answer({ ok: false, reason: { code: 'offline', message: 'Connection closed' } });
    await settle();
    submit(2); // seq 3, 4 while down
    broker.autoAck = true;
    broker.connect();
    await settle();
    await settle();
    // seq 2 is still in flight (mqtt.js will resend it): not sent again by us.
    expect(broker.seqs()).toEqual([0, 1, 2, 1, 3, 4]);
    broker.sent[2]?.answer(ok(undefined));
    await settle();
    expect(spool.stats().records).toBe(0);
  });

  it('sends nothing on a new connection until its connect hook has moved the live boundary', async () => {
    const { broker, clock, submit } = setup({ replayRatePerS: 10 });
    broker.connect();
    submit(1);
    await settle();
    broker.drop();
    submit(5); // the outage's backlog
    broker.connackOnly();
    submit(1); // appended while mqtt.js still resends the old session
    await settle();
    expect(broker.seqs()).toEqual([0]);
    broker.connect();
    await settle();
    // The backlog is paced (one now), the record appended after the hook is live.
    submit(1);
    await settle();
    expect(broker.seqs()).toEqual([0, 1, 7]);
    for (let i = 0; i < 10; i++) {
      clock.advance(100);
      await settle();
    }
    expect(broker.seqs()).toEqual([0, 1, 7, 2, 3, 4, 5, 6]);
  });

  it('refuses what the contract refuses, before it reaches the spool', () => {
    const { outbox, spool } = setup();
    outbox.submit(message(-5));
    expect(outbox.stats()).toMatchObject({ submitted: 0, refused_invalid: 1 });
    expect(spool.stats().appended).toBe(0);
  });

  it('counts what the spool refuses', async () => {
    const { outbox, spool } = setup();
    await spool.close();
    outbox.submit(message(1));
    expect(outbox.stats()).toMatchObject({ submitted: 0, refused_spool: 1 });
  });

  it('stop() waits for the PUBACKs in flight, up to its timeout', async () => {
    const { broker, outbox, submit, clock } = setup();
    broker.connect();
    broker.autoAck = false;
    submit(2);
    let stopped = false;
    const stopping = outbox.stop(1000).then(() => (stopped = true));
    broker.sent[0]?.answer(ok(undefined));
    await settle();
    expect(stopped).toBe(false);
    clock.advance(1000);
    await stopping;
    expect(stopped).toBe(true);
    submit(1);
    expect(broker.sent).toHaveLength(2); // stopped: spooled, not sent
  });

  it('sends a live record as it was appended, without reading it back; a resend after a failure reads the spool', async () => {
    const { spool, broker, submit } = setup();
    broker.connect();
    const reads = vi.spyOn(spool, 'read');
    submit(3);
    expect(broker.seqs()).toEqual([0, 1, 2]);
    expect(reads).not.toHaveBeenCalled();
    broker.autoAck = false;
    submit(1);
    broker.sent[3]?.answer({ ok: false, reason: { code: 'offline', message: 'write failed' } });
    await settle();
    expect(spool.stats().records).toBe(1);
    broker.autoAck = true;
    submit(1); // the next event sends both, the failed one first, read from the spool
    await settle();
    expect(broker.seqs()).toEqual([0, 1, 2, 3, 3, 4]);
    expect(reads.mock.calls.map(([id]) => id)).toEqual([3]);
  });

  it('a burst larger than the in-memory budget waits on disk and goes out whole, in order, once each', async () => {
    const { broker, spool, outbox } = setup({ maxInFlight: 4 });
    const jsons = new Map<number, string>();
    const publish = broker.publishPrepared.bind(broker);
    broker.publishPrepared = (topic, json) => {
      // A Buffer each (the outbox keeps no message as a string), decoded here to compare.
      expect(Buffer.isBuffer(json)).toBe(true);
      jsons.set((JSON.parse(json.toString('utf8')) as TelemetryMessage).seq, json.toString('utf8'));
      return publish(topic, json);
    };
    const reads = vi.spyOn(spool, 'read');
    broker.connect();
    broker.autoAck = false;
    // 120 polls of about 1.4 KB (non-ASCII text included): about 170 KB, past the 64 KiB kept in memory.
    const big = (seq: number): TelemetryMessage => ({
      ...message(seq),
      readings: Array.from({ length: 20 }, (_, k) => ({ point: `inlet_temp_${k}_c`, value: `Ω ${seq}.${k} 温度`, unit: 'degC', quality: 'good' as const })),
    });
    const submitted = Array.from({ length: 120 }, (_, seq) => big(seq));
    for (const m of submitted) outbox.submit(m);
    expect(broker.seqs()).toEqual([0, 1, 2, 3]);
    // The broker acknowledges what it holds, a window at a time.
    for (let answered = 0, k = 0; answered < broker.sent.length && k < 100; k++) {
      for (const x of broker.sent.slice(answered)) x.answer(ok(undefined));
      answered = broker.sent.length;
      await settle();
    }
    expect(broker.seqs()).toEqual(submitted.map((m) => m.seq));
    // Byte for byte what was submitted, whether sent from memory or read back from the spool.
    expect(submitted.filter((m) => jsons.get(m.seq) !== JSON.stringify(m)).map((m) => m.seq)).toEqual([]);
    // Most of the burst came back from disk; the first ones went out from memory.
    expect(reads.mock.calls.length).toBeGreaterThan(60);
    expect(reads.mock.calls.map(([id]) => id)).not.toContain(0);
    expect(spool.stats().records).toBe(0);
    expect(outbox.stats()).toMatchObject({ submitted: 120, published: 120, in_flight: 0 });
  });
});
