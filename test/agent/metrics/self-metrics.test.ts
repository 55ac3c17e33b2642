import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../contract/index.js';
import { memoryLogger } from '../../../shared/log.js';
import type { HealthMap } from '../../../agent/metrics/health-map.js';
import { AgentSelfMetrics } from '../../../agent/metrics/self-metrics.js';
import { snapshot } from './snapshot-fixture.js';

const flush = () => new Promise((r) => setImmediate(r));

function setup(publish: (h: HealthMap) => Promise<boolean>) {
  const clock = new ManualClock();
  const logger = memoryLogger();
  const m = new AgentSelfMetrics({ snapshot: () => snapshot(), publishHealth: publish, healthIntervalMs: 60_000, clock, logger });
  return { m, clock, logger };
}

describe('AgentSelfMetrics', () => {
  it('publishes the health map every interval, and not before start or after stop', async () => {
    const sent: HealthMap[] = [];
    const { m, clock } = setup(async (h) => (sent.push(h), true));
    clock.advance(120_000);
    expect(sent).toHaveLength(0);
    await m.start();
    expect(m.url).toBeUndefined(); // no listen address: no endpoint
    clock.advance(59_999);
    await flush();
    expect(sent).toHaveLength(0);
    clock.advance(1);
    await flush();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ devices_count: 3, devices_up_count: 1 });
    clock.advance(60_000);
    await flush();
    expect(sent).toHaveLength(2);
    await m.stop();
    clock.advance(600_000);
    await flush();
    expect(sent).toHaveLength(2);
    expect(await m.publishNow()).toBe(false);
  });

  it('shares a send in progress instead of stacking a second one', async () => {
    let release: (ok: boolean) => void = () => undefined;
    let calls = 0;
    const { m } = setup(() => (calls++, new Promise<boolean>((r) => (release = r))));
    await m.start();
    const a = m.publishNow();
    const b = m.publishNow();
    expect(calls).toBe(1);
    release(true);
    expect(await a).toBe(true);
    expect(await b).toBe(true);
    void m.publishNow();
    expect(calls).toBe(2);
    release(false);
    await m.stop();
  });

  it('a publish that throws is logged, answers false, and the timer goes on', async () => {
    let calls = 0;
    const { m, clock, logger } = setup(async () => {
      calls++;
      throw new Error('broker exploded');
    });
    await m.start();
    expect(await m.publishNow()).toBe(false);
    expect(logger.lines.find((l) => l.msg === 'agent health not published')).toMatchObject({ level: 'warn', error: { message: 'broker exploded' } });
    clock.advance(60_000);
    await flush();
    clock.advance(60_000);
    await flush();
    expect(calls).toBe(3);
    await m.stop();
  });
});
