import type { ErrorCode } from '../../contract/errors.js';
import type { ExponentTerm } from '../../contract/profile.js';

/**
 * Decimal exponents read from the device itself (contract ExponentTermSchema): Raritan PDU2-MIB
 * `…SensorDecimalDigits` (factor -1), ENTITY-SENSOR-MIB `entPhySensorScale` (factor 3, bias -9)
 * and `entPhySensorPrecision` (factor -1). Pure.
 *
 *   value = raw * scale * 10^(Σ factor * max(v + bias, at_least)) + offset
 *
 * The exponent is applied through the same scale convention as a SunSpec scale factor
 * (shared/codec/scale.ts), so one code path rounds away the binary noise.
 */

/**
 * Largest |exponent| accepted. ENTITY-SENSOR spans yocto..yotta (±24) and a precision of -8..9,
 * so ±33 covers every legal combination; anything beyond is a garbage answer, not a reading.
 */
export const MAX_EXPONENT = 33;

export type ExponentResult = { ok: true; exponent: number } | { ok: false; error: ErrorCode; detail: string };

/** The decimal exponent of a point from the raw values of its terms, in term order. */
export function exponentOf(terms: readonly ExponentTerm[], raws: readonly unknown[] | undefined): ExponentResult {
  if (terms.length === 0) return { ok: true, exponent: 0 };
  if (!raws || raws.length !== terms.length) {
    return { ok: false, error: 'DCIM_E_DECODE_VALUE', detail: `exponent_from needs ${terms.length} value(s), got ${raws?.length ?? 0}` };
  }
  let exponent = 0;
  for (const [i, term] of terms.entries()) {
    const v = raws[i];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) {
      return { ok: false, error: 'DCIM_E_DECODE_VALUE', detail: `exponent term ${i + 1} value ${describe(v)} is not an integer` };
    }
    exponent += term.factor * Math.max(v + term.bias, term.at_least ?? -Infinity);
  }
  if (Math.abs(exponent) > MAX_EXPONENT) {
    return { ok: false, error: 'DCIM_E_DECODE_VALUE', detail: `exponent ${exponent} out of range ±${MAX_EXPONENT}` };
  }
  return { ok: true, exponent };
}

/**
 * Where one exponent term lives on the device. A scalar term names its own `oid`; a table term
 * names a `column` of the point's own table (or of `entry`, e.g. Raritan's configuration table)
 * at the same full row index (`<prefix>.<index>.<suffix>` for multi-part indexes).
 */
export function exponentTermOid(term: ExponentTerm, table?: { entry: string }, fullIndex?: string): string | undefined {
  if (term.oid !== undefined) return term.oid;
  if (term.column === undefined || fullIndex === undefined) return undefined;
  const entry = term.entry ?? table?.entry;
  return entry === undefined ? undefined : `${entry}.${term.column}.${fullIndex}`;
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.slice(0, 40));
  if (typeof v === 'bigint') return `${v}n`;
  return String(v);
}
