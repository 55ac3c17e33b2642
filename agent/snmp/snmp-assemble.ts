import type { ErrorCode, Reading } from '../../contract/index.js';
import { exponentTermOid } from '../../shared/codec/exponent.js';
import { rowIndexOf } from '../../shared/codec/table-index.js';
import { badReading, failed, toReading, type Decoded } from '../decode/decoded.js';
import { decodeSnmpValue, exponentVarbind } from '../decode/snmp-value.js';
import { SnmpType, type Varbind } from './asn1-types.js';
import { compareOids } from './oid.js';
import type { ExponentSource, PlannedTable, SnmpReadPlan } from './snmp-plan.js';

/**
 * What one poll fetched, and the readings it makes (snmp-plan.ts says what was asked). Pure.
 *
 * - A scalar point: its GET answer, decoded with its exponent terms' answers; a GET that got no
 *   answer makes the point bad with the reason (timeout, error status …).
 * - A table: one row per full index its value walks found that passes the table's
 *   `index_prefix`/`index_suffix`; the tag is the middle part (`outlet=7` from `1.7.5`). A row
 *   whose tag cannot be a reading index (longer than 32 characters, odd characters) is skipped
 *   and counted. Rows come in numeric index order (10 after 9).
 * - A walk cut short (timeout, error) adds one bad reading per column of each table it feeds,
 *   without index, beside the rows read before it stopped.
 */
export interface SnmpFetched {
  /** GET answers by OID: scalars, scalar exponents, exponents read at table rows. */
  values: ReadonlyMap<string, Varbind>;
  /** OIDs a GET got no answer for, with the reason. */
  failed: ReadonlyMap<string, ErrorCode>;
  /** Per planned walk: full row index → varbind. */
  walked: readonly ReadonlyMap<string, Varbind>[];
  /** Per planned walk: the error that cut it short. */
  walkFailed: readonly (ErrorCode | undefined)[];
}

export interface AssembledReadings {
  readings: Reading[];
  /** Rows left out because their index cannot be a tag value. */
  skipped_rows: number;
}

/** Index tag values, as the contract's ReadingSchema allows them. */
const INDEX_VALUE = /^[A-Za-z0-9_.:-]{1,32}$/;

/** The rows of a table: tag value → full row index, in numeric order. */
export function tableRows(pt: PlannedTable, walked: SnmpFetched['walked']): { rows: [string, string][]; skipped: number } {
  const rows = new Map<string, string>();
  let skipped = 0;
  for (const c of pt.columns) {
    for (const full of walked[c.walk]?.keys() ?? []) {
      const tag = rowIndexOf(pt.table, full);
      if (tag === undefined || rows.has(tag)) continue;
      if (!INDEX_VALUE.test(tag)) {
        skipped++;
        continue;
      }
      rows.set(tag, full);
    }
  }
  return { rows: [...rows.entries()].sort((a, b) => compareOids(a[0], b[0])), skipped };
}

/** The OIDs to GET once the walks are done: exponent terms that live in another table, at each row found. */
export function rowExponentOids(plan: SnmpReadPlan, walked: SnmpFetched['walked']): string[] {
  const out = new Set<string>();
  for (const pt of plan.tables) {
    const terms = pt.columns.flatMap((c) => c.exponents.flatMap((e) => (e.from === 'row' ? [e.term] : [])));
    if (terms.length === 0) continue;
    for (const [, full] of tableRows(pt, walked).rows) {
      for (const term of terms) {
        const oid = exponentTermOid(term, pt.table, full);
        if (oid !== undefined) out.add(oid);
      }
    }
  }
  return [...out];
}

export function assembleReadings(plan: SnmpReadPlan, f: SnmpFetched): AssembledReadings {
  const readings: Reading[] = [];
  let skipped = 0;

  for (const { point, exponents } of plan.scalars) {
    const code = f.failed.get(point.oid);
    if (code) {
      readings.push(badReading(point.name, point.unit, code));
      continue;
    }
    const vb = f.values.get(point.oid) ?? missing(point.oid);
    readings.push(toReading(point.name, point.unit, decodeWith(point, vb, exponents.map((e) => exponentRaw(e, f)))));
  }

  for (const pt of plan.tables) {
    const { rows, skipped: s } = tableRows(pt, f.walked);
    skipped += s;
    const { table } = pt;
    for (const [tag, full] of rows) {
      for (const c of pt.columns) {
        const vb = f.walked[c.walk]?.get(full);
        if (!vb) continue;
        const raws = c.exponents.map((e) => exponentRaw(e, f, pt, full));
        const decoded = unavailable(c, f, full) ?? decodeWith(c.column, vb, raws);
        readings.push(toReading(c.column.name, c.column.unit, decoded, { [table.index_tag]: tag }));
      }
    }
    const cut = pt.walks.map((w) => f.walkFailed[w]).find((x) => x !== undefined);
    if (cut) for (const c of pt.columns) readings.push(badReading(c.column.name, c.column.unit, cut));
  }
  return { readings, skipped_rows: skipped };
}

type ExponentRaw = number | Decoded;

/** The row's status column says there is no reading now (`valid_when`); a row without it is not judged. */
function unavailable(c: PlannedTable['columns'][number], f: SnmpFetched, full: string): Decoded | undefined {
  if (!c.valid) return undefined;
  const vb = f.walked[c.valid.walk]?.get(full);
  if (!vb || typeof vb.value !== 'number' || c.valid.in.includes(vb.value)) return undefined;
  return failed('DCIM_E_VALUE_UNAVAILABLE', `status column ${c.column.valid_when?.column ?? '?'} is ${vb.value}`);
}

function decodeWith(spec: Parameters<typeof decodeSnmpValue>[0], vb: Varbind, raws: ExponentRaw[]): Decoded {
  const bad = raws.find((r): r is Extract<Decoded, { ok: false }> => typeof r !== 'number');
  // The value's own problem (noSuchInstance …) says more than its exponent's.
  if (bad && vb.type !== SnmpType.NoSuchObject && vb.type !== SnmpType.NoSuchInstance && vb.type !== SnmpType.EndOfMibView) return bad;
  return decodeSnmpValue(spec, vb.type, vb.value, raws.length > 0 ? (raws as number[]) : undefined);
}

/** The integer an exponent term contributes, or why there is none. */
function exponentRaw(e: ExponentSource, f: SnmpFetched, pt?: PlannedTable, full?: string): ExponentRaw {
  switch (e.from) {
    case 'none':
      return failed('DCIM_E_DECODE_VALUE', e.reason);
    case 'get':
      return fromGet(e.oid, f);
    case 'walk': {
      const vb = f.walked[e.walk]?.get(full ?? '');
      if (vb) return exponentVarbind(vb.type, vb.value);
      const code = f.walkFailed[e.walk];
      return code ? failed(code, 'exponent column walk cut short') : exponentVarbind(SnmpType.NoSuchInstance, null);
    }
    case 'row': {
      const oid = pt && full !== undefined ? exponentTermOid(e.term, pt.table, full) : undefined;
      return oid === undefined ? failed('DCIM_E_DECODE_VALUE', 'exponent term has no row') : fromGet(oid, f);
    }
  }
}

function fromGet(oid: string, f: SnmpFetched): ExponentRaw {
  const code = f.failed.get(oid);
  if (code) return failed(code, `exponent object ${oid} not read`);
  const vb = f.values.get(oid) ?? missing(oid);
  return exponentVarbind(vb.type, vb.value);
}

function missing(oid: string): Varbind {
  return { oid, type: SnmpType.NoSuchInstance, value: null };
}
