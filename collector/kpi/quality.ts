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
