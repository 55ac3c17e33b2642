import { describe, expect, it } from 'vitest';
import type { RegisterImage } from '../../../simulators/encode/modbus-registers.js';
import { MbapFramer, RtuFramer, crc16, mbapFrame, rtuFrame } from '../../../simulators/servers/modbus-framing.js';
import { answerPdu } from '../../../simulators/servers/modbus-pdu.js';

/** Holding 100-103, input 0-1, coils 0-9 (1, 3 and 8 on), discrete 0-2. */
const IMAGE: RegisterImage = {
  words: {
    holding: new Map([[100, 0x4120], [101, 0x0000], [103, 0xffff]]),
    input: new Map([[0, 235], [1, 456]]),
    coil: new Map([[1, 1], [3, 1], [8, 1]]),
    discrete: new Map([[2, 1]]),
  },
  spans: { holding: { start: 100, end: 104 }, input: { start: 0, end: 2 }, coil: { start: 0, end: 10 }, discrete: { start: 0, end: 3 } },
};
const hex = (s: string) => Buffer.from(s.replaceAll(' ', ''), 'hex');

describe('Modbus application layer (read-only device)', () => {
  it.each([
    ['FC3 reads holding registers', '03 0064 0004', '03 08 4120 0000 0000 ffff'],
    ['FC4 reads input registers', '04 0000 0002', '04 04 00eb 01c8'],
    ['FC1 packs coils LSB first', '01 0000 000a', '01 02 0a 01'],
    ['FC2 reads discrete inputs', '02 0000 0003', '02 01 04'],
    ['outside the device → 2', '03 0063 0002', '83 02'],
    ['past its end → 2', '04 0001 0002', '84 02'],
    ['count 0 → 3', '03 0064 0000', '83 03'],
    ['count 126 → 3', '03 0064 007e', '83 03'],
    ['2001 coils → 3', '01 0000 07d1', '81 03'],
    ['address + count beyond 65535 → 2', '03 ffff 0002', '83 02'],
    ['a short PDU (implied length wrong) → 3', '03 0064', '83 03'],
    ['a long PDU → 3', '04 0000 0001 00', '84 03'],
    ['unknown function → 1', '2b 0e 01 00', 'ab 01'],
    ['function 0 → 1', '00', '80 01'],
    ['write single register → 2 (read-only)', '06 0064 0001', '86 02'],
    ['write single coil with a bad value → 3', '05 0001 1234', '85 03'],
    ['write single coil → 2', '05 0001 ff00', '85 02'],
    ['write multiple registers → 2', '10 0064 0002 04 0001 0002', '90 02'],
    ['write multiple registers with a wrong byte count → 3', '10 0064 0002 03 0001 0002', '90 03'],
    ['write multiple coils → 2', '0f 0000 000a 02 ff 03', '8f 02'],
  ])('%s', (_name, request, response) => {
    expect(answerPdu(hex(request), () => IMAGE).toString('hex')).toBe(response.replaceAll(' ', ''));
  });

  it('reads the image only for a well-formed read', () => {
    let reads = 0;
    answerPdu(hex('03 0064'), () => (reads++, IMAGE));
    answerPdu(hex('06 0064 0001'), () => (reads++, IMAGE));
    expect(reads).toBe(0);
    answerPdu(hex('03 0064 0001'), () => (reads++, IMAGE));
    expect(reads).toBe(1);
  });
});

describe('MBAP framing', () => {
  it('frames requests split and joined across segments', () => {
    const f = new MbapFramer();
    const a = mbapFrame(7, 1, hex('03 0064 0002'));
    const b = mbapFrame(8, 2, hex('04 0000 0001'));
    const both = Buffer.concat([a, b]);
    expect(f.push(both.subarray(0, 5)).frames).toEqual([]);
    const out = f.push(both.subarray(5));
    expect(out.frames.map((x) => [x.transaction, x.unit, x.pdu.toString('hex')])).toEqual([
      [7, 1, '0300640002'],
      [8, 2, '0400000001'],
    ]);
  });

  it('drops a frame of another protocol id and keeps framing', () => {
    const f = new MbapFramer();
    const foreign = Buffer.from(mbapFrame(1, 1, hex('03 0064 0002')));
    foreign.writeUInt16BE(1, 2);
    const out = f.push(Buffer.concat([foreign, mbapFrame(2, 1, hex('03 0064 0001'))]));
    expect(out.dropped).toBe(1);
    expect(out.frames.map((x) => x.transaction)).toEqual([2]);
  });

  it.each([
    ['length 1 (no PDU)', '0001 0000 0001 01'],
    ['length 255 (PDU over 253 bytes)', '0001 0000 00ff 01'],
  ])('gives up on a stream with %s', (_name, header) => {
    expect(new MbapFramer().push(hex(header)).fatal).toBe(true);
  });

  it('writes a response with its transaction id and length', () => {
    expect(mbapFrame(0x1234, 9, hex('83 02')).toString('hex')).toBe('12340000000309' + '8302');
  });
});

describe('RTU framing', () => {
  it('computes CRC-16/MODBUS (Modbus over Serial Line, appendix B example)', () => {
    // Read holding registers 0x006B-0x006D of unit 0x11: CRC 0x8776, sent 76 87.
    expect(crc16(hex('11 03 006b 0003'))).toBe(0x8776);
    expect(rtuFrame(0x11, hex('03 006b 0003')).toString('hex')).toBe('1103006b00037687');
  });

  it('frames by function code, across segments and back to back', () => {
    const f = new RtuFramer();
    const a = rtuFrame(1, hex('04 0001 0002'));
    const b = rtuFrame(2, hex('10 0000 0002 04 0001 0002'));
    const both = Buffer.concat([a, b]);
    expect(f.push(both.subarray(0, 3), 0).frames).toEqual([]);
    const out = f.push(both.subarray(3), 10);
    expect(out.frames.map((x) => [x.unit, x.pdu.toString('hex')])).toEqual([
      [1, '0400010002'],
      [2, '10000000020400010002'],
    ]);
  });

  it('drops a frame with a bad CRC, and what was buffered with it', () => {
    const f = new RtuFramer();
    const bad = Buffer.from(rtuFrame(1, hex('03 0000 0001')));
    bad[bad.length - 1]! ^= 0xff;
    const out = f.push(Buffer.concat([bad, rtuFrame(1, hex('03 0000 0001'))]), 0);
    expect(out.dropped).toBe(1);
    expect(out.frames).toEqual([]);
    expect(f.push(rtuFrame(1, hex('03 0000 0001')), 5).frames).toHaveLength(1);
  });

  it('forgets a partial frame after a silence, as a serial line does', () => {
    const f = new RtuFramer(100);
    const frame = rtuFrame(1, hex('03 0000 0001'));
    f.push(frame.subarray(0, 4), 0);
    const out = f.push(frame, 500);
    expect(out.dropped).toBe(1);
    expect(out.frames).toHaveLength(1);
  });

  it('takes an unknown function as one whole segment, answerable with exception 1', () => {
    const out = new RtuFramer().push(rtuFrame(1, hex('41 0102')), 0);
    expect(out.frames.map((x) => x.pdu.toString('hex'))).toEqual(['410102']);
  });
});
