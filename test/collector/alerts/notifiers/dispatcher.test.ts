import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../../contract/clock.js';
import { memoryLogger } from '../../../../shared/log.js';
import { AlertEngine } from '../../../../collector/alerts/alert-engine.js';
import { parseAlertRules } from '../../../../collector/alerts/load-rules.js';
import type { Delivery, Notifier, SendResult } from '../../../../collector/alerts/notifiers/notifier.js';
import { agentState, profiles, testInventory } from '../fixtures.js';

/** A destination the test scripts: each send call takes the next outcome (default: accept). */
class ScriptedNotifier implements Notifier {
  readonly calls: { at: number; states: string[] }[] = [];
  outcomes: ('ok' | 'fail' | 'reject')[] = [];
  constructor(
    readonly name: string,
    readonly batch_size = 10,
    readonly resend_ms?: number,
  ) {}
  async send(batch: readonly Delivery[], now_ms: number): Promise<SendResult> {
    this.calls.push({ at: now_ms, states: batch.map((d) => `${d.record.labels.agent}:${d.state}`) });
    const outcome = this.outcomes.shift() ?? 'ok';
    const ids = batch.map((d) => d.record.id);
    if (outcome === 'ok') return { delivered: ids, rejected: [] };
    if (outcome === 'reject') return { delivered: [], rejected: ids, failure: { message: 'HTTP 400: bad', retryable: false } };
    return { delivered: [], rejected: [], failure: { message: 'HTTP 503', retryable: true } };
  }
}

const RULES = parseAlertRules('rules: [{ id: agent_offline, kind: agent_offline, severity: critical, summary: "{agent} offline" }]');

function setup(notifiers: Notifier[], opts: { expire_ms?: number } = {}) {
  const clock = new ManualClock(Date.UTC(2026, 5, 1));
  const logger = memoryLogger('info');
  const engine = new AlertEngine({ inventories: [testInventory()], profiles, rules: RULES, clock, logger, notifiers, backoff_min_ms: 1000, backoff_max_ms: 8000, ...opts });
  const agent = (name: string, online: boolean) => {
    engine.observeAgentState('t', name, agentState(online, clock.now()));
    engine.evaluate(clock.now());
  };
  /** Let the async send calls settle, then move time. */
  const settle = async () => {
    for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  };
  return { clock, engine, logger, agent, settle };
}

describe('alert delivery (dispatcher)', () => {
  it('retries with exponential back-off until delivered, and sends the latest state of each alert', async () => {
    const n = new ScriptedNotifier('hook', 1);
    n.outcomes = ['fail', 'fail', 'fail', 'ok'];
    const { clock, engine, agent, settle } = setup([n]);
    engine.start();
    agent('edge-1', false);
    await settle();
    expect(n.calls.map((c) => c.at - Date.UTC(2026, 5, 1))).toEqual([0]);
    for (const wait of [1000, 2000, 4000]) {
      clock.advance(wait - 1);
      await settle();
      const before = n.calls.length;
      clock.advance(1);
      await settle();
      expect(n.calls.length).toBe(before + 1);
    }
    expect(n.calls.map((c) => c.states)).toEqual([['edge-1:firing'], ['edge-1:firing'], ['edge-1:firing'], ['edge-1:firing']]);
    expect(engine.stats().notifiers.hook).toMatchObject({ sent: 1, failures: 3, pending: 0, consecutive_failures: 0, last_error: null });
    await engine.stop();
  });

  it('a destination that is down loses nothing: firing and resolved both arrive, in order, after it is back', async () => {
    const n = new ScriptedNotifier('hook', 1);
    n.outcomes = Array<'fail'>(20).fill('fail');
    const { clock, engine, agent, settle } = setup([n]);
    engine.start();
    agent('edge-1', false);
    agent('edge-2', false);
    clock.advance(5000);
    agent('edge-1', true);
    await settle();
    clock.advance(60_000);
    await settle();
    expect(engine.stats().notifiers.hook?.pending).toBe(2);
    n.outcomes = [];
    await engine.flushDeliveries();
    const delivered = n.calls.slice(-2).map((c) => c.states[0]);
    expect(delivered).toEqual(['edge-2:firing', 'edge-1:resolved']);
    expect(engine.stats().notifiers.hook?.pending).toBe(0);
    await engine.stop();
  });

  it('a refused alert (4xx) is counted and not retried; a stale one expires', async () => {
    const n = new ScriptedNotifier('hook', 1);
    n.outcomes = ['reject'];
    const m = new ScriptedNotifier('slow', 1);
    m.outcomes = Array<'fail'>(100).fill('fail');
    const { clock, engine, agent, logger, settle } = setup([n, m], { expire_ms: 30_000 });
    engine.start();
    agent('edge-1', false);
    await settle();
    clock.advance(31_000);
    await settle();
    await engine.flushDeliveries();
    expect(engine.stats().notifiers.hook).toMatchObject({ sent: 0, rejected: 1, pending: 0 });
    expect(n.calls).toHaveLength(1);
    expect(engine.stats().notifiers.slow).toMatchObject({ expired: 1, pending: 0 });
    expect(logger.lines.some((l) => l.msg === 'alert notification expired undelivered' && l.notifier === 'slow')).toBe(true);
    await engine.stop();
  });

  it('re-sends every firing alert each period to a notifier that asks for it (Alertmanager)', async () => {
    const n = new ScriptedNotifier('am', 100, 60_000);
    const { clock, engine, agent, settle } = setup([n]);
    engine.start();
    agent('edge-1', false);
    agent('edge-2', false);
    await settle();
    clock.advance(10_000);
    agent('edge-2', true);
    await settle();
    const sent = n.calls.length;
    clock.advance(50_000);
    await settle();
    expect(n.calls.length).toBe(sent + 1);
    expect(n.calls.at(-1)?.states).toEqual(['edge-1:firing']);
    clock.advance(60_000);
    await settle();
    expect(n.calls.at(-1)?.states).toEqual(['edge-1:firing']);
    expect(n.calls.length).toBe(sent + 2);
    await engine.stop();
  });

  it('one dead destination does not delay another', async () => {
    const dead = new ScriptedNotifier('dead', 1);
    dead.outcomes = Array<'fail'>(50).fill('fail');
    const live = new ScriptedNotifier('live', 1);
    const { engine, agent, settle } = setup([dead, live]);
    engine.start();
    agent('edge-1', false);
    agent('edge-1', true);
    await settle();
    expect(live.calls.map((c) => c.states[0])).toEqual(['edge-1:resolved']);
    expect(engine.stats().notifiers.dead?.pending).toBe(1);
    await engine.stop();
  });
});
