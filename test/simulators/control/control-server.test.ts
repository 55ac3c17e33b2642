import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, SiteInventorySchema } from '../../../contract/index.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import { routeControl, type ControlResponse } from '../../../simulators/control/control-routes.js';
import { ControlServer } from '../../../simulators/control/control-server.js';
import { TruthFileWriter } from '../../../simulators/control/truth-file-writer.js';
import { startSimSite, type SimSite } from '../../../simulators/index.js';
import { repoPath } from '../../support/repo-path.js';

/**
 * The control API as a table of requests and answers (routes are pure; the site is real, on a
 * manual clock), then the socket: loopback only, JSON errors, body limits, and the truth file.
 */
const MINIMAL = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'minimal.yaml'));
const SECOND = SiteInventorySchema.parse({ ...MINIMAL, site: { ...MINIMAL.site, id: 'second', name: 'Second site' } });

describe('control routes', () => {
  const clock = new ManualClock();
  let sites: SimSite[];
  const call = (method: string, path: string, body = '') => {
    const url = new URL(path, 'http://x');
    return routeControl({ method, path: url.pathname, query: url.searchParams, body }, { sites, uptimeMs: () => 42_000 });
  };
  const code = (r: ControlResponse) => (r.body as { error?: { code: string } }).error?.code;

  beforeAll(async () => {
    sites = [
      await startSimSite({ inventory: MINIMAL, bind: 'ephemeral', clock, logger: memoryLogger() }),
      await startSimSite({ inventory: SECOND, bind: 'ephemeral', clock, logger: memoryLogger() }),
    ];
  });
  afterAll(async () => {
    for (const s of sites ?? []) await s.stop();
  });

  it('reports health and lists sites, listeners and devices', () => {
    expect(call('GET', '/health')).toEqual({ status: 200, body: { status: 'ok', uptime_s: 42, sites: [{ site: 'demo', devices: 2, listeners: 2 }, { site: 'second', devices: 2, listeners: 2 }] } });
    expect((call('GET', '/sites').body as { site: string }[]).map((s) => s.site)).toEqual(['demo', 'second']);
    const listeners = call('GET', '/sites/demo/listeners').body as { protocol: string; devices: number; stats: object }[];
    expect(listeners.map((l) => [l.protocol, l.devices])).toEqual([['snmp', 1], ['modbus', 1]]);
    const devices = call('GET', '/sites/demo/devices').body as { device: string; protocol: string }[];
    expect(devices.map((d) => [d.device, d.protocol])).toEqual([['pdu-r01-a', 'snmp'], ['meter-incomer-1', 'modbus']]);
    expect(call('GET', '/sites/demo/devices/pdu-r01-a').body).toMatchObject({ device: 'pdu-r01-a', community: 'public', faults: [] });
  });

  it('puts, lists and deletes a fault, validating the body with the seed schema', () => {
    const put = call('PUT', '/sites/demo/devices/pdu-r01-a/faults/slow', '{"delay_ms": 1500}');
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ kind: 'slow', state: 'active', spec: { kind: 'slow', delay_ms: 1500, jitter_ms: 0 }, end_sim_ts: null });
    const scheduled = call('PUT', '/sites/demo/devices/pdu-r01-a/faults/offline', '{"at_s": 3600, "for_s": 60}');
    expect(scheduled.body).toMatchObject({ state: 'scheduled' });
    expect((call('GET', '/sites/demo/devices/pdu-r01-a/faults').body as { kind: string }[]).map((f) => f.kind)).toEqual(['slow', 'offline']);
    expect(call('DELETE', '/sites/demo/devices/pdu-r01-a/faults/slow').status).toBe(200);
    expect(code(call('DELETE', '/sites/demo/devices/pdu-r01-a/faults/slow'))).toBe('not_found');
    expect((call('DELETE', '/sites/demo/devices/pdu-r01-a/faults').body as unknown[]).length).toBe(1);
    expect(call('GET', '/sites/demo/devices/pdu-r01-a/faults').body).toEqual([]);
  });

  it.each([
    ['an unknown route', 'GET', '/nope', '', 404, 'not_found'],
    ['an unknown site', 'GET', '/sites/mars/devices', '', 404, 'not_found'],
    ['an unknown device', 'GET', '/sites/demo/devices/ghost/faults', '', 404, 'not_found'],
    ['an unknown fault kind', 'PUT', '/sites/demo/devices/pdu-r01-a/faults/melting', '{}', 404, 'not_found'],
    ['a wrong method', 'POST', '/sites/demo/devices/pdu-r01-a/faults/slow', '{}', 405, 'method_not_allowed'],
    ['a body that is not JSON', 'PUT', '/sites/demo/devices/pdu-r01-a/faults/slow', '{delay', 400, 'invalid_json'],
    ['a body that is a list', 'PUT', '/sites/demo/devices/pdu-r01-a/faults/slow', '[]', 400, 'invalid_body'],
    ['a body of another kind', 'PUT', '/sites/demo/devices/pdu-r01-a/faults/slow', '{"kind": "offline"}', 400, 'invalid_body'],
    ['a missing field', 'PUT', '/sites/demo/devices/pdu-r01-a/faults/slow', '{}', 400, 'invalid_body'],
    ['a fault the device cannot show', 'PUT', '/sites/demo/devices/pdu-r01-a/faults/modbus_exception', '{"code": "server_device_busy"}', 422, 'unprocessable'],
    ['a rollover of a float counter', 'PUT', '/sites/demo/devices/meter-incomer-1/faults/counter_rollover', '', 422, 'unprocessable'],
    ['a failure of a PDU', 'PUT', '/sites/demo/devices/pdu-r01-a/faults/equipment_failure', '', 422, 'unprocessable'],
    ['a bad truth parameter', 'GET', '/sites/demo/truth?devices=maybe&limit_1h=-1&x=1', '', 400, 'invalid_query'],
  ])('refuses %s', (_name, method, path, body, status, errorCode) => {
    const r = call(method, path, body);
    expect(r.status).toBe(status);
    expect(code(r)).toBe(errorCode);
  });

  it('explains what is wrong in a body, field by field', () => {
    const r = call('PUT', '/sites/demo/devices/pdu-r01-a/faults/timeout', '{"probability": 2, "for_s": -1, "extra": true}');
    expect((r.body as { error: { details: string[] } }).error.details).toEqual([
      'body: probability: Too big: expected number to be <=1',
      'body: for_s: Too small: expected number to be >0',
      'body: (root): Unrecognized key: "extra"',
    ]);
  });

  it('serves the truth per site, per device, for all sites, and what a device serves', () => {
    clock.advance(2_000);
    const t = call('GET', '/sites/demo/truth?limit_15m=2').body as { site: string; live: { pue: number }; devices: Record<string, unknown>; windows: { '15m': unknown[] } };
    expect(t.site).toBe('demo');
    expect(t.live.pue).toBeGreaterThan(1);
    expect(Object.keys(t.devices)).toEqual(['pdu-r01-a', 'meter-incomer-1']);
    expect(t.windows['15m'].length).toBeLessThanOrEqual(2);
    expect(Object.keys((call('GET', '/sites/demo/truth?devices=false').body as { devices: object }).devices)).toEqual([]);
    const all = call('GET', '/truth').body as { sites: { site: string; devices: object }[] };
    expect(all.sites.map((s) => [s.site, Object.keys(s.devices).length])).toEqual([['demo', 0], ['second', 0]]);
    expect(call('GET', '/sites/demo/devices/meter-incomer-1/truth').body).toMatchObject({ device: 'meter-incomer-1', power_w: expect.any(Number), energy_kwh: expect.any(Number) });
    const values = call('GET', '/sites/demo/devices/pdu-r01-a/values').body as { values: Record<string, unknown>; rows: Record<string, Record<string, unknown>> };
    expect(values.values.active_power_w).toBeGreaterThan(0);
    expect(Object.keys(values.rows.phase ?? {})).toEqual(['1', '2', '3']);
  });
});

describe('control server and truth file', () => {
  let site: SimSite;
  let server: ControlServer;
  beforeAll(async () => {
    site = await startSimSite({ inventory: MINIMAL, bind: 'ephemeral', logger: memoryLogger() });
    server = new ControlServer({ port: 0, target: { sites: [site], uptimeMs: () => 0 }, logger: memoryLogger() });
    await server.start();
  });
  afterAll(async () => {
    await server?.stop();
    await site?.stop();
  });

  it('listens on loopback and answers JSON', async () => {
    expect(server.url()).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await fetch(`${server.url()}/health`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const put = await fetch(`${server.url()}/sites/demo/devices/pdu-r01-a/faults/stuck`, { method: 'PUT', body: '{}' });
    expect(await put.json()).toMatchObject({ kind: 'stuck', state: 'active' });
    expect((await fetch(`${server.url()}/sites/demo/devices/pdu-r01-a/faults/stuck`, { method: 'DELETE' })).status).toBe(200);
  });

  it('refuses a body over 64 KiB with 413', async () => {
    const r = await fetch(`${server.url()}/sites/demo/devices/pdu-r01-a/faults/slow`, { method: 'PUT', body: 'x'.repeat(70_000) });
    expect(r.status).toBe(413);
  });

  it('names the port it cannot bind', async () => {
    await expect(new ControlServer({ port: server.port(), target: { sites: [site], uptimeMs: () => 0 }, logger: memoryLogger() }).start()).rejects.toThrow(`control API cannot listen on 127.0.0.1:${server.port()}/tcp`);
  });

  it('writes the truth file at start, periodically and on stop', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dcim-truth-'));
    const clock = new ManualClock();
    const writer = new TruthFileWriter({ path: join(dir, 'truth.json'), sites: [site], every_ms: 5_000, clock, logger: memoryLogger() });
    await writer.start();
    expect(JSON.parse(await readFile(join(dir, 'truth.json'), 'utf8'))).toMatchObject({ schema: 1, site: 'demo' });
    clock.advance(5_000);
    await writer.write();
    expect(writer.writes()).toBeGreaterThanOrEqual(3);
    const n = writer.writes();
    await writer.stop();
    expect(writer.writes()).toBe(n + 1);
    clock.advance(20_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(writer.writes()).toBe(n + 1);
  });
});
