import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, DeviceSchema, type PrometheusProfile, type Reading } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { createDeviceReader } from '../../../agent/reader-factory.js';
import { PrometheusReader } from '../../../agent/prometheus/prometheus-reader.js';
import { createHttpScrapeTransport } from '../../../agent/prometheus/http-scrape.js';
import { createLogger } from '../../../shared/log.js';

const CORPUS = join(import.meta.dirname, '..', '..', 'fixtures', 'devices');
const DCGM = readFileSync(join(CORPUS, 'gpu-dcgm-h100', 'metrics.prom'), 'utf8');
const profiles = loadProfiles();
const dcgm = profiles.get('dcgm-exporter') as PrometheusProfile;
const logger = createLogger({ level: 'error' });

/** What the local exporter answers, per path; every request is recorded. */
interface Route {
  status?: number;
  type?: string | null;
  body?: string;
  /** Never answer (a hung exporter). */
  hang?: boolean;
}
const routes = new Map<string, Route>();
const seen: http.IncomingHttpHeaders[] = [];
let server: http.Server;
let port = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(req.headers);
    const r = routes.get(req.url ?? '') ?? { status: 404, body: 'no such path' };
    if (r.hang) return;
    if (r.type !== null) res.setHeader('Content-Type', r.type ?? 'text/plain; version=0.0.4; charset=utf-8');
    res.writeHead(r.status ?? 200);
    res.end(r.body ?? '');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

function device(path: string, extra: Record<string, unknown> = {}) {
  return DeviceSchema.parse({ id: 'gpu1', profile: 'dcgm-exporter', address: { protocol: 'prometheus', host: '127.0.0.1', port, path, ...extra }, timeout_ms: 1000, retries: 0 });
}
const find = (rs: Reading[], point: string, gpu: string) => rs.find((r) => r.point === point && r.index?.gpu === gpu);

describe('PrometheusReader against a local exporter', () => {
  it('asks for the 0.0.4 text format and reads every GPU row; a DCGM blank is not good', async () => {
    routes.set('/metrics', { body: DCGM });
    const reader = createDeviceReader({ device: device('/metrics'), profile: dcgm }, { clock: new ManualClock(0), logger });
    const r = await reader.read();
    await reader.close();
    expect(seen.at(-1)?.accept).toBe('text/plain;version=0.0.4;q=1,*/*;q=0.1');
    expect(seen.at(-1)?.authorization).toBeUndefined();
    expect(r.poll).toMatchObject({ requests: 1, retries: 0, timeouts: 0 });
    expect(r.poll.faults).toBeUndefined();
    expect(find(r.readings, 'gpu_power_w', '0')).toMatchObject({ value: 612.35, unit: 'W', quality: 'good' });
    expect(find(r.readings, 'gpu_model', '1')).toMatchObject({ value: 'NVIDIA H100 80GB HBM3', quality: 'good' });
    expect(find(r.readings, 'gpu_energy_kwh', '1')?.value as number).toBeCloseTo(2.743484225, 9);
    expect(find(r.readings, 'gpu_memory_temp_c', '1')).toMatchObject({ value: null, quality: 'bad', error: 'DCIM_E_VALUE_UNAVAILABLE' });
    expect(r.readings).toHaveLength(2 * 9);
  });

  it('a text with broken lines: each is counted as DCIM_E_PROM_PARSE and the valid samples are still read', async () => {
    const lines = DCGM.split('\n');
    const broken = [
      ...lines.slice(0, 6),
      '# HELP DCGM_FI_DEV_GPU_TEMP GPU temperature (in C).',
      // GPU 0's temperature line has a bad escape, GPU 1's has no value.
      'DCGM_FI_DEV_GPU_TEMP{gpu="0",UUID="GPU-x\\q"} 64',
      'DCGM_FI_DEV_GPU_TEMP{gpu="1",UUID="GPU-y"}',
      `huge{a="${'z'.repeat(70_000)}"} 1`,
      // The exporter's own HELP for DCGM_FI_DEV_GPU_TEMP follows: a second HELP.
      ...lines.slice(6).filter((l) => !l.startsWith('DCGM_FI_DEV_GPU_TEMP')),
    ].join('\n');
    routes.set('/broken', { body: broken });
    const reader = createDeviceReader({ device: device('/broken'), profile: dcgm }, { clock: new ManualClock(0), logger });
    const r = await reader.read();
    await reader.close();
    expect(r.poll.faults).toEqual({ DCIM_E_PROM_PARSE: 4 });
    expect(find(r.readings, 'gpu_temp_c', '0')).toMatchObject({ quality: 'bad', error: 'DCIM_E_PROM_SERIES_MISSING' });
    expect(find(r.readings, 'gpu_temp_c', '1')).toMatchObject({ quality: 'bad', error: 'DCIM_E_PROM_SERIES_MISSING' });
    expect(find(r.readings, 'gpu_power_w', '0')).toMatchObject({ value: 612.35, quality: 'good' });
    expect(find(r.readings, 'gpu_utilisation_pct', '1')).toMatchObject({ value: 0, quality: 'good' });
  });

  it('NaN is not available, +Inf is undecodable, a utilisation of 250 % is out of range: none is good', async () => {
    routes.set('/odd', {
      body: ['DCGM_FI_DEV_GPU_UTIL{gpu="0",modelName="NVIDIA A100-SXM4-80GB",UUID="GPU-a"} 250', 'DCGM_FI_DEV_POWER_USAGE{gpu="0"} NaN', 'DCGM_FI_DEV_GPU_TEMP{gpu="0"} +Inf', 'DCGM_FI_DEV_FB_USED{gpu="0"} 9.223372036854776e+18'].join('\n'),
    });
    const reader = createDeviceReader({ device: device('/odd'), profile: dcgm }, { clock: new ManualClock(0), logger });
    const r = await reader.read();
    await reader.close();
    expect(find(r.readings, 'gpu_utilisation_pct', '0')).toMatchObject({ quality: 'bad', error: 'DCIM_E_VALUE_OUT_OF_RANGE' });
    expect(find(r.readings, 'gpu_power_w', '0')).toMatchObject({ quality: 'bad', error: 'DCIM_E_VALUE_UNAVAILABLE' });
    expect(find(r.readings, 'gpu_temp_c', '0')).toMatchObject({ quality: 'bad', error: 'DCIM_E_DECODE_VALUE' });
    expect(find(r.readings, 'gpu_memory_used_mib', '0')).toMatchObject({ quality: 'bad', error: 'DCIM_E_VALUE_UNAVAILABLE' });
    expect(find(r.readings, 'gpu_model', '0')).toMatchObject({ quality: 'good', value: 'NVIDIA A100-SXM4-80GB' });
  });

  it('two series for one GPU (MIG instances) are ambiguous, not a pick', async () => {
    routes.set('/mig', { body: ['DCGM_FI_DEV_GPU_UTIL{gpu="0",GPU_I_ID="1",modelName="m"} 10', 'DCGM_FI_DEV_GPU_UTIL{gpu="0",GPU_I_ID="2",modelName="m"} 20'].join('\n') });
    const reader = createDeviceReader({ device: device('/mig'), profile: dcgm }, { clock: new ManualClock(0), logger });
    const r = await reader.read();
    await reader.close();
    expect(find(r.readings, 'gpu_utilisation_pct', '0')).toMatchObject({ quality: 'bad', error: 'DCIM_E_PROM_SERIES_AMBIGUOUS' });
  });

  it('an exporter without any of the metrics: every point bad, DCIM_E_PROM_SERIES_MISSING', async () => {
    routes.set('/empty', { body: '# nothing here\n' });
    const reader = createDeviceReader({ device: device('/empty'), profile: dcgm }, { clock: new ManualClock(0), logger });
    const r = await reader.read();
    await reader.close();
    expect(r.readings).toHaveLength(9);
    expect(new Set(r.readings.map((x) => x.error))).toEqual(new Set(['DCIM_E_PROM_SERIES_MISSING']));
  });

  it('sends the bearer token from its secret reference; a refused token is DCIM_E_PROM_AUTH', async () => {
    routes.set('/auth', { status: 403, body: 'forbidden' });
    const reader = createDeviceReader({ device: device('/auth', { bearer_token: { env: 'P5_DCGM_TOKEN' } }), profile: dcgm }, { clock: new ManualClock(0), logger, env: { P5_DCGM_TOKEN: 's3cret' } });
    const r = await reader.read();
    await reader.close();
    expect(seen.at(-1)?.authorization).toBe('Bearer s3cret');
    expect(new Set(r.readings.map((x) => x.error))).toEqual(new Set(['DCIM_E_PROM_AUTH']));
    const missing = createDeviceReader({ device: device('/auth', { bearer_token: { env: 'P5_NOT_SET' } }), profile: dcgm }, { clock: new ManualClock(0), logger, env: {} });
    expect(new Set((await missing.read()).readings.map((x) => x.error))).toEqual(new Set(['DCIM_E_SECRET_MISSING']));
  });

  it('refuses another content type and a body over the size limit (DCIM_E_PROM_RESPONSE); retries a 503 once', async () => {
    routes.set('/proto', { type: 'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily', body: 'x' });
    routes.set('/big', { body: `up 1\n${'#'.repeat(5000)}\n` });
    routes.set('/down', { status: 503, body: 'busy' });
    const clock = new ManualClock(0);
    const read = async (path: string, maxBodyBytes?: number) => {
      const transport = createHttpScrapeTransport({ scheme: 'http', host: '127.0.0.1', port, path, verifyTls: true, ...(maxBodyBytes ? { maxBodyBytes } : {}) });
      const reader = new PrometheusReader({ profile: dcgm, transport, policy: { timeoutMs: 1000, retries: 1 }, clock });
      try {
        return await reader.read();
      } finally {
        await reader.close();
      }
    };
    expect((await read('/proto')).readings[0]?.error).toBe('DCIM_E_PROM_RESPONSE');
    expect((await read('/big', 1000)).readings[0]?.error).toBe('DCIM_E_PROM_RESPONSE');
    const down = await read('/down');
    expect(down.readings[0]?.error).toBe('DCIM_E_PROM_HTTP');
    expect(down.poll).toMatchObject({ requests: 2, retries: 1 });
  });

  it('a hung exporter times out (DCIM_E_PROM_TIMEOUT); past the deadline nothing is sent', async () => {
    routes.set('/hang', { hang: true });
    const clock = new ManualClock(1000);
    const transport = createHttpScrapeTransport({ scheme: 'http', host: '127.0.0.1', port, path: '/hang', verifyTls: true });
    const reader = new PrometheusReader({ profile: dcgm, transport, policy: { timeoutMs: 50, retries: 0 }, clock });
    const r = await reader.read();
    expect(r.readings[0]?.error).toBe('DCIM_E_PROM_TIMEOUT');
    expect(r.poll).toMatchObject({ requests: 1, timeouts: 1 });
    const late = await reader.read({ deadlineAt: 1000 });
    expect(late.poll.requests).toBe(0);
    expect(late.readings[0]?.error).toBe('DCIM_E_PROM_TIMEOUT');
    await reader.close();
  });

  it("takes the agent's Prometheus policy when the device sets none, and the device's own when it does", async () => {
    routes.set('/hang2', { hang: true });
    const bare = DeviceSchema.parse({ id: 'gpu2', profile: 'dcgm-exporter', address: { protocol: 'prometheus', host: '127.0.0.1', port, path: '/hang2' } });
    const ctx = { clock: new ManualClock(0), logger, prometheus: { timeoutMs: 30, retries: 2 } };
    const agentWide = createDeviceReader({ device: bare, profile: dcgm }, ctx);
    expect((await agentWide.read()).poll).toMatchObject({ requests: 3, retries: 2, timeouts: 3 });
    await agentWide.close();
    const own = createDeviceReader({ device: { ...bare, timeout_ms: 30, retries: 0 }, profile: dcgm }, ctx);
    expect((await own.read()).poll).toMatchObject({ requests: 1, retries: 0, timeouts: 1 });
    await own.close();
  });
});
