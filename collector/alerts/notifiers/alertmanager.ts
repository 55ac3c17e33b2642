import { DCIM_VERSION } from '../../../contract/index.js';
import type { AlertRecord } from '../alert-record.js';
import { renderGeneratorUrl } from './generator-url.js';
import { httpFailure, networkFailure, type Delivery, type Notifier, type SendResult } from './notifier.js';

/**
 * Prometheus Alertmanager, API v2 (`POST /api/v2/alerts`), so routing, grouping, silences and
 * paging stay in the tool on-call teams already run. Like Prometheus, a firing alert is sent with
 * `endsAt` a few re-send periods ahead and re-sent every period: Alertmanager keeps alerts in
 * memory only, and resolves an alert that is not refreshed, so a collector that dies cannot leave
 * a page open forever, and an Alertmanager that restarts learns the firing alerts again within a
 * period. A resolved alert is sent once with its real `endsAt`.
 */
export interface AlertmanagerOptions {
  /** Base URL, e.g. http://alertmanager:9093 (a path prefix such as /am is kept). */
  url: string;
  name?: string;
  resend_ms?: number;
  timeout_ms?: number;
  /** `Authorization: Bearer …` for an Alertmanager behind an authenticating proxy. */
  bearer_token?: string;
  basic_auth?: { username: string; password: string };
  /** Link back to the source, with {id}, {site}, {rule}; absent: no generatorURL. */
  generator_url?: string;
  /** Alerts per POST. */
  batch_size?: number;
}

/** How far ahead a firing alert's endsAt lies, in re-send periods (Prometheus uses 4). */
const ENDS_AT_PERIODS = 4;

export interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL?: string;
}

export function postableAlert(d: Delivery, now_ms: number, resend_ms: number, generator_url?: string): PostableAlert {
  const r: AlertRecord = d.record;
  const annotations: Record<string, string> = { summary: r.summary };
  if (r.description) annotations.description = r.description;
  if (r.runbook !== null) annotations.runbook = r.runbook;
  if (r.runbook_url !== null) annotations.runbook_url = r.runbook_url;
  if (r.value !== null) annotations.value = String(r.value);
  annotations.alert_id = r.id;
  const starts = r.starts_at ?? now_ms;
  const ends = d.state === 'resolved' ? (r.ends_at ?? now_ms) : now_ms + ENDS_AT_PERIODS * resend_ms;
  return {
    labels: { ...r.labels },
    annotations,
    startsAt: new Date(starts).toISOString(),
    endsAt: new Date(Math.max(ends, starts)).toISOString(),
    ...(generator_url !== undefined ? { generatorURL: renderGeneratorUrl(generator_url, r) } : {}),
  };
}

export class AlertmanagerNotifier implements Notifier {
  readonly name: string;
  readonly resend_ms: number;
  readonly batch_size: number;
  private readonly endpoint: string;

  constructor(private readonly opts: AlertmanagerOptions) {
    this.name = opts.name ?? 'alertmanager';
    this.resend_ms = opts.resend_ms ?? 60_000;
    this.batch_size = opts.batch_size ?? 200;
    this.endpoint = `${opts.url.replace(/\/+$/, '')}/api/v2/alerts`;
  }

  async send(batch: readonly Delivery[], now_ms: number): Promise<SendResult> {
    const ids = batch.map((d) => d.record.id);
    const body = JSON.stringify(batch.map((d) => postableAlert(d, now_ms, this.resend_ms, this.opts.generator_url)));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'user-agent': `dcim-pulse/${DCIM_VERSION}` };
    if (this.opts.bearer_token !== undefined) headers.authorization = `Bearer ${this.opts.bearer_token}`;
    else if (this.opts.basic_auth) headers.authorization = `Basic ${Buffer.from(`${this.opts.basic_auth.username}:${this.opts.basic_auth.password}`).toString('base64')}`;
    const timeout = this.opts.timeout_ms ?? 10_000;
    let res: Response;
    try {
      res = await fetch(this.endpoint, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeout) });
    } catch (e) {
      return { delivered: [], rejected: [], failure: networkFailure(e, timeout) };
    }
    const text = await res.text().catch(() => '');
    if (res.ok) return { delivered: ids, rejected: [] };
    const failure = httpFailure(res.status, text, res.headers.get('retry-after'));
    // Alertmanager validates the batch as a whole: a 400 refuses all of it.
    return failure.retryable ? { delivered: [], rejected: [], failure } : { delivered: [], rejected: ids, failure };
  }
}
