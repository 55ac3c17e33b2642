import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { topics } from '../../contract/index.js';
import type { AgentStats } from '../../agent/agent.js';
import { encodeRecord } from '../../shared/spool/record-frame.js';
import { scanSegment } from '../../shared/spool/segment-scan.js';
import { startMosquitto } from '../support/mosquitto.js';
import { useService } from '../support/require-service.js';
import { durableSubscriber, type Arrival } from './support/durable-subscriber.js';

/**
 * The agent killed with SIGKILL in the middle of replaying a backlog, then started again on the
 * same state dir: nothing taken before the kill is lost, and what arrives twice is the
 * same message (a PUBACK the dead process never recorded), within the documented bound. Checked
 * at a raw subscriber on a real mosquitto, before any de-duplication.
 */
const FIXTURE = join(import.meta.dirname, 'fixtures', 'spool-agent.ts');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface AgentProcess {
  child: ChildProcess;
  latest(): AgentStats | undefined;
  until(pred: (s: AgentStats) => boolean, ms: number, what: string): Promise<AgentStats>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderrTail(): string;
}

const children: ChildProcess[] = [];
const dirs: string[] = [];
afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function startAgent(opts: { url: string; stateDir: string; devices: number; startAt: number; replayRatePerS: number; maxInFlight: number }): AgentProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, JSON.stringify(opts)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env } });
  children.push(child);
  let stats: AgentStats | undefined;
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    let nl: number;
    while ((nl = out.indexOf('\n')) >= 0) {
      const line = out.slice(0, nl);
      out = out.slice(nl + 1);
      if (line.startsWith('STATS ')) stats = JSON.parse(line.slice(6)) as AgentStats;
    }
  });
  child.stderr?.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-20_000)));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return {
    child,
    latest: () => stats,
    until: async (pred, ms, what) => {
      const end = Date.now() + ms;
      for (;;) {
        if (stats && pred(stats)) return stats;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`agent process exited while waiting for ${what}: ${err.slice(-2000)}`);
        if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; last stats ${JSON.stringify(stats?.telemetry)}; stderr ${err.slice(-2000)}`);
        await sleep(20);
      }
    },
    exited,
    stderrTail: () => err,
  };
}

/** The seqs of every record in the spool's segment files, read as the next process will. */
function spooledSeqs(spoolDir: string): number[] {
  const seqs: number[] = [];
  for (const f of readdirSync(spoolDir).filter((n) => n.endsWith('.seg'))) {
    const buf = readFileSync(join(spoolDir, f));
    for (const r of scanSegment(buf).records) {
      const payload = buf.subarray(r.offset + 28, r.offset + r.bytes).toString();
      seqs.push((JSON.parse(payload.slice(payload.indexOf('\n') + 1)) as { seq: number }).seq);
    }
  }
  return seqs;
}

describe('agent killed with SIGKILL and restarted', () => {
  const broker = useService('mosquitto', () => startMosquitto());

  it('loses nothing and duplicates only what was unacknowledged at the kill', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'dcim-agent-kill-'));
    dirs.push(stateDir);
    const spoolDir = join(stateDir, 'spool');
    const sub = await durableSubscriber(broker().url, topics.filters.telemetry('demo'));
    const common = { url: broker().url, stateDir, devices: 20, replayRatePerS: 20, maxInFlight: 8 };

    // Life 1: live for a while, then a broker outage builds a backlog, then the kill mid-replay.
    const first = startAgent({ ...common, startAt: 1 });
    await first.until((s) => s.telemetry.published >= 60, 60_000, 'live telemetry');
    await broker().halt();
    // Down until the agent has spooled a backlog, about what two seconds of polls of its 20 devices make.
    await first.until((s) => !s.mqtt.connected && s.telemetry.backlog >= 40, 60_000, 'a backlog while the broker is down');
    await broker().restart();
    await first.until((s) => s.mqtt.connected && s.telemetry.replayed >= 8 && s.telemetry.backlog >= 10, 60_000, 'the replay to be under way');
    first.child.kill('SIGKILL');
    expect((await first.exited).signal).toBe('SIGKILL');
    const killedAt = Date.now();

    // What must arrive eventually: everything that reached the broker, and everything still spooled.
    await sleep(300); // deliveries already on their way to the subscriber
    const spooled = spooledSeqs(spoolDir);
    const before = new Set([...sub.arrivals.map((m) => m.payload.seq), ...spooled]);
    const lastSeq = Math.max(...before);
    expect(spooled.length).toBeGreaterThan(5);
    // A torn write on top, as if the kill had landed inside write(2).
    const active = readdirSync(spoolDir).filter((n) => n.endsWith('.seg')).sort().at(-1) as string;
    appendFileSync(join(spoolDir, active), encodeRecord(999_999, Date.now(), Buffer.from('torn')).subarray(0, 17));

    // Life 2: same state dir, its readings numbered differently so they cannot be confused.
    const second = startAgent({ ...common, startAt: 1_000_000 });
    const firstLife = Array.from({ length: lastSeq + 1 }, (_, i) => i);
    await sub.until(() => firstLife.every((seq) => sub.arrivals.some((m) => m.payload.seq === seq)), 60_000, 'every reading of the first life');
    await second.until((s) => s.telemetry.backlog === 0 && s.telemetry.in_flight === 0 && s.telemetry.published >= 20, 60_000, 'the second life to catch up');
    second.child.kill('SIGTERM');
    expect((await second.exited).code).toBe(0);
    const end = second.latest() as AgentStats;

    // Nothing lost: seqs 0..lastSeq all arrived (the first life hands out 0, 1, 2 … without gaps).
    const seen = new Map<number, Arrival[]>();
    for (const m of sub.arrivals) seen.set(m.payload.seq, [...(seen.get(m.payload.seq) ?? []), m]);
    expect(firstLife.filter((s) => !seen.has(s))).toEqual([]);
    // Nothing made up: a seq that arrives twice is the same message, byte for byte.
    for (const copies of seen.values()) for (const c of copies) expect(c.text).toBe(copies[0]?.text);
    // Duplicates only from the kill: at most the messages in flight plus the acks of one group
    // commit (200 ms), which can hold a whole poll cycle (20 devices read at once) and a few
    // replayed ones. Without the ack file every record acknowledged in life 1 (≥ 68) would come again.
    const duplicates = [...seen.values()].reduce((n, c) => n + c.length - 1, 0);
    expect(duplicates).toBeLessThanOrEqual(common.maxInFlight + common.devices + 4);
    // The second life replays the first life's backlog in order …
    const replayed = sub.arrivals.filter((m) => m.at > killedAt && m.payload.seq <= lastSeq).map((m) => m.payload.seq);
    expect(replayed.length).toBeGreaterThan(0);
    expect(replayed).toEqual([...replayed].sort((a, b) => a - b));
    // … and numbers its own readings above the first life's reserved block: the only gap.
    const secondLife = [...seen.keys()].filter((s) => s > lastSeq).sort((a, b) => a - b);
    expect(secondLife[0]).toBe(1000);
    expect(secondLife).toEqual(Array.from({ length: secondLife.length }, (_, i) => 1000 + i));
    // The torn record was found, counted and cut off; the spool is empty after a clean stop.
    expect(end.telemetry.spool).toMatchObject({ torn_tails: 1, torn_bytes: 17, records: 0, dropped_records: 0 });
    expect(end.telemetry.spool.recovered_records).toBeGreaterThan(0);
    if (process.env.DCIM_SPOOL_DEBUG) console.log(JSON.stringify({ lastSeq, spooled: spooled.length, duplicates, replayed: replayed.length, secondLife: secondLife.length, end: end.telemetry }));
    await sub.close();
  });
});
