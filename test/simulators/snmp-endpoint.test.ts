import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadYamlFile, memoryLogger, SiteInventorySchema } from '../../contract/index.js';
import type { SnmpServedValue } from '../../simulators/encode/snmp-values.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { SnmpEndpoint } from '../../simulators/servers/snmp-endpoint.js';
import { missingTools, parseSnmpOutput, run, snmpInt } from './external-tools.js';

/** Read from outside with net-snmp's command-line tools, as an operator would. */
const missing = missingTools(['snmpget', 'snmpwalk', 'snmpbulkwalk', 'snmpset']);
const suite = missing.length > 0 ? describe.skip : describe;
const skipNote = missing.length > 0 ? ` (skipped: ${missing.join(', ')} not on PATH)` : '';

const APC = '1.3.6.1.4.1.318.1.1.26';
const POWER = `${APC}.4.3.1.5.1`;
const ENERGY = `${APC}.4.3.1.9.1`;
const snmpArgs = (community: string, port: number) => ['-v2c', '-c', community, '-On', '-Oe', '-t', '2', '-r', '1', `127.0.0.1:${port}`];

suite(`APC rPDU2 from seeds/demo.yaml over SNMP v2c${skipNote}`, () => {
  let site: SimSite;
  let port: number;

  beforeAll(async () => {
    const inventory = loadYamlFile(SiteInventorySchema, new URL('../../seeds/demo.yaml', import.meta.url).pathname);
    site = await startSimSite({ inventory, bind: 'ephemeral', rngSeed: 11, logger: memoryLogger() });
    port = site.endpoints().find((e) => e.device === 'pdu-r01-a')!.port;
  });
  afterAll(async () => site?.stop());

  it('snmpget reads power and energy as the scaled integers of the truth', async () => {
    const before = Date.now();
    const r = await run('snmpget', [...snmpArgs('public', port), POWER, ENERGY, `${APC}.4.3.1.17.1`, `${APC}.4.3.1.4.1`]);
    const after = Date.now();
    expect(r.stderr).toBe('');
    const got = parseSnmpOutput(r.stdout);
    const truths = [site.truth(before), site.truth(after)].map((t) => t.devices['pdu-r01-a']!);
    const power = snmpInt(got.get(POWER));
    const energy = snmpInt(got.get(ENERGY));
    // rPDU2DeviceStatusPower is hundredths of kW, Energy tenths of kWh (PowerNet-MIB).
    expect(power).toBeGreaterThanOrEqual(Math.min(...truths.map((t) => Math.round(t.power_w / 10))));
    expect(power).toBeLessThanOrEqual(Math.max(...truths.map((t) => Math.round(t.power_w / 10))));
    expect(energy).toBeGreaterThanOrEqual(Math.round(truths[0]!.energy_kwh * 10));
    expect(energy).toBeLessThanOrEqual(Math.round(truths[1]!.energy_kwh * 10));
    expect(snmpInt(got.get(`${APC}.4.3.1.17.1`))).toBeGreaterThanOrEqual(93); // hundredths
    expect(got.get(`${APC}.4.3.1.4.1`)).toBe('INTEGER: 2'); // normal
  });

  it('snmpwalk lists the device row and three phase rows in OID order, phases adding up', async () => {
    const r = await run('snmpwalk', [...snmpArgs('public', port), APC]);
    const got = parseSnmpOutput(r.stdout);
    const tail = (oid: string) => oid.slice(APC.length + 1);
    expect([...got.keys()].map(tail)).toEqual([
      '4.3.1.4.1', '4.3.1.5.1', '4.3.1.9.1', '4.3.1.16.1', '4.3.1.17.1',
      '6.3.1.5.1', '6.3.1.5.2', '6.3.1.5.3', '6.3.1.6.1', '6.3.1.6.2', '6.3.1.6.3', '6.3.1.7.1', '6.3.1.7.2', '6.3.1.7.3',
    ]);
    for (const v of got.values()) expect(v).toMatch(/^INTEGER: \d+$/);
    const phaseSum = [1, 2, 3].reduce((a, i) => a + snmpInt(got.get(`${APC}.6.3.1.7.${i}`)), 0);
    expect(Math.abs(phaseSum - snmpInt(got.get(POWER)))).toBeLessThanOrEqual(3);
    for (const i of [1, 2, 3]) expect(snmpInt(got.get(`${APC}.6.3.1.6.${i}`))).toBeGreaterThanOrEqual(220);
  });

  it('answers the MIB-II system group, with the profile\'s sysObjectID', async () => {
    const got = parseSnmpOutput((await run('snmpget', [...snmpArgs('public', port), '1.3.6.1.2.1.1.2.0', '1.3.6.1.2.1.1.5.0', '1.3.6.1.2.1.1.3.0'])).stdout);
    expect(got.get('1.3.6.1.2.1.1.2.0')).toBe('OID: .1.3.6.1.4.1.318.1.3.4.6');
    expect(got.get('1.3.6.1.2.1.1.5.0')).toBe('STRING: "pdu-r01-a"');
    expect(got.get('1.3.6.1.2.1.1.3.0')).toMatch(/^Timeticks: \(\d+\)/);
  });

  it('answers noSuchObject for an OID outside the profile', async () => {
    const r = await run('snmpget', [...snmpArgs('public', port), `${APC}.4.3.1.6.1`, '1.3.6.1.2.1.2.1.0']);
    const got = parseSnmpOutput(r.stdout);
    expect(got.get(`${APC}.4.3.1.6.1`)).toMatch(/No Such Object/);
    expect(got.get('1.3.6.1.2.1.2.1.0')).toMatch(/No Such Object/);
  });

  it('stays silent to a wrong community, like the device', async () => {
    const r = await run('snmpget', ['-v2c', '-c', 'private', '-t', '0.5', '-r', '0', `127.0.0.1:${port}`, POWER]);
    expect(r.code).not.toBe(0);
    expect(r.stdout + r.stderr).toMatch(/Timeout/);
  });
});

suite(`SnmpEndpoint: devices by community on one port${skipNote}`, () => {
  const BASE = '1.3.6.1.4.1.99999.1';
  let version = 1;
  let alphaValue = 5;
  const alpha = (): SnmpServedValue[] => [
    { oid: `${BASE}.1.0`, type: 'integer', value: alphaValue },
    { oid: `${BASE}.2.0`, type: 'counter64', value: 12_345_678_901_234n },
    { oid: `${BASE}.3.0`, type: 'gauge32', value: 4_000_000_000 },
    { oid: `${BASE}.4.0`, type: 'octet_string', value: 'rack PDU' },
    { oid: `${BASE}.5.7.1`, type: 'counter32', value: 42 },
  ];
  const logger = memoryLogger();
  const endpoint = new SnmpEndpoint({
    host: '127.0.0.1',
    port: 0,
    logger,
    devices: [
      { device: 'alpha', community: 'alpha', objects: [`${BASE}.1`, `${BASE}.9`], snapshot: () => ({ version, values: alpha() }) },
      { device: 'beta', community: 'beta', objects: [`${BASE}.1`], snapshot: () => ({ version: 1, values: [{ oid: `${BASE}.1.0`, type: 'integer', value: 6 }] }) },
    ],
  });
  let port: number;

  beforeAll(async () => {
    port = await endpoint.start();
  });
  afterAll(async () => endpoint.stop());

  it('selects the device by community', async () => {
    const a = parseSnmpOutput((await run('snmpget', [...snmpArgs('alpha', port), `${BASE}.1.0`])).stdout);
    const b = parseSnmpOutput((await run('snmpget', [...snmpArgs('beta', port), `${BASE}.1.0`])).stdout);
    expect(a.get(`${BASE}.1.0`)).toBe('INTEGER: 5');
    expect(b.get(`${BASE}.1.0`)).toBe('INTEGER: 6');
  });

  it('serves every SMIv2 type the profiles use', async () => {
    const got = parseSnmpOutput((await run('snmpget', [...snmpArgs('alpha', port), `${BASE}.2.0`, `${BASE}.3.0`, `${BASE}.4.0`, `${BASE}.5.7.1`])).stdout);
    expect([...got.values()]).toEqual(['Counter64: 12345678901234', 'Gauge32: 4000000000', 'STRING: "rack PDU"', 'Counter32: 42']);
  });

  it('answers noSuchInstance for a known object without a value, noSuchObject beyond', async () => {
    const got = parseSnmpOutput((await run('snmpget', [...snmpArgs('alpha', port), `${BASE}.9.0`, `${BASE}.1.1`, `${BASE}.8.0`])).stdout);
    expect(got.get(`${BASE}.9.0`)).toMatch(/No Such Instance/);
    expect(got.get(`${BASE}.1.1`)).toMatch(/No Such Instance/);
    expect(got.get(`${BASE}.8.0`)).toMatch(/No Such Object/);
  });

  it('walks with GETBULK and serves a new snapshot when its version moves', async () => {
    const walk = parseSnmpOutput((await run('snmpbulkwalk', [...snmpArgs('alpha', port), BASE])).stdout);
    expect([...walk.keys()]).toEqual([`${BASE}.1.0`, `${BASE}.2.0`, `${BASE}.3.0`, `${BASE}.4.0`, `${BASE}.5.7.1`]);
    alphaValue = 77;
    version++;
    const got = parseSnmpOutput((await run('snmpget', [...snmpArgs('alpha', port), `${BASE}.1.0`])).stdout);
    expect(got.get(`${BASE}.1.0`)).toBe('INTEGER: 77');
  });

  it('refuses a SET as not writable', async () => {
    const r = await run('snmpset', [...snmpArgs('alpha', port), `${BASE}.1.0`, 'i', '1']);
    expect(r.stdout + r.stderr).toMatch(/notWritable|Not writable/i);
  });

  it('survives garbage datagrams and keeps answering', async () => {
    const before = endpoint.stats().rejected;
    const sock = dgram.createSocket('udp4');
    const junk = [Buffer.alloc(0), Buffer.from([0x30]), Buffer.from([0x30, 0x82, 0xff, 0xff, 0x02]), Buffer.from('GET / HTTP/1.0\r\n\r\n'), Buffer.alloc(1500, 0xff)];
    for (const j of junk) await new Promise<void>((resolve) => sock.send(j, port, '127.0.0.1', () => resolve()));
    sock.close();
    const got = parseSnmpOutput((await run('snmpget', [...snmpArgs('beta', port), `${BASE}.1.0`])).stdout);
    expect(got.get(`${BASE}.1.0`)).toBe('INTEGER: 6');
    expect(endpoint.stats().rejected).toBeGreaterThan(before);
  });
});

describe('SnmpEndpoint: start errors', () => {
  it('refuses two devices with one community', async () => {
    const snapshot = () => ({ version: 1, values: [] });
    const e = new SnmpEndpoint({ host: '127.0.0.1', port: 0, logger: memoryLogger(), devices: [
      { device: 'a', community: 'c', objects: [], snapshot },
      { device: 'b', community: 'c', objects: [], snapshot },
    ] });
    await expect(e.start()).rejects.toThrow(/devices a and b share a community/);
  });

  it('reports a busy port with host and port', async () => {
    const first = new SnmpEndpoint({ host: '127.0.0.1', port: 0, logger: memoryLogger(), devices: [{ device: 'a', community: 'c', objects: [], snapshot: () => ({ version: 1, values: [] }) }] });
    const port = await first.start();
    const second = new SnmpEndpoint({ host: '127.0.0.1', port, logger: memoryLogger(), devices: [{ device: 'b', community: 'c', objects: [], snapshot: () => ({ version: 1, values: [] }) }] });
    await expect(second.start()).rejects.toThrow(new RegExp(`cannot listen on 127.0.0.1:${port}/udp`));
    await first.stop();
  });
});
