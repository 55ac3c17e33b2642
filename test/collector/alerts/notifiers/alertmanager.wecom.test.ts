import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../../contract/clock.js';
import { memoryLogger } from '../../../../shared/log.js';
import { AlertEngine } from '../../../../collector/alerts/alert-engine.js';
import { loadAlertRuleSet } from '../../../../collector/alerts/load-rules.js';
import { AlertmanagerNotifier } from '../../../../collector/alerts/notifiers/alertmanager.js';
import { findBinary } from '../../../support/find-binary.js';
import { servicePolicy, useService } from '../../../support/require-service.js';
import { startAlertmanager } from '../../../support/services.js';
import { until } from '../../../support/until.js';
import { down, profiles, testInventory } from '../fixtures.js';
import { repoPath } from '../../../support/repo-path.js';

/** The shipped example: Alertmanager's own WeChat integration, routed by severity. */
const FILE = repoPath('collector', 'deploy', 'alertmanager-wecom.yml');
const SHIPPED = readFileSync(FILE, 'utf8');

describe('collector/deploy/alertmanager-wecom.yml', () => {
  it('passes amtool check-config as shipped', async () => {
    const amtool = findBinary(['amtool']);
    if (!amtool.ok) {
      if (servicePolicy().required) throw new Error(`amtool unavailable: ${amtool.reason}`);
      console.warn(`SKIPPED: ${amtool.reason}`);
      return;
    }
    const { stdout } = await promisify(execFile)(amtool.value, ['check-config', FILE]);
    expect(stdout).toMatch(/SUCCESS/);
    expect(stdout).toMatch(/2 inhibit rules/);
  });
});

/** What the WeCom API stub on 127.0.0.1 was asked: token requests and messages. */
interface WechatCall {
  path: string;
  query: Record<string, string>;
  body?: { touser?: string; toparty?: string; totag?: string; agentid?: string; msgtype?: string; text?: { content: string }; safe?: string };
}

describe('its route through a real prometheus-alertmanager to a WeCom API stub', () => {
  const calls: WechatCall[] = [];
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    // WeCom's app API as Alertmanager uses it: GET gettoken, then POST message/send with the token.
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const call: WechatCall = { path: url.pathname, query: Object.fromEntries(url.searchParams) };
        if (chunks.length > 0) call.body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as WechatCall['body'];
        calls.push(call);
        const reply =
          url.pathname === '/cgi-bin/gettoken'
            ? { errcode: 0, errmsg: 'ok', access_token: 'tok-1', expires_in: 7200 }
            : url.pathname === '/cgi-bin/message/send' && url.searchParams.get('access_token') === 'tok-1'
              ? { errcode: 0, errmsg: 'ok' }
              : { errcode: 40014, errmsg: 'invalid access_token' };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  // The shipped file with only the vendor URL pointed at the stub and the waits shortened.
  const am = useService('alertmanager', () =>
    startAlertmanager({
      config_yaml: SHIPPED.replace('wechat_api_url: https://qyapi.weixin.qq.com/cgi-bin/', `wechat_api_url: http://127.0.0.1:${port}/cgi-bin/`)
        .replace('group_wait: 30s', 'group_wait: 0s')
        .replace('group_interval: 5m', 'group_interval: 1s'),
    }),
  );

  it('a critical alert from the collector reaches the on-call department in Chinese; its resolve follows', async () => {
    const engine = new AlertEngine({
      inventories: [testInventory()],
      profiles,
      rules: loadAlertRuleSet(),
      clock: new SystemClock(),
      logger: memoryLogger('info'),
      notifiers: [new AlertmanagerNotifier({ url: am().url, timeout_ms: 2000 })],
      backoff_min_ms: 100,
      backoff_max_ms: 500,
    });
    engine.start();
    try {
      engine.observeDeviceStatus('t', 'th-r2', down(Date.now() - 61_000), 'edge-1');
      engine.evaluate(Date.now() - 61_000);
      engine.evaluate();
      const sends = () => calls.filter((c) => c.path === '/cgi-bin/message/send');
      await until('the WeCom message', () => sends().length >= 1, 60_000, () => JSON.stringify(calls));
      const token = calls.find((c) => c.path === '/cgi-bin/gettoken');
      expect(token?.query).toEqual({ corpid: 'ww0123456789abcdef', corpsecret: 'replace-with-the-app-secret' });
      const fired = sends()[0]!;
      expect(fired.query.access_token).toBe('tok-1');
      expect(fired.body).toMatchObject({ agentid: '1000002', toparty: '2', msgtype: 'text' });
      const text = fired.body?.text?.content ?? '';
      expect(text).toContain('【严重】告警 DeviceDown');
      expect(text).toContain('Device th-r2 is down (DCIM_E_MODBUS_TIMEOUT)');
      expect(text).toContain('位置：站点 t / 机房 h1 / 机柜组 pod-a / 机柜 r2 / 设备 th-r2');
      expect(text).toMatch(/处置：Check power and network/);

      engine.observeDeviceStatus('t', 'th-r2', { state: 'up', since: Date.now(), last_ok: Date.now() }, 'edge-1');
      engine.evaluate();
      await until('the resolve', () => sends().some((c) => (c.body?.text?.content ?? '').includes('已恢复')), 60_000, () => JSON.stringify(sends()));
      const resolved = sends().find((c) => (c.body?.text?.content ?? '').includes('已恢复'))!;
      expect(resolved.body).toMatchObject({ toparty: '2' });
      expect(resolved.body?.text?.content).toMatch(/结束：\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
    } finally {
      await engine.stop();
    }
  });
});
