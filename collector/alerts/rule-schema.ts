import { z } from 'zod';
import { DeviceClassSchema, IdSchema, PointNameSchema } from '../../contract/ids.js';
import { MeterRoleSchema } from '../../contract/inventory.js';
import { AlertSeveritySchema, DeviceStateSchema, KpiWindowSchema, type AlertSeverity } from '../../contract/messages.js';
import { KpiMeaningSchema } from '../../contract/profile.js';
import { DurationSchema } from './duration.js';

/**
 * Alert rules are data: a YAML file of `rules` and `inhibit` entries, validated
 * here with every problem listed by file and path. The built-in defaults are such a file
 * (default-rules.yaml); a site's own files add rules, or replace a default by reusing its id.
 *
 * Kinds: `kpi` (a KPI window against the site target or a number), `device_status`,
 * `agent_offline`, `stale` (a point without fresh data), `reading` (threshold bands or a state),
 * `rate_of_change`, `counter_reset` (flagged by the energy ledger).
 */

/** The contract's alert severities (contract/messages.ts). */
export const SeveritySchema = AlertSeveritySchema;
export type Severity = AlertSeverity;
export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/** Rule ids end up in alert ids (`<rule>-<hash>`, at most 64 characters): keep them short. */
export const RuleIdSchema = IdSchema.refine((s) => s.length <= 40, { message: 'a rule id has at most 40 characters' });

/** Prometheus label names; the `__` prefix is reserved there. */
export const LabelNameSchema = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected a label name [A-Za-z_][A-Za-z0-9_]*')
  .refine((s) => !s.startsWith('__'), { message: 'label names starting with __ are reserved' });

/** Labels the engine sets itself; a rule's static `labels` may not override them. */
export const RESERVED_LABELS = ['alertname', 'severity', 'site', 'hall', 'rack', 'rack_group', 'device', 'point', 'agent', 'kpi', 'window', 'rule'] as const;

/** Where an alert is raised: per device, or once for a rack, a rack group (cooling pod), a hall or the site. */
export const ScopeSchema = z.enum(['device', 'rack', 'rack_group', 'hall', 'site']);
export type Scope = z.infer<typeof ScopeSchema>;

export const RuleKindSchema = z.enum(['kpi', 'device_status', 'agent_offline', 'stale', 'reading', 'rate_of_change', 'counter_reset']);
export type RuleKind = z.infer<typeof RuleKindSchema>;

const ids = (what: z.ZodType<string>) => z.array(what).min(1);

/** Which devices a device rule looks at; every key narrows, an absent key matches all. */
export const DeviceMatchSchema = z
  .object({
    sites: ids(IdSchema).optional(),
    halls: ids(IdSchema).optional(),
    racks: ids(IdSchema).optional(),
    rack_groups: ids(IdSchema).optional(),
    devices: ids(IdSchema).optional(),
    classes: ids(DeviceClassSchema).optional(),
    profiles: ids(IdSchema).optional(),
    roles: ids(MeterRoleSchema).optional(),
  })
  .strict();
export type DeviceMatch = z.infer<typeof DeviceMatchSchema>;

export const SiteMatchSchema = z.object({ sites: ids(IdSchema).optional() }).strict();

const common = {
  id: RuleIdSchema,
  /** The `alertname` label (Alertmanager routing, silences); default: the id in PascalCase. */
  name: LabelNameSchema.optional(),
  /** The condition must hold this long before the alert fires (pending until then). */
  for: DurationSchema.default(0),
  /** Static labels for routing (team, service …). */
  labels: z.record(LabelNameSchema, z.string().max(200)).default({}),
  /** One line, with {placeholders}; becomes the `summary` annotation. */
  summary: z.string().min(1).max(300),
  description: z.string().max(2000).optional(),
  /** What the on-call engineer does first (text), and/or a link to the full runbook. */
  runbook: z.string().max(2000).optional(),
  runbook_url: z.string().regex(/^https?:\/\/\S+$/, 'expected an http(s) URL').optional(),
};

const pointSelector = {
  /** A reading's point name (`inlet_temp_c`) … */
  point: PointNameSchema.optional(),
  /** … or every point whose profile gives it this KPI meaning (`inlet_temp_c`). */
  meaning: KpiMeaningSchema.optional(),
};

/** `target`: the site's target for the KPI (inventory `targets`), as carried in the KPI value. */
const LimitSchema = z.union([z.number().finite(), z.literal('target')]);

export const KpiRuleSchema = z
  .object({
    ...common,
    kind: z.literal('kpi'),
    kpi: PointNameSchema,
    window: KpiWindowSchema,
    above: LimitSchema.optional(),
    below: LimitSchema.optional(),
    hysteresis: z.number().min(0).default(0),
    severity: SeveritySchema,
    match: SiteMatchSchema.optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    if (r.above === undefined && r.below === undefined) ctx.addIssue({ code: 'custom', message: 'name a limit: above or below (a number or "target")', path: ['above'] });
    // The live figure is instantaneous: target verdicts are made on energy windows only.
    if (r.window === 'instant' && (r.above === 'target' || r.below === 'target'))
      ctx.addIssue({ code: 'custom', message: 'a target breach needs an energy window (15m … 1y); instant values are never target verdicts', path: ['window'] });
  });

export const DeviceStatusRuleSchema = z
  .object({
    ...common,
    kind: z.literal('device_status'),
    states: z.array(DeviceStateSchema.exclude(['up'])).min(1).default(['down']),
    severity: SeveritySchema,
    match: DeviceMatchSchema.optional(),
  })
  .strict();

export const AgentOfflineRuleSchema = z
  .object({ ...common, kind: z.literal('agent_offline'), severity: SeveritySchema, match: SiteMatchSchema.optional() })
  .strict();

export const StaleRuleSchema = z
  .object({
    ...common,
    ...pointSelector,
    kind: z.literal('stale'),
    /** No data for this long; default per device max(3 × poll interval, 5 min), as for the KPIs. */
    after: DurationSchema.optional(),
    severity: SeveritySchema,
    match: DeviceMatchSchema.optional(),
  })
  .strict();

/** Outside (above / below) is a breach; at the limit is not. */
export const BandSchema = z
  .object({ above: z.number().finite().optional(), below: z.number().finite().optional() })
  .strict()
  .refine((b) => b.above !== undefined || b.below !== undefined, { message: 'a band needs above and/or below' })
  .refine((b) => b.above === undefined || b.below === undefined || b.below < b.above, { message: 'below must be less than above', path: ['below'] });
export type Band = z.infer<typeof BandSchema>;

export const ReadingRuleSchema = z
  .object({
    ...common,
    ...pointSelector,
    kind: z.literal('reading'),
    scope: ScopeSchema.default('device'),
    /** Numeric bands per severity, e.g. warning outside 18–27, critical outside 15–32. */
    bands: z.partialRecord(SeveritySchema, BandSchema).optional(),
    /** Or a state: the alert holds while the value equals this (alarm bits, enum states). */
    equals: z.union([z.boolean(), z.number().finite(), z.string().min(1)]).optional(),
    severity: SeveritySchema.optional(),
    hysteresis: z.number().min(0).default(0),
    match: DeviceMatchSchema.optional(),
  })
  .strict();

export const RateOfChangeRuleSchema = z
  .object({
    ...common,
    ...pointSelector,
    kind: z.literal('rate_of_change'),
    scope: ScopeSchema.default('device'),
    /** The change is measured against the samples of this trailing window. */
    over: DurationSchema.refine((ms) => ms >= 60_000, { message: 'at least 1m' }),
    /** A change larger than this (in the point's unit) is a breach. */
    delta: z.number().positive(),
    direction: z.enum(['rise', 'fall', 'both']).default('both'),
    hysteresis: z.number().min(0).default(0),
    severity: SeveritySchema,
    match: DeviceMatchSchema.optional(),
  })
  .strict();

export const CounterResetRuleSchema = z
  .object({
    ...common,
    kind: z.literal('counter_reset'),
    /** A reset is an event: the alert resolves by itself this long after the last one. */
    keep_firing_for: DurationSchema.default(3_600_000),
    severity: SeveritySchema,
    match: DeviceMatchSchema.optional(),
  })
  .strict();

export const AlertRuleSchema = z
  .discriminatedUnion('kind', [KpiRuleSchema, DeviceStatusRuleSchema, AgentOfflineRuleSchema, StaleRuleSchema, ReadingRuleSchema, RateOfChangeRuleSchema, CounterResetRuleSchema])
  .superRefine((r, ctx) => {
    for (const name of Object.keys(r.labels)) {
      if ((RESERVED_LABELS as readonly string[]).includes(name)) ctx.addIssue({ code: 'custom', message: `label ${name} is set by the engine`, path: ['labels', name] });
    }
    if (r.kind === 'stale' || r.kind === 'reading' || r.kind === 'rate_of_change') {
      if ((r.point === undefined) === (r.meaning === undefined)) ctx.addIssue({ code: 'custom', message: 'name exactly one of point or meaning', path: ['point'] });
    }
    if (r.kind === 'reading') checkReadingRule(r, ctx);
  });
export type AlertRule = z.infer<typeof AlertRuleSchema>;
export type KpiRule = z.infer<typeof KpiRuleSchema>;
export type DeviceStatusRule = z.infer<typeof DeviceStatusRuleSchema>;
export type AgentOfflineRule = z.infer<typeof AgentOfflineRuleSchema>;
export type StaleRule = z.infer<typeof StaleRuleSchema>;
export type ReadingRule = z.infer<typeof ReadingRuleSchema>;
export type RateOfChangeRule = z.infer<typeof RateOfChangeRuleSchema>;
export type CounterResetRule = z.infer<typeof CounterResetRuleSchema>;

function checkReadingRule(r: ReadingRule, ctx: z.RefinementCtx): void {
  const hasBands = r.bands !== undefined && Object.keys(r.bands).length > 0;
  if (hasBands === (r.equals !== undefined)) {
    ctx.addIssue({ code: 'custom', message: 'name exactly one of bands (numeric thresholds) or equals (a state)', path: ['bands'] });
    return;
  }
  if (r.equals !== undefined) {
    if (r.severity === undefined) ctx.addIssue({ code: 'custom', message: 'a state rule (equals) needs a severity', path: ['severity'] });
    if (r.scope !== 'device') ctx.addIssue({ code: 'custom', message: 'a state rule (equals) is per device', path: ['scope'] });
    return;
  }
  if (r.severity !== undefined) ctx.addIssue({ code: 'custom', message: 'with bands the severity is the band name; remove severity', path: ['severity'] });
  const bands = r.bands ?? {};
  // A more severe band must lie outside a milder one, or the milder would never be reached first.
  const order = (['info', 'warning', 'critical'] as const).filter((s) => bands[s] !== undefined);
  for (let i = 1; i < order.length; i++) {
    const mild = bands[order[i - 1] as Severity] as Band;
    const severe = bands[order[i] as Severity] as Band;
    const sev = order[i] as Severity;
    if (mild.above !== undefined && severe.above !== undefined && !(severe.above > mild.above))
      ctx.addIssue({ code: 'custom', message: `${sev}.above must be above ${order[i - 1]}.above (${mild.above})`, path: ['bands', sev, 'above'] });
    if (mild.below !== undefined && severe.below !== undefined && !(severe.below < mild.below))
      ctx.addIssue({ code: 'custom', message: `${sev}.below must be below ${order[i - 1]}.below (${mild.below})`, path: ['bands', sev, 'below'] });
  }
  for (const s of order) {
    const b = bands[s] as Band;
    if (b.above !== undefined && b.below !== undefined && r.hysteresis * 2 >= b.above - b.below)
      ctx.addIssue({ code: 'custom', message: `hysteresis ${r.hysteresis} is too wide for the ${s} band ${b.below}–${b.above}`, path: ['hysteresis'] });
  }
}

/** Selects alerts by rule id, rule kind and/or severity; every given key must match. */
export const AlertMatcherSchema = z
  .object({
    rules: ids(RuleIdSchema).optional(),
    kinds: ids(RuleKindSchema).optional(),
    severity: ids(SeveritySchema).optional(),
  })
  .strict()
  .refine((m) => m.rules !== undefined || m.kinds !== undefined || m.severity !== undefined, { message: 'name rules, kinds and/or severity' });
export type AlertMatcher = z.infer<typeof AlertMatcherSchema>;

/**
 * While a `source` alert fires, `target` alerts whose `equal` labels have the same values (an
 * absent label equals an absent one) do not fire: one alert per root cause. As in Alertmanager,
 * except that `agent` is also matched through the agent that polls a target's device.
 */
export const InhibitRuleSchema = z
  .object({
    source: AlertMatcherSchema,
    target: AlertMatcherSchema,
    equal: z.array(LabelNameSchema).min(1),
  })
  .strict();
export type InhibitRule = z.infer<typeof InhibitRuleSchema>;

export const RulesFileSchema = z
  .object({
    rules: z.array(AlertRuleSchema).default([]),
    /** Rule ids (of the defaults or an earlier file) to switch off. */
    disable: z.array(RuleIdSchema).default([]),
    inhibit: z.array(InhibitRuleSchema).default([]),
  })
  .strict();
