import { z } from 'zod';
import { DeviceClassSchema, IdSchema, IndexTagSchema, PointNameSchema } from './ids.js';
import { UnitSchema } from './units.js';

/**
 * Device profiles are data (DESIGN.md §3): one YAML file per device model under agent/profiles/.
 * One scale convention everywhere: value = raw * scale + offset
 * (times 10^sf when a SunSpec-style scale-factor register is named).
 */

/** What a point means to the KPI engine, with the unit as suffix. */
export const KPI_MEANINGS = [
  'active_power_w',
  'energy_kwh',
  'inlet_temp_c',
  'supply_temp_c',
  'return_temp_c',
  'gpu_power_w',
  'gpu_utilisation_pct',
] as const;
export const KpiMeaningSchema = z.enum(KPI_MEANINGS);
export type KpiMeaning = z.infer<typeof KpiMeaningSchema>;

const OidSchema = z.string().regex(/^1(\.\d+)+$/, 'expected a numeric OID such as 1.3.6.1.2.1.1.2.0');

/** Maps raw integers to state names (e.g. UPS output source 3 → normal). */
const EnumMapSchema = z.record(z.string().regex(/^-?\d+$/), z.string().regex(/^[a-z][a-z0-9_]*$/));

const PointCommon = {
  name: PointNameSchema,
  unit: UnitSchema.optional(),
  scale: z.number().finite().default(1),
  offset: z.number().finite().default(0),
  /** Display precision (decimals) for onboarding output. */
  precision: z.number().int().min(0).max(9).optional(),
  kpi: KpiMeaningSchema.optional(),
  /** Raw values that mean "not available" on this device (APC -1, SunSpec 0x8000 …). */
  sentinels: z.array(z.union([z.number(), z.string()])).optional(),
  enum: EnumMapSchema.optional(),
  /** Cumulative counter: the collector's ledger handles resets and rollovers. */
  counter_max: z.number().positive().optional(),
  description: z.string().optional(),
};

export const SnmpValueTypeSchema = z.enum(['gauge', 'integer', 'counter32', 'counter64', 'string', 'timeticks', 'enum']);

export const SnmpPointSchema = z.object({ ...PointCommon, oid: OidSchema, type: SnmpValueTypeSchema });
export type SnmpPoint = z.infer<typeof SnmpPointSchema>;

export const SnmpTableSchema = z.object({
  /** The table's entry OID; a column's OID is `<entry>.<column>`. */
  entry: OidSchema,
  index_tag: IndexTagSchema,
  columns: z.array(z.object({ ...PointCommon, column: z.number().int().positive(), type: SnmpValueTypeSchema })).min(1),
});

export const ModbusRegisterKindSchema = z.enum(['holding', 'input', 'coil', 'discrete']);
export const ModbusValueTypeSchema = z.enum(['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string', 'bool']);
export const WordOrderSchema = z.enum(['ABCD', 'CDAB', 'BADC', 'DCBA']);
export type ModbusValueType = z.infer<typeof ModbusValueTypeSchema>;
export type WordOrder = z.infer<typeof WordOrderSchema>;

export const ModbusPointSchema = z.object({
  ...PointCommon,
  register: ModbusRegisterKindSchema,
  /** 0-based protocol address (register 30053 in 1-based docs is input address 52). */
  address: z.number().int().min(0).max(65535),
  type: ModbusValueTypeSchema,
  order: WordOrderSchema.default('ABCD'),
  /** Registers for `string` (2 characters each). */
  length: z.number().int().positive().max(125).optional(),
  /** One bit of a 16-bit register (status and alarm words). */
  bit: z.number().int().min(0).max(15).optional(),
  /** SunSpec-style scale factor: value = raw * 10^sf * scale + offset. */
  scale_factor: z.object({ register: z.enum(['holding', 'input']), address: z.number().int().min(0).max(65535) }).optional(),
});
export type ModbusPoint = z.infer<typeof ModbusPointSchema>;

const TestVectorSchema = z.object({
  point: PointNameSchema,
  /** SNMP: the varbind value; Modbus: the register words (16-bit each) or coil bits. */
  raw: z.union([z.number(), z.string(), z.array(z.number().int().min(0).max(65535))]),
  /** Raw scale-factor register value for points with `scale_factor`. */
  sf: z.number().int().optional(),
  expected: z.union([z.number(), z.string(), z.boolean(), z.null()]),
});

const ProfileCommon = {
  id: IdSchema,
  class: DeviceClassSchema,
  vendor: z.string().min(1),
  model: z.string().min(1),
  description: z.string().optional(),
  test_vectors: z.array(TestVectorSchema).min(1),
};

export const SnmpProfileSchema = z.object({
  ...ProfileCommon,
  protocol: z.literal('snmp'),
  match: z.object({ sys_object_id: z.array(OidSchema).min(1) }).optional(),
  quirks: z
    .object({
      max_oids_per_request: z.number().int().min(1).max(60).default(25),
      max_repetitions: z.number().int().min(1).max(100).default(25),
      allow_nonincreasing_oids: z.boolean().default(false),
    })
    .prefault({}),
  points: z.array(SnmpPointSchema).default([]),
  tables: z.array(SnmpTableSchema).default([]),
});
export type SnmpProfile = z.infer<typeof SnmpProfileSchema>;

export const ModbusProfileSchema = z.object({
  ...ProfileCommon,
  protocol: z.literal('modbus'),
  quirks: z
    .object({
      max_registers_per_read: z.number().int().min(1).max(125).default(120),
      /** Largest hole (registers) the planner reads through to merge two requests. */
      max_gap: z.number().int().min(0).max(120).default(16),
      one_request_per_point: z.boolean().default(false),
      pause_between_requests_ms: z.number().int().min(0).max(10_000).default(0),
    })
    .prefault({}),
  points: z.array(ModbusPointSchema).min(1),
});
export type ModbusProfile = z.infer<typeof ModbusProfileSchema>;

export const DeviceProfileSchema = z.discriminatedUnion('protocol', [SnmpProfileSchema, ModbusProfileSchema]);
export type DeviceProfile = z.infer<typeof DeviceProfileSchema>;
