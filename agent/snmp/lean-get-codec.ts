import { SnmpType, type Varbind } from './asn1-types.js';

/**
 * SNMP v1/v2c GetRequest / GetResponse in BER (X.690 §8; RFC 1157, RFC 3416 §3), for the agent's
 * polling hot path only (lean-snmp-transport.ts says why it is not net-snmp's). Pure.
 *
 *   Message      SEQUENCE { version INTEGER (0 = v1, 1 = v2c), community OCTET STRING, PDU }
 *   PDU          [0] GetRequest / [2] GetResponse IMPLICIT SEQUENCE {
 *                  request-id INTEGER, error-status INTEGER, error-index INTEGER,
 *                  variable-bindings SEQUENCE OF SEQUENCE { name OBJECT IDENTIFIER, value } }
 *
 * The varbind list of a GET (every value NULL) depends only on the OIDs, so it is encoded once
 * per OID list (`encodeGetList`) and shared by every device polled with it; a request adds the
 * 20-odd header octets around it. An answer is decoded straight from the datagram: OIDs equal to
 * the ones asked reuse the asked strings, values become numbers, strings or views on the
 * datagram, as net-snmp hands them over (asn1-types.ts `Varbind`).
 *
 * Anything that breaks the grammar (lengths past their container, the indefinite form, integers
 * of zero or too many octets, an OID with a non-minimal sub-identifier, a constructed or
 * multi-octet tag where a value belongs) makes the whole answer `malformed`, never a value.
 */

/** A GET's varbind list, encoded once. */
export interface EncodedGetList {
  readonly oids: readonly string[];
  /** SEQUENCE OF VarBind with NULL values: the tail of every GetRequest for these OIDs. */
  readonly bytes: Buffer;
  /** Start and end of each OID's content octets inside `bytes`, two entries per OID. */
  readonly oidAt: Uint32Array;
}

export type GetAnswer =
  | { ok: true; varbinds: Varbind[] }
  /** error-status ≠ 0 (tooBig, noSuchName, genErr …): the reader splits or fails the batch. */
  | { ok: false; kind: 'error_status'; status: number; index: number }
  | { ok: false; kind: 'malformed'; reason: string };

/** What the answer must echo: the request it answers. */
export interface GetExpectation {
  version: number;
  community: Buffer;
  id: number;
  list: EncodedGetList;
}

/**
 * Request ids of the lean path: always four content octets with the top bit clear, so a request
 * is the same length whatever its id (X.690 §8.3.2 forbids padding a shorter integer), and
 * disjoint from net-snmp's ids (0 … 10^8) on the shared socket.
 */
export const LEAN_ID_MIN = 0x4000_0000;
export const LEAN_ID_MAX = 0x7fff_ffff;

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
const NULL = 0x05;
const OID = 0x06;
const GET_REQUEST = 0xa0;
const GET_RESPONSE = 0xa2;
/** RFC 2578 §7.1.3: at most 128 sub-identifiers, each at most 2^32 − 1. */
const MAX_SUBIDS = 128;

/** The content octets of an OID in dotted form; undefined when it is not one. */
export function encodeOid(oid: string): number[] | undefined {
  const arcs = oid.split('.');
  if (arcs.length < 2 || arcs.length > MAX_SUBIDS) return undefined;
  const n: number[] = [];
  for (const a of arcs) {
    if (!/^\d{1,10}$/.test(a)) return undefined;
    const v = Number(a);
    if (v > 0xffff_ffff) return undefined;
    n.push(v);
  }
  const [first, second] = n as [number, number];
  // X.690 §8.19.4: the first two arcs share one sub-identifier, 40 × first + second.
  if (first > 2 || (first < 2 && second > 39)) return undefined;
  const out: number[] = [];
  const sub = (v: number) => {
    const septets: number[] = [v % 128];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) septets.unshift((x % 128) | 0x80);
    out.push(...septets);
  };
  sub(first * 40 + second);
  for (let i = 2; i < n.length; i++) sub(n[i] as number);
  return out;
}

export function encodeGetList(oids: readonly string[]): EncodedGetList {
  const items = oids.map((oid) => {
    const content = encodeOid(oid);
    if (!content) throw new Error(`not an OID: ${JSON.stringify(oid)}`);
    const name = [OID, ...lengthOctets(content.length), ...content];
    return { name, contentLength: content.length };
  });
  const varbinds = items.map(({ name }) => [SEQUENCE, ...lengthOctets(name.length + 2), ...name, NULL, 0]);
  const body = varbinds.reduce((s, v) => s + v.length, 0);
  const head = [SEQUENCE, ...lengthOctets(body)];
  const bytes = Buffer.from([...head, ...varbinds.flat()]);
  const oidAt = new Uint32Array(oids.length * 2);
  let at = head.length;
  items.forEach(({ contentLength }, i) => {
    const vb = varbinds[i] as number[];
    // The OID's content ends 2 octets (the NULL) before its varbind does.
    const end = at + vb.length - 2;
    oidAt[2 * i] = end - contentLength;
    oidAt[2 * i + 1] = end;
    at += vb.length;
  });
  return { oids: [...oids], bytes, oidAt };
}

/** One GetRequest datagram: the header around the shared varbind list. */
export function encodeGetRequest(version: number, community: Buffer, id: number, list: EncodedGetList): Buffer {
  if (!Number.isInteger(id) || id < LEAN_ID_MIN || id > LEAN_ID_MAX) throw new RangeError(`request-id ${id} outside the lean range`);
  const pduBody = 6 + 3 + 3 + list.bytes.length;
  const pduLen = 1 + lengthSize(pduBody) + pduBody;
  const msgBody = 3 + 1 + lengthSize(community.length) + community.length + pduLen;
  const buf = Buffer.allocUnsafe(1 + lengthSize(msgBody) + msgBody);
  let p = writeHeader(buf, 0, SEQUENCE, msgBody);
  buf[p++] = INTEGER;
  buf[p++] = 1;
  buf[p++] = version;
  p = writeHeader(buf, p, OCTET_STRING, community.length);
  p += community.copy(buf, p);
  p = writeHeader(buf, p, GET_REQUEST, pduBody);
  buf[p++] = INTEGER;
  buf[p++] = 4;
  buf.writeInt32BE(id, p);
  p += 4;
  // error-status and error-index: 0 in a request.
  buf[p++] = INTEGER;
  buf[p++] = 1;
  buf[p++] = 0;
  buf[p++] = INTEGER;
  buf[p++] = 1;
  buf[p++] = 0;
  list.bytes.copy(buf, p);
  return buf;
}

/** Thrown inside the decoder only, caught by decodeGetResponse: bad bytes are a result, not an exception. */
class Malformed {
  constructor(readonly reason: string) {}
}

/**
 * Reads one TLV header at `r.pos` within `r.end`; returns the content length and leaves `r.pos`
 * on the content. A class rather than closures: one small object per answer.
 */
class Reader {
  pos = 0;
  constructor(
    readonly buf: Buffer,
    public end: number,
  ) {}

  header(tag: number, what: string): number {
    const b = this.buf;
    if (this.pos >= this.end) throw new Malformed(`${what}: truncated`);
    if (b[this.pos] !== tag) throw new Malformed(`${what}: tag 0x${(b[this.pos] as number).toString(16)}, expected 0x${tag.toString(16)}`);
    this.pos++;
    return this.length(what);
  }

  /** X.690 §8.1.3: short form below 0x80, long form 0x81–0x84 here (a datagram is < 64 KiB); 0x80 (indefinite) is not allowed in SNMP. */
  length(what: string): number {
    const b = this.buf;
    if (this.pos >= this.end) throw new Malformed(`${what}: length truncated`);
    const first = b[this.pos++] as number;
    let len = first;
    if (first >= 0x80) {
      const octets = first & 0x7f;
      if (octets === 0) throw new Malformed(`${what}: indefinite length`);
      if (octets > 4) throw new Malformed(`${what}: length of ${octets} octets`);
      if (this.pos + octets > this.end) throw new Malformed(`${what}: length truncated`);
      len = 0;
      for (let i = 0; i < octets; i++) len = len * 256 + (b[this.pos++] as number);
    }
    if (len > this.end - this.pos) throw new Malformed(`${what}: length ${len} past the end (${this.end - this.pos} left)`);
    return len;
  }
}

/** A signed big-endian two's-complement integer of `len` (1–4) octets at `at` (X.690 §8.3.3). */
function signedAt(b: Buffer, at: number, len: number): number {
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + (b[at + i] as number);
  return (b[at] as number) & 0x80 ? v - 2 ** (8 * len) : v;
}

export function decodeGetResponse(msg: Buffer, expect: GetExpectation): GetAnswer {
  try {
    return decode(msg, expect);
  } catch (e) {
    if (e instanceof Malformed) return { ok: false, kind: 'malformed', reason: e.reason };
    throw e;
  }
}

function decode(msg: Buffer, x: GetExpectation): GetAnswer {
  const r = new Reader(msg, msg.length);
  const msgLen = r.header(SEQUENCE, 'message');
  // Octets after the message are ignored, as net-snmp does; inside it everything must add up.
  r.end = r.pos + msgLen;
  const version = intField(r, 'version');
  if (version !== x.version) throw new Malformed(`version ${version}, asked ${x.version}`);
  const cLen = r.header(OCTET_STRING, 'community');
  if (cLen !== x.community.length || msg.compare(x.community, 0, cLen, r.pos, r.pos + cLen) !== 0) throw new Malformed('community differs from the one asked');
  r.pos += cLen;
  if (r.pos >= r.end || msg[r.pos] !== GET_RESPONSE) throw new Malformed(`PDU tag 0x${(msg[r.pos] ?? 0).toString(16)}, expected GetResponse 0xa2`);
  const pduLen = r.header(GET_RESPONSE, 'pdu');
  if (r.pos + pduLen !== r.end) throw new Malformed('octets after the PDU inside the message');
  const id = intField(r, 'request-id');
  if (id !== x.id) throw new Malformed(`request-id ${id}, asked ${x.id}`);
  const status = intField(r, 'error-status');
  const index = intField(r, 'error-index');
  const listLen = r.header(SEQUENCE, 'varbind list');
  if (r.pos + listLen !== r.end) throw new Malformed('octets after the varbind list');
  // RFC 3416 §4.2.1: with a non-zero error-status the varbinds are only an echo of the request.
  if (status !== 0) {
    if (status < 0) throw new Malformed(`error-status ${status}`);
    return { ok: false, kind: 'error_status', status, index };
  }
  const asked = x.list;
  const n = asked.oids.length;
  const varbinds: Varbind[] = [];
  while (r.pos < r.end) {
    if (varbinds.length === n) throw new Malformed(`more varbinds than the ${n} asked`);
    const vbLen = r.header(SEQUENCE, 'varbind');
    const vbEnd = r.pos + vbLen;
    const oidLen = r.header(OID, 'varbind name');
    const i = varbinds.length;
    const oid = sameOctets(msg, r.pos, oidLen, asked, i) ? (asked.oids[i] as string) : oidText(msg, r.pos, oidLen);
    r.pos += oidLen;
    const vb = value(r, vbEnd, oid);
    if (r.pos !== vbEnd) throw new Malformed('octets after a varbind value');
    varbinds.push(vb);
  }
  if (varbinds.length !== n) throw new Malformed(`${varbinds.length} varbinds, asked ${n}`);
  return { ok: true, varbinds };
}

function intField(r: Reader, what: string): number {
  const len = r.header(INTEGER, what);
  if (len === 0 || len > 4) throw new Malformed(`${what}: integer of ${len} octets`);
  const v = signedAt(r.buf, r.pos, len);
  r.pos += len;
  return v;
}

/** Does the answer's OID at `at` carry the same octets as the i-th OID asked? */
function sameOctets(b: Buffer, at: number, len: number, asked: EncodedGetList, i: number): boolean {
  if (i >= asked.oids.length) return false;
  const from = asked.oidAt[2 * i] as number;
  if ((asked.oidAt[2 * i + 1] as number) - from !== len) return false;
  const q = asked.bytes;
  for (let k = 0; k < len; k++) if (b[at + k] !== q[from + k]) return false;
  return true;
}

/** OID content octets in dotted form (X.690 §8.19), refusing non-minimal and oversize sub-identifiers. */
function oidText(b: Buffer, at: number, len: number): string {
  if (len === 0) throw new Malformed('empty OID');
  const parts: number[] = [];
  let v = 0;
  let fresh = true;
  for (let k = 0; k < len; k++) {
    const byte = b[at + k] as number;
    if (fresh && byte === 0x80) throw new Malformed('OID sub-identifier with a leading 0x80');
    v = v * 128 + (byte & 0x7f);
    if (v > 0xffff_ffff + 80) throw new Malformed('OID sub-identifier over 32 bits');
    fresh = (byte & 0x80) === 0;
    if (fresh) {
      parts.push(v);
      v = 0;
    }
  }
  if (!fresh) throw new Malformed('OID truncated inside a sub-identifier');
  if (parts.length + 1 > MAX_SUBIDS) throw new Malformed(`OID of more than ${MAX_SUBIDS} sub-identifiers`);
  const first = parts[0] as number;
  const head = first < 40 ? `0.${first}` : first < 80 ? `1.${first - 40}` : `2.${first - 80}`;
  for (let k = 1; k < parts.length; k++) if ((parts[k] as number) > 0xffff_ffff) throw new Malformed('OID sub-identifier over 32 bits');
  return parts.length === 1 ? head : `${head}.${parts.slice(1).join('.')}`;
}

/** One varbind value, as net-snmp hands it over (asn1-types.ts). */
function value(r: Reader, end: number, oid: string): Varbind {
  const b = r.buf;
  if (r.pos >= end) throw new Malformed('varbind without a value');
  const tag = b[r.pos] as number;
  // A value is one primitive TLV with a one-octet tag.
  if ((tag & 0x20) !== 0 || (tag & 0x1f) === 0x1f) throw new Malformed(`value tag 0x${tag.toString(16)}`);
  r.pos++;
  const saved = r.end;
  r.end = end;
  const len = r.length('value');
  r.end = saved;
  const at = r.pos;
  r.pos += len;
  switch (tag) {
    case SnmpType.Integer:
      if (len === 0 || len > 4) throw new Malformed(`INTEGER of ${len} octets`);
      return { oid, type: tag, value: signedAt(b, at, len) };
    case SnmpType.Counter32:
    case SnmpType.Gauge32:
    case SnmpType.TimeTicks: {
      // Unsigned32 (RFC 2578 §7.1.7) needs a 5th octet, 0x00, above 2^31 − 1; agents that send
      // four octets with the top bit set mean the unsigned value, and net-snmp reads them so.
      if (len === 5 && b[at] === 0) return { oid, type: tag, value: signedAt(b, at + 1, 4) >>> 0 };
      if (len === 0 || len > 4) throw new Malformed(`${tag === SnmpType.TimeTicks ? 'TimeTicks' : 'Counter32/Gauge32'} of ${len} octets`);
      return { oid, type: tag, value: signedAt(b, at, len) >>> 0 };
    }
    case SnmpType.Counter64:
      // Up to 2^64 − 1: eight octets, a ninth (0x00) when the top bit is set. The decoder reads the bytes.
      if (len === 0 || len > 9 || (len === 9 && b[at] !== 0)) throw new Malformed(`Counter64 of ${len} octets`);
      return { oid, type: tag, value: b.subarray(at, at + len) };
    case SnmpType.OctetString:
    case SnmpType.Opaque:
      return { oid, type: tag, value: b.subarray(at, at + len) };
    case SnmpType.IpAddress:
      if (len !== 4) throw new Malformed(`IpAddress of ${len} octets`);
      return { oid, type: tag, value: `${b[at]}.${b[at + 1]}.${b[at + 2]}.${b[at + 3]}` };
    case SnmpType.OID:
      return { oid, type: tag, value: oidText(b, at, len) };
    case SnmpType.Null:
    case SnmpType.NoSuchObject:
    case SnmpType.NoSuchInstance:
    case SnmpType.EndOfMibView:
      if (len !== 0) throw new Malformed(`${tag === SnmpType.Null ? 'NULL' : 'exception'} with ${len} content octets`);
      return { oid, type: tag, value: null };
    default:
      // A type the profile decoders do not know (BIT STRING, NsapAddress …) fails that point only, as DCIM_E_SNMP_BAD_TYPE.
      return { oid, type: tag, value: b.subarray(at, at + len) };
  }
}

function lengthSize(len: number): number {
  return len < 0x80 ? 1 : len < 0x100 ? 2 : len < 0x10000 ? 3 : 4;
}

function lengthOctets(len: number): number[] {
  if (len < 0x80) return [len];
  if (len < 0x100) return [0x81, len];
  if (len < 0x10000) return [0x82, len >> 8, len & 0xff];
  return [0x83, len >> 16, (len >> 8) & 0xff, len & 0xff];
}

function writeHeader(buf: Buffer, p: number, tag: number, len: number): number {
  buf[p++] = tag;
  const size = lengthSize(len);
  if (size === 1) buf[p++] = len;
  else {
    buf[p++] = 0x80 | (size - 1);
    for (let k = size - 2; k >= 0; k--) buf[p++] = (len >> (8 * k)) & 0xff;
  }
  return p;
}
