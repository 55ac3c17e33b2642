import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../contract/index.js';
import { memoryLogger } from '../../../shared/log.js';
import type { RegisterImage } from '../../../simulators/encode/modbus-registers.js';
import { ANSWER_NOW, type RequestDecision } from '../../../simulators/faults/request-faults.js';
import { ModbusEndpoint, type ModbusUnitBinding } from '../../../simulators/servers/modbus-endpoint.js';
import { mbapFrame } from '../../../simulators/servers/modbus-framing.js';
import { missingTools, parseMbpoll, run } from '../external-tools.js';
import { exchange } from '../modbus-wire.js';

/**
 * A Modbus TCP gateway port: devices by unit id, read with mbpoll as an integrator would, and
 * with raw frames for what a client never sends on purpose.
 */
const missing = missingTools(['mbpoll']);
const suite = missing.length > 0 ? describe.skip : describe;
const skipNote = missing.length > 0 ? ` (skipped: ${missing.join(', ')} not on PATH)` : '';
const hex = (s: string) => Buffer.from(s.replaceAll(' ', ''), 'hex');

/** 230.5 as float32 is 0x43668000: ABCD words 4366 8000, CDAB words 8000 4366. */
function image(words: number[]): RegisterImage {
  return {
    words: { holding: new Map(words.map((w, i) => [i, w])), input: new Map([[0, 1234]]), coil: new Map(), discrete: new Map([[0, 1]]) },
    spans: { holding: { start: 0, end: words.length }, input: { start: 0, end: 1 }, coil: undefined, discrete: { start: 0, end: 1 } },
  };
}

suite(`ModbusEndpoint: many units on one TCP port${skipNote}`, () => {
  let decision: RequestDecision = ANSWER_NOW;
  let imageReads = 0;
  const unit = (unit_id: number, img: RegisterImage, decide: () => RequestDecision = () => ANSWER_NOW): ModbusUnitBinding => ({
    key: `unit-${unit_id}`,
    unit_id,
    version: () => 1,
    image: () => (imageReads++, img),
    decide,
  });
  const endpoint = new ModbusEndpoint({
    host: '127.0.0.1',
    port: 0,
    transport: 'tcp',
    logger: memoryLogger(),
    clock: new SystemClock(),
    units: [unit(1, image([0x4366, 0x8000])), unit(2, image([0x8000, 0x4366])), unit(247, image([7])), unit(9, image([1, 2]), () => decision)],
  });
  let port: number;
  const mbpoll = (args: string[]) => run('mbpoll', ['-m', 'tcp', '-1', '-o', '1', '-p', String(port), ...args, '127.0.0.1']);

  beforeAll(async () => {
    port = await endpoint.start();
  });
  afterAll(async () => endpoint.stop());

  it('selects the device by unit id, in both word orders', async () => {
    const abcd = parseMbpoll((await mbpoll(['-a', '1', '-t', '4:float', '-B', '-r', '1', '-c', '1'])).stdout);
    const cdab = parseMbpoll((await mbpoll(['-a', '2', '-t', '4:float', '-r', '1', '-c', '1'])).stdout);
    expect(abcd.get(1)).toBe(230.5);
    expect(cdab.get(1)).toBe(230.5);
    expect(parseMbpoll((await mbpoll(['-a', '247', '-t', '4', '-r', '1', '-c', '1'])).stdout).get(1)).toBe(7);
  });

  it('reads input registers and discrete inputs', async () => {
    expect(parseMbpoll((await mbpoll(['-a', '1', '-t', '3', '-r', '1'])).stdout).get(1)).toBe(1234);
    expect(parseMbpoll((await mbpoll(['-a', '1', '-t', '1', '-r', '1'])).stdout).get(1)).toBe(1);
  });

  it.each([
    ['an address outside the device', ['-a', '1', '-t', '4', '-r', '5', '-c', '1'], /Illegal data address/],
    ['a register kind the device lacks', ['-a', '1', '-t', '0', '-r', '1', '-c', '1'], /Illegal data address/],
    ['a unit nobody answers to (gateway)', ['-a', '17', '-t', '4', '-r', '1', '-c', '1'], /Target device failed to respond/],
  ])('answers %s with the exception', async (_name, args, message) => {
    const r = await mbpoll(args);
    expect(r.stdout + r.stderr).toMatch(message);
  });

  it.each([
    ['count 0 → exception 3', mbapFrame(1, 1, hex('03 0000 0000')), mbapFrame(1, 1, hex('83 03'))],
    ['a short PDU → exception 3', mbapFrame(2, 1, hex('03 0000')), mbapFrame(2, 1, hex('83 03'))],
    ['a write → exception 2', mbapFrame(3, 1, hex('06 0000 0001')), mbapFrame(3, 1, hex('86 02'))],
    ['an unknown function → exception 1', mbapFrame(4, 1, hex('07')), mbapFrame(4, 1, hex('87 01'))],
    ['a broadcast (unit 0) → no answer', mbapFrame(5, 0, hex('03 0000 0001')), Buffer.alloc(0)],
  ])('answers %s', async (_name, request, response) => {
    const r = await exchange(port, [request], 150);
    expect(r.data.toString('hex')).toBe(response.toString('hex'));
  });

  it('answers pipelined requests by transaction id, even split mid-header', async () => {
    const a = mbapFrame(0x0101, 1, hex('03 0000 0002'));
    const b = mbapFrame(0x0202, 2, hex('03 0000 0001'));
    const both = Buffer.concat([a, b]);
    const r = await exchange(port, [both.subarray(0, 4), both.subarray(4, 15), both.subarray(15)], 200, 20);
    expect(r.data.toString('hex')).toBe(Buffer.concat([mbapFrame(0x0101, 1, hex('03 04 4366 8000')), mbapFrame(0x0202, 2, hex('03 02 8000'))]).toString('hex'));
  });

  it('drops a frame of another protocol, and closes a stream that cannot be framed', async () => {
    const foreign = Buffer.from(mbapFrame(6, 1, hex('03 0000 0001')));
    foreign.writeUInt16BE(0x1234, 2);
    const r = await exchange(port, [foreign, mbapFrame(7, 1, hex('03 0000 0001'))], 150);
    expect(r.data.toString('hex')).toBe(mbapFrame(7, 1, hex('03 02 4366')).toString('hex'));
    const before = endpoint.stats().closed_for_framing;
    const broken = await exchange(port, [hex('0008 0000 0000 01 03')], 150);
    expect(broken.closed).toBe(true);
    expect(endpoint.stats().closed_for_framing).toBe(before + 1);
  });

  it('survives garbage and keeps serving', async () => {
    await exchange(port, [Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 131) & 0xff))], 100);
    expect(parseMbpoll((await mbpoll(['-a', '1', '-t', '4:float', '-B', '-r', '1', '-c', '1'])).stdout).get(1)).toBe(230.5);
  });

  it('reads the register image only for well-formed reads', async () => {
    const before = imageReads;
    await exchange(port, [mbapFrame(8, 1, hex('03 0000')), mbapFrame(9, 1, hex('06 0000 0001'))], 100);
    expect(imageReads).toBe(before);
  });

  it('lets a fault drop, delay or replace the answer', async () => {
    decision = { action: 'drop', reason: 'offline' };
    expect((await exchange(port, [mbapFrame(10, 9, hex('03 0000 0001'))], 200)).data.length).toBe(0);
    decision = { action: 'exception', code: 6, delay_ms: 0 };
    const busy = await mbpoll(['-a', '9', '-t', '4', '-r', '1']);
    expect(busy.stdout + busy.stderr).toMatch(/Slave device or server is busy/);
    decision = { action: 'answer', delay_ms: 300 };
    const t = Date.now();
    const r = await exchange(port, [mbapFrame(11, 9, hex('03 0000 0001'))], 500);
    expect(r.data.toString('hex')).toBe(mbapFrame(11, 9, hex('03 02 0001')).toString('hex'));
    expect(Date.now() - t).toBeGreaterThanOrEqual(300);
    decision = ANSWER_NOW;
  });
});

describe('ModbusEndpoint configuration', () => {
  const base = { host: '127.0.0.1', port: 0, transport: 'tcp' as const, logger: memoryLogger(), clock: new SystemClock() };
  const u = (unit_id: number, key = `u${unit_id}`): ModbusUnitBinding => ({ key, unit_id, version: () => 1, image: () => image([1]), decide: () => ANSWER_NOW });
  it.each([
    ['a shared unit id', [u(3, 'a'), u(3, 'b')], /devices a and b share unit id 3/],
    ['unit 0 (broadcast)', [u(0)], /unit id 0 is outside 1-247/],
    ['unit 248', [u(248)], /unit id 248 is outside 1-247/],
  ])('refuses %s', async (_name, units, message) => {
    await expect(new ModbusEndpoint({ ...base, units }).start()).rejects.toThrow(message);
  });

  it('names the address it cannot bind', async () => {
    const first = new ModbusEndpoint({ ...base, units: [u(1)] });
    const port = await first.start();
    try {
      await expect(new ModbusEndpoint({ ...base, port, units: [u(1)] }).start()).rejects.toThrow(`cannot listen on 127.0.0.1:${port}/tcp`);
    } finally {
      await first.stop();
    }
  });
});
