import type { KpiQuality } from '../../contract/messages.js';

/**
 * DESIGN.md §5 quality ladder, by the share of an input that was not measured as it should be
 * (substituted, estimated, misaligned): measured ≥ 99 % covered, partial ≤ 5 %, estimated
 * ≤ 20 %, otherwise insufficient.
 */
export function qualityFromDegradedShare(share: number): KpiQuality {
  if (!(share >= 0)) return 'insufficient';
  if (share <= 0.01) return 'measured';
  if (share <= 0.05) return 'partial';
  if (share <= 0.2) return 'estimated';
  return 'insufficient';
}

/** The ladder from the covered share of the inputs (1 = everything measured). */
export function qualityFromCoverage(coverage: number): KpiQuality {
  if (!(coverage >= 0)) return 'insufficient';
  // 1 − 0.99 is 0.01000…09 in floating point: round before comparing with the ladder's steps.
  return qualityFromDegradedShare(Math.round((1 - Math.min(1, coverage)) * 1e9) / 1e9);
}

const ORDER: readonly KpiQuality[] = ['measured', 'partial', 'estimated', 'insufficient'];

/** The worse of two qualities. */
export function worseQuality(a: KpiQuality, b: KpiQuality): KpiQuality {
  return ORDER.indexOf(a) >= ORDER.indexOf(b) ? a : b;
}
