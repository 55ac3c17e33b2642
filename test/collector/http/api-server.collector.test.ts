import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { Collector } from '../../../collector/collector.js';
import { ManualClock } from '../../../contract/clock.js';
import { SiteInventorySchema, type Cluster } from '../../../contract/inventory.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import type { KpiValue } from '../../../contract/messages.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { topics } from '../../../contract/topics.js';
import { startMosquitto } from '../../support/mosquitto.js';
import { useService } from '../../support/require-service.js';
import { InfluxV1Sink } from '../../../collector/store/influx-v1-sink.js';
import { startInfluxV1 } from '../../support/influxdb-v1.js';
import { RecordingSink } from '../support/recording-sink.js';
import { until } from '../../support/until.js';
import { repoPath } from '../../support/repo-path.js';

/**
 * The HTTP API of a running collector (real mosquitto, 127.0.0.1, free port): with and without
 * the token, KPIs after telemetry, the cluster roll-up, /metrics and /healthz following the broker.
 */
const SEED = loadYamlFile(SiteInventorySchema, repoPath('seeds', 'minimal.yaml'));
const CLUSTERS: Cluster[] = [{ id: 'guian', name: "Gui'an new builds", targets: { pue: 1.25, rack_occupancy: 0.7, green_share: 0.8 }, sites: ['demo'] }];
const TOKEN = 'collector-http-test-token-42';
const T0 = Date.UTC(2026, 0, 1, 8, 0, 0);

const poll = (seq: number, device: 'pdu-r01-a' | 'meter-incomer-1', power_w: number, ts: number) => ({
  schema: 1,
  agent: 'edge-1',
  site: 'demo',
  device,
  class: device === 'pdu-r01-a' ? 'pdu' : 'meter',
  seq,
  ts,
  readings: [{ point: 'active_power_w', value: power_w, unit: 'W', quality: 'good' }],
  poll: { ms: 5, requests: 1, retries: 0 },
});

describe('the collector serves its HTTP API', () => {
  const broker = useService('mosquitto', () => startMosquitto());

  it('answers with and without the token, serves KPIs, metrics and health', async () => {
    const clock = new ManualClock(T0);
    const collector = new Collector({
      id: 'http',
      inventories: [SEED],
      clusters: CLUSTERS,
      profiles: loadProfiles(),
      mqtt: { url: broker().url },
      sink: new RecordingSink(),
      clock,
      logger: memoryLogger(),
      kpiIntervalMs: 5000,
      http: { host: '127.0.0.1', port: 0, token: TOKEN },
    });
    await collector.start();
    const base = collector.httpUrl!;
    expect(base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const get = (p: string, token: string | null = TOKEN) => fetch(`${base}${p}`, token !== null ? { headers: { authorization: `Bearer ${token}` } } : {});
    const agent = await mqtt.connectAsync(broker().url, { clientId: 'agent-http', protocolVersion: 4 });
    try {
      await agent.publishAsync(topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), JSON.stringify(poll(1, 'pdu-r01-a', 8000, T0 + 1000)), { qos: 1 });
      await agent.publishAsync(topics.telemetry('demo', 'edge-1', 'meter-incomer-1'), JSON.stringify(poll(2, 'meter-incomer-1', 10_000, T0 + 1200)), { qos: 1 });
      await until('two polls', () => collector.stats().readings_accepted === 2, 60_000);
      clock.advance(5000);

      for (const p of ['/api/sites', '/api/sites/demo/kpi', '/api/clusters/guian/kpi', '/metrics']) {
        const anon = await get(p, null);
        expect(anon.status, p).toBe(401);
        expect(anon.headers.get('www-authenticate')).toBe('Bearer realm="dcim"');
        expect(((await anon.json()) as { error: { code: string } }).error.code).toBe('DCIM_E_API_UNAUTHORIZED');
        expect((await get(p, 'collector-http-test-token-43')).status).toBe(401);
      }

      const sites = (await (await get('/api/sites')).json()) as { sites: { id: string; cluster?: string; devices: number; kpi_ts: number }[] };
      expect(sites.sites).toEqual([expect.objectContaining({ id: 'demo', cluster: 'guian', devices: 2, kpi_ts: T0 + 5000 })]);

      const site = (await (await get('/api/sites/demo/kpi')).json()) as { site: string; ts: number; kpis: KpiValue[] };
      expect(site).toMatchObject({ site: 'demo', ts: T0 + 5000 });
      expect(site.kpis.find((k) => k.kpi === 'pue_live')).toMatchObject({ ok: true, value: 1.25, window: 'instant', quality: 'measured', status: 'amber', target: 1.2 });
      // Every KPI carries its window, quality and target status; energy windows are unknown yet.
      for (const k of site.kpis) expect(k).toEqual(expect.objectContaining({ window: expect.any(String), quality: expect.any(String), status: expect.any(String) }));
      expect(site.kpis.find((k) => k.kpi === 'pue' && k.window === '1d')).toMatchObject({ ok: false, quality: 'insufficient', status: 'grey' });
      const daily = (await (await get('/api/sites/demo/kpi?window=1d')).json()) as { kpis: KpiValue[] };
      expect(new Set(daily.kpis.map((k) => k.window))).toEqual(new Set(['1d']));

      const devices = (await (await get('/api/sites/demo/devices')).json()) as { devices: { id: string; last_ts: number | null; stale: boolean; role?: string }[] };
      expect(devices.devices).toEqual([
        expect.objectContaining({ id: 'pdu-r01-a', class: 'pdu', rack: 'r01', role: 'it', level: 'pdu_out', last_ts: T0 + 1000, stale: false }),
        expect.objectContaining({ id: 'meter-incomer-1', class: 'meter', hall: 'h1', role: 'facility_in', last_ts: T0 + 1200, stale: false }),
      ]);
      const pdu = (await (await get('/api/sites/demo/devices/pdu-r01-a')).json()) as { points: unknown[] };
      expect(pdu.points).toEqual([{ point: 'active_power_w', value: 8000, unit: 'W', quality: 'good', ts_ms: T0 + 1000, stale: false }]);

      const cluster = (await (await get('/api/clusters/guian/kpi?kpi=pue')).json()) as { cluster: string; kpis: KpiValue[] };
      expect(cluster.cluster).toBe('guian');
      expect(new Set(cluster.kpis.map((k) => k.basis))).toEqual(new Set(['energy_weighted', 'mean_of_sites']));

      const metrics = await (await get('/metrics')).text();
      expect(metrics).toContain('dcim_kpi_value{basis="power",category="2",kpi="pue_live",scope="site",site="demo",window="instant"} 1.25\n');
      expect(metrics).toContain('dcim_kpi_status{basis="power",category="2",kpi="pue_live",scope="site",site="demo",status="amber",window="instant"} 1\n');
      expect(metrics).toContain('dcim_collector_readings_accepted_total 2\n');
      expect(metrics).toContain('dcim_collector_broker_connected 1\n');
      expect(metrics).toContain('dcim_store_reachable{target="recording"} 1\n');
      expect(metrics).toMatch(/dcim_http_unauthorized_total 8\n/);
      expect(metrics).toMatch(/^dcim_kpi_ok\{basis="energy_weighted",category="2",kpi="pue",scope="cluster",site="guian",window="15m"\} 0$/m);

      const healthy = await get('/healthz', null);
      expect(healthy.status).toBe(200);
      expect(await healthy.json()).toMatchObject({ status: 'ok', broker: { connected: true }, kpi: { late: false } });
      expect(await (await get('/healthz')).json()).toMatchObject({ status: 'ok', store: { target: 'recording' }, kpi: { last_evaluation_ms: T0 + 5000, late: false } });

      // The broker goes away: health says so (503), the API keeps answering.
      await broker().halt();
      try {
        await until('health degraded', async () => (await get('/healthz', null)).status === 503, 60_000);
        const h = (await (await get('/healthz', null)).json()) as { status: string; problems: string[] };
        expect(h).toMatchObject({ status: 'degraded', problems: ['broker not connected'] });
        expect((await get('/api/sites/demo/kpi')).status).toBe(200);
      } finally {
        await broker().restart();
      }
      await until('health back', async () => (await get('/healthz', null)).status === 200, 60_000);

      // Five minutes (and a poll interval) without a reading: every device and point is stale.
      clock.advance(5 * 60_000 + 5000);
      const later = (await (await get('/api/sites/demo/devices')).json()) as { devices: { stale: boolean }[] };
      expect(later.devices.map((d) => d.stale)).toEqual([true, true]);
      expect(((await (await get('/api/sites/demo/devices/pdu-r01-a')).json()) as { points: { stale: boolean }[] }).points[0]!.stale).toBe(true);
    } finally {
      await agent.endAsync(true);
      await collector.stop();
    }
    // Stopped: the port is closed.
    await expect(fetch(`${base}/healthz`)).rejects.toThrow();
  });

  it('a port in use fails start() with the error, and the collector can be stopped', async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    const collector = new Collector({ id: 'busy', inventories: [SEED], mqtt: { url: broker().url }, sink: new RecordingSink(), clock: new ManualClock(T0), logger: memoryLogger(), http: { host: '127.0.0.1', port, token: TOKEN } });
    try {
      await expect(collector.start()).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(collector.httpUrl).toBeUndefined();
      await collector.stop();
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });

  it('serves HTTPS with http.tls (a self-signed certificate made here), /healthz included', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dcim-collector-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=dcim-test', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
      const cert = readFileSync(path.join(dir, 'cert.pem'));
      const collector = new Collector({ id: 'tls', inventories: [SEED], mqtt: { url: broker().url }, sink: new RecordingSink(), clock: new ManualClock(T0), logger: memoryLogger(), http: { host: '127.0.0.1', port: 0, token: TOKEN, tls: { cert, key: readFileSync(path.join(dir, 'key.pem')) } } });
      await collector.start();
      try {
        expect(collector.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
        const get = (p: string) =>
          new Promise<{ status: number; body: string }>((resolve, reject) => {
            const req = https.request(`${collector.httpUrl}${p}`, { ca: cert, agent: false, headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
              let body = '';
              res.on('data', (c: Buffer) => (body += c.toString()));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            });
            req.on('error', reject);
            req.end();
          });
        expect((await get('/api/sites')).status).toBe(200);
        expect(JSON.parse((await get('/healthz')).body)).toMatchObject({ broker: { connected: true }, store: { target: 'recording' } });
      } finally {
        await collector.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start with a weak token, before connecting anywhere', async () => {
    const collector = new Collector({ id: 'weak', inventories: [SEED], mqtt: { url: broker().url }, sink: new RecordingSink(), clock: new ManualClock(T0), logger: memoryLogger(), http: { host: '127.0.0.1', port: 0, token: 'short' } });
    await expect(collector.start()).rejects.toMatchObject({ code: 'DCIM_E_CONFIG_INVALID' });
    await collector.stop();
  });

  describe('with a real influxd 1.x as the store', () => {
    const influx = useService('influxd', () => startInfluxV1());

    it('/healthz is 503 with store refusing and the reason while the database is missing, and 200 once it takes the points', async () => {
      const db = `healthz_${process.pid}`;
      const clock = new ManualClock(T0);
      const sink = new InfluxV1Sink({ url: influx().url, database: db, create_database: false, clock, logger: memoryLogger(), retry_initial_ms: 1000 });
      const collector = new Collector({ id: 'refused', inventories: [SEED], profiles: loadProfiles(), mqtt: { url: broker().url }, sink, clock, logger: memoryLogger(), kpiIntervalMs: 5000, http: { host: '127.0.0.1', port: 0, token: TOKEN } });
      await collector.start();
      const agent = await mqtt.connectAsync(broker().url, { clientId: 'agent-healthz', protocolVersion: 4 });
      try {
        await agent.publishAsync(topics.telemetry('demo', 'edge-1', 'pdu-r01-a'), JSON.stringify(poll(1, 'pdu-r01-a', 8000, T0 + 1000)), { qos: 1 });
        await until('the poll taken', () => collector.stats().readings_accepted === 1, 60_000);
        await sink.flush();
        // Without the token: the state only, not the database's name or the server's words.
        const short = await fetch(`${collector.httpUrl}/healthz`);
        expect(short.status).toBe(503);
        const shortBody = await short.text();
        expect(JSON.parse(shortBody)).toMatchObject({ status: 'degraded', store: { state: 'refusing' }, problems: ['store refusing'] });
        expect(shortBody).not.toContain(db);
        expect(shortBody).not.toContain(influx().url);
        const refused = await fetch(`${collector.httpUrl}/healthz`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(refused.status).toBe(503);
        const body = (await refused.json()) as { status: string; store: { state: string; reason: string; since: number }; problems: string[] };
        expect(body).toMatchObject({ status: 'degraded', store: { state: 'refusing', reason: `database "${db}" not found`, since: T0 } });
        expect(body.problems).toEqual([`store refusing: database "${db}" not found`]);
        expect(collector.stats().sink).toMatchObject({ points_written: 0, pending: 1 });

        await influx().createDatabase(db);
        clock.advance(1000);
        await until('the kept point written', () => collector.stats().sink.points_written === 1, 60_000);
        const ok = await fetch(`${collector.httpUrl}/healthz`, { headers: { authorization: `Bearer ${TOKEN}` } });
        expect(ok.status).toBe(200);
        expect(await ok.json()).toMatchObject({ status: 'ok', store: { state: 'ok', reason: null, since: T0 + 1000 }, problems: [] });
      } finally {
        await agent.endAsync(true);
        await collector.stop();
        await sink.close();
      }
    });
  });
});
