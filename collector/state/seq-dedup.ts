/**
 * Drops telemetry the collector has already seen, by (agent, seq). QoS 1 delivers at least once
 * and an agent replays its spool after an outage while live data keeps flowing (docs/design.md §2),
 * so seqs arrive out of order: a "highest seq" check would drop the backlog. Instead each agent
 * keeps the seqs it has seen as a short list of closed ranges, which stays small because seqs
 * arrive mostly in runs. The list is bounded: when it grows past `max_ranges_per_agent`, the
 * oldest range is folded into a floor below which every seq counts as seen. Energy must never
 * be counted twice, so the bound errs toward dropping a very late replay, which is counted.
 *
 * Nothing a peer sends may move that floor by a leap (docs/trust-boundaries.md): a seq further
 * ahead of the highest accepted one than the agent could have produced is refused
 * (`implausible`) and recorded nowhere. "Could have produced" is a constant window (a crashed
 * agent skips up to its seq store's block of 1000) plus twice the polls the agent's site can
 * make between the poll that produced the highest accepted seq (its `ts`) and the collector's
 * now. Measured from the poll, not from its arrival, because a spool replayed after an outage
 * raises the highest seq long after those polls were made, while the agent's live seqs ran on
 * meanwhile. A larger jump is believed only once per birth: the agent announces each
 * (re)connect with a higher `bd_seq` on its state topic, and the first seq beyond the bound within
 * SEQ_BIRTH_GRACE_MS of that re-bases the agent, unless a poll made after the birth already
 * went on counting without one.
 */

export type SeqVerdict = 'new' | 'duplicate' | 'too_old' | 'implausible';

/** What a state message's birth sequence did to an agent's dedup state. */
export type BirthVerdict = 'new_birth' | 'same' | 'reinstalled' | 'agent_refused';

/** Constant part of the plausible step: ten crash restarts' worth of the agent's seq block. */
export const SEQ_JUMP_WINDOW = 10_000;
/** Headroom over the site's poll rate (a scheduler catching up, clocks running apart). */
export const SEQ_RATE_SLACK = 2;
/** How long after a birth its one leap is believed: the first live poll follows within seconds. */
export const SEQ_BIRTH_GRACE_MS = 10 * 60_000;
/** An agent silent this long may be forgotten to make room for another (per-site cap reached). */
export const SEQ_AGENT_IDLE_MS = 60 * 60_000;

interface AgentSeqs {
  /** Every seq ≤ floor counts as seen; -1 before anything was folded. */
  floor: number;
  /** Sorted, disjoint, non-adjacent [lo, hi] ranges of seen seqs above the floor. */
  ranges: [number, number][];
  /**
   * Highest accepted seq (-1: none yet) and the latest poll time (the messages' `ts`, never past
   * the collector's clock) among the messages that raised it: the agent's counter stood at least
   * there then, and can only have grown by its poll rate since.
   */
  hi: number;
  hi_at: number;
  /** Last heard (collector clock), for evicting only silent agents. */
  heard_at: number;
  /** Birth sequence of the agent's current MQTT session, when its state message was seen. */
  bd_seq?: number;
  /** Until when (collector clock) a leap is believed: a birth was announced and no leap used it yet. */
  jump_until: number;
}

export interface SeqDedupOptions {
  max_ranges_per_agent?: number;
  /** Agents tracked at once over all sites (a newcomer is refused when full; see evictSilent). */
  max_agents?: number;
}

/** Per call: the collector's clock, the message's poll time, and the polls per second its site can make. */
export interface SeqContext {
  now_ms: number;
  /** The message's `ts`; default `now_ms`. */
  ts_ms?: number;
  polls_per_s: number;
  /** Agents the site may have (each polls at least one of its devices); a newcomer beyond is refused. */
  max_site_agents?: number;
}

export interface SeqDedupStats {
  agents: number;
  /** Seqs refused as too far ahead. */
  implausible: number;
  /** Jumps believed because a new birth had been announced. */
  rebased: number;
  /** New agent ids refused because their site (or the whole table) was full of recently heard agents. */
  agents_refused: number;
  /** Silent agents forgotten to make room. */
  agents_evicted: number;
}

const siteOf = (key: string): string => {
  const i = key.indexOf('/');
  return i < 0 ? '' : key.slice(0, i);
};

export class SeqDedup {
  /** site → key (`site/agent`) → seqs; each inner map is least recently heard first. */
  private readonly sites = new Map<string, Map<string, AgentSeqs>>();
  private total = 0;
  private readonly max_ranges: number;
  private readonly max_agents: number;
  private readonly counts = { implausible: 0, rebased: 0, agents_refused: 0, agents_evicted: 0 };

  constructor(opts: SeqDedupOptions = {}) {
    this.max_ranges = opts.max_ranges_per_agent ?? 256;
    this.max_agents = opts.max_agents ?? 10_000;
  }
  /** Largest step ahead of the highest accepted seq believed without a new birth. */
  static allowance(polls_per_s: number, elapsed_ms: number): number {
    return SEQ_JUMP_WINDOW + Math.ceil(SEQ_RATE_SLACK * polls_per_s * (Math.max(0, elapsed_ms) / 1000));
  }

  /**
   * Records `seq` for `agent` (keyed `site/agent`) and says whether it is new. Without `ctx` no
   * step is judged (unit use); the telemetry gate always passes one.
   */
  check(agent: string, seq: number, ctx?: SeqContext): SeqVerdict | 'agent_refused' {
    const now = ctx?.now_ms ?? 0;
    const a = this.entry(agent, now, ctx?.max_site_agents);
    if (!a) return 'agent_refused';
    a.heard_at = now;
    if (seq <= a.floor) return 'too_old';

    let rebase = false;
    if (ctx && a.hi >= 0 && seq > a.hi + SeqDedup.allowance(ctx.polls_per_s, ctx.now_ms - a.hi_at)) {
      if (now > a.jump_until) {
        this.counts.implausible++;
        return 'implausible';
      }
      rebase = true;
    }

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
    if (rebase) {
      a.jump_until = Number.NEGATIVE_INFINITY;
      this.counts.rebased++;
    }
    if (seq > a.hi) {
      // A poll made after the birth that goes on counting shows the restart needed no leap: the
      // leap closes, so whoever else holds the agent's identity cannot spend it. A spooled poll
      // replayed after the birth carries its older stamp and leaves the leap to the live one.
      if (!rebase && ctx && now <= a.jump_until && (ctx.ts_ms ?? now) >= a.jump_until - SEQ_BIRTH_GRACE_MS) a.jump_until = Number.NEGATIVE_INFINITY;
      a.hi = seq;
      // Only forward: a forged old stamp must not widen the next allowance.
      a.hi_at = Math.max(a.hi_at, Math.min(ctx?.ts_ms ?? now, now));
    }
    return 'new';
  }

  /**
   * The agent's state message with its birth sequence (`online: true`). A higher bd_seq than the
   * one known is a new session: its first leap ahead is believed once. The same bd_seq is a
   * redelivery. A lower one on a birth means the agent lost its state directory (reinstalled: its
   * seq restarts near 0 and its spool is gone), so what is known of its seqs is forgotten —
   * otherwise every seq it sends would count as already seen.
   */
  birth(agent: string, bd_seq: number, now_ms = 0, max_site_agents?: number): BirthVerdict {
    const a = this.entry(agent, now_ms, max_site_agents);
    if (!a) return 'agent_refused';
    a.heard_at = now_ms;
    if (a.bd_seq === bd_seq) return 'same';
    if (a.bd_seq !== undefined && bd_seq < a.bd_seq) {
      Object.assign(a, { floor: -1, ranges: [], hi: -1, hi_at: 0, bd_seq, jump_until: now_ms + SEQ_BIRTH_GRACE_MS });
      return 'reinstalled';
    }
    a.bd_seq = bd_seq;
    a.jump_until = now_ms + SEQ_BIRTH_GRACE_MS;
    return 'new_birth';
  }

  private entry(key: string, now: number, siteCap = Number.POSITIVE_INFINITY): AgentSeqs | undefined {
    const site = siteOf(key);
    let agents = this.sites.get(site);
    const a = agents?.get(key);
    if (agents && a) {
      agents.delete(key);
      agents.set(key, a);
      return a;
    }
    const cap = Math.min(siteCap, this.max_agents);
    if ((this.total >= this.max_agents || (agents?.size ?? 0) >= cap) && !this.evictSilent(agents, now)) {
      this.counts.agents_refused++;
      return undefined;
    }
    if (!agents) this.sites.set(site, (agents = new Map()));
    const fresh: AgentSeqs = { floor: -1, ranges: [], hi: -1, hi_at: 0, heard_at: now, jump_until: Number.NEGATIVE_INFINITY };
    agents.set(key, fresh);
    this.total++;
    return fresh;
  }

  /**
   * Forgets the site's least recently heard agent if it has been silent for SEQ_AGENT_IDLE_MS.
   * A flood of invented ids thus never pushes out an agent that is talking: forgetting one would
   * let its redelivered seqs count twice.
   */
  private evictSilent(agents: Map<string, AgentSeqs> | undefined, now: number): boolean {
    const oldest = agents?.entries().next().value;
    if (!agents || !oldest || now - oldest[1].heard_at < SEQ_AGENT_IDLE_MS) return false;
    agents.delete(oldest[0]);
    this.total--;
    this.counts.agents_evicted++;
    return true;
  }

  /** Ranges held for one agent (for tests and the debug API). */
  ranges(agent: string): readonly (readonly [number, number])[] {
    return this.sites.get(siteOf(agent))?.get(agent)?.ranges ?? [];
  }

  get agent_count(): number {
    return this.total;
  }

  stats(): SeqDedupStats {
    return { agents: this.total, ...this.counts };
  }
}
