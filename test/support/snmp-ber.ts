import { encodeOid } from '../../agent/snmp/lean-get-codec.js';

/**
 * BER builders for hand-made SNMP datagrams in tests: answers a scripted responder sends, good or
 * broken on purpose. Written from X.690 (definite lengths, minimal two's-complement integers)
 * rather than with the codec under test, except the OID bytes, which the codec's own tests hold
 * to X.690's examples.
 */

/** One TLV: tag, definite length (short form, or long form of one or two octets), content. */
export function tlv(tag: number, ...content: (Buffer | number[])[]): Buffer {
  const body = Buffer.concat(content.map((c) => (Buffer.isBuffer(c) ? c : Buffer.from(c))));
  const n = body.length;
  const len = n < 0x80 ? [n] : n < 0x100 ? [0x81, n] : [0x82, n >> 8, n & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

/** An INTEGER in minimal two's complement (X.690 §8.3.2). */
export function int(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v);
  let i = 0;
  while (i < 3 && ((b[i] === 0 && !((b[i + 1] as number) & 0x80)) || (b[i] === 0xff && (b[i + 1] as number) & 0x80))) i++;
  return tlv(0x02, b.subarray(i));
}

export const oidTlv = (oid: string): Buffer => tlv(0x06, encodeOid(oid) as number[]);

/** A varbind: SEQUENCE { name OID, value }. */
export const varbind = (oid: string, value: Buffer): Buffer => tlv(0x30, oidTlv(oid), value);

/** A whole message: version, community, then a PDU (GetResponse unless `tag` says otherwise). */
export function snmpMessage(o: { version: number; community: string | Buffer; id: number; varbinds: Buffer[]; tag?: number | undefined; status?: number | undefined; index?: number | undefined }): Buffer {
  const community = typeof o.community === 'string' ? Buffer.from(o.community) : o.community;
  return tlv(0x30, int(o.version), tlv(0x04, community), tlv(o.tag ?? 0xa2, int(o.id), int(o.status ?? 0), int(o.index ?? 0), tlv(0x30, ...o.varbinds)));
}
