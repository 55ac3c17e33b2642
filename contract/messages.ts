import { z } from 'zod';
import { DeviceClassSchema, ID_PATTERN, IdSchema, INDEX_TAGS, IndexTagSchema, NAME_PATTERN, PointNameSchema } from './ids.js';
import { MeterRoleSchema } from './inventory.js';
import { UNITS, UnitSchema } from './units.js';

/** Payload size limit for every dcim/v1 message (docs/design.md §9). */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/** Counter64 values travel as decimal strings: they may exceed 2^53. */
export const CounterStringSchema = z.string().regex(/^\d{1,20}$/, 'expected a decimal counter string');

export const QualitySchema = z.enum(['good', 'uncertain', 'bad']);

/** A table index value (phase "1", outlet "24", gpu "GPU-3a…" shortened). */
const INDEX_VALUE_PATTERN = /^[A-Za-z0-9_.:-]{1,32}$/;
const ERROR_CODE_PATTERN = /^DCIM_E_[A-Z0-9_]+$/;

/** One value of one point. A `bad` reading carries an error code instead of a value. */
export const ReadingSchema = z
  .object({
    point: PointNameSchema,
    value: z.union([z.number().finite(), CounterStringSchema, z.string().max(256), z.boolean(), z.null()]),
    unit: UnitSchema.optional(),
    quality: QualitySchema,
    /** Table index tags (phase, outlet, GPU …). */
    index: z.partialRecord(IndexTagSchema, z.string().regex(INDEX_VALUE_PATTERN)).optional(),
    error: z.string().regex(ERROR_CODE_PATTERN).optional(),
  })
  .refine((r) => r.value !== null || r.quality === 'bad', { message: 'a null value needs quality "bad"', path: ['value'] });
export type Reading = z.infer<typeof ReadingSchema>;

const READING_KEYS = new Set(['point', 'value', 'unit', 'quality', 'index', 'error']);
const INDEX_TAG_SET: ReadonlySet<string> = new Set(INDEX_TAGS);
const QUALITIES: ReadonlySet<unknown> = new Set(QualitySchema.options);
/** A plain object as JSON.parse makes them (not an array, not a class instance). */
export const isPlainRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x) && Object.getPrototypeOf(x) === Object.prototype;

/**
 * The reading itself when it is a plain, valid one (only the schema's keys, every value as
 * ReadingSchema accepts it), else undefined: then ReadingSchema decides and explains. The
 * collector checks every reading of every poll; this answers the common case without building
 * a parse result. test/contract/messages.fast-path.test.ts holds it to ReadingSchema.
 */
export function readingIfPlain(raw: unknown): Reading | undefined {
  if (!isPlainRecord(raw)) return undefined;
  for (const k in raw) if (!READING_KEYS.has(k)) return undefined;
  const { point, value, unit, quality, index, error } = raw;
  if (typeof point !== 'string' || !NAME_PATTERN.test(point)) return undefined;
  if (!QUALITIES.has(quality)) return undefined;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
  } else if (typeof value === 'string') {
    if (value.length > 256) return undefined;
  } else if (value === null) {
    if (quality !== 'bad') return undefined;
  } else if (typeof value !== 'boolean') return undefined;
  if (unit !== undefined && (typeof unit !== 'string' || !Object.hasOwn(UNITS, unit))) return undefined;
  if (error !== undefined && (typeof error !== 'string' || !ERROR_CODE_PATTERN.test(error))) return undefined;
  if (index !== undefined) {
    if (!isPlainRecord(index)) return undefined;
    for (const k in index) {
      const v = index[k];
      if (!INDEX_TAG_SET.has(k) || typeof v !== 'string' || !INDEX_VALUE_PATTERN.test(v)) return undefined;
    }
  }
  return raw as Reading;
}

export const PollStatsSchema = z.object({
  ms: z.number().nonnegative().finite(),
  requests: z.number().int().nonnegative(),
  retries: z.number().int().nonnegative(),
  timeouts: z.number().int().nonnegative().optional(),
});

/** One poll of one device (docs/design.md §2). `ts` is the poll start, ms since epoch. */
export const TelemetryMessageSchema = z.object({
  schema: z.literal(1),
  agent: IdSchema,
  site: IdSchema,
  device: IdSchema,
  class: DeviceClassSchema,
  seq: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  ts: z.number().int().positive(),
  readings: z.array(ReadingSchema).max(10_000),
  poll: PollStatsSchema,
});
export type TelemetryMessage = z.infer<typeof TelemetryMessageSchema>;

/** A telemetry message whose readings are not yet checked: the collector checks them one by one, so one bad reading never costs the poll. */
export const EnvelopeSchema = TelemetryMessageSchema.extend({ readings: z.array(z.unknown()).max(10_000) });
export type TelemetryEnvelope = z.infer<typeof EnvelopeSchema>;

const ENVELOPE_KEYS = new Set(['schema', 'agent', 'site', 'device', 'class', 'seq', 'ts', 'readings', 'poll']);
const POLL_KEYS = new Set(['ms', 'requests', 'retries', 'timeouts']);
const CLASSES: ReadonlySet<unknown> = new Set(DeviceClassSchema.options);
const isCount = (x: unknown): boolean => Number.isSafeInteger(x) && (x as number) >= 0;
const isId = (x: unknown): boolean => typeof x === 'string' && ID_PATTERN.test(x);

/**
 * The envelope itself when it is a plain, valid one (only the schema's keys, each as
 * EnvelopeSchema accepts it), else undefined: then the schema decides and explains. Every poll the
 * collector receives and every message the agent publishes passes here, so the common case builds
 * no parse result; test/contract/messages.fast-path.test.ts holds it to EnvelopeSchema.
 */
export function envelopeIfPlain(raw: unknown): TelemetryEnvelope | undefined {
  if (!isPlainRecord(raw)) return undefined;
  for (const k in raw) if (!ENVELOPE_KEYS.has(k)) return undefined;
  const { schema, agent, site, device, seq, ts, readings, poll } = raw;
  if (schema !== 1 || !isId(agent) || !isId(site) || !isId(device) || !CLASSES.has(raw.class)) return undefined;
  if (!isCount(seq) || !Number.isSafeInteger(ts) || (ts as number) <= 0) return undefined;
  if (!Array.isArray(readings) || readings.length > 10_000 || !isPlainRecord(poll)) return undefined;
  for (const k in poll) if (!POLL_KEYS.has(k)) return undefined;
  const ms = poll.ms;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0 || !isCount(poll.requests) || !isCount(poll.retries)) return undefined;
  if (poll.timeouts !== undefined && !isCount(poll.timeouts)) return undefined;
  return raw as TelemetryEnvelope;
}

/** The message itself when its envelope and every reading are plain and valid (as TelemetryMessageSchema accepts them), else undefined. */
export function telemetryIfPlain(raw: unknown): TelemetryMessage | undefined {
  const env = envelopeIfPlain(raw);
  if (env === undefined) return undefined;
  for (const r of env.readings) if (readingIfPlain(r) === undefined) return undefined;
  return env as TelemetryMessage;
}

/** Retained on `…/agents/<agent>/state`; also the MQTT last will with `online: false`. */
export const AgentStateSchema = z.object({
  online: z.boolean(),
  ts: z.number().int().positive(),
  version: z.string().max(64),
  devices: z.number().int().nonnegative(),
  /** Birth/death sequence: increases on every (re)connect, like Sparkplug's bdSeq. */
  bd_seq: z.number().int().nonnegative(),
  /**
   * The agent's self-metrics (devices up/down, polls, errors, spool depth …), republished
   * periodically; snake_case names with unit suffix. The collector stores them as `agent_health`.
   */
  health: z.record(PointNameSchema, z.number().finite()).optional(),
});
export type AgentState = z.infer<typeof AgentStateSchema>;

export const DeviceStateSchema = z.enum(['up', 'down', 'degraded']);
export const DeviceStatusSchema = z.object({
  state: DeviceStateSchema,
  code: z.string().regex(/^DCIM_E_[A-Z0-9_]+$/).optional(),
  since: z.number().int().positive(),
  last_ok: z.number().int().positive().nullable(),
});
export type DeviceStatus = z.infer<typeof DeviceStatusSchema>;

export const KpiQualitySchema = z.enum(['measured', 'partial', 'estimated', 'insufficient']);
export type KpiQuality = z.infer<typeof KpiQualitySchema>;
export const TargetStatusSchema = z.enum(['green', 'amber', 'red', 'grey']);
export type TargetStatus = z.infer<typeof TargetStatusSchema>;
export const KpiWindowSchema = z.enum(['instant', '15m', '1h', '1d', '1mo', 'ytd', '12mo', '1y']);
export type KpiWindow = z.infer<typeof KpiWindowSchema>;

/**
 * A meter a live figure needs that has no fresh power (no data for max(3 × interval, 5 min)).
 * `carried`: its last power stands in for it in the figure (quality `estimated`); otherwise the
 * figure has no value because of it (silent too long, too large a share, or never seen).
 */
export const StaleMeterSchema = z
  .object({
    /** The site of the meter, in a cluster roll-up. */
    site: IdSchema.optional(),
    device: IdSchema,
    role: MeterRoleSchema,
    /** When its last valid power was measured; absent when it has none. */
    last_ts_ms: z.number().int().positive().optional(),
    /** That last power, W. */
    power_w: z.number().finite().optional(),
    carried: z.boolean(),
  })
  .strict();
export type StaleMeter = z.infer<typeof StaleMeterSchema>;

/** One KPI figure with everything needed to judge it (docs/design.md §5). */
export const KpiValueSchema = z.object({
  kpi: PointNameSchema,
  window: KpiWindowSchema,
  window_start: z.number().int(),
  window_end: z.number().int(),
  /** Present when ok; absent when the KPI could not be computed. */
  value: z.number().finite().optional(),
  ok: z.boolean(),
  reason: z.string().optional(),
  /** The catalogue code of `reason`, for machines. */
  reason_code: z.string().regex(/^DCIM_E_[A-Z0-9_]+$/).optional(),
  /** How the figure was computed, e.g. "power" (instantaneous) or "energy". */
  basis: z.string(),
  /** PUE measurement category 1|2|3 from the IT meters' level, when it applies. */
  category: z.number().int().min(1).max(3).optional(),
  /** Share of required inputs that were present, 0..1. */
  coverage: z.number().min(0).max(1),
  quality: KpiQualitySchema,
  target: z.number().optional(),
  status: TargetStatusSchema,
  /** Extra figures (facility_power_w, it_power_w …) for display. */
  inputs: z.record(z.string(), z.number().finite()).optional(),
  /** How energy inputs are named (KPI_INPUTS_VERSION); absent on figures without energy inputs and from older collectors. */
  inputs_version: z.number().int().positive().optional(),
  /** Live figures: the stale meters among the inputs, largest last power first (at most 20; `inputs.stale_meter_count` has the total). */
  stale_meters: z.array(StaleMeterSchema).max(100).optional(),
});
export type KpiValue = z.infer<typeof KpiValueSchema>;

/**
 * Version of the energy inputs of a windowed KPI (PUE, green share, IT-load utilisation).
 * 2: each side (facility, it, green_onsite, green_feed) as `<side>_measured_kwh` (what readings
 * covered) and `<side>_substituted_kwh` (filled in for uncovered meter-time, at most 20 % of it),
 * `<side>_kwh` (their sum) only when the side is within that bound, `<side>_coverage`, and
 * `substituted_ratio`. Figures without the field (version 1) carried one `<side>_kwh` that
 * could be scaled up from a fraction of the window: not to be read as energy.
 */
export const KPI_INPUTS_VERSION = 2;

/** Retained on `dcim/v1/<site>/kpi`. */
export const KpiMessageSchema = z.object({
  schema: z.literal(1),
  site: IdSchema,
  ts: z.number().int().positive(),
  kpis: z.array(KpiValueSchema),
});
export type KpiMessage = z.infer<typeof KpiMessageSchema>;

/** Alert severities, lowest first (rules, messages, stored `alert` points). */
export const ALERT_SEVERITIES = ['info', 'warning', 'critical'] as const;
export const AlertSeveritySchema = z.enum(ALERT_SEVERITIES);
export type AlertSeverity = z.infer<typeof AlertSeveritySchema>;

/**
 * An alert as others see it: the retained payload of `dcim/v1/<site>/alerts/<id>` (docs/design.md §2),
 * the webhook's `alert`, and an entry of `/api/alerts`. Times in ms since the epoch.
 */
export const AlertMessageSchema = z
  .object({
    schema: z.literal(1),
    id: IdSchema,
    site: IdSchema,
    rule: IdSchema,
    name: z.string().min(1),
    severity: AlertSeveritySchema,
    state: z.enum(['pending', 'firing', 'resolved']),
    labels: z.record(z.string(), z.string()),
    summary: z.string(),
    description: z.string().optional(),
    runbook: z.string().optional(),
    runbook_url: z.string().optional(),
    value: z.number().finite().optional(),
    /** Firing since (this episode); for a pending alert, absent. */
    starts_at: z.number().int().optional(),
    /** Resolved at. */
    ends_at: z.number().int().optional(),
    /** Pending: the condition holds since then. */
    pending_since: z.number().int().optional(),
    /** Pending and held back by a firing alert of an inhibit rule. */
    inhibited: z.boolean().optional(),
    /** When this state was last evaluated. */
    ts: z.number().int().positive(),
  })
  .strict();
export type AlertMessage = z.infer<typeof AlertMessageSchema>;
