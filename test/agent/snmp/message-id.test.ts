import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { messageKey } from '../../../agent/snmp/message-id.js';

const netSnmp = createRequire(import.meta.url)('net-snmp') as {
  createSession(target: string, community: string, options: Record<string, unknown>): { get(o: string[], cb: () => void): void; getBulk(o: string[], n: number, r: number, cb: () => void): void; close(): void };
  Version2c: number;
};

/** A minimal BER encoder for the test messages (definite lengths, short or long form). */
const tlv = (tag: number, body: Buffer): Buffer => {
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
};
/** INTEGER in the fewest two's-complement octets. */
const int = (v: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  let from = 0;
  while (from < 3 && ((b[from] === 0 && !((b[from + 1] as number) & 0x80)) || (b[from] === 0xff && (b[from + 1] as number) & 0x80))) from++;
  return tlv(0x02, b.subarray(from));
};
const str = (s: string | Buffer) => tlv(0x04, Buffer.isBuffer(s) ? s : Buffer.from(s));
const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const varbinds = (n: number) => seq(...Array.from({ length: n }, (_, i) => seq(tlv(0x06, Buffer.from([0x2b, 6, 1, 4, 1, i & 0x7f])), tlv(0x05, Buffer.alloc(0)))));
const pdu = (tag: number, id: number, n = 1) => tlv(tag, Buffer.concat([int(id), int(0), int(0), varbinds(n)]));
const community = (version: number, c: string, id: number, n = 1, tag = 0xa0) => seq(int(version), str(c), pdu(tag, id, n));
const v3 = (msgId: number) => seq(int(3), seq(int(msgId), int(65507), str(Buffer.from([4])), int(3)), str(Buffer.alloc(0)), str(Buffer.from('encrypted scoped pdu')));

describe('messageKey', () => {
  it.each([
    [0, 'public', 12345],
    [1, 'public', 99_999_999],
    [1, 'a-much-longer-community-name-'.repeat(5), 7],
    [1, 'x', 0],
    [1, 'x', 127],
    [1, 'x', 128],
    [1, 'x', 2 ** 31 - 1],
    [0, 'x', 65535],
  ])('v%s community %#: request-id %s', (version, c, id) => {
    expect(messageKey(community(version, c, id))).toEqual({ version, id });
  });

  it.each([0xa1, 0xa2, 0xa5, 0xa8])('any PDU type (tag 0x%s): GetNext, Response, GetBulk, Report', (tag) => {
    expect(messageKey(community(1, 'public', 4242, 1, tag))).toEqual({ version: 1, id: 4242 });
  });

  it('v3: the msgID in clear, not the (encrypted) PDU request-id', () => {
    expect(messageKey(v3(123456))).toEqual({ version: 3, id: 123456 });
  });

  it('a datagram cut short: no key, unless asked for the key of a cut answer; never when the id itself is cut', () => {
    const whole = community(1, 'public', 0x4000_1234, 3, 0xa2);
    const idEnd = whole.indexOf(int(0x4000_1234)) + int(0x4000_1234).length;
    for (const n of [whole.length - 1, idEnd + 3, idEnd]) {
      expect(messageKey(whole.subarray(0, n)), `first ${n} octets`).toBeUndefined();
      expect(messageKey(whole.subarray(0, n), { cut: true }), `first ${n} octets, cut`).toEqual({ version: 1, id: 0x4000_1234 });
    }
    for (const n of [idEnd - 1, idEnd - 4, 3]) expect(messageKey(whole.subarray(0, n), { cut: true }), `first ${n} octets`).toBeUndefined();
  });

  it('a many-varbind message with long-form lengths', () => {
    const buf = community(1, 'public', 777, 60);
    expect(buf.length).toBeGreaterThan(256);
    expect(messageKey(buf)).toEqual({ version: 1, id: 777 });
  });

  it('reads what net-snmp sends: every request a session writes has a key', () => {
    const sent: Buffer[] = [];
    const fakeDgram = { createSocket: () => Object.assign(new EventEmitter(), { unref() {}, ref() {}, close() {}, send: (b: Buffer) => sent.push(Buffer.from(b)) }) };
    const s = netSnmp.createSession('127.0.0.1', 'public', { version: netSnmp.Version2c, dgramModule: fakeDgram, retries: 0, timeout: 10 });
    s.get(['1.3.6.1.2.1.1.5.0'], () => undefined);
    s.getBulk(['1.3.6.1.2.1.2.2.1.2'], 0, 10, () => undefined);
    s.close();
    expect(sent).toHaveLength(2);
    for (const b of sent) expect(messageKey(b)).toEqual({ version: 1, id: expect.any(Number) });
  });

  const good = community(1, 'public', 5);
  it.each([
    ['empty', Buffer.alloc(0)],
    ['one byte', Buffer.from([0x30])],
    ['not a sequence', Buffer.from([0x31, 0x03, 0x02, 0x01, 0x01])],
    ['truncated', good.subarray(0, good.length - 20)],
    ['length longer than the datagram', Buffer.from([0x30, 0x84, 0xff, 0xff, 0xff, 0xff])],
    ['version 2 (not on the wire)', Buffer.from([0x30, 0x05, 0x02, 0x01, 0x02, 0x04, 0x00])],
    ['not a PDU tag', Buffer.from([0x30, 0x0a, 0x02, 0x01, 0x01, 0x04, 0x00, 0x30, 0x03, 0x02, 0x01, 0x05])],
    ['integer of 9 octets', Buffer.from([0x30, 0x0e, 0x02, 0x01, 0x01, 0x04, 0x00, 0xa0, 0x09, 0x02, 0x09, 1, 2, 3, 4, 5, 6, 7, 8, 9].slice(0, 16))],
    ['random bytes', Buffer.from('deadbeefcafebabe0011223344556677', 'hex')],
  ])('%s → undefined', (_label, buf) => {
    expect(messageKey(buf)).toBeUndefined();
  });

  it('a negative request-id (another manager\'s encoder) is read as signed', () => {
    // SEQUENCE { INTEGER 1, OCTET STRING "", GetRequest { INTEGER -2 … } }
    const buf = Buffer.from([0x30, 0x0c, 0x02, 0x01, 0x01, 0x04, 0x00, 0xa0, 0x05, 0x02, 0x01, 0xfe, 0x02, 0x00]);
    buf[1] = buf.length - 2;
    buf[8] = buf.length - 9;
    expect(messageKey(buf)).toEqual({ version: 1, id: -2 });
  });
});
