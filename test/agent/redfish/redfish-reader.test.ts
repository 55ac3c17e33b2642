import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedfishProfileSchema, SystemClock, type Reading, type RedfishProfile } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { memoryLogger } from '../../../shared/log.js';
import { judgePoll } from '../../../agent/device-status.js';
import { createHttpRedfishTransport } from '../../../agent/redfish/http-redfish-transport.js';
import { MAX_COLLECTION_MEMBERS, RedfishReader } from '../../../agent/redfish/redfish-reader.js';

/**
 * The Redfish reader over real HTTP against a BMC this test scripts on 127.0.0.1: a well-behaved
 * GPU server first, then the nasty ones (500s, garbage, slow and huge bodies, redirects, broken
 * links, runaway collections, refused credentials).
 */
const gpu = loadProfiles().get('redfish-gpu-server') as RedfishProfile;

type Route = (res: http.ServerResponse, req: http.IncomingMessage) => void;
const json = (doc: unknown, status = 200): Route => (res) => {
  res.writeHead(status, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify(doc));
};

/** A DMTF-style GPU server: chassis metrics, 2 GPUs and 1 CPU in one Processors collection. */
function goodBmc(): Map<string, Route> {
  const routes = new Map<string, Route>();
  const P = '/redfish/v1/Systems/1/Processors';
  routes.set('/redfish/v1/Chassis/1/EnvironmentMetrics', json({ PowerWatts: { Reading: 1520.5 }, EnergykWh: { Reading: 81234.5 } }));
  routes.set(P, json({ Members: [{ '@odata.id': `${P}/GPU1` }, { '@odata.id': `${P}/GPU2` }, { '@odata.id': `${P}/CPU1` }] }));
  for (const n of [1, 2]) {
    routes.set(`${P}/GPU${n}`, json({
      Id: `GPU${n}`,
      ProcessorType: 'GPU',
      Model: 'NVIDIA H100 80GB HBM3',
      MemorySummary: { TotalMemorySizeMiB: 81559, Metrics: { '@odata.id': `${P}/GPU${n}/MemorySummary/MemoryMetrics` } },
      Metrics: { '@odata.id': `${P}/GPU${n}/ProcessorMetrics` },
      EnvironmentMetrics: { '@odata.id': `${P}/GPU${n}/EnvironmentMetrics` },
    }));
    routes.set(`${P}/GPU${n}/ProcessorMetrics`, json({ BandwidthPercent: 90 + n }));
    routes.set(`${P}/GPU${n}/EnvironmentMetrics`, json({ PowerWatts: { Reading: 600 + n }, TemperatureCelsius: { Reading: n === 2 ? null : 70 } }));
    routes.set(`${P}/GPU${n}/MemorySummary/MemoryMetrics`, json({ CapacityUtilizationPercent: 50.5 }));
  }
  routes.set(`${P}/CPU1`, json({ Id: 'CPU1', ProcessorType: 'CPU', Model: 'AMD EPYC 9654' }));
  return routes;
}

let server: http.Server;
let port: number;
let routes = new Map<string, Route>();
const hits = new Map<string, number>();
let inFlight = 0;
let peak = 0;
let lastAuth: string | undefined;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    lastAuth = req.headers.authorization;
    const path = (req.url ?? '').split('?')[0] as string;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    peak = Math.max(peak, ++inFlight);
    res.on('close', () => inFlight--);
    // Every answer takes a little while, so concurrent requests overlap.
    setTimeout(() => {
      const route = routes.get(path);
      if (route) route(res, req);
      else json({ error: { code: 'Base.1.0.ResourceMissingAtURI' } }, 404)(res, req);
    }, 5);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));
beforeEach(() => {
  routes = goodBmc();
  hits.clear();
  peak = 0;
});

function reader(profile: RedfishProfile = gpu, o: { timeoutMs?: number; retries?: number; maxBodyBytes?: number; password?: string } = {}) {
  const transport = createHttpRedfishTransport({ scheme: 'http', host: '127.0.0.1', port, username: 'admin', password: o.password ?? 's3cret', verifyTls: true, maxSockets: profile.quirks.max_concurrent_requests, ...(o.maxBodyBytes ? { maxBodyBytes: o.maxBodyBytes } : {}) });
  return new RedfishReader({ profile, transport, policy: { timeoutMs: o.timeoutMs ?? 1000, retries: o.retries ?? 1 }, clock: new SystemClock(), logger: memoryLogger('error') });
}

async function poll(r: RedfishReader, probe = false) {
  try {
    return await r.read(probe ? { probe: true } : {});
  } finally {
    await r.close();
  }
}

const pick = (rs: Reading[]) => Object.fromEntries(rs.map((r) => [r.index ? `${r.point}[${Object.values(r.index).join()}]` : r.point, r.quality === 'good' ? r.value : r.error ?? null]));

describe('RedfishReader over HTTP', () => {
  it('reads resources, filtered collection members by Id and followed links; each document once; Basic auth', async () => {
    const res = await poll(reader());
    expect(pick(res.readings)).toEqual({
      active_power_w: 1520.5,
      energy_kwh: 81234.5,
      'gpu_model[GPU1]': 'NVIDIA H100 80GB HBM3',
      'gpu_power_w[GPU1]': 601,
      'gpu_utilisation_pct[GPU1]': 91,
      'gpu_temp_c[GPU1]': 70,
      'gpu_memory_total_mib[GPU1]': 81559,
      'gpu_memory_utilisation_pct[GPU1]': 50.5,
      'gpu_model[GPU2]': 'NVIDIA H100 80GB HBM3',
      'gpu_power_w[GPU2]': 602,
      'gpu_utilisation_pct[GPU2]': 92,
      'gpu_temp_c[GPU2]': 'DCIM_E_VALUE_UNAVAILABLE', // null: no reading now
      'gpu_memory_total_mib[GPU2]': 81559,
      'gpu_memory_utilisation_pct[GPU2]': 50.5,
      'cpu_model[CPU1]': 'AMD EPYC 9654',
    });
    expect(res.readings.find((r) => r.point === 'gpu_power_w')).toEqual({ point: 'gpu_power_w', unit: 'W', index: { gpu: 'GPU1' }, value: 601, quality: 'good' });
    expect([...hits.values()].every((n) => n === 1)).toBe(true);
    // 1 chassis + 1 collection + 3 members + 3 links × 2 GPUs
    expect(res.poll).toMatchObject({ requests: 11, retries: 0, timeouts: 0 });
    expect(lastAuth).toBe(`Basic ${Buffer.from('admin:s3cret').toString('base64')}`);
    expect(judgePoll(res.readings)).toEqual({ state: 'up' });
  });

  it('keeps to max_concurrent_requests per BMC', async () => {
    for (const n of [1, 2, 4]) {
      peak = 0;
      await poll(reader({ ...gpu, quirks: { max_concurrent_requests: n } }));
      expect(peak, `limit ${n}`).toBeLessThanOrEqual(n);
      if (n > 1) expect(peak, `limit ${n}`).toBeGreaterThan(1);
    }
  });

  it('refused credentials: one request, every point DCIM_E_REDFISH_AUTH, device down', async () => {
    routes.set('/redfish/v1/Chassis/1/EnvironmentMetrics', (res) => {
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="Redfish"' });
      res.end();
    });
    routes.set('/redfish/v1/Systems/1/Processors', routes.get('/redfish/v1/Chassis/1/EnvironmentMetrics') as Route);
    const res = await poll(reader(gpu, { password: 'wrong' }));
    expect(new Set(res.readings.map((r) => r.error))).toEqual(new Set(['DCIM_E_REDFISH_AUTH']));
    expect(judgePoll(res.readings)).toEqual({ state: 'down', code: 'DCIM_E_REDFISH_AUTH' });
    expect(res.poll.retries).toBe(0);
  });

  it('a 500 is retried once, then the resource is DCIM_E_REDFISH_HTTP and the rest is read (degraded)', async () => {
    routes.set('/redfish/v1/Chassis/1/EnvironmentMetrics', json({ error: 'busy' }, 500));
    const res = await poll(reader());
    expect(pick(res.readings)).toMatchObject({ active_power_w: 'DCIM_E_REDFISH_HTTP', energy_kwh: 'DCIM_E_REDFISH_HTTP', 'gpu_power_w[GPU1]': 601 });
    expect(hits.get('/redfish/v1/Chassis/1/EnvironmentMetrics')).toBe(2);
    expect(judgePoll(res.readings)).toEqual({ state: 'degraded', code: 'DCIM_E_REDFISH_HTTP' });
  });

  it('a 404 for one GPU member: its points are flagged once, the other GPU is read', async () => {
    routes.delete('/redfish/v1/Systems/1/Processors/GPU2');
    const res = await poll(reader());
    const t = pick(res.readings);
    expect(t['gpu_power_w[GPU1]']).toBe(601);
    expect(Object.keys(t).some((k) => k.endsWith('[GPU2]'))).toBe(false);
    // An unreadable member could be a GPU or the CPU: both collections over that path flag it.
    expect(res.readings.filter((r) => !r.index && r.error === 'DCIM_E_REDFISH_HTTP').map((r) => r.point)).toEqual(gpu.collections.flatMap((c) => c.points.map((p) => p.name)));
    expect(hits.get('/redfish/v1/Systems/1/Processors/GPU2')).toBe(1); // 4xx: not retried
  });

  it.each([
    ['garbage instead of JSON', ((res) => res.end('<html>Service Unavailable</html>')) as Route],
    ['truncated JSON', ((res) => res.end('{"PowerWatts": {"Reading": 15')) as Route],
    ['JSON nested 100,000 deep', ((res) => res.end('['.repeat(100_000))) as Route],
  ])('%s is DCIM_E_REDFISH_RESPONSE for that resource only', async (_label, route) => {
    routes.set('/redfish/v1/Chassis/1/EnvironmentMetrics', route);
    const res = await poll(reader());
    expect(pick(res.readings)).toMatchObject({ active_power_w: 'DCIM_E_REDFISH_RESPONSE', 'gpu_power_w[GPU1]': 601 });
    expect(judgePoll(res.readings).state).toBe('up');
  });

  it('a huge body is cut at the size limit, declared or streamed', async () => {
    routes.set('/redfish/v1/Chassis/1/EnvironmentMetrics', json({ PowerWatts: { Reading: 1 }, Padding: 'x'.repeat(300_000) }));
    routes.set('/redfish/v1/Systems/1/Processors/GPU1', (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' }); // chunked: no Content-Length
      const chunk = 'y'.repeat(64 * 1024);
      let sent = 0;
      const more = () => {
        while (sent < 64 && res.write(chunk)) sent++;
        if (sent < 64 && !res.destroyed) res.once('drain', more);
        else res.end();
      };
      res.write('{"Id":"GPU1","Padding":"');
      more();
    });
    const res = await poll(reader(gpu, { maxBodyBytes: 256 * 1024 }));
    expect(pick(res.readings)).toMatchObject({ active_power_w: 'DCIM_E_REDFISH_RESPONSE', 'gpu_power_w[GPU2]': 602 });
    expect(res.readings.some((r) => !r.index && r.error === 'DCIM_E_REDFISH_RESPONSE' && r.point === 'gpu_model')).toBe(true);
  });

  it('a body that trickles in slower than the timeout times out, and ends the poll', async () => {
    routes.set('/redfish/v1/Chassis/1/EnvironmentMetrics', (res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      const t = setInterval(() => (res.destroyed ? clearInterval(t) : res.write(' ')), 50);
      res.on('close', () => clearInterval(t));
    });
    const started = Date.now();
    const res = await poll(reader({ ...gpu, quirks: { max_concurrent_requests: 1 } }, { timeoutMs: 300, retries: 1 }));
    expect(Date.now() - started).toBeLessThan(2000);
    expect(res.poll).toMatchObject({ timeouts: 2, retries: 1 });
    expect(new Set(res.readings.map((r) => r.error))).toEqual(new Set(['DCIM_E_REDFISH_TIMEOUT']));
  });

  it('a redirect is not followed and says where it points', async () => {
    routes.set('/redfish/v1/Chassis/1/EnvironmentMetrics', (res) => {
      res.writeHead(301, { Location: 'https://bmc.example/redfish/v1/Chassis/1/EnvironmentMetrics' });
      res.end();
    });
    const res = await poll(reader());
    expect(pick(res.readings).active_power_w).toBe('DCIM_E_REDFISH_HTTP');
  });

  it.each([
    ['a member link outside /redfish/v1', { Members: [{ '@odata.id': '/etc/passwd' }] }],
    ['Members not an array', { Members: { '@odata.id': '/redfish/v1/Systems/1/Processors/GPU1' } }],
    ['no Members', { Name: 'Processors' }],
  ])('collection with %s: every collection point is DCIM_E_REDFISH_RESPONSE, nothing fetched outside', async (_label, doc) => {
    routes.set('/redfish/v1/Systems/1/Processors', json(doc));
    const res = await poll(reader());
    expect(res.readings.filter((r) => r.point === 'gpu_power_w').map((r) => r.error)).toEqual(['DCIM_E_REDFISH_RESPONSE']);
    expect(hits.has('/etc/passwd')).toBe(false);
    expect(pick(res.readings).active_power_w).toBe(1520.5);
  });

  it('members without a usable Id, twice the same Id, and a broken link are each contained', async () => {
    const P = '/redfish/v1/Systems/1/Processors';
    routes.set(P, json({ Members: [1, 2, 3, 4].map((n) => ({ '@odata.id': `${P}/GPU${n}` })) }));
    routes.set(`${P}/GPU3`, json({ Id: 'GPU1', ProcessorType: 'GPU', Model: 'dup' }));
    routes.set(`${P}/GPU4`, json({ Id: { nested: true }, ProcessorType: 'GPU' }));
    routes.set(`${P}/GPU2`, json({ Id: 'GPU2', ProcessorType: 'GPU', Model: 'X', Metrics: 'not a link', MemorySummary: {} }));
    const res = await poll(reader());
    const t = pick(res.readings);
    expect(t['gpu_model[GPU1]']).toBe('NVIDIA H100 80GB HBM3');
    expect(t['gpu_model[GPU2]']).toBe('X');
    expect(t['gpu_utilisation_pct[GPU2]']).toBe('DCIM_E_REDFISH_RESPONSE');
    expect(t['gpu_memory_total_mib[GPU2]']).toBe('DCIM_E_REDFISH_RESPONSE');
    expect(res.readings.filter((r) => r.point === 'gpu_model' && !r.index).map((r) => r.error)).toEqual(['DCIM_E_REDFISH_RESPONSE']);
  });

  it(`a runaway collection is cut at ${MAX_COLLECTION_MEMBERS} members`, async () => {
    const P = '/redfish/v1/Systems/1/Processors';
    routes.set(P, json({ Members: Array.from({ length: 5000 }, (_, i) => ({ '@odata.id': `${P}/X${i}` })) }));
    const res = await poll(reader(RedfishProfileSchema.parse({ ...gpu, quirks: { max_concurrent_requests: 8 }, collections: [gpu.collections[1]] })));
    expect(res.poll.requests).toBeLessThanOrEqual(2 + MAX_COLLECTION_MEMBERS);
  });

  it('a probe of a dead BMC costs one request; a probe that gets an answer reads everything', async () => {
    const closed = await new Promise<number>((r) => {
      const s = http.createServer();
      s.listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => r(p));
      });
    });
    const transport = createHttpRedfishTransport({ scheme: 'http', host: '127.0.0.1', port: closed, verifyTls: true, maxSockets: 2 });
    const dead = new RedfishReader({ profile: gpu, transport, policy: { timeoutMs: 500, retries: 3 }, clock: new SystemClock() });
    const res = await poll(dead, true);
    expect(res.poll).toMatchObject({ requests: 1, retries: 0 });
    expect(judgePoll(res.readings)).toEqual({ state: 'down', code: 'DCIM_E_REDFISH_HTTP' });
    const alive = await poll(reader(), true);
    expect(judgePoll(alive.readings).state).toBe('up');
  });

  it('the deadline stops the poll: nothing is sent after it', async () => {
    const r = reader();
    const res = await r.read({ deadlineAt: Date.now() - 1 });
    await r.close();
    expect(res.poll.requests).toBe(0);
    expect(new Set(res.readings.map((x) => x.error))).toEqual(new Set(['DCIM_E_REDFISH_TIMEOUT']));
  });
});
