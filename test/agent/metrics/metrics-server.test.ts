import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { memoryLogger } from '../../../shared/log.js';
import { EXPOSITION_CONTENT_TYPE, formatExposition } from '../../../shared/metrics/exposition.js';
import { acceptsGzip, MetricsServer } from '../../../agent/metrics/metrics-server.js';
import { parseExposition } from './parse-exposition.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function call(port: number, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers ?? {}, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const servers: MetricsServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.stop();
});

async function serve(render: () => string) {
  const logger = memoryLogger();
  const server = new MetricsServer({ listen: { host: '127.0.0.1', port: 0 }, render, logger });
  servers.push(server);
  const bound = await server.start();
  return { server, port: bound.port, logger };
}

const big = () =>
  formatExposition([{ name: 'dcim_agent_device_polls_total', type: 'counter', help: 'Polls.', samples: Array.from({ length: 200 }, (_, i) => ({ labels: { site: 'demo', device: `pdu-${i}`, profile: 'apc-rpdu2' }, value: i })) }]);

describe('the /metrics endpoint', () => {
  it('serves the exposition text with the 0.0.4 content type, freshly rendered on every scrape', async () => {
    let n = 0;
    const { port } = await serve(() => formatExposition([{ name: 'dcim_agent_scrapes', type: 'gauge', help: 'h', samples: [{ value: ++n }] }]));
    const a = await call(port, '/metrics');
    expect(a.status).toBe(200);
    expect(a.headers['content-type']).toBe(EXPOSITION_CONTENT_TYPE);
    expect(parseExposition(a.body.toString()).get('dcim_agent_scrapes')?.samples[0]?.value).toBe(1);
    const b = await call(port, '/metrics?x=1');
    expect(parseExposition(b.body.toString()).get('dcim_agent_scrapes')?.samples[0]?.value).toBe(2);
  });

  it('gzips a large body for a scraper that accepts it, and only then', async () => {
    const text = big();
    const { port } = await serve(() => text);
    const zipped = await call(port, '/metrics', { headers: { 'Accept-Encoding': 'gzip' } });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(Number(zipped.headers['content-length'])).toBe(zipped.body.length);
    expect(zipped.body.length).toBeLessThan(Buffer.byteLength(text) / 3);
    expect(gunzipSync(zipped.body).toString()).toBe(text);
    const plain = await call(port, '/metrics', { headers: { 'Accept-Encoding': 'gzip;q=0, identity' } });
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(text);
  });

  it.each([
    ['HEAD /metrics', 'HEAD', '/metrics', 200],
    ['GET /', 'GET', '/', 404],
    ['GET /metrics/x', 'GET', '/metrics/x', 404],
    ['POST /metrics', 'POST', '/metrics', 405],
    ['DELETE /metrics', 'DELETE', '/metrics', 405],
  ])('%s → %s', async (_, method, path, status) => {
    const { port } = await serve(() => '# TYPE a gauge\na 1\n');
    const a = await call(port, path, { method });
    expect(a.status).toBe(status);
    if (method === 'HEAD') expect(a.body.length).toBe(0);
    if (status === 405) expect(a.headers.allow).toBe('GET, HEAD');
  });

  it('a render that throws answers 500, is logged, and the next scrape works', async () => {
    let fail = true;
    const { port, logger } = await serve(() => {
      if (fail) throw new Error('boom');
      return '# TYPE a gauge\na 1\n';
    });
    expect((await call(port, '/metrics')).status).toBe(500);
    expect(logger.lines.find((l) => l.msg === 'metrics could not be rendered')).toMatchObject({ level: 'error', error: { message: 'boom' } });
    fail = false;
    expect((await call(port, '/metrics')).status).toBe(200);
  });

  it('an address in use fails start() with the reason', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as AddressInfo).port;
    try {
      const server = new MetricsServer({ listen: { host: '127.0.0.1', port }, render: () => '', logger: memoryLogger() });
      await expect(server.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });

  it('stop() closes idle keep-alive connections at once', async () => {
    const { server, port } = await serve(() => '# TYPE a gauge\na 1\n');
    // A keep-alive client leaves its socket open after the answer.
    await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
    const t = Date.now();
    await server.stop();
    // Well under Node's 5 s keep-alive timeout, which a stop() that waited for idle sockets would take.
    expect(Date.now() - t).toBeLessThan(4000);
    await expect(call(port, '/metrics')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});

describe('acceptsGzip', () => {
  it.each<[string | undefined, boolean]>([
    [undefined, false],
    ['', false],
    ['gzip', true],
    ['GZIP', true],
    ['identity', false],
    ['deflate, gzip;q=0.5', true],
    ['gzip;q=0', false],
    ['gzip; q=0.0', false],
    ['*', true],
    ['*;q=0', false],
    ['*, gzip;q=0', false],
    ['x-gzip', true],
    ['br', false],
  ])('%j → %s', (header, want) => {
    expect(acceptsGzip(header)).toBe(want);
  });
});
