import { createHmac } from 'node:crypto';
import { GroupRobotNotifier, type ErrcodeVerdict, type GroupRobotOptions, type RobotRequest } from './group-robot.js';
import type { RobotMessage } from './robot-message.js';

/**
 * A DingTalk (钉钉) custom group robot (自定义机器人): `POST <base>/robot/send?access_token=<token>`
 * with `{msgtype: "markdown", markdown: {title, text}, at: {atMobiles, isAtAll}}`.
 *
 * Signing (加签), when the robot's security setting is a secret (`SEC…`): the query also carries
 * `timestamp` (ms since the epoch, within one hour of DingTalk's clock) and `sign`, the Base64 of
 * HMAC-SHA256 keyed by the secret over `timestamp + "\n" + secret` (UTF-8), URL-encoded. A robot
 * secured by keywords or an IP allow-list instead needs no secret (the keyword must then appear in
 * the rule texts).
 */
export const DINGTALK_BASE_URL = 'https://oapi.dingtalk.com';

export interface DingtalkOptions extends Omit<GroupRobotOptions, 'secrets'> {
  access_token: string;
  /** The robot's signing secret (SEC…); absent: the robot is secured by keyword or IP. */
  secret?: string;
  /** Production: the vendor URL; tests point it at a local stub. */
  base_url?: string;
  /** Phone numbers to @ (each also written into the text, which DingTalk requires). */
  at_mobiles?: readonly string[];
  at_all?: boolean;
}

/** DingTalk states no byte limit for a markdown text; 4096 bytes, like WeCom, reads whole on a phone. */
export const DINGTALK_MAX_BYTES = 4096;

/** -1 system busy; 130101 "send too fast": DingTalk then blocks the robot for 10 minutes. */
const DINGTALK_BUSY = -1;
const DINGTALK_TOO_FAST = 130101;
const DINGTALK_BLOCK_MS = 10 * 60_000;

/** The `sign` value before URL encoding: Base64(HMAC-SHA256(key = secret, timestamp + "\n" + secret)). */
export function dingtalkSign(secret: string, timestamp_ms: number): string {
  return createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${timestamp_ms}\n${secret}`, 'utf8').digest('base64');
}

export class DingtalkNotifier extends GroupRobotNotifier {
  private readonly base_url: string;

  constructor(private readonly opts: DingtalkOptions) {
    super({ ...opts, secrets: [opts.access_token, ...(opts.secret !== undefined ? [opts.secret] : [])] }, { label: 'DingTalk robot', markup: 'dingtalk', max_bytes: DINGTALK_MAX_BYTES });
    this.base_url = (opts.base_url ?? DINGTALK_BASE_URL).replace(/\/*$/, '/');
  }

  protected override mentionSuffix(): string {
    const mobiles = this.opts.at_mobiles ?? [];
    return mobiles.length > 0 ? `\n\n${mobiles.map((m) => `@${m}`).join(' ')}` : '';
  }

  protected request(m: RobotMessage, now_ms: number): RobotRequest {
    const url = new URL('robot/send', this.base_url);
    url.searchParams.set('access_token', this.opts.access_token);
    if (this.opts.secret !== undefined) {
      // URLSearchParams form-encodes the Base64 (+ / =), as DingTalk's urlEncode step asks.
      url.searchParams.set('timestamp', String(now_ms));
      url.searchParams.set('sign', dingtalkSign(this.opts.secret, now_ms));
    }
    const atMobiles = [...(this.opts.at_mobiles ?? [])];
    return {
      url,
      body: { msgtype: 'markdown', markdown: { title: m.title, text: m.content }, at: { atMobiles, isAtAll: this.opts.at_all ?? false } },
    };
  }

  protected verdict(errcode: number): ErrcodeVerdict {
    if (errcode === DINGTALK_TOO_FAST) return { kind: 'throttled', pause_ms: DINGTALK_BLOCK_MS };
    if (errcode === DINGTALK_BUSY) return { kind: 'retry' };
    // 310000 signature, keyword or IP check failed; 300001 token …: the same request fails again.
    return { kind: 'refused' };
  }
}
