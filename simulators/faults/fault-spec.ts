import { z } from 'zod';
import { IdSchema } from '../../contract/index.js';

/**
 * The faults a simulated device can be told to have, in a seed (`devices[i].sim.faults`), in a
 * `--faults` file or over the control API (PUT). One schema for all three, so a typo is the same
 * error everywhere. Timing is in simulated seconds since the simulator started, so a scripted
 * fault happens at the same simulated moment whatever the speed.
 */

/** Modbus exception codes by their names in the Modbus Application Protocol v1.1b3 §7. */
export const MODBUS_EXCEPTION_CODES = {
  illegal_function: 1,
  illegal_data_address: 2,
  illegal_data_value: 3,
  server_device_failure: 4,
  server_device_busy: 6,
  gateway_path_unavailable: 10,
  gateway_target_failed: 11,
} as const;
export type ModbusExceptionName = keyof typeof MODBUS_EXCEPTION_CODES;

const Timing = {
  /** Simulated seconds after the start at which the fault begins; default: at once. */
  at_s: z.number().min(0).max(10 * 365 * 86_400).optional(),
  /** How long it lasts in simulated seconds; default: until removed. */
  for_s: z.number().positive().max(10 * 365 * 86_400).optional(),
};

const Probability = z.number().gt(0).max(1);

export const FaultSpecSchema = z.discriminatedUnion('kind', [
  /** No answer at all, to anything. */
  z.object({ kind: z.literal('offline'), ...Timing }).strict(),
  /** Every answer is late by delay_ms (+ up to jitter_ms). */
  z
    .object({
      kind: z.literal('slow'),
      delay_ms: z.number().int().min(1).max(120_000),
      jitter_ms: z.number().int().min(0).max(120_000).default(0),
      ...Timing,
    })
    .strict(),
  /** This share of requests gets no answer, so the client times out. */
  z.object({ kind: z.literal('timeout'), probability: Probability, ...Timing }).strict(),
  /** This share of Modbus requests is answered with the exception instead of data. */
  z
    .object({
      kind: z.literal('modbus_exception'),
      code: z.enum(Object.keys(MODBUS_EXCEPTION_CODES) as [ModbusExceptionName, ...ModbusExceptionName[]]),
      probability: Probability.default(1),
      ...Timing,
    })
    .strict(),
  /** Numbers read as nonsense (negative, zero, ×1000, …) in this share of model ticks. */
  z.object({ kind: z.literal('garbage'), probability: Probability.default(1), ...Timing }).strict(),
  /** Every value, counters included, stays at what it was when the fault began. */
  z.object({ kind: z.literal('stuck'), ...Timing }).strict(),
  /** Energy counters restart from 0 when the fault begins (a user reset on the device). */
  z.object({ kind: z.literal('counter_reset'), ...Timing }).strict(),
  /** Energy counters jump to headroom_kwh below their type's maximum, then wrap through 0. */
  z.object({ kind: z.literal('counter_rollover'), headroom_kwh: z.number().positive().default(1), ...Timing }).strict(),
  /** A new meter: energy counters restart from start_kwh. */
  z.object({ kind: z.literal('meter_swap'), start_kwh: z.number().min(0).default(12.5), ...Timing }).strict(),
  /** The device's clock is off by skew_s: SNMPv3 engine time, Redfish DateTime and Date header. */
  z
    .object({
      kind: z.literal('clock_skew'),
      skew_s: z
        .number()
        .int()
        .min(-10 * 365 * 86_400)
        .max(10 * 365 * 86_400)
        .refine((s) => s !== 0, 'a skew of 0 is no fault'),
      ...Timing,
    })
    .strict(),
  /** The equipment itself fails (a chiller or CRAH trips): the physical model reacts. */
  z.object({ kind: z.literal('equipment_failure'), ...Timing }).strict(),
]);
export type FaultSpec = z.infer<typeof FaultSpecSchema>;
export type FaultKind = FaultSpec['kind'];
export const FAULT_KINDS: readonly FaultKind[] = FaultSpecSchema.options.map((o) => o.shape.kind.value);

/** A device's faults: at most one per kind, since a second one of a kind would only override the first. */
export const DeviceFaultsSchema = z.array(FaultSpecSchema).superRefine((faults, ctx) => {
  const seen = new Set<string>();
  faults.forEach((f, i) => {
    if (seen.has(f.kind)) ctx.addIssue({ code: 'custom', message: `a second ${f.kind} fault; one per kind`, path: [i, 'kind'] });
    seen.add(f.kind);
  });
});

/**
 * `dcim sim --faults file`: faults by device id, optionally under a site id when several seeds
 * run at once (`sites: {guian: {pdu-1: [...]}}`).
 */
export const FaultsFileSchema = z
  .object({
    faults: z.record(IdSchema, DeviceFaultsSchema).default({}),
    sites: z.record(IdSchema, z.record(IdSchema, DeviceFaultsSchema)).default({}),
  })
  .strict();
export type FaultsFile = z.infer<typeof FaultsFileSchema>;
