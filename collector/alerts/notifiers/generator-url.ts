import type { AlertRecord } from '../alert-record.js';

/** A link template with {id}, {site}, {rule}, values URL-encoded: where an alert can be looked at. */
export function renderGeneratorUrl(template: string, r: Pick<AlertRecord, 'id' | 'rule' | 'labels'>): string {
  const values: Record<string, string> = { id: r.id, site: r.labels.site ?? '', rule: r.rule };
  return template.replace(/\{(id|site|rule)\}/g, (_, k: string) => encodeURIComponent(values[k] ?? ''));
}
