import { readImage, type RegisterImage, type RegisterKind } from '../encode/modbus-registers.js';

/**
 * The Modbus application layer of a read-only device, pure: a request PDU (function code and
 * data, no unit id, no framing) and the device's register image in, the response PDU out,
 * following the function state diagrams of the Modbus Application Protocol v1.1b3 §6:
 * quantity out of range → exception 3, address outside the device → 2, unsupported function → 1.
 * A PDU whose length does not match what its function implies is exception 3 too (§7: "the
 * implied length is incorrect").
 */

export const FC = {
  read_coils: 0x01,
  read_discrete_inputs: 0x02,
  read_holding_registers: 0x03,
  read_input_registers: 0x04,
  write_single_coil: 0x05,
  write_single_register: 0x06,
  write_multiple_coils: 0x0f,
  write_multiple_registers: 0x10,
} as const;

export const EXCEPTION = { illegal_function: 1, illegal_data_address: 2, illegal_data_value: 3, server_device_failure: 4 } as const;

const READS: Record<number, { kind: RegisterKind; max: number; bits: boolean }> = {
  [FC.read_coils]: { kind: 'coil', max: 2000, bits: true },
  [FC.read_discrete_inputs]: { kind: 'discrete', max: 2000, bits: true },
  [FC.read_holding_registers]: { kind: 'holding', max: 125, bits: false },
  [FC.read_input_registers]: { kind: 'input', max: 125, bits: false },
};

export function exceptionPdu(fc: number, code: number): Buffer {
  return Buffer.from([(fc | 0x80) & 0xff, code]);
}

/** The response PDU to `pdu`; `image` is read only when the request is well formed. */
export function answerPdu(pdu: Buffer, image: () => RegisterImage): Buffer {
  const fc = pdu[0] ?? 0;
  const read = READS[fc];
  if (read) {
    if (pdu.length !== 5) return exceptionPdu(fc, EXCEPTION.illegal_data_value);
    const address = pdu.readUInt16BE(1);
    const count = pdu.readUInt16BE(3);
    if (count < 1 || count > read.max) return exceptionPdu(fc, EXCEPTION.illegal_data_value);
    if (address + count > 0x10000) return exceptionPdu(fc, EXCEPTION.illegal_data_address);
    const r = readImage(image(), read.kind, address, count);
    if (!r.ok) return exceptionPdu(fc, r.exception);
    return read.bits ? bitsResponse(fc, r.words) : registersResponse(fc, r.words);
  }
  const malformedWrite = writeMalformed(fc, pdu);
  if (malformedWrite === undefined) return exceptionPdu(fc, EXCEPTION.illegal_function);
  if (malformedWrite) return exceptionPdu(fc, EXCEPTION.illegal_data_value);
  // A well-formed write to a read-only device: nothing there may be written.
  return exceptionPdu(fc, EXCEPTION.illegal_data_address);
}

/** true: malformed; false: well-formed; undefined: not a write function this device knows. */
function writeMalformed(fc: number, pdu: Buffer): boolean | undefined {
  switch (fc) {
    case FC.write_single_coil:
      return pdu.length !== 5 || ![0x0000, 0xff00].includes(pdu.readUInt16BE(3));
    case FC.write_single_register:
      return pdu.length !== 5;
    case FC.write_multiple_coils: {
      if (pdu.length < 6) return true;
      const n = pdu.readUInt16BE(3);
      const bytes = pdu[5]!;
      return n < 1 || n > 0x07b0 || bytes !== Math.ceil(n / 8) || pdu.length !== 6 + bytes;
    }
    case FC.write_multiple_registers: {
      if (pdu.length < 6) return true;
      const n = pdu.readUInt16BE(3);
      const bytes = pdu[5]!;
      return n < 1 || n > 0x7b || bytes !== n * 2 || pdu.length !== 6 + bytes;
    }
    default:
      return undefined;
  }
}

function registersResponse(fc: number, words: readonly number[]): Buffer {
  const out = Buffer.alloc(2 + words.length * 2);
  out[0] = fc;
  out[1] = words.length * 2;
  words.forEach((w, i) => out.writeUInt16BE(w & 0xffff, 2 + i * 2));
  return out;
}

/** Coils and discrete inputs pack LSB first, padded with zeros (§6.1). */
function bitsResponse(fc: number, bits: readonly number[]): Buffer {
  const bytes = Math.ceil(bits.length / 8);
  const out = Buffer.alloc(2 + bytes);
  out[0] = fc;
  out[1] = bytes;
  bits.forEach((b, i) => {
    if (b) out[2 + (i >> 3)]! |= 1 << (i & 7);
  });
  return out;
}
