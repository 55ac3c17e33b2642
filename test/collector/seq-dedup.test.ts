import { describe, expect, it } from 'vitest';
import { SeqDedup } from '../../collector/state/seq-dedup.js';

describe('SeqDedup', () => {
  it.each([
    { name: 'in order', seqs: [1, 2, 3], verdicts: ['new', 'new', 'new'], ranges: [[1, 3]] },
    { name: 'QoS 1 redelivery', seqs: [1, 2, 2, 3, 1], verdicts: ['new', 'new', 'duplicate', 'new', 'duplicate'], ranges: [[1, 3]] },
    {
      name: 'backlog replay below live data',
      seqs: [100, 101, 50, 51, 52, 102, 51],
      verdicts: ['new', 'new', 'new', 'new', 'new', 'new', 'duplicate'],
      ranges: [
        [50, 52],
        [100, 102],
      ],
    },
    { name: 'gap filled joins ranges', seqs: [1, 3, 2], verdicts: ['new', 'new', 'new'], ranges: [[1, 3]] },
    { name: 'seq 0 is valid', seqs: [0, 0], verdicts: ['new', 'duplicate'], ranges: [[0, 0]] },
  ])('$name', ({ seqs, verdicts, ranges }) => {
    const d = new SeqDedup();
    expect(seqs.map((s) => d.check('a', s))).toEqual(verdicts);
    expect(d.ranges('a')).toEqual(ranges);
  });

  it('keeps agents apart', () => {
    const d = new SeqDedup();
    expect(d.check('a', 1)).toBe('new');
    expect(d.check('b', 1)).toBe('new');
    expect(d.check('a', 1)).toBe('duplicate');
  });

  it('bounds the ranges per agent; seqs below the folded floor are too old', () => {
    const d = new SeqDedup({ max_ranges_per_agent: 3 });
    for (const s of [10, 20, 30, 40]) expect(d.check('a', s)).toBe('new');
    expect(d.ranges('a')).toEqual([
      [20, 20],
      [30, 30],
      [40, 40],
    ]);
    expect(d.check('a', 5)).toBe('too_old');
    expect(d.check('a', 10)).toBe('too_old');
    expect(d.check('a', 15)).toBe('new');
  });

  it('bounds the agents, forgetting the least recently heard', () => {
    const d = new SeqDedup({ max_agents: 2 });
    d.check('a', 1);
    d.check('b', 1);
    d.check('a', 2);
    d.check('c', 1);
    expect(d.agent_count).toBe(2);
    expect(d.ranges('b')).toEqual([]);
    expect(d.check('a', 1)).toBe('duplicate');
  });

  it('stays small under a long in-order stream with redeliveries', () => {
    const d = new SeqDedup();
    let dup = 0;
    for (let s = 0; s < 100_000; s++) {
      d.check('a', s);
      if (s % 10 === 0 && d.check('a', s - 1) === 'duplicate') dup++;
    }
    expect(d.ranges('a')).toEqual([[0, 99_999]]);
    expect(dup).toBe(9_999);
  });
});
