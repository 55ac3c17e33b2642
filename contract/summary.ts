import { z } from 'zod';
import { IdSchema } from './ids.js';
import { KpiValueSchema } from './messages.js';

/**
 * A site's KPI summary (docs/federation.md): what a site collector tells the bureau about one
 * closed window, instead of its raw telemetry. It carries the energy sums of every meter group
 * (not only the ratios), so a bureau can add sites and windows up and get the same figure one
 * collector fed every site's raw data would compute; the occupancy counts of a day; the compute
 * installed when it was built; the green electricity declared for a month; and the site's own KPI
 * values of the window, as its API shows them.
 *
 * Published QoS 1 and retained on `dcim/v1/<site>/summary/<window>`. The same window with the same
 * content is the same message; late data that changes a closed window republishes it with a
 * higher `revision`.
 */

/**
 * Meter groups whose energy a site sums (docs/design.md §4). `it` holds the IT meters at the
 * site's PUE level only; green on-site generation is split by whether the incomers see it.
 */
export const METER_GROUPS = ['facility_in', 'export', 'green_feed', 'green_onsite_behind', 'green_onsite_front', 'it', 'cooling', 'other'] as const;
export type MeterGroup = (typeof METER_GROUPS)[number];

/** The windows a site summarises: closed quarter hours, hours, local days and calendar months. */
export const SUMMARY_WINDOWS = ['15m', '1h', '1d', '1mo'] as const;
export const SummaryWindowSchema = z.enum(SUMMARY_WINDOWS);
export type SummaryWindow = z.infer<typeof SummaryWindowSchema>;

/** At most this far a rounding error may take an energy sum below zero (kWh). */
const KWH_FLOOR = -1e-6;

/**
 * One meter group's sums over the window: energy, the meter-time its readings covered, the
 * counter resets and spikes booked, the meters the inventory declares in the group, and the
 * silent tail (meter-time after a silent meter's newest reading up to the window end, and that
 * time at the meter's last rate: the first candidate for substitution).
 */
export const GroupSumSchema = z
  .object({
    kwh: z.number().finite().min(KWH_FLOOR),
    covered_ms: z.number().finite().min(0),
    resets: z.number().int().min(0),
    spikes: z.number().int().min(0),
    meters: z.number().int().min(0).max(1_000_000),
    silent_tail_ms: z.number().finite().min(0),
    silent_tail_kwh: z.number().finite().min(KWH_FLOOR),
  })
  .strict();
export type GroupSumSummary = z.infer<typeof GroupSumSchema>;

export const GroupSumsSchema = z.object(Object.fromEntries(METER_GROUPS.map((g) => [g, GroupSumSchema])) as Record<MeterGroup, typeof GroupSumSchema>).strict();

/** A local day's rack counts (occupancy 上架率 and its standard-rack figures). */
export const OccupancyCountsSchema = z
  .object({
    racks_available: z.number().int().min(0),
    racks_on: z.number().int().min(0),
    racks_metered: z.number().int().min(0),
    racks_reserved: z.number().int().min(0),
    racks_planned: z.number().int().min(0),
    rated_kw_available: z.number().finite().min(0),
    rated_kw_on: z.number().finite().min(0),
    /** Observed quarter hours / (metered racks × quarter hours of the day). */
    coverage: z.number().min(0).max(1),
  })
  .strict();

/** Installed compute when the summary was built (accelerators FP16 dense, CPUs FP32). */
export const ComputeCountsSchema = z
  .object({
    ai_tflops: z.number().finite().min(0),
    accelerators: z.number().int().min(0),
    accelerators_unknown: z.number().int().min(0),
    general_tflops: z.number().finite().min(0),
    cpus: z.number().int().min(0),
    cpus_unknown: z.number().int().min(0),
    /** Mean utilisation of the accelerators reporting one; absent when none does. */
    utilisation_pct: z.number().min(0).max(100).optional(),
    accelerators_reporting: z.number().int().min(0),
    unknown_models: z.array(z.string().max(200)).max(100),
    /** When these figures were taken, ms. */
    at_ms: z.number().int().positive(),
  })
  .strict();

/** One green certificate lot (× 1,000 kWh) or settled trade, with the period it is declared for. */
const DeclaredItemSchema = z
  .object({
    id: z.string().min(1).max(200),
    /** The month it is declared for, `YYYY-MM`. */
    period: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/),
    kwh: z.number().finite().min(0),
  })
  .strict();

/**
 * Green electricity the site declares (certificates × 1,000 kWh, settled trades), each item with
 * its id, so a bureau counts a certificate two sites both declare once, and its month.
 */
export const DeclaredGreenSchema = z
  .object({
    certificates: z.array(DeclaredItemSchema).max(1000),
    trades: z.array(DeclaredItemSchema).max(1000),
  })
  .strict();

export const SiteSummarySchema = z
  .object({
    schema: z.literal(1),
    site: IdSchema,
    window: SummaryWindowSchema,
    window_start: z.number().int(),
    window_end: z.number().int(),
    /** Local calendar name of the window: `YYYY-MM-DD` for 1d, `YYYY-MM` for 1mo. */
    period: z
      .string()
      .regex(/^\d{4}-\d{2}(-\d{2})?$/)
      .optional(),
    timezone: z.string().min(1).max(64),
    /** Grows whenever the window's content changes (the publisher's clock when it changed, ms). */
    revision: z.number().int().positive(),
    generated_ms: z.number().int().positive(),
    /** PUE measurement category of the site's IT level, 1|2|3. */
    category: z.number().int().min(1).max(3).optional(),
    targets: z.object({ pue: z.number().finite(), rack_occupancy: z.number().finite(), green_share: z.number().finite() }).strict(),
    /** Rated power of the available racks, kW (IT-load utilisation's denominator). */
    rated_kw_available: z.number().finite().min(0),
    groups: GroupSumsSchema,
    /** 1d only: the day's rack counts. */
    occupancy: OccupancyCountsSchema.optional(),
    /** 15m and 1d: the compute installed when the window closed (absent on windows built later). */
    compute: ComputeCountsSchema.optional(),
    /** 1d and 1mo: green electricity declared for the window's month. */
    declared: DeclaredGreenSchema.optional(),
    /** The site's own KPI values of this window. */
    kpis: z.array(KpiValueSchema).max(64),
  })
  .strict();
export type SiteSummary = z.infer<typeof SiteSummarySchema>;
export type OccupancyCounts = z.infer<typeof OccupancyCountsSchema>;
export type ComputeCounts = z.infer<typeof ComputeCountsSchema>;
export type DeclaredGreenItems = z.infer<typeof DeclaredGreenSchema>;

/** Largest summary payload a receiver accepts, bytes. */
export const MAX_SUMMARY_BYTES = 256 * 1024;
