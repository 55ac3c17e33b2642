import { z } from 'zod';
import { IdSchema } from '../../contract/ids.js';
import { RuleIdSchema, SeveritySchema } from './rule-schema.js';

/**
 * One alert: a rule applied to one label set, across its episodes (pending → firing → resolved,
 * and again). This is what the state file keeps, so a restart neither re-fires nor forgets, and
 * what each notifier's delivery is booked against: `version` grows with every firing and
 * resolved transition, `delivered[notifier]` is the version that notifier has acknowledged.
 */
export const AlertStateSchema = z.enum(['pending', 'firing', 'resolved']);
export type AlertState = z.infer<typeof AlertStateSchema>;

export const AlertRecordSchema = z.object({
  id: IdSchema,
  rule: RuleIdSchema,
  name: z.string(),
  severity: SeveritySchema,
  labels: z.record(z.string(), z.string()),
  state: AlertStateSchema,
  /** When the condition started to hold (the pending phase); null when not pending. */
  pending_since: z.number().int().nullable(),
  /** The current (or last) episode: fired at, resolved at. */
  starts_at: z.number().int().nullable(),
  ends_at: z.number().int().nullable(),
  /** The value behind the latest evaluation of a firing or pending alert, when numeric. */
  value: z.number().finite().nullable(),
  summary: z.string(),
  description: z.string(),
  runbook: z.string().nullable(),
  runbook_url: z.string().nullable(),
  /** Held back by a firing alert of an inhibit rule's source (never fired because of it). */
  inhibited: z.boolean(),
  /** Last event of an event rule (counter reset), for `keep_firing_for`. */
  last_event_at: z.number().int().nullable(),
  version: z.number().int().nonnegative(),
  /** When `version` last changed: deliveries older than the expiry are given up. */
  changed_at: z.number().int(),
  delivered: z.record(z.string(), z.number().int().nonnegative()),
  updated_at: z.number().int(),
});
export type AlertRecord = z.infer<typeof AlertRecordSchema>;

/** A firing or resolved transition, as handed to the store and the notifiers. */
export interface AlertTransition {
  kind: 'firing' | 'resolved';
  alert: AlertRecord;
  at_ms: number;
}
