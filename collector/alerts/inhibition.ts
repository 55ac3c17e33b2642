import { SEVERITY_RANK, type AlertMatcher, type InhibitRule, type RuleKind, type Severity } from './rule-schema.js';

/**
 * One alert per root cause: a target alert does not fire while a source alert of an inhibit rule
 * fires with the same values of the rule's `equal` labels (absent equals absent, as in
 * Alertmanager). `agent` also stands for the agent polling an alert's device, learned from
 * telemetry, so "agent offline" holds back its devices' alerts without an agent label on them
 * (which would change their ids whenever a device moves to another agent).
 */
export interface InhibitSubject {
  id: string;
  rule: string;
  kind: RuleKind;
  severity: Severity;
  labels: Readonly<Record<string, string>>;
}

export type PollerLookup = (site: string, device: string) => string | undefined;

export function matches(m: AlertMatcher, a: InhibitSubject): boolean {
  return (m.rules === undefined || m.rules.includes(a.rule)) && (m.kinds === undefined || m.kinds.includes(a.kind)) && (m.severity === undefined || m.severity.includes(a.severity));
}

function labelOf(a: InhibitSubject, name: string, pollerOf: PollerLookup): string | undefined {
  const v = a.labels[name];
  if (v !== undefined || name !== 'agent') return v;
  const { site, device } = a.labels;
  return site !== undefined && device !== undefined ? pollerOf(site, device) : undefined;
}

/**
 * A source that states the target's own condition, worse: the same alertname (a band of the same
 * rule, or rules named alike) at a higher severity. Only such a source ends an alert that is
 * already firing; a different root cause (device down, agent offline) holds back only alerts not
 * yet announced, because an announced alert is ended by its own condition, never by missing data.
 */
export function supersedes(src: InhibitSubject, target: InhibitSubject): boolean {
  return src.labels.alertname !== undefined && src.labels.alertname === target.labels.alertname && SEVERITY_RANK[src.severity] > SEVERITY_RANK[target.severity];
}

/** The first firing source that holds `target` back (and passes `also`, when given), or undefined. */
export function inhibitorOf(
  target: InhibitSubject,
  firing: readonly InhibitSubject[],
  rules: readonly InhibitRule[],
  pollerOf: PollerLookup,
  also?: (src: InhibitSubject, target: InhibitSubject) => boolean,
): InhibitSubject | undefined {
  for (const r of rules) {
    if (!matches(r.target, target)) continue;
    for (const src of firing) {
      if (src.id === target.id || !matches(r.source, src) || (also && !also(src, target))) continue;
      if (r.equal.every((name) => labelOf(src, name, pollerOf) === labelOf(target, name, pollerOf))) return src;
    }
  }
  return undefined;
}
