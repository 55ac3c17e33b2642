import type { Clock, ErrorCode, Logger, Reading, SnmpProfile } from '../../contract/index.js';
import { badReading, toReading } from '../decode/decoded.js';
import { decodeSnmpValue } from '../decode/snmp-value.js';
import { PollCounter, type DeviceReader, type PollResult, type ReadOptions, type RequestPolicy } from '../device-reader.js';
import { isVarbindException, SnmpType, type Varbind } from './asn1-types.js';
import { compareOids, inSubtree, suffixOf } from './oid.js';
import { ErrorStatus, type SnmpOutcome, type SnmpTransport } from './snmp-transport.js';

/**
 * Reads one SNMP device per its profile (DESIGN.md §3).
 * - Scalars: GET batched up to `max_oids_per_request` OIDs per PDU. A batch answered with
 *   tooBig, or with an error-status (v1 fails the whole PDU for one unknown OID), is split in
 *   halves until the culprit stands alone, so one bad OID never costs the others.
 * - Tables: one GETBULK advances every column at once (`max_repetitions` rows per column);
 *   tooBig halves the repetitions. v1 has no GETBULK: each column is walked with GETNEXT.
 *   The OID suffix under a column is the row's index (`index_tag` in the profile).
 * - A request that times out after every retry ends the poll: the device is not answering,
 *   and waiting `timeout × (retries + 1)` per remaining request would stall the schedule.
 */
export interface SnmpReaderOptions {
  profile: SnmpProfile;
  transport: SnmpTransport;
  policy: RequestPolicy;
  clock: Clock;
  logger?: Logger;
}

/** Upper bound on rows per table: a runaway walk on a buggy agent must end. */
export const MAX_TABLE_ROWS = 10_000;
const INDEX_VALUE = /^[A-Za-z0-9_.:-]{1,32}$/;

type Scalar = SnmpProfile['points'][number];
type Table = SnmpProfile['tables'][number];
type Column = Table['columns'][number];

/** One poll's mutable state. */
class Poll {
  readonly counter = new PollCounter();
  /** Set once the device stopped answering: every later request fails fast with it. */
  abortedWith: ErrorCode | undefined;

  constructor(readonly deadlineAt: number | undefined) {}
}

export class SnmpReader implements DeviceReader {
  constructor(private readonly opts: SnmpReaderOptions) {}

  async read(ro: ReadOptions = {}): Promise<PollResult> {
    const { clock, profile } = this.opts;
    const start = clock.now();
    const poll = new Poll(ro.deadlineAt);
    const readings: Reading[] = [];
    const size = profile.quirks.max_oids_per_request;
    for (let i = 0; i < profile.points.length; i += size) readings.push(...(await this.getScalars(poll, profile.points.slice(i, i + size))));
    for (const table of profile.tables) readings.push(...(await this.readTable(poll, table)));
    return { readings, poll: poll.counter.stats(clock.now() - start) };
  }

  async close(): Promise<void> {
    this.opts.transport.close();
  }

  /** Send one request with the retry policy; counts requests, retries and timeouts. */
  private async request<T>(poll: Poll, send: () => Promise<SnmpOutcome<T>>): Promise<SnmpOutcome<T>> {
    const attempts = this.opts.policy.retries + 1;
    for (let attempt = 1; ; attempt++) {
      if (poll.abortedWith === undefined && poll.deadlineAt !== undefined && this.opts.clock.now() >= poll.deadlineAt) poll.abortedWith = 'DCIM_E_SNMP_TIMEOUT';
      if (poll.abortedWith !== undefined) return { ok: false, kind: 'timeout', message: 'poll aborted' };
      poll.counter.requests++;
      const r = await send();
      if (r.ok || r.kind !== 'timeout') return r;
      poll.counter.timeouts++;
      if (attempt >= attempts) {
        poll.abortedWith = 'DCIM_E_SNMP_TIMEOUT';
        return r;
      }
      poll.counter.retries++;
    }
  }

  private async getScalars(poll: Poll, points: readonly Scalar[]): Promise<Reading[]> {
    if (points.length === 0) return [];
    const r = await this.request(poll, () => this.opts.transport.get(points.map((p) => p.oid)));
    if (r.ok) {
      return points.map((p, i) => {
        const vb = r.value[i];
        if (!vb) return badReading(p.name, p.unit, 'DCIM_E_SNMP_ERROR');
        return toReading(p.name, p.unit, decodeSnmpValue(p, vb.type, vb.value));
      });
    }
    const splittable = r.kind === 'too_big' || r.kind === 'error_status';
    if (splittable && points.length > 1) {
      const half = Math.ceil(points.length / 2);
      return [...(await this.getScalars(poll, points.slice(0, half))), ...(await this.getScalars(poll, points.slice(half)))];
    }
    const code = failureCode(poll, r);
    if (code === 'DCIM_E_SNMP_ERROR') this.opts.logger?.debug('snmp get failed', { oid: points[0]?.oid, kind: r.kind, status: r.status, message: r.message });
    return points.map((p) => badReading(p.name, p.unit, code));
  }

  private async readTable(poll: Poll, table: Table): Promise<Reading[]> {
    const cells = new Map<string, Map<number, Varbind>>();
    let failure: ErrorCode | undefined;
    if (this.opts.transport.version === '1') {
      for (const col of table.columns) failure ??= await this.walkColumnV1(poll, table, col, cells);
    } else {
      failure = await this.walkBulk(poll, table, cells);
    }
    const readings: Reading[] = [];
    const rows = [...cells.keys()].sort((a, b) => compareOids(a, b));
    for (const row of rows) {
      const byColumn = cells.get(row) as Map<number, Varbind>;
      for (const col of table.columns) {
        const vb = byColumn.get(col.column);
        if (vb) readings.push(toReading(col.name, col.unit, decodeSnmpValue(col, vb.type, vb.value), { [table.index_tag]: row }));
      }
    }
    if (failure) for (const col of table.columns) readings.push(badReading(col.name, col.unit, failure));
    return readings;
  }

  /** Multi-column GETBULK walk. Returns the error that cut it short, if any. */
  private async walkBulk(poll: Poll, table: Table, cells: Map<string, Map<number, Varbind>>): Promise<ErrorCode | undefined> {
    const { quirks } = this.opts.profile;
    let repetitions = quirks.max_repetitions;
    const walks = table.columns.map((c) => ({ col: c, base: `${table.entry}.${c.column}`, cursor: `${table.entry}.${c.column}`, done: false }));
    const seen = new Set<string>();
    for (;;) {
      const active = walks.filter((w) => !w.done);
      if (active.length === 0) return undefined;
      const r = await this.request(poll, () => this.opts.transport.getBulk(active.map((w) => w.cursor), repetitions));
      if (!r.ok) {
        if (r.kind === 'too_big' && repetitions > 1) {
          repetitions = Math.max(1, Math.floor(repetitions / 2));
          continue;
        }
        return failureCode(poll, r);
      }
      active.forEach((w, j) => {
        const column = r.value[j] ?? [];
        if (column.length === 0) w.done = true;
        for (const vb of column) {
          if (w.done) break;
          const step = this.accept(w, vb, seen, cells, table);
          if (step !== 'next') w.done = true;
        }
      });
      if (cells.size >= MAX_TABLE_ROWS) return undefined;
    }
  }

  private async walkColumnV1(poll: Poll, table: Table, col: Column, cells: Map<string, Map<number, Varbind>>): Promise<ErrorCode | undefined> {
    const w = { col, base: `${table.entry}.${col.column}`, cursor: `${table.entry}.${col.column}`, done: false };
    const seen = new Set<string>();
    while (!w.done) {
      const r = await this.request(poll, () => this.opts.transport.getNext([w.cursor]));
      if (!r.ok) {
        // v1 signals the end of the MIB view with noSuchName.
        if (r.kind === 'error_status' && r.status === ErrorStatus.noSuchName) return undefined;
        return failureCode(poll, r);
      }
      const vb = r.value[0];
      if (!vb || this.accept(w, vb, seen, cells, table) !== 'next') w.done = true;
      if (cells.size >= MAX_TABLE_ROWS) return undefined;
    }
    return undefined;
  }

  /** Take one walked varbind into the table; says whether the column walk goes on. */
  private accept(
    w: { col: Column; base: string; cursor: string },
    vb: Varbind,
    seen: Set<string>,
    cells: Map<string, Map<number, Varbind>>,
    table: Table,
  ): 'next' | 'end' {
    if (vb.type === SnmpType.EndOfMibView || isVarbindException(vb.type) || !inSubtree(w.base, vb.oid)) return 'end';
    if (compareOids(vb.oid, w.cursor) <= 0) {
      // Out-of-order answers loop forever on some agents (snmp_exporter#208); only follow them when the profile allows, and never twice.
      if (!this.opts.profile.quirks.allow_nonincreasing_oids || seen.has(vb.oid)) {
        this.opts.logger?.warn('snmp walk: OID not increasing', { table: table.entry, oid: vb.oid, after: w.cursor });
        return 'end';
      }
    }
    if (seen.has(vb.oid)) return 'end';
    seen.add(vb.oid);
    w.cursor = vb.oid;
    const index = suffixOf(w.base, vb.oid);
    if (!INDEX_VALUE.test(index)) {
      this.opts.logger?.warn('snmp walk: row index too long for a tag, row skipped', { table: table.entry, oid: vb.oid });
      return 'next';
    }
    let row = cells.get(index);
    if (!row) {
      if (cells.size >= MAX_TABLE_ROWS) return 'end';
      row = new Map();
      cells.set(index, row);
    }
    row.set(w.col.column, vb);
    return 'next';
  }
}

function failureCode(poll: Poll, r: { kind: string; status?: number }): ErrorCode {
  if (r.kind === 'timeout') return poll.abortedWith ?? 'DCIM_E_SNMP_TIMEOUT';
  if (r.kind === 'error_status' && r.status === ErrorStatus.noSuchName) return 'DCIM_E_SNMP_NO_SUCH_OBJECT';
  return 'DCIM_E_SNMP_ERROR';
}
