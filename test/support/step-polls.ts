import type { Agent } from '../../agent/index.js';
import type { Collector } from '../../collector/index.js';
import type { ManualClock } from '../../contract/index.js';
import { until } from './until.js';

/**
 * Moves a ManualClock shared by simulator, agent and collector forward one poll interval at a
 * time and, after each step, waits in real time (a condition, generous bound) until every device
 * of `agent` has polled and the collector's KPI engine has ingested every poll that published
 * telemetry. Simulated time cannot run ahead of the pipeline, so what the run stores does not
 * depend on the machine's load (only the wall time does).
 *
 * `devices` are the ids the agent polls (each must poll once per step, all at `poll_ms`). Steps
 * while `more()` holds (checked before each step); returns the number of steps.
 */
export async function stepPolls(o: { clock: ManualClock; agent: Agent; collector: Collector; devices: readonly string[]; poll_ms: number; more: () => boolean }): Promise<number> {
  const { clock, agent, collector, poll_ms, devices: ids } = o;
  const polls = (): Record<string, number> => Object.fromEntries(Object.entries(agent.stats().polling.devices).map(([id, d]) => [id, d.polls]));
  /** Polls that published telemetry: all but those of a device found down. */
  const telemetrySent = () => Object.values(agent.stats().polling.devices).reduce((n, d) => n + d.polls - d.down_polls, 0);
  let steps = 0;
  while (o.more()) {
    const before = polls();
    clock.advance(poll_ms);
    steps++;
    await until(
      `the polls of ${new Date(clock.now()).toISOString()}`,
      () => {
        const s = agent.stats();
        if (s.polling.in_flight > 0 || s.polling.queued > 0) return false;
        if (!ids.every((id) => (s.polling.devices[id]?.polls ?? 0) > (before[id] ?? 0))) return false;
        // Every poll's telemetry in the KPI engine (the collector also receives status and its own
        // KPI messages, so a count of all messages would pass a poll or two early).
        return collector.stats().engine.polls >= telemetrySent();
      },
      30_000,
      () => {
        const s = agent.stats();
        const behind = ids.filter((id) => (s.polling.devices[id]?.polls ?? 0) <= (before[id] ?? 0));
        return JSON.stringify({ telemetry_sent: telemetrySent(), ingested: collector.stats().engine.polls, in_flight: s.polling.in_flight, queued: s.polling.queued, behind: behind.slice(0, 3).map((id) => [id, s.polling.devices[id]]) });
      },
      2,
    );
  }
  return steps;
}
