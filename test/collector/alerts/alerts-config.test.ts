import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseYamlText } from '../../../shared/config/load.js';
import { AlertsConfigSchema, alertsConfigWithAbsolutePaths, notifiersFromConfig } from '../../../collector/alerts/alerts-config.js';
import { DingtalkNotifier } from '../../../collector/alerts/notifiers/dingtalk.js';
import { WecomNotifier } from '../../../collector/alerts/notifiers/wecom.js';

const parse = (yaml: string) => AlertsConfigSchema.safeParse(parseYamlText(yaml, 'collector.yaml'));
const issues = (yaml: string) => {
  const r = parse(yaml);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
};

describe('alerts config: WeCom and DingTalk robots', () => {
  it('defaults: the vendor URLs, markdown, Chinese, Asia/Shanghai, every severity, 20 a minute', () => {
    const r = parse('wecom: [{ name: facilities, key: { env: WECOM_KEY } }]\ndingtalk: [{ name: oncall, access_token: { env: DT_TOKEN } }]\nmqtt: false');
    expect(r.success).toBe(true);
    expect(r.data?.wecom[0]).toEqual({
      name: 'facilities',
      key: { env: 'WECOM_KEY' },
      base_url: 'https://qyapi.weixin.qq.com',
      msgtype: 'markdown',
      language: 'zh',
      timezone: 'Asia/Shanghai',
      severities: ['critical', 'warning', 'info'],
      per_minute: 20,
      timeout_ms: 10_000,
      mention_users: [],
      mention_mobiles: [],
    });
    expect(r.data?.dingtalk[0]).toMatchObject({ base_url: 'https://oapi.dingtalk.com', at_mobiles: [], at_all: false, per_minute: 20 });
  });

  it('refuses what the vendors would refuse, each problem at its path', () => {
    expect(
      issues(
        [
          'wecom:',
          '  - { name: a, key: k1, per_minute: 30, timezone: Mars/Olympus, mention_mobiles: ["13800001111"] }',
          '  - { name: a, key: k2, base_url: "https://qyapi.weixin.qq.com/?key=x" }',
          'dingtalk:',
          '  - { name: b, access_token: t, at_mobiles: ["call me"], language: fr }',
        ].join('\n'),
      ),
    ).toEqual([
      'wecom.0.timezone: unknown time zone',
      'wecom.0.per_minute: Too big: expected number to be <=20',
      'wecom.0.mention_mobiles: WeCom markdown messages cannot @ by phone: use msgtype: text or mention_users',
      'wecom.1.base_url: expected an http(s) base URL without query',
      'wecom.1.name: duplicate wecom robot name a',
      'dingtalk.0.language: Invalid option: expected one of "zh"|"zh-en"',
      'dingtalk.0.at_mobiles.0: expected a phone number',
    ]);
    expect(issues('wecom: [{ name: a, key: k, msgtype: text, mention_mobiles: ["13800001111"] }]')).toEqual([]);
  });

  it('resolves the secrets at start (env and file), relative files against the config folder', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dcim-robot-secrets-'));
    writeFileSync(join(dir, 'dingtalk.secret'), 'SECabc\n', { mode: 0o600 });
    const c = alertsConfigWithAbsolutePaths(
      AlertsConfigSchema.parse(parseYamlText('wecom: [{ name: f, key: { env: WK } }]\ndingtalk: [{ name: o, access_token: { env: DT }, secret: { file: dingtalk.secret } }]\nmqtt: false', 'c.yaml')),
      (p) => join(dir, p),
    );
    const ns = notifiersFromConfig(c, { env: { WK: 'wk-1', DT: 'dt-1' } });
    expect(ns.map((n) => n.name)).toEqual(['wecom-f', 'dingtalk-o']);
    expect(ns[0]).toBeInstanceOf(WecomNotifier);
    expect(ns[1]).toBeInstanceOf(DingtalkNotifier);
    // The secret file's trailing newline is not part of the secret.
    expect((ns[1] as unknown as { opts: { secret: string } }).opts.secret).toBe('SECabc');
  });

  it('a missing secret or a whole webhook URL given as the key fails at start with its code, without echoing the value', () => {
    const c = AlertsConfigSchema.parse(parseYamlText('dingtalk: [{ name: o, access_token: { env: DT } }]\nmqtt: false', 'c.yaml'));
    expect(() => notifiersFromConfig(c, { env: {} })).toThrow(expect.objectContaining({ code: 'DCIM_E_SECRET_MISSING', message: 'alerts.dingtalk[0].access_token: environment variable DT is not set' }));
    const url = 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4';
    const w = AlertsConfigSchema.parse(parseYamlText('wecom: [{ name: f, key: { env: WK } }]\nmqtt: false', 'c.yaml'));
    let err: (Error & { code?: string }) | undefined;
    try {
      notifiersFromConfig(w, { env: { WK: url } });
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err?.code).toBe('DCIM_E_CONFIG_INVALID');
    expect(err?.message).toMatch(/^alerts\.wecom\[0\]\.key: expected the bare key/);
    expect(err?.message).not.toContain('693a91f6');
  });
});
