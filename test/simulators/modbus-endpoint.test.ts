import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWords, loadYamlFile, memoryLogger, SiteInventorySchema } from '../../contract/index.js';
import { startSimSite, type SimSite } from '../../simulators/index.js';
import { ModbusEndpoint } from '../../simulators/servers/modbus-endpoint.js';
import { missingTools, parseMbpoll, pymodbusRead, pythonWithPymodbus, run } from './external-tools.js';

/** Read from outside with mbpoll and pymodbus, as an integrator would. */
const missing = missingTools(['mbpoll']);
const suite = missing.length > 0 ? describe.skip : describe;
const skipNote = missing.length > 0 ? ` (skipped: ${missing.join(', ')} not on PATH)` : '';

/** mbpoll: -r is 1-based, -B for big-endian word order (SDM630 is ABCD), -1 polls once. */
const mbpoll = (port: number, args: string[], writeValues: string[] = []) => run('mbpoll', ['-m', 'tcp', '-1', '-o', '2', '-p', String(port), ...args, '127.0.0.1', ...writeValues]);

suite(`Eastron SDM630 from seeds/demo.yaml over Modbus TCP${skipNote}`, () => {
  let site: SimSite;
  let port: number;

  beforeAll(async () => {
    const inventory = loadYamlFile(SiteInventorySchema, new URL('../../seeds/demo.yaml', import.meta.url).pathname);
    site = await startSimSite({ inventory, bind: 'ephemeral', rngSeed: 5, logger: memoryLogger() });
    port = site.endpoints().find((e) => e.device === 'meter-incomer-1')!.port;
  });
  afterAll(async () => site?.stop());

  it('mbpoll reads float32 power (30053) and energy (30343) matching the truth', async () => {
    const before = Date.now();
    const [power, energy] = await Promise.all([
      mbpoll(port, ['-a', '1', '-t', '3:float', '-B', '-r', '53', '-c', '1']),
      mbpoll(port, ['-a', '1', '-t', '3:float', '-B', '-r', '343', '-c', '1']),
    ]);
    const after = Date.now();
    const p = parseMbpoll(power.stdout).get(53);
    const e = parseMbpoll(energy.stdout).get(343);
    const truths = [site.truth(before), site.truth(after)].map((t) => t.devices['meter-incomer-1']!);
    const lo = Math.min(...truths.map((t) => t.power_w));
    const hi = Math.max(...truths.map((t) => t.power_w));
    // mbpoll prints 6 significant digits.
    expect(p).toBeGreaterThanOrEqual(lo * (1 - 1e-5));
    expect(p).toBeLessThanOrEqual(hi * (1 + 1e-5));
    expect(e).toBeGreaterThanOrEqual(truths[0]!.energy_kwh * (1 - 1e-5));
    expect(e).toBeLessThanOrEqual(truths[1]!.energy_kwh * (1 + 1e-5));
  });

  it('serves voltages, currents and frequency consistent with the power', async () => {
    const r = await mbpoll(port, ['-a', '1', '-t', '3:float', '-B', '-r', '1', '-c', '6']);
    const v = parseMbpoll(r.stdout);
    const f = parseMbpoll((await mbpoll(port, ['-a', '1', '-t', '3:float', '-B', '-r', '71', '-c', '1'])).stdout).get(71)!;
    const power = site.truth().devices['meter-incomer-1']!.power_w;
    for (const ref of [1, 3, 5]) expect(v.get(ref)).toBeGreaterThan(225);
    const va = (v.get(1)! * v.get(7)! + v.get(3)! * v.get(9)! + v.get(5)! * v.get(11)!);
    expect(power / va).toBeGreaterThan(0.9); // the power factor
    expect(power / va).toBeLessThan(1);
    expect(f).toBeGreaterThan(49.8);
    expect(f).toBeLessThan(50.2);
  });

  it('answers exception 2 outside the profile, 0 in its holes, 11 for an unknown unit', async () => {
    const outside = await mbpoll(port, ['-a', '1', '-t', '3', '-r', '400', '-c', '1']);
    expect(outside.stdout + outside.stderr).toMatch(/Illegal data address/);
    const holding = await mbpoll(port, ['-a', '1', '-t', '4', '-r', '1', '-c', '1']);
    expect(holding.stdout + holding.stderr).toMatch(/Illegal data address/);
    const hole = await mbpoll(port, ['-a', '1', '-t', '3', '-r', '13', '-c', '10']);
    expect([...parseMbpoll(hole.stdout).values()]).toEqual(new Array(10).fill(0));
    const unknownUnit = await mbpoll(port, ['-a', '7', '-t', '3', '-r', '1', '-c', '1']);
    expect(unknownUnit.stdout + unknownUnit.stderr).toMatch(/Target device failed to respond/); // exception 11
  });

  it('refuses writes with exception 2', async () => {
    const r = await mbpoll(port, ['-a', '1', '-t', '4', '-r', '1'], ['5']);
    expect(r.stdout + r.stderr).toMatch(/Illegal data address/);
  });

  it('pymodbus reads the same registers and sees exception 2', async (ctx) => {
    const python = await pythonWithPymodbus();
    if (!python) {
      if (process.env.DCIM_REQUIRE_SERVICES === '1') throw new Error('DCIM_REQUIRE_SERVICES=1 but no python3 with pymodbus');
      ctx.skip('no python3 with pymodbus (apt-get install python3-pymodbus)');
      return;
    }
    const before = Date.now();
    const [power, outside, tooLong] = await pymodbusRead(python, port, [
      [1, 52, 2],
      [1, 400, 2],
      [1, 342, 4],
    ]);
    const after = Date.now();
    if (!power || !('registers' in power)) throw new Error(`no registers: ${JSON.stringify(power)}`);
    const watts = decodeWords(power.registers, 'float32', 'ABCD') as number;
    const truths = [site.truth(before), site.truth(after)].map((t) => Math.fround(t.devices['meter-incomer-1']!.power_w));
    expect(watts).toBeGreaterThanOrEqual(Math.min(...truths));
    expect(watts).toBeLessThanOrEqual(Math.max(...truths));
    expect(outside).toEqual({ exception: 2 });
    expect(tooLong).toEqual({ exception: 2 }); // 342..345 runs past the last register
  });
});

/** One MBAP frame: transaction id, protocol 0, length, unit, then the PDU. */
function frame(tid: number, unit: number, pdu: number[]): Buffer {
  const b = Buffer.alloc(7 + pdu.length);
  b.writeUInt16BE(tid, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt16BE(pdu.length + 1, 4);
  b.writeUInt8(unit, 6);
  Buffer.from(pdu).copy(b, 7);
  return b;
}

/** Send raw bytes on a fresh connection; return the first complete MBAP reply, or what came within `waitMs`. */
async function exchange(port: number, payload: Buffer, waitMs = 1000): Promise<Buffer> {
  const sock = new Socket();
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.connect(port, '127.0.0.1', () => resolve());
  });
  sock.on('error', () => undefined);
  let received = Buffer.alloc(0);
  const reply = await new Promise<Buffer>((resolve) => {
    const timer = setTimeout(() => resolve(received), waitMs);
    sock.on('data', (d) => {
      received = Buffer.concat([received, d]);
      if (received.length >= 6 && received.length >= 6 + received.readUInt16BE(4)) {
        clearTimeout(timer);
        resolve(received);
      }
    });
    sock.write(payload);
  });
  sock.destroy();
  return reply;
}

describe('ModbusEndpoint: raw frames', () => {
  const words = new Map([[0, 0x1234], [1, 0xabcd]]);
  const endpoint = new ModbusEndpoint({
    host: '127.0.0.1',
    port: 0,
    logger: memoryLogger(),
    units: [
      { device: 'm1', unit_id: 1, image: () => ({ words: { input: words, holding: new Map(), coil: new Map(), discrete: new Map() }, spans: { input: { start: 0, end: 2 }, holding: undefined, coil: undefined, discrete: undefined } }) },
      { device: 'm2', unit_id: 2, image: () => { throw new Error('encoder bug'); } },
    ],
  });
  let port: number;
  beforeAll(async () => {
    port = await endpoint.start();
  });
  afterAll(async () => endpoint.stop());

  it.each([
    ['FC4 inside the span', 1, [0x04, 0, 0, 0, 2], [0x04, 4, 0x12, 0x34, 0xab, 0xcd]],
    ['FC4 one register past the end', 1, [0x04, 0, 1, 0, 2], [0x84, 2]],
    ['FC4 a count of 0', 1, [0x04, 0, 0, 0, 0], [0x84, 2]],
    ['FC4 a count of 126', 1, [0x04, 0, 0, 0, 126], [0x84, 3]],
    // modbus-serial sizes its reply before asking us and fails on a byte count above 255.
    ['FC4 a count of 200', 1, [0x04, 0, 0, 0, 200], [0x84, 4]],
    ['FC3 where the profile has no holding registers', 1, [0x03, 0, 0, 0, 1], [0x83, 2]],
    ['FC1 coils', 1, [0x01, 0, 0, 0, 1], [0x81, 2]],
    ['FC6 a write', 1, [0x06, 0, 0, 0, 1], [0x86, 2]],
    ['an unknown function code', 1, [0x63, 0, 0, 0, 1], [0xe3, 1]],
    ['an unknown unit', 9, [0x04, 0, 0, 0, 1], [0x84, 11]],
    ['an image that throws', 2, [0x04, 0, 0, 0, 1], [0x84, 4]],
  ])('%s', async (_label, unit, pdu, expected) => {
    const reply = await exchange(port, frame(7, unit, pdu));
    expect(reply.readUInt16BE(0)).toBe(7);
    expect(reply.readUInt8(6)).toBe(unit);
    expect([...reply.subarray(7)]).toEqual(expected);
  });

  it('drops malformed frames without dying, then answers the next client', async () => {
    const junk = [
      Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'),
      Buffer.from([0, 1, 0, 0, 0, 0, 1]), // length 0
      Buffer.from([0, 1, 0, 0, 0, 2, 1, 4]), // PDU too short
      frame(1, 1, [0x04, 0]), // truncated request
      frame(1, 1, [0x04, 0, 0, 0, 1, 9, 9, 9]), // trailing bytes
      frame(1, 1, [0x10, 0, 0, 0, 200, 1]), // write-multiple with a lying byte count
      frame(1, 1, [0x2b, 0x0e, 1, 0]), // read device identification
      Buffer.alloc(4096, 0xff),
    ];
    for (const j of junk) await exchange(port, j, 50);
    const reply = await exchange(port, frame(9, 1, [0x04, 0, 0, 0, 1]));
    expect([...reply.subarray(7)]).toEqual([0x04, 2, 0x12, 0x34]);
    expect(endpoint.stats().requests).toBeGreaterThan(0);
  });

  it('refuses two devices on one unit id and reports a busy port', async () => {
    const image = () => ({ words: { input: new Map(), holding: new Map(), coil: new Map(), discrete: new Map() }, spans: { input: undefined, holding: undefined, coil: undefined, discrete: undefined } });
    const dup = new ModbusEndpoint({ host: '127.0.0.1', port: 0, logger: memoryLogger(), units: [{ device: 'a', unit_id: 1, image }, { device: 'b', unit_id: 1, image }] });
    await expect(dup.start()).rejects.toThrow(/devices a and b share unit id 1/);
    const busy = new ModbusEndpoint({ host: '127.0.0.1', port, logger: memoryLogger(), units: [{ device: 'a', unit_id: 1, image }] });
    await expect(busy.start()).rejects.toThrow(new RegExp(`cannot listen on 127.0.0.1:${port}/tcp`));
  });
});
