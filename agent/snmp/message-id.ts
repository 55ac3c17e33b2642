/**
 * The number that pairs an SNMP response with its request, read straight from the BER bytes
 * (RFC 3416 / RFC 3412), without decoding the rest of the message. Pure.
 *
 *   v1/v2c  SEQUENCE { version, community, PDU { request-id, … } }   → request-id
 *   v3      SEQUENCE { version, SEQUENCE { msgID, … }, … }           → msgID
 *
 * v3 answers are paired by msgID, which travels in clear even when the scoped PDU is encrypted,
 * so one shared UDP socket can hand every answer to the session that asked (snmp-socket-pool.ts).
 */
export interface MessageKey {
  /** 0 = v1, 1 = v2c, 3 = v3, as on the wire. */
  version: number;
  id: number;
}

const SEQUENCE = 0x30;
const INTEGER = 0x02;
const OCTET_STRING = 0x04;
/** Context-specific constructed tags of the PDUs (GetRequest 0xa0 … Report 0xa8). */
const PDU_FIRST = 0xa0;
const PDU_LAST = 0xa8;

/**
 * `cut: true` reads the key of a datagram cut short: the message and PDU may claim more octets
 * than arrived, as long as the fields up to the id are whole. Only for blaming a cut answer on
 * the request it names (snmp-socket-pool.ts); such a message is never decoded as an answer.
 */
export function messageKey(buf: Uint8Array, opts: { cut?: boolean } = {}): MessageKey | undefined {
  const cut = opts.cut === true;
  const outer = header(buf, 0, SEQUENCE, cut);
  if (!outer) return undefined;
  const version = integer(buf, outer.body);
  if (!version) return undefined;
  if (version.value === 3) {
    const global = header(buf, version.next, SEQUENCE, cut);
    if (!global) return undefined;
    const msgId = integer(buf, global.body);
    return msgId ? { version: 3, id: msgId.value } : undefined;
  }
  if (version.value !== 0 && version.value !== 1) return undefined;
  const community = header(buf, version.next, OCTET_STRING);
  if (!community) return undefined;
  const pduAt = community.body + community.length;
  const tag = buf[pduAt];
  if (tag === undefined || tag < PDU_FIRST || tag > PDU_LAST) return undefined;
  const pdu = header(buf, pduAt, tag, cut);
  if (!pdu) return undefined;
  const reqId = integer(buf, pdu.body);
  return reqId ? { version: version.value, id: reqId.value } : undefined;
}

/** Tag and length at `at`; the body starts at `body`. Undefined when the bytes run out or lie (a container may run past them when `cut`). */
function header(buf: Uint8Array, at: number, tag: number, cut = false): { body: number; length: number } | undefined {
  if (buf[at] !== tag) return undefined;
  const first = buf[at + 1];
  if (first === undefined) return undefined;
  let length: number;
  let body: number;
  if (first < 0x80) {
    length = first;
    body = at + 2;
  } else {
    const octets = first & 0x7f;
    // Messages are at most 64 KiB (one UDP datagram): more than 3 length octets is garbage.
    if (octets === 0 || octets > 3) return undefined;
    length = 0;
    for (let i = 0; i < octets; i++) {
      const b = buf[at + 2 + i];
      if (b === undefined) return undefined;
      length = length * 256 + b;
    }
    body = at + 2 + octets;
  }
  if (body + length > buf.length && !cut) return undefined;
  return { body, length };
}

/** A signed INTEGER of at most 4 octets (request-id and msgID are Integer32). */
function integer(buf: Uint8Array, at: number): { value: number; next: number } | undefined {
  const h = header(buf, at, INTEGER);
  if (!h || h.length === 0 || h.length > 5) return undefined;
  let value = 0;
  for (let i = 0; i < h.length; i++) value = value * 256 + (buf[h.body + i] as number);
  // Two's complement: a leading 1 bit is negative (a 5th octet only carries a 0x00 sign pad).
  if (h.length <= 4 && (buf[h.body] as number) & 0x80) value -= 2 ** (8 * h.length);
  if (h.length === 5 && buf[h.body] !== 0) return undefined;
  return { value, next: h.body + h.length };
}
