/**
 * Child process of bench/agent-snmp.ts: the agent under test, alone in its process, so the
 * memory the parent reads from /proc/<pid>/status is the agent's own (this file imports the agent
 * and nothing of the simulator). It samples its V8 heap from its first line on, so the peaks
 * cover the start (inventory, profiles, every session opened) as well as the polling.
 *
 *   node bench/support/agent-snmp-agent.js --dir=<dir> --broker=<url> --profiles=<dir> --max-concurrent=<n>
 *
 * Messages (IPC): 'counts' → what was read so far, spool and socket stats, heap now and peak;
 * 'heap' → a heap snapshot written beside the inventory; 'stop'.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Session } from 'node:inspector/promises';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { SiteInventorySchema, SystemClock, type SiteInventory } from '../../contract/index.js';
import { loadProfiles } from '../../profiles/catalogue.js';
import { createLogger } from '../../shared/log.js';
import { Agent } from '../../agent/agent.js';
import type { DeviceReader, PollResult, ReadOptions } from '../../agent/device-reader.js';
import type { ModbusTransport } from '../../agent/modbus/modbus-transport.js';
import { createDeviceReader } from '../../agent/reader-factory.js';
import { SnmpSocketPool } from '../../agent/snmp/snmp-socket-pool.js';

type Msg = { cmd: string; [k: string]: unknown };

/** Peak V8 heap, sampled 4 times a second (process.memoryUsage() is cheap next to a poll burst). */
const heapPeak = { used: 0, total: 0, external: 0 };
const sampleHeap = () => {
  const m = process.memoryUsage();
  heapPeak.used = Math.max(heapPeak.used, m.heapUsed);
  heapPeak.total = Math.max(heapPeak.total, m.heapTotal);
  heapPeak.external = Math.max(heapPeak.external, m.external);
  return m;
};
sampleHeap();
setInterval(sampleHeap, 250).unref();

const mb = (b: number) => Math.round(b / 1e6);
const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? '';

const counts = { polls: 0, good: 0, bad: 0, requests: 0, retries: 0, timeouts: 0, first_start: 0, last_end: 0 };

/** The reader the Agent would build itself, counting what it reads: one small object per device, no closures. */
class CountedReader implements DeviceReader {
  constructor(private readonly r: DeviceReader) {}

  async read(o?: ReadOptions): Promise<PollResult> {
    const t0 = Date.now();
    const res = await this.r.read(o);
    counts.polls++;
    counts.requests += res.poll.requests;
    counts.retries += res.poll.retries;
    counts.timeouts += res.poll.timeouts;
    for (const x of res.readings) {
      if (x.quality === 'good') counts.good++;
      else counts.bad++;
    }
    counts.first_start ||= t0;
    counts.last_end = Date.now();
    return res;
  }

  close(): Promise<void> {
    return this.r.close();
  }
}

// DCIM_BENCH_ALLOC_PROF=<file>: a sampling profile of every allocation (collected ones too) from
// here to the 'heap' message: where the garbage that grows the heap comes from (with
// DCIM_BENCH_ALLOC_PROF_PROMOTED=1 only what survived the young generation: the old-space garbage).
const allocProf = process.env.DCIM_BENCH_ALLOC_PROF;
const inspector = allocProf ? new Session() : undefined;
if (inspector) {
  inspector.connect();
  await inspector.post('HeapProfiler.startSampling', { samplingInterval: 32768, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: !process.env.DCIM_BENCH_ALLOC_PROF_PROMOTED } as object);
}

const dir = arg('dir');
const inventory: SiteInventory = SiteInventorySchema.parse(JSON.parse(readFileSync(join(dir, 'inventory.json'), 'utf8')));
// As the agent's config loads them: only the profiles the inventory names.
const profiles = loadProfiles([arg('profiles'), dir], { only: new Set(inventory.devices.map((d) => d.profile)) });
const clock = new SystemClock();
const logger = createLogger({ level: 'warn', sink: (l) => process.stderr.write(`${l}\n`) });
const pool = new SnmpSocketPool({ clock, logger });
const ctx = { clock, logger, snmpPool: pool, modbusLinks: new Map<string, ModbusTransport>() };
const agent = new Agent({
  id: 'bench',
  inventory,
  profiles,
  mqtt: { url: arg('broker') },
  stateDir: join(dir, 'agent-state'),
  clock,
  logger,
  maxConcurrent: Number(arg('max-concurrent') || 64),
  spool: { maxBytes: 1024 * 1024 * 1024 },
  readerFor: (d) => new CountedReader(createDeviceReader(d, ctx)),
});
await agent.start();
process.send?.({ cmd: 'ready' });
process.on('message', (m: Msg) => {
  if (m.cmd === 'counts') {
    const s = agent.stats({ perDevice: false });
    // DCIM_BENCH_GC=1 (--expose-gc): collect first, so heap_used is what the agent really holds.
    (globalThis as { gc?: () => void }).gc?.();
    const now = sampleHeap();
    const heap = { heap_used_mb: mb(now.heapUsed), heap_total_mb: mb(now.heapTotal), external_mb: mb(now.external), array_buffers_mb: mb(now.arrayBuffers) };
    const peak = { heap_used_mb: mb(heapPeak.used), heap_total_mb: mb(heapPeak.total), external_mb: mb(heapPeak.external) };
    const spaces = Object.fromEntries(getHeapSpaceStatistics().map((x) => [x.space_name, mb(x.space_size)]));
    process.send?.({ cmd: 'counts', counts: { ...counts }, published: s.telemetry.published, spool_records: s.telemetry.spool.records, socket: pool.stats(), heap, heap_peak: peak, spaces });
    counts.first_start = 0;
  }
  if (m.cmd === 'heap') {
    void (async () => {
      if (inspector) {
        const { profile } = (await inspector.post('HeapProfiler.stopSampling')) as { profile: unknown };
        writeFileSync(allocProf as string, JSON.stringify(profile));
      }
      process.send?.({ cmd: 'heap', file: writeHeapSnapshot(join(dir, 'agent.heapsnapshot')) });
    })();
  }
  if (m.cmd === 'stop') void agent.stop().then(() => (pool.close(), process.exit(0)));
});
