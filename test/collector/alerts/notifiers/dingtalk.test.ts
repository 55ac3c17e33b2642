import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../contract/clock.js';
import { parseAlertRules } from '../../../../collector/alerts/load-rules.js';
import { DingtalkNotifier, dingtalkSign, type DingtalkOptions } from '../../../../collector/alerts/notifiers/dingtalk.js';
import { until } from '../../../support/until.js';
import { robotHarness, T0 } from './robot-harness.js';
import { startRobotStub } from './robot-stub.js';

const TOKEN = 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2';
/** Chosen so that the signature at T0 contains '+' and '/': an unencoded sign would not survive the query. */
const SECRET = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef1';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A DingTalk notifier on a local stub that checks the signature with `stubSecret` (null: unsigned robot; `secret: ''`: the notifier signs nothing). */
async function dingtalkOnStub(opts: Partial<DingtalkOptions> = {}, stubSecret: string | null = SECRET, rules?: ReturnType<typeof parseAlertRules>) {
  const clock = new ManualClock(T0);
  const stub = await startRobotStub({ clock, wecom_key: 'unused', dingtalk_token: TOKEN, ...(stubSecret !== null ? { dingtalk_secret: stubSecret } : {}) });
  const { secret = SECRET, ...rest } = opts;
  const notifier = new DingtalkNotifier({
    name: 'dingtalk-oncall',
    access_token: TOKEN,
    ...(secret !== '' ? { secret } : {}),
    base_url: stub.base_url,
    text: { language: 'zh', timezone: 'Asia/Shanghai' },
    severities: ['critical', 'warning', 'info'],
    per_minute: 20,
    timeout_ms: 2000,
    ...rest,
  });
  const h = robotHarness([notifier], { clock, ...(rules ? { rules } : {}) });
  closers.push(() => h.engine.stop(), stub.close);
  return { h, stub };
}

describe('DingTalk signing (加签)', () => {
  it('matches DingTalk’s documented recipe, computed independently (Python hmac/base64 on the same inputs)', () => {
    // python3: base64.b64encode(hmac.new(secret, f"{ts}\n{secret}", sha256).digest())
    expect(dingtalkSign(SECRET, 1780272000000)).toBe('+1bYVeG2FbuCpORxPrFbowXwyuJzBx/d1hffEwkcaXg=');
  });
});

describe('DingTalk group robot notifier (local stub on 127.0.0.1)', () => {
  it('posts a signed markdown message that the stub verifies, with the @ mobiles in the text', async () => {
    const { h, stub } = await dingtalkOnStub({ at_mobiles: ['13800001111'] });
    h.start();
    h.temps.set('th-r2', 33.2);
    h.run(5 * 60_000 + 10_000);
    await h.engine.flushDeliveries();
    expect(stub.refused).toEqual([]);
    expect(stub.accepted).toHaveLength(1);
    const a = stub.accepted[0]!;
    const query = new URLSearchParams(a.rawQuery);
    expect([...query.keys()]).toEqual(['access_token', 'timestamp', 'sign']);
    expect(query.get('timestamp')).toBe(String(T0 + 5 * 60_000 + 10_000));
    // Base64's + / = travel percent-encoded, as DingTalk's urlEncode step requires.
    expect(a.rawQuery).not.toMatch(/sign=[^&]*[+/=]/);
    expect(a.body).toEqual({ msgtype: 'markdown', markdown: { title: '【严重】告警 RackInletTemperature', text: a.content }, at: { atMobiles: ['13800001111'], isAtAll: false } });
    expect(a.content.split('\n').slice(0, 3)).toEqual(['### 【严重】告警 RackInletTemperature', '**Rack inlet 33.2 °C in rack group pod-a (hall h1), outside 15–32 °C (critical)**', '- 级别：严重 (critical)']);
    expect(a.content).toContain('- 位置：站点 t / 机房 h1 / 机柜组 pod-a');
    expect(a.content).toContain('- 开始：2026-06-01 08:05:10 (Asia/Shanghai)');
    expect(a.content.endsWith('\n\n@13800001111')).toBe(true);

    h.temps.set('th-r2', 25);
    h.run(10_000);
    await h.engine.flushDeliveries();
    expect(stub.refused).toEqual([]);
    const resolved = stub.accepted.find((x) => (x.body.markdown as { title: string }).title.includes('已恢复'));
    expect(resolved?.content).toContain('- 共持续：10秒');
  });

  it('a wrong signature is refused by the robot (errcode 310000): counted, logged with its code, secrets never logged', async () => {
    const { h, stub } = await dingtalkOnStub({}, 'SECsomeone-elses-secret');
    h.start();
    h.temps.set('th-r2', 14);
    h.run(6 * 60_000);
    await h.engine.flushDeliveries();
    expect(stub.accepted).toEqual([]);
    expect(stub.refused).toEqual([{ vendor: 'dingtalk', errcode: 310000, errmsg: 'sign not match' }]);
    expect(h.stats('dingtalk-oncall')).toMatchObject({ sent: 0, rejected: 1, pending: 0, counters: { refused: 1 } });
    const line = h.logger.lines.find((l) => l.code === 'DCIM_E_ALERT_ROBOT_REFUSED');
    expect(String(line?.error)).toBe('DingTalk robot: errcode 310000: sign not match');
    const logs = JSON.stringify(h.logger.lines);
    expect(logs).not.toContain(TOKEN);
    expect(logs).not.toContain(SECRET);
  });

  it('a robot secured by keyword or IP needs no signature: no timestamp or sign in the query', async () => {
    const { h, stub } = await dingtalkOnStub({ secret: '' }, null);
    h.start();
    h.temps.set('th-r2', 14);
    h.run(6 * 60_000);
    await h.engine.flushDeliveries();
    expect(stub.refused).toEqual([]);
    expect(stub.accepted[0]?.rawQuery).toBe(`?access_token=${TOKEN}`);
  });

  it('"send too fast" (130101) pauses the robot for 10 minutes, as DingTalk blocks it that long', async () => {
    const rules = parseAlertRules('rules: [{ id: agent_offline, kind: agent_offline, severity: critical, summary: "采集代理 {agent} 离线" }]');
    const { h, stub } = await dingtalkOnStub({}, SECRET, rules);
    h.start();
    stub.script.dingtalk.push({ errcode: 130101, errmsg: 'send too fast, exceed 20 times per minute' });
    h.agent('edge-1', false);
    await until('the throttle booked', () => h.stats('dingtalk-oncall')?.counters?.throttled_by_robot === 1);
    h.agent('edge-2', false);
    h.clock.advance(10 * 60_000 - 1000);
    await new Promise((r) => setTimeout(r, 50));
    expect(stub.accepted).toEqual([]);
    h.clock.advance(1000);
    await until('delivery after the pause', () => h.stats('dingtalk-oncall')?.pending === 0);
    expect(stub.refused).toHaveLength(1);
    // Both owed alerts fit the free slots: one message each, each signed with its own timestamp.
    expect(stub.accepted.map((a) => (a.body.markdown as { title: string }).title)).toEqual(['【严重】告警 AgentOffline', '【严重】告警 AgentOffline']);
    expect(h.stats('dingtalk-oncall')).toMatchObject({ sent: 2, failures: 0, rejected: 0 });
  });

  it('a burst beyond the free slots goes as digests within 4096 bytes, each alert in exactly one message', async () => {
    const rules = parseAlertRules('rules: [{ id: agent_offline, kind: agent_offline, severity: critical, summary: "采集代理 {agent} 离线，其采集的设备均不再受监控" }]');
    const { h, stub } = await dingtalkOnStub({ per_minute: 2, text: { language: 'zh-en', timezone: 'Asia/Shanghai' } }, SECRET, rules);
    h.start();
    for (let i = 1; i <= 60; i++) h.engine.observeAgentState('t', `edge-${String(i).padStart(2, '0')}`, { online: false, ts: h.clock.now(), version: '0.1.0', devices: 6, bd_seq: 1 });
    h.engine.evaluate(h.clock.now());
    await h.engine.flushDeliveries();
    expect(stub.refused).toEqual([]);
    expect(stub.accepted).toHaveLength(2);
    h.clock.advance(60_000);
    await until('the rest', () => h.stats('dingtalk-oncall')?.pending === 0);
    const mentioned = stub.accepted.flatMap((a) => [...a.content.matchAll(/采集代理 edge-(\d\d) 离线/g)].map((m) => m[1]));
    expect(mentioned.sort()).toEqual(Array.from({ length: 60 }, (_, i) => String(i + 1).padStart(2, '0')));
    for (const a of stub.accepted) {
      expect(Buffer.byteLength(a.content, 'utf8')).toBeLessThanOrEqual(4096);
      expect(a.content.split('\n')[0]).toMatch(/^### 告警汇总：\d+ 条（触发 \d+，恢复\/升级 0） \/ \d+ alert notifications$/);
    }
    expect(h.stats('dingtalk-oncall')?.counters).toMatchObject({ digests: stub.accepted.length, throttled_by_robot: 0 });
  });
});
