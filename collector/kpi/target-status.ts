import type { KpiQuality, TargetStatus } from '../../contract/messages.js';

/**
 * docs/design.md §5: green when the target is met, amber within the tolerance (0.05 PUE, or 5
 * points of a share), red otherwise, grey when there is no value to judge.
 * PUE is met at or below its target; occupancy and green share at or above theirs.
 */
export type TargetDirection = 'at_most' | 'at_least';

export const TARGET_TOLERANCE = 0.05;

export function targetStatus(
  value: number | undefined,
  target: number | undefined,
  quality: KpiQuality,
  direction: TargetDirection,
  tolerance = TARGET_TOLERANCE,
): TargetStatus {
  if (value === undefined || target === undefined || quality === 'insufficient' || !Number.isFinite(value)) return 'grey';
  // Rounding noise (1.2000000000000002) must not turn a met target amber.
  const miss = Math.round((direction === 'at_most' ? value - target : target - value) * 1e9) / 1e9;
  if (miss <= 0) return 'green';
  if (miss <= tolerance) return 'amber';
  return 'red';
}
