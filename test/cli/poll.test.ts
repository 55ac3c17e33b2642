import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadYamlFile, memoryLogger, SiteInventorySchema, type Device } from '../../contract/index.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';

/**
 * `dcim poll` as an engineer runs it, in a child process, against the demo site served by the
 * simulator on free loopback ports: an SNMP v2c APC PDU, a Modbus meter, dead ports, and
 * --detect on the PDU.
 */
const ROOT = join(import.meta.dirname, '..', '..');
const run = promisify(execFile);

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
  json: Record<string, unknown>;
}

async function dcim(args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  let out: { code: number; stdout: string; stderr: string };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', join(ROOT, 'cli', 'dcim.ts'), 'poll', ...args], { cwd: ROOT, timeout: 30_000, env: { PATH: process.env.PATH, ...env } });
    out = { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    out = { code: typeof err.code === 'number' ? err.code : -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
  let json: Record<string, unknown> = {};
  try {
    json = JSON.parse(out.stdout) as Record<string, unknown>;
  } catch {
    // no JSON on stdout (a config error): the assertions say what they expect
  }
  return { ...out, json };
}

type R = { point: string; value: unknown; unit?: string; quality: string; index?: Record<string, string>; error?: string; display: string };
const readings = (r: Ran) => (r.json.readings ?? []) as R[];
const reading = (r: Ran, point: string) => readings(r).find((x) => x.point === point && x.index === undefined);

let sim: SimSite;
const device = (id: string) => sim.inventory().devices.find((d) => d.id === id) as Device;

beforeAll(async () => {
  const seed = loadYamlFile(SiteInventorySchema, join(ROOT, 'seeds', 'demo.yaml'));
  sim = await startSimSite({ inventory: seed, bind: 'ephemeral', logger: memoryLogger('error') });
}, 30_000);
afterAll(async () => {
  await sim?.stop();
});

async function freeUdpPort(): Promise<number> {
  const s = createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('dcim poll against the simulated demo site', () => {
  it('reads an SNMP v2c APC PDU: engineering values with units, exit 0', async () => {
    const a = device('pdu-r01-b').address;
    if (a.protocol !== 'snmp') throw new Error('seed changed');
    const r = await dcim(['--profile', 'apc-rpdu2', '--host', a.host, '--port', String(a.port), '--community', 'pdu-r01-b']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ answered: true, status: { state: 'up' }, device: { profile: 'apc-rpdu2', class: 'pdu', address: `snmp v2c 127.0.0.1:${a.port}` } });
    const power = reading(r, 'active_power_w');
    expect(power).toMatchObject({ unit: 'W', quality: 'good' });
    expect(power?.value as number).toBeGreaterThan(0);
    expect(power?.display).toBe(`${String(power?.value)} W`);
    expect(reading(r, 'energy_kwh')).toMatchObject({ unit: 'kWh', quality: 'good' });
    expect(readings(r).some((x) => x.index?.phase === '1' || x.index?.outlet === '1')).toBe(true);
    expect((r.json.poll as { requests: number }).requests).toBeGreaterThanOrEqual(1);
  });

  it('reads a Modbus meter by unit id', async () => {
    const a = device('meter-incomer-1').address;
    if (a.protocol !== 'modbus') throw new Error('seed changed');
    const r = await dcim(['--profile', 'eastron-sdm630', '--host', a.host, '--port', String(a.port), '--unit-id', String(a.unit_id)]);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ answered: true, status: { state: 'up' }, summary: { bad: 0 } });
    expect(reading(r, 'active_power_w')?.value as number).toBeGreaterThan(0);
    expect(reading(r, 'energy_kwh')).toMatchObject({ unit: 'kWh', quality: 'good' });
  });

  it('--detect reads the APC PDU sysObjectID and suggests apc-rpdu2', async () => {
    const a = device('pdu-r01-a').address;
    if (a.protocol !== 'snmp') throw new Error('seed changed');
    const r = await dcim(['--detect', '--host', a.host, '--port', String(a.port), '--community', 'public']);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      answered: true,
      system: { sys_object_id: '1.3.6.1.4.1.318.1.3.4.6' },
      suggestion: { profile: 'apc-rpdu2', how: 'match', matched_prefix: '1.3.6.1.4.1.318.1.3.4.6' },
      next: `dcim poll --profile apc-rpdu2 --host 127.0.0.1 --port ${a.port} --community public`,
    });
  });

  it('a dead SNMP port: exit 3, every reading bad with its code, a clear message', async () => {
    const port = await freeUdpPort();
    const r = await dcim(['--profile', 'apc-rpdu2', '--host', '127.0.0.1', '--port', String(port), '--timeout-ms', '200', '--retries', '0']);
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ answered: false, status: { state: 'down', code: 'DCIM_E_SNMP_TIMEOUT' }, poll: { timeouts: 1 } });
    expect(readings(r).every((x) => x.quality === 'bad' && x.error === 'DCIM_E_SNMP_TIMEOUT')).toBe(true);
    expect(r.stderr).toContain(`dcim poll: snmp v2c 127.0.0.1:${port} did not answer: DCIM_E_SNMP_TIMEOUT`);
    expect(r.stderr).toContain('Hint: check host and port, then the community');
  });

  it('a dead Modbus port: exit 3, connection refused', async () => {
    const port = await freeTcpPort();
    const r = await dcim(['--profile', 'eastron-sdm630', '--host', '127.0.0.1', '--port', String(port)]);
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ answered: false, status: { state: 'down', code: 'DCIM_E_MODBUS_CONNECT' } });
    expect(r.stderr).toContain(`modbus tcp 127.0.0.1:${port} unit 1 did not answer: DCIM_E_MODBUS_CONNECT`);
  });

  it('--detect on a dead port: exit 3', async () => {
    const r = await dcim(['--detect', '--host', '127.0.0.1', '--port', String(await freeUdpPort()), '--timeout-ms', '200', '--retries', '0']);
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ answered: false, problem: expect.stringMatching(/did not answer/) });
  });

  it('bad flags: exit 1 with every problem and nothing polled', async () => {
    const r = await dcim(['--profile', 'eastron-sdm630', '--host', '127.0.0.1', '--community', 'x', '--port', 'abc']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('DCIM_E_CONFIG_INVALID: dcim poll: 2 problem(s)');
    expect(r.stderr).toContain('--community is an SNMP option; profile eastron-sdm630 speaks modbus');
    expect(r.stderr).toContain('--port: expected an integer, got "abc"');
  });
});
