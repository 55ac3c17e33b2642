import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../../contract/clock.js';
import { memoryLogger } from '../../../../shared/log.js';
import { AlertEngine } from '../../../../collector/alerts/alert-engine.js';
import { loadAlertRuleSet } from '../../../../collector/alerts/load-rules.js';
import { AlertmanagerNotifier } from '../../../../collector/alerts/notifiers/alertmanager.js';
import { useService } from '../../../support/require-service.js';
import { startAlertmanager, type Alertmanager, type AlertmanagerAlert } from '../../../support/services.js';
import { agentState, down, profiles, testInventory } from '../fixtures.js';

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function engineFor(am: Alertmanager, resend_ms = 60_000) {
  return new AlertEngine({
    inventories: [testInventory()],
    profiles,
    rules: loadAlertRuleSet(),
    clock: new SystemClock(),
    logger: memoryLogger('info'),
    notifiers: [new AlertmanagerNotifier({ url: am.url, resend_ms, timeout_ms: 2000, generator_url: 'http://collector.example:8080/api/alerts?id={id}' })],
    backoff_min_ms: 100,
    backoff_max_ms: 500,
  });
}

const byName = (name: string) => (alerts: AlertmanagerAlert[]) => alerts.filter((a) => a.labels.alertname === name);

/** What Alertmanager's webhook receivers got: [receiver, status, alertname, startsAt, endsAt] per alert. */
interface Notification {
  receiver: string;
  status: string;
  alerts: { status: string; labels: Record<string, string>; annotations: Record<string, string>; startsAt: string; endsAt: string; generatorURL: string }[];
}

/**
 * The routing of collector/README.md "Notifiers" (its Alertmanager example): critical pages, the rest goes to
 * a ticket queue; both are webhook receivers on 127.0.0.1 here, so the test sees what on-call sees.
 */
function routingConfig(port: number): string {
  return `
route:
  receiver: tickets
  group_by: [alertname, site]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['severity="critical"']
      receiver: pager
receivers:
  - name: pager
    webhook_configs: [{ url: 'http://127.0.0.1:${port}/pager', send_resolved: true }]
  - name: tickets
    webhook_configs: [{ url: 'http://127.0.0.1:${port}/tickets', send_resolved: true }]
`;
}

describe('Alertmanager API v2 (real prometheus-alertmanager on loopback)', () => {
  const notifications: Notification[] = [];
  let server: Server;
  let port = 0;
  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        notifications.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Notification);
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const am = useService('alertmanager', () => startAlertmanager({ config_yaml: routingConfig(port) }));

  it('fires, is read back with labels and annotations, then resolves with its endsAt', async () => {
    const engine = engineFor(am());
    engine.start();
    try {
      // Device down holds one minute: observe it as down since 61 s ago.
      engine.observeDeviceStatus('t', 'th-r2', down(Date.now() - 61_000), 'edge-1');
      engine.evaluate(Date.now() - 61_000);
      engine.evaluate();
      const [alert] = byName('DeviceDown')(await until(() => am().alerts(['alertname="DeviceDown"']), (a) => a.length === 1));
      expect(alert?.labels).toEqual({ alertname: 'DeviceDown', severity: 'critical', site: 't', hall: 'h1', rack: 'r2', rack_group: 'pod-a', device: 'th-r2' });
      expect(alert?.annotations).toMatchObject({ summary: 'Device th-r2 is down (DCIM_E_MODBUS_TIMEOUT)', runbook: expect.stringMatching(/^Check power and network/) });
      expect(alert?.annotations.alert_id).toMatch(/^device_down-[0-9a-f]{16}$/);
      expect(alert?.state).toBe('active');
      const firedAt = Date.parse(alert!.startsAt);
      expect(Math.abs(firedAt - Date.now())).toBeLessThan(5000);
      // endsAt lies ahead (4 re-send periods): Alertmanager keeps it active while we re-send.
      expect(Date.parse(alert!.endsAt)).toBeGreaterThan(Date.now() + 3 * 60_000);

      engine.observeDeviceStatus('t', 'th-r2', { state: 'up', since: Date.now(), last_ok: Date.now() }, 'edge-1');
      const resolvedAt = Date.now();
      engine.evaluate(resolvedAt);
      // Resolved: it leaves the active list, and the pager receiver gets the resolve with our endsAt.
      await until(() => am().alerts(['alertname="DeviceDown"']), (a) => a.length === 0);
      const paged = await until(
        async () => notifications.filter((n) => n.receiver === 'pager').flatMap((n) => n.alerts),
        (a) => a.some((x) => x.status === 'resolved'),
      );
      const firing = paged.find((a) => a.status === 'firing');
      const resolved = paged.find((a) => a.status === 'resolved');
      expect(firing?.labels.device).toBe('th-r2');
      expect(firing?.generatorURL).toMatch(/^http:\/\/collector\.example:8080\/api\/alerts\?id=device_down-[0-9a-f]{16}$/);
      expect(Date.parse(resolved!.endsAt)).toBe(resolvedAt);
      expect(Date.parse(resolved!.startsAt)).toBe(Date.parse(alert!.startsAt));
      // Routing on severity: nothing critical reached the ticket queue.
      expect(notifications.filter((n) => n.receiver === 'tickets').flatMap((n) => n.alerts).filter((a) => a.labels.severity === 'critical')).toEqual([]);
      expect(engine.stats().notifiers.alertmanager).toMatchObject({ failures: 0, rejected: 0, pending: 0 });
    } finally {
      await engine.stop();
    }
  });

  it('Alertmanager forgets alerts on restart: the periodic re-send brings a firing alert back', async () => {
    const engine = engineFor(am(), 1000);
    const gone = engineFor(am(), 1000);
    engine.start();
    gone.start();
    try {
      const start = Date.now();
      engine.observeAgentState('t', 'edge-9', agentState(false, start));
      engine.evaluate(start - 130_000);
      engine.evaluate(start);
      // A second collector fires another alert, then stops: nobody re-sends that one.
      gone.observeAgentState('t', 'edge-8', agentState(false, start));
      gone.evaluate(start - 130_000);
      gone.evaluate(start);
      await until(() => am().alerts(['alertname="AgentOffline"']), (a) => a.length === 2);
      await gone.stop();
      const before = (await am().alerts(['alertname="AgentOffline"', 'agent="edge-9"']))[0];

      await am().restart();
      const back = await until(() => am().alerts(['alertname="AgentOffline"']), (a) => a.some((x) => x.labels.agent === 'edge-9'));
      expect(back.map((a) => a.labels.agent)).toEqual(['edge-9']);
      expect(Date.parse(back[0]!.startsAt)).toBe(Date.parse(before!.startsAt));
      expect(engine.stats().notifiers.alertmanager?.sent).toBeGreaterThanOrEqual(2);
    } finally {
      engine.observeAgentState('t', 'edge-9', agentState(true, Date.now()));
      engine.evaluate();
      await engine.flushDeliveries();
      await engine.stop();
    }
  });
});
