import { createHmac, timingSafeEqual } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SystemClock } from '../../../../contract/clock.js';
import { memoryLogger } from '../../../../shared/log.js';
import { AlertEngine } from '../../../../collector/alerts/alert-engine.js';
import { AlertMessageSchema } from '../../../../contract/messages.js';
import { parseAlertRules } from '../../../../collector/alerts/load-rules.js';
import { WebhookNotifier, webhookSignature } from '../../../../collector/alerts/notifiers/webhook.js';
import { agentState, profiles, testInventory } from '../fixtures.js';
import { until } from '../../../support/until.js';

const SECRET = 'whsec-test-0123456789';
const RULES = parseAlertRules('rules: [{ id: agent_offline, kind: agent_offline, severity: critical, summary: "Agent {agent} offline", runbook_url: "https://runbooks.example/agent?site={site}" }]');

interface Received {
  headers: IncomingMessage['headers'];
  body: Buffer;
}

/** A receiver on 127.0.0.1 that answers each request by the next scripted behaviour (then 200). */
async function receiver(script: ('503' | 'hang' | '400' | '200')[]) {
  const received: Received[] = [];
  const hung: ServerResponse[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ headers: req.headers, body: Buffer.concat(chunks) });
      const next = script.shift() ?? '200';
      if (next === 'hang') return void hung.push(res);
      res.writeHead(Number(next), { 'content-type': 'text/plain' }).end(next === '200' ? 'ok' : 'nope');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const r of hung) r.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** What a receiver must do: recompute the HMAC over the raw bytes and compare in constant time. */
function verify(r: Received, secret: string): boolean {
  const ts = String(r.headers['x-dcim-timestamp']);
  const got = Buffer.from(String(r.headers['x-dcim-signature']));
  const want = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${ts}.`).update(r.body).digest('hex')}`);
  return got.length === want.length && timingSafeEqual(got, want);
}

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

function engineFor(url: string, state_file?: string) {
  const logger = memoryLogger('info');
  const engine = new AlertEngine({
    inventories: [testInventory()],
    profiles,
    rules: RULES,
    clock: new SystemClock(),
    logger,
    // Long enough that only the receiver's deliberate hang times out, not an answer a loaded
    // machine was slow to give (one more attempt would be counted).
    notifiers: [new WebhookNotifier({ url, name: 'webhook-ops', secret: SECRET, timeout_ms: 2000 })],
    backoff_min_ms: 20,
    backoff_max_ms: 100,
    ...(state_file ? { state_file } : {}),
  });
  closers.push(() => engine.stop());
  return { engine, logger };
}

describe('webhook notifier', () => {
  it('retries through 5xx and a timeout until delivered; every attempt is signed and carries the same delivery id', async () => {
    const rx = await receiver(['503', 'hang', '503']);
    closers.push(rx.close);
    const { engine } = engineFor(rx.url);
    engine.start();
    engine.observeAgentState('t', 'edge-1', agentState(false, Date.now()));
    engine.evaluate();
    await until('4 deliveries', () => rx.received.length >= 4, 60_000);
    await until('nothing pending', () => engine.stats().notifiers['webhook-ops']?.pending === 0, 60_000);
    expect(rx.received).toHaveLength(4);
    expect(new Set(rx.received.map((r) => r.headers['x-dcim-delivery'])).size).toBe(1);
    expect(rx.received.every((r) => verify(r, SECRET))).toBe(true);
    expect(rx.received.some((r) => verify(r, 'another-secret'))).toBe(false);
    const body = JSON.parse(rx.received[3]!.body.toString('utf8')) as { version: number; status: string; alert: unknown };
    expect(body).toMatchObject({ version: 1, status: 'firing' });
    const alert = AlertMessageSchema.parse(body.alert);
    expect(alert).toMatchObject({ state: 'firing', severity: 'critical', summary: 'Agent edge-1 offline', runbook_url: 'https://runbooks.example/agent?site=t', labels: { alertname: 'AgentOffline', agent: 'edge-1', site: 't' } });
    expect(rx.received[3]!.headers['x-dcim-delivery']).toBe(`${alert.id}.1`);
    expect(engine.stats().notifiers['webhook-ops']).toMatchObject({ sent: 1, failures: 3, rejected: 0 });

    // The resolve is another delivery (version 2), sent once.
    engine.observeAgentState('t', 'edge-1', agentState(true, Date.now()));
    engine.evaluate();
    await until('5 deliveries', () => rx.received.length >= 5, 60_000);
    const resolved = JSON.parse(rx.received[4]!.body.toString('utf8')) as { status: string; alert: { ends_at: number; starts_at: number } };
    expect(resolved.status).toBe('resolved');
    expect(resolved.alert.ends_at).toBeGreaterThanOrEqual(resolved.alert.starts_at);
    expect(rx.received[4]!.headers['x-dcim-delivery']).toBe(`${alert.id}.2`);
  });

  it('a 400 is not retried', async () => {
    const rx = await receiver(['400']);
    closers.push(rx.close);
    const { engine, logger } = engineFor(rx.url);
    engine.start();
    engine.observeAgentState('t', 'edge-1', agentState(false, Date.now()));
    engine.evaluate();
    await until('one rejection', () => engine.stats().notifiers['webhook-ops']?.rejected === 1, 60_000);
    await new Promise((r) => setTimeout(r, 200));
    expect(rx.received).toHaveLength(1);
    expect(logger.lines.some((l) => l.msg === 'alert notification refused by the destination' && String(l.error).startsWith('HTTP 400'))).toBe(true);
  });

  it('what a stopped collector still owed a dead receiver is delivered after its restart', async () => {
    const state = join(mkdtempSync(join(tmpdir(), 'dcim-webhook-')), 'alerts.json');
    const dead = await receiver([]);
    const deadUrl = dead.url;
    await dead.close(); // nothing listens there now: connection refused
    const first = engineFor(deadUrl, state);
    first.engine.start();
    first.engine.observeAgentState('t', 'edge-1', agentState(false, Date.now()));
    first.engine.evaluate();
    await until('two failures', () => (first.engine.stats().notifiers['webhook-ops']?.failures ?? 0) >= 2, 60_000);
    await first.engine.stop();

    const rx = await receiver([]);
    closers.push(rx.close);
    const second = engineFor(rx.url, state);
    second.engine.start();
    await until('one delivery', () => rx.received.length === 1, 60_000);
    expect(JSON.parse(rx.received[0]!.body.toString('utf8'))).toMatchObject({ status: 'firing', alert: { labels: { agent: 'edge-1' } } });
  });

  it('signs `<timestamp>.<body>` with HMAC-SHA256, hex', () => {
    // Reference computed outside Node: printf '1767225600.{"a":1}' | openssl dgst -sha256 -hmac key
    expect(webhookSignature('key', '1767225600', '{"a":1}')).toBe('sha256=80f7b75f8618b9b24d72673996a625f1a43f7387a26b6739d667431724fe4d23');
  });
});
