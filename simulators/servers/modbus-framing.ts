/**
 * Modbus framing on a TCP byte stream, pure: MBAP (Modbus Messaging on TCP/IP Implementation
 * Guide v1.0b §3.1.3) and raw RTU frames with CRC as transparent serial-to-Ethernet gateways
 * pass them ("RTU over TCP"; Modbus over Serial Line v1.02 §2.5.1). Feed bytes in, get whole
 * requests out; state is the bytes not yet framed.
 */

export interface ModbusRequestFrame {
  unit: number;
  /** Function code and data. */
  pdu: Buffer;
  /** MBAP transaction id (0 for RTU). */
  transaction: number;
}

export interface FramerOutput {
  frames: ModbusRequestFrame[];
  /** Frames dropped: non-Modbus protocol id (MBAP), bad CRC or unframeable bytes (RTU). */
  dropped: number;
  /** The stream cannot be resynchronised (MBAP length out of range): close the connection. */
  fatal: boolean;
}

/** An MBAP length counts the unit id and the PDU; a PDU is 1..253 bytes. */
const MBAP_MIN_LENGTH = 2;
const MBAP_MAX_LENGTH = 254;
const MBAP_HEADER = 7;

export class MbapFramer {
  private pending: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): FramerOutput {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const out: FramerOutput = { frames: [], dropped: 0, fatal: false };
    while (this.pending.length >= MBAP_HEADER) {
      const length = this.pending.readUInt16BE(4);
      if (length < MBAP_MIN_LENGTH || length > MBAP_MAX_LENGTH) {
        this.pending = Buffer.alloc(0);
        out.fatal = true;
        return out;
      }
      if (this.pending.length < 6 + length) break;
      const transaction = this.pending.readUInt16BE(0);
      const protocol = this.pending.readUInt16BE(2);
      const unit = this.pending[6]!;
      const pdu = Buffer.from(this.pending.subarray(MBAP_HEADER, 6 + length));
      this.pending = this.pending.subarray(6 + length);
      if (protocol !== 0) out.dropped++;
      else out.frames.push({ unit, pdu, transaction });
    }
    return out;
  }
}

export function mbapFrame(transaction: number, unit: number, pdu: Buffer): Buffer {
  const out = Buffer.alloc(MBAP_HEADER + pdu.length);
  out.writeUInt16BE(transaction & 0xffff, 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt16BE(pdu.length + 1, 4);
  out[6] = unit;
  pdu.copy(out, MBAP_HEADER);
  return out;
}

/** CRC-16/MODBUS (poly 0xA001 reflected, init 0xFFFF), sent low byte first. */
export function crc16(data: Buffer): number {
  let crc = 0xffff;
  for (const byte of data) {
    crc ^= byte;
    for (let i = 0; i < 8; i++) crc = crc & 1 ? (crc >>> 1) ^ 0xa001 : crc >>> 1;
  }
  return crc;
}

export function rtuFrame(unit: number, pdu: Buffer): Buffer {
  const out = Buffer.alloc(pdu.length + 3);
  out[0] = unit;
  pdu.copy(out, 1);
  out.writeUInt16LE(crc16(out.subarray(0, out.length - 2)), out.length - 2);
  return out;
}

/** RTU ADU: unit + PDU + CRC; at most 256 bytes (Modbus over Serial Line §2.5.1.1). */
const RTU_MAX = 256;

/**
 * Bytes a request ADU of this function needs, from what has arrived, or 0 while unknown. RTU has
 * no length field: a slave knows the request length from the function code (and byte count).
 */
function rtuRequestLength(buf: Buffer): number | 'unknown' {
  if (buf.length < 2) return 0;
  const fc = buf[1]!;
  switch (fc) {
    case 0x01:
    case 0x02:
    case 0x03:
    case 0x04:
    case 0x05:
    case 0x06:
    case 0x08:
      return 8;
    case 0x07:
    case 0x0b:
    case 0x0c:
    case 0x11:
      return 4;
    case 0x0f:
    case 0x10:
      return buf.length < 7 ? 0 : 9 + buf[6]!;
    case 0x16:
      return 10;
    case 0x17:
      return buf.length < 11 ? 0 : 13 + buf[10]!;
    case 0x18:
      return 6;
    case 0x2b:
      return buf.length < 3 ? 0 : buf[2] === 0x0e ? 7 : 'unknown';
    default:
      return 'unknown';
  }
}

/**
 * RTU frames from a TCP stream. A frame with a bad CRC is dropped with everything buffered
 * after it, as a serial slave discards a garbled frame and waits for the line to go quiet; a
 * partial frame older than `stale_ms` is dropped the same way (the gap a serial line would show).
 */
export class RtuFramer {
  private pending: Buffer = Buffer.alloc(0);
  private since_ms = 0;

  constructor(private readonly stale_ms = 1000) {}

  push(chunk: Buffer, now_ms: number): FramerOutput {
    const out: FramerOutput = { frames: [], dropped: 0, fatal: false };
    if (this.pending.length > 0 && now_ms - this.since_ms > this.stale_ms) {
      this.pending = Buffer.alloc(0);
      out.dropped++;
    }
    if (this.pending.length === 0) this.since_ms = now_ms;
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length > 0) {
      const need = rtuRequestLength(this.pending);
      // An unknown function's length is whatever arrived together (one frame per segment).
      const length = need === 'unknown' ? this.pending.length : need;
      if (length === 0 || this.pending.length < length) {
        if (this.pending.length > RTU_MAX) {
          this.pending = Buffer.alloc(0);
          out.dropped++;
        }
        break;
      }
      const adu = this.pending.subarray(0, length);
      if (length < 4 || length > RTU_MAX || crc16(adu.subarray(0, length - 2)) !== adu.readUInt16LE(length - 2)) {
        this.pending = Buffer.alloc(0);
        out.dropped++;
        break;
      }
      out.frames.push({ unit: adu[0]!, pdu: Buffer.from(adu.subarray(1, length - 2)), transaction: 0 });
      this.pending = this.pending.subarray(length);
      this.since_ms = now_ms;
    }
    return out;
  }
}
