import { describe, expect, it } from 'vitest';
import { SnmpType } from '../../../agent/snmp/asn1-types.js';
import { decodeGetResponse, encodeGetList, encodeGetRequest, encodeOid, LEAN_ID_MIN, type GetExpectation } from '../../../agent/snmp/lean-get-codec.js';
import { messageKey } from '../../../agent/snmp/message-id.js';
import { int, oidTlv, snmpMessage, tlv } from '../../support/snmp-ber.js';

/**
 * The lean GET codec (X.690 BER, RFC 3416 PDUs), byte for byte: requests against hand-assembled
 * datagrams, answers of every value type, and bad answers — truncations, random bytes, one-octet
 * mutations, lying lengths — which must come back `malformed`, never as values, never thrown.
 */
const hex = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const OIDS = ['1.3.6.1.2.1.1.5.0', '1.3.6.1.4.1.32473.20.1.1.0', '1.3.6.1.4.1.32473.20.1.2.0'];
const community = Buffer.from('public');
const ID = LEAN_ID_MIN + 12345;

function response(opts: { version?: number; community?: Buffer; tag?: number; id?: number; status?: number; index?: number; varbinds?: Buffer[] } = {}): Buffer {
  const varbinds = opts.varbinds ?? [tlv(0x30, oidTlv(OIDS[0] as string), tlv(0x04, Buffer.from('pdu-7'))), tlv(0x30, oidTlv(OIDS[1] as string), tlv(0x42, [0x09, 0xc4])), tlv(0x30, oidTlv(OIDS[2] as string), tlv(0x41, [0x00, 0xff, 0xff, 0xff, 0xff]))];
  return snmpMessage({ version: opts.version ?? 1, community: opts.community ?? community, id: opts.id ?? ID, varbinds, tag: opts.tag, status: opts.status, index: opts.index });
}

const expectation = (oids = OIDS): GetExpectation => ({ version: 1, community, id: ID, list: encodeGetList(oids) });

describe('encodeOid (X.690 §8.19)', () => {
  it.each([
    ['1.3.6.1.2.1.1.5.0', '2b 06 01 02 01 01 05 00'],
    // 32473 = 0x7ed9 → 1·128² + 125·128 + 89
    ['1.3.6.1.4.1.32473', '2b 06 01 04 01 81 fd 59'],
    // X.690's own example: {joint-iso-itu-t 999 3} → 88 37 03
    ['2.999.3', '88 37 03'],
    ['0.0', '00'],
    ['1.3.6.1.4.1.4294967295', '2b 06 01 04 01 8f ff ff ff 7f'],
  ])('%s → %s', (oid, bytes) => {
    expect(Buffer.from(encodeOid(oid) as number[]).toString('hex')).toBe(bytes.replace(/ /g, ''));
  });

  it.each(['1', '', '3.1', '1.40', '1.3.a', '1.3.-1', '1.3.4294967296', '1..3', `1.${'1.'.repeat(127)}1`])('%j is not an OID', (oid) => {
    expect(encodeOid(oid)).toBeUndefined();
  });
});

describe('encodeGetRequest', () => {
  it('a v2c GetRequest, byte for byte (RFC 3416 §3)', () => {
    const buf = encodeGetRequest(1, community, 0x4000_0001, encodeGetList(['1.3.6.1.2.1.1.5.0']));
    expect(buf.toString('hex')).toBe(hex('30 29 02 01 01 04 06 707562 6c6963 a0 1c 02 04 40000001 02 01 00 02 01 00 30 0e 30 0c 06 08 2b06010201010500 05 00').toString('hex'));
    expect(messageKey(buf)).toEqual({ version: 1, id: 0x4000_0001 });
  });

  it('long-form lengths once the message passes 127 octets, and the same length for every id', () => {
    const oids = Array.from({ length: 20 }, (_, i) => `1.3.6.1.4.1.32473.20.1.${i + 1}.0`);
    const list = encodeGetList(oids);
    const a = encodeGetRequest(0, Buffer.from('a-community'), LEAN_ID_MIN, list);
    const b = encodeGetRequest(0, Buffer.from('a-community'), 0x7fff_ffff, list);
    expect(a.length).toBe(b.length);
    expect(a[1]).toBe(0x82); // two length octets: the message is 300-odd octets
    expect(a.readUInt16BE(2)).toBe(a.length - 4);
    expect(messageKey(b)).toEqual({ version: 0, id: 0x7fff_ffff });
    // The request read back as an answer (tag 0xa2) gives the OIDs asked, with NULL values.
    const asAnswer = Buffer.from(a);
    asAnswer[a.indexOf(0xa0, 4)] = 0xa2;
    const r = decodeGetResponse(asAnswer, { version: 0, community: Buffer.from('a-community'), id: LEAN_ID_MIN, list });
    expect(r.ok && r.varbinds.map((v) => [v.oid, v.type, v.value])).toEqual(oids.map((o) => [o, SnmpType.Null, null]));
  });

  it('refuses ids outside the lean range (a shorter integer would change the length)', () => {
    expect(() => encodeGetRequest(1, community, 42, encodeGetList(OIDS))).toThrow(RangeError);
  });
});

describe('decodeGetResponse', () => {
  it('reads every value type as net-snmp hands it over', () => {
    const vb = (oid: string, value: Buffer) => tlv(0x30, oidTlv(oid), value);
    const oids = Array.from({ length: 14 }, (_, i) => `1.3.6.1.4.1.99.1.${i + 1}.0`);
    const values = [
      int(-1),
      int(-0x8000_0000),
      int(0x7fff_ffff),
      tlv(0x42, [0x00, 0xff, 0xff, 0xff, 0xff]), // Gauge32 2^32 − 1, with its sign octet
      tlv(0x41, [0xff, 0xff, 0xff, 0xfe]), // Counter32 sent without the sign octet: read as unsigned
      tlv(0x43, [0x01, 0x00]), // TimeTicks 256
      tlv(0x46, [0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // Counter64 2^64 − 1
      tlv(0x04, Buffer.from('Hall 1 机房')),
      tlv(0x40, [10, 0, 0, 254]),
      tlv(0x06, encodeOid('1.3.6.1.4.1.8072.3.2.10') as number[]),
      tlv(0x80, []),
      tlv(0x81, []),
      tlv(0x82, []),
      tlv(0x03, [0x00, 0xaa]), // BIT STRING: not an SMI type the decoders take; handed over as bytes
    ];
    const r = decodeGetResponse(response({ varbinds: oids.map((o, i) => vb(o, values[i] as Buffer)) }), expectation(oids));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const got = r.varbinds.map((v) => [v.type, Buffer.isBuffer(v.value) ? v.value.toString('hex') : v.value]);
    expect(got).toEqual([
      [2, -1],
      [2, -2147483648],
      [2, 2147483647],
      [66, 4294967295],
      [65, 4294967294],
      [67, 256],
      [70, '00ffffffffffffffff'],
      [4, Buffer.from('Hall 1 机房').toString('hex')],
      [64, '10.0.0.254'],
      [6, '1.3.6.1.4.1.8072.3.2.10'],
      [128, null],
      [129, null],
      [130, null],
      [3, '00aa'],
    ]);
    expect(r.varbinds.map((v) => v.oid)).toEqual(oids);
  });

  it('an OID answered that was not asked comes back as its own dotted text (the reader refuses it)', () => {
    const r = decodeGetResponse(response({ varbinds: [tlv(0x30, oidTlv('1.3.6.1.2.1.1.6.0'), tlv(0x05, [])), tlv(0x30, oidTlv('2.999.3'), tlv(0x05, [])), tlv(0x30, oidTlv(OIDS[2] as string), tlv(0x05, []))] }), expectation());
    expect(r.ok && r.varbinds.map((v) => v.oid)).toEqual(['1.3.6.1.2.1.1.6.0', '2.999.3', OIDS[2]]);
  });

  it.each([
    ['tooBig', 1, 0],
    ['noSuchName (v1)', 2, 3],
    ['genErr', 5, 1],
  ])('error-status %s', (_name, status, index) => {
    expect(decodeGetResponse(response({ status, index }), expectation())).toEqual({ ok: false, kind: 'error_status', status, index });
  });

  const bad: [string, () => Buffer, RegExp][] = [
    ['another community', () => response({ community: Buffer.from('publik') }), /community/],
    ['a longer community', () => response({ community: Buffer.from('public2') }), /community/],
    ['another version', () => response({ version: 0 }), /version/],
    ['another request-id', () => response({ id: ID + 1 }), /request-id/],
    ['a GetRequest PDU', () => response({ tag: 0xa0 }), /PDU tag/],
    ['a Report PDU', () => response({ tag: 0xa8 }), /PDU tag/],
    ['fewer varbinds than asked', () => response({ varbinds: [tlv(0x30, oidTlv(OIDS[0] as string), tlv(0x05, []))] }), /varbinds, asked/],
    ['more varbinds than asked', () => response({ varbinds: [0, 1, 2, 3].map(() => tlv(0x30, oidTlv(OIDS[0] as string), tlv(0x05, []))) }), /more varbinds/],
    ['an INTEGER of 5 octets', () => response({ varbinds: [tlv(0x30, oidTlv(OIDS[0] as string), tlv(0x02, [0, 0, 0, 0, 1])), ...[1, 2].map((i) => tlv(0x30, oidTlv(OIDS[i] as string), tlv(0x05, [])))] }), /INTEGER of 5/],
    ['a zero-length INTEGER', () => response({ varbinds: [tlv(0x30, oidTlv(OIDS[0] as string), tlv(0x02, [])), ...[1, 2].map((i) => tlv(0x30, oidTlv(OIDS[i] as string), tlv(0x05, [])))] }), /INTEGER of 0/],
    ['a Gauge32 over 32 bits', () => response({ varbinds: [tlv(0x30, oidTlv(OIDS[0] as string), tlv(0x42, [1, 0, 0, 0, 0])), ...[1, 2].map((i) => tlv(0x30, oidTlv(OIDS[i] as string), tlv(0x05, [])))] }), /of 5 octets/],
    ['a Counter64 over 64 bits', () => response({ varbinds: [tlv(0x30, oidTlv(OIDS[0] as string), tlv(0x46, [1, 0, 0, 0, 0, 0, 0, 0, 0])), ...[1, 2].map((i) => tlv(0x30, oidTlv(OIDS[i] as string), tlv(0x05, [])))] }), /Counter64/],
    ['an IpAddress of 5 octets', () => response({ varbinds: [tlv(0x30, oidTlv(OIDS[0] as string), tlv(0x40, [1, 2, 3, 4, 5])), ...[1, 2].map((i) => tlv(0x30, oidTlv(OIDS[i] as string), tlv(0x05, [])))] }), /IpAddress/],
    ['a NULL with content', () => response({ varbinds: [tlv(0x30, oidTlv(OIDS[0] as string), tlv(0x05, [0])), ...[1, 2].map((i) => tlv(0x30, oidTlv(OIDS[i] as string), tlv(0x05, [])))] }), /NULL/],
    ['an OID value with a 0x80 pad', () => response({ varbinds: [tlv(0x30, oidTlv(OIDS[0] as string), tlv(0x06, [0x2b, 0x80, 0x01])), ...[1, 2].map((i) => tlv(0x30, oidTlv(OIDS[i] as string), tlv(0x05, [])))] }), /0x80/],
    ['an OID cut inside a sub-identifier', () => response({ varbinds: [tlv(0x30, tlv(0x06, [0x2b, 0x86]), tlv(0x05, [])), ...[1, 2].map((i) => tlv(0x30, oidTlv(OIDS[i] as string), tlv(0x05, [])))] }), /truncated inside/],
    ['a constructed value', () => response({ varbinds: [tlv(0x30, oidTlv(OIDS[0] as string), tlv(0x30, [])), ...[1, 2].map((i) => tlv(0x30, oidTlv(OIDS[i] as string), tlv(0x05, [])))] }), /value tag/],
    ['an indefinite length', () => hex('30 80 02 01 01 00 00'), /indefinite/],
    ['a length of 5 octets', () => hex('30 85 00 00 00 00 10'), /length of 5/],
    ['a length past the datagram', () => hex('30 84 7f ff ff ff 02 01 01'), /past the end/],
    ['a varbind longer than its list', () => Buffer.concat([response().subarray(0, -1)]), /past the end|truncated/],
    ['empty', () => Buffer.alloc(0), /truncated/],
  ];
  it.each(bad)('%s is malformed', (_name, make, reason) => {
    const r = decodeGetResponse(make(), expectation());
    expect(r.ok).toBe(false);
    expect(r.ok === false && r.kind === 'malformed' && r.reason).toMatch(reason);
  });

  it('every truncation of a valid answer is malformed', () => {
    const whole = response();
    expect(decodeGetResponse(whole, expectation()).ok).toBe(true);
    for (let n = 0; n < whole.length; n++) {
      const r = decodeGetResponse(whole.subarray(0, n), expectation());
      expect(r.ok === false && r.kind, `first ${n} octets`).toBe('malformed');
    }
  });

  /** A small deterministic PRNG (mulberry32): the same cases every run. */
  const rng = (seed: number) => () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };

  it('20,000 random datagrams: never thrown, never a value', () => {
    const rand = rng(15);
    for (let k = 0; k < 20_000; k++) {
      const len = Math.floor(rand() * 120);
      const buf = Buffer.from(Array.from({ length: len }, () => Math.floor(rand() * 256)));
      // Half of them start like a message, so the decoder gets past the first octets.
      if (k % 2 === 0 && len > 2) {
        buf[0] = 0x30;
        buf[1] = len - 2;
      }
      const r = decodeGetResponse(buf, expectation());
      expect(r.ok, buf.toString('hex')).toBe(false);
    }
  });

  it('every one-octet change of a valid answer: never thrown; a value only where a value octet changed', () => {
    const whole = response();
    const ok = decodeGetResponse(whole, expectation());
    if (!ok.ok) throw new Error('fixture');
    // Where a change may make another valid answer: the value octets and type tags of the three
    // varbinds, and error-index (ignored while error-status is 0).
    const valueAt = new Set<number>();
    for (const v of [Buffer.from('pdu-7'), Buffer.from([0x09, 0xc4]), Buffer.from([0x00, 0xff, 0xff, 0xff, 0xff])]) {
      const at = whole.lastIndexOf(v);
      for (let i = -2; i < v.length; i += i === -2 ? 2 : 1) valueAt.add(at + i);
    }
    valueAt.add(whole.indexOf(int(ID)) + int(ID).length + 3 + 2);
    for (let i = 0; i < whole.length; i++) {
      for (const x of [0x01, 0x80, 0xff]) {
        const m = Buffer.from(whole);
        m[i] = (m[i] as number) ^ x;
        const r = decodeGetResponse(m, expectation());
        if (r.ok) {
          expect(valueAt.has(i) || r.varbinds.some((v, j) => v.oid !== ok.varbinds[j]?.oid), `octet ${i} ^ ${x}`).toBe(true);
          expect(r.varbinds).toHaveLength(3);
        }
      }
    }
  });
});
