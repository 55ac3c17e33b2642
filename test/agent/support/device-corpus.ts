import { existsSync, readdirSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { SystemClock, type ModbusProfile, type Reading } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { ModbusReader } from '../../../agent/modbus/modbus-reader.js';
import { createModbusSerialTransport } from '../../../agent/modbus/modbus-serial-transport.js';
import { inProcessDcim, type Ran } from '../../cli/support/run-dcim.js';
import { CORPUS_DIR, type ModbusFixture } from '../modbus/device-corpus.js';
import { startSnmpsim, useService } from './services.js';

/**
 * The harness every device-corpus test shares (test/fixtures/devices/): each fixture is a device
 * recording plus expected.yaml, the values a person worked out from the device's documents. A poll
 * must read exactly those points, each to the hand figure, and a value the document marks "not
 * available" (null) must never come out `good`.
 */
export { CORPUS_DIR };

/** The fixture folders whose name starts with `prefix`, sorted. */
export function corpusFolders(prefix: string): string[] {
  return readdirSync(CORPUS_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory() && d.name.startsWith(prefix))
    .map((d) => d.name)
    .sort();
}

export function readExpected<T>(fixture: string): T {
  return parse(readFileSync(join(CORPUS_DIR, fixture, 'expected.yaml'), 'utf8')) as T;
}

export function readRecording(fixture: string): string {
  return readFileSync(join(CORPUS_DIR, fixture, 'device.snmprec'), 'utf8');
}

/**
 * A small .snmprec recording a test writes for its own case: the system group (sysDescr,
 * sysObjectID, sysUpTime 100, sysName) and then `rows`, each `oid|type|value`.
 */
export function snmprec(system: { descr: string; objectId: string; name: string }, ...rows: string[]): string {
  return [`1.3.6.1.2.1.1.1.0|4|${system.descr}`, `1.3.6.1.2.1.1.2.0|6|${system.objectId}`, '1.3.6.1.2.1.1.3.0|67|100', `1.3.6.1.2.1.1.5.0|4|${system.name}`, ...rows, ''].join('\n');
}

/** One hand-worked value of expected.yaml; `work` is how the figure was reached, shown on failure. */
export interface ExpectedReading {
  point: string;
  index?: Record<string, string>;
  value: string | number | null;
  work: string;
}

/** expected.yaml of an SNMP fixture: what detection must say, and what a poll must read. */
export interface SnmpExpected {
  sys_object_id: string;
  detect: { profile: string; how: string; reason_includes: string[] };
  poll_profile: string;
  readings: ExpectedReading[];
}

export interface PolledReading {
  point: string;
  index?: Record<string, string>;
  value: unknown;
  quality: string;
  error?: string;
}

const key = (r: { point: string; index?: Record<string, string> | undefined }) => (r.index ? `${r.point}[${Object.entries(r.index).map(([k, v]) => `${k}=${v}`).join(',')}]` : r.point);

/**
 * A poll's readings against expected.yaml: the same points and indexes, nothing more and nothing
 * less; each number to nine decimals, each text as written; each null not good and without a value.
 */
export function expectReadingsAsExpected(readings: readonly PolledReading[], expected: readonly ExpectedReading[]): void {
  const got = new Map(readings.map((x) => [key(x), x]));
  const want = new Map(expected.map((x) => [key(x), x]));
  expect([...got.keys()].sort()).toEqual([...want.keys()].sort());
  for (const [k, w] of want) {
    const g = got.get(k) as PolledReading;
    if (w.value === null) {
      expect(g.quality, `${k}: ${w.work}`).not.toBe('good');
      expect(g.value, `${k}: ${w.work}`).toBeNull();
    } else {
      expect(g.quality, `${k}: ${w.work} (${g.error ?? ''})`).toBe('good');
      if (typeof w.value === 'number') expect(g.value as number, `${k}: ${w.work}`).toBeCloseTo(w.value, 9);
      else expect(g.value, `${k}: ${w.work}`).toBe(w.value);
    }
  }
}

/** What `dcim poll --detect` prints over SNMP, as far as the corpus tests look at it. */
export interface SnmpDetectReport {
  system: { sys_object_id: string };
  suggestion: { profile: string; how: string; reason: string; rejected: string[]; ranking: { profile: string; reason: string }[] };
  probes: { oid: string; answer?: { oid: string; value: string } }[];
  next: string;
}

export interface SnmpCorpus {
  /** `dcim poll --detect` on one community (a fixture or an extra recording), `flags` as given; exit 0 expected. */
  detect(community: string, flags: readonly string[]): Promise<SnmpDetectReport>;
  /** `dcim poll --profile` on one community; exit 0 expected. */
  poll(community: string, profile: string, flags: readonly string[]): Promise<PolledReading[]>;
}

/**
 * snmpsimd serving the fixtures' recordings (community = folder name) and any extra recordings a
 * test writes for its own case. Call inside a describe: the server lives for that block.
 */
export function useSnmpCorpus(fixtures: readonly string[], extra: Record<string, string> = {}): SnmpCorpus {
  const recordings = { ...Object.fromEntries(fixtures.map((f) => [f, readRecording(f)])), ...extra };
  const sim = useService('snmpsimd', () => startSnmpsim(recordings));
  const at = (community: string) => ['--host', '127.0.0.1', '--port', String(sim().port), '--community', community];
  return {
    async detect(community, flags) {
      const r = await inProcessDcim(['poll', '--detect', ...at(community), ...flags]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout) as SnmpDetectReport;
    },
    async poll(community, profile, flags) {
      const r = await inProcessDcim(['poll', '--profile', profile, ...at(community), ...flags]);
      expect(r.code, r.stderr).toBe(0);
      return (JSON.parse(r.stdout) as { readings: PolledReading[] }).readings;
    },
  };
}

/**
 * For each SNMP fixture: `dcim poll --detect` names the profile of expected.yaml with its reason
 * (and ranks it first, and suggests it), and `dcim poll` reads every hand-worked value.
 */
export function describeSnmpFixtures(fixtures: readonly string[], corpus: SnmpCorpus): void {
  const flags = ['--timeout-ms', '1000', '--retries', '1'];
  describe.each(fixtures)('%s', (fixture) => {
    const exp = readExpected<SnmpExpected>(fixture);

    it('dcim poll --detect names the profile and says why', async () => {
      const json = await corpus.detect(fixture, flags);
      expect(json.system.sys_object_id).toBe(exp.sys_object_id);
      expect(json.suggestion).toMatchObject({ profile: exp.detect.profile, how: exp.detect.how });
      for (const text of exp.detect.reason_includes) expect(json.suggestion.reason).toContain(text);
      expect(json.suggestion.ranking[0]?.profile).toBe(exp.detect.profile);
      expect(json.next).toContain(`--profile ${exp.detect.profile}`);
    });

    it('dcim poll reads every value to the hand-worked figure', async () => {
      expectReadingsAsExpected(await corpus.poll(fixture, exp.poll_profile, flags), exp.readings);
    });
  });
}

/**
 * The readings of one Modbus poll against a fixture's hand-worked values: the same points, each
 * number good and without error to the hand figure (relative 1e-9: float32 and decimal scales),
 * each text as written, and each value the device marks "not available" (null) not good, without a
 * value, with DCIM_E_VALUE_UNAVAILABLE.
 */
export function expectHandValues(readings: readonly Pick<Reading, 'point' | 'index' | 'value' | 'quality' | 'error'>[], fx: ModbusFixture): void {
  // A table row is keyed `point[tag=n]` (a SunSpec model 160 module: `dc_module_power_w[module=1]`).
  const named = readings.map((r) => ({ ...r, point: key({ point: r.point, index: r.index as Record<string, string> | undefined }) }));
  expect(named.map((r) => r.point).sort()).toEqual(Object.keys(fx.readings).sort());
  for (const r of named) {
    const want = fx.readings[r.point];
    if (want === null) expect([r.point, r.quality === 'good', r.value ?? null, r.error]).toEqual([r.point, false, null, 'DCIM_E_VALUE_UNAVAILABLE']);
    else if (typeof want === 'number') {
      expect([r.point, r.quality, r.error]).toEqual([r.point, 'good', undefined]);
      expect(Math.abs((r.value as number) - want), `${r.point}: ${String(r.value)} vs ${want}`).toBeLessThanOrEqual(Math.abs(want) * 1e-9);
    } else expect([r.point, r.quality, r.value]).toEqual([r.point, 'good', want]);
  }
}

export interface ModbusFixtureCase {
  /** The title of the `dcim poll` + `dcim poll --detect` case. */
  title(fx: ModbusFixture): string;
  /** What `dcim poll --detect` must say about this fixture. */
  expectDetected(fx: ModbusFixture, detected: Ran): void;
}

/**
 * What `dcim poll --detect` must say of a fixture with `detect:` in its expected.yaml: its profile
 * (exit 0) where the device can be recognised, and no profile at all where nothing identifies it
 * (detection must not guess another device's profile).
 */
export function expectDetectedAsFixture(fx: ModbusFixture, detected: Ran): void {
  const suggested = detected.code === 0 ? (JSON.parse(detected.stdout) as { suggestion?: { profile: string } }).suggestion?.profile : undefined;
  if (fx.detect) expect(detected.code, detected.stderr).toBe(0);
  expect(suggested).toBe(fx.detect ? fx.profile : undefined);
}

/**
 * For each Modbus fixture, against the pymodbus corpus server: the agent's reader reads the
 * hand-worked values, `dcim poll` prints them (exit 0, nothing on stderr), and `dcim poll --detect`
 * says what `own` expects of it.
 */
export function describeModbusFixtures(fixtures: readonly ModbusFixture[], server: () => { port: number }, own: ModbusFixtureCase): void {
  const profiles = loadProfiles();
  describe.each(fixtures.map((f) => [f.name, f] as const))('%s', (_name, fx) => {
    it('the agent reads the hand-worked values', async () => {
      const transport = createModbusSerialTransport({ host: '127.0.0.1', port: server().port, framing: 'tcp', timeoutMs: 1000 });
      const reader = new ModbusReader({ profile: profiles.get(fx.profile) as ModbusProfile, transport, unitId: fx.unit_id, policy: { timeoutMs: 1000, retries: 0 }, clock: new SystemClock() });
      try {
        expectHandValues((await reader.read()).readings, fx);
      } finally {
        await reader.close();
      }
    });

    it(own.title(fx), async () => {
      const at = ['--host', '127.0.0.1', '--port', String(server().port), '--unit-id', String(fx.unit_id)];
      const polled = await inProcessDcim(['poll', '--profile', fx.profile, ...at]);
      expect([polled.code, polled.stderr]).toEqual([0, '']);
      expectHandValues((JSON.parse(polled.stdout) as { readings: Reading[] }).readings, fx);
      own.expectDetected(fx, await inProcessDcim(['poll', '--detect', ...at]));
    });
  });
}

/** expected.yaml of a Redfish fixture: the profile a poll uses and what it must read. */
export interface RedfishExpected {
  profile: string;
  readings: ExpectedReading[];
}

/** The Redfish fixtures: folders holding a DMTF mockup tree (redfish/v1/index.json). */
export function redfishFixtures(): string[] {
  return readdirSync(CORPUS_DIR).filter((d) => existsSync(join(CORPUS_DIR, d, 'redfish', 'v1', 'index.json'))).sort();
}

export interface RedfishMockup {
  port: number;
  /** User name and password the mockup's BMC accepts (HTTP Basic, DSP0266 §13.2). */
  username: string;
  password: string;
  /** Every path asked for, in order, as the client sent it. */
  requests: string[];
  /** Paths answered with something else than the file (tests that make the BMC lie). */
  override: Map<string, { status: number; body: string }>;
}

/**
 * One fixture's Redfish tree served from 127.0.0.1 the way the DMTF Redfish-Mockup-Server serves a
 * mockup: GET `<path>` answers `<fixture>/<path>/index.json` (a trailing slash or none), with
 * `OData-Version: 4.0`; a path the tree lacks is 404 with a Redfish error body; a request without
 * the right Basic credentials is 401, as a BMC answers. Call inside a describe.
 */
export function useRedfishMockup(fixture: string): () => RedfishMockup {
  let server: http.Server | undefined;
  const state: RedfishMockup = { port: 0, username: 'monitor', password: 'corpus-not-secret', requests: [], override: new Map() };
  const auth = `Basic ${Buffer.from(`${state.username}:${state.password}`).toString('base64')}`;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const url = req.url ?? '';
      state.requests.push(url);
      const headers = { 'Content-Type': 'application/json; charset=utf-8', 'OData-Version': '4.0' };
      if (req.headers.authorization !== auth) {
        res.writeHead(401, { ...headers, 'WWW-Authenticate': 'Basic realm="Redfish"' }).end(JSON.stringify({ error: { code: 'Base.1.15.0.NoValidSession', message: 'no valid session' } }));
        return;
      }
      const path = url.replace(/\/+$/, '');
      const over = state.override.get(path);
      if (over) {
        res.writeHead(over.status, headers).end(over.body);
        return;
      }
      const file = join(CORPUS_DIR, fixture, ...path.split('/').filter((s) => s !== ''), 'index.json');
      if (req.method !== 'GET' || !/^\/redfish\/v1(\/[A-Za-z0-9_.-]+)*$/.test(path) || !existsSync(file)) {
        res.writeHead(404, headers).end(JSON.stringify({ error: { code: 'Base.1.15.0.ResourceMissingAtURI', message: `${path.slice(0, 200)} not found` } }));
        return;
      }
      res.writeHead(200, headers).end(readFileSync(file));
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    state.port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  });
  return () => state;
}

/** `dcim poll` against a Redfish mockup, with the mockup's credentials; the report as printed. */
export async function pollRedfishMockup(m: RedfishMockup, profile: string): Promise<Ran & { readings: PolledReading[] }> {
  const env = { DCIM_CORPUS_BMC_PASSWORD: m.password };
  const r = await inProcessDcim(['poll', '--profile', profile, '--host', '127.0.0.1', '--port', String(m.port), '--scheme', 'http', '--username', m.username, '--password-env', 'DCIM_CORPUS_BMC_PASSWORD', '--timeout-ms', '2000', '--retries', '0'], env);
  const readings = r.code === 0 ? (JSON.parse(r.stdout) as { readings: PolledReading[] }).readings : [];
  return { ...r, readings };
}
