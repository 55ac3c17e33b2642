import { z } from 'zod';

/** Ids of sites, agents, devices, halls and racks: they appear in topics and tags. */
export const ID_PATTERN = /^[a-z0-9_-]{1,64}$/;
export const IdSchema = z.string().regex(ID_PATTERN, 'expected an id of 1-64 characters [a-z0-9_-]');

/** snake_case names of points and KPI fields. */
export const NAME_PATTERN = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;
export const PointNameSchema = z.string().regex(NAME_PATTERN, 'expected a snake_case name');

/** Device classes; each is also the InfluxDB measurement of its raw readings. */
export const DEVICE_CLASSES = ['pdu', 'ups', 'meter', 'chiller', 'crah', 'pv_inverter', 'gpu', 'sensor', 'generic'] as const;
export const DeviceClassSchema = z.enum(DEVICE_CLASSES);
export type DeviceClass = z.infer<typeof DeviceClassSchema>;

/** Index tags a table reading may carry (bounded identity only; docs/design.md §7). */
export const INDEX_TAGS = ['phase', 'outlet', 'gpu', 'cpu', 'sensor', 'inlet', 'bank', 'line', 'alarm', 'module'] as const;
export const IndexTagSchema = z.enum(INDEX_TAGS);
export type IndexTag = z.infer<typeof IndexTagSchema>;
