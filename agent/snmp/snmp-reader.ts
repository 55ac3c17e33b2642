import type { Clock, ErrorCode, SnmpProfile } from '../../contract/index.js';
import type { Logger } from '../../shared/log.js';
import { isHostUnknownMessage } from '../../contract/errors.js';
import { PollCounter, type DeviceReader, type PollResult, type ReadOptions, type RequestPolicy } from '../device-reader.js';
import { isVarbindException, type Varbind } from './asn1-types.js';
import { compareOids, inSubtree, suffixOf } from './oid.js';
import { assembleReadings, rowExponentOids } from './snmp-assemble.js';
import { planSnmpReads, type ColumnWalk, type SnmpReadPlan } from './snmp-plan.js';
import type { ProbeRun } from './snmp-probe.js';
import { ErrorStatus, type SnmpOutcome, type SnmpTransport } from './snmp-transport.js';

/**
 * Reads one SNMP device per its profile (docs/design.md §3), as snmp-plan.ts plans it.
 * - Scalars and exponent objects: GET batched up to `max_oids_per_request` OIDs per PDU. A batch
 *   answered with tooBig, or with an error-status (v1 fails the whole PDU for one unknown OID),
 *   is split in halves until the culprit stands alone, so one bad OID never costs the others.
 *   v2c/v3 per-varbind exceptions (noSuchObject, noSuchInstance, endOfMibView) fail that point only.
 * - Tables: one GETBULK advances every column walk at once (`max_repetitions` rows each, halved
 *   on tooBig). v1 has no GETBULK: each column is walked with GETNEXT. A walk ends when it
 *   leaves its subtree, at an exception, at an OID that does not increase (unless the profile
 *   allows them, and even then never at one already seen), or after MAX_WALK_ROWS rows.
 * - A request that times out after every retry ends the poll: the device is not answering,
 *   and waiting `timeout × (retries + 1)` per remaining request would stall the schedule. So does
 *   the poll's deadline, and a v3 authentication failure (every later request fails the same way).
 * - SNMPv3 notInTimeWindow (the agent's clock jumped, or it rebooted): the transport forgets the
 *   engine state and the request is sent once more, counted as a retry.
 * - A probe (a device known to be down, scheduler back-off) sends its first request without
 *   retries: a dead device costs one request per back-off period.
 */
export interface SnmpReaderOptions {
  profile: SnmpProfile;
  transport: SnmpTransport;
  policy: RequestPolicy;
  clock: Clock;
  logger?: Logger;
}

/** Upper bound on varbinds per column walk: a runaway walk on a buggy agent must end. */
export const MAX_WALK_ROWS = 10_000;

/** One poll's mutable state. */
class Poll {
  readonly counter = new PollCounter();
  /** Set once the device stopped answering: every later request fails fast with it. */
  abortedWith: ErrorCode | undefined;
  resynced = false;

  constructor(
    readonly deadlineAt: number | undefined,
    readonly retries: number,
  ) {}
}

interface WalkState {
  walk: ColumnWalk;
  cursor: string;
  done: boolean;
  seen: Set<string>;
  rows: Map<string, Varbind>;
  failed?: ErrorCode;
}

export class SnmpReader implements DeviceReader {
  private plan: SnmpReadPlan | undefined;

  constructor(private readonly opts: SnmpReaderOptions) {}

  async read(ro: ReadOptions = {}): Promise<PollResult> {
    const { clock, profile } = this.opts;
    const plan = (this.plan ??= planFor(profile));
    const start = clock.now();
    const poll = new Poll(ro.deadlineAt, ro.probe ? 0 : this.opts.policy.retries);
    const values = new Map<string, Varbind>();
    const failed = new Map<string, ErrorCode>();

    await this.getAll(poll, plan.gets, values, failed);
    const walks: WalkState[] = plan.walks.map((walk) => ({ walk, cursor: walk.root, done: false, seen: new Set(), rows: new Map() }));
    if (walks.length > 0) {
      if (this.opts.transport.version === '1') for (const w of walks) await this.walkV1(poll, w);
      else await this.walkBulk(poll, walks);
    }
    const walked = walks.map((w) => w.rows);
    await this.getAll(poll, rowExponentOids(plan, walked), values, failed);

    const { readings, skipped_rows } = assembleReadings(plan, { values, failed, walked, walkFailed: walks.map((w) => w.failed) });
    if (skipped_rows > 0) this.opts.logger?.warn('snmp table rows skipped: index too long or odd for a tag', { rows: skipped_rows });
    return { readings, poll: poll.counter.stats(clock.now() - start) };
  }

  async close(): Promise<void> {
    this.opts.transport.close();
  }

  /**
   * Detection probes (snmp-probe.ts): GETNEXT once at each OID, batched like GETs and split the
   * same way on tooBig or an error-status (v1 answers noSuchName past the end of its MIB).
   */
  async getNextEach(oids: readonly string[], ro: { deadlineAt?: number } = {}): Promise<ProbeRun> {
    const start = this.opts.clock.now();
    const poll = new Poll(ro.deadlineAt, this.opts.policy.retries);
    const next = new Map<string, Varbind>();
    const failed = new Map<string, ErrorCode>();
    const size = this.opts.profile.quirks.max_oids_per_request;
    for (let i = 0; i < oids.length; i += size) await this.getNextBatch(poll, oids.slice(i, i + size), next, failed);
    return { next, failed, poll: poll.counter.stats(this.opts.clock.now() - start) };
  }

  private async getNextBatch(poll: Poll, oids: readonly string[], next: Map<string, Varbind>, failed: Map<string, ErrorCode>): Promise<void> {
    if (oids.length === 0) return;
    const r = await this.request(poll, () => this.opts.transport.getNext(oids));
    if (r.ok) {
      oids.forEach((oid, i) => {
        const vb = r.value[i];
        if (vb) next.set(oid, vb);
        else failed.set(oid, 'DCIM_E_SNMP_ERROR');
      });
      return;
    }
    if ((r.kind === 'too_big' || r.kind === 'error_status') && oids.length > 1) {
      const half = Math.ceil(oids.length / 2);
      await this.getNextBatch(poll, oids.slice(0, half), next, failed);
      await this.getNextBatch(poll, oids.slice(half), next, failed);
      return;
    }
    // SNMPv1 says "nothing after this OID" with noSuchName: for a probe that is an answer (the MIB is absent), not a failure.
    if (r.kind === 'error_status' && r.status === ErrorStatus.noSuchName) return;
    const code = failureCode(poll, r);
    for (const oid of oids) failed.set(oid, code);
  }

  /** Send one request with the retry policy; counts requests, retries and timeouts. */
  private async request<T>(poll: Poll, send: () => Promise<SnmpOutcome<T>>): Promise<SnmpOutcome<T>> {
    let attempt = 0;
    for (;;) {
      if (poll.abortedWith === undefined && poll.deadlineAt !== undefined && this.opts.clock.now() >= poll.deadlineAt) poll.abortedWith = 'DCIM_E_SNMP_TIMEOUT';
      if (poll.abortedWith !== undefined) return { ok: false, kind: 'timeout', message: 'poll aborted' };
      poll.counter.requests++;
      const r = await send();
      if (r.ok) return r;
      if (r.kind === 'time_window' && !poll.resynced) {
        poll.resynced = true;
        poll.counter.retries++;
        this.opts.logger?.info('snmpv3 engine time outside the window: rediscovering the engine', { message: r.message });
        this.opts.transport.resync();
        continue;
      }
      if (r.kind === 'auth' || r.kind === 'time_window') {
        this.opts.logger?.debug('snmpv3 security failure ends the poll', { kind: r.kind, message: r.message });
        poll.abortedWith = 'DCIM_E_SNMP_ERROR';
        return r;
      }
      if (r.kind !== 'timeout') return r;
      poll.counter.timeouts++;
      if (++attempt > poll.retries) {
        poll.abortedWith = 'DCIM_E_SNMP_TIMEOUT';
        return r;
      }
      poll.counter.retries++;
    }
  }

  private async getAll(poll: Poll, oids: readonly string[], values: Map<string, Varbind>, failed: Map<string, ErrorCode>): Promise<void> {
    const size = this.opts.profile.quirks.max_oids_per_request;
    for (let i = 0; i < oids.length; i += size) await this.getBatch(poll, oids.slice(i, i + size), values, failed);
  }

  private async getBatch(poll: Poll, oids: readonly string[], values: Map<string, Varbind>, failed: Map<string, ErrorCode>): Promise<void> {
    if (oids.length === 0) return;
    const r = await this.request(poll, () => this.opts.transport.get(oids));
    if (r.ok) {
      oids.forEach((oid, i) => {
        const vb = r.value[i];
        // An answer for another OID than asked is not an answer (RFC 3416 §4.2.1 keeps the order).
        if (!vb || vb.oid !== oid) {
          this.opts.logger?.debug('snmp get: answer does not match the request', { oid, answered: vb?.oid });
          failed.set(oid, 'DCIM_E_SNMP_ERROR');
        } else values.set(oid, vb);
      });
      return;
    }
    const splittable = r.kind === 'too_big' || r.kind === 'error_status';
    if (splittable && oids.length > 1) {
      const half = Math.ceil(oids.length / 2);
      await this.getBatch(poll, oids.slice(0, half), values, failed);
      await this.getBatch(poll, oids.slice(half), values, failed);
      return;
    }
    const code = failureCode(poll, r);
    if (code === 'DCIM_E_SNMP_ERROR') this.opts.logger?.debug('snmp get failed', { oid: oids[0], kind: r.kind, status: r.status, message: r.message });
    for (const oid of oids) failed.set(oid, code);
  }

  /** Every column walk advanced together by multi-OID GETBULKs. */
  private async walkBulk(poll: Poll, walks: WalkState[]): Promise<void> {
    const { quirks } = this.opts.profile;
    let repetitions = quirks.max_repetitions;
    let width = quirks.max_oids_per_request;
    for (;;) {
      const batch = walks.filter((w) => !w.done).slice(0, width);
      if (batch.length === 0) return;
      const r = await this.request(poll, () => this.opts.transport.getBulk(batch.map((w) => w.cursor), repetitions));
      if (!r.ok) {
        if (r.kind === 'too_big' && repetitions > 1) {
          repetitions = Math.max(1, Math.floor(repetitions / 2));
          continue;
        }
        if (r.kind === 'error_status' && batch.length > 1) {
          // One column upsets the agent (genErr on a bulk over several): go on one column at a time.
          width = 1;
          continue;
        }
        const code = failureCode(poll, r);
        for (const w of batch) Object.assign(w, { done: true, failed: code });
        continue;
      }
      batch.forEach((w, j) => {
        const column = r.value[j] ?? [];
        if (column.length === 0) w.done = true;
        for (const vb of column) {
          if (w.done) break;
          if (!this.accept(w, vb)) w.done = true;
        }
      });
    }
  }

  private async walkV1(poll: Poll, w: WalkState): Promise<void> {
    while (!w.done) {
      const r = await this.request(poll, () => this.opts.transport.getNext([w.cursor]));
      if (!r.ok) {
        w.done = true;
        // v1 signals the end of the MIB view with noSuchName.
        if (!(r.kind === 'error_status' && r.status === ErrorStatus.noSuchName)) w.failed = failureCode(poll, r);
        return;
      }
      const vb = r.value[0];
      if (!vb || !this.accept(w, vb)) w.done = true;
    }
  }

  /** Take one walked varbind; says whether the walk goes on. */
  private accept(w: WalkState, vb: Varbind): boolean {
    if (isVarbindException(vb.type) || !inSubtree(w.walk.root, vb.oid)) return false;
    if (w.seen.has(vb.oid)) {
      this.opts.logger?.warn('snmp walk: OID repeated, walk ended', { root: w.walk.root, oid: vb.oid });
      return false;
    }
    if (compareOids(vb.oid, w.cursor) <= 0 && !this.opts.profile.quirks.allow_nonincreasing_oids) {
      // Out-of-order answers loop forever on some agents (snmp_exporter#208): stop unless the profile allows them.
      this.opts.logger?.warn('snmp walk: OID not increasing, walk ended', { root: w.walk.root, oid: vb.oid, after: w.cursor });
      return false;
    }
    w.seen.add(vb.oid);
    w.cursor = vb.oid;
    w.rows.set(suffixOf(w.walk.base, vb.oid), vb);
    if (w.rows.size >= MAX_WALK_ROWS) {
      this.opts.logger?.warn('snmp walk: row limit reached, walk ended', { root: w.walk.root, rows: w.rows.size });
      return false;
    }
    return true;
  }
}

/** One plan per profile object, shared by every device of that model (10,000 PDUs, one plan). */
const plans = new WeakMap<SnmpProfile, SnmpReadPlan>();
function planFor(profile: SnmpProfile): SnmpReadPlan {
  let p = plans.get(profile);
  if (!p) {
    p = planSnmpReads(profile);
    plans.set(profile, p);
  }
  return p;
}

function failureCode(poll: Poll, r: { kind: string; status?: number; code?: ErrorCode; message?: string }): ErrorCode {
  if (r.kind === 'timeout') return poll.abortedWith ?? 'DCIM_E_SNMP_TIMEOUT';
  if (r.code !== undefined) return r.code;
  // A host name that does not resolve is not an answer from the agent (it was never reached).
  if (r.kind === 'socket' && r.message !== undefined && isHostUnknownMessage(r.message)) return 'DCIM_E_NET_HOST_UNKNOWN';
  if (r.kind === 'error_status' && r.status === ErrorStatus.noSuchName) return 'DCIM_E_SNMP_NO_SUCH_OBJECT';
  return 'DCIM_E_SNMP_ERROR';
}
