import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../support/until.js';
import { ROOT, spawnDcim, startDcim, type Ran, type RunningDcim } from './support/run-dcim.js';

/**
 * Every command run into the four things a person meets first — a port in use, a file that
 * cannot be read, a service that refuses the connection, a host name that does not resolve —
 * as a child process on loopback. Each must name its DCIM_E_* code in one line on stderr, exit
 * with the README's code, and never hang. The services (agent, collector) ride out a missing
 * broker instead: one line with the code, then a clean stop on SIGTERM at any moment.
 * Unresolvable names use the reserved `.invalid` domain, which never leaves the machine.
 */
let dir: string;
let busy: Server;
let BUSY: number;
let CLOSED: number;
const SEED = join(ROOT, 'seeds', 'minimal.yaml');
const TOKEN = 'failure-test-token-0123456789';

const listen = (): Promise<Server> =>
  new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
const portOf = (s: Server) => (s.address() as { port: number }).port;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dcim-failure-'));
  busy = await listen();
  BUSY = portOf(busy);
  // A port nothing listens on: bound once by us, then released.
  const gone = await listen();
  CLOSED = portOf(gone);
  await new Promise<void>((resolve) => gone.close(() => resolve()));
});
afterAll(async () => {
  await new Promise<void>((resolve) => busy.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

const file = (name: string, text: string) => {
  const f = join(dir, name);
  writeFileSync(f, text);
  return f;
};
const missing = () => join(dir, 'no-such-file.yaml');
const agentConfig = (name: string, o: { broker?: string; metrics?: string } = {}) =>
  file(name, `agent: { id: edge-1, site_seed: ${SEED} }\nmqtt: { url: "${o.broker ?? `mqtt://127.0.0.1:${CLOSED}`}" }\nstate_dir: ${join(dir, `${name}-state`)}\nmetrics: { listen: "${o.metrics ?? '127.0.0.1:0'}" }\n`);
const collectorConfig = (name: string, o: { broker?: string; listen?: string; store?: string } = {}) =>
  file(
    name,
    `collector: { id: t, sites: [${SEED}] }\nmqtt: { url: "${o.broker ?? `mqtt://127.0.0.1:${CLOSED}`}" }\n` +
      `store: ${o.store ?? `{ kind: sqlite, path: ${join(dir, `${name}.sqlite`)}, retention_days: 1 }`}\nhttp: { listen: "${o.listen ?? '127.0.0.1:0'}", token: "${TOKEN}" }\n`,
  );

/** Stderr without the JSON log lines a service writes as it starts (e.g. a warning about its config). */
const plainLines = (stderr: string) => stderr.trim().split('\n').filter((l) => !l.startsWith('{"ts":'));

/** One line on stderr, starting with the code (a config error may list problems below it: not here). */
function expectOneLine(r: Ran, code: string, exit: number, mentions: RegExp): void {
  expect(r.code, r.stderr).toBe(exit);
  const lines = plainLines(r.stderr);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^${code}: `));
  expect(lines[0]).toMatch(mentions);
}

describe('a port in use', () => {
  it.each<[string, () => string[], RegExp]>([
    ['demo', () => ['demo', '--http-port', String(BUSY), '--duration-s', '30'], /127\.0\.0\.1:\d+: another process already uses it/],
    ['sim', () => ['sim', '--seed', SEED, '--ephemeral', '--control-port', String(BUSY), '--duration-s', '30'], /control API cannot listen on 127\.0\.0\.1:\d+\/tcp: another process already uses it/],
    ['agent', () => ['agent', '-c', agentConfig('busy-agent.yaml', { metrics: `127.0.0.1:${BUSY}` }), '--duration-s', '30'], /cannot serve metrics on 127\.0\.0\.1:\d+: another process already uses it/],
    ['agent --check', () => ['agent', '--check', '-c', agentConfig('busy-agent-check.yaml', { metrics: `127.0.0.1:${BUSY}` })], /metrics\.listen 127\.0\.0\.1:\d+: cannot listen on 127\.0\.0\.1:\d+: another process already uses it/],
    ['collector', () => ['collector', '-c', collectorConfig('busy-collector.yaml', { listen: `127.0.0.1:${BUSY}` }), '--duration-s', '30'], /127\.0\.0\.1:\d+: another process already uses it/],
    ['collector --check', () => ['collector', '--check', '-c', collectorConfig('busy-collector-check.yaml', { listen: `127.0.0.1:${BUSY}` })], /http\.listen 127\.0\.0\.1:\d+: .*another process already uses it/],
  ])('%s: DCIM_E_NET_PORT_IN_USE, exit 1', async (_name, args, mentions) => {
    const r = await spawnDcim(args(), { TMPDIR: dir });
    expectOneLine(r, 'DCIM_E_NET_PORT_IN_USE', 1, mentions);
    expect(r.stderr).toContain(String(BUSY));
  }, 40_000);

  it('--check passes with the same addresses free, and says it bound them', async () => {
    const a = await spawnDcim(['agent', '--check', '-c', agentConfig('free-agent.yaml')]);
    expect(a.code, a.stderr).toBe(0);
    expect(a.stdout).toMatch(/metrics\.listen 127\.0\.0\.1:0 is free \(bound and released\)/);
    const c = await spawnDcim(['collector', '--check', '-c', collectorConfig('free-collector.yaml')]);
    expect(c.code, c.stderr).toBe(0);
    expect(c.stdout).toMatch(/http\.listen 127\.0\.0\.1:0 is free \(bound and released\)/);
  }, 40_000);
});

describe('a file that cannot be read', () => {
  it.each<[string, () => string[]]>([
    ['demo', () => ['demo', '--seed', missing(), '--http-port', '0']],
    ['sim', () => ['sim', '--seed', missing()]],
    ['agent', () => ['agent', '-c', missing()]],
    ['agent --check', () => ['agent', '--check', '-c', missing()]],
    ['collector', () => ['collector', '-c', missing()]],
    ['collector --check', () => ['collector', '--check', '-c', missing()]],
    ['kpi', () => ['kpi', '--seed', SEED, '--readings', join(dir, 'no-such-readings.jsonl')]],
    ['report', () => ['report', '--month', '2026-12', '--config', missing()]],
  ])('%s: DCIM_E_CONFIG_UNREADABLE, exit 1', async (_name, args) => {
    const r = await spawnDcim(args());
    expectOneLine(r, 'DCIM_E_CONFIG_UNREADABLE', 1, /no-such-(file\.yaml|readings\.jsonl)/);
  }, 40_000);

  it('a folder where a file is expected, too', async () => {
    const folder = join(dir, 'a-folder.yaml');
    mkdirSync(folder, { recursive: true });
    expectOneLine(await spawnDcim(['collector', '--check', '-c', folder]), 'DCIM_E_CONFIG_UNREADABLE', 1, /a-folder\.yaml/);
  }, 40_000);

  it('poll: a secret file that cannot be read is DCIM_E_SECRET_MISSING, exit 1', async () => {
    const r = await spawnDcim(['poll', '--profile', 'redfish-gpu-server', '--host', '127.0.0.1', '--scheme', 'http', '--username', 'u', '--password-file', missing()]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^DCIM_E_SECRET_MISSING: /);
    expect(r.stderr).toContain('no-such-file.yaml');
  }, 40_000);
});

describe('a service that refuses the connection', () => {
  it.each<[string, string, number, () => string[], RegExp]>([
    ['demo --broker', 'DCIM_E_NET_REFUSED', 1, () => ['demo', '--broker', `mqtt://127.0.0.1:${CLOSED}`, '--http-port', '0'], /--broker mqtt:\/\/127\.0\.0\.1:\d+: connection refused by 127\.0\.0\.1:\d+: nothing listens there/],
    ['report --api', 'DCIM_E_NET_REFUSED', 1, () => ['report', '--month', '2026-12', '--api', `http://127.0.0.1:${CLOSED}`], /GET http:\/\/127\.0\.0\.1:\d+\/api\/sites: nothing listens there/],
    ['kpi recompute (store)', 'DCIM_E_NET_REFUSED', 1, () => ['kpi', 'recompute', '--site', 'demo', '--from', '2026-12-01', '--to', '2026-12-02', '-c', collectorConfig('refused-kpi.yaml', { store: `{ kind: influx_v1, url: "http://127.0.0.1:${CLOSED}", database: dcim }` })], /influxql http:\/\/127\.0\.0\.1:\d+ db=dcim: nothing listens there/],
    ['poll (Modbus device)', 'DCIM_E_MODBUS_CONNECT', 3, () => ['poll', '--profile', 'eastron-sdm630', '--host', '127.0.0.1', '--port', String(CLOSED), '--timeout-ms', '500', '--retries', '0'], /nothing accepts connections/],
  ])('%s: %s, exit %i', async (_name, code, exit, args, mentions) => {
    const r = await spawnDcim(args(), { DCIM_API_TOKEN: TOKEN, TMPDIR: dir });
    expect(r.code, r.stderr).toBe(exit);
    const lines = plainLines(r.stderr);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain(code);
    expect(lines[0]).toMatch(mentions);
  }, 40_000);
});

describe('a host name that does not resolve', () => {
  it.each<[string, number, () => string[], RegExp]>([
    ['demo --broker', 1, () => ['demo', '--broker', 'mqtt://broker.dcim-test.invalid:1883', '--http-port', '0'], /broker\.dcim-test\.invalid/],
    ['sim (a seed address)', 1, () => ['sim', '--seed', file('invalid-host-seed.yaml', readSeedWithHost('sim.dcim-test.invalid')), '--duration-s', '30'], /cannot listen on sim\.dcim-test\.invalid:16161\/udp: no address found/],
    ['agent --check (metrics address)', 1, () => ['agent', '--check', '-c', agentConfig('invalid-metrics.yaml', { metrics: 'metrics.dcim-test.invalid:9464' })], /metrics\.dcim-test\.invalid/],
    ['collector --check (API address)', 1, () => ['collector', '--check', '-c', collectorConfig('invalid-listen.yaml', { listen: 'api.dcim-test.invalid:8080' })], /api\.dcim-test\.invalid/],
    ['report --api', 1, () => ['report', '--month', '2026-12', '--api', 'http://api.dcim-test.invalid:8080'], /api\.dcim-test\.invalid/],
    ['kpi recompute (store)', 1, () => ['kpi', 'recompute', '--site', 'demo', '--from', '2026-12-01', '--to', '2026-12-02', '-c', collectorConfig('invalid-kpi.yaml', { store: '{ kind: influx_v1, url: "http://influx.dcim-test.invalid:8086", database: dcim }' })], /influx\.dcim-test\.invalid/],
    ['poll (SNMP device)', 3, () => ['poll', '--profile', 'apc-rpdu2', '--host', 'pdu.dcim-test.invalid', '--timeout-ms', '500', '--retries', '0'], /pdu\.dcim-test\.invalid:161: no usable answer: DCIM_E_NET_HOST_UNKNOWN/],
    ['poll (Modbus device)', 3, () => ['poll', '--profile', 'eastron-sdm630', '--host', 'meter.dcim-test.invalid', '--timeout-ms', '500', '--retries', '0'], /meter\.dcim-test\.invalid:502 unit 1: no usable answer: DCIM_E_NET_HOST_UNKNOWN/],
    ['poll (Redfish BMC)', 3, () => ['poll', '--profile', 'redfish-gpu-server', '--host', 'bmc.dcim-test.invalid', '--scheme', 'http', '--timeout-ms', '500', '--retries', '0'], /bmc\.dcim-test\.invalid:80: no usable answer: DCIM_E_NET_HOST_UNKNOWN/],
  ])('%s: DCIM_E_NET_HOST_UNKNOWN, exit %i', async (_name, exit, args, mentions) => {
    const r = await spawnDcim(args(), { DCIM_API_TOKEN: TOKEN, TMPDIR: dir });
    expect(r.code, r.stderr).toBe(exit);
    const lines = plainLines(r.stderr);
    expect(lines, r.stderr).toHaveLength(1);
    expect(lines[0]).toContain('DCIM_E_NET_HOST_UNKNOWN');
    expect(lines[0]).toMatch(mentions);
  }, 40_000);
});

/** Signal a running command; one that has not exited within `ms` is killed and reported as hung. */
async function stopWithin(p: RunningDcim, signal: NodeJS.Signals, ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const exit = await Promise.race([p.stop(signal), new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)))]);
  clearTimeout(timer);
  if (exit === 'hung') await p.stop('SIGKILL');
  return exit;
}

/** The minimal seed with its first device at `host`: the simulator binds the seed's addresses. */
function readSeedWithHost(host: string): string {
  return readFileSync(SEED, 'utf8').replace('host: 127.0.0.1', `host: ${host}`);
}

describe('services ride out a missing broker: one line with the code, then stop on SIGTERM', () => {
  it.each<[string, string, () => string]>([
    ['agent', 'DCIM_E_NET_REFUSED', () => agentConfig('svc-agent-refused.yaml')],
    ['agent', 'DCIM_E_NET_HOST_UNKNOWN', () => agentConfig('svc-agent-invalid.yaml', { broker: 'mqtt://broker.dcim-test.invalid:1883' })],
    ['collector', 'DCIM_E_NET_REFUSED', () => collectorConfig('svc-collector-refused.yaml')],
    ['collector', 'DCIM_E_NET_HOST_UNKNOWN', () => collectorConfig('svc-collector-invalid.yaml', { broker: 'mqtt://broker.dcim-test.invalid:1883' })],
  ])('%s: %s', async (command, code, config) => {
    const p = startDcim([command, '-c', config()]);
    try {
      await until(`${command} says ${code}`, () => p.stderr().includes(code), 60_000, () => p.stderr());
      // Retries go on (every 1–2 s) without repeating the line.
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const lines = p.stderr().split('\n').filter((l) => l.includes(code));
      expect(lines, p.stderr()).toHaveLength(1);
      expect(JSON.parse(lines[0]!)).toMatchObject({ level: 'error', code });
    } finally {
      expect(await stopWithin(p, 'SIGTERM', 15_000)).toEqual({ code: 0, signal: null });
    }
  }, 60_000);
});

describe('dcim demo and its scratch folder', () => {
  const scratchFolders = (tmp: string) => readdirSync(tmp).filter((f) => f.startsWith('dcim-demo-'));

  it('says where it is, and removes it at the normal end', async () => {
    const tmp = mkdtempSync(join(dir, 'tmp-end-'));
    const r = await spawnDcim(['demo', '--http-port', '0', '--duration-s', '4', '--print-every-s', '60'], { TMPDIR: tmp }, 60_000);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`scratch folder ${tmp}/dcim-demo-\\w+ \\(removed when the demo stops\\)`));
    expect(scratchFolders(tmp)).toEqual([]);
    // "written" is what the SQLite store committed.
    expect(r.stdout).toMatch(/dcim demo: stopped; [\d,]+ messages, [\d,]+ readings; [1-9][\d,]* points written to sqlite /);
  }, 70_000);

  it.each(['SIGTERM', 'SIGINT'] as const)('removes it on %s', async (signal) => {
    const tmp = mkdtempSync(join(dir, `tmp-${signal}-`));
    // Debug log: should the stop ever hang, the failure shows what it was doing.
    const p = startDcim(['demo', '--http-port', '0', '--print-every-s', '60'], { TMPDIR: tmp, DCIM_LOG_LEVEL: 'debug' });
    try {
      await until('the demo running', () => p.stdout().includes('Ctrl-C to stop.'), 90_000, () => p.stderr());
      expect(scratchFolders(tmp)).toHaveLength(1);
    } finally {
      expect(await stopWithin(p, signal, 40_000), p.stderr().split('\n').slice(-15).join('\n')).toEqual({ code: 0, signal: null });
    }
    expect(scratchFolders(tmp)).toEqual([]);
  }, 160_000);
});

describe('clusters named by the seeds', () => {
  const clusterSeeds = ['guian-ai', 'guian-north', 'guian-south'].map((s) => join(ROOT, 'seeds', 'cluster', `${s}.yaml`));

  it("a collector over seeds/cluster/*.yaml rolls up their site.cluster, with no clusters file", async () => {
    const c = file('cluster-collector.yaml', `collector: { id: t, sites: [${clusterSeeds.join(', ')}] }\nmqtt: { url: "mqtt://127.0.0.1:${CLOSED}" }\nstore: { kind: sqlite, path: ${join(dir, 'cluster.sqlite')}, retention_days: 1 }\n`);
    const r = await spawnDcim(['collector', '--check', '-c', c]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('3 site(s)');
    expect(r.stdout).toContain('cluster guian (guian-ai, guian-north, guian-south)');
  }, 40_000);

  it('a clusters file that leaves out a site naming its cluster is a contradiction, not a guess', async () => {
    const clusters = file('clusters.yaml', 'clusters:\n  - { id: guian, name: "Gui\'an", sites: [guian-ai, guian-north] }\n');
    const c = file('cluster-contradiction.yaml', `collector: { id: t, sites: [${clusterSeeds.join(', ')}], clusters: ${clusters} }\nmqtt: { url: "mqtt://127.0.0.1:${CLOSED}" }\nstore: { kind: sqlite, path: ${join(dir, 'cluster2.sqlite')}, retention_days: 1 }\n`);
    const r = await spawnDcim(['collector', '--check', '-c', c]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^DCIM_E_CONFIG_INVALID: .*site guian-south names cluster guian, whose sites in the clusters file \(guian-ai, guian-north\) leave it out/);
  }, 40_000);
});
