import type { Workload } from '../sim-hints.js';

/**
 * What runs in a rack and how its IT power moves: business hours for general compute, training
 * jobs with checkpoint dips for GPU racks, a flat line for storage, a switch or two for idle
 * racks, nothing for empty ones. Pure functions; the per-rack state (walks, job clocks) lives
 * in the model's typed arrays.
 */

export const WORKLOAD_CODE: Record<Workload, number> = { general: 0, gpu_training: 1, storage: 2, idle: 3, empty: 4 };

/** Mean load as a share of the rack rating when the seed gives no `load_kw`. */
export const DEFAULT_LOAD_RATIO: Record<Workload, number> = { general: 0.45, gpu_training: 0, storage: 0.5, idle: 0, empty: 0 };
/** An idle rack: a top-of-rack switch and a management server, below the on-rack threshold. */
export const IDLE_RACK_W = 200;

export const RHYTHM = {
  /** General compute: ±12 % around the mean, peaking mid-afternoon; weekends 5 % lower. */
  general_amplitude: 0.12,
  storage_amplitude: 0.03,
  peak_hour: 14.5,
  weekend_factor: 0.95,
  /** Slow random walk of each rack (Ornstein-Uhlenbeck), relative to its rhythm. */
  walk_tau_s: 7200,
  walk_sigma: 0.0004,
  walk_limit: 0.08,
} as const;

/** Relative daily rhythm of a rack's load (1 = its mean). */
export function rhythmFactor(code: number, hour: number, weekday: number, peak_shift_h: number): number {
  const daily = Math.cos((2 * Math.PI * (hour - RHYTHM.peak_hour - peak_shift_h)) / 24);
  if (code === WORKLOAD_CODE.general) return (1 + RHYTHM.general_amplitude * daily) * (weekday === 0 || weekday === 6 ? RHYTHM.weekend_factor : 1);
  if (code === WORKLOAD_CODE.storage) return 1 + RHYTHM.storage_amplitude * daily;
  return 1;
}

/** Accelerators the model knows (vendor datasheets; 8 GPUs ≈ 0.9 kW idle in an HPE XL675d capture, a DGX H100 10.2 kW max). */
export interface GpuSpec {
  model: string;
  tdp_w: number;
  idle_w: number;
  memory_mib: number;
  /** Server power outside the accelerators (CPUs, fans, NICs, NVSwitch), idle and at full load. */
  base_idle_w: number;
  base_load_w: number;
  cpu_model: string;
}

export const GPU_SPECS: readonly GpuSpec[] = [
  { model: 'NVIDIA H100 80GB HBM3', tdp_w: 700, idle_w: 70, memory_mib: 81_559, base_idle_w: 400, base_load_w: 2400, cpu_model: 'Intel(R) Xeon(R) Platinum 8480+' },
  { model: 'NVIDIA A100-SXM4-80GB', tdp_w: 400, idle_w: 55, memory_mib: 81_920, base_idle_w: 400, base_load_w: 1400, cpu_model: 'AMD EPYC 7742 64-Core Processor' },
  { model: 'Huawei Ascend 910B', tdp_w: 400, idle_w: 65, memory_mib: 65_536, base_idle_w: 450, base_load_w: 1600, cpu_model: 'HUAWEI Kunpeng 920 5250' },
];

export function gpuSpec(model: string | undefined): GpuSpec {
  const known = GPU_SPECS.find((s) => s.model === model);
  if (known) return known;
  const fallback = GPU_SPECS[0]!;
  return model === undefined ? fallback : { ...fallback, model };
}

/** Rack power outside the servers: switches, PDUs' own draw. */
export const GPU_RACK_NETWORK_W = 300;

/** Power of one accelerator at utilisation u (0–1): idle floor plus a near-linear dynamic part. */
export function gpuPowerW(spec: GpuSpec, u: number): number {
  return spec.idle_w + (spec.tdp_w - spec.idle_w) * 0.92 * Math.min(1, Math.max(0, u));
}

/** One GPU server at utilisation u: its base plus its accelerators. */
export function gpuServerPowerW(spec: GpuSpec, gpus: number, u: number): number {
  const uu = Math.min(1, Math.max(0, u));
  return spec.base_idle_w + (spec.base_load_w - spec.base_idle_w) * uu + gpus * gpuPowerW(spec, uu);
}

/**
 * Training jobs on a GPU rack: a job holds the accelerators at 88–98 % for 2–20 h, with a
 * checkpoint every 30 min during which they drop to ≈35 % for 90 s; between jobs the rack
 * idles 5 min – 3 h. Utilisation follows its target with a 20 s lag (data loading, ramp-up).
 */
export const TRAINING = {
  job_min_s: 2 * 3600,
  job_max_s: 20 * 3600,
  gap_min_s: 300,
  gap_max_s: 3 * 3600,
  level_min: 0.88,
  level_max: 0.98,
  checkpoint_every_s: 1800,
  checkpoint_s: 90,
  checkpoint_level: 0.35,
  idle_level: 0.02,
  ramp_tau_s: 20,
} as const;

/** Target utilisation of a running job `elapsed_s` into it. */
export function trainingTarget(level: number, elapsed_s: number): number {
  const inCycle = elapsed_s % TRAINING.checkpoint_every_s;
  return inCycle >= TRAINING.checkpoint_every_s - TRAINING.checkpoint_s ? TRAINING.checkpoint_level : level;
}
