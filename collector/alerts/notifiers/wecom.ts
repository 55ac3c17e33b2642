import { GroupRobotNotifier, type ErrcodeVerdict, type GroupRobotOptions, type RobotRequest } from './group-robot.js';
import type { RobotMessage } from './robot-message.js';

/**
 * A WeCom (企业微信) group robot (群机器人): `POST <base>/cgi-bin/webhook/send?key=<key>` with
 * `{msgtype: "markdown", markdown: {content}}` (content ≤ 4096 bytes UTF-8) or
 * `{msgtype: "text", text: {content, mentioned_list, mentioned_mobile_list}}` (≤ 2048 bytes).
 * The key is the credential: whoever has it can post to the group, so it is a secret.
 */
export const WECOM_BASE_URL = 'https://qyapi.weixin.qq.com';

export interface WecomOptions extends Omit<GroupRobotOptions, 'secrets'> {
  key: string;
  /** Production: the vendor URL; tests point it at a local stub. */
  base_url?: string;
  msgtype: 'markdown' | 'text';
  /** userids to @: `<@userid>` in markdown, `mentioned_list` in text (`@all` for everyone). */
  mention_users?: readonly string[];
  /** Phone numbers to @ (text messages only: WeCom markdown cannot @ by phone). */
  mention_mobiles?: readonly string[];
}

/** WeCom's documented content limits, in UTF-8 bytes. */
export const WECOM_MAX_BYTES = { markdown: 4096, text: 2048 } as const;

/** Errcodes that a retry can cure: -1 system busy; 45009 the robot's frequency limit. */
const WECOM_BUSY = -1;
const WECOM_TOO_FAST = 45009;

export class WecomNotifier extends GroupRobotNotifier {
  private readonly endpoint: URL;

  constructor(private readonly opts: WecomOptions) {
    super({ ...opts, secrets: [opts.key] }, { label: 'WeCom robot', markup: opts.msgtype === 'markdown' ? 'wecom' : 'text', max_bytes: WECOM_MAX_BYTES[opts.msgtype] });
    const base = (opts.base_url ?? WECOM_BASE_URL).replace(/\/*$/, '/');
    this.endpoint = new URL('cgi-bin/webhook/send', base);
    this.endpoint.searchParams.set('key', opts.key);
  }

  protected override mentionSuffix(): string {
    const users = this.opts.mention_users ?? [];
    return this.opts.msgtype === 'markdown' && users.length > 0 ? `\n${users.map((u) => `<@${u}>`).join(' ')}` : '';
  }

  protected request(m: RobotMessage): RobotRequest {
    if (this.opts.msgtype === 'markdown') return { url: this.endpoint, body: { msgtype: 'markdown', markdown: { content: m.content } } };
    const mentioned_list = this.opts.mention_users ?? [];
    const mentioned_mobile_list = this.opts.mention_mobiles ?? [];
    return {
      url: this.endpoint,
      body: {
        msgtype: 'text',
        text: { content: m.content, ...(mentioned_list.length > 0 ? { mentioned_list } : {}), ...(mentioned_mobile_list.length > 0 ? { mentioned_mobile_list } : {}) },
      },
    };
  }

  protected verdict(errcode: number): ErrcodeVerdict {
    if (errcode === WECOM_TOO_FAST) return { kind: 'throttled', pause_ms: 60_000 };
    if (errcode === WECOM_BUSY) return { kind: 'retry' };
    // 93000 invalid key, 40008 message type, 40058 parameter, 44004 empty content …: the same bytes fail again.
    return { kind: 'refused' };
  }
}
