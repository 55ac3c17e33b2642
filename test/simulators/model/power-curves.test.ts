import { describe, expect, it } from 'vitest';
import { dryBulbC, GUIZHOU_CLIMATE, irradianceWm2, sunElevationSin, wetBulbC } from '../../../simulators/model/climate.js';
import { zoneTimeIn } from '../../../simulators/model/local-time.js';
import { chillerAvailableW, chillerCop, chillerPowerW, fanPowerW, transformerLossW, upsEfficiency } from '../../../simulators/model/power-curves.js';
import { gpuServerPowerW, gpuSpec, trainingTarget, TRAINING } from '../../../simulators/model/workloads.js';

const CAP = 1_758_300;
const fullLoadCop = (tChw: number, tCond: number) => chillerCop(CAP, chillerAvailableW(CAP, tChw, tCond), tChw, tCond);

describe('chiller: Carrier 19XR curves reproduce the Modelica Buildings record', () => {
  // Full-load COP table derived from the record's EIR curves.
  it.each([
    [5.56, 12.8, 7.9],
    [5.56, 15, 6.9],
    [5.56, 18, 6.2],
    [5.56, 21, 5.9],
    [5.56, 24.4, 5.9],
    [7, 12.8, 8.8],
    [7, 18, 6.5],
    [7, 24.4, 5.8],
    [10, 12.8, 13.4],
    [10, 15, 10.0],
    [10, 18, 7.9],
    [10, 21, 6.8],
    [10, 24.4, 6.2],
  ])('CHW %s °C, condenser %s °C → COP %s', (tChw, tCond, cop) => {
    expect(fullLoadCop(tChw, tCond)).toBeCloseTo(cop, 0);
    expect(Math.abs(fullLoadCop(tChw, tCond) - cop)).toBeLessThan(0.08);
  });

  it.each([
    [0.4, 9.0],
    [0.6, 8.7],
    [0.8, 7.2],
    [1.0, 5.9],
  ])('part load %s at the reference temperatures → COP %s', (plr, cop) => {
    const avail = chillerAvailableW(CAP, 5.56, 24.44);
    expect(Math.abs(chillerCop(CAP, plr * avail, 5.56, 24.44) - cop)).toBeLessThan(0.1);
  });

  it('holds temperatures inside the curve range, cycles below the minimum part load, draws nothing without load', () => {
    expect(chillerPowerW(CAP, 500_000, 16, 30)).toBe(chillerPowerW(CAP, 500_000, 10, 24.44));
    const atMin = chillerPowerW(CAP, 0.2 * chillerAvailableW(CAP, 10, 20), 10, 20);
    expect(chillerPowerW(CAP, 0.1 * chillerAvailableW(CAP, 10, 20), 10, 20)).toBeCloseTo(atMin / 2, 6);
    expect(chillerPowerW(CAP, 0, 10, 20)).toBe(0);
    expect(chillerPowerW(0, 1000, 10, 20)).toBe(0);
  });
});

describe('UPS, transformer and fans', () => {
  it.each([
    [0.1, 0.878],
    [0.2, 0.926],
    [0.5, 0.955],
    [1.0, 0.962],
  ])('a double-conversion UPS at %s load is %s efficient', (x, eta) => {
    expect(upsEfficiency(500_000, x * 500_000)).toBeCloseTo(eta, 2);
  });

  it('transformer losses: core at no load, copper ∝ load²; fans ∝ speed³', () => {
    expect(transformerLossW(1_000_000, 0)).toBeCloseTo(2000, 6);
    expect(transformerLossW(1_000_000, 1_000_000)).toBeCloseTo(11_000, 6);
    expect(fanPowerW(10_000, 0.5) / fanPowerW(10_000, 1)).toBeCloseTo((0.02 + 0.98 / 8) / 1, 6);
  });
});

describe('Guizhou climate (Guiyang normals)', () => {
  it('wet bulb from dry bulb and humidity (Stull 2011) matches the derived Gui\'an means', () => {
    expect(wetBulbC(15.3, 0.77)).toBeCloseTo(12.7, 0);
    expect(wetBulbC(22.9, 0.8)).toBeCloseTo(20.3, 0);
    expect(Math.abs(wetBulbC(30, 0.6) - 23.6)).toBeLessThan(0.6);
    expect(wetBulbC(20, 1)).toBeCloseTo(20, 0);
  });

  it('seasons swing ±9.7 K around the 15.3 °C annual mean: coldest in early January, warmest in July', () => {
    const daily = (day: number) => {
      let s = 0;
      for (let h = 0; h < 24; h++) s += dryBulbC(GUIZHOU_CLIMATE, h + 0.5, day);
      return s / 24;
    };
    expect(daily(8)).toBeCloseTo(5.6, 0);
    expect(daily(190)).toBeCloseTo(25, 0);
    let year = 0;
    for (let d = 1; d <= 365; d++) year += daily(d);
    expect(year / 365).toBeCloseTo(15.3, 1);
  });

  it('sun: dark at night, high at solar noon in June, clouds cut the light', () => {
    const noonUtc = 12 - 106.6 / 15;
    expect(sunElevationSin(GUIZHOU_CLIMATE, noonUtc + 12, 172)).toBeLessThan(0);
    const high = sunElevationSin(GUIZHOU_CLIMATE, noonUtc, 172);
    expect(high).toBeGreaterThan(0.99);
    expect(irradianceWm2(high, 0)).toBeGreaterThan(900);
    expect(irradianceWm2(high, 1)).toBeCloseTo(0.25 * irradianceWm2(high, 0), 6);
    expect(irradianceWm2(-0.2, 0)).toBe(0);
  });
});

describe('local time of a site', () => {
  it('Asia/Shanghai: hour, day of year, weekday, local midnight', () => {
    const z = zoneTimeIn('Asia/Shanghai')(Date.UTC(2026, 0, 1, 17, 30)); // 01:30 on Friday 2 January
    expect(z.hour).toBeCloseTo(1.5, 9);
    expect(z.day_of_year).toBe(2);
    expect(z.weekday).toBe(5);
    expect(z.offset_ms).toBe(8 * 3_600_000);
    expect(z.day_start_ms).toBe(Date.UTC(2026, 0, 1, 16));
  });

  it('a DST zone: the offset changes on the day it should', () => {
    const berlin = zoneTimeIn('Europe/Berlin');
    expect(berlin(Date.UTC(2026, 2, 29, 0, 30)).offset_ms).toBe(3_600_000);
    expect(berlin(Date.UTC(2026, 2, 29, 1, 30)).offset_ms).toBe(7_200_000);
    expect(berlin(Date.UTC(2026, 2, 29, 12)).day_start_ms).toBe(Date.UTC(2026, 2, 28, 23));
  });

  it('rejects an unknown zone', () => {
    expect(() => zoneTimeIn('Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('workloads', () => {
  it('GPU servers: ≈0.9–1 kW idle, 6.5–8.5 kW training, ≤ 10.2 kW flat out (DGX H100 figures)', () => {
    const h100 = gpuSpec('NVIDIA H100 80GB HBM3');
    expect(gpuServerPowerW(h100, 8, 0)).toBeGreaterThan(900);
    expect(gpuServerPowerW(h100, 8, 0)).toBeLessThan(1000);
    expect(gpuServerPowerW(h100, 8, 0.9)).toBeGreaterThan(6500);
    expect(gpuServerPowerW(h100, 8, 0.9)).toBeLessThan(8500);
    expect(gpuServerPowerW(h100, 8, 1)).toBeLessThanOrEqual(10_200);
    expect(gpuSpec('Some Future GPU').model).toBe('Some Future GPU');
  });

  it('training checkpoints: a dip every 30 minutes', () => {
    expect(trainingTarget(0.9, 100)).toBe(0.9);
    expect(trainingTarget(0.9, TRAINING.checkpoint_every_s - 10)).toBe(TRAINING.checkpoint_level);
    expect(trainingTarget(0.9, TRAINING.checkpoint_every_s + 10)).toBe(0.9);
  });
});
