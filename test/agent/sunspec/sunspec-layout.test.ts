import { describe, expect, it } from 'vitest';
import { ManualClock, type ModbusProfile } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { ModbusReader } from '../../../agent/modbus/modbus-reader.js';
import type { ModbusOutcome, ModbusRegisters, ModbusTransport } from '../../../agent/modbus/modbus-transport.js';
import { walkSunspecChain } from '../../../agent/sunspec/sunspec-chain.js';
import { placeOnChain, repeatCountAddresses } from '../../../agent/sunspec/sunspec-layout.js';

/**
 * Placing points on a walked chain, and the reader walking again when a model ID changes under
 * it (firmware update, a swapped inverter behind the same address). A register map in memory
 * plays the device: addresses it lacks answer exception 2.
 */
class MapDevice implements ModbusTransport {
  isOpen = true;
  constructor(public words: Map<number, number>) {}
  async connect(): Promise<ModbusOutcome<void>> {
    return { ok: true, value: undefined };
  }
  async read(_unit: number, _kind: string, address: number, count: number): Promise<ModbusOutcome<ModbusRegisters>> {
    const out: number[] = [];
    for (let a = address; a < address + count; a++) {
      const w = this.words.get(a);
      if (w === undefined) return { ok: false, kind: 'exception', code: 2, message: 'illegal data address' };
      out.push(w);
    }
    return { ok: true, value: { words: out } };
  }
  async close(): Promise<void> {}
}

/** A SunSpec map: "SunS", model 1 of length `l1` (zeros), model 103 with W = `w` at W_SF 0, end. */
function inverterMap(l1: number, w: number): Map<number, number> {
  const m = new Map<number, number>();
  const put = (at: number, ws: number[]) => ws.forEach((x, i) => m.set(at + i, x));
  put(40000, [0x5375, 0x6e53, 1, l1]);
  put(40004, new Array<number>(l1).fill(0));
  const at103 = 40004 + l1;
  const model = new Array<number>(52).fill(0);
  model[0] = 103;
  model[1] = 50;
  model[14] = w;
  model[15] = 0;
  put(at103, model);
  put(at103 + 52, [0xffff, 0]);
  return m;
}

/** The same map with model 160 after 103: `l160` its L, `n` its N, module k's DCW = 1000 × k. */
function mpptMap(l160: number, n: number): Map<number, number> {
  const m = inverterMap(66, 1000);
  const at = 40122;
  m.delete(at);
  m.delete(at + 1);
  const model = new Array<number>(2 + l160).fill(0);
  model[0] = 160;
  model[1] = l160;
  model[8] = n;
  for (let k = 0; 10 + 20 * k + 20 <= 2 + l160; k++) model[10 + 20 * k + 11] = 1000 * (k + 1);
  model.forEach((w, i) => m.set(at + i, w));
  m.set(at + 2 + l160, 0xffff);
  m.set(at + 3 + l160, 0);
  return m;
}

const inv = loadProfiles().get('sunspec-inverter') as ModbusProfile;
const chain160 = (l160: number) => ({ base: 40000, models: [{ id: 1, at: 40002, length: 66 }, { id: 103, at: 40070, length: 50 }, { id: 160, at: 40122, length: l160 }] });
const rows = (placed: ReturnType<typeof placeOnChain>, name: string) =>
  placed.profile.points.flatMap((p, i) => (p.name === name ? [{ index: placed.index.get(i), address: p.address, sf: p.scale_factor?.address }] : []));

describe('placeOnChain', () => {
  it('puts each point at its model start + offset, scale factor in the same model', () => {
    const placed = placeOnChain(inv, { base: 40000, models: [{ id: 1, at: 40002, length: 65 }, { id: 103, at: 40069, length: 50 }] });
    const w = placed.profile.points.find((p) => p.name === 'active_power_w');
    expect([w?.address, w?.scale_factor?.address]).toEqual([40069 + 14, 40069 + 15]);
    expect(placed.headers).toEqual([{ at: 40069, id: 103 }]);
    expect(placed.missing.size).toBe(0);
  });

  it('a model served shorter than a point needs leaves that point missing, not read from the next model', () => {
    const placed = placeOnChain(inv, { base: 40000, models: [{ id: 1, at: 40002, length: 66 }, { id: 101, at: 40070, length: 20 }] });
    const missing = [...placed.missing.keys()].map((i) => inv.points[i]?.name);
    expect(missing).toContain('energy_kwh');
    expect(missing).not.toContain('active_power_w');
  });
});

describe('placeOnChain: model 160 modules (repeating blocks)', () => {
  it('one point per module at block start + offset, the scale factor in the fixed part, N among the headers', () => {
    const placed = placeOnChain(inv, chain160(48), new Map([[40130, 2]]));
    expect(rows(placed, 'dc_module_power_w')).toEqual([
      { index: { module: '1' }, address: 40122 + 10 + 11, sf: 40122 + 4 },
      { index: { module: '2' }, address: 40122 + 30 + 11, sf: 40122 + 4 },
    ]);
    expect(placed.headers).toContainEqual({ at: 40130, id: 2 });
    expect(placed.headers).toContainEqual({ at: 40122, id: 160 });
    expect(placed.missing.size).toBe(0);
  });

  it.each([
    [1, 1, 'N below what L holds: N'],
    [5, 2, 'N above what L holds: only the blocks L holds'],
    [0xffff, 2, 'N not implemented: what L holds'],
    [0, 0, 'N 0: no rows'],
  ])('N %i on L 48 → %i rows (%s)', (n, want) => {
    expect(rows(placeOnChain(inv, chain160(48), new Map([[40130, n]])), 'dc_module_current_a')).toHaveLength(want);
  });

  it('without a readable N, as many modules as L holds', () => {
    expect(rows(placeOnChain(inv, chain160(68)), 'dc_module_current_a')).toHaveLength(3);
  });

  it('a device without model 160 has no module rows and nothing missing', () => {
    const placed = placeOnChain(inv, { base: 40000, models: [{ id: 1, at: 40002, length: 66 }, { id: 103, at: 40070, length: 50 }] });
    expect(placed.profile.points.filter((p) => p.name.startsWith('dc_module_'))).toEqual([]);
    expect(placed.missing.size).toBe(0);
    expect(repeatCountAddresses(inv, { base: 40000, models: [] })).toEqual([]);
  });
});

describe('walkSunspecChain', () => {
  it('walks L 65 and L 66 chains to model 103 where each device put it', async () => {
    for (const [l1, at] of [[65, 40069], [66, 40070]] as const) {
      const dev = new MapDevice(inverterMap(l1, 1000));
      const walk = await walkSunspecChain((a, n) => dev.read(1, 'holding', a, n));
      expect(walk).toEqual({ ok: true, value: { base: 40000, models: [{ id: 1, at: 40002, length: l1 }, { id: 103, at, length: 50 }] } });
    }
  });
});

describe('ModbusReader on a device whose chain changes', () => {
  it('notices the changed model ID with the data read, walks again and reads the new layout in the same poll', async () => {
    const dev = new MapDevice(inverterMap(66, 1000));
    const reader = new ModbusReader({ profile: inv, transport: dev, unitId: 1, policy: { timeoutMs: 100, retries: 0 }, clock: new ManualClock(0) });
    const power = async () => {
      const res = await reader.read();
      return { w: res.readings.find((r) => r.point === 'active_power_w')?.value, faults: res.poll.faults };
    };
    expect(await power()).toEqual({ w: 1000, faults: undefined });
    // New firmware serves model 1 with L 65: model 103 moves one register down.
    dev.words = inverterMap(65, 2000);
    expect(await power()).toEqual({ w: 2000, faults: { DCIM_E_SUNSPEC_MODEL_CHANGED: 1 } });
    expect(await power()).toEqual({ w: 2000, faults: undefined });
  });

  it('walks again when a cached model header is refused (the chain got shorter), in the same poll', async () => {
    const dev = new MapDevice(inverterMap(66, 1000));
    const reader = new ModbusReader({ profile: inv, transport: dev, unitId: 1, policy: { timeoutMs: 100, retries: 0 }, clock: new ManualClock(0) });
    expect((await reader.read()).readings.find((r) => r.point === 'active_power_w')?.value).toBe(1000);
    // Model 1 now 10 registers: model 103 at 40014, the end model at 40066; 40070 and on do not exist.
    dev.words = inverterMap(10, 3000);
    const res = await reader.read();
    expect(res.readings.find((r) => r.point === 'active_power_w')?.value).toBe(3000);
    expect(res.poll.faults).toEqual({ DCIM_E_SUNSPEC_MODEL_CHANGED: 1 });
  });
});

describe('ModbusReader on model 160', () => {
  it('reads each module as a row; a changed N walks again and reads the new rows in the same poll', async () => {
    const dev = new MapDevice(mpptMap(48, 2));
    const reader = new ModbusReader({ profile: inv, transport: dev, unitId: 1, policy: { timeoutMs: 100, retries: 0 }, clock: new ManualClock(0) });
    const modules = async () => {
      const res = await reader.read();
      return { w: res.readings.filter((r) => r.point === 'dc_module_power_w').map((r) => [r.index?.module, r.value]), faults: res.poll.faults };
    };
    expect(await modules()).toEqual({ w: [['1', 1000], ['2', 2000]], faults: undefined });
    // One input switched off in the inverter's settings: N 1, L unchanged.
    dev.words.set(40130, 1);
    expect(await modules()).toEqual({ w: [['1', 1000]], faults: { DCIM_E_SUNSPEC_MODEL_CHANGED: 1 } });
  });

  it('a module register left "not implemented" is not good; the other module still is', async () => {
    const words = mpptMap(48, 2);
    words.set(40122 + 30 + 11, 0xffff);
    const reader = new ModbusReader({ profile: inv, transport: new MapDevice(words), unitId: 1, policy: { timeoutMs: 100, retries: 0 }, clock: new ManualClock(0) });
    const res = await reader.read();
    const w = res.readings.filter((r) => r.point === 'dc_module_power_w').map((r) => [r.index?.module, r.quality, r.value]);
    expect(w).toEqual([['1', 'good', 1000], ['2', 'bad', null]]);
  });
});

describe('ModbusReader walking a slow device', () => {
  it('keeps to the poll deadline during the walk: no request after it, every point DCIM_E_MODBUS_TIMEOUT', async () => {
    const clock = new ManualClock(0);
    const dev = new MapDevice(inverterMap(66, 1000));
    let requests = 0;
    const slow: ModbusTransport = {
      isOpen: true,
      connect: () => dev.connect(),
      close: () => dev.close(),
      read: async (unit, kind, address, count) => {
        requests++;
        clock.advance(40);
        return dev.read(unit, kind, address, count);
      },
    };
    const reader = new ModbusReader({ profile: inv, transport: slow, unitId: 1, policy: { timeoutMs: 100, retries: 0 }, clock });
    const res = await reader.read({ deadlineAt: 50 });
    // 40 ms per answer, deadline at 50 ms: the marker read and one header, then nothing.
    expect(requests).toBe(2);
    expect(new Set(res.readings.map((r) => r.error))).toEqual(new Set(['DCIM_E_MODBUS_TIMEOUT']));
  });
});
