import type { AlertRecord, AlertTransition } from './alert-record.js';
import { candidatesOf, type Candidate, type ConditionContext } from './conditions.js';
import { inhibitorOf, supersedes, type InhibitSubject } from './inhibition.js';
import { step, supersede, type Evaluation, type StepResult } from './lifecycle.js';
import type { AlertRuleSet } from './load-rules.js';
import type { AlertRule } from './rule-schema.js';

/**
 * One evaluation of every rule, pure: the records before, what was observed and now → the records
 * after and the transitions (fired, resolved) in a stable order.
 *
 * Inhibition is decided in two passes, so a source that fires in this very evaluation (device
 * down) already holds back its targets (the device's stale sensor): first every alert steps as if
 * nothing were inhibited; the alerts firing after that pass are the sources; then each alert that
 * would newly fire is stepped again with the verdict. An alert already firing keeps firing when a
 * source of another root cause appears later (it was announced; it resolves on its own condition),
 * but a source that is the same condition, worse (the critical band after the warning, which
 * nested bands make the usual order) supersedes it: the milder alert resolves and waits held back.
 */
export interface EvaluateResult {
  records: Map<string, AlertRecord>;
  transitions: AlertTransition[];
}

function unknownOf(prev: AlertRecord): Evaluation {
  return { status: 'unknown', summary: prev.summary, description: prev.description, runbook: prev.runbook, runbook_url: prev.runbook_url };
}

export function evaluateAlerts(set: AlertRuleSet, ctx: ConditionContext, before: ReadonlyMap<string, AlertRecord>): EvaluateResult {
  const rules = new Map<string, AlertRule>(set.rules.map((r) => [r.id, r]));
  const forOf = (rule: string) => rules.get(rule)?.for ?? 0;

  interface Work {
    prev: AlertRecord | undefined;
    candidate: Candidate | undefined;
    ev: Evaluation;
    first: StepResult;
  }
  const work = new Map<string, Work>();
  for (const rule of set.rules) {
    for (const c of candidatesOf(ctx, rule)) {
      if (work.has(c.identity.id)) continue;
      const prev = before.get(c.identity.id);
      const ev = c.evaluate(prev);
      work.set(c.identity.id, { prev, candidate: c, ev, first: step(prev, c.identity, ev, ctx.now, rule.for, false) });
    }
  }
  // Alerts no rule produced this time: their rule is gone (config change) or their place has no data.
  for (const [id, prev] of before) {
    if (work.has(id)) continue;
    if (!rules.has(prev.rule)) {
      const gone: Evaluation = { ...unknownOf(prev), status: 'clear' };
      work.set(id, { prev, candidate: undefined, ev: gone, first: step(prev, prev, gone, ctx.now, 0, false) });
    } else {
      const ev = unknownOf(prev);
      work.set(id, { prev, candidate: undefined, ev, first: step(prev, prev, ev, ctx.now, forOf(prev.rule), false) });
    }
  }

  const subject = (r: AlertRecord): InhibitSubject | undefined => {
    const rule = rules.get(r.rule);
    return rule ? { id: r.id, rule: r.rule, kind: rule.kind, severity: r.severity, labels: r.labels } : undefined;
  };
  const firing = [...work.values()].flatMap((w) => (w.first.record?.state === 'firing' ? [subject(w.first.record)].filter((s): s is InhibitSubject => s !== undefined) : []));
  const pollerOf = (site: string, device: string) => ctx.observed.pollerOf(site, device);

  const records = new Map<string, AlertRecord>();
  const transitions: AlertTransition[] = [];
  for (const [id, w] of work) {
    let result = w.first;
    const c = w.candidate;
    if (c && w.ev.status === 'breach' && set.inhibit.length > 0) {
      const rule = c.rule;
      const target: InhibitSubject = { id, rule: rule.id, kind: rule.kind, severity: c.identity.severity, labels: c.identity.labels };
      if (w.prev?.state !== 'firing') {
        if (inhibitorOf(target, firing, set.inhibit, pollerOf) !== undefined) result = step(w.prev, c.identity, w.ev, ctx.now, rule.for, true);
      } else if (w.first.record?.state === 'firing' && inhibitorOf(target, firing, set.inhibit, pollerOf, supersedes) !== undefined) {
        result = supersede(w.first.record, ctx.now, rule.for);
      }
    }
    if (result.record) records.set(id, result.record);
    if (result.transition && result.record) transitions.push({ kind: result.transition, alert: result.record, at_ms: ctx.now });
  }
  transitions.sort((a, b) => (a.kind === b.kind ? (a.alert.id < b.alert.id ? -1 : 1) : a.kind === 'resolved' ? -1 : 1));
  return { records, transitions };
}
