import type { SnmpServedValue } from '../encode/snmp-values.js';

/**
 * The answering half of an SNMP agent, pure: GET, GETNEXT and GETBULK over one device's values.
 *
 * Thousands of devices share one UDP port, and most share a handful of OID layouts (a profile
 * with a given number of outlets, phases, GPUs). So the sorted index of a layout (a "view") is
 * built once and shared; a device brings only its values, in the encoder's order, and the view
 * maps sorted positions to them. Nothing per device is kept beyond a small cache of values.
 */

/** A served value; octet strings may also be raw bytes (an engine id is not text). */
export interface ViewValue {
  oid: string;
  type: SnmpServedValue['type'];
  value: SnmpServedValue['value'] | Buffer;
}

/** A varbind as answered: a value, or one of the SNMPv2 exceptions (RFC 3416 §4.2). */
export type AnswerVarbind =
  | { oid: string; type: ViewValue['type']; value: ViewValue['value'] }
  | { oid: string; type: 'noSuchObject' | 'noSuchInstance' | 'endOfMibView'; value: null };

export interface SnmpView {
  /** Served OIDs in OID order. */
  readonly oids: readonly string[];
  readonly arcs: readonly (readonly number[])[];
  /** OID → sorted position. */
  readonly position: ReadonlyMap<string, number>;
  /** Sorted position → index in the device's values array. */
  readonly source: Int32Array;
  /** Object OIDs (an instance's parent): below them an absent instance is noSuchInstance. */
  readonly objects: ReadonlySet<string>;
}

/** Numeric arcs of a dotted OID, or undefined when it is not one. */
export function parseOid(oid: string): number[] | undefined {
  if (!/^\d+(\.\d+)+$/.test(oid)) return undefined;
  const arcs = oid.split('.').map(Number);
  return arcs.every((a) => a <= 0xffffffff) ? arcs : undefined;
}

/**
 * Whether an OID survives a round trip through the BER writer: the first two arcs share one
 * byte (X.690 §8.19.4), which asn1-ber writes without the multi-byte form.
 */
export function isEncodableOid(arcs: readonly number[]): boolean {
  return arcs.length >= 2 && arcs[0]! <= 2 && (arcs[0]! === 2 || arcs[1]! < 40) && arcs[0]! * 40 + arcs[1]! <= 127;
}

export function compareArcs(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

export function buildView(values: readonly Pick<SnmpServedValue, 'oid'>[], objects: readonly string[]): SnmpView {
  const entries = values.map((v, i) => {
    const arcs = parseOid(v.oid);
    if (!arcs) throw new Error(`not a numeric OID: ${v.oid}`);
    return { oid: v.oid, arcs, i };
  });
  entries.sort((a, b) => compareArcs(a.arcs, b.arcs));
  for (let k = 1; k < entries.length; k++) {
    const a = entries[k - 1]!;
    const b = entries[k]!;
    if (compareArcs(a.arcs, b.arcs) === 0) throw new Error(`OID ${a.oid} is served twice`);
    // A value below another value would make GETNEXT order ambiguous and is never a valid MIB.
    if (b.oid.startsWith(`${a.oid}.`)) throw new Error(`OID ${b.oid} lies below the served OID ${a.oid}`);
  }
  return {
    oids: entries.map((e) => e.oid),
    arcs: entries.map((e) => e.arcs),
    position: new Map(entries.map((e, k) => [e.oid, k])),
    source: Int32Array.from(entries.map((e) => e.i)),
    objects: new Set(objects),
  };
}

/**
 * Views by layout: devices whose values come with the same OIDs in the same order share one.
 * Bounded, since layouts come from profiles and table sizes, not from devices.
 */
export class SnmpViewCache {
  private readonly views = new Map<string, SnmpView>();

  constructor(private readonly max_views = 4096) {}

  view(layout: string, values: readonly Pick<SnmpServedValue, 'oid'>[], objects: readonly string[]): SnmpView {
    let key = layout;
    for (const v of values) key += ` ${v.oid}`;
    let view = this.views.get(key);
    if (!view) {
      view = buildView(values, objects);
      // A layout that changes every tick would be a bug upstream; forget the oldest rather than grow.
      if (this.views.size >= this.max_views) this.views.delete(this.views.keys().next().value!);
      this.views.set(key, view);
    }
    return view;
  }

  size(): number {
    return this.views.size;
  }
}

/** Which served values a request may see: SNMPv1 has no Counter64 (RFC 3584 §4.2.2.1). */
export type Visible = (value: ViewValue) => boolean;
const ALL: Visible = () => true;

function answer(oid: string, v: ViewValue): AnswerVarbind {
  return { oid, type: v.type, value: v.value };
}

export function getOne(view: SnmpView, values: readonly ViewValue[], oid: string, visible: Visible = ALL): AnswerVarbind {
  const pos = view.position.get(oid);
  if (pos !== undefined) {
    const v = values[view.source[pos]!];
    if (v && visible(v)) return answer(oid, v);
    return { oid, type: 'noSuchInstance', value: null };
  }
  for (let cut = oid.lastIndexOf('.'); cut > 0; cut = oid.lastIndexOf('.', cut - 1)) {
    if (view.objects.has(oid.slice(0, cut))) return { oid, type: 'noSuchInstance', value: null };
  }
  return { oid, type: 'noSuchObject', value: null };
}

/** The first served value after `arcs` in OID order, or endOfMibView. */
export function getNextOne(view: SnmpView, values: readonly ViewValue[], oid: string, arcs: readonly number[], visible: Visible = ALL): AnswerVarbind {
  let lo = 0;
  let hi = view.arcs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compareArcs(view.arcs[mid]!, arcs) <= 0) lo = mid + 1;
    else hi = mid;
  }
  for (let k = lo; k < view.oids.length; k++) {
    const v = values[view.source[k]!];
    if (v && visible(v)) return answer(view.oids[k]!, v);
  }
  return { oid, type: 'endOfMibView', value: null };
}

export interface BulkRequest {
  oids: readonly string[];
  non_repeaters: number;
  max_repetitions: number;
}

/** Hard cap on varbinds per GETBULK answer; the message size limit usually bites first. */
export const MAX_BULK_VARBINDS = 2048;

/** GETBULK (RFC 3416 §4.2.3): N non-repeaters once, then up to M rows of the R repeaters. */
export function getBulk(view: SnmpView, values: readonly ViewValue[], req: BulkRequest, visible: Visible = ALL): AnswerVarbind[] {
  const n = Math.min(Math.max(0, req.non_repeaters), req.oids.length);
  const m = Math.max(0, req.max_repetitions);
  const out: AnswerVarbind[] = [];
  for (let i = 0; i < n; i++) out.push(next(view, values, req.oids[i]!, visible));
  let cursors = req.oids.slice(n);
  if (cursors.length === 0) return out;
  for (let rep = 0; rep < m && out.length + cursors.length <= MAX_BULK_VARBINDS; rep++) {
    const row = cursors.map((oid) => next(view, values, oid, visible));
    out.push(...row);
    if (row.every((vb) => vb.type === 'endOfMibView')) break;
    cursors = row.map((vb) => vb.oid);
  }
  return out;
}

function next(view: SnmpView, values: readonly ViewValue[], oid: string, visible: Visible): AnswerVarbind {
  const arcs = parseOid(oid);
  // An unparsable start sorts before everything (the request path rejects those earlier).
  return getNextOne(view, values, oid, arcs ?? [], visible);
}
