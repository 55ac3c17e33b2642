import { Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock, SiteInventorySchema, type DeviceProfile } from '../../../contract/index.js';
import { loadProfiles } from '../../../profiles/catalogue.js';
import { loadYamlFile } from '../../../shared/config/load.js';
import { memoryLogger } from '../../../shared/log.js';
import { NOISE_MAX_RELATIVE, NOISE_RELATIVE, applyMeasurementNoise, noiseAmplitude, noisyPoints } from '../../../simulators/encode/measurement-noise.js';
import { startSimSite, type SimSite } from '../../../simulators/index.js';
import type { DeviceQuantities } from '../../../simulators/model/quantities.js';

/**
 * Measurement noise: a steady load is served as a reading that moves a little around the truth
 * (zero mean, ±0.2 %, at least one register step), the same for every read within a model step,
 * never on a counter; and the agent's stuck check no longer sees a healthy simulated meter as frozen.
 */
const profiles = loadProfiles();
const profile = (id: string): DeviceProfile => profiles.get(id)!;
const DEMO = loadYamlFile(SiteInventorySchema, new URL('../../../seeds/demo.yaml', import.meta.url).pathname);
/** 02:00 in Gui'an (UTC+8): the lighting load sits at its flat night level. */
const NIGHT = Date.UTC(2026, 0, 9, 18);
const POLLS = 40;

const steady = (): DeviceQuantities => ({
  values: { active_power_w: 5000, current_l1_a: 7.25, voltage_l1_v: 230, energy_kwh: 46341.5, import_energy_kwh: 46341.5, frequency_hz: 50, load_state: 'normal' },
  rows: { phase: new Map([[1, { phase_power_w: 1666.7 }]]) },
});

describe('the live points of a profile', () => {
  it('are its live numbers, with one register step for integer encodings and none for floats', () => {
    const sdm = noisyPoints(profile('eastron-sdm630'));
    expect(sdm.map((p) => p.name).sort()).toEqual(['active_power_w', 'current_l1_a', 'current_l2_a', 'current_l3_a', 'voltage_l1_v', 'voltage_l2_v', 'voltage_l3_v']);
    expect(sdm.every((p) => p.lsb === 0)).toBe(true);
    // APC rPDU2 reports power in hundredths of kW: one step is 10 W.
    expect(noisyPoints(profile('apc-rpdu2'))).toEqual([expect.objectContaining({ name: 'active_power_w', lsb: 10 })]);
    expect(noisyPoints(profile('redfish-gpu-server')).map((p) => [p.name, p.index_tag ?? null, p.lsb])).toEqual([
      ['active_power_w', null, 0],
      ['gpu_power_w', 'gpu', 0],
    ]);
    // No live point: nothing moves.
    expect(noisyPoints(profile('xy-md02-th'))).toEqual([]);
  });

  it.each([
    [5000, 0, 10],
    [5000, 10, 10],
    [4000, 10, 10],
    [200, 10, 4],
    [-1234.5, 0, 2.469],
    [0, 10, 0],
  ])('noise on %d W with a step of %d W is at most ±%d W', (v, lsb, want) => {
    expect(noiseAmplitude(v, lsb)).toBeCloseTo(want, 9);
  });
});

describe('applyMeasurementNoise', () => {
  const points = noisyPoints(profile('eastron-sdm630'));
  const draws = (seed: number, q = steady()) => Array.from({ length: POLLS }, (_, k) => applyMeasurementNoise(q, points, seed, NIGHT + k * 1000));

  it('moves a steady reading every step, zero-mean and within ±0.2 %', () => {
    const served = draws(11).map((q) => q.values.active_power_w as number);
    expect(new Set(served).size).toBe(POLLS);
    for (const v of served) expect(Math.abs(v - 5000)).toBeLessThanOrEqual(5000 * NOISE_RELATIVE);
    const mean = served.reduce((a, b) => a + b, 0) / served.length;
    // 40 uniform draws in ±10 W: the mean's standard deviation is ≈0.9 W.
    expect(Math.abs(mean - 5000)).toBeLessThan(5000 * NOISE_RELATIVE * 0.3);
    // Both signs, not a bias.
    expect(served.some((v) => v > 5000) && served.some((v) => v < 5000)).toBe(true);
  });

  it('never touches counters, states or points that are not live', () => {
    for (const q of draws(11)) {
      expect(q.values.energy_kwh).toBe(46341.5);
      expect(q.values.import_energy_kwh).toBe(46341.5);
      expect(q.values.frequency_hz).toBe(50);
      expect(q.values.load_state).toBe('normal');
      expect(q.rows.phase!.get(1)).toEqual({ phase_power_w: 1666.7 });
    }
  });

  it('is the same for every read of a step and for the same seed, and differs between seeds', () => {
    const q = steady();
    expect(applyMeasurementNoise(q, points, 11, NIGHT)).toEqual(applyMeasurementNoise(q, points, 11, NIGHT));
    expect(draws(11)).toEqual(draws(11));
    expect(draws(12)[0]!.values.active_power_w).not.toBe(draws(11)[0]!.values.active_power_w);
  });

  it('keeps zero at zero (an idle load reads exactly zero) and the input untouched', () => {
    const q = steady();
    const idle: DeviceQuantities = { values: { ...q.values, active_power_w: 0 }, rows: q.rows };
    expect(applyMeasurementNoise(idle, points, 11, NIGHT).values.active_power_w).toBe(0);
    applyMeasurementNoise(q, points, 11, NIGHT);
    expect(q.values.active_power_w).toBe(5000);
  });

  it('moves a coarse integer register by at least a step, and table rows row by row', () => {
    const apc = noisyPoints(profile('apc-rpdu2'));
    // 2 kW: 0.2 % is 4 W, less than half a step; the register moves only because of the floor.
    const raw = Array.from({ length: POLLS }, (_, k) => Math.round((applyMeasurementNoise({ values: { active_power_w: 2000 }, rows: {} }, apc, 3, NIGHT + k * 1000).values.active_power_w as number) / 10));
    expect(new Set(raw).size).toBeGreaterThan(1);
    for (const r of raw) expect(Math.abs(r - 200)).toBeLessThanOrEqual(1);
    const gpu = noisyPoints(profile('redfish-gpu-server'));
    const rows = new Map([1, 2, 3].map((i) => [i, { gpu_power_w: 650, gpu_temp_c: 70 }]));
    const out = applyMeasurementNoise({ values: { active_power_w: 7300, energy_kwh: 10 }, rows: { gpu: rows } }, gpu, 3, NIGHT).rows.gpu!;
    const gpuW = [1, 2, 3].map((i) => out.get(i)!.gpu_power_w as number);
    expect(new Set(gpuW).size).toBe(3);
    for (const w of gpuW) expect(Math.abs(w - 650)).toBeLessThanOrEqual(650 * NOISE_MAX_RELATIVE);
    expect([1, 2, 3].map((i) => out.get(i)!.gpu_temp_c)).toEqual([70, 70, 70]);
  });
});

/** One Modbus TCP connection; each read waits for its answer. */
class ModbusTcp {
  private readonly socket = new Socket();
  private buffered = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  private tid = 0;

  async connect(port: number): Promise<void> {
    this.socket.on('data', (d) => {
      this.buffered = Buffer.concat([this.buffered, d]);
      this.waiting?.();
    });
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.connect(port, '127.0.0.1', resolve);
    });
  }

  /** Function 4, two registers, as a big-endian (ABCD) float32. */
  async inputFloat(unit: number, address: number): Promise<number> {
    const tid = ++this.tid & 0xffff;
    const req = Buffer.alloc(12);
    req.writeUInt16BE(tid, 0);
    req.writeUInt16BE(6, 4);
    req.writeUInt8(unit, 6);
    req.writeUInt8(4, 7);
    req.writeUInt16BE(address, 8);
    req.writeUInt16BE(2, 10);
    this.buffered = Buffer.alloc(0);
    const answered = new Promise<void>((resolve) => {
      this.waiting = () => {
        if (this.buffered.length >= 13) resolve();
      };
    });
    this.socket.write(req);
    await answered;
    expect(this.buffered.readUInt16BE(0)).toBe(tid);
    expect(this.buffered.readUInt8(7)).toBe(4);
    return this.buffered.readFloatBE(9);
  }

  close(): void {
    this.socket.destroy();
  }
}

interface Poll {
  power: number;
  energy: number;
  truth_w: number;
  truth_kwh: number;
}

/** 40 polls one simulated second apart: the lighting meter (SDM630, Modbus) and a GPU server's BMC (Redfish). */
async function pollSteady(site: SimSite, clock: ManualClock): Promise<{ lighting: Poll[]; gpu: Poll[] }> {
  const meter = site.endpoints().find((e) => e.device === 'meter-lighting')!;
  const bmc = site.endpoints().find((e) => e.device === 'gpu-r11-1')!;
  const modbus = new ModbusTcp();
  await modbus.connect(meter.port);
  const lighting: Poll[] = [];
  const gpu: Poll[] = [];
  try {
    for (let k = 0; k < POLLS; k++) {
      clock.advance(1000);
      const truth = site.truth().devices;
      // SDM630: input 52 active power, input 72 import energy (float32 ABCD).
      lighting.push({ power: await modbus.inputFloat(meter.unit_id!, 52), energy: await modbus.inputFloat(meter.unit_id!, 72), truth_w: truth['meter-lighting']!.power_w, truth_kwh: truth['meter-lighting']!.energy_kwh });
      const r = await fetch(`http://127.0.0.1:${bmc.port}/redfish/v1/Chassis/1/EnvironmentMetrics`, { headers: { authorization: `Basic ${Buffer.from('admin:sim').toString('base64')}` } });
      const env = (await r.json()) as { PowerWatts: { Reading: number }; EnergykWh: { Reading: number } };
      gpu.push({ power: env.PowerWatts.Reading, energy: env.EnergykWh.Reading, truth_w: truth['gpu-r11-1']!.power_w, truth_kwh: truth['gpu-r11-1']!.energy_kwh });
    }
  } finally {
    modbus.close();
  }
  return { lighting, gpu };
}

describe('a steady load served over the wire', () => {
  let noisy: SimSite;
  let exact: SimSite;
  const noisyClock = new ManualClock(NIGHT);
  const exactClock = new ManualClock(NIGHT);

  beforeAll(async () => {
    noisy = await startSimSite({ inventory: DEMO, bind: 'ephemeral', rngSeed: 5, clock: noisyClock, logger: memoryLogger('error') });
    exact = await startSimSite({ inventory: DEMO, bind: 'ephemeral', rngSeed: 5, clock: exactClock, logger: memoryLogger('error'), measurement_noise: false });
  });
  afterAll(async () => {
    await noisy?.stop();
    await exact?.stop();
  });

  it('moves around the truth (mean within the bound), while the counters are the true energy', async () => {
    const { lighting, gpu } = await pollSteady(noisy, noisyClock);
    // The night lighting load is flat: the model holds it exactly.
    expect(new Set(lighting.map((p) => p.truth_w)).size).toBe(1);
    for (const [name, polls] of [['lighting', lighting], ['gpu', gpu]] as const) {
      expect(new Set(polls.map((p) => p.power)).size, `${name}: distinct readings`).toBeGreaterThan(POLLS / 2);
      for (const p of polls) {
        // float32 on the wire: its rounding (6e-8) on top of the noise.
        expect(Math.abs(p.power - p.truth_w), name).toBeLessThanOrEqual(noiseAmplitude(p.truth_w, 0) + Math.abs(p.truth_w) * 1e-7);
      }
      const meanError = polls.reduce((a, p) => a + (p.power - p.truth_w), 0) / polls.length;
      const meanTruth = polls.reduce((a, p) => a + p.truth_w, 0) / polls.length;
      expect(Math.abs(meanError), `${name}: mean error`).toBeLessThan(meanTruth * NOISE_RELATIVE * 0.3);
    }
    // Counters carry no noise: the served energy is the true energy (float32 on Modbus, 12 digits in JSON).
    for (const p of lighting) expect(p.energy).toBe(Math.fround(p.truth_kwh));
    for (const p of gpu) expect(p.energy).toBe(Number(p.truth_kwh.toPrecision(12)));
  });

  it('serves the model exactly with measurement_noise: false (the same truth, the same seed)', async () => {
    const { lighting, gpu } = await pollSteady(exact, exactClock);
    for (const p of lighting) expect(p.power).toBe(Math.fround(p.truth_w));
    // The recorder keeps power as float32; the BMC serves 12 digits.
    for (const p of gpu) expect(Math.abs(p.power - p.truth_w)).toBeLessThanOrEqual(Math.abs(p.truth_w) * 1e-7);
    expect(new Set(lighting.map((p) => p.power)).size).toBe(1);
    // The noise changed nothing the truth recorder integrates.
    expect(exact.truth().energy_kwh).toEqual(noisy.truth().energy_kwh);
  });

  it('leaves a stuck device frozen: the noise comes before the faults', async () => {
    expect(noisy.putFault('meter-lighting', { kind: 'stuck' }).ok).toBe(true);
    const frozen: number[] = [];
    for (let k = 0; k < 10; k++) {
      noisyClock.advance(1000);
      frozen.push(noisy.servedQuantities('meter-lighting')!.values.active_power_w as number);
    }
    expect(new Set(frozen).size).toBe(1);
    expect(noisy.removeFaults('meter-lighting', 'stuck').ok).toBe(true);
    const free: number[] = [];
    for (let k = 0; k < 10; k++) {
      noisyClock.advance(1000);
      free.push(noisy.servedQuantities('meter-lighting')!.values.active_power_w as number);
    }
    expect(new Set(free).size).toBeGreaterThan(5);
  });
});
