import type { AlertRecord } from './alert-record.js';
import type { Severity } from './rule-schema.js';

/**
 * The life of one alert, as a pure step: the previous record, this evaluation, now → the next
 * record and the transition, if any.
 *
 *   (none) ─breach─▶ pending ─breach for `for`─▶ firing ─clear─▶ resolved ─breach─▶ pending …
 *                      └──clear──▶ (gone)              └─unknown: stays firing
 *
 * `unknown` (no fresh data, KPI quality insufficient) never raises an alert and never resolves
 * one: missing data is not evidence that the problem is over. A pending alert keeps its hold
 * through unknown evaluations for a while (a restart, a missed poll), then is dropped. Hysteresis is applied by the
 * condition (a firing alert clears only past the limit minus the hysteresis), so a value
 * wandering inside the band cannot make the alert flap.
 */
export type Status = 'breach' | 'clear' | 'unknown';

/** How long a pending alert survives evaluations without data before its hold is dropped. */
export const PENDING_UNKNOWN_GRACE_MS = 10 * 60_000;

export interface Evaluation {
  status: Status;
  value?: number | undefined;
  summary: string;
  description: string;
  runbook: string | null;
  runbook_url: string | null;
  /** An event happened now (counter reset): restarts `keep_firing_for`. */
  event?: boolean;
}

export interface Identity {
  id: string;
  rule: string;
  name: string;
  severity: Severity;
  labels: Record<string, string>;
}

export interface StepResult {
  record: AlertRecord | undefined;
  transition?: 'firing' | 'resolved';
}

export function step(prev: AlertRecord | undefined, who: Identity, ev: Evaluation, now: number, for_ms: number, inhibited: boolean): StepResult {
  const texts = {
    summary: ev.summary,
    description: ev.description,
    runbook: ev.runbook,
    runbook_url: ev.runbook_url,
  };
  const value = ev.value !== undefined && Number.isFinite(ev.value) ? ev.value : (prev?.value ?? null);
  const last_event_at = ev.event ? now : (prev?.last_event_at ?? null);

  if (ev.status === 'breach') {
    if (prev?.state === 'firing') return { record: { ...prev, ...texts, value, last_event_at, inhibited, updated_at: now } };
    const pending_since = prev?.state === 'pending' && prev.pending_since !== null ? prev.pending_since : now;
    const base: AlertRecord = prev ?? {
      ...who,
      state: 'pending',
      pending_since,
      starts_at: null,
      ends_at: null,
      value,
      ...texts,
      inhibited: false,
      last_event_at,
      version: 0,
      changed_at: now,
      delivered: {},
      updated_at: now,
    };
    if (now - pending_since >= for_ms && !inhibited) {
      return {
        record: { ...base, ...who, ...texts, state: 'firing', pending_since: null, starts_at: now, ends_at: null, value, last_event_at, inhibited: false, version: base.version + 1, changed_at: now, updated_at: now },
        transition: 'firing',
      };
    }
    return { record: { ...base, ...who, ...texts, state: 'pending', pending_since, value, last_event_at, inhibited, updated_at: now } };
  }

  if (!prev) return { record: undefined };
  if (prev.state === 'firing') {
    if (ev.status === 'unknown') return { record: { ...prev, updated_at: now } };
    return { record: { ...prev, state: 'resolved', ends_at: now, inhibited: false, last_event_at, version: prev.version + 1, changed_at: now, updated_at: now }, transition: 'resolved' };
  }
  if (prev.state === 'pending') {
    // Data missing for a moment (or a restart, before the first readings): the hold is kept, but
    // not for ever; `updated_at` is the last evaluation that knew.
    if (ev.status === 'unknown' && now - prev.updated_at <= Math.max(for_ms, PENDING_UNKNOWN_GRACE_MS)) return { record: prev };
    // Never fired in this episode: nothing to announce. An earlier episode stays as it was.
    if (prev.starts_at === null) return { record: undefined };
    return { record: { ...prev, state: 'resolved', pending_since: null, inhibited: false, updated_at: now } };
  }
  return { record: prev };
}

/**
 * A firing alert that a worse alert of the same condition and place now covers (the critical band
 * of a rule whose warning fired first): its episode ends, announced as resolved, and it waits held
 * back (`pending`, `inhibited`) with its hold already complete, so it fires again at once when the
 * worse alert resolves while its own condition still holds (de-escalation without a gap).
 */
export function supersede(current: AlertRecord, now: number, for_ms: number): StepResult {
  const held_since = Math.min(now, (current.starts_at ?? now) - for_ms);
  return {
    record: { ...current, state: 'pending', pending_since: held_since, ends_at: now, inhibited: true, version: current.version + 1, changed_at: now, updated_at: now },
    transition: 'resolved',
  };
}

/**
 * The last episode ended while its condition still held, because a worse alert took over: its
 * present hold began before that end (a normal resolve is followed by a hold that starts later).
 */
export function wasSuperseded(r: AlertRecord): boolean {
  return r.state === 'pending' && r.pending_since !== null && r.ends_at !== null && r.pending_since < r.ends_at;
}

/** What a notifier should show for a record: firing, resolved (also while a new episode is only pending), or nothing. */
export function deliverableState(r: AlertRecord): 'firing' | 'resolved' | undefined {
  if (r.state === 'firing') return 'firing';
  if (r.starts_at !== null && r.ends_at !== null) return 'resolved';
  return undefined;
}
