import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../contract/clock.js';
import { parseAlertRules } from '../../../../collector/alerts/load-rules.js';
import { WecomNotifier, type WecomOptions } from '../../../../collector/alerts/notifiers/wecom.js';
import { until } from '../../../support/until.js';
import { robotHarness, T0 } from './robot-harness.js';
import { startRobotStub } from './robot-stub.js';

const KEY = '693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa';
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

/** A WeCom notifier on a local stub; stub and engine share one ManualClock. */
async function wecomOnStub(opts: Partial<WecomOptions> = {}, rules?: ReturnType<typeof parseAlertRules>) {
  const clock = new ManualClock(T0);
  const stub = await startRobotStub({ clock, wecom_key: KEY, dingtalk_token: 'unused' });
  const notifier = new WecomNotifier({
    name: 'wecom-facilities',
    key: KEY,
    base_url: stub.base_url,
    msgtype: 'markdown',
    text: { language: 'zh', timezone: 'Asia/Shanghai' },
    severities: ['critical', 'warning', 'info'],
    per_minute: 20,
    timeout_ms: 2000,
    ...opts,
  });
  const h = robotHarness([notifier], { clock, ...(rules ? { rules } : {}) });
  closers.push(() => h.engine.stop(), stub.close);
  return { h, stub, notifier };
}

describe('WeCom group robot notifier (local stub on 127.0.0.1)', () => {
  it('posts a Chinese markdown message when a rack group runs hot, and another when it is over', async () => {
    const { h, stub } = await wecomOnStub();
    h.start();
    h.temps.set('th-r1', 28.4);
    h.run(5 * 60_000 + 10_000);
    await h.engine.flushDeliveries();
    expect(stub.refused).toEqual([]);
    expect(stub.accepted).toHaveLength(1);
    const fired = stub.accepted[0]!;
    expect(fired.body).toEqual({ msgtype: 'markdown', markdown: { content: fired.content } });
    const c = fired.content;
    expect(c).toContain('<font color="warning">【警告】告警</font> RackInletTemperature');
    expect(c).toContain('**Rack inlet 28.4 °C in rack group pod-a (hall h1), outside 18–27 °C (warning)**');
    expect(c).toContain('> 级别：警告 (warning)');
    expect(c).toContain('> 位置：站点 t / 机房 h1 / 机柜组 pod-a');
    expect(c).toContain('> 数值：28.4');
    // 00:05:10 UTC is 08:05:10 in Asia/Shanghai.
    expect(c).toContain('> 开始：2026-06-01 08:05:10 (Asia/Shanghai)');
    expect(c).toContain('> 已持续：0秒');
    expect(c).toMatch(/> 处置：Check the cooling serving rack group pod-a/);
    expect(c).toMatch(/告警 ID：rack_inlet_temperature-[0-9a-f]{16}/);
    expect(Buffer.byteLength(c, 'utf8')).toBeLessThanOrEqual(4096);

    h.run(12 * 60_000);
    h.temps.set('th-r1', 24);
    h.run(10_000);
    await h.engine.flushDeliveries();
    expect(stub.accepted).toHaveLength(2);
    const resolved = stub.accepted[1]!.content;
    expect(resolved).toContain('<font color="info">【警告】已恢复</font> RackInletTemperature');
    expect(resolved).toContain('> 结束：2026-06-01 08:17:20 (Asia/Shanghai)');
    expect(resolved).toContain('> 共持续：12分10秒');
    expect(h.stats('wecom-facilities')).toMatchObject({ sent: 2, rejected: 0, failures: 0, counters: { messages: 2, digests: 0 } });
  });

  it('says 已升级 (escalated) when the critical supersedes the warning, with English beside the Chinese when asked', async () => {
    const { h, stub } = await wecomOnStub({ text: { language: 'zh-en', timezone: 'Asia/Shanghai' } });
    h.start();
    h.temps.set('th-r3', 28);
    h.run(6 * 60_000);
    await h.engine.flushDeliveries();
    h.temps.set('th-r3', 33);
    h.run(6 * 60_000);
    await h.engine.flushDeliveries();
    const heads = stub.accepted.map((a) => /<font color="\w+">([^<]+)<\/font>/.exec(a.content)?.[1]);
    expect(heads.sort()).toEqual(['【严重】告警 CRITICAL FIRING', '【警告】告警 WARNING FIRING', '【警告】已升级 WARNING ESCALATED'].sort());
    const escalated = stub.accepted.find((a) => a.content.includes('ESCALATED'))!.content;
    expect(escalated).toContain('同一位置的更高级别告警已触发，本告警暂停通知。');
    expect(escalated).toContain('> 位置 where：站点 site t / 机房 hall h1 / 机柜组 rack group pod-b');
  });

  it('keeps a message within 4096 bytes of UTF-8, dropping the long description first', async () => {
    const long = '冷通道温度异常，'.repeat(200); // 4,800 bytes of Chinese
    const rules = parseAlertRules(`rules: [{ id: agent_offline, kind: agent_offline, severity: critical, summary: "采集代理 {agent} 离线", description: "${long}", runbook: "检查采集代理主机与服务" }]`);
    const { h, stub } = await wecomOnStub({}, rules);
    h.start();
    h.agent('edge-9', false);
    await h.engine.flushDeliveries();
    expect(stub.refused).toEqual([]);
    const c = stub.accepted[0]!.content;
    expect(Buffer.byteLength(c, 'utf8')).toBeLessThanOrEqual(4096);
    expect(c).toContain('**采集代理 edge-9 离线**');
    expect(c).toContain('> 处置：检查采集代理主机与服务');
    expect(c).not.toContain('冷通道温度异常');
    expect(h.stats('wecom-facilities')?.counters).toMatchObject({ truncated: 1 });
  });

  it('an errcode ≠ 0 in an HTTP 200 reply is a failure: refused for good, or retried when WeCom is busy', async () => {
    const rules = parseAlertRules('rules: [{ id: agent_offline, kind: agent_offline, severity: critical, summary: "{agent} offline" }]');
    const { h, stub } = await wecomOnStub({}, rules);
    h.start();
    stub.script.wecom.push({ errcode: -1, errmsg: 'system busy' });
    h.agent('edge-1', false);
    await until('the busy reply', () => stub.refused.length === 1);
    await new Promise((r) => setImmediate(r));
    expect(h.stats('wecom-facilities')).toMatchObject({ sent: 0, failures: 1, rejected: 0, pending: 1 });
    h.clock.advance(1000); // the dispatcher's first back-off
    await until('the retry', () => stub.accepted.length === 1);

    stub.script.wecom.push({ errcode: 93000, errmsg: `invalid webhook url, hint: key=${KEY}` });
    h.agent('edge-2', false);
    await until('the refusal', () => stub.refused.length === 2);
    await until('the refusal booked', () => h.stats('wecom-facilities')?.rejected === 1);
    expect(h.stats('wecom-facilities')).toMatchObject({ sent: 1, rejected: 1, pending: 0, counters: { refused: 1 } });
    const refusal = h.logger.lines.find((l) => l.msg === 'alert notification refused by the destination');
    expect(refusal).toMatchObject({ code: 'DCIM_E_ALERT_ROBOT_REFUSED', notifier: 'wecom-facilities' });
    expect(String(refusal?.error)).toContain('errcode 93000');
    // The key is the credential: never in a log line, even when the vendor echoes it.
    expect(JSON.stringify(h.logger.lines)).not.toContain(KEY);
  });

  it('keeps to 20 messages a minute: the rest waits for a free slot and goes as one digest', async () => {
    const rules = parseAlertRules('rules: [{ id: agent_offline, kind: agent_offline, severity: critical, summary: "{agent} offline" }]');
    const { h, stub } = await wecomOnStub({}, rules);
    h.start();
    for (let i = 1; i <= 25; i++) {
      h.agent(`edge-${i}`, false);
      await until(`agent ${i} handled`, () => stub.accepted.length === Math.min(i, 20) && h.stats('wecom-facilities')?.pending === Math.max(0, i - 20));
      h.clock.advance(1000);
    }
    // The robot never had to say "too fast": the notifier held the 21st … 25th back itself.
    expect(stub.refused).toEqual([]);
    expect(stub.accepted).toHaveLength(20);
    expect(h.stats('wecom-facilities')).toMatchObject({ sent: 20, pending: 5, failures: 0 });
    expect(h.stats('wecom-facilities')!.throttled).toBeGreaterThanOrEqual(1);

    // The first slot frees 60 s after the first message (sent at T0 + 0 s).
    h.clock.set(T0 + 60_000 - 1);
    await new Promise((r) => setTimeout(r, 50));
    expect(stub.accepted).toHaveLength(20);
    h.clock.set(T0 + 60_000);
    await until('the digest', () => stub.accepted.length === 21);
    const digest = stub.accepted[20]!.content;
    expect(digest.split('\n')[0]).toBe('**告警汇总：5 条（触发 5，恢复/升级 0）**');
    for (let i = 21; i <= 25; i++) expect(digest).toContain(`edge-${i} offline`);
    expect(h.stats('wecom-facilities')).toMatchObject({ sent: 25, pending: 0, counters: { messages: 21, digests: 1, throttled_by_robot: 0 } });
    // No 60 s window ever held more than 20 messages.
    const times = stub.accepted.map((a) => a.at_ms);
    for (const t of times) expect(times.filter((u) => u > t - 60_000 && u <= t).length).toBeLessThanOrEqual(20);
  });

  it('when the robot itself says "too fast" (45009), posts nothing for a minute, then resumes', async () => {
    const rules = parseAlertRules('rules: [{ id: agent_offline, kind: agent_offline, severity: critical, summary: "{agent} offline" }]');
    const { h, stub } = await wecomOnStub({}, rules);
    h.start();
    stub.script.wecom.push({ errcode: 45009, errmsg: 'api freq out of limit' });
    h.agent('edge-1', false);
    await until('the throttle reply', () => stub.refused.length === 1);
    await until('the throttle booked', () => h.stats('wecom-facilities')?.counters?.throttled_by_robot === 1);
    h.agent('edge-2', false);
    h.clock.advance(59_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(stub.accepted).toHaveLength(0);
    h.clock.advance(1000);
    await until('delivery after the pause', () => stub.accepted.length >= 1 && h.stats('wecom-facilities')?.pending === 0);
    expect(h.stats('wecom-facilities')).toMatchObject({ sent: 2, failures: 0 });
    expect(h.logger.lines.find((l) => l.code === 'DCIM_E_ALERT_ROBOT_THROTTLED')).toBeDefined();
  });

  it('only the severities it is given: a critical-only robot acknowledges warnings without a message', async () => {
    const { h, stub } = await wecomOnStub({ severities: ['critical'] });
    h.start();
    h.temps.set('th-r1', 28);
    h.run(6 * 60_000);
    await h.engine.flushDeliveries();
    expect(stub.accepted).toEqual([]);
    expect(h.stats('wecom-facilities')).toMatchObject({ pending: 0, counters: { skipped: 1, messages: 0 } });
  });

  it('text messages stay within 2048 bytes and carry the mentions WeCom takes for text', async () => {
    const { h, stub } = await wecomOnStub({ msgtype: 'text', mention_mobiles: ['13800001111'], mention_users: ['zhangsan'] });
    h.start();
    h.temps.set('th-r2', 14);
    h.run(6 * 60_000);
    await h.engine.flushDeliveries();
    expect(stub.refused).toEqual([]);
    const a = stub.accepted[0]!;
    expect(a.body).toEqual({ msgtype: 'text', text: { content: a.content, mentioned_list: ['zhangsan'], mentioned_mobile_list: ['13800001111'] } });
    expect(a.content.split('\n')[0]).toBe('【严重】告警 RackInletTemperature');
    expect(a.content).toContain('级别：严重 (critical)');
    expect(Buffer.byteLength(a.content, 'utf8')).toBeLessThanOrEqual(2048);
    expect(a.rawQuery).toBe(`?key=${KEY}`);
  });
});
