import { z } from 'zod';
import { IdSchema } from '../../contract/ids.js';
import type { AlertRecord } from './alert-record.js';
import { SeveritySchema } from './rule-schema.js';

/**
 * The alert as others see it: the retained payload of `dcim/v1/<site>/alerts/<id>` (DESIGN.md §2),
 * the webhook's `alert`, and an entry of `/api/alerts`. Times in ms since the epoch.
 * (Proposed for contract/messages.ts as `AlertMessageSchema`; defined here until it moves.)
 */
export const AlertMessageSchema = z
  .object({
    schema: z.literal(1),
    id: IdSchema,
    site: IdSchema,
    rule: IdSchema,
    name: z.string().min(1),
    severity: SeveritySchema,
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

/** A record as the message of its current state (`as` forces the state a notifier delivers). */
export function alertMessage(r: AlertRecord, as: AlertMessage['state'] = r.state): AlertMessage {
  const episode = as !== 'pending';
  return {
    schema: 1,
    id: r.id,
    site: r.labels.site ?? '',
    rule: r.rule,
    name: r.name,
    severity: r.severity,
    state: as,
    labels: { ...r.labels },
    summary: r.summary,
    ...(r.description ? { description: r.description } : {}),
    ...(r.runbook !== null ? { runbook: r.runbook } : {}),
    ...(r.runbook_url !== null ? { runbook_url: r.runbook_url } : {}),
    ...(r.value !== null ? { value: r.value } : {}),
    ...(episode && r.starts_at !== null ? { starts_at: r.starts_at } : {}),
    ...(as === 'resolved' && r.ends_at !== null ? { ends_at: r.ends_at } : {}),
    ...(as === 'pending' && r.pending_since !== null ? { pending_since: r.pending_since } : {}),
    ...(as === 'pending' && r.inhibited ? { inhibited: true } : {}),
    ts: r.updated_at,
  };
}
