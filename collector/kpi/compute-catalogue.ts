/**
 * Peak throughput of accelerator and CPU models, for the installed compute scale 算力规模
 * (docs/design.md §5). MIIT reports intelligent compute 智能算力 in FP16 (2025), so accelerators count
 * their DENSE FP16/BF16 tensor peak (vendors headline the 2:4-sparse figure, twice as large);
 * general compute counts CPUs at FP32 peak = cores × base clock × FP32 FLOPs per cycle (base, not
 * boost: all-core vector clocks sit near base). Every figure carries its precision basis.
 *
 * Model strings come from Redfish `Processor.Model` (and nvidia-smi names): matched case- and
 * punctuation-insensitively by patterns, most specific first. A model no pattern matches is
 * counted as unknown and reported, never guessed.
 *
 * Sources: vendor datasheets (NVIDIA H100, A100, L40S; H100 989.4 dense per
 * glennklockwood.com; A100 311.87; L40S 362.05; Ascend 910B ~280–320 by SKU: 280 from the gitee
 * AI docs, LOW confidence, no official datasheet); CPU peak = cores × clock × FLOPs/cycle as
 * China's 算力 statistics count it. CPU FLOPs/cycle: two 512-bit FMA units on Xeon Scalable = 64 FP32
 * (Tom's Hardware, Skylake-SP review: "32 double-precision and 64 single-precision FLOPS per
 * core"); Zen 2 = 16 FP64 = 32 FP32 (Microway, EPYC "Rome" specifications: two 256-bit FMA
 * units); Kunpeng 920 (TaiShan v110, 128-bit NEON, two FMA pipes) = 16 FP32, LOW confidence.
 * Core counts and base clocks are the vendors' published SKU figures (8480+ 56 cores per
 * ServeTheHome; 7702 64 × 2.0 GHz; 7742 64 × 2.25 GHz; Kunpeng 920-5250 48 × 2.6 GHz).
 */

export type Confidence = 'high' | 'medium' | 'low';

export interface AcceleratorSpec {
  id: string;
  /** Tested against the normalised model string (lower case, punctuation → space). */
  pattern: RegExp;
  fp16_dense_tflops: number;
  confidence: Confidence;
  source: string;
}

export interface CpuSpec {
  id: string;
  pattern: RegExp;
  cores: number;
  base_ghz: number;
  fp32_flops_per_cycle: number;
  confidence: Confidence;
  source: string;
}

export const ACCELERATORS: readonly AcceleratorSpec[] = [
  { id: 'nvidia-h200', pattern: /\bh200\b/, fp16_dense_tflops: 989, confidence: 'medium', source: 'NVIDIA H200 announcement: same GH100 compute as H100 SXM' },
  { id: 'nvidia-h100-pcie', pattern: /\bh100\b.*\bpcie\b|\bpcie\b.*\bh100\b/, fp16_dense_tflops: 756, confidence: 'high', source: 'NVIDIA H100 datasheet' },
  { id: 'nvidia-h100-sxm', pattern: /\bh100\b/, fp16_dense_tflops: 989.4, confidence: 'high', source: 'NVIDIA H100 datasheet, 989.4 dense' },
  { id: 'nvidia-a100', pattern: /\ba100\b/, fp16_dense_tflops: 311.87, confidence: 'high', source: 'NVIDIA A100 spec tables' },
  { id: 'nvidia-l40s', pattern: /\bl40s\b/, fp16_dense_tflops: 362.05, confidence: 'high', source: 'NVIDIA L40S datasheet' },
  { id: 'huawei-ascend-910b', pattern: /\bascend\s*910\s*b\d?\b/, fp16_dense_tflops: 280, confidence: 'low', source: 'gitee AI docs 280 (SKUs 910B1–B4 vary 280–320)' },
  { id: 'huawei-ascend-910', pattern: /\bascend\s*910\b/, fp16_dense_tflops: 256, confidence: 'low', source: 'secondary Chinese sources' },
];

export const CPUS: readonly CpuSpec[] = [
  { id: 'intel-xeon-platinum-8480plus', pattern: /\bxeon\b.*\b8480\b/, cores: 56, base_ghz: 2.0, fp32_flops_per_cycle: 64, confidence: 'medium', source: 'Intel SKU 56 C / 2.0 GHz; 2 × AVX-512 FMA' },
  { id: 'amd-epyc-7742', pattern: /\bepyc\s*7742\b/, cores: 64, base_ghz: 2.25, fp32_flops_per_cycle: 32, confidence: 'medium', source: 'AMD SKU 64 C / 2.25 GHz; Zen 2 2 × 256-bit FMA' },
  { id: 'amd-epyc-7702', pattern: /\bepyc\s*7702\b/, cores: 64, base_ghz: 2.0, fp32_flops_per_cycle: 32, confidence: 'medium', source: 'AMD SKU 64 C / 2.0 GHz; Zen 2 2 × 256-bit FMA' },
  { id: 'huawei-kunpeng-920-5250', pattern: /\bkunpeng\s*920\s*5250\b/, cores: 48, base_ghz: 2.6, fp32_flops_per_cycle: 16, confidence: 'low', source: 'Huawei SKU 48 C / 2.6 GHz; NEON 2 × 128-bit FMA (recalled)' },
];

/** Lower case, trademarks and punctuation to spaces: "NVIDIA H100 80GB HBM3" → "nvidia h100 80gb hbm3". */
export function normaliseModel(model: string): string {
  return model
    .toLowerCase()
    .replace(/\((r|tm)\)|[®™]/g, ' ')
    .replace(/[^a-z0-9+]+/g, ' ')
    .trim();
}

export function acceleratorSpec(model: string): AcceleratorSpec | undefined {
  const n = normaliseModel(model);
  return ACCELERATORS.find((a) => a.pattern.test(n));
}

export function cpuSpec(model: string): CpuSpec | undefined {
  const n = normaliseModel(model);
  return CPUS.find((c) => c.pattern.test(n));
}

export function cpuFp32Tflops(c: CpuSpec): number {
  return (c.cores * c.base_ghz * c.fp32_flops_per_cycle) / 1000;
}
