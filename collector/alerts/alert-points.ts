import type { MetricPoint } from '../store/metric-point.js';
import type { AlertTransition } from './alert-record.js';

/**
 * Alert transitions as time-series points (measurement `alert`), one per firing and
 * one per resolve, stamped when it happened: Grafana shows them as annotations
 * (`SELECT "summary", "state" FROM "alert" WHERE $timeFilter AND "site" = '$site'`); a resolved
 * point carries how long the alert fired, for region annotations. The alert id is a field, not
 * a tag: tags stay bounded identity.
 */
export function alertPoint(t: AlertTransition): MetricPoint {
  const a = t.alert;
  const l = a.labels;
  const duration_s = t.kind === 'resolved' && a.starts_at !== null && a.ends_at !== null ? (a.ends_at - a.starts_at) / 1000 : undefined;
  return {
    measurement: 'alert',
    tags: {
      site: l.site,
      rule: a.rule,
      severity: a.severity,
      hall: l.hall,
      rack_group: l.rack_group,
      rack: l.rack,
      device: l.device,
    },
    fields: {
      state: t.kind,
      summary: a.summary,
      alert_id: a.id,
      ...(a.value !== null ? { value: a.value } : {}),
      ...(duration_s !== undefined ? { duration_s } : {}),
    },
    ts_ms: t.at_ms,
  };
}

export const alertPoints = (transitions: readonly AlertTransition[]): MetricPoint[] => transitions.map(alertPoint);
