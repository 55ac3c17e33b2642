import type { AlertMessage } from '../../contract/messages.js';
import type { AlertRecord } from './alert-record.js';

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
