import { describe, expect, it } from 'vitest';
import type { SnmpServedValue } from '../../../simulators/encode/snmp-values.js';
import { engineBootsAt, engineIdFor, engineTime, inTimeWindow, usmUser } from '../../../simulators/servers/snmp-usm.js';
import { SnmpViewCache, buildView, compareArcs, getBulk, getNextOne, getOne, isEncodableOid, parseOid } from '../../../simulators/servers/snmp-view.js';

const v = (oid: string, value: number): SnmpServedValue => ({ oid, type: 'integer', value });
/** Encoder order is not OID order: .10 sorts after .9, and the table after the scalars. */
const VALUES = [v('1.3.6.1.4.1.9.2.10.1', 210), v('1.3.6.1.4.1.9.1.0', 1), v('1.3.6.1.4.1.9.2.9.1', 29), v('1.3.6.1.4.1.9.2.9.2', 292), { oid: '1.3.6.1.4.1.9.3.0', type: 'counter64', value: 5n } as SnmpServedValue];
const view = buildView(VALUES, ['1.3.6.1.4.1.9.1', '1.3.6.1.4.1.9.4']);
const oids = (xs: { oid: string; type: string }[]) => xs.map((x) => (x.type === 'endOfMibView' ? `end@${x.oid}` : x.oid));

describe('OIDs', () => {
  it.each([
    ['1.3.6.1', [1, 3, 6, 1]],
    ['1.3.6.1.4.1.4294967295', [1, 3, 6, 1, 4, 1, 4294967295]],
    ['1.3.6.1.4.1.4294967296', undefined],
    ['1', undefined],
    ['.1.3', undefined],
    ['1.3.x', undefined],
  ])('parses %s', (oid, arcs) => {
    expect(parseOid(oid)).toEqual(arcs);
  });

  it('orders numerically, a prefix first', () => {
    const sorted = ['1.3.6.1.10', '1.3.6.1.9', '1.3.6.1', '1.3.6.1.9.0'].map((o) => parseOid(o)!).sort(compareArcs);
    expect(sorted.map((a) => a.join('.'))).toEqual(['1.3.6.1', '1.3.6.1.9', '1.3.6.1.9.0', '1.3.6.1.10']);
  });

  it.each([
    [[1, 3], true],
    [[2, 47], true],
    [[2, 100], false],
    [[0, 40], false],
    [[3, 1], false],
  ])('knows whether asn1-ber can write %j', (arcs, ok) => {
    expect(isEncodableOid(arcs)).toBe(ok);
  });
});

describe('a shared view over one device layout', () => {
  it('sorts the values and maps them back', () => {
    expect(view.oids).toEqual(['1.3.6.1.4.1.9.1.0', '1.3.6.1.4.1.9.2.9.1', '1.3.6.1.4.1.9.2.9.2', '1.3.6.1.4.1.9.2.10.1', '1.3.6.1.4.1.9.3.0']);
    expect(getOne(view, VALUES, '1.3.6.1.4.1.9.2.10.1')).toEqual({ oid: '1.3.6.1.4.1.9.2.10.1', type: 'integer', value: 210 });
  });

  it.each([
    ['1.3.6.1.4.1.9.1.7', 'noSuchInstance'],
    ['1.3.6.1.4.1.9.4.0', 'noSuchInstance'],
    ['1.3.6.1.4.1.9.5.0', 'noSuchObject'],
    ['1.3.6.1.4.1.9.2.9', 'noSuchObject'],
  ])('GET %s → %s', (oid, type) => {
    expect(getOne(view, VALUES, oid).type).toBe(type);
  });

  it.each([
    ['1.3', '1.3.6.1.4.1.9.1.0'],
    ['1.3.6.1.4.1.9.1.0', '1.3.6.1.4.1.9.2.9.1'],
    ['1.3.6.1.4.1.9.2.9.2', '1.3.6.1.4.1.9.2.10.1'],
    ['1.3.6.1.4.1.9.2.9.99', '1.3.6.1.4.1.9.2.10.1'],
    ['1.3.6.1.4.1.9.3.0', 'end@1.3.6.1.4.1.9.3.0'],
    ['2.0', 'end@2.0'],
  ])('GETNEXT %s → %s', (oid, next) => {
    expect(oids([getNextOne(view, VALUES, oid, parseOid(oid)!)])).toEqual([next]);
  });

  it('skips values a version cannot see (Counter64 in SNMPv1)', () => {
    const r = getNextOne(view, VALUES, '1.3.6.1.4.1.9.2.10.1', parseOid('1.3.6.1.4.1.9.2.10.1')!, (x) => x.type !== 'counter64');
    expect(r.type).toBe('endOfMibView');
    expect(getOne(view, VALUES, '1.3.6.1.4.1.9.3.0', (x) => x.type !== 'counter64').type).toBe('noSuchInstance');
  });

  it.each<[string, { oids: string[]; non_repeaters: number; max_repetitions: number }, string[]]>([
    ['non-repeaters only', { oids: ['1.3', '1.3.6.1.4.1.9.1.0'], non_repeaters: 2, max_repetitions: 5 }, ['1.3.6.1.4.1.9.1.0', '1.3.6.1.4.1.9.2.9.1']],
    ['two repeaters side by side', { oids: ['1.3.6.1.4.1.9.1', '1.3.6.1.4.1.9.2.10'], non_repeaters: 0, max_repetitions: 2 }, ['1.3.6.1.4.1.9.1.0', '1.3.6.1.4.1.9.2.10.1', '1.3.6.1.4.1.9.2.9.1', '1.3.6.1.4.1.9.3.0']],
    ['stops when every column ended', { oids: ['1.3.6.1.4.1.9.2.10'], non_repeaters: 0, max_repetitions: 50 }, ['1.3.6.1.4.1.9.2.10.1', '1.3.6.1.4.1.9.3.0', 'end@1.3.6.1.4.1.9.3.0']],
    ['negative counts read as zero (RFC 3416 §4.2.3)', { oids: ['1.3'], non_repeaters: -4, max_repetitions: -1 }, []],
    ['no varbinds', { oids: [], non_repeaters: 0, max_repetitions: 10 }, []],
  ])('GETBULK: %s', (_name, req, expected) => {
    expect(oids(getBulk(view, VALUES, req))).toEqual(expected);
  });

  it('refuses layouts a walk could not order', () => {
    expect(() => buildView([v('1.3.6.1.1.0', 1), v('1.3.6.1.1.0', 2)], [])).toThrow(/served twice/);
    expect(() => buildView([v('1.3.6.1.1', 1), v('1.3.6.1.1.0', 2)], [])).toThrow(/lies below/);
    expect(() => buildView([v('one.two', 1)], [])).toThrow(/not a numeric OID/);
  });

  it('is built once per layout and shared', () => {
    const cache = new SnmpViewCache(2);
    const a = cache.view('p', VALUES, []);
    expect(cache.view('p', VALUES.map((x) => ({ ...x })), [])).toBe(a);
    expect(cache.view('q', VALUES, [])).not.toBe(a);
    cache.view('r', VALUES, []);
    expect(cache.size()).toBe(2);
  });
});

describe('USM', () => {
  it('keeps the engine id stable per seed text and in RFC 3411 format 5', () => {
    const id = engineIdFor('site/127.0.0.1:161');
    expect(id.equals(engineIdFor('site/127.0.0.1:161'))).toBe(true);
    expect(id.equals(engineIdFor('site/127.0.0.1:162'))).toBe(false);
    expect(id.subarray(0, 5).toString('hex')).toBe('80007ed905');
    expect(id.length).toBe(13);
  });

  it.each([
    [0, 0, { boots: 1, time: 0 }],
    [1_000_000, 0, { boots: 1, time: 1000 }],
    [1_000_000, 3_600_000, { boots: 1, time: 4600 }],
    [1_000_000, -5_000_000, { boots: 1, time: 0 }],
    [(2 ** 31 + 10) * 1000, 0, { boots: 2, time: 10 }],
  ])('engine time after %d ms with skew %d ms', (elapsed, skew, expected) => {
    expect(engineTime(1, 5_000, 5_000 + elapsed, skew)).toEqual(expected);
  });

  it('counts boots up with every start, so a restarted simulator is a rebooted engine', () => {
    expect(engineBootsAt(Date.UTC(2026, 0, 1))).toBe(31_536_000);
    expect(engineBootsAt(Date.UTC(2026, 0, 1, 0, 0, 5))).toBe(31_536_005);
    expect(engineBootsAt(0)).toBe(1);
    expect(engineBootsAt(Date.UTC(2200, 0, 1))).toBe(2 ** 31 - 2);
  });

  it.each([
    [{ boots: 1, time: 1000 }, { boots: 1, time: 1150 }, true],
    [{ boots: 1, time: 1000 }, { boots: 1, time: 849 }, false],
    [{ boots: 1, time: 1000 }, { boots: 2, time: 1000 }, false],
    [{ boots: 2 ** 31 - 1, time: 5 }, { boots: 2 ** 31 - 1, time: 5 }, false],
  ])('time window: engine %j, message %j → %s', (local, msg, ok) => {
    expect(inTimeWindow(local, msg)).toBe(ok);
  });

  it.each([
    [{ name: 'u', auth_protocol: 'sha256', auth_key: 'long-enough', priv_protocol: 'aes', priv_key: 'long-enough' }, { ok: true, level: 3 }],
    [{ name: 'u', auth_protocol: 'sha', auth_key: 'long-enough' }, { ok: true, level: 2 }],
    [{ name: 'u' }, { ok: true, level: 1 }],
    [{ name: 'u', priv_protocol: 'aes', priv_key: 'long-enough' }, { ok: false, reason: 'privacy needs authentication (authPriv)' }],
    [{ name: 'u', auth_protocol: 'sha', auth_key: 'short' }, { ok: false, reason: 'auth_key needs at least 8 characters' }],
    [{ name: '' }, { ok: false, reason: 'a USM user name has 1-32 characters' }],
  ] as const)('user %j', (cfg, expected) => {
    const r = usmUser(cfg);
    if (expected.ok) expect(r.ok && r.user.level).toBe(expected.level);
    else expect(r).toEqual(expected);
  });
});
