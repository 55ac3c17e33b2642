import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, SnmpProfileSchema, SystemClock, type Reading } from '../../../contract/index.js';
import { createLeanSnmpTransport } from '../../../agent/snmp/lean-snmp-transport.js';
import { messageKey } from '../../../agent/snmp/message-id.js';
import { createNetSnmpTransport, type ResolvedSnmpAddress } from '../../../agent/snmp/net-snmp-transport.js';
import { SnmpReader } from '../../../agent/snmp/snmp-reader.js';
import { SnmpSocketPool } from '../../../agent/snmp/snmp-socket-pool.js';
import { int, oidTlv, snmpMessage, tlv } from '../../support/snmp-ber.js';
import { until } from '../../support/until.js';

/**
 * The lean GET transport against a scripted SNMP responder on 127.0.0.1: it answers each request
 * with crafted bytes carrying the request's own id, so the lean path and net-snmp can be given the
 * very same answer, and bad answers can be sent on purpose.
 */
type Answer = (req: { id: number; version: number; msg: Buffer }) => Buffer | undefined;

const message = (version: number, community: string, id: number, varbinds: Buffer[], o: { tag?: number; status?: number } = {}) =>
  snmpMessage({ version, community, id, varbinds, ...o });

const BASE = '1.3.6.1.4.1.32473.99';
/** Every value type a GET can bring back, with the wire bytes of its value. */
const VALUES: [string, Buffer][] = [
  ['integer -1', int(-1)],
  ['integer min', int(-0x8000_0000)],
  ['gauge32 max (sign octet)', tlv(0x42, [0, 0xff, 0xff, 0xff, 0xff])],
  ['counter32 without sign octet', tlv(0x41, [0xff, 0xff, 0xff, 0xfe])],
  ['timeticks', tlv(0x43, [0x01, 0x02, 0x03])],
  ['counter64 max', tlv(0x46, [0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])],
  ['counter64 small', tlv(0x46, [0x01, 0x00])],
  ['octet string utf-8', tlv(0x04, Buffer.from('Hall 1 机房'))],
  ['octet string empty', tlv(0x04, [])],
  ['ip address', tlv(0x40, [192, 0, 2, 7])],
  ['oid', oidTlv('1.3.6.1.4.1.8072.3.2.10')],
  ['opaque', tlv(0x44, [0x9f, 0x78, 0x04, 0x41, 0xc8, 0x00, 0x00])],
  ['null', tlv(0x05, [])],
  ['noSuchObject', tlv(0x80, [])],
  ['noSuchInstance', tlv(0x81, [])],
  ['endOfMibView', tlv(0x82, [])],
];
const OIDS = VALUES.map((_, i) => `${BASE}.${i + 1}.0`);
const goodAnswer: Answer = ({ id, version }) => message(version, 'public', id, VALUES.map(([, v], i) => tlv(0x30, oidTlv(OIDS[i] as string), v)));

class Responder {
  readonly socket = dgram.createSocket('udp4');
  answer: Answer = goodAnswer;
  seen = 0;
  port = 0;
  last: { id: number; rinfo: dgram.RemoteInfo } | undefined;

  async start(): Promise<void> {
    this.socket.on('message', (msg, rinfo) => {
      this.seen++;
      const key = messageKey(msg);
      if (!key) return;
      this.last = { id: key.id, rinfo };
      const out = this.answer({ id: key.id, version: key.version, msg });
      if (out) this.socket.send(out, rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
    this.port = this.socket.address().port;
  }

  lastRequest(): NonNullable<Responder['last']> {
    if (!this.last) throw new Error('no request reached the responder');
    return this.last;
  }

  stop(): Promise<void> {
    return new Promise((r) => this.socket.close(() => r()));
  }
}

const address = (port: number, community = 'public', version: '1' | '2c' = '2c'): ResolvedSnmpAddress => ({ protocol: 'snmp', host: '127.0.0.1', port, version, community });
const plain = (v: unknown) => (Buffer.isBuffer(v) ? `bytes:${v.toString('hex')}` : v);

describe('lean SNMP GET transport', () => {
  const peer = new Responder();
  beforeAll(() => peer.start());
  afterAll(() => peer.stop());

  it('reads every value type exactly as net-snmp reads the same bytes', async () => {
    peer.answer = goodAnswer;
    const pool = new SnmpSocketPool({ clock: new SystemClock() });
    const lean = createLeanSnmpTransport(address(peer.port), { timeoutMs: 2000, pool });
    const net = createNetSnmpTransport(address(peer.port), { timeoutMs: 2000, pool });
    try {
      const [a, b] = await Promise.all([lean.get(OIDS), net.get(OIDS)]);
      expect(a.ok && b.ok).toBe(true);
      if (!a.ok || !b.ok) return;
      const table = (vbs: typeof a.value) => vbs.map((v) => [v.oid, v.type, plain(v.value)]);
      expect(table(a.value)).toEqual(table(b.value));
      // And what that is, so both cannot be wrong together unnoticed.
      expect(table(a.value).map(([, t, v]) => [t, v])).toEqual([
        [2, -1],
        [2, -2147483648],
        [66, 4294967295],
        [65, 4294967294],
        [67, 66051],
        [70, 'bytes:00ffffffffffffffff'],
        [70, 'bytes:0100'],
        [4, `bytes:${Buffer.from('Hall 1 机房').toString('hex')}`],
        [4, 'bytes:'],
        [64, '192.0.2.7'],
        [6, '1.3.6.1.4.1.8072.3.2.10'],
        [68, 'bytes:9f780441c80000'],
        [5, null],
        [128, null],
        [129, null],
        [130, null],
      ]);
      expect(pool.stats()).toMatchObject({ requests: 1, timeouts: 0, invalid_answers: 0, stray: 0, pending: 0 });
    } finally {
      lean.close();
      net.close();
      pool.close();
    }
  });

  it('walks (GETNEXT) go through net-snmp over the same shared socket', async () => {
    peer.answer = ({ id, version }) => message(version, 'public', id, [tlv(0x30, oidTlv(`${BASE}.2.0`), int(7))]);
    const pool = new SnmpSocketPool({ clock: new SystemClock() });
    const lean = createLeanSnmpTransport(address(peer.port), { timeoutMs: 2000, pool });
    try {
      const r = await lean.getNext([`${BASE}.1.0`]);
      expect(r.ok && r.value.map((v) => [v.oid, v.value])).toEqual([[`${BASE}.2.0`, 7]]);
      // net-snmp's session, not a lean request; one socket for both.
      expect(pool.stats()).toMatchObject({ sockets: 1, sessions: 1, requests: 0 });
    } finally {
      lean.close();
      pool.close();
    }
  });

  it('tooBig and other error-status answers reach the reader as such', async () => {
    const pool = new SnmpSocketPool({ clock: new SystemClock() });
    const lean = createLeanSnmpTransport(address(peer.port), { timeoutMs: 2000, pool });
    try {
      peer.answer = ({ id, version, msg }) => message(version, 'public', id, [], { status: msg.length > 60 ? 1 : 0 });
      expect(await lean.get(OIDS)).toMatchObject({ ok: false, kind: 'too_big', status: 1 });
      peer.answer = ({ id, version }) => message(version, 'public', id, [], { status: 5 });
      expect(await lean.get(OIDS)).toMatchObject({ ok: false, kind: 'error_status', status: 5 });
    } finally {
      lean.close();
      pool.close();
    }
  });

  /** Three points of the crafted peer, read by the real SnmpReader over the lean transport. */
  const profile = SnmpProfileSchema.parse({
    id: 'lean-bad-answers',
    class: 'generic',
    vendor: 'test',
    model: 'crafted',
    protocol: 'snmp',
    points: [
      { name: 'a_count', oid: OIDS[0], type: 'integer', unit: 'count' },
      { name: 'b_count', oid: OIDS[2], type: 'gauge', unit: 'count' },
      { name: 'c_count', oid: OIDS[4], type: 'timeticks', unit: 'count' },
    ],
    test_vectors: [{ point: 'a_count', raw: 1, expected: 1 }],
  });
  const three = [OIDS[0], OIDS[2], OIDS[4]] as string[];
  const answerThree = (community: string, o: { tag?: number; cut?: number; idDelta?: number; version?: number } = {}): Answer => ({ id, version }) => {
    const m = message(o.version ?? version, community, id + (o.idDelta ?? 0), three.map((oid, i) => tlv(0x30, oidTlv(oid), int(i + 1))), o.tag !== undefined ? { tag: o.tag } : {});
    return o.cut !== undefined ? m.subarray(0, m.length - o.cut) : m;
  };
  const codes = (rs: Reading[]) => rs.map((r) => (r.quality === 'good' ? r.value : r.error));

  it.each<[string, Answer, string, Record<string, number>]>([
    // Its outer length runs past the datagram, but the request-id arrived: that request fails now.
    ['a truncated datagram', answerThree('public', { cut: 3 }), 'DCIM_E_SNMP_MALFORMED', { invalid_answers: 1, malformed: 0, timeouts: 0 }],
    ['a datagram cut inside its request-id', ({ id, version }) => message(version, 'public', id, []).subarray(0, 17), 'DCIM_E_SNMP_TIMEOUT', { malformed: 1, timeouts: 1 }],
    ['another community', answerThree('private'), 'DCIM_E_SNMP_MALFORMED', { invalid_answers: 1 }],
    ['another version (v1 to a v2c request)', answerThree('public', { version: 0 }), 'DCIM_E_SNMP_MALFORMED', { invalid_answers: 1 }],
    ['a GetRequest PDU instead of GetResponse', answerThree('public', { tag: 0xa0 }), 'DCIM_E_SNMP_MALFORMED', { invalid_answers: 1 }],
    ['a lying length', ({ id }) => Buffer.concat([message(1, 'public', id, []).subarray(0, -2), Buffer.from([0x30, 0x84, 0x7f, 0xff, 0xff, 0xff])]), 'DCIM_E_SNMP_MALFORMED', { invalid_answers: 1 }],
    ['garbage without a readable request-id', () => Buffer.from('not snmp at all'), 'DCIM_E_SNMP_TIMEOUT', { malformed: 1, timeouts: 1 }],
    ['another request-id', answerThree('public', { idDelta: 1 }), 'DCIM_E_SNMP_TIMEOUT', { stray: 1, timeouts: 1 }],
  ])('%s: the points are bad, counted, nothing crashes', async (_name, answer, code, counted) => {
    peer.answer = answer;
    const pool = new SnmpSocketPool({ clock: new SystemClock() });
    const reader = new SnmpReader({ profile, transport: createLeanSnmpTransport(address(peer.port), { timeoutMs: 300, pool }), policy: { timeoutMs: 300, retries: 0 }, clock: new SystemClock() });
    try {
      const res = await reader.read();
      expect(codes(res.readings)).toEqual([code, code, code]);
      expect(res.readings.every((r) => r.quality !== 'good')).toBe(true);
      expect(pool.stats()).toMatchObject({ ...counted, pending: 0 });
      // The same peer answering properly again: the transport is still usable.
      peer.answer = answerThree('public');
      expect(codes((await reader.read()).readings)).toEqual([1, 2, 3]);
    } finally {
      await reader.close();
      pool.close();
    }
  });

  it('the right answer from another port than asked is not taken', async () => {
    const other = new Responder();
    await other.start();
    peer.answer = () => undefined;
    peer.last = undefined;
    const pool = new SnmpSocketPool({ clock: new SystemClock() });
    const lean = createLeanSnmpTransport(address(peer.port), { timeoutMs: 300, pool });
    try {
      const pending = lean.get(three);
      await until('the request reached the peer', () => peer.last !== undefined);
      const { id, rinfo } = peer.lastRequest();
      other.socket.send(answerThree('public')({ id, version: 1, msg: Buffer.alloc(0) }) as Buffer, rinfo.port, rinfo.address);
      expect(await pending).toMatchObject({ ok: false, kind: 'timeout' });
      expect(pool.stats()).toMatchObject({ stray: 1, timeouts: 1, received: 1 });
    } finally {
      lean.close();
      pool.close();
      await other.stop();
    }
  });

  it('one timer times out every request at its deadline, not before (manual clock)', async () => {
    peer.answer = () => undefined;
    const clock = new ManualClock();
    const pool = new SnmpSocketPool({ clock });
    const fast = createLeanSnmpTransport(address(peer.port), { timeoutMs: 1000, pool });
    const slow = createLeanSnmpTransport(address(peer.port), { timeoutMs: 3000, pool });
    const settled: string[] = [];
    const seen0 = peer.seen;
    const track = (name: string, p: Promise<unknown>) => void p.then(() => settled.push(name));
    try {
      track('fast-1', fast.get(three));
      track('slow-1', slow.get(three));
      clock.advance(500);
      track('fast-2', fast.get(three));
      await until('three requests reached the peer', () => peer.seen >= seen0 + 3);
      clock.advance(499);
      await Promise.resolve();
      expect(settled).toEqual([]);
      clock.advance(1);
      await until('one request timed out', () => settled.length === 1);
      expect(settled).toEqual(['fast-1']);
      clock.advance(500);
      await until('two requests timed out', () => settled.length === 2);
      expect(settled).toEqual(['fast-1', 'fast-2']);
      clock.advance(1499);
      await Promise.resolve();
      expect(settled).toHaveLength(2);
      clock.advance(1);
      await until('three requests timed out', () => settled.length === 3);
      expect(pool.stats()).toMatchObject({ requests: 3, timeouts: 3, pending: 0 });
    } finally {
      fast.close();
      slow.close();
      pool.close();
    }
  });

  it('closing the pool fails what is in flight', async () => {
    peer.answer = () => undefined;
    const pool = new SnmpSocketPool({ clock: new SystemClock() });
    const lean = createLeanSnmpTransport(address(peer.port), { timeoutMs: 60_000, pool });
    const pending = lean.get(three);
    await until('the request was sent', () => pool.stats().sent === 1);
    pool.close();
    expect(await pending).toMatchObject({ ok: false, kind: 'socket' });
    lean.close();
  });
});
