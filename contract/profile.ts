import { z } from 'zod';
import { DeviceClassSchema, IdSchema, IndexTagSchema, PointNameSchema } from './ids.js';
import { UnitSchema } from './units.js';

/**
 * Device profiles are data (docs/design.md §3): one YAML file per device model under profiles/devices/.
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
  /** Accelerator model name, for installed compute (collector catalogue of peak FLOPS). */
  'gpu_model',
  /** CPU model name, for general compute (collector catalogue of FP32 peaks). */
  'cpu_model',
] as const;
export const KpiMeaningSchema = z.enum(KPI_MEANINGS);
export type KpiMeaning = z.infer<typeof KpiMeaningSchema>;

const OidSchema = z.string().regex(/^1(\.\d+)+$/, 'expected a numeric OID such as 1.3.6.1.2.1.1.2.0');

/** Maps raw integers to state names (e.g. UPS output source 3 → normal). */
/**
 * Keys are the raw values: integers for SNMP/Modbus, text for Redfish enums ("OK", "Enabled"), and
 * numeric OIDs for SNMP objects whose value names a registered identity (UPS-MIB's upsAlarmDescr
 * is the OID of a well-known alarm such as upsAlarmOnBattery).
 */
const EnumMapSchema = z.record(z.string().regex(/^(-?\d+|\d+(\.\d+)+|[A-Za-z][A-Za-z0-9_]*)$/), z.string().regex(/^[a-z][a-z0-9_]*$/));

/**
 * Plausibility of one point (docs/plausibility.md): the agent checks every value before it is
 * published. `min`/`max` (engineering units) replace the default bounds of the point's unit;
 * narrowing needs no reason, widening beyond the unit's default needs `range_why` (the document
 * that allows it), which the profile catalogue test enforces.
 */
const PlausibilityKeys = {
  min: z.number().finite().optional(),
  max: z.number().finite().optional(),
  range_why: z.string().min(1).optional(),
  /** The raw data type's own "not available" pattern counts as a sentinel (int16 0x8000, uint16 0xFFFF, int32 0x80000000, uint32 0xFFFFFFFF, float NaN). */
  type_sentinels: z.boolean().optional(),
  /** A measured quantity that moves while the device works (power, current): unchanged for `stuck_polls` polls in a row is suspicious. */
  live: z.boolean().optional(),
  stuck_polls: z.number().int().min(2).max(10_000).optional(),
};

/**
 * Cross-checks between points of one poll, declared by the profile. Points are paired by their
 * table index; a scalar side applies to every row.
 * - `power_vs_vi`: |P| ≤ V × I × phases × headroom (+ allowance); with `min_power_factor`, also
 *   |P| ≥ V × I × phases × min_power_factor once V × I × phases reaches `min_apparent_va`.
 * - `sum`: the parts (a table column summed over its rows, or several scalar points) agree with
 *   the total within `tolerance` (share of the total) plus `allowance` (absolute).
 */
export const PowerVsViCheckSchema = z
  .object({
    kind: z.literal('power_vs_vi'),
    power: PointNameSchema,
    /** One point (a table column pairs by row), or one point per phase paired with `current` by position. */
    voltage: z.union([PointNameSchema, z.array(PointNameSchema).min(1).max(3)]),
    current: z.union([PointNameSchema, z.array(PointNameSchema).min(1).max(3)]),
    phases: z.number().int().min(1).max(3).default(1),
    headroom: z.number().min(1).max(2).default(1.1),
    allowance: z.number().min(0).default(10),
    min_power_factor: z.number().gt(0).max(1).optional(),
    min_apparent_va: z.number().min(0).default(200),
    quality: z.enum(['uncertain', 'bad']).default('bad'),
    why: z.string().optional(),
  })
  .strict()
  .refine((c) => Array.isArray(c.voltage) === Array.isArray(c.current) && (!Array.isArray(c.voltage) || c.voltage.length === (c.current as string[]).length), {
    message: 'voltage and current are both one point or lists of the same length',
  });
export const SumCheckSchema = z
  .object({
    kind: z.literal('sum'),
    total: PointNameSchema,
    parts: z.array(PointNameSchema).min(1),
    tolerance: z.number().min(0).max(1).default(0.05),
    allowance: z.number().min(0).default(0),
    quality: z.enum(['uncertain', 'bad']).default('bad'),
    why: z.string().optional(),
  })
  .strict();
export const PlausibilityCheckSchema = z.discriminatedUnion('kind', [PowerVsViCheckSchema, SumCheckSchema]);
export type PlausibilityCheck = z.infer<typeof PlausibilityCheckSchema>;

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
  ...PlausibilityKeys,
};

/**
 * A decimal exponent read from the device itself, for MIBs whose values carry their precision in
 * another object: Raritan PDU2-MIB `…DecimalDigits` (factor -1), ENTITY-SENSOR-MIB
 * `entPhySensorScale` (factor 3, bias -9) and `entPhySensorPrecision` (factor -1).
 * value = raw * scale * 10^(Σ factor * (v + bias)) + offset.
 * A scalar point names `oid`; a table column names `column` (same index), optionally in another
 * table `entry` (Raritan keeps DecimalDigits in the configuration table).
 */
export const ExponentTermSchema = z
  .object({
    oid: OidSchema.optional(),
    entry: OidSchema.optional(),
    column: z.number().int().positive().optional(),
    factor: z.number().int().min(-10).max(10).default(1),
    bias: z.number().int().min(-100).max(100).default(0),
    /**
     * The term counts as at least this (v + bias, before the factor). ENTITY-SENSOR precision -8..-1
     * gives a number of accurate digits, not a decimal point: `{ column: 3, factor: -1, at_least: 0 }`.
     */
    at_least: z.number().int().min(-100).max(100).optional(),
  })
  .strict()
  .refine((t) => (t.oid !== undefined) !== (t.column !== undefined), { message: 'name exactly one of oid (scalar) or column (table)' });
export type ExponentTerm = z.infer<typeof ExponentTermSchema>;

export const SnmpValueTypeSchema = z.enum(['gauge', 'integer', 'counter32', 'counter64', 'string', 'timeticks', 'enum']);

export const SnmpPointSchema = z.object({ ...PointCommon, oid: OidSchema, type: SnmpValueTypeSchema, exponent_from: z.array(ExponentTermSchema).optional() });
export type SnmpPoint = z.infer<typeof SnmpPointSchema>;

export const SnmpTableSchema = z.object({
  /** The table's entry OID; a column's OID is `<entry>.<column>`. */
  entry: OidSchema,
  index_tag: IndexTagSchema,
  /**
   * For multi-part indexes (Raritan `{pduId, outletId, sensorType}`): keep only rows whose index
   * starts with `index_prefix.` and ends with `.index_suffix`; the part between is the tag value.
   * `1` / `5` selects PDU 1's active power (sensor type 5) per outlet.
   */
  index_prefix: z.string().regex(/^\d+(\.\d+)*$/).optional(),
  index_suffix: z.string().regex(/^\d+(\.\d+)*$/).optional(),
  columns: z
    .array(
      z.object({
        ...PointCommon,
        column: z.number().int().positive(),
        type: SnmpValueTypeSchema,
        exponent_from: z.array(ExponentTermSchema).optional(),
        /**
         * The row's value is a reading only while another column of the same row holds one of
         * `in` (ENTITY-SENSOR `entPhySensorOperStatus` ok(1)); otherwise the device says it has no
         * reading now, DCIM_E_VALUE_UNAVAILABLE. A row without that column is not judged.
         */
        valid_when: z.object({ column: z.number().int().positive(), in: z.array(z.number().int()).min(1) }).strict().optional(),
      }),
    )
    .min(1),
});

export const ModbusRegisterKindSchema = z.enum(['holding', 'input', 'coil', 'discrete']);
export const ModbusValueTypeSchema = z.enum(['int16', 'uint16', 'int32', 'uint32', 'int64', 'uint64', 'float32', 'float64', 'string', 'bool']);
export const WordOrderSchema = z.enum(['ABCD', 'CDAB', 'BADC', 'DCBA']);
export type ModbusValueType = z.infer<typeof ModbusValueTypeSchema>;
export type WordOrder = z.infer<typeof WordOrderSchema>;

const SunspecModelIdSchema = z.number().int().min(1).max(0xfffe);

/**
 * Where a point sits inside a SunSpec model, as the SunSpec model definitions number it: `offset`
 * counts from the model's ID register (ID 0, L 1, first point 2). `id` lists the models that share
 * this layout (101/102/103 single, split and three phase); the first one the device serves is read.
 * The agent finds the model by walking the device's own chain (agent/sunspec/), so a common model
 * of 65 registers (SolarEdge) reads as right as one of 66.
 */
export const SunspecPlaceSchema = z
  .object({
    id: z.union([SunspecModelIdSchema, z.array(SunspecModelIdSchema).min(1)]).transform((v) => (Array.isArray(v) ? v : [v])),
    /** From the model's ID register; in a `repeat` point, from the start of its block. */
    offset: z.number().int().min(0).max(0xffff),
    /**
     * A repeating block of the model (model 160's MPPT modules): blocks of `length` registers from
     * `start`, as many as the model's own count register at offset `count` says (bounded by what L
     * holds; without `count`, as many as L holds). Each block reads as one row, index `index_tag`
     * = 1, 2 … in chain order; the point's scale factor sits in the model's fixed part.
     */
    repeat: z
      .object({
        start: z.number().int().min(2).max(0xffff),
        length: z.number().int().min(1).max(0xffff),
        count: z.number().int().min(2).max(0xffff).optional(),
        index_tag: IndexTagSchema,
      })
      .strict()
      .optional(),
  })
  .strict()
  .refine((p) => (p.repeat ? p.offset < p.repeat.length : p.offset >= 2), { message: 'offset counts from the model ID (at least 2), or inside a repeat block (below its length)', path: ['offset'] });
export type SunspecPlace = z.infer<typeof SunspecPlaceSchema>;

/** As written in a profile: an absolute `address`, or a SunSpec `model` place (then `register` may be left out: SunSpec is holding registers). */
export const ModbusPointSchema = z.object({
  ...PointCommon,
  register: ModbusRegisterKindSchema.optional(),
  /** 0-based protocol address (register 30053 in 1-based docs is input address 52). */
  address: z.number().int().min(0).max(65535).optional(),
  /** SunSpec: the point's model and offset instead of an address. */
  model: SunspecPlaceSchema.optional(),
  type: ModbusValueTypeSchema,
  order: WordOrderSchema.default('ABCD'),
  /** Registers for `string` (2 characters each). */
  length: z.number().int().positive().max(125).optional(),
  /** One bit of a 16-bit register (status and alarm words). */
  bit: z.number().int().min(0).max(15).optional(),
  /** SunSpec-style scale factor: value = raw * 10^sf * scale + offset. A SunSpec point names the factor's `offset` in its own model. */
  scale_factor: z
    .object({ register: z.enum(['holding', 'input']).optional(), address: z.number().int().min(0).max(65535).optional(), offset: z.number().int().min(2).max(0xffff).optional() })
    .strict()
    .optional(),
});
type ModbusPointInput = z.infer<typeof ModbusPointSchema>;
/**
 * A point after loading: every point has an address. For a SunSpec point it is the address in the
 * profile's reference chain (`sunspec.models`, what the simulator serves); the agent re-places it
 * from the chain the device declares and keeps `model` and `scale_factor.offset` for that.
 */
export type ModbusPoint = Omit<ModbusPointInput, 'register' | 'address' | 'scale_factor'> & {
  register: z.infer<typeof ModbusRegisterKindSchema>;
  address: number;
  scale_factor?: { register: 'holding' | 'input'; address: number; offset?: number | undefined } | undefined;
};

const TestVectorSchema = z.object({
  point: PointNameSchema,
  /** SNMP: the varbind value; Modbus: the register words (16-bit each) or coil bits. */
  raw: z.union([z.number(), z.string(), z.boolean(), z.null(), z.array(z.number().int().min(0).max(65535))]),
  /** Raw scale-factor register value for points with `scale_factor`. */
  sf: z.number().int().optional(),
  /** Raw values of the point's `exponent_from` terms, in order. */
  exponents: z.array(z.number().int()).optional(),
  expected: z.union([z.number(), z.string(), z.boolean(), z.null()]),
});

/**
 * What the simulator needs to serve a device of this profile that the protocol facts do not say.
 * The simulator's device kind is the profile's `class`; table sizes are here, so adding a
 * profile never means editing the simulator. A seed's per-device `sim` hints override these.
 */
const SimulationSchema = z
  .object({
    /** Rows of the outlet table a simulated PDU serves (a common model of the family); 8 when absent. */
    outlets: z.number().int().min(0).max(96).optional(),
  })
  .strict();
export type ProfileSimulation = z.infer<typeof SimulationSchema>;

const ProfileCommon = {
  id: IdSchema,
  class: DeviceClassSchema,
  /** Facts the simulator reads (SimulationSchema); the agent ignores them. */
  simulation: SimulationSchema.optional(),
  vendor: z.string().min(1),
  model: z.string().min(1),
  description: z.string().optional(),
  test_vectors: z.array(TestVectorSchema).min(1),
  /** Cross-checks between points (PlausibilityCheckSchema). */
  checks: z.array(PlausibilityCheckSchema).optional(),
};

/** A case-insensitive regular expression an identification text must match. */
const IdentRegexSchema = z
  .string()
  .min(1)
  .refine((x) => {
    try {
      new RegExp(x, 'i');
      return true;
    } catch {
      return false;
    }
  }, 'expected a regular expression');

/**
 * A probe: one GETNEXT at `oid` that a device serving the profile's MIB answers with an object
 * inside that subtree (`upsIdentManufacturer` under UPS-MIB). `object` and `mib` name it for the
 * reason a person reads; `matches` (a case-insensitive regular expression) also requires the
 * answered value to look right, for vendors sharing one standard subtree.
 */
export const SnmpProbeSchema = z
  .object({
    oid: OidSchema,
    object: z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'expected a MIB object name such as upsIdentManufacturer'),
    mib: z.string().regex(/^[A-Za-z][A-Za-z0-9-]*$/, 'expected a MIB module name such as UPS-MIB'),
    matches: IdentRegexSchema.optional(),
  })
  .strict();
export type SnmpProbe = z.infer<typeof SnmpProbeSchema>;

/**
 * How detection recognises the device. `sys_object_id`: OID prefixes of the sysObjectID this
 * profile claims. `probe`: subtrees the device must answer. With both, the claim holds only when
 * every probe answers (a vendor prefix that also covers its cooling units claims only the UPSes);
 * with `probe` alone, the profile is a candidate for any device that answers every probe.
 */
export const SnmpMatchSchema = z
  .object({
    sys_object_id: z.array(OidSchema).min(1).optional(),
    probe: z.array(SnmpProbeSchema).min(1).max(8).optional(),
  })
  .strict()
  .refine((m) => m.sys_object_id !== undefined || m.probe !== undefined, { message: 'name sys_object_id, probe, or both' });
export type SnmpMatch = z.infer<typeof SnmpMatchSchema>;

export const SnmpProfileSchema = z.object({
  ...ProfileCommon,
  protocol: z.literal('snmp'),
  match: SnmpMatchSchema.optional(),
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

/**
 * A register a device of this model identifies itself by (a meter's model name, a product code),
 * for `dcim poll --detect` on devices that are not SunSpec. `object` names it as the vendor's
 * register list does; `matches` (a case-insensitive regular expression, for text) or `equals`
 * (for a code) says what it must hold.
 */
export const ModbusIdentRegisterSchema = z
  .object({
    object: z.string().min(1),
    register: z.enum(['holding', 'input']),
    address: z.number().int().min(0).max(65535),
    type: z.enum(['uint16', 'string']),
    /** Registers of a `string` (2 characters each). */
    length: z.number().int().min(1).max(125).optional(),
    matches: IdentRegexSchema.optional(),
    equals: z.array(z.number().int().min(0).max(65535)).min(1).optional(),
  })
  .strict()
  .refine((r) => (r.type === 'string' ? r.matches !== undefined && r.length !== undefined && r.equals === undefined : r.equals !== undefined && r.matches === undefined), {
    message: 'a string names length and matches; a uint16 names equals',
  });
export type ModbusIdentRegister = z.infer<typeof ModbusIdentRegisterSchema>;

/**
 * What a device answers to Read Device Identification (function 43/14) when it is this model, as
 * the vendor's manual lists the objects: each named object must match its case-insensitive regular
 * expression. ProductName and ModelName are regular-category objects: only a device whose
 * conformity level offers that category sends them.
 */
export const ModbusDeviceIdMatchSchema = z
  .object({
    vendor_name: IdentRegexSchema.optional(),
    product_code: IdentRegexSchema.optional(),
    major_minor_revision: IdentRegexSchema.optional(),
    product_name: IdentRegexSchema.optional(),
    model_name: IdentRegexSchema.optional(),
  })
  .strict()
  .refine((d) => Object.keys(d).length > 0, { message: 'name at least one object' });
export type ModbusDeviceIdMatch = z.infer<typeof ModbusDeviceIdMatchSchema>;

/**
 * How detection recognises a device that is not SunSpec: its identification registers, which must
 * all hold what they say, or its answer to Read Device Identification (`device_id`), or both (each
 * one alone claims the device; both holding ranks it higher). `block`: the registers lie in a
 * block the device answers only when read whole (Siemens I&M 0), read in one request.
 */
export const ModbusMatchSchema = z
  .object({
    registers: z.array(ModbusIdentRegisterSchema).min(1).max(4).optional(),
    block: z.object({ register: z.enum(['holding', 'input']), address: z.number().int().min(0).max(65535), length: z.number().int().min(1).max(125) }).strict().optional(),
    device_id: ModbusDeviceIdMatchSchema.optional(),
  })
  .strict()
  .superRefine((m, ctx) => {
    if (!m.registers && !m.device_id) ctx.addIssue({ code: 'custom', message: 'name registers, device_id, or both' });
    const b = m.block;
    if (!b) return;
    if (!m.registers) ctx.addIssue({ code: 'custom', path: ['block'], message: 'a block holds registers: name them' });
    if (b.address + b.length > 65536) ctx.addIssue({ code: 'custom', path: ['block', 'length'], message: 'the block passes address 65535' });
    (m.registers ?? []).forEach((r, i) => {
      const n = r.type === 'string' ? (r.length ?? 1) : 1;
      if (r.register !== b.register || r.address < b.address || r.address + n > b.address + b.length)
        ctx.addIssue({ code: 'custom', path: ['registers', i, 'address'], message: `outside the block (${b.register} ${b.address}, ${b.length} registers)` });
    });
  });
export type ModbusMatch = z.infer<typeof ModbusMatchSchema>;

export const ModbusProfileSchema = z.object({
  ...ProfileCommon,
  protocol: z.literal('modbus'),
  match: ModbusMatchSchema.optional(),
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
  /**
   * SunSpec devices: the reference chain ("SunS" at `base`, then [ID][L]…, ended by 0xFFFF) that
   * the simulator serves and that places `model` points by default. A real device's chain may
   * differ (model 1 with L 65, other models between): the agent walks it (agent/sunspec/).
   */
  sunspec: z
    .object({
      base: z.union([z.literal(0), z.literal(40000), z.literal(50000)]),
      models: z.array(z.object({ id: z.number().int().min(1).max(0xfffe), length: z.number().int().min(0).max(0xffff) }).strict()).min(1),
    })
    .strict()
    .optional(),
}).transform(placeModbusPoints);
export type ModbusProfile = z.infer<typeof ModbusProfileSchema>;

/** Give every point its address: as written, or from its SunSpec model place in the reference chain. */
function placeModbusPoints<P extends { points: ModbusPointInput[]; sunspec?: { base: number; models: { id: number; length: number }[] } | undefined }>(
  p: P,
  ctx: z.RefinementCtx,
): Omit<P, 'points'> & { points: ModbusPoint[] } {
  const starts = new Map<number, { at: number; length: number }>();
  if (p.sunspec) {
    let at = p.sunspec.base + 2;
    for (const m of p.sunspec.models) {
      if (!starts.has(m.id)) starts.set(m.id, { at, length: m.length });
      at += 2 + m.length;
    }
  }
  const points = p.points.map((pt, i): ModbusPoint => {
    const where = ['points', i];
    const { model, scale_factor: sf, register, address, ...rest } = pt;
    if (model) {
      if (address !== undefined) ctx.addIssue({ code: 'custom', path: [...where, 'address'], message: 'give address or model, not both' });
      if (register !== undefined && register !== 'holding') ctx.addIssue({ code: 'custom', path: [...where, 'register'], message: 'SunSpec models are holding registers' });
      const id = model.id.find((m) => starts.has(m));
      const start = id !== undefined ? starts.get(id) : undefined;
      if (!start) {
        ctx.addIssue({ code: 'custom', path: [...where, 'model', 'id'], message: `no model ${model.id.join('/')} in sunspec.models` });
        return { ...rest, register: 'holding', address: 0 };
      }
      const count = registerSpan(pt.type, pt.length);
      // A repeat point's reference address is its first block's; the reference chain must hold one.
      const at = model.offset + (model.repeat?.start ?? 0);
      if (model.repeat && model.offset + count > model.repeat.length) ctx.addIssue({ code: 'custom', path: [...where, 'model', 'offset'], message: `offset ${model.offset} + ${count} registers passes the repeat block (${model.repeat.length} registers)` });
      if (at + count > 2 + start.length) ctx.addIssue({ code: 'custom', path: [...where, 'model', 'offset'], message: `offset ${at} + ${count} registers passes model ${String(id)} (L ${start.length})` });
      let scale: ModbusPoint['scale_factor'];
      if (sf) {
        if (sf.offset === undefined || sf.address !== undefined) ctx.addIssue({ code: 'custom', path: [...where, 'scale_factor'], message: 'a SunSpec point names its scale factor by offset in the same model' });
        else scale = { register: 'holding', address: start.at + sf.offset, offset: sf.offset };
      }
      return { ...rest, model, register: 'holding', address: start.at + at, ...(scale ? { scale_factor: scale } : {}) };
    }
    if (address === undefined || register === undefined) {
      ctx.addIssue({ code: 'custom', path: where, message: 'give register and address, or a SunSpec model {id, offset}' });
      return { ...rest, register: register ?? 'holding', address: address ?? 0 };
    }
    let scale: ModbusPoint['scale_factor'];
    if (sf) {
      if (sf.register === undefined || sf.address === undefined || sf.offset !== undefined) ctx.addIssue({ code: 'custom', path: [...where, 'scale_factor'], message: 'give the scale factor register and address (offset is for SunSpec model points)' });
      else scale = { register: sf.register, address: sf.address };
    }
    return { ...rest, register, address, ...(scale ? { scale_factor: scale } : {}) };
  });
  return { ...p, points };
}

/** Registers a value occupies (the contract codec's rule, here without importing the codec). */
function registerSpan(type: z.infer<typeof ModbusValueTypeSchema>, length: number | undefined): number {
  if (type === 'string') return length ?? 1;
  if (type === 'int32' || type === 'uint32' || type === 'float32') return 2;
  if (type === 'int64' || type === 'uint64' || type === 'float64') return 4;
  return 1;
}

/**
 * Redfish (DMTF DSP0266) over HTTPS: BMCs of GPU and other servers. Points are JSON pointers
 * (RFC 6901) into resources; collections expand one member per row (GPUs), optionally following a
 * link of the member (`follow: /Metrics` → the resource its `@odata.id` names).
 */
const JsonPointerSchema = z.string().regex(/^(\/[^/]*)*$/, 'expected a JSON pointer such as /PowerWatts/Reading');
const RedfishPathSchema = z.string().regex(/^\/redfish\/v1(\/[A-Za-z0-9_.-]+)*$/, 'expected a path such as /redfish/v1/Chassis/1');
export const RedfishValueTypeSchema = z.enum(['number', 'string', 'bool', 'enum']);

export const RedfishPointSchema = z.object({
  ...PointCommon,
  pointer: JsonPointerSchema,
  type: RedfishValueTypeSchema.default('number'),
  /** In a collection: read the point from the resource this member links to. */
  follow: JsonPointerSchema.optional(),
});
export type RedfishPoint = z.infer<typeof RedfishPointSchema>;

export const RedfishProfileSchema = z.object({
  ...ProfileCommon,
  protocol: z.literal('redfish'),
  quirks: z
    .object({
      /** BMCs are slow and fragile: NVIDIA caps Redfish at 4 concurrent operations per BMC. */
      max_concurrent_requests: z.number().int().min(1).max(8).default(2),
    })
    .prefault({}),
  resources: z.array(z.object({ path: RedfishPathSchema, points: z.array(RedfishPointSchema).min(1) }).strict()).default([]),
  collections: z
    .array(
      z
        .object({
          collection: RedfishPathSchema,
          /** Keep only members whose value at `pointer` equals `equals` (e.g. ProcessorType = GPU). */
          where: z.object({ pointer: JsonPointerSchema, equals: z.union([z.string(), z.number(), z.boolean()]) }).strict().optional(),
          index_tag: IndexTagSchema,
          /** Where the row index comes from in the member; default its `Id`. */
          index_pointer: JsonPointerSchema.default('/Id'),
          points: z.array(RedfishPointSchema).min(1),
        })
        .strict(),
    )
    .default([]),
});
export type RedfishProfile = z.infer<typeof RedfishProfileSchema>;

/**
 * Prometheus text exposition (format 0.0.4) scraped over HTTP: exporters GPU fleets already run
 * (NVIDIA dcgm-exporter, Huawei Ascend npu-exporter). A point names a metric and, optionally,
 * labels a sample must carry; `label` reads that label's text instead of the sample value (the
 * GPU model that dcgm-exporter puts in `modelName`). A table makes one row per value of
 * `index_label` (dcgm-exporter's `gpu`, npu-exporter's `id`).
 */
const MetricNameSchema = z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, 'expected a Prometheus metric name');
const LabelNameSchema = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, 'expected a Prometheus label name');
export const PrometheusPointSchema = z
  .object({
    ...PointCommon,
    metric: MetricNameSchema,
    /** Only samples whose labels hold these values. */
    labels: z.record(LabelNameSchema, z.string()).optional(),
    /** Read this label's text (a model name) instead of the sample value. */
    label: LabelNameSchema.optional(),
  })
  .strict();
export type PrometheusPoint = z.infer<typeof PrometheusPointSchema>;

export const PrometheusProfileSchema = z.object({
  ...ProfileCommon,
  protocol: z.literal('prometheus'),
  points: z.array(PrometheusPointSchema).default([]),
  tables: z
    .array(
      z
        .object({
          index_tag: IndexTagSchema,
          /** The label whose values are the rows. */
          index_label: LabelNameSchema,
          columns: z.array(PrometheusPointSchema).min(1),
        })
        .strict(),
    )
    .default([]),
});
export type PrometheusProfile = z.infer<typeof PrometheusProfileSchema>;

export const DeviceProfileSchema = z.discriminatedUnion('protocol', [SnmpProfileSchema, ModbusProfileSchema, RedfishProfileSchema, PrometheusProfileSchema]);
export type DeviceProfile = z.infer<typeof DeviceProfileSchema>;

/** One point of a profile, wherever it sits (scalar, SNMP table column, Redfish collection). */
export interface ProfilePointRef {
  /** Path in the profile file, for error messages: `points[2]`, `tables[0].columns[1]`, … */
  where: string;
  name: string;
  unit?: z.infer<typeof UnitSchema> | undefined;
  kpi?: KpiMeaning | undefined;
  /** Set for table/collection points: the index tag of their rows. */
  index_tag?: z.infer<typeof IndexTagSchema> | undefined;
}

/** Every point of a profile, flattened, in file order. */
export function profilePoints(p: DeviceProfile): ProfilePointRef[] {
  const ref = (where: string, x: { name: string; unit?: ProfilePointRef['unit']; kpi?: KpiMeaning | undefined }, index_tag?: ProfilePointRef['index_tag']): ProfilePointRef => ({
    where,
    name: x.name,
    unit: x.unit,
    kpi: x.kpi,
    ...(index_tag !== undefined ? { index_tag } : {}),
  });
  switch (p.protocol) {
    case 'modbus':
      return p.points.map((x, i) => ref(`points[${i}]`, x, x.model?.repeat?.index_tag));
    case 'snmp':
      return [
        ...p.points.map((x, i) => ref(`points[${i}]`, x)),
        ...p.tables.flatMap((t, ti) => t.columns.map((c, ci) => ref(`tables[${ti}].columns[${ci}]`, c, t.index_tag))),
      ];
    case 'redfish':
      return [
        ...p.resources.flatMap((r, ri) => r.points.map((x, i) => ref(`resources[${ri}].points[${i}]`, x))),
        ...p.collections.flatMap((c, ci) => c.points.map((x, i) => ref(`collections[${ci}].points[${i}]`, x, c.index_tag))),
      ];    case 'prometheus':
      return [
        ...p.points.map((x, i) => ref(`points[${i}]`, x)),
        ...p.tables.flatMap((t, ti) => t.columns.map((x, i) => ref(`tables[${ti}].columns[${i}]`, x, t.index_tag))),
      ];
  }
}
