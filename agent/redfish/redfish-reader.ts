import type { Clock, ErrorCode, Reading, RedfishProfile } from '../../contract/index.js';
import type { Logger } from '../../shared/log.js';
import { isHostUnknownMessage } from '../../contract/errors.js';
import { resolveJsonPointer } from '../../shared/codec/json-pointer.js';
import { badReading, toReading } from '../decode/decoded.js';
import { collectionMembers, followLink, matchesWhere, memberIndex } from '../decode/redfish-links.js';
import { decodeRedfishValue } from '../decode/redfish-value.js';
import { PollCounter, type DeviceReader, type PollResult, type ReadOptions, type RequestPolicy } from '../device-reader.js';
import type { RedfishFailureKind, RedfishOutcome, RedfishTransport } from './redfish-transport.js';

/**
 * Reads one BMC per its Redfish profile (contract RedfishProfileSchema, DSP0266).
 * - Every resource, collection, member and followed link is fetched at most once per poll,
 *   however many points and collections name it (GPUs and CPUs come from one Processors
 *   collection), with at most `max_concurrent_requests` requests in flight to the BMC.
 * - A collection expands to its members; `where` keeps some (ProcessorType = GPU); each kept
 *   member is a row tagged by its `index_pointer` value; `follow` reads a point from the
 *   resource a member links to (its EnvironmentMetrics, its Metrics).
 * - Timeouts, refused connections and 5xx are retried per the policy; 4xx, oversized and
 *   non-JSON bodies are not (asking again gets the same). A request that still times out, a
 *   BMC that refuses the connection and refused credentials end the poll: every later request
 *   would fail the same way. So does the deadline.
 * - A property the resource lacks, a broken link, a member without a usable index: that point or
 *   row is bad (DCIM_E_REDFISH_RESPONSE) and the rest is read. `null` is "no reading now"
 *   (decodeRedfishValue).
 * - A probe (device known down) sends its first request alone and without retries.
 */
export interface RedfishReaderOptions {
  profile: RedfishProfile;
  transport: RedfishTransport;
  policy: RequestPolicy;
  clock: Clock;
  logger?: Logger;
}

/** A runaway collection (a BMC listing thousands of members) is cut here. */
export const MAX_COLLECTION_MEMBERS = 512;

type Fetched = { ok: true; doc: unknown } | { ok: false; code: ErrorCode; message: string };
type Point = RedfishProfile['resources'][number]['points'][number];
type Collection = RedfishProfile['collections'][number];

const CODES: Record<RedfishFailureKind, ErrorCode> = {
  timeout: 'DCIM_E_REDFISH_TIMEOUT',
  connect: 'DCIM_E_REDFISH_HTTP',
  http: 'DCIM_E_REDFISH_HTTP',
  auth: 'DCIM_E_REDFISH_AUTH',
  too_large: 'DCIM_E_REDFISH_RESPONSE',
  not_json: 'DCIM_E_REDFISH_RESPONSE',
};

/** At most `size` tasks at once, in the order they asked. */
class Limiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(public size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    try {
      return await task();
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }
}

/** One poll's state: counters, the fetched documents, the reason it was cut short. */
class Poll {
  readonly counter = new PollCounter();
  readonly docs = new Map<string, Promise<Fetched>>();
  abortedWith: ErrorCode | undefined;

  constructor(
    readonly deadlineAt: number | undefined,
    readonly retries: number,
    readonly limiter: Limiter,
  ) {}
}

export class RedfishReader implements DeviceReader {
  constructor(private readonly opts: RedfishReaderOptions) {}

  async read(ro: ReadOptions = {}): Promise<PollResult> {
    const { clock, profile } = this.opts;
    const start = clock.now();
    const poll = new Poll(ro.deadlineAt, ro.probe ? 0 : this.opts.policy.retries, new Limiter(profile.quirks.max_concurrent_requests));
    if (ro.probe) {
      // One request decides whether the BMC answers at all.
      const first = profile.resources[0]?.path ?? profile.collections[0]?.collection;
      if (first !== undefined) await this.fetch(poll, first);
    }
    const parts = await Promise.all([
      ...profile.resources.map(async (r) => {
        const f = await this.fetch(poll, r.path);
        return r.points.map((pt) => (f.ok ? pointReading(pt, f.doc) : badReading(pt.name, pt.unit, f.code)));
      }),
      ...profile.collections.map((c) => this.readCollection(poll, c)),
    ]);
    return { readings: parts.flat(), poll: poll.counter.stats(clock.now() - start) };
  }

  async close(): Promise<void> {
    this.opts.transport.close();
  }

  private async readCollection(poll: Poll, c: Collection): Promise<Reading[]> {
    const bad = (code: ErrorCode) => c.points.map((pt) => badReading(pt.name, pt.unit, code));
    const coll = await this.fetch(poll, c.collection);
    if (!coll.ok) return bad(coll.code);
    const members = collectionMembers(coll.doc);
    if (!members.ok) {
      this.opts.logger?.warn('redfish collection unusable', { collection: c.collection, reason: members.reason });
      return bad('DCIM_E_REDFISH_RESPONSE');
    }
    let paths = members.value;
    if (paths.length > MAX_COLLECTION_MEMBERS) {
      this.opts.logger?.warn('redfish collection cut at the member limit', { collection: c.collection, members: paths.length, limit: MAX_COLLECTION_MEMBERS });
      paths = paths.slice(0, MAX_COLLECTION_MEMBERS);
    }
    const fetched = await Promise.all(paths.map((p) => this.fetch(poll, p)));

    const rows = new Map<string, unknown>();
    const failures = new Set<ErrorCode>();
    fetched.forEach((f, i) => {
      if (!f.ok) return void failures.add(f.code);
      if (!matchesWhere(f.doc, c.where)) return;
      const index = memberIndex(f.doc, c.index_pointer);
      if (!index.ok) {
        this.opts.logger?.warn('redfish member skipped: no usable index', { member: paths[i], reason: index.reason });
        return void failures.add('DCIM_E_REDFISH_RESPONSE');
      }
      if (rows.has(index.value)) {
        this.opts.logger?.warn('redfish member skipped: index seen twice', { member: paths[i], index: index.value });
        return;
      }
      rows.set(index.value, f.doc);
    });

    // Followed links of every row, fetched together (once each).
    const links = new Map<string, string | undefined>();
    for (const [index, doc] of rows) {
      for (const pt of c.points) {
        if (pt.follow === undefined) continue;
        const link = followLink(doc, pt.follow);
        links.set(`${index}\u0000${pt.follow}`, link.ok ? link.value : undefined);
      }
    }
    await Promise.all([...new Set(links.values())].flatMap((p) => (p === undefined ? [] : [this.fetch(poll, p)])));

    const readings: Reading[] = [];
    const order = [...rows.keys()].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    for (const index of order) {
      const tag = { [c.index_tag]: index };
      for (const pt of c.points) {
        let doc = rows.get(index);
        if (pt.follow !== undefined) {
          const path = links.get(`${index}\u0000${pt.follow}`);
          if (path === undefined) {
            readings.push(badReading(pt.name, pt.unit, 'DCIM_E_REDFISH_RESPONSE', tag));
            continue;
          }
          const f = await this.fetch(poll, path);
          if (!f.ok) {
            readings.push(badReading(pt.name, pt.unit, f.code, tag));
            continue;
          }
          doc = f.doc;
        }
        readings.push(pointReading(pt, doc, tag));
      }
    }
    // Members that could not be read: one bad reading per point and reason, so the gap shows.
    for (const code of failures) readings.push(...bad(code));
    return readings;
  }

  /** GET a resource once per poll, within the BMC's concurrency limit. */
  private fetch(poll: Poll, path: string): Promise<Fetched> {
    let f = poll.docs.get(path);
    if (!f) {
      f = poll.limiter.run(() => this.request(poll, path));
      poll.docs.set(path, f);
    }
    return f;
  }

  private async request(poll: Poll, path: string): Promise<Fetched> {
    const { clock, policy, transport, logger } = this.opts;
    for (let attempt = 0; ; attempt++) {
      if (poll.abortedWith === undefined && poll.deadlineAt !== undefined && clock.now() >= poll.deadlineAt) poll.abortedWith = 'DCIM_E_REDFISH_TIMEOUT';
      if (poll.abortedWith !== undefined) return { ok: false, code: poll.abortedWith, message: 'poll aborted' };
      poll.counter.requests++;
      const r: RedfishOutcome = await transport.get(path, policy.timeoutMs);
      if (r.ok) return { ok: true, doc: r.value };
      if (r.kind === 'timeout') poll.counter.timeouts++;
      const retryable = r.kind === 'timeout' || r.kind === 'connect' || (r.kind === 'http' && (r.status ?? 0) >= 500);
      if (retryable && attempt < poll.retries) {
        poll.counter.retries++;
        continue;
      }
      const code = r.kind === 'connect' && isHostUnknownMessage(r.message) ? 'DCIM_E_NET_HOST_UNKNOWN' : CODES[r.kind];
      if (r.kind === 'timeout' || r.kind === 'connect' || r.kind === 'auth') poll.abortedWith ??= code;
      logger?.debug('redfish request failed', { path, kind: r.kind, status: r.status, message: r.message });
      return { ok: false, code, message: r.message };
    }
  }
}

/** One point of a fetched document. */
function pointReading(pt: Point, doc: unknown, index?: Reading['index']): Reading {
  const v = resolveJsonPointer(doc, pt.pointer);
  if (!v.ok) return badReading(pt.name, pt.unit, 'DCIM_E_REDFISH_RESPONSE', index);
  return toReading(pt.name, pt.unit, decodeRedfishValue(pt, v.value), index);
}
