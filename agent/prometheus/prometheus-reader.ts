import type { Clock, ErrorCode, PrometheusPoint, PrometheusProfile, Reading } from '../../contract/index.js';
import type { Logger } from '../../shared/log.js';
import { isHostUnknownMessage } from '../../contract/errors.js';
import { badReading, toReading } from '../decode/decoded.js';
import { PollCounter, type DeviceReader, type PollResult, type ReadOptions, type RequestPolicy } from '../device-reader.js';
import { parseExposition, type Sample } from './exposition-parser.js';
import type { ScrapeFailureKind, ScrapeOutcome, ScrapeTransport } from './http-scrape.js';
import { decodePrometheusValue } from './prometheus-value.js';

/**
 * Reads one exporter per its Prometheus profile (contract PrometheusProfileSchema): one scrape
 * per poll, parsed strictly (exposition-parser.ts), samples mapped to points by metric name and
 * labels.
 * - Timeouts, refused connections and 5xx are retried per the policy; 4xx, a body of another
 *   format or over the size limit are not (asking again gets the same). A probe (device known
 *   down) sends one request without retries. Past the deadline nothing is sent.
 * - Lines that do not parse are skipped and counted as DCIM_E_PROM_PARSE faults of the poll
 *   (`dcim_agent_device_faults_total`); the samples of every other line are read.
 * - A point whose series is absent is bad (DCIM_E_PROM_SERIES_MISSING); one matched by several
 *   series (labels the profile does not pin, such as MIG instances) is bad
 *   (DCIM_E_PROM_SERIES_AMBIGUOUS) rather than an arbitrary pick.
 * - A table makes one row per value of its index label among the samples of its metrics, in
 *   numeric order.
 */
export interface PrometheusReaderOptions {
  profile: PrometheusProfile;
  transport: ScrapeTransport;
  policy: RequestPolicy;
  clock: Clock;
  logger?: Logger;
}

const CODES: Record<ScrapeFailureKind, ErrorCode> = {
  timeout: 'DCIM_E_PROM_TIMEOUT',
  connect: 'DCIM_E_PROM_HTTP',
  http: 'DCIM_E_PROM_HTTP',
  auth: 'DCIM_E_PROM_AUTH',
  too_large: 'DCIM_E_PROM_RESPONSE',
  not_text: 'DCIM_E_PROM_RESPONSE',
};

export class PrometheusReader implements DeviceReader {
  constructor(private readonly opts: PrometheusReaderOptions) {}

  async read(ro: ReadOptions = {}): Promise<PollResult> {
    const { clock, profile, logger } = this.opts;
    const start = clock.now();
    const counter = new PollCounter();
    const got = await this.scrape(counter, ro);
    if (!got.ok) {
      logger?.debug('prometheus scrape failed', { code: got.code, message: got.message });
      return { readings: allPoints(profile).map((pt) => badReading(pt.name, pt.unit, got.code)), poll: counter.stats(clock.now() - start) };
    }
    const ex = parseExposition(got.text);
    if (ex.problemCount > 0) {
      counter.faults.DCIM_E_PROM_PARSE = ex.problemCount;
      logger?.warn('prometheus exposition lines refused', { refused: ex.problemCount, first: ex.problems.slice(0, 5).map((p) => `line ${p.line}: ${p.reason}`) });
    }
    return { readings: mapSamples(profile, ex.samples), poll: counter.stats(clock.now() - start) };
  }

  async close(): Promise<void> {
    this.opts.transport.close();
  }

  private async scrape(counter: PollCounter, ro: ReadOptions): Promise<{ ok: true; text: string } | { ok: false; code: ErrorCode; message: string }> {
    const { clock, policy, transport } = this.opts;
    const retries = ro.probe ? 0 : policy.retries;
    for (let attempt = 0; ; attempt++) {
      if (ro.deadlineAt !== undefined && clock.now() >= ro.deadlineAt) return { ok: false, code: 'DCIM_E_PROM_TIMEOUT', message: 'poll deadline passed' };
      counter.requests++;
      const r: ScrapeOutcome = await transport.scrape(policy.timeoutMs);
      if (r.ok) return r;
      if (r.kind === 'timeout') counter.timeouts++;
      const retryable = r.kind === 'timeout' || r.kind === 'connect' || (r.kind === 'http' && (r.status ?? 0) >= 500);
      if (retryable && attempt < retries) {
        counter.retries++;
        continue;
      }
      const code = r.kind === 'connect' && isHostUnknownMessage(r.message) ? 'DCIM_E_NET_HOST_UNKNOWN' : CODES[r.kind];
      return { ok: false, code, message: r.message };
    }
  }
}

function allPoints(p: PrometheusProfile): PrometheusPoint[] {
  return [...p.points, ...p.tables.flatMap((t) => t.columns)];
}

/** Samples → readings by the profile. Pure; exported for tests. */
export function mapSamples(profile: PrometheusProfile, samples: readonly Sample[]): Reading[] {
  const byName = new Map<string, Sample[]>();
  for (const s of samples) {
    let list = byName.get(s.name);
    if (!list) byName.set(s.name, (list = []));
    list.push(s);
  }
  const candidates = (pt: PrometheusPoint, extra?: [string, string]) =>
    (byName.get(pt.metric) ?? []).filter((s) => {
      if (extra && s.labels[extra[0]] !== extra[1]) return false;
      for (const [k, v] of Object.entries(pt.labels ?? {})) if (s.labels[k] !== v) return false;
      return pt.label === undefined || Object.prototype.hasOwnProperty.call(s.labels, pt.label);
    });
  const one = (pt: PrometheusPoint, found: Sample[], index?: Reading['index']): Reading => {
    const [s] = found;
    if (!s) return badReading(pt.name, pt.unit, 'DCIM_E_PROM_SERIES_MISSING', index);
    if (found.length > 1) return badReading(pt.name, pt.unit, 'DCIM_E_PROM_SERIES_AMBIGUOUS', index);
    return toReading(pt.name, pt.unit, decodePrometheusValue(pt, s.value, s.labels), index);
  };

  const readings: Reading[] = profile.points.map((pt) => one(pt, candidates(pt)));
  for (const t of profile.tables) {
    const rows = new Set<string>();
    for (const pt of t.columns) {
      for (const s of candidates(pt)) {
        const v = s.labels[t.index_label];
        // A row index becomes a tag value: bounded and printable, else it is not a row.
        if (v !== undefined && /^[A-Za-z0-9_.:-]{1,64}$/.test(v)) rows.add(v);
      }
    }
    if (rows.size === 0) {
      readings.push(...t.columns.map((pt) => badReading(pt.name, pt.unit, 'DCIM_E_PROM_SERIES_MISSING')));
      continue;
    }
    const order = [...rows].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    for (const row of order) {
      const index = { [t.index_tag]: row };
      for (const pt of t.columns) readings.push(one(pt, candidates(pt, [t.index_label, row]), index));
    }
  }
  return readings;
}
