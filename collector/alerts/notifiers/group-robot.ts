import { z } from 'zod';
import { DCIM_VERSION } from '../../../contract/index.js';
import type { ErrorCode } from '../../../contract/errors.js';
import type { Severity } from '../rule-schema.js';
import { httpFailure, networkFailure, type Delivery, type Notifier, type SendFailure, type SendResult } from './notifier.js';
import { RateWindow } from './rate-window.js';
import { digestMessages, singleMessage, type RobotMessage, type RobotTextOptions } from './robot-message.js';

/**
 * What WeCom (企业微信) and DingTalk (钉钉) group robots share: a JSON POST to a URL that carries
 * the robot's credential, a `{errcode, errmsg}` reply in which errcode ≠ 0 is a failure even with
 * HTTP 200, and a limit of 20 messages a minute per robot. The vendor files say how to address,
 * sign and shape a message and what their errcodes mean; this file sends.
 *
 * Rate limit: the owed alert states are the queue (the dispatcher's; one entry per alert, its
 * newest state, bounded by the number of alerts and by `expire_h`). Each send posts at most as
 * many messages as the robot's window still allows: one per alert while they fit, else digests
 * that pack many alerts into one message. What does not fit waits for the next free slot
 * (`throttled`, no back-off). If the robot says "too fast" anyway (another sender shares it),
 * nothing is posted until its stated pause is over.
 */
export interface GroupRobotOptions {
  /** The notifier's name (`wecom-<name>`, `dingtalk-<name>`). */
  name: string;
  text: Omit<RobotTextOptions, 'markup' | 'max_bytes'>;
  /** Severities this robot is told about; the others are acknowledged without a message. */
  severities: readonly Severity[];
  timeout_ms: number;
  /** Messages per minute (the vendors allow 20). */
  per_minute: number;
  /** Credentials that must never appear in a log line or an error. */
  secrets: readonly string[];
}

/** What a robot answers: `{errcode: 0, errmsg: "ok"}` on success. */
export const RobotReplySchema = z.object({ errcode: z.number().int(), errmsg: z.string().default('') }).loose();

export type ErrcodeVerdict = { kind: 'ok' } | { kind: 'throttled'; pause_ms: number } | { kind: 'retry' } | { kind: 'refused' };

export interface RobotRequest {
  url: URL;
  body: unknown;
}

export interface RobotCounters {
  /** Messages the robot accepted (errcode 0). */
  messages: number;
  /** Of those, digests announcing several alerts at once. */
  digests: number;
  /** Messages cut to fit the vendor's byte limit. */
  truncated: number;
  /** Alert states of severities this robot is not told about. */
  skipped: number;
  /** Replies with an errcode that refuses the message (bad key or token, signature, content). */
  refused: number;
  /** Replies saying "too fast" although this notifier kept to the limit. */
  throttled_by_robot: number;
  /** No answer, HTTP 5xx, or a reply that is not the robot's JSON. */
  unreachable: number;
}

export abstract class GroupRobotNotifier implements Notifier {
  readonly name: string;
  /** Large, so a burst reaches `send` at once and can be merged into digests. */
  readonly batch_size = 500;
  private readonly window: RateWindow;
  private readonly stats: RobotCounters = { messages: 0, digests: 0, truncated: 0, skipped: 0, refused: 0, throttled_by_robot: 0, unreachable: 0 };

  protected constructor(
    protected readonly base: GroupRobotOptions,
    private readonly vendor: { label: string; markup: RobotTextOptions['markup']; max_bytes: number },
  ) {
    this.name = base.name;
    this.window = new RateWindow(base.per_minute, 60_000);
  }

  /** The URL (with credentials, signed if the vendor signs) and JSON body of one message. */
  protected abstract request(m: RobotMessage, now_ms: number): RobotRequest;
  /** What an errcode ≠ 0 means. */
  protected abstract verdict(errcode: number): ErrcodeVerdict;
  /** Appended to every message (mentions), kept when a message is shortened. */
  protected mentionSuffix(): string {
    return '';
  }

  counters(): Record<string, number> {
    return { ...this.stats };
  }

  protected get textOptions(): RobotTextOptions {
    return { ...this.base.text, markup: this.vendor.markup, max_bytes: this.vendor.max_bytes };
  }

  async send(batch: readonly Delivery[], now_ms: number): Promise<SendResult> {
    const delivered: string[] = [];
    const wanted: Delivery[] = [];
    for (const d of batch) {
      if (this.base.severities.includes(d.record.severity)) wanted.push(d);
      else {
        delivered.push(d.record.id);
        this.stats.skipped++;
      }
    }
    if (wanted.length === 0) return { delivered, rejected: [] };

    const slots = this.window.available(now_ms);
    if (slots === 0) return { delivered, rejected: [], failure: this.waitForSlot(now_ms) };
    const o = this.textOptions;
    const suffix = this.mentionSuffix();
    const messages = wanted.length <= slots ? wanted.map((d) => singleMessage(d, now_ms, o, suffix)) : digestMessages(wanted, now_ms, o, suffix).slice(0, slots);

    for (const m of messages) {
      this.window.take(now_ms);
      const failure = await this.post(m, now_ms);
      if (failure) {
        if (failure.throttled) this.window.block(now_ms + (failure.retry_after_ms ?? 60_000));
        return failure.retryable || failure.throttled ? { delivered, rejected: [], failure } : { delivered, rejected: m.ids, failure };
      }
      this.stats.messages++;
      if (m.ids.length > 1) this.stats.digests++;
      if (m.truncated) this.stats.truncated++;
      delivered.push(...m.ids);
    }
    const left = wanted.length - messages.reduce((n, m) => n + m.ids.length, 0);
    return left > 0 ? { delivered, rejected: [], failure: this.waitForSlot(now_ms) } : { delivered, rejected: [] };
  }

  private waitForSlot(now_ms: number): SendFailure {
    return { message: `rate limit: ${this.base.per_minute} messages a minute reached`, retryable: true, throttled: true, retry_after_ms: Math.max(1, this.window.waitMs(now_ms)) };
  }

  /** Credentials out of anything that may be logged. */
  protected redact(text: string): string {
    let out = text;
    for (const s of this.base.secrets) if (s.length > 0) out = out.split(s).join('***');
    return out;
  }

  private async post(m: RobotMessage, now_ms: number): Promise<SendFailure | undefined> {
    const { url, body } = this.request(m, now_ms);
    const fail = (code: ErrorCode, f: SendFailure): SendFailure => ({ ...f, code, message: this.redact(`${this.vendor.label}: ${f.message}`) });
    let res: Response;
    try {
      res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': `dcim-pulse/${DCIM_VERSION}` },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.base.timeout_ms),
        redirect: 'error',
      });
    } catch (e) {
      this.stats.unreachable++;
      return fail('DCIM_E_ALERT_ROBOT_UNREACHABLE', networkFailure(e, this.base.timeout_ms));
    }
    const text = await res.text().catch(() => '');
    if (!res.ok) {
      const f = httpFailure(res.status, text, res.headers.get('retry-after'));
      if (f.retryable) this.stats.unreachable++;
      else this.stats.refused++;
      return fail(f.retryable ? 'DCIM_E_ALERT_ROBOT_UNREACHABLE' : 'DCIM_E_ALERT_ROBOT_REFUSED', f);
    }
    let reply: z.infer<typeof RobotReplySchema>;
    try {
      reply = RobotReplySchema.parse(JSON.parse(text));
    } catch {
      this.stats.unreachable++;
      return fail('DCIM_E_ALERT_ROBOT_UNREACHABLE', { message: `HTTP ${res.status} but the reply is not {errcode, errmsg}: ${text.slice(0, 120)}`, retryable: true });
    }
    if (reply.errcode === 0) return undefined;
    const what = `errcode ${reply.errcode}: ${reply.errmsg.slice(0, 200)}`;
    const v = this.verdict(reply.errcode);
    switch (v.kind) {
      case 'ok':
        return undefined;
      case 'throttled':
        this.stats.throttled_by_robot++;
        return fail('DCIM_E_ALERT_ROBOT_THROTTLED', { message: what, retryable: true, throttled: true, retry_after_ms: v.pause_ms });
      case 'retry':
        this.stats.unreachable++;
        return fail('DCIM_E_ALERT_ROBOT_UNREACHABLE', { message: what, retryable: true });
      case 'refused':
        this.stats.refused++;
        return fail('DCIM_E_ALERT_ROBOT_REFUSED', { message: what, retryable: false });
    }
  }
}
