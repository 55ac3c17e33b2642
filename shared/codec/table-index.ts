/**
 * Multi-part SNMP table indexes (contract SnmpTableSchema `index_prefix` / `index_suffix`). Pure.
 *
 * Raritan PDU2-MIB indexes a measurement by `{pduId, outletId, sensorType}`: the OID suffix under a
 * column is `1.7.5` for PDU 1, outlet 7, active power. A table with prefix `1` and suffix `5`
 * keeps only such rows and tags them `outlet=7`; the full index `1.7.5` is what other columns
 * of the same row (e.g. the DecimalDigits exponent) are read at.
 */
export interface TableIndexSpec {
  index_prefix?: string | undefined;
  index_suffix?: string | undefined;
}

/**
 * The index tag value for the OID suffix under a column, or undefined when the row belongs to
 * another prefix/suffix (another PDU in the chain, another sensor type). The middle part must be
 * non-empty: `1.5` with prefix `1` and suffix `5` has no outlet.
 */
export function rowIndexOf(table: TableIndexSpec, suffix: string): string | undefined {
  if (!/^\d+(\.\d+)*$/.test(suffix)) return undefined;
  let middle = suffix;
  if (table.index_prefix !== undefined) {
    if (!middle.startsWith(`${table.index_prefix}.`)) return undefined;
    middle = middle.slice(table.index_prefix.length + 1);
  }
  if (table.index_suffix !== undefined) {
    if (!middle.endsWith(`.${table.index_suffix}`)) return undefined;
    middle = middle.slice(0, -(table.index_suffix.length + 1));
  }
  return middle.length > 0 ? middle : undefined;
}

/** The full OID index of a row from its tag value: the inverse of rowIndexOf. */
export function fullRowIndex(table: TableIndexSpec, index: string | number): string {
  return [table.index_prefix, String(index), table.index_suffix].filter((x) => x !== undefined).join('.');
}
