import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../contract/index.js';
import { memoryLogger } from '../../../shared/log.js';
import type { RegisterImage } from '../../../simulators/encode/modbus-registers.js';
import { ANSWER_NOW, type RequestDecision } from '../../../simulators/faults/request-faults.js';
import { ModbusEndpoint, type ModbusUnitBinding } from '../../../simulators/servers/modbus-endpoint.js';
import { rtuFrame } from '../../../simulators/servers/modbus-framing.js';
import { exchange, pymodbusOrSkip, pymodbusRtuRead } from '../modbus-wire.js';

/**
 * An RS-485 bus of rack inlet sensors behind a transparent serial gateway: raw RTU frames with
 * CRC on a TCP port. Read with pymodbus's RTU framer, and with raw frames for the serial
 * line's own rules (silence for a bad CRC or an absent unit, one request at a time).
 */
const python = await pymodbusOrSkip();
const withPymodbus = python ? it : it.skip;
const note = python ? '' : ' (skipped: no python3 with pymodbus)';
const hex = (s: string) => Buffer.from(s.replaceAll(' ', ''), 'hex');

/** XY-MD02-like: input 1 temperature ×0.1 °C, input 2 humidity ×0.1 %RH. */
const sensor = (temp: number, rh: number): RegisterImage => ({
  words: { holding: new Map(), input: new Map([[1, temp], [2, rh]]), coil: new Map(), discrete: new Map() },
  spans: { holding: undefined, input: { start: 1, end: 3 }, coil: undefined, discrete: undefined },
});

describe('Modbus RTU over TCP (transparent serial gateway)', () => {
  let decision: RequestDecision = ANSWER_NOW;
  const unit = (unit_id: number, img: RegisterImage, decide: () => RequestDecision = () => ANSWER_NOW): ModbusUnitBinding => ({ key: `th-${unit_id}`, unit_id, version: () => 1, image: () => img, decide });
  const endpoint = new ModbusEndpoint({
    host: '127.0.0.1',
    port: 0,
    transport: 'rtu_over_tcp',
    logger: memoryLogger(),
    clock: new SystemClock(),
    units: [unit(1, sensor(231, 455)), unit(2, sensor(248, 402)), unit(3, sensor(199, 600), () => decision)],
  });
  let port: number;
  beforeAll(async () => {
    port = await endpoint.start();
  });
  afterAll(async () => endpoint.stop());

  withPymodbus(`pymodbus reads each sensor by unit id${note}`, async () => {
    const r = await pymodbusRtuRead(python!, port, [
      ['input', 1, 1, 2],
      ['input', 2, 1, 2],
      ['input', 1, 5, 1],
    ]);
    expect(r).toEqual([{ registers: [231, 455] }, { registers: [248, 402] }, { exception: 2 }]);
  });

  it('answers a frame with its CRC, exceptions included', async () => {
    const ok = await exchange(port, [rtuFrame(1, hex('04 0001 0002'))], 150);
    expect(ok.data.toString('hex')).toBe(rtuFrame(1, hex('04 04 00e7 01c7')).toString('hex'));
    const bad = await exchange(port, [rtuFrame(2, hex('03 0001 0001'))], 150);
    expect(bad.data.toString('hex')).toBe(rtuFrame(2, hex('83 02')).toString('hex'));
  });

  it.each([
    ['a bad CRC', (() => {
      const f = Buffer.from(rtuFrame(1, hex('04 0001 0001')));
      f[f.length - 1]! ^= 0x55;
      return f;
    })()],
    ['an absent unit', rtuFrame(42, hex('04 0001 0001'))],
    ['a broadcast', rtuFrame(0, hex('04 0001 0001'))],
  ])('stays silent to %s, as a serial slave does', async (_name, frame) => {
    expect((await exchange(port, [frame], 150)).data.length).toBe(0);
  });

  it('answers requests on one connection one after the other, the bus being serial', async () => {
    decision = { action: 'answer', delay_ms: 200 };
    const slow = rtuFrame(3, hex('04 0001 0001'));
    const fast = rtuFrame(1, hex('04 0002 0001'));
    const r = await exchange(port, [Buffer.concat([slow, fast])], 400);
    decision = ANSWER_NOW;
    expect(r.data.toString('hex')).toBe(Buffer.concat([rtuFrame(3, hex('04 02 00c7')), rtuFrame(1, hex('04 02 01c7'))]).toString('hex'));
  });

  it('frames requests split over segments', async () => {
    const f = rtuFrame(2, hex('04 0002 0001'));
    const r = await exchange(port, [f.subarray(0, 3), f.subarray(3)], 150, 20);
    expect(r.data.toString('hex')).toBe(rtuFrame(2, hex('04 02 0192')).toString('hex'));
  });
});
