import { createSocket } from 'node:dgram';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SiteInventorySchema, type Device } from '../../../contract/index.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import { startSimSite, type SimSite } from '../../../simulators/index.js';
import { inProcessDcim, ROOT, spawnDcim, type Ran } from '../support/run-dcim.js';

/**
 * `dcim poll` as an engineer runs it against the demo site served by the simulator on free
 * loopback ports: an SNMP v2c APC PDU, a Modbus meter, an SNMPv3 UPS, a Redfish GPU server,
 * dead ports, and --detect on the PDU. Two cases run the real CLI in a child process (exit codes, stdout and stderr apart,
 * the process ends by itself); the others call the command in-process, which is the same code
 * without a second's start-up per case.
 */

type Polled = Ran & { json: Record<string, unknown> };

function withJson(r: Ran): Polled {
  try {
    return { ...r, json: JSON.parse(r.stdout) as Record<string, unknown> };
  } catch {
    return { ...r, json: {} }; // no JSON on stdout (a config error): the assertions say what they expect
  }
}
const dcim = async (args: string[], env: NodeJS.ProcessEnv = {}) => withJson(await spawnDcim(['poll', ...args], env));
const inProcess = async (args: string[], env: NodeJS.ProcessEnv = {}) => withJson(await inProcessDcim(['poll', ...args], env));

type R = { point: string; value: unknown; unit?: string; quality: string; index?: Record<string, string>; error?: string; display: string };
const readings = (r: Polled) => (r.json.readings ?? []) as R[];
const reading = (r: Polled, point: string) => readings(r).find((x) => x.point === point && x.index === undefined);

let sim: SimSite;
/** A v3-only UPS whose keys the test knows (the simulator resolves them like the agent). */
let v3: SimSite;
const V3 = { auth: 'ups-auth-key-5521', priv: 'ups-priv-key-7713' };
let dir: string;
const device = (id: string) => sim.inventory().devices.find((d) => d.id === id) as Device;

beforeAll(async () => {
  const seed = loadYamlFile(SiteInventorySchema, join(ROOT, 'seeds', 'demo.yaml'));
  sim = await startSimSite({ inventory: seed, bind: 'ephemeral', logger: memoryLogger('error') });
  dir = mkdtempSync(join(tmpdir(), 'dcim-poll-'));
  v3 = await startSimSite({
    inventory: SiteInventorySchema.parse({
      site: { id: 'v3', name: 'v3' },
      halls: [{ id: 'h1' }],
      devices: [{ id: 'ups-1', profile: 'rfc1628-ups', hall: 'h1', address: { protocol: 'snmp', host: '127.0.0.1', port: 16161, version: '3', user: 'dcim', auth_protocol: 'sha256', auth_key: V3.auth, priv_protocol: 'aes', priv_key: V3.priv, context: 'ups-1' }, meter: { role: 'it', level: 'ups_out' }, sim: { capacity_kw: 40 } }],
    }),
    bind: 'ephemeral',
    logger: memoryLogger('error'),
  });
}, 30_000);
afterAll(async () => {
  await sim?.stop();
  await v3?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
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
    const r = await inProcess(['--profile', 'eastron-sdm630', '--host', a.host, '--port', String(a.port), '--unit-id', String(a.unit_id)]);
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ answered: true, status: { state: 'up' }, summary: { bad: 0 } });
    expect(reading(r, 'active_power_w')?.value as number).toBeGreaterThan(0);
    expect(reading(r, 'energy_kwh')).toMatchObject({ unit: 'kWh', quality: 'good' });
  });

  it('reads an SNMPv3 authPriv UPS with the auth key from the environment and the privacy key from a file; a wrong key is no answer', async () => {
    const a = v3.inventory().devices[0]!.address;
    if (a.protocol !== 'snmp') throw new Error('seed changed');
    const privFile = join(dir, 'priv.key');
    writeFileSync(privFile, `${V3.priv}\n`, { mode: 0o600 }); // secret files must be owner-only
    const args = ['--profile', 'rfc1628-ups', '--host', a.host, '--port', String(a.port), '--v3-user', 'dcim', '--auth-protocol', 'sha256', '--auth-key-env', 'UPS_AUTH', '--priv-protocol', 'aes', '--priv-key-file', privFile, '--context', 'ups-1', '--timeout-ms', '500', '--retries', '0'];
    const ok = await inProcess(args, { UPS_AUTH: V3.auth });
    const wrong = await inProcess(args, { UPS_AUTH: 'not-the-key-0000' });
    expect(ok.code).toBe(0);
    expect(ok.json).toMatchObject({ answered: true, device: { class: 'ups', address: `snmp v3 127.0.0.1:${a.port} user dcim auth sha256 priv aes context ups-1` } });
    expect(wrong.code).toBe(3);
    for (const r of [ok, wrong]) for (const secret of [V3.auth, V3.priv, 'not-the-key-0000']) expect(r.stdout + r.stderr).not.toContain(secret);
  });

  it('reads a Redfish GPU server with the password from the environment', async () => {
    const a = device('gpu-r11-1').address;
    if (a.protocol !== 'redfish') throw new Error('seed changed');
    const r = await inProcess(['--profile', 'redfish-gpu-server', '--host', a.host, '--port', String(a.port), '--scheme', 'http', '--username', 'admin', '--password-env', 'BMC_PASSWORD'], { BMC_PASSWORD: 'sim' });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ answered: true, device: { class: 'gpu', protocol: 'redfish' } });
    expect(readings(r).filter((x) => x.index?.gpu !== undefined && x.quality === 'good').length).toBeGreaterThan(0);
    expect(r.stdout).not.toContain('"sim"');
  });

  it('a Redfish BMC refusing the password: exit 3, the reason and a hint', async () => {
    const a = device('gpu-r11-2').address;
    if (a.protocol !== 'redfish') throw new Error('seed changed');
    const r = await inProcess(['--profile', 'redfish-gpu-server', '--host', a.host, '--port', String(a.port), '--scheme', 'http', '--username', 'admin', '--password-env', 'BMC_PASSWORD'], { BMC_PASSWORD: 'wrong-pw-3141' });
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ answered: false, status: { state: 'down', code: 'DCIM_E_REDFISH_AUTH' } });
    expect(r.stderr).toContain(': no usable answer: DCIM_E_REDFISH_AUTH');
    expect(r.stderr).toContain('Hint: the BMC refused --username and the password');
    expect(r.stdout + r.stderr).not.toContain('wrong-pw-3141');
  });

  it('--detect reads the APC PDU sysObjectID and suggests apc-rpdu2', async () => {
    const a = device('pdu-r01-a').address;
    if (a.protocol !== 'snmp') throw new Error('seed changed');
    const r = await inProcess(['--detect', '--host', a.host, '--port', String(a.port), '--community', 'public']);
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
    expect(r.stderr).toContain(`dcim poll: snmp v2c 127.0.0.1:${port}: no usable answer: DCIM_E_SNMP_TIMEOUT`);
    expect(r.stderr).toContain('Hint: check host and port, then the community');
  });

  it('a dead Modbus port: exit 3, connection refused', async () => {
    const port = await freeTcpPort();
    const r = await inProcess(['--profile', 'eastron-sdm630', '--host', '127.0.0.1', '--port', String(port)]);
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ answered: false, status: { state: 'down', code: 'DCIM_E_MODBUS_CONNECT' } });
    expect(r.stderr).toContain(`modbus tcp 127.0.0.1:${port} unit 1: no usable answer: DCIM_E_MODBUS_CONNECT`);
  });

  it('--detect on a dead port: exit 3', async () => {
    const r = await inProcess(['--detect', '--host', '127.0.0.1', '--port', String(await freeUdpPort()), '--timeout-ms', '200', '--retries', '0']);
    expect(r.code).toBe(3);
    expect(r.json).toMatchObject({ answered: false, problem: expect.stringMatching(/did not answer/) });
  });

  it('bad flags: exit 1 with every problem and nothing polled', async () => {
    const r = await inProcess(['--profile', 'eastron-sdm630', '--host', '127.0.0.1', '--community', 'x', '--port', 'abc']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('DCIM_E_CONFIG_INVALID: dcim poll: 2 problem(s)');
    expect(r.stderr).toContain('--community is an SNMP option; profile eastron-sdm630 speaks modbus');
    expect(r.stderr).toContain('--port: expected an integer, got "abc"');
  });
});
