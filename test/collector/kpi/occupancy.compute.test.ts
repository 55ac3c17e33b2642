import { describe, expect, it } from 'vitest';
import { meanOfSites, pooledOccupancyDay } from '../../../collector/kpi/cluster-rollup.js';
import { acceleratorSpec, cpuFp32Tflops, cpuSpec, normaliseModel } from '../../../collector/kpi/compute-catalogue.js';
import { computeFigures, computeValues, sumComputeFigures, type UnitSeen } from '../../../collector/kpi/compute-scale.js';
import { judgeRackDay, occupancyDayValue, occupancyMonthValue, utilisationValue, type OccupancyDay } from '../../../collector/kpi/occupancy.js';
import { QUARTER_MS } from '../../../shared/time/site-calendar.js';
import type { KpiValue } from '../../../contract/messages.js';

const T0 = Date.UTC(2025, 11, 31, 16);
/** A quarter hour at `kw` mean rack power (all meters together), `meters` meters with `share` of their time covered. */
const q = (kw: number, meters = 1, share = 1) => ({ kwh: kw * 0.25 * share, covered_ms: meters * QUARTER_MS * share, resets: 0, spikes: 0 });

describe('on-rack judgement per day (≥ max(0.3 kW, 10 % rated) for ≥ 50 % of the observed day)', () => {
  it.each<[string, ReturnType<typeof q>[] | undefined[], number, number, { observed: number; above: number; on: boolean }]>([
    ['48 of 96 quarter hours above 1.2 kW: on (exactly half)', [...Array(48).fill(q(1.3)), ...Array(48).fill(q(0.5))], 1, 1.2, { observed: 96, above: 48, on: true }],
    ['47 of 96: off', [...Array(47).fill(q(1.3)), ...Array(49).fill(q(0.5))], 1, 1.2, { observed: 96, above: 47, on: false }],
    ['exactly at the threshold counts', Array(96).fill(q(1.2)), 1, 1.2, { observed: 96, above: 96, on: true }],
    ['A/B PDUs at 0.7 kW each: the rack power is their sum', Array(96).fill(q(1.4, 2)), 2, 1.2, { observed: 96, above: 96, on: true }],
    ['a quarter hour with under half its meter-time covered is not observed', [...Array(10).fill(q(5, 1, 0.4)), ...Array(86).fill(undefined)], 1, 1.2, { observed: 0, above: 0, on: false }],
    ['observed half a day, all above: on', [...Array(48).fill(q(5)), ...Array(48).fill(undefined)], 1, 1.2, { observed: 48, above: 48, on: true }],
    ['no meters: never on', Array(96).fill(q(5)), 0, 1.2, { observed: 0, above: 0, on: false }],
  ])('%s', (_n, quarters, meters, threshold, want) => {
    expect(judgeRackDay(quarters, meters, threshold, 0.5)).toEqual(want);
  });
});

describe('occupancy values', () => {
  const day = (racks_on: number, coverage = 1): OccupancyDay => ({ start: T0, end: T0 + 86_400_000, racks_available: 1000, racks_on, racks_metered: 720, racks_reserved: 20, racks_planned: 5, rated_kw_available: 6000, rated_kw_on: racks_on * 6, coverage });

  it('DESIGN §5 vector: 1,000 available, 720 with devices, 40 below the threshold → 68.0 %', () => {
    const v = occupancyDayValue(day(680), 0.7);
    expect(v).toMatchObject({ kpi: 'rack_occupancy_ratio', ok: true, value: 0.68, status: 'amber', quality: 'measured', window: '1d' });
    // Counts in 2.5 kW standard racks: 6,000 kW / 2.5 = 2,400; 680 × 6 kW / 2.5 = 1,632.
    expect(v.inputs).toMatchObject({ racks_available: 1000, racks_on: 680, racks_reserved: 20, racks_planned: 5, standard_racks_available: 2400, standard_racks_on: 1632 });
  });

  it('month = mean of its days; a day without a value is left out of the mean and lowers coverage', () => {
    const days = [day(700), day(600), day(0, 0)].map((d, i) => ({ value: occupancyDayValue(d, 0.7), day_ms: T0 + i * 86_400_000 }));
    const v = occupancyMonthValue({ window: '1mo', start: T0, end: T0 + 3 * 86_400_000, period: '2026-01' }, days, 3, 0.7);
    // (0.7 + 0.6) / 2 = 0.65; coverage (1 + 1 + 0) / 3 → insufficient.
    expect(v).toMatchObject({ ok: false, quality: 'insufficient', status: 'grey', basis: 'mean_of_days' });
    const full = occupancyMonthValue({ window: '1mo', start: T0, end: T0 + 2 * 86_400_000, period: '2026-01' }, days.slice(0, 2), 2, 0.7);
    expect(full).toMatchObject({ ok: true, value: 0.65, status: 'amber', inputs: { days: 2, days_with_value: 2 } });
  });

  it('IT-load utilisation = E_IT / (hours × Σ rated kW)', () => {
    // 72,000 kWh over 24 h against 6,000 kW rated: 0.5.
    const it = { measured_kwh: 72_000, substituted_kwh: 0, coverage: 1, substituted_ratio: 0, within_bounds: true };
    const v = utilisationValue({ window: '1d', start: T0, end: T0 + 86_400_000 }, it, 0, 6000);
    expect(v).toMatchObject({ kpi: 'it_load_utilisation_ratio', ok: true, value: 0.5, basis: 'energy', inputs: { hours: 24, it_kwh: 72_000, it_measured_kwh: 72_000, it_substituted_kwh: 0 } });
    expect(utilisationValue({ window: '1d', start: T0, end: T0 + 86_400_000 }, it, 0, 0)).toMatchObject({ ok: false });
  });

  it.each<[string, { measured_kwh: number; substituted_kwh: number; coverage: number; substituted_ratio: number; within_bounds: boolean }, Record<string, unknown>]>([
    // 90 % measured (64,800 kWh) + 10 % substituted (7,200 kWh): estimated, both parts named.
    ['within the bound: measured + substituted, estimated', { measured_kwh: 64_800, substituted_kwh: 7_200, coverage: 0.9, substituted_ratio: 0.1, within_bounds: true }, { ok: true, value: 0.5, quality: 'estimated', inputs: { it_kwh: 72_000, it_measured_kwh: 64_800, it_substituted_kwh: 7_200, substituted_ratio: 0.1 } }],
    // 2 h of 24 measured: the 6,000 kWh are not scaled to 72,000; no value, no total.
    ['beyond the bound: measured part only, no value', { measured_kwh: 6_000, substituted_kwh: 0, coverage: 2 / 24, substituted_ratio: 0, within_bounds: false }, { ok: false, quality: 'insufficient', reason: expect.stringMatching(/measured part only/), inputs: { it_measured_kwh: 6_000, it_substituted_kwh: 0 } }],
  ])('utilisation %s', (_name, it, want) => {
    const v = utilisationValue({ window: '1d', start: T0, end: T0 + 86_400_000 }, it, 0, 6000);
    expect(v).toMatchObject(want);
    if (!it.within_bounds) expect(v.inputs).not.toHaveProperty('it_kwh');
  });

  it('cluster: pooled Σ on / Σ available against the mean of site values', () => {
    const a = { ...day(680), racks_available: 1000 };
    const b = { ...day(30), racks_available: 100, racks_on: 30 };
    const pooled = pooledOccupancyDay([a, b])!;
    // (680 + 30) / 1,100 = 0.6455; mean of sites (0.68 + 0.30) / 2 = 0.49.
    expect(occupancyDayValue(pooled, 0.7).value).toBe(0.6455);
    const values = new Map<string, KpiValue>([['a', occupancyDayValue(a, 0.7)], ['b', occupancyDayValue(b, 0.7)]]);
    expect(meanOfSites(['a', 'b'], values, 0.7, 'at_least')).toMatchObject({ ok: true, value: 0.49, basis: 'mean_of_sites', status: 'red' });
    expect(meanOfSites(['a', 'b', 'c'], values, 0.7, 'at_least')).toMatchObject({ ok: false, reason: expect.stringMatching(/site c/), coverage: 0 });
  });
});

describe('compute catalogue and scale', () => {
  it.each<[string, string | undefined, number | undefined]>([
    ['NVIDIA H100 80GB HBM3', 'nvidia-h100-sxm', 989.4],
    ['NVIDIA H100 PCIe', 'nvidia-h100-pcie', 756],
    ['nvidia h200', 'nvidia-h200', 989],
    ['NVIDIA A100-SXM4-80GB', 'nvidia-a100', 311.87],
    ['NVIDIA L40S', 'nvidia-l40s', 362.05],
    ['Huawei Ascend 910B', 'huawei-ascend-910b', 280],
    ['Ascend910B2', 'huawei-ascend-910b', 280],
    ['Ascend 910', 'huawei-ascend-910', 256],
    ['NVIDIA H1000', undefined, undefined],
    ['', undefined, undefined],
  ])('accelerator %j', (model, id, tflops) => {
    expect(acceleratorSpec(model)?.id).toBe(id);
    expect(acceleratorSpec(model)?.fp16_dense_tflops).toBe(tflops);
  });

  it.each<[string, string | undefined, number | undefined]>([
    // 56 cores × 2.0 GHz × 64 FLOPs/cycle = 7,168 GFLOPS.
    ['Intel(R) Xeon(R) Platinum 8480+', 'intel-xeon-platinum-8480plus', 7.168],
    // 64 × 2.25 × 32 = 4,608 GFLOPS.
    ['AMD EPYC 7742 64-Core Processor', 'amd-epyc-7742', 4.608],
    ['AMD EPYC 7702 64-Core Processor', 'amd-epyc-7702', 4.096],
    ['HUAWEI Kunpeng 920 5250', 'huawei-kunpeng-920-5250', 1.9968],
    ['Kunpeng 920-5250', 'huawei-kunpeng-920-5250', 1.9968],
    ['Intel(R) Xeon(R) Gold 6338', undefined, undefined],
  ])('CPU %j', (model, id, tflops) => {
    const c = cpuSpec(model);
    expect(c?.id).toBe(id);
    if (tflops !== undefined) expect(cpuFp32Tflops(c!)).toBeCloseTo(tflops, 9);
  });

  it('normalises trademarks and punctuation', () => {
    expect(normaliseModel('Intel(R) Xeon(R)  Platinum 8480+ ')).toBe('intel xeon platinum 8480+');
  });

  it('sums installed units at their precision basis, counts unknown models, averages utilisation of fresh reports', () => {
    const at = T0 + 3_600_000;
    const gpu = (model: string | undefined, util?: number, util_age = 1000, model_age = 1000): UnitSeen => ({ model, model_ts: at - model_age, utilisation_pct: util, utilisation_ts: util !== undefined ? at - util_age : undefined, stale_after_ms: 300_000 });
    const gpus = [gpu('NVIDIA H100 80GB HBM3', 90), gpu('NVIDIA H100 80GB HBM3', 50), gpu('Huawei Ascend 910B', 10, 600_000), gpu('Mystery X1'), gpu('NVIDIA A100-SXM4-80GB', 20, 1000, 2 * 86_400_000)];
    const cpus = [gpu('Intel(R) Xeon(R) Platinum 8480+'), gpu('Intel(R) Xeon(R) Platinum 8480+')];
    const f = computeFigures(gpus, cpus, at, 86_400_000);
    // Installed: 2 × H100 + 910B + unknown (the A100 has not reported for 2 days).
    expect(f).toMatchObject({ accelerators: 4, accelerators_unknown: 1, cpus: 2, cpus_unknown: 0, accelerators_reporting: 2, utilisation_pct: 70, unknown_models: ['Mystery X1'] });
    expect(f.ai_tflops).toBeCloseTo(2 * 989.4 + 280, 9);
    const [ai, general, share, util] = computeValues(f, at);
    // 1 of 4 accelerators unknown: coverage 0.75 → insufficient, no value (not guessed).
    expect(ai).toMatchObject({ kpi: 'compute_ai_pflops', basis: 'fp16_dense', ok: false, coverage: 0.75, reason: expect.stringMatching(/Mystery X1/) });
    expect(general).toMatchObject({ kpi: 'compute_general_pflops', basis: 'fp32', ok: true, value: 0.014336, quality: 'measured' });
    expect(share).toMatchObject({ kpi: 'compute_ai_share_ratio', basis: 'fp16_dense+fp32', ok: false });
    expect(util).toMatchObject({ kpi: 'accelerator_utilisation_pct', ok: false, coverage: 0.5 });

    const known = computeFigures(gpus.slice(0, 2), cpus, at, 86_400_000);
    const [ai2, , share2, util2] = computeValues(known, at);
    expect(ai2).toMatchObject({ ok: true, value: 1.9788 });
    // 1,978.8 / (1,978.8 + 14.336) = 0.99281…
    expect(share2!.value).toBeCloseTo(1978.8 / (1978.8 + 14.336), 5);
    expect(util2).toMatchObject({ ok: true, value: 70, quality: 'measured' });
    expect(sumComputeFigures([known, known])).toMatchObject({ accelerators: 4, utilisation_pct: 70, accelerators_reporting: 4 });
  });
});
