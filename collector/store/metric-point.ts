/**
 * One time-series point as every sink receives it: the InfluxDB data model (measurement, tags,
 * typed fields, timestamp in ms) independent of any wire format.
 */

/** An integer field: JSON numbers cannot tell 5 from 5.0, so integers are marked explicitly. */
export interface IntField {
  readonly int: number | bigint;
}

export type FieldValue = number | IntField | string | boolean;

export interface MetricPoint {
  measurement: string;
  tags: Readonly<Record<string, string | undefined>>;
  fields: Readonly<Record<string, FieldValue | undefined>>;
  /** Milliseconds since the epoch. */
  ts_ms: number;
}

export const int = (value: number | bigint): IntField => ({ int: value });

export function isIntField(v: FieldValue): v is IntField {
  return typeof v === 'object' && v !== null && 'int' in v;
}
