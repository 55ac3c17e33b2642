/**
 * Which record ids are finished (acknowledged by the broker, or dropped by a bound). Pure.
 *
 * A floor below which every id is done, plus sorted, disjoint, non-adjacent closed ranges
 * above it. The sender drains the backlog oldest-first while live records are acknowledged
 * ahead of it, so the done set is "everything below the replay cursor, and most of what is
 * above the live boundary": a handful of ranges, plus at most one hole per message in flight.
 * This is what the ack file stores, so a restart resends only what was never acknowledged.
 */
export interface DoneIdsState {
  floor: number;
  ranges: [number, number][];
}

export class DoneIds {
  private floorId: number;
  private readonly ranges: [number, number][];

  constructor(state: DoneIdsState = { floor: 0, ranges: [] }) {
    this.floorId = state.floor;
    this.ranges = [];
    for (const [lo, hi] of state.ranges) this.addRange(lo, hi);
  }

  /** Every id below this is done; it is the oldest id that may still be pending. */
  get floor(): number {
    return this.floorId;
  }

  get rangeCount(): number {
    return this.ranges.length;
  }

  has(id: number): boolean {
    if (id < this.floorId) return true;
    const i = this.firstEndingAtOrAfter(id);
    const r = this.ranges[i];
    return r !== undefined && r[0] <= id;
  }

  /** Mark one id done; false when it already was. */
  add(id: number): boolean {
    if (this.has(id)) return false;
    this.addRange(id, id);
    return true;
  }

  /** Mark [lo, hi] (inclusive) done. */
  addRange(lo: number, hi: number): void {
    if (hi < lo || hi < this.floorId) return;
    lo = Math.max(lo, this.floorId);
    // Ranges that touch or overlap [lo - 1, hi + 1] merge into one.
    const i = this.firstEndingAtOrAfter(lo - 1);
    let j = i;
    while (j < this.ranges.length && (this.ranges[j] as [number, number])[0] <= hi + 1) j++;
    if (j > i) {
      lo = Math.min(lo, (this.ranges[i] as [number, number])[0]);
      hi = Math.max(hi, (this.ranges[j - 1] as [number, number])[1]);
    }
    this.ranges.splice(i, j - i, [lo, hi]);
    this.normalise();
  }

  /** The smallest id ≥ `from` that is not done. */
  nextNotDone(from: number): number {
    let id = Math.max(from, this.floorId);
    const i = this.firstEndingAtOrAfter(id);
    const r = this.ranges[i];
    if (r !== undefined && r[0] <= id) id = r[1] + 1;
    return id;
  }

  /** How many ids in [lo, hi) are done. */
  countDone(lo: number, hi: number): number {
    if (hi <= lo) return 0;
    let n = Math.max(0, Math.min(hi, this.floorId) - lo);
    for (const [a, b] of this.ranges) {
      const from = Math.max(a, lo);
      const to = Math.min(b + 1, hi);
      if (to > from) n += to - from;
    }
    return n;
  }

  state(): DoneIdsState {
    return { floor: this.floorId, ranges: this.ranges.map(([lo, hi]) => [lo, hi]) };
  }

  /** Index of the first range whose hi ≥ id. */
  private firstEndingAtOrAfter(id: number): number {
    let lo = 0;
    let hi = this.ranges.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ranges[mid] as [number, number])[1] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Fold ranges that reach the floor into it. */
  private normalise(): void {
    while (this.ranges.length > 0 && (this.ranges[0] as [number, number])[0] <= this.floorId) {
      const [, hi] = this.ranges.shift() as [number, number];
      this.floorId = Math.max(this.floorId, hi + 1);
    }
  }
}

/** Parse the ack file's JSON; undefined when it is not a well-formed state. */
export function parseDoneIds(text: string): DoneIdsState | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof v !== 'object' || v === null) return undefined;
  const { floor, ranges } = v as { floor?: unknown; ranges?: unknown };
  if (!isId(floor) || !Array.isArray(ranges)) return undefined;
  const out: [number, number][] = [];
  let prevHi = floor;
  for (const r of ranges) {
    if (!Array.isArray(r) || r.length !== 2 || !isId(r[0]) || !isId(r[1])) return undefined;
    const [lo, hi] = r as [number, number];
    // Sorted, disjoint and above the floor, as DoneIds writes them; anything else was not written by us.
    if (lo > hi || lo <= prevHi) return undefined;
    out.push([lo, hi]);
    prevHi = hi;
  }
  return { floor, ranges: out };
}

function isId(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}
