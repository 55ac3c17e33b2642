/**
 * Where each record of one segment file lies: id, byte offset, length, append time. Typed
 * arrays, 24 bytes a record, so a full 512 MiB spool of ~600-byte telemetry messages costs
 * about 20 MB of index rather than a million JS objects.
 */
export interface IndexedRecord {
  id: number;
  offset: number;
  bytes: number;
  appended_at_ms: number;
}

export class SegmentIndex {
  private ids: Float64Array;
  private at: Float64Array;
  private offsets: Uint32Array;
  private lengths: Uint32Array;
  private n = 0;

  constructor(capacity = 64) {
    this.ids = new Float64Array(capacity);
    this.at = new Float64Array(capacity);
    this.offsets = new Uint32Array(capacity);
    this.lengths = new Uint32Array(capacity);
  }

  get count(): number {
    return this.n;
  }

  get firstId(): number | undefined {
    return this.n > 0 ? this.ids[0] : undefined;
  }

  get lastId(): number | undefined {
    return this.n > 0 ? this.ids[this.n - 1] : undefined;
  }

  /** Ids must be appended in rising order. */
  push(r: IndexedRecord): void {
    if (this.n > 0 && r.id <= (this.ids[this.n - 1] as number)) throw new RangeError(`segment index: id ${r.id} not above ${this.ids[this.n - 1]}`);
    if (this.n === this.ids.length) this.grow();
    this.ids[this.n] = r.id;
    this.at[this.n] = r.appended_at_ms;
    this.offsets[this.n] = r.offset;
    this.lengths[this.n] = r.bytes;
    this.n++;
  }

  /** Position of `id`, or -1. */
  find(id: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.ids[mid] as number) < id) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.n && this.ids[lo] === id ? lo : -1;
  }

  get(i: number): IndexedRecord {
    return { id: this.ids[i] as number, offset: this.offsets[i] as number, bytes: this.lengths[i] as number, appended_at_ms: this.at[i] as number };
  }

  idAt(i: number): number {
    return this.ids[i] as number;
  }

  private grow(): void {
    const cap = this.ids.length * 2;
    const ids = new Float64Array(cap);
    ids.set(this.ids);
    const at = new Float64Array(cap);
    at.set(this.at);
    const offsets = new Uint32Array(cap);
    offsets.set(this.offsets);
    const lengths = new Uint32Array(cap);
    lengths.set(this.lengths);
    this.ids = ids;
    this.at = at;
    this.offsets = offsets;
    this.lengths = lengths;
  }
}
