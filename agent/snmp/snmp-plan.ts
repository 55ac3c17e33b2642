import type { ExponentTerm, SnmpProfile } from '../../contract/index.js';
import { exponentTermOid } from '../../shared/codec/exponent.js';

/**
 * What to ask an SNMP device for, planned once per profile (docs/design.md §3). Pure.
 *
 * - `gets`: every scalar OID, the points' and their scalar exponent terms', each once, in
 *   profile order; the reader batches them up to `max_oids_per_request` per GET.
 * - `walks`: one walk per table column, shared by every table that reads that column under the
 *   same index prefix. Raritan keeps current, voltage and power of a pole in one column told
 *   apart by the last index part (`index_suffix`), so three tables cost one walk. A walk starts
 *   at `<entry>.<column>.<index_prefix>` and ends when it leaves that subtree: PDU 1's rows are
 *   read without stepping through the other PDUs of a daisy chain.
 * - Exponent terms of table columns (`exponent_from`): a term in the column's own table is one
 *   more walk (ENTITY-SENSOR scale and precision sit beside the value); a term in another table
 *   (Raritan's DecimalDigits live in the configuration table) is read with GETs at the rows the
 *   walks found, batched like scalars.
 */
export type Scalar = SnmpProfile['points'][number];
export type Table = SnmpProfile['tables'][number];
export type Column = Table['columns'][number];

export interface ColumnWalk {
  /** `<entry>.<column>`: an OID below it is `<base>.<full row index>`. */
  base: string;
  /** Where the walk starts and the subtree it stays in: `<base>.<index_prefix>`, else `<base>`. */
  root: string;
}

/** Where one exponent term's value comes from. */
export type ExponentSource =
  /** A scalar OID among `gets`. */
  | { from: 'get'; oid: string }
  /** Another walked column of the same table, at the same full row index. */
  | { from: 'walk'; walk: number }
  /** A column of another table, read with a GET at `<entry>.<column>.<full row index>` once the rows are known. */
  | { from: 'row'; term: ExponentTerm }
  /** A column term on a scalar point: there is no row to read it at (checkProfile refuses such profiles). */
  | { from: 'none'; reason: string };

export interface PlannedColumn {
  column: Column;
  walk: number;
  exponents: ExponentSource[];
  /** The walk of the column that says whether this one holds a reading (`valid_when`), and its good values. */
  valid?: { walk: number; in: readonly number[] };
}

export interface PlannedTable {
  table: Table;
  columns: PlannedColumn[];
  /** Every walk whose failure leaves this table incomplete. */
  walks: number[];
}

export interface PlannedScalar {
  point: Scalar;
  exponents: ExponentSource[];
}

export interface SnmpReadPlan {
  gets: string[];
  scalars: PlannedScalar[];
  walks: ColumnWalk[];
  tables: PlannedTable[];
}

export function planSnmpReads(profile: Pick<SnmpProfile, 'points' | 'tables'>): SnmpReadPlan {
  const gets: string[] = [];
  const getSet = new Set<string>();
  const addGet = (oid: string) => {
    if (!getSet.has(oid)) {
      getSet.add(oid);
      gets.push(oid);
    }
  };
  const walks: ColumnWalk[] = [];
  const walkAt = new Map<string, number>();
  const addWalk = (entry: string, column: number, prefix: string | undefined): number => {
    const base = `${entry}.${column}`;
    const root = prefix === undefined ? base : `${base}.${prefix}`;
    let i = walkAt.get(root);
    if (i === undefined) {
      i = walks.length;
      walks.push({ base, root });
      walkAt.set(root, i);
    }
    return i;
  };

  for (const p of profile.points) addGet(p.oid);
  const scalars = profile.points.map((point) => ({
    point,
    exponents: (point.exponent_from ?? []).map((term): ExponentSource => {
      const oid = exponentTermOid(term);
      if (oid === undefined) return { from: 'none', reason: 'a scalar point cannot take an exponent from a table column' };
      addGet(oid);
      return { from: 'get', oid };
    }),
  }));

  const tables = profile.tables.map((table) => {
    const used = new Set<number>();
    const columns = table.columns.map((column) => {
      const walk = addWalk(table.entry, column.column, table.index_prefix);
      used.add(walk);
      const exponents = (column.exponent_from ?? []).map((term): ExponentSource => {
        if (term.oid !== undefined) {
          addGet(term.oid);
          return { from: 'get', oid: term.oid };
        }
        if (term.entry === undefined || term.entry === table.entry) {
          const w = addWalk(table.entry, term.column as number, table.index_prefix);
          used.add(w);
          return { from: 'walk', walk: w };
        }
        return { from: 'row', term };
      });
      const when = column.valid_when;
      if (!when) return { column, walk, exponents };
      const w = addWalk(table.entry, when.column, table.index_prefix);
      used.add(w);
      return { column, walk, exponents, valid: { walk: w, in: when.in } };
    });
    return { table, columns, walks: [...used] };
  });

  return { gets, scalars, walks, tables };
}
