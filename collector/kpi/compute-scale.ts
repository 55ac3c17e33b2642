import type { KpiValue } from '../../contract/messages.js';
import { acceleratorSpec, cpuFp32Tflops, cpuSpec } from './compute-catalogue.js';
import { qualityFromCoverage } from './quality.js';

/**
 * Compute scale (docs/design.md §5, MIIT 算力 statistics), live:
 * - installed intelligent compute 智算 = Σ accelerators × dense FP16 peak, PFLOPS, basis "fp16_dense";
 * - general compute 通用 = Σ CPUs × FP32 peak, PFLOPS, basis "fp32";
 * - 智算占比 = AI / (AI + general): the two bases differ, as in the national statistics; the basis
 *   label "fp16_dense+fp32" says so (the national 智算占比 mixes precisions, so the mix must be shown);
 * - accelerator utilisation = mean gpu_utilisation_pct over the accelerators reporting it now.
 * Installed = reported a model within `installed_ttl_ms`. Unknown models are counted and
 * reported, never guessed; their share lowers the quality (coverage = known / all).
 */

export const COMPUTE_AI_KPI = 'compute_ai_pflops';
export const COMPUTE_GENERAL_KPI = 'compute_general_pflops';
export const COMPUTE_AI_SHARE_KPI = 'compute_ai_share_ratio';
export const ACCELERATOR_UTILISATION_KPI = 'accelerator_utilisation_pct';

export interface UnitSeen {
  model: string | undefined;
  model_ts: number;
  utilisation_pct?: number | undefined;
  utilisation_ts?: number | undefined;
  /** Staleness of the utilisation reading, ms (max(3 × poll interval, 5 min)). */
  stale_after_ms: number;
}

export interface ComputeFigures {
  ai_tflops: number;
  accelerators: number;
  accelerators_unknown: number;
  general_tflops: number;
  cpus: number;
  cpus_unknown: number;
  utilisation_pct: number | undefined;
  accelerators_reporting: number;
  unknown_models: string[];
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

export function computeFigures(gpus: Iterable<UnitSeen>, cpus: Iterable<UnitSeen>, at_ms: number, installed_ttl_ms: number): ComputeFigures {
  const unknown = new Set<string>();
  let ai = 0;
  let accelerators = 0;
  let accUnknown = 0;
  let utilSum = 0;
  let reporting = 0;
  for (const g of gpus) {
    if (g.model === undefined || at_ms - g.model_ts > installed_ttl_ms) continue;
    accelerators++;
    const spec = acceleratorSpec(g.model);
    if (spec) ai += spec.fp16_dense_tflops;
    else {
      accUnknown++;
      unknown.add(g.model);
    }
    if (g.utilisation_pct !== undefined && g.utilisation_ts !== undefined && at_ms - g.utilisation_ts <= g.stale_after_ms) {
      utilSum += g.utilisation_pct;
      reporting++;
    }
  }
  let general = 0;
  let cpuCount = 0;
  let cpuUnknown = 0;
  for (const c of cpus) {
    if (c.model === undefined || at_ms - c.model_ts > installed_ttl_ms) continue;
    cpuCount++;
    const spec = cpuSpec(c.model);
    if (spec) general += cpuFp32Tflops(spec);
    else {
      cpuUnknown++;
      unknown.add(c.model);
    }
  }
  return {
    ai_tflops: ai,
    accelerators,
    accelerators_unknown: accUnknown,
    general_tflops: general,
    cpus: cpuCount,
    cpus_unknown: cpuUnknown,
    utilisation_pct: reporting > 0 ? utilSum / reporting : undefined,
    accelerators_reporting: reporting,
    unknown_models: [...unknown].sort(),
  };
}

/** Sum of several sites' figures (cluster roll-up); utilisation weighted by reporting accelerators. */
export function sumComputeFigures(all: readonly ComputeFigures[]): ComputeFigures {
  const s = (f: (c: ComputeFigures) => number) => all.reduce((a, c) => a + f(c), 0);
  const reporting = s((c) => c.accelerators_reporting);
  return {
    ai_tflops: s((c) => c.ai_tflops),
    accelerators: s((c) => c.accelerators),
    accelerators_unknown: s((c) => c.accelerators_unknown),
    general_tflops: s((c) => c.general_tflops),
    cpus: s((c) => c.cpus),
    cpus_unknown: s((c) => c.cpus_unknown),
    utilisation_pct: reporting > 0 ? s((c) => (c.utilisation_pct ?? 0) * c.accelerators_reporting) / reporting : undefined,
    accelerators_reporting: reporting,
    unknown_models: [...new Set(all.flatMap((c) => c.unknown_models))].sort(),
  };
}

export function computeValues(f: ComputeFigures, at_ms: number, basisPrefix = ''): KpiValue[] {
  const win = { window: 'instant' as const, window_start: at_ms, window_end: at_ms, status: 'grey' as const };
  const b = (x: string) => (basisPrefix ? `${basisPrefix}:${x}` : x);
  const share = (known: number, all: number) => (all > 0 ? known / all : 0);
  const value = (kpi: string, basis: string, v: number | undefined, known: number, all: number, inputs: Record<string, number>, missing: string, cov = share(known, all)): KpiValue => {
    const coverage = round(cov, 6);
    const quality = qualityFromCoverage(coverage);
    if (v === undefined || all === 0 || quality === 'insufficient') {
      const reason = all === 0 ? missing : `only ${known} of ${all} units are in the catalogue (unknown: ${f.unknown_models.slice(0, 5).join(', ')})`;
      return { kpi, ...win, basis: b(basis), ok: false, reason: `DCIM_E_KPI_INSUFFICIENT: ${reason}`, reason_code: 'DCIM_E_KPI_INSUFFICIENT', coverage, quality: 'insufficient', inputs };
    }
    return { kpi, ...win, basis: b(basis), ok: true, value: round(v, 6), coverage, quality, inputs };
  };
  const accIn = { accelerators: f.accelerators, accelerators_unknown: f.accelerators_unknown };
  const cpuIn = { cpus: f.cpus, cpus_unknown: f.cpus_unknown };
  const knownAcc = f.accelerators - f.accelerators_unknown;
  const knownCpu = f.cpus - f.cpus_unknown;
  const totalKnown = f.ai_tflops + f.general_tflops;
  return [
    value(COMPUTE_AI_KPI, 'fp16_dense', f.ai_tflops / 1000, knownAcc, f.accelerators, accIn, 'no accelerator has reported its model'),
    value(COMPUTE_GENERAL_KPI, 'fp32', f.general_tflops / 1000, knownCpu, f.cpus, cpuIn, 'no CPU has reported its model'),
    value(COMPUTE_AI_SHARE_KPI, 'fp16_dense+fp32', totalKnown > 0 ? f.ai_tflops / totalKnown : undefined, knownAcc + knownCpu, f.accelerators + f.cpus, { ...accIn, ...cpuIn, ai_pflops: round(f.ai_tflops / 1000, 6), general_pflops: round(f.general_tflops / 1000, 6) }, 'no accelerator or CPU has reported its model',
      // A share is only as good as the worse of its two parts.
      Math.min(f.accelerators > 0 ? share(knownAcc, f.accelerators) : 1, f.cpus > 0 ? share(knownCpu, f.cpus) : 1)),
    value(ACCELERATOR_UTILISATION_KPI, 'mean_of_reporting', f.utilisation_pct, f.accelerators_reporting, f.accelerators, { accelerators: f.accelerators, accelerators_reporting: f.accelerators_reporting }, 'no accelerator is installed'),
  ];
}
