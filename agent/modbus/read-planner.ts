import type { ModbusProfile } from '../../contract/index.js';

/**
 * Merge register spans into the fewest Modbus reads (docs/design.md §3). Pure.
 *
 * Per register kind, spans are sorted by address and merged greedily: a span joins the open
 * read when the hole before it is at most `max_gap` registers and the read stays within
 * `max_registers_per_read`. For this one-dimensional problem greedy merging is optimal. Holes
 * are read and thrown away, which is cheaper than a round trip as long as the device serves
 * them; a device that answers "illegal address" for a hole is handled by the reader, which
 * retries that read point by point.
 */
export type RegisterKind = ModbusProfile['points'][number]['register'];

export interface Span {
  kind: RegisterKind;
  address: number;
  count: number;
}

export interface PlannedRead extends Span {
  /** Indices into the input spans this read serves. */
  spans: number[];
}

export interface PlanLimits {
  max_registers_per_read: number;
  max_gap: number;
  one_request_per_point: boolean;
}

/** Modbus protocol ceilings per read: 125 registers (FC03/04), 2000 bits (FC01/02). */
export const PROTOCOL_MAX: Record<RegisterKind, number> = { holding: 125, input: 125, coil: 2000, discrete: 2000 };

const KIND_ORDER: readonly RegisterKind[] = ['holding', 'input', 'coil', 'discrete'];

export function planReads(spans: readonly Span[], limits: PlanLimits): PlannedRead[] {
  const reads: PlannedRead[] = [];
  for (const kind of KIND_ORDER) {
    const max = Math.max(1, Math.min(limits.max_registers_per_read, PROTOCOL_MAX[kind]));
    const gap = Math.max(0, limits.max_gap);
    const mine = spans
      .map((s, i) => ({ ...s, i }))
      .filter((s) => s.kind === kind)
      .sort((a, b) => a.address - b.address || b.count - a.count || a.i - b.i);
    let open: PlannedRead | undefined;
    for (const s of mine) {
      const end = s.address + s.count;
      if (open && !limits.one_request_per_point) {
        const openEnd = open.address + open.count;
        const newEnd = Math.max(openEnd, end);
        if (s.address - openEnd <= gap && newEnd - open.address <= max) {
          open.count = newEnd - open.address;
          open.spans.push(s.i);
          continue;
        }
      }
      if (open && limits.one_request_per_point && s.address === open.address && s.count === open.count) {
        // The same registers twice (e.g. two bits of one status word): one read serves both.
        open.spans.push(s.i);
        continue;
      }
      open = { kind, address: s.address, count: s.count, spans: [s.i] };
      reads.push(open);
    }
  }
  return reads;
}
