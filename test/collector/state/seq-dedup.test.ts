import { describe, expect, it } from 'vitest';
import { SEQ_AGENT_IDLE_MS, SEQ_BIRTH_GRACE_MS, SEQ_JUMP_WINDOW, SeqDedup } from '../../../collector/state/seq-dedup.js';

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

  it('bounds the agents; only an agent silent for an hour makes room, a talking one is never pushed out', () => {
    const d = new SeqDedup({ max_agents: 2 });
    const at = (now_ms: number) => ({ now_ms, polls_per_s: 1 });
    d.check('s/a', 1, at(0));
    d.check('s/b', 1, at(0));
    d.check('s/a', 2, at(SEQ_AGENT_IDLE_MS - 1));
    expect(d.check('s/c', 1, at(SEQ_AGENT_IDLE_MS - 1))).toBe('agent_refused');
    // b has been silent an hour now; a spoke a moment ago.
    expect(d.check('s/c', 1, at(SEQ_AGENT_IDLE_MS))).toBe('new');
    expect(d.agent_count).toBe(2);
    expect(d.ranges('s/b')).toEqual([]);
    expect(d.check('s/a', 1, at(SEQ_AGENT_IDLE_MS))).toBe('duplicate');
    expect(d.stats()).toMatchObject({ agents: 2, agents_refused: 1, agents_evicted: 1 });
  });

  it('bounds the agents per site: a flood of invented ids is refused and the real agent keeps its state', () => {
    const d = new SeqDedup();
    const ctx = (now_ms: number) => ({ now_ms, polls_per_s: 1, max_site_agents: 4 });
    for (let s = 0; s < 10; s++) d.check('s/real', s, ctx(s * 1000));
    let refused = 0;
    for (let i = 0; i < 10_000; i++) if (d.check(`s/forged-${i}`, 1, ctx(10_000)) === 'agent_refused') refused++;
    expect(refused).toBe(10_000 - 3);
    expect(d.agent_count).toBe(4);
    expect(d.check('s/real', 5, ctx(10_000))).toBe('duplicate');
    expect(d.check('s/real', 10, ctx(10_000))).toBe('new');
    // Another site is not crowded out.
    expect(d.check('t/edge', 1, ctx(10_000))).toBe('new');
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

describe('SeqDedup: plausible steps only', () => {
  // A site of 50 devices polled every 10 s: 5 polls per second.
  const RATE = 5;
  const at = (now_ms: number, ts_ms = now_ms) => ({ now_ms, ts_ms, polls_per_s: RATE });

  it('refuses a seq further ahead than the agent could have polled, and it moves nothing', () => {
    const d = new SeqDedup();
    for (let s = 1; s <= 10; s++) expect(d.check('s/a', s, at(s * 200))).toBe('new');
    const limit = 10 + SeqDedup.allowance(RATE, 0);
    expect(d.check('s/a', limit + 1, at(2000))).toBe('implausible');
    expect(d.check('s/a', Number.MAX_SAFE_INTEGER, at(2000))).toBe('implausible');
    expect(d.ranges('s/a')).toEqual([[1, 10]]);
    expect(d.check('s/a', 11, at(2000))).toBe('new');
    expect(d.stats().implausible).toBe(2);
  });

  it('lets the allowance grow with the time elapsed since the highest accepted seq', () => {
    const d = new SeqDedup();
    d.check('s/a', 100, at(0));
    // Two hours of polls spooled during a broker outage, sent live when it comes back.
    const twoHours = 2 * 3600 * RATE;
    expect(d.check('s/a', 100 + SEQ_JUMP_WINDOW + twoHours, at(60_000))).toBe('implausible');
    expect(d.check('s/a', 100 + SEQ_JUMP_WINDOW + twoHours, at(2 * 3600_000))).toBe('new');
  });

  it('replays the dedup-poisoning attack: forged high seqs under the real id are refused, the real traffic still counts', () => {
    const d = new SeqDedup({ max_ranges_per_agent: 256 });
    let t = 0;
    let real = 5000;
    const realPoll = () => {
      t += 200;
      return d.check('s/edge-1', ++real, at(t));
    };
    for (let i = 0; i < 100; i++) expect(realPoll()).toBe('new');
    // A few hundred polls with very large, sparse seqs: before, each opened a range, the ranges
    // folded into the floor, and the floor landed above every seq the real agent would send.
    const forged = Array.from({ length: 400 }, (_, i) => d.check('s/edge-1', 1e12 + 2 * i, at(t)));
    expect(new Set(forged)).toEqual(new Set(['implausible']));
    const later = Array.from({ length: 500 }, realPoll);
    expect(later.every((v) => v === 'new')).toBe(true);
    expect(d.ranges('s/edge-1')).toEqual([[5001, real]]);
    expect(d.stats().implausible).toBe(400);
  });

  it('believes one leap per announced birth (bd_seq), not a second one', () => {
    const d = new SeqDedup();
    d.check('s/a', 10, at(0));
    expect(d.birth('s/a', 7, 0)).toBe('new_birth');
    expect(d.birth('s/a', 7, 0)).toBe('same');
    // The agent's seq file was corrupt: it resumes at now × 1000.
    const resumed = 1_800_000_000_000_000;
    expect(d.check('s/a', resumed, at(1000))).toBe('new');
    expect(d.check('s/a', resumed + 1, at(1200))).toBe('new');
    expect(d.check('s/a', resumed + 1e9, at(1400))).toBe('implausible');
    // Its spool still holds polls from before the restart: they arrive late and count.
    expect(d.check('s/a', 11, at(1500))).toBe('new');
    expect(d.check('s/a', 12, at(1600))).toBe('new');
    expect(d.stats()).toMatchObject({ rebased: 1, implausible: 1 });
  });

  it('believes the leap only shortly after the birth that announced it', () => {
    const d = new SeqDedup();
    d.check('s/a', 10, at(0));
    d.birth('s/a', 7, 0);
    // The agent reconnected and went on counting normally: the birth's leap stays unused.
    expect(d.check('s/a', 11, at(1000))).toBe('new');
    expect(d.check('s/a', 1e12, at(SEQ_BIRTH_GRACE_MS + 1))).toBe('implausible');
  });

  it("closes the birth's leap once a poll made after the birth goes on counting (a forger holding the identity cannot spend it)", () => {
    const d = new SeqDedup();
    d.check('s/a', 10, at(0));
    d.birth('s/a', 7, 1000);
    // A spooled poll from before the birth, replayed after it: the leap stays open for the live one.
    expect(d.check('s/a', 11, at(1100, 500))).toBe('new');
    // The agent's first live poll after the birth continues the count: no leap was needed.
    expect(d.check('s/a', 12, at(1200))).toBe('new');
    expect(d.check('s/a', 1e12, at(1300))).toBe('implausible');
    expect(d.check('s/a', 13, at(1400))).toBe('new');
    expect(d.stats()).toMatchObject({ rebased: 0, implausible: 1 });
  });

  it('leaves the leap open while only polls from before the birth are replayed', () => {
    const d = new SeqDedup();
    d.check('s/a', 10, at(0));
    d.birth('s/a', 7, 1000);
    expect(d.check('s/a', 11, at(1100, 900))).toBe('new');
    expect(d.check('s/a', 1e12, at(1200))).toBe('new');
    expect(d.stats()).toMatchObject({ rebased: 1, implausible: 0 });
  });

  it.each([
    { name: 'announced by a new birth', birth: true },
    { name: 'with no birth seen (the state message was missed)', birth: false },
  ])('accepts the spool replay of an outage, late and in order, beside the live data ($name)', ({ birth }) => {
    const d = new SeqDedup();
    let t = 0;
    for (let s = 1; s <= 1000; s++) expect(d.check('s/a', s, at((t += 200)))).toBe('new');
    // One hour without the broker: the agent spools 18,000 polls (5 per second), then reconnects.
    const outageStart = t;
    t += 3600_000;
    if (birth) d.birth('s/a', 2, t);
    const backlogEnd = 1000 + 3600 * RATE;
    const verdicts: string[] = [];
    let live = backlogEnd;
    for (let s = 1001; s <= backlogEnd; s++) {
      // Each backlog record carries the time of its poll.
      verdicts.push(d.check('s/a', s, at((t += 10), outageStart + (s - 1000) * 200)));
      if (s % 50 === 0) verdicts.push(d.check('s/a', ++live, at(t)));
    }
    expect(verdicts.length).toBe(backlogEnd - 1000 + (live - backlogEnd));
    expect(verdicts.every((v) => v === 'new')).toBe(true);
    expect(d.ranges('s/a')).toEqual([[1, live]]);
  });

  it('does not widen the allowance for a message stamped long ago', () => {
    const d = new SeqDedup();
    d.check('s/a', 100, at(1_000_000));
    // In the window, but stamped a day back: the next leap is still measured from the first poll.
    expect(d.check('s/a', 100 + SEQ_JUMP_WINDOW, at(1_000_000, 1_000_000 - 86_400_000))).toBe('new');
    expect(d.check('s/a', 100 + 3 * SEQ_JUMP_WINDOW, at(1_000_000))).toBe('implausible');
  });

  it('forgets a reinstalled agent (lower bd_seq on a birth): its seqs start again near 0', () => {
    const d = new SeqDedup();
    for (let s = 0; s < 300; s++) d.check('s/a', s * 2, at(s));
    d.birth('s/a', 40, 300);
    expect(d.check('s/a', 3, at(400))).toBe('too_old');
    expect(d.birth('s/a', 0, 500)).toBe('reinstalled');
    expect(d.check('s/a', 0, at(600))).toBe('new');
    expect(d.check('s/a', 3, at(700))).toBe('new');
  });
});
