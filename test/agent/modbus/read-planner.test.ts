import { describe, expect, it } from 'vitest';
import { planReads, type PlanLimits, type Span } from '../../../agent/modbus/read-planner.js';

const lim = (over: Partial<PlanLimits> = {}): PlanLimits => ({ max_registers_per_read: 120, max_gap: 16, one_request_per_point: false, ...over });
const h = (address: number, count = 2): Span => ({ kind: 'holding', address, count });
const i = (address: number, count = 2): Span => ({ kind: 'input', address, count });
/** Reads as compact tuples: [kind, address, count, span indices]. */
const plan = (spans: Span[], limits: PlanLimits) => planReads(spans, limits).map((r) => [r.kind, r.address, r.count, r.spans]);

describe('planReads', () => {
  it.each([
    ['nothing to read', [], lim(), []],
    ['one point', [i(52)], lim(), [['input', 52, 2, [0]]]],
    ['adjacent floats merge', [i(0), i(2), i(4)], lim(), [['input', 0, 6, [0, 1, 2]]]],
    ['input order does not matter', [i(4), i(0), i(2)], lim(), [['input', 0, 6, [1, 2, 0]]]],
    ['gap exactly max_gap is read through', [i(0), i(2 + 16)], lim(), [['input', 0, 20, [0, 1]]]],
    ['gap one above max_gap splits', [i(0), i(2 + 17)], lim(), [['input', 0, 2, [0]], ['input', 19, 2, [1]]]],
    ['max_gap 0 merges only touching spans', [i(0), i(2), i(5)], lim({ max_gap: 0 }), [['input', 0, 4, [0, 1]], ['input', 5, 2, [2]]]],
    ['read exactly at the size limit', [i(0), i(8)], lim({ max_registers_per_read: 10 }), [['input', 0, 10, [0, 1]]]],
    ['one register over the size limit splits', [i(0), i(9)], lim({ max_registers_per_read: 10 }), [['input', 0, 2, [0]], ['input', 9, 2, [1]]]],
    ['kinds never merge', [h(0), i(2), { kind: 'coil', address: 0, count: 1 }, { kind: 'discrete', address: 1, count: 1 }], lim(), [
      ['holding', 0, 2, [0]], ['input', 2, 2, [1]], ['coil', 0, 1, [2]], ['discrete', 1, 1, [3]],
    ]],
    ['duplicates share one read', [i(10), i(10)], lim(), [['input', 10, 2, [0, 1]]]],
    ['overlapping spans (bit of a word inside a uint32)', [i(10, 2), i(11, 1)], lim(), [['input', 10, 2, [0, 1]]]],
    ['a span inside a longer one', [i(10, 1), i(8, 10)], lim(), [['input', 8, 10, [1, 0]]]],
    ['one_request_per_point keeps spans apart', [i(0), i(2), i(4)], lim({ one_request_per_point: true }), [['input', 0, 2, [0]], ['input', 2, 2, [1]], ['input', 4, 2, [2]]]],
    ['one_request_per_point still shares identical spans', [i(7, 1), i(7, 1)], lim({ one_request_per_point: true }), [['input', 7, 1, [0, 1]]]],
    ['limit above the protocol cap is clamped to 125', [i(0), i(124)], lim({ max_registers_per_read: 500 }), [['input', 0, 2, [0]], ['input', 124, 2, [1]]]],
    ['an oversize span still gets its own read', [i(0, 130), i(200)], lim(), [['input', 0, 130, [0]], ['input', 200, 2, [1]]]],
    ['top of the address space', [h(65534, 1), h(65535, 1)], lim(), [['holding', 65534, 2, [0, 1]]]],
    ['coils merge up to 2000 bits when allowed', [{ kind: 'coil', address: 0, count: 1 }, { kind: 'coil', address: 10, count: 1 }], lim(), [['coil', 0, 11, [0, 1]]]],
  ] as const)('%s', (_name, spans, limits, expected) => {
    expect(plan([...spans], limits)).toEqual(expected);
  });

  it('SDM630 layout: two reads within 80 registers and a 20-register gap', () => {
    const addrs = [0, 2, 4, 6, 8, 10, 52, 70, 72, 342];
    const reads = planReads(addrs.map((a) => i(a)), lim({ max_registers_per_read: 80, max_gap: 20 }));
    // 0..11 and 52..73 are 40 registers apart → separate; 342 alone.
    expect(reads.map((r) => [r.address, r.count])).toEqual([[0, 12], [52, 22], [342, 2]]);
  });

  it('every span is served by exactly one read that covers it', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 200; round++) {
      const spans: Span[] = Array.from({ length: rnd(30) }, () => ({ kind: rnd(2) === 0 ? 'holding' : 'input', address: rnd(500), count: 1 + rnd(4) }));
      const limits = lim({ max_registers_per_read: 1 + rnd(60), max_gap: rnd(30), one_request_per_point: rnd(5) === 0 });
      const reads = planReads(spans, limits);
      const served = reads.flatMap((r) => r.spans).sort((a, b) => a - b);
      expect(served).toEqual(spans.map((_, k) => k));
      for (const r of reads) {
        for (const k of r.spans) {
          const s = spans[k] as Span;
          expect(s.kind).toBe(r.kind);
          expect(s.address).toBeGreaterThanOrEqual(r.address);
          expect(s.address + s.count).toBeLessThanOrEqual(r.address + r.count);
        }
        if (r.spans.length > 1) expect(r.count).toBeLessThanOrEqual(Math.min(limits.max_registers_per_read, 125));
      }
    }
  });
});
