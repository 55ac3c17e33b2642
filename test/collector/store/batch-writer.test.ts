import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatchWriter, type BatchWriterOptions } from '../../../collector/store/batch-writer.js';
import { InfluxV1Transport } from '../../../collector/store/influx-v1-transport.js';
import { InfluxV2Transport } from '../../../collector/store/influx-v2-transport.js';
import type { MetricPoint } from '../../../collector/store/metric-point.js';
import { SpoolBatchQueue } from '../../../collector/store/spool-batch-queue.js';
import { ManualClock } from '../../../contract/clock.js';
import { DcimError } from '../../../contract/errors.js';
import { memoryLogger } from '../../../shared/log.js';
import { until } from '../../support/until.js';

/**
 * The delivery rules (batch-writer.ts) through both real transports — InfluxDB 1.x `/write` and
 * the official v2 client — against a small HTTP peer on loopback that answers what a test asks
 * (413, 429, 503, 400 … which influxd cannot be made to send on demand) and records every body.
 */
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0, 123);
const point = (i: number): MetricPoint => ({
  measurement: 'pdu',
  tags: { site: 'demo', device: `pdu-${i}`, hall: 'h1', role: 'it', level: 'pdu_out' },
  fields: { active_power_w: 1000 + i + 0.5 },
  ts_ms: T0 + i,
});
const points = (n: number, from = 0) => Array.from({ length: n }, (_, i) => point(from + i));

interface Received {
  path: string;
  lines: string[];
  encoding: string | undefined;
  auth: string | undefined;
}

let server: http.Server;
let url: string;
const received: Received[] = [];
let respond: (r: Received) => { status: number; headers?: Record<string, string>; body?: string } = () => ({ status: 204 });
let tmp: string;

beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'dcim-batch-writer-'));
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw;
      const r: Received = { path: req.url ?? '', lines: body.toString('utf8').split('\n'), encoding: req.headers['content-encoding'], auth: req.headers.authorization };
      received.push(r);
      const answer = respond(r);
      res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.status === 204 ? undefined : (answer.body ?? '{"code":"invalid","message":"test","error":"test"}'));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await rm(tmp, { recursive: true, force: true });
});

const transports = [
  { name: 'v1 /write', make: () => new InfluxV1Transport({ url, database: 'dcim', retention_policy: 'autogen', username: 'writer', password: 's3cret' }), path: '/write?', auth: `Basic ${Buffer.from('writer:s3cret').toString('base64')}` },
  { name: 'v2 official client', make: () => new InfluxV2Transport({ url, org: 'o', bucket: 'b', token: 'tok', gzip_threshold_bytes: 1 }), path: '/api/v2/write?', auth: 'Token tok' },
] as const;

describe.each(transports)('BatchWriter over $name', (t) => {
  const writer = (over: Partial<BatchWriterOptions> = {}) => new BatchWriter({ transport: t.make(), logger: memoryLogger(), ...over });
  const reset = (r: typeof respond) => {
    received.length = 0;
    respond = r;
  };

  it('sends gzip bodies at ms precision with the credentials, one line per point', async () => {
    reset(() => ({ status: 204 }));
    const w = writer();
    w.write([point(1)]);
    await w.flush();
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ encoding: 'gzip', auth: t.auth });
    expect(received[0]!.path.startsWith(t.path)).toBe(true);
    expect(new URLSearchParams(received[0]!.path.split('?')[1]).get('precision')).toBe('ms');
    expect(received[0]!.lines).toEqual([`pdu,device=pdu-1,hall=h1,level=pdu_out,role=it,site=demo active_power_w=1001.5 ${T0 + 1}`]);
    expect(w.stats()).toMatchObject({ points_queued: 1, points_written: 1, batches_written: 1, pending: 0 });
    expect(w.health()).toMatchObject({ reachable: true, last_error: null });
    await w.close();
  });

  it('cuts batches of batch_lines', async () => {
    reset(() => ({ status: 204 }));
    const w = writer({ batch_lines: 3 });
    w.write(points(10));
    await w.flush();
    expect(received.map((r) => r.lines.length)).toEqual([3, 3, 3, 1]);
    expect(w.stats()).toMatchObject({ points_written: 10, batches_written: 4, pending: 0 });
    await w.close();
  });

  it('splits a batch on 413 until the store takes it, and keeps the smaller size', async () => {
    reset((r) => ({ status: r.lines.length > 2 ? 413 : 204 }));
    const w = writer();
    w.write(points(7));
    await w.flush();
    expect(received.map((r) => r.lines.length)).toEqual([7, 4, 2, 2, 2, 1]);
    expect(w.stats()).toMatchObject({ points_written: 7, batches_split: 2, points_rejected: 0, pending: 0 });
    const sent = received.filter((r) => r.lines.length <= 2).flatMap((r) => r.lines);
    expect(new Set(sent).size).toBe(7);
    reset(() => ({ status: 204 }));
    w.write(points(5, 100));
    await w.flush();
    expect(received.map((r) => r.lines.length)).toEqual([2, 2, 1]);
    await w.close();
  });

  it('quarantines a single line the store still finds too large', async () => {
    reset(() => ({ status: 413 }));
    const w = writer();
    w.write([point(1)]);
    await w.flush();
    expect(w.stats()).toMatchObject({ points_rejected: 1, batches_rejected: 1, pending: 0 });
    await w.close();
  });

  it.each([400, 404, 422])('quarantines a batch refused with %i: counter, error line, .lp file', async (status) => {
    reset(() => ({ status }));
    const qdir = path.join(tmp, `q-${t.name.replace(/\W/g, '')}-${status}`);
    const logger = memoryLogger();
    const w = writer({ quarantine_dir: qdir, logger });
    w.write(points(3));
    await w.flush();
    expect(received).toHaveLength(1);
    expect(w.stats()).toMatchObject({ points_rejected: 3, batches_rejected: 1, points_written: 0, write_errors: 0, pending: 0 });
    expect(logger.lines.find((l) => l.code === 'DCIM_E_STORE_REJECTED')).toMatchObject({ status, lines: 3 });
    const files = await readdir(qdir);
    expect(files).toHaveLength(1);
    expect((await readFile(path.join(qdir, files[0]!), 'utf8')).trim().split('\n')).toHaveLength(3);
    await w.close();
  });

  it.each<{ status: number; body: string; reason: RegExp }>([
    { status: 404, body: '{"error":"database not found: \\"dcim\\""}', reason: /database.*not found/ },
    { status: 401, body: '{"error":"authorization failed"}', reason: /HTTP 401: authorization failed/ },
    { status: 403, body: '{"code":"forbidden","message":"insufficient permissions for write"}', reason: /HTTP 403/ },
  ])('keeps the points while the store refuses every batch ($status), says why, and is ok once it takes them', async ({ status, body, reason }) => {
    reset(() => ({ status, body, headers: { 'content-type': 'application/json' } }));
    const clock = new ManualClock(T0);
    const logger = memoryLogger();
    const w = writer({ clock, logger, retry_initial_ms: 1000 });
    w.write(points(3));
    await w.flush();
    expect(w.stats()).toMatchObject({ points_written: 0, points_rejected: 0, pending: 3 });
    expect(w.health()).toMatchObject({ state: 'refusing', reachable: true, since: T0 });
    expect(w.health().reason).toMatch(reason);
    expect(logger.lines.filter((l) => l.code === 'DCIM_E_STORE_REJECTED')).toHaveLength(1);
    reset(() => ({ status: 204 }));
    clock.advance(1000);
    await until('the kept batch written', () => w.stats().points_written === 3, 60_000);
    expect(w.health()).toMatchObject({ state: 'ok', reason: null, since: T0 + 1000 });
    expect(w.stats()).toMatchObject({ pending: 0, points_rejected: 0 });
    await w.close();
  });

  it.each<{ status: number; headers: Record<string, string>; delay: number }>([
    { status: 503, headers: {}, delay: 1000 },
    { status: 500, headers: {}, delay: 1000 },
    { status: 429, headers: { 'retry-after': '7' }, delay: 7000 },
  ])('backs off after $status for $delay ms, then delivers', async ({ status, headers, delay }) => {
    let fails = 1;
    reset(() => (fails-- > 0 ? { status, headers } : { status: 204 }));
    const clock = new ManualClock(T0);
    const w = writer({ clock });
    w.write([point(1)]);
    await w.flush();
    expect(w.stats()).toMatchObject({ write_errors: 1, pending: 1 });
    expect(w.health()).toMatchObject({ reachable: false, retry_at_ms: T0 + delay });
    clock.advance(delay - 1);
    await w.flush();
    expect(received).toHaveLength(1);
    clock.advance(1);
    await w.flush();
    expect(received).toHaveLength(2);
    expect(w.stats()).toMatchObject({ points_written: 1, retries: 1, pending: 0 });
    expect(w.health()).toMatchObject({ reachable: true });
    await w.close();
  });

  it('doubles the back-off up to retry_max_ms', async () => {
    reset(() => ({ status: 503 }));
    const clock = new ManualClock(T0);
    const w = writer({ clock, retry_initial_ms: 1000, retry_max_ms: 4000 });
    w.write([point(1)]);
    await w.flush();
    const delays: number[] = [];
    for (let i = 0; i < 4; i++) {
      const at = w.health().retry_at_ms! - clock.now();
      delays.push(at);
      clock.advance(at);
      await w.flush();
    }
    expect(delays).toEqual([1000, 2000, 4000, 4000]);
    await w.close();
  });

  it('resumes a half-sent batch where the store failed, without sending the first half twice', async () => {
    let n = 0;
    reset((r) => (r.lines.length > 2 ? { status: 413 } : ++n === 2 ? { status: 503 } : { status: 204 }));
    const clock = new ManualClock(T0);
    const w = writer({ clock });
    w.write(points(6));
    await w.flush();
    expect(w.stats()).toMatchObject({ points_written: 2, pending: 6, write_errors: 1 });
    clock.advance(1000);
    await w.flush();
    expect(w.stats()).toMatchObject({ points_written: 6, pending: 0 });
    const written = received.filter((r) => r.lines.length <= 2).flatMap((r) => r.lines);
    // 2 written, 2 refused with 503 and sent again, 2 more: 8 lines sent, 6 distinct.
    expect(written).toHaveLength(8);
    expect(new Set(written).size).toBe(6);
    await w.close();
  });

  it('in memory, bounds the buffer during an outage: the oldest are dropped with a counter and a log line', async () => {
    reset(() => ({ status: 503 }));
    const clock = new ManualClock(T0);
    const logger = memoryLogger();
    const w = writer({ clock, max_buffer_lines: 5, logger });
    w.write([point(1)]);
    await w.flush();
    w.write(points(8, 10));
    // The batch in back-off keeps its one line; the oldest new lines make room.
    expect(w.stats()).toMatchObject({ pending: 5, points_lost: 4 });
    expect(logger.lines.filter((l) => String(l.msg).startsWith('write buffer full'))).toHaveLength(1);
    await w.close();
    expect(w.stats()).toMatchObject({ pending: 0, points_lost: 9 });
  });

  it('flushes on its timer without an explicit flush', async () => {
    reset(() => ({ status: 204 }));
    const clock = new ManualClock(T0);
    const w = writer({ clock, flush_interval_ms: 500 });
    w.write([point(1)]);
    clock.advance(499);
    await new Promise((r) => setTimeout(r, 50));
    expect(received).toHaveLength(0);
    clock.advance(1);
    await until('the timer flush', () => w.stats().points_written > 0);
    expect(w.stats().points_written).toBe(1);
    await w.close();
  });

  it('counts points written after close as lost', async () => {
    const w = writer();
    await w.close();
    w.write([point(1)]);
    expect(w.stats()).toMatchObject({ points_lost: 1, points_queued: 0 });
  });

  it('treats a 200 from a write endpoint as refused, never as written', async () => {
    reset(() => ({ status: 200 }));
    const w = writer();
    w.write([point(1)]);
    await w.flush();
    expect(w.stats()).toMatchObject({ points_written: 0, points_rejected: 1 });
    await w.close();
  });
});

describe('BatchWriter with the durable spool (store.spool)', () => {
  const spoolWriter = (dir: string, clock: ManualClock, over: { max_bytes?: number; max_age_ms?: number } = {}) => {
    const logger = memoryLogger();
    const queue = new SpoolBatchQueue({ dir, max_bytes: over.max_bytes ?? 64 * 1024 * 1024, max_age_ms: over.max_age_ms ?? 3_600_000, clock, logger });
    return { w: new BatchWriter({ transport: new InfluxV1Transport({ url, database: 'dcim' }), queue, clock, logger }), logger };
  };
  const sentLines = () => new Set(received.flatMap((r) => r.lines));

  it('keeps an outage\'s batches on disk across a restart and sends them all afterwards', async () => {
    const dir = path.join(tmp, 'spool-restart');
    const clock = new ManualClock(T0);
    received.length = 0;
    respond = () => ({ status: 503 });
    const a = spoolWriter(dir, clock);
    a.w.start();
    for (let i = 0; i < 5; i++) {
      a.w.write(points(100, i * 100));
      await a.w.flush();
    }
    expect(a.w.stats()).toMatchObject({ pending: 500, points_written: 0, points_lost: 0 });
    expect(a.w.stats().spool).toMatchObject({ dir, dropped_records: 0 });
    await a.w.close(); // in back-off: no last attempt, nothing counted lost
    expect(a.w.stats()).toMatchObject({ points_lost: 0 });
    expect(a.logger.lines.some((l) => String(l.msg).includes('stay in the spool'))).toBe(true);

    respond = () => ({ status: 204 });
    received.length = 0;
    const b = spoolWriter(dir, clock);
    b.w.start();
    expect(b.w.stats()).toMatchObject({ pending: 500 });
    expect(b.w.stats().spool?.recovered_records).toBe(5);
    await b.w.flush();
    expect(b.w.stats()).toMatchObject({ pending: 0, points_written: 500, points_lost: 0 });
    expect(sentLines().size).toBe(500);
    await b.w.close();

    // Acknowledged batches are gone: a third run sends nothing.
    received.length = 0;
    const c = spoolWriter(dir, clock);
    c.w.start();
    await c.w.flush();
    expect(received).toHaveLength(0);
    await c.w.close();
  });

  it('counts exactly the points its byte bound drops', async () => {
    const dir = path.join(tmp, 'spool-bound');
    const clock = new ManualClock(T0);
    received.length = 0;
    respond = () => ({ status: 503 });
    // Segments are max_bytes / 4 at most: whole segments are dropped, oldest first.
    const { w } = spoolWriter(dir, clock, { max_bytes: 64 * 1024 });
    for (let i = 0; i < 40; i++) {
      w.write(points(20, i * 20));
      await w.flush();
    }
    const s = w.stats();
    expect(s.points_lost).toBeGreaterThan(0);
    expect(s.spool!.dropped_records).toBeGreaterThan(0);
    expect(s.points_lost).toBe(s.spool!.dropped_records * 20);
    expect(s.points_lost + s.pending).toBe(800);
    respond = () => ({ status: 204 });
    clock.advance(60_000);
    await w.flush();
    expect(w.stats()).toMatchObject({ pending: 0, points_written: 800 - s.points_lost });
    await w.close();
  });

  it('refuses a spool directory another live process holds, naming the directory', async () => {
    const dir = path.join(tmp, 'spool-locked');
    await mkdir(dir, { recursive: true });
    // The parent process (vitest) is alive and is not us.
    await writeFile(path.join(dir, 'LOCK'), `${process.ppid}\n`);
    const { w, logger } = spoolWriter(dir, new ManualClock(T0));
    expect(() => w.start()).toThrow(DcimError);
    expect(() => w.start()).toThrow(dir);
    // write() never throws: without a usable spool the points are lost, counted and logged.
    expect(() => w.write(points(3))).not.toThrow();
    await w.flush();
    expect(w.stats()).toMatchObject({ points_lost: 3, points_queued: 3, pending: 0 });
    expect(logger.lines.some((l) => l.code === 'DCIM_E_STORE_WRITE' && String(l.msg).includes('spool'))).toBe(true);
  });
});
