import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../support/until.js';
import { spawnDcim, startDcim } from '../support/run-dcim.js';

/**
 * `dcim demo --influx …` against a store that answers but takes nothing: InfluxDB 1.x without
 * the database, whose user may not create it (an HTTP peer on loopback that answers as influxd
 * does then: 404 "database not found" on /write, 403 on CREATE DATABASE). The demo must say so
 * while it runs, /healthz must be degraded, and its summary must not call anything "written".
 */
let store: Server;
let storeUrl: string;
let dir: string;
const seen = { writes: 0, creates: 0 };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dcim-demo-test-'));
  store = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/write')) {
        seen.writes++;
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"database not found: \\"dcim\\""}');
      } else if (req.url?.startsWith('/query')) {
        seen.creates++;
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"error":"error authorizing query: dcim_writer not authorized to execute statement \'CREATE DATABASE dcim\', requires admin privilege"}');
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => store.listen(0, '127.0.0.1', resolve));
  storeUrl = `http://127.0.0.1:${(store.address() as { port: number }).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => store.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

describe('dcim demo with a store that refuses', () => {
  it('shows the store refusing while it runs, /healthz 503, and "0 points written" with the reason at the end', async () => {
    const p = startDcim(['demo', '--influx', storeUrl, '--influx-db', 'dcim', '--http-port', '0', '--print-every-s', '1', '--duration-s', '20'], { TMPDIR: dir, DCIM_LOG_LEVEL: 'error' });
    await until('the demo says the store refuses', () => /store influx_v1 .* refusing: database "dcim" not found; CREATE DATABASE failed: HTTP 403: .*requires admin privilege/.test(p.stdout()), 60_000, () => p.stdout().split('\n').slice(-10).join('\n') + p.stderr());
    const page = /live page (http:\/\/127\.0\.0\.1:\d+)\//.exec(p.stdout());
    expect(page).not.toBeNull();
    const health = await fetch(`${page![1]}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toMatchObject({ status: 'degraded', store: { state: 'refusing', reachable: true } });

    const exit = await p.exited;
    expect(exit, p.stderr()).toEqual({ code: 0, signal: null });
    const last = p.stdout().trim().split('\n').find((l) => l.startsWith('dcim demo: stopped;'));
    expect(last).toMatch(/; 0 points written to influx_v1 http:\/\/127\.0\.0\.1:\d+ db=dcim, [1-9][\d,]* lost \(not stored before the end\); store refusing: database "dcim" not found; CREATE DATABASE failed: /);
    expect(seen.writes).toBeGreaterThan(0);
    // At most one CREATE DATABASE a minute, however often the batch is retried.
    expect(seen.creates).toBe(1);
  }, 90_000);

  it("report --cluster guian answers from the demo's API: the seed's site.cluster is a roll-up", async () => {
    const p = startDcim(['demo', '--http-port', '0', '--print-every-s', '60'], { TMPDIR: dir, DCIM_LOG_LEVEL: 'error' });
    try {
      await until('the demo running', () => p.stdout().includes('Ctrl-C to stop.'), 60_000, () => p.stderr());
      const m = /HTTP API {2}(http:\/\/127\.0\.0\.1:\d+)\/api\/sites \(Authorization: Bearer (\w+)\)/.exec(p.stdout());
      expect(m).not.toBeNull();
      const month = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit' }).format(new Date()).slice(0, 7);
      await until('the cluster evaluated', async () => ((await (await fetch(`${m![1]}/api/clusters`, { headers: { authorization: `Bearer ${m![2]}` } })).json()) as { clusters: { kpi_ts: number | null }[] }).clusters[0]?.kpi_ts != null, 30_000);
      const r = await spawnDcim(['report', '--month', month, '--cluster', 'guian', '--format', 'json', '--api', m![1]!], { DCIM_API_TOKEN: m![2]! });
      expect(r.code, r.stderr).toBe(0);
      const report = JSON.parse(r.stdout) as { rows?: { kind?: string; id?: string }[] };
      expect(JSON.stringify(report)).toContain('"guian"');
      expect(JSON.stringify(report)).toContain('"demo"');
    } finally {
      expect(await p.stop('SIGTERM')).toEqual({ code: 0, signal: null });
    }
  }, 120_000);
});
