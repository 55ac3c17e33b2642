import { ERROR_CODES, type Clock, type DeviceProfile, type ErrorCode, type Reading } from '../contract/index.js';
import { detectProfile, GENERIC_SNMP_PROFILE, probeOids, type Candidate, type DetectHow, type ProbeAnswers } from './detect.js';
import { isSubtreeProber, probeAnswers } from './snmp/snmp-probe.js';
import type { DeviceReader, PollResult, PollStats } from './device-reader.js';
import { judgePoll, type DeviceState } from './device-status.js';
import type { AgentDevice } from './devices.js';

/**
 * One poll of one device, outside any site: what `dcim poll` runs to check a device before it
 * joins an inventory (README "Onboarding a new device with dcim poll"). The reader comes from
 * the same factory the agent uses, so what this prints is what the agent would publish. The
 * report builders are pure; `pollOnce` and `detectOnce` only run the reader.
 */
export type ReaderFactory = (target: AgentDevice) => DeviceReader;

/** One-off polls get the scheduler's longest deadline: slow devices are what onboarding finds. */
export const POLL_ONCE_DEADLINE_MS = 30_000;

export interface ReportDevice {
  profile: string;
  class: string;
  vendor: string;
  model: string;
  protocol: string;
  /** Where and how it was reached, without secrets. */
  address: string;
}

export interface PollReport {
  device: ReportDevice;
  /** Poll start, ISO 8601 and ms since epoch. */
  ts: string;
  ts_ms: number;
  /** The device answered at least one request (state up or degraded). */
  answered: boolean;
  status: { state: DeviceState; code?: ErrorCode };
  poll: PollStats;
  summary: { readings: number; good: number; uncertain: number; bad: number };
  /** As the agent would publish them, each with a `display` text (profile precision and unit). */
  readings: (Reading & { display: string })[];
  /** Every error code among the readings: how many readings, and what it means. */
  errors: Partial<Record<ErrorCode, { readings: number; meaning: string }>>;
}

export function describeAddress(target: AgentDevice): string {
  const a = target.device.address;
  switch (a.protocol) {
    case 'snmp':
      return a.version === '3'
        ? `snmp v3 ${a.host}:${a.port} user ${a.user ?? '?'}${a.auth_protocol ? ` auth ${a.auth_protocol}` : ''}${a.priv_protocol ? ` priv ${a.priv_protocol}` : ''}${a.context ? ` context ${a.context}` : ''}`
        : `snmp v${a.version} ${a.host}:${a.port}`;
    case 'modbus':
      return `modbus ${a.transport} ${a.host}:${a.port} unit ${a.unit_id}`;
    case 'redfish':
      return `redfish ${a.scheme}://${a.host}:${a.port}${a.username ? ` user ${a.username}` : ''}${a.verify_tls ? '' : ' (certificate not verified)'}`;
    case 'prometheus':
      return `prometheus ${a.scheme}://${a.host}:${a.port}${a.path}${a.bearer_token !== undefined ? ' with bearer token' : ''}${a.scheme === 'https' && !a.verify_tls ? ' (certificate not verified)' : ''}`;
  }
}

function reportDevice(target: AgentDevice): ReportDevice {
  const p = target.profile;
  return { profile: p.id, class: p.class, vendor: p.vendor, model: p.model, protocol: p.protocol, address: describeAddress(target) };
}

/** Display precision of each point name, from the profile. */
function precisions(p: DeviceProfile): Map<string, number> {
  const m = new Map<string, number>();
  const add = (pts: readonly { name: string; precision?: number | undefined }[]) => {
    for (const x of pts) if (x.precision !== undefined) m.set(x.name, x.precision);
  };
  if (p.protocol === 'snmp') {
    add(p.points);
    for (const t of p.tables) add(t.columns);
  } else if (p.protocol === 'modbus') add(p.points);
  else if (p.protocol === 'prometheus') {
    add(p.points);
    for (const t of p.tables) add(t.columns);
  } else {
    for (const r of p.resources) add(r.points);
    for (const c of p.collections) add(c.points);
  }
  return m;
}

/** How a person writes the unit after a number; a ratio needs none. */
const DISPLAY_UNIT: Partial<Record<NonNullable<Reading['unit']>, string>> = { degC: '°C', ratio: '', '%': '%' };

export function displayValue(r: Reading, precision: number | undefined): string {
  if (r.value === null) return r.error ? `(${r.error})` : '(no value)';
  const v = typeof r.value === 'number' && precision !== undefined ? r.value.toFixed(precision) : String(r.value);
  if (!r.unit) return v;
  const unit = DISPLAY_UNIT[r.unit] ?? r.unit;
  return unit === '' ? v : unit === '%' ? `${v}%` : `${v} ${unit}`;
}

export function pollReport(target: AgentDevice, ts: number, result: PollResult): PollReport {
  const verdict = judgePoll(result.readings);
  const prec = precisions(target.profile);
  const summary = { readings: result.readings.length, good: 0, uncertain: 0, bad: 0 };
  const errors: PollReport['errors'] = {};
  for (const r of result.readings) {
    summary[r.quality]++;
    if (r.error) {
      const code = r.error as ErrorCode;
      const e = errors[code] ?? { readings: 0, meaning: ERROR_CODES[code] ?? 'unknown code' };
      e.readings++;
      errors[code] = e;
    }
  }
  return {
    device: reportDevice(target),
    ts: new Date(ts).toISOString(),
    ts_ms: ts,
    answered: result.readings.length > 0 && verdict.state !== 'down',
    status: { state: verdict.state, ...(verdict.code ? { code: verdict.code } : {}) },
    poll: { ...result.poll, ms: Math.round(result.poll.ms) },
    summary,
    readings: result.readings.map((r) => ({ ...readingForPeople(r), display: displayValue(r, prec.get(r.point)) })),
    errors,
  };
}

/**
 * The reading with its keys in the order people read them (name, unit, index, then the value):
 * readers build readings in the contract schema's order, which suits the wire, not this report.
 */
function readingForPeople(r: Reading): Reading {
  const { point, unit, index, value, quality, error, ...rest } = r;
  return { point, ...(unit !== undefined ? { unit } : {}), ...(index !== undefined ? { index } : {}), value, quality, ...(error !== undefined ? { error } : {}), ...rest };
}

/** Read the device once with a reader from `readerFor`; the reader is closed afterwards. */
export async function pollOnce(target: AgentDevice, readerFor: ReaderFactory, clock: Clock): Promise<PollReport> {
  const reader = readerFor(target);
  try {
    const ts = clock.now();
    const result = await reader.read({ deadlineAt: ts + POLL_ONCE_DEADLINE_MS });
    return pollReport(target, ts, result);
  } finally {
    await reader.close();
  }
}

export interface DetectReport {
  device: ReportDevice;
  ts: string;
  answered: boolean;
  /** SNMPv2-MIB system group as the device reports it. */
  system: { sys_object_id?: string; sys_descr?: string; sys_name?: string; sys_location?: string; uptime_s?: number };
  /** The profile to poll it with, when the device answered with a sysObjectID. */
  suggestion?: { profile: string; how: DetectHow; matched_prefix?: string; candidates: string[]; ranking: Candidate[]; rejected: string[]; reason: string; vendor: string; model: string; class: string };
  /** The subtrees probed (one GETNEXT each) and what the device answered inside each. */
  probes?: { oid: string; answer?: { oid: string; value: string }; error?: ErrorCode }[];
  /** Why there is no suggestion. */
  problem?: string;
  poll: PollStats;
  errors: PollReport['errors'];
}

/**
 * What a poll with the generic SNMP profile says about the device's identity, and the profile
 * detect.ts picks for its sysObjectID. Pure.
 */
export function detectReport(target: AgentDevice, ts: number, result: PollResult, profiles: ReadonlyMap<string, DeviceProfile>, answers: ProbeAnswers = new Map()): DetectReport {
  const base = pollReport(target, ts, result);
  const text = (point: string) => {
    const r = result.readings.find((x) => x.point === point && x.index === undefined && x.quality !== 'bad');
    return r && r.value !== null ? String(r.value) : undefined;
  };
  const system: DetectReport['system'] = {};
  for (const k of ['sys_object_id', 'sys_descr', 'sys_name', 'sys_location'] as const) {
    const v = text(k);
    if (v !== undefined) system[k] = v;
  }
  const up = result.readings.find((x) => x.point === 'uptime_s' && typeof x.value === 'number');
  if (up && typeof up.value === 'number') system.uptime_s = up.value;
  const report: DetectReport = { device: base.device, ts: base.ts, answered: base.answered, system, poll: base.poll, errors: base.errors };
  if (!base.answered) return { ...report, problem: `the device did not answer (${base.status.code ?? 'no readings'})` };
  if (system.sys_object_id === undefined) return { ...report, problem: 'the device answered but did not report sysObjectID (1.3.6.1.2.1.1.2.0)' };
  const d = detectProfile(system.sys_object_id, profiles, answers);
  if (!d.ok) return { ...report, problem: d.reason };
  const p = d.value.profile;
  return {
    ...report,
    suggestion: {
      profile: p.id,
      how: d.value.how,
      ...(d.value.matched_prefix !== undefined ? { matched_prefix: d.value.matched_prefix } : {}),
      candidates: d.value.candidates,
      ranking: d.value.ranking,
      rejected: d.value.rejected,
      reason: d.value.reason,
      vendor: p.vendor,
      model: p.model,
      class: p.class,
    },
  };
}

/**
 * Read the system group with the generic SNMP profile and suggest a profile; when no profile
 * claims the sysObjectID outright, probe the subtrees the profiles declare (one GETNEXT each).
 */
export async function detectOnce(target: AgentDevice, readerFor: ReaderFactory, clock: Clock, profiles: ReadonlyMap<string, DeviceProfile>): Promise<DetectReport> {
  if (target.profile.id !== GENERIC_SNMP_PROFILE) throw new Error(`detectOnce reads with ${GENERIC_SNMP_PROFILE}, not ${target.profile.id}`);
  const reader = readerFor(target);
  try {
    const ts = clock.now();
    const result = await reader.read({ deadlineAt: ts + POLL_ONCE_DEADLINE_MS });
    const sysObjectId = result.readings.find((r) => r.point === 'sys_object_id' && r.index === undefined && typeof r.value === 'string')?.value;
    const wanted = typeof sysObjectId === 'string' ? probeOids(sysObjectId, profiles) : [];
    if (wanted.length === 0 || !isSubtreeProber(reader)) return detectReport(target, ts, result, profiles);
    const run = await reader.getNextEach(wanted, { deadlineAt: ts + POLL_ONCE_DEADLINE_MS });
    const answers = probeAnswers(run.next);
    const poll = { ms: result.poll.ms + run.poll.ms, requests: result.poll.requests + run.poll.requests, retries: result.poll.retries + run.poll.retries, timeouts: result.poll.timeouts + run.poll.timeouts };
    const report = detectReport(target, ts, { ...result, poll }, profiles, answers);
    // A probe that failed (timeout, error) is not "the MIB is absent": say which, with its code.
    const probes = wanted.map((oid) => {
      const a = answers.get(oid);
      const error = run.failed.get(oid);
      return a ? { oid, answer: { oid: a.oid, value: a.text } } : error !== undefined ? { oid, error } : { oid };
    });
    return { ...report, probes };
  } finally {
    await reader.close();
  }
}
