import type { KpiQuality } from '../../contract/messages.js';

/**
 * The quality ladder, by the share of an input that was not measured as it should be
 * (substituted, estimated, misaligned): measured ≥ 99 % covered, partial ≤ 5 %, estimated
 * ≤ 20 %, otherwise insufficient.
 */
export function qualityFromDegradedShare(share: number): KpiQuality {
  if (!(share >= 0)) return 'insufficient';
  if (share <= 0.01) return 'measured';
  if (share <= 0.05) return 'partial';
  if (share <= MAX_SUBSTITUTED_SHARE) return 'estimated';
  return 'insufficient';
}

/**
 * The most of an input's meter-time that may be substituted: the `estimated` step of the ladder.
 * Beyond it a window's energy is its measured part only and the KPI has no value.
 */
export const MAX_SUBSTITUTED_SHARE = 0.2;

/** 1 − coverage, rounded so that the ladder's steps compare exactly (1 − 0.99 is 0.01000…09 in floating point). */
export function uncoveredShare(coverage: number): number {
  if (!(coverage >= 0)) return 1;
  return Math.round((1 - Math.min(1, coverage)) * 1e9) / 1e9;
}

/** The ladder from the covered share of the inputs (1 = everything measured). */
export function qualityFromCoverage(coverage: number): KpiQuality {
  if (!(coverage >= 0)) return 'insufficient';
  return qualityFromDegradedShare(uncoveredShare(coverage));
}

const ORDER: readonly KpiQuality[] = ['measured', 'partial', 'estimated', 'insufficient'];

/** The worse of two qualities. */
export function worseQuality(a: KpiQuality, b: KpiQuality): KpiQuality {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}
