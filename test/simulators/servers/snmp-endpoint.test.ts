import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, SystemClock } from '../../../contract/index.js';
import { memoryLogger } from '../../../shared/log.js';
import type { SnmpServedValue } from '../../../simulators/encode/snmp-values.js';
import { ANSWER_NOW, type RequestDecision } from '../../../simulators/faults/request-faults.js';
import { SnmpEndpoint, type SnmpDeviceBinding } from '../../../simulators/servers/snmp-endpoint.js';
import type { UsmUserConfig } from '../../../simulators/servers/snmp-usm.js';
import { missingTools, parseSnmpOutput, run, snmpInt } from '../external-tools.js';
import { v2cGet } from '../snmp-wire.js';
import { until } from '../../support/until.js';

/**
 * One UDP port, many devices: read from outside with net-snmp's command-line tools, as an
 * operator would, over v1, v2c and v3 (authPriv with SHA-1/SHA-2 and AES-128/256).
 */
const missing = missingTools(['snmpget', 'snmpwalk', 'snmpbulkwalk', 'snmpset']);
const suite = missing.length > 0 ? describe.skip : describe;
const skipNote = missing.length > 0 ? ` (skipped: ${missing.join(', ')} not on PATH)` : '';

const BASE = '1.3.6.1.4.1.99999.1';
const ENGINE_TIME = '1.3.6.1.6.3.10.2.1.3.0';
const ENGINE_ID = '1.3.6.1.6.3.10.2.1.1.0';
const v2 = (community: string, port: number, ...extra: string[]) => ['-v2c', '-c', community, '-On', '-Oe', '-t', '1', '-r', '0', ...extra, `127.0.0.1:${port}`];
const OPS: UsmUserConfig = { name: 'ops', auth_protocol: 'sha256', auth_key: 'ops-auth-key-1', priv_protocol: 'aes', priv_key: 'ops-priv-key-1' };
const LEGACY: UsmUserConfig = { name: 'legacy', auth_protocol: 'sha', auth_key: 'legacy-auth-1', priv_protocol: 'aes256b', priv_key: 'legacy-priv-1' };
const CISCO: UsmUserConfig = { name: 'cisco', auth_protocol: 'sha512', auth_key: 'cisco-auth-1', priv_protocol: 'aes256r', priv_key: 'cisco-priv-1' };
const MONITOR: UsmUserConfig = { name: 'monitor', auth_protocol: 'sha256', auth_key: 'monitor-auth-1' };
type V3Options = { context?: string; auth?: string; priv?: string; authKey?: string; extra?: string[] };
/** snmpget's SNMPv3 flags for a user, without the target. */
const v3Flags = (user: UsmUserConfig, opts: V3Options = {}) => [
  '-v3',
  '-l',
  user.priv_protocol ? 'authPriv' : 'authNoPriv',
  '-u',
  user.name,
  '-a',
  opts.auth ?? 'SHA-256',
  '-A',
  opts.authKey ?? user.auth_key!,
  ...(user.priv_protocol ? ['-x', opts.priv ?? 'AES', '-X', user.priv_key!] : []),
  ...(opts.context !== undefined ? ['-n', opts.context] : []),
  '-On',
  '-Oe',
  ...(opts.extra ?? []),
];
const v3 = (port: number, user: UsmUserConfig, opts: V3Options = {}) => [...v3Flags(user, opts), '-t', '1', '-r', '0', `127.0.0.1:${port}`];

let alphaPower = 5;
const alpha = (): SnmpServedValue[] => [
  { oid: `${BASE}.4.0`, type: 'octet_string', value: 'rack PDU' },
  { oid: `${BASE}.1.0`, type: 'integer', value: alphaPower },
  { oid: `${BASE}.2.0`, type: 'counter64', value: 18_000_000_000_000_000_001n },
  { oid: `${BASE}.3.0`, type: 'gauge32', value: 4_000_000_000 },
  { oid: `${BASE}.5.7.2`, type: 'counter32', value: 43 },
  { oid: `${BASE}.5.7.1`, type: 'counter32', value: 42 },
  { oid: `${BASE}.6.0`, type: 'timeticks', value: 123_456 },
  { oid: `${BASE}.7.0`, type: 'object_identifier', value: '1.3.6.1.4.1.318.1.3.4.6' },
];
/** 40 table rows, for walks longer than one GETBULK answer. */
const table = (): SnmpServedValue[] => Array.from({ length: 40 }, (_, i) => ({ oid: `${BASE}.9.1.${i + 1}`, type: 'integer' as const, value: 1000 + i }));

function device(key: string, sel: Pick<SnmpDeviceBinding, 'community' | 'v3'>, values: () => SnmpServedValue[], decide: () => RequestDecision = () => ANSWER_NOW): SnmpDeviceBinding {
  let version = 0;
  return { key, ...sel, layout: key, objects: [`${BASE}.1`, `${BASE}.8`], version: () => ++version, values, decide };
}

suite(`SnmpEndpoint: many devices on one UDP port${skipNote}`, () => {
  let decision: RequestDecision = ANSWER_NOW;
  const endpoint = new SnmpEndpoint({
    host: '127.0.0.1',
    port: 0,
    logger: memoryLogger(),
    clock: new SystemClock(),
    devices: [
      device('alpha', { community: 'alpha' }, alpha),
      device('beta', { community: 'beta' }, () => [{ oid: `${BASE}.1.0`, type: 'integer', value: 6 }]),
      device('walker', { community: 'walker' }, table),
      device('flaky', { community: 'flaky' }, alpha, () => decision),
      device('ups-1', { v3: { user: OPS, context: 'ups-1' } }, () => [{ oid: `${BASE}.1.0`, type: 'integer', value: 101 }]),
      device('ups-2', { v3: { user: OPS, context: 'ups-2' } }, () => [{ oid: `${BASE}.1.0`, type: 'integer', value: 102 }, ...table()]),
      device('old', { v3: { user: LEGACY, context: '' } }, () => [{ oid: `${BASE}.1.0`, type: 'integer', value: 201 }]),
      device('cisco', { v3: { user: CISCO, context: '' } }, () => [{ oid: `${BASE}.1.0`, type: 'integer', value: 301 }]),
      device('mon', { v3: { user: MONITOR, context: 'm' } }, () => [{ oid: `${BASE}.1.0`, type: 'integer', value: 401 }]),
    ],
  });
  let port: number;

  beforeAll(async () => {
    port = await endpoint.start();
  });
  afterAll(async () => endpoint.stop());

  const get = async (args: string[], ...oids: string[]) => parseSnmpOutput((await run('snmpget', [...args, ...oids])).stdout);

  it('selects the device by community', async () => {
    expect((await get(v2('alpha', port), `${BASE}.1.0`)).get(`${BASE}.1.0`)).toBe('INTEGER: 5');
    expect((await get(v2('beta', port), `${BASE}.1.0`)).get(`${BASE}.1.0`)).toBe('INTEGER: 6');
  });

  it('serves every SMIv2 type the profiles use, Counter64 beyond 2^63 included', async () => {
    const got = await get(v2('alpha', port), ...[2, 3, 4, 6, 7].map((n) => `${BASE}.${n}.0`), `${BASE}.5.7.1`);
    expect([...got.values()]).toEqual([
      'Counter64: 18000000000000000001',
      'Gauge32: 4000000000',
      'STRING: "rack PDU"',
      'Timeticks: (123456) 0:20:34.56',
      'OID: .1.3.6.1.4.1.318.1.3.4.6',
      'Counter32: 42',
    ]);
  });

  it('answers noSuchInstance under a known object and noSuchObject elsewhere', async () => {
    const got = await get(v2('alpha', port), `${BASE}.1.5`, `${BASE}.8.0`, `${BASE}.77.0`, '1.3');
    expect(got.get(`${BASE}.1.5`)).toMatch(/No Such Instance/);
    expect(got.get(`${BASE}.8.0`)).toMatch(/No Such Instance/);
    expect(got.get(`${BASE}.77.0`)).toMatch(/No Such Object/);
    expect(got.get('1.3')).toMatch(/No Such Object/);
  });

  it('walks in OID order with GETNEXT (v2c) and GETBULK, ending at the engine group', async () => {
    const walk = parseSnmpOutput((await run('snmpwalk', [...v2('alpha', port), BASE])).stdout);
    expect([...walk.keys()].map((o) => o.slice(BASE.length + 1))).toEqual(['1.0', '2.0', '3.0', '4.0', '5.7.1', '5.7.2', '6.0', '7.0']);
    const bulk = parseSnmpOutput((await run('snmpbulkwalk', [...v2('walker', port, '-Cr7'), BASE])).stdout);
    expect([...bulk.values()]).toEqual(table().map((v) => `INTEGER: ${v.value}`));
    const all = parseSnmpOutput((await run('snmpbulkwalk', [...v2('beta', port), '1.3.6.1'])).stdout);
    expect([...all.keys()]).toEqual([`${BASE}.1.0`, ENGINE_ID, '1.3.6.1.6.3.10.2.1.2.0', ENGINE_TIME, '1.3.6.1.6.3.10.2.1.4.0']);
  });

  it('hides Counter64 from SNMPv1 and maps exceptions to noSuchName', async () => {
    const v1 = ['-v1', '-c', 'alpha', '-On', '-t', '1', '-r', '0', `127.0.0.1:${port}`];
    const r = await run('snmpget', [...v1, `${BASE}.2.0`]);
    expect(r.stdout + r.stderr).toMatch(/noSuchName/);
    const walk = parseSnmpOutput((await run('snmpwalk', [...v1, BASE])).stdout);
    expect(walk.has(`${BASE}.2.0`)).toBe(false);
    expect(walk.get(`${BASE}.3.0`)).toBe('Gauge32: 4000000000');
  });

  it('refuses SETs: notWritable in v2c, noSuchName in v1', async () => {
    const r2 = await run('snmpset', [...v2('alpha', port), `${BASE}.1.0`, 'i', '7']);
    expect(r2.stderr).toMatch(/notWritable/);
    const r1 = await run('snmpset', ['-v1', '-c', 'alpha', '-t', '1', '-r', '0', `127.0.0.1:${port}`, `${BASE}.1.0`, 'i', '7']);
    expect(r1.stdout + r1.stderr).toMatch(/noSuchName/);
    expect((await get(v2('alpha', port), `${BASE}.1.0`)).get(`${BASE}.1.0`)).toBe('INTEGER: 5');
  });

  it('stays silent to a wrong community, like the device', async () => {
    const before = endpoint.stats().bad_community;
    const r = await run('snmpget', ['-v2c', '-c', 'private', '-t', '0.5', '-r', '0', `127.0.0.1:${port}`, `${BASE}.1.0`]);
    expect(r.stdout + r.stderr).toMatch(/Timeout/);
    expect(endpoint.stats().bad_community).toBe(before + 1);
  });

  it('reads values fresh when the device version moves', async () => {
    alphaPower = 9;
    expect((await get(v2('alpha', port), `${BASE}.1.0`)).get(`${BASE}.1.0`)).toBe('INTEGER: 9');
    alphaPower = 5;
  });

  it.each([
    ['SHA-256 + AES-128, by context', OPS, { context: 'ups-1' }, 'INTEGER: 101'],
    ['SHA-256 + AES-128, another context', OPS, { context: 'ups-2' }, 'INTEGER: 102'],
    ['SHA-1 + AES-256 (Blumenthal key extension)', LEGACY, { auth: 'SHA', priv: 'AES-256' }, 'INTEGER: 201'],
    ['SHA-512 + AES-256 (Reeder key extension, "AES256C")', CISCO, { auth: 'SHA-512', priv: 'AES256C' }, 'INTEGER: 301'],
    ['SHA-256 authNoPriv', MONITOR, { context: 'm' }, 'INTEGER: 401'],
  ])('SNMPv3 %s', async (_name, user, opts, expected) => {
    const got = await get(v3(port, user, opts), `${BASE}.1.0`);
    expect(got.get(`${BASE}.1.0`)).toBe(expected);
  });

  it('SNMPv3 bulk-walks a context', async () => {
    const r = await run('snmpbulkwalk', [...v3(port, OPS, { context: 'ups-2' }), `${BASE}.9`]);
    expect([...parseSnmpOutput(r.stdout).values()]).toEqual(table().map((v) => `INTEGER: ${v.value}`));
  });

  it.each([
    ['a wrong key', v3Flags(OPS, { context: 'ups-1', authKey: 'not-the-key-1' }), /Authentication failure/],
    ['an unknown user', v3Flags({ ...OPS, name: 'nobody' }, { context: 'ups-1' }), /Unknown user name/],
    ['an unknown context', v3Flags(OPS, { context: 'ups-9' }), /Bad context/],
    ['a lower security level than the user has', ['-v3', '-l', 'authNoPriv', '-u', 'ops', '-a', 'SHA-256', '-A', OPS.auth_key!, '-n', 'ups-1'], /Unsupported security level/],
    ['the wrong AES key length', v3Flags(OPS, { context: 'ups-1', priv: 'AES-256' }), /Decryption error/],
  ])('SNMPv3 reports %s the way net-snmp understands', async (_name, args, message) => {
    const r = await run('snmpget', [...args, '-t', '1', '-r', '0', `127.0.0.1:${port}`, `${BASE}.1.0`]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it('checks the time window and re-synchronises a manager with an authenticated notInTimeWindow report', async () => {
    const id = (await get(v3(port, OPS, { context: 'ups-1', extra: ['-Ox'] }), ENGINE_ID)).get(ENGINE_ID)!.replace(/^Hex-STRING: /, '').replaceAll(' ', '');
    expect(id).toBe(endpoint.engineIdHex().toUpperCase());
    const before = endpoint.stats().reports.not_in_time_window ?? 0;
    // The manager claims an engine time far from the agent's: one report, then the retry succeeds.
    const got = await get(v3(port, OPS, { context: 'ups-1', extra: ['-e', `0x${id}`, '-Z', '1,90000'] }), `${BASE}.1.0`);
    expect(got.get(`${BASE}.1.0`)).toBe('INTEGER: 101');
    expect(endpoint.stats().reports.not_in_time_window).toBe(before + 1);
  });

  it('serves a real engine time, which a clock skew moves', async () => {
    const t0 = snmpInt((await get(v3(port, OPS, { context: 'ups-1' }), ENGINE_TIME)).get(ENGINE_TIME));
    expect(t0).toBeGreaterThanOrEqual(0);
    expect(t0).toBeLessThan(60);
    endpoint.setClockSkew(3_600_000);
    const t1 = snmpInt((await get(v3(port, OPS, { context: 'ups-1' }), ENGINE_TIME)).get(ENGINE_TIME));
    endpoint.setClockSkew(0);
    expect(t1 - t0).toBeGreaterThanOrEqual(3600);
    expect(t1 - t0).toBeLessThan(3660);
  });

  it('lets a fault drop or delay answers', async () => {
    decision = { action: 'drop', reason: 'timeout' };
    const r = await run('snmpget', [...v2('flaky', port), `${BASE}.1.0`]);
    expect(r.stdout + r.stderr).toMatch(/Timeout/);
    decision = { action: 'answer', delay_ms: 400 };
    const t = Date.now();
    expect((await get(v2('flaky', port), `${BASE}.1.0`)).get(`${BASE}.1.0`)).toBe('INTEGER: 5');
    expect(Date.now() - t).toBeGreaterThanOrEqual(400);
    decision = ANSWER_NOW;
  });

  it('survives malformed datagrams, dropping them as unparseable, and keeps serving', async () => {
    const before = endpoint.stats();
    const valid = v2cGet('alpha');
    const garbage = [
      Buffer.alloc(0),
      Buffer.from('not snmp at all'),
      Buffer.from([0x30, 0x82, 0xff, 0xff, 0x02]),
      valid.subarray(0, 20),
      Buffer.concat([valid.subarray(0, 2), Buffer.from([0x02, 0x01, 0x09]), valid.subarray(5)]),
      Buffer.from('3082ffff', 'hex'),
      Buffer.from(Array.from({ length: 1400 }, (_, i) => (i * 37) & 0xff)),
    ];
    const socket = dgram.createSocket('udp4');
    for (const g of garbage) await new Promise<void>((resolve) => socket.send(g, port, '127.0.0.1', () => resolve()));
    socket.close();
    // Loopback UDP is not lost: wait until the endpoint has counted them (one may parse as a
    // request with another community), however slowly this machine runs it.
    const refused = () => endpoint.stats().malformed + endpoint.stats().bad_community - before.malformed - before.bad_community;
    await until('the garbage counted', () => refused() >= garbage.length - 1, 30_000, () => `${refused()} of ${garbage.length} counted`);
    const after = endpoint.stats();
    expect(after.malformed + after.bad_community - before.malformed - before.bad_community).toBeGreaterThanOrEqual(garbage.length - 1);
    expect(after.errors).toBe(before.errors);
    expect((await get(v2('alpha', port), `${BASE}.1.0`)).get(`${BASE}.1.0`)).toBe('INTEGER: 5');
  });
});

suite(`SnmpEndpoint: answers that do not fit${skipNote}`, () => {
  const endpoint = new SnmpEndpoint({
    host: '127.0.0.1',
    port: 0,
    logger: memoryLogger(),
    clock: new ManualClock(),
    max_message_bytes: 484,
    devices: [device('big', { community: 'big' }, () => Array.from({ length: 60 }, (_, i) => ({ oid: `${BASE}.9.1.${i + 1}`, type: 'octet_string' as const, value: `row ${i + 1} ${'x'.repeat(20)}` })))],
  });
  let port: number;
  beforeAll(async () => {
    port = await endpoint.start();
  });
  afterAll(async () => endpoint.stop());

  it('answers tooBig to a GET whose answer exceeds the message size', async () => {
    const oids = Array.from({ length: 30 }, (_, i) => `${BASE}.9.1.${i + 1}`);
    const r = await run('snmpget', [...v2('big', port), ...oids]);
    expect(r.stdout + r.stderr).toMatch(/tooBig/);
  });

  it('cuts a GETBULK answer to what fits, so a bulk walk still sees every row', async () => {
    const r = await run('snmpbulkwalk', [...v2('big', port, '-Cr50'), `${BASE}.9`]);
    expect(parseSnmpOutput(r.stdout).size).toBe(60);
  });
});

describe('SnmpEndpoint configuration', () => {
  const base = { host: '127.0.0.1', port: 0, logger: memoryLogger(), clock: new ManualClock() };
  it.each([
    ['two devices with one community', [device('a', { community: 'x' }, alpha), device('b', { community: 'x' }, alpha)], /devices a and b share a community/],
    ['two devices with one user and context', [device('a', { v3: { user: OPS, context: 'c' } }, alpha), device('b', { v3: { user: OPS, context: 'c' } }, alpha)], /share user ops and context "c"/],
    ['one user with two keys', [device('a', { v3: { user: OPS, context: 'a' } }, alpha), device('b', { v3: { user: { ...OPS, auth_key: 'another-key-1' }, context: 'b' } }, alpha)], /declared with other keys/],
    ['a short key', [device('a', { v3: { user: { ...OPS, priv_key: 'short' }, context: '' } }, alpha)], /priv_key needs at least 8 characters/],
    ['no devices', [], /needs at least one device/],
  ])('refuses %s', async (_name, devices, message) => {
    await expect(new SnmpEndpoint({ ...base, devices }).start()).rejects.toThrow(message);
  });
});
