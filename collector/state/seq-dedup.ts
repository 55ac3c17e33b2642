/**
 * Drops telemetry the collector has already seen, by (agent, seq). QoS 1 delivers at least once
 * and an agent replays its spool after an outage while live data keeps flowing (docs/design.md §2),
 * so seqs arrive out of order: a "highest seq" check would drop the backlog. Instead each agent
 * keeps the seqs it has seen as a short list of closed ranges, which stays small because seqs
 * arrive mostly in runs. The list is bounded: when it grows past `max_ranges_per_agent`, the
 * oldest range is folded into a floor below which every seq counts as seen. Energy must never
 * be counted twice, so the bound errs toward dropping a very late replay, which is counted.
 */

export type SeqVerdict = 'new' | 'duplicate' | 'too_old';

interface AgentSeqs {
  /** Every seq ≤ floor counts as seen; -1 before anything was folded. */
  floor: number;
  /** Sorted, disjoint, non-adjacent [lo, hi] ranges of seen seqs above the floor. */
  ranges: [number, number][];
}

export interface SeqDedupOptions {
  max_ranges_per_agent?: number;
  /** Agents tracked at once; the least recently heard is forgotten first. */
  max_agents?: number;
}

export class SeqDedup {
  private readonly agents = new Map<string, AgentSeqs>();
  private readonly max_ranges: number;
  private readonly max_agents: number;

  constructor(opts: SeqDedupOptions = {}) {
    this.max_ranges = opts.max_ranges_per_agent ?? 256;
    this.max_agents = opts.max_agents ?? 10_000;
  }

  /** Records `seq` for `agent` and says whether it is new. */
  check(agent: string, seq: number): SeqVerdict {
    let a = this.agents.get(agent);
    if (a) {
      this.agents.delete(agent);
    } else {
      a = { floor: -1, ranges: [] };
      if (this.agents.size >= this.max_agents) {
        const oldest = this.agents.keys().next().value;
        if (oldest !== undefined) this.agents.delete(oldest);
      }
    }
    this.agents.set(agent, a);
    if (seq <= a.floor) return 'too_old';

    const r = a.ranges;
    // First range whose hi >= seq.
    let lo = 0;
    let hi = r.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (r[mid]![1] < seq) lo = mid + 1;
      else hi = mid;
    }
    const next = r[lo];
    if (next && next[0] <= seq) return 'duplicate';
    const prev = r[lo - 1];
    const joinsPrev = prev !== undefined && prev[1] === seq - 1;
    const joinsNext = next !== undefined && next[0] === seq + 1;
    if (joinsPrev && joinsNext) {
      prev[1] = next[1];
      r.splice(lo, 1);
    } else if (joinsPrev) {
      prev[1] = seq;
    } else if (joinsNext) {
      next[0] = seq;
    } else {
      r.splice(lo, 0, [seq, seq]);
    }
    if (r.length > this.max_ranges) {
      const folded = r.shift();
      if (folded) a.floor = folded[1];
    }
    return 'new';
  }

  /** Ranges held for one agent (for tests and the debug API). */
  ranges(agent: string): readonly (readonly [number, number])[] {
    return this.agents.get(agent)?.ranges ?? [];
  }

  get agent_count(): number {
    return this.agents.size;
  }
}
