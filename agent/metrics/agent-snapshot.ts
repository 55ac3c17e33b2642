import type { DeviceStatus } from '../../contract/index.js';
import type { AgentStats } from '../agent.js';

/**
 * Everything the self-metrics are computed from, taken at one instant: the agent's stats, each
 * device's profile and current status, and the clock. Both views of it (the Prometheus
 * families and the `health` map) are pure functions of this, so they never disagree.
 */
export interface DeviceSnapshot {
  id: string;
  profile: string;
  /** Undefined until the device's first poll has finished. */
  state: DeviceStatus['state'] | undefined;
}

export interface AgentSnapshot {
  stats: AgentStats;
  version: string;
  devices: readonly DeviceSnapshot[];
  /** Clock ms when the agent started. */
  started_ms: number;
  now_ms: number;
}

/**
 * What the `health` map is computed from: the agent-wide sums only. The agent fills it from the
 * scheduler's typed columns (no object per device: at 10,000 devices the full snapshot is 30,000
 * objects every minute that outlive the young generation); summarize() gives the same from a
 * full snapshot.
 */
export interface AgentSummary {
  /** The agent's stats; `polling.devices` may be empty: `totals` and `states` are what count. */
  stats: AgentStats;
  version: string;
  devices_count: number;
  totals: PollTotals;
  states: DeviceStateCounts;
  started_ms: number;
  now_ms: number;
}

export function summarize(snap: AgentSnapshot): AgentSummary {
  return { stats: snap.stats, version: snap.version, devices_count: snap.devices.length, totals: pollTotals(snap.stats), states: countStates(snap.devices), started_ms: snap.started_ms, now_ms: snap.now_ms };
}

export const DEVICE_STATES = ['up', 'degraded', 'down'] as const;

export interface DeviceStateCounts {
  up: number;
  degraded: number;
  down: number;
  /** Devices whose first poll has not finished yet. */
  unpolled: number;
}

export function countStates(devices: readonly DeviceSnapshot[]): DeviceStateCounts {
  const c: DeviceStateCounts = { up: 0, degraded: 0, down: 0, unpolled: 0 };
  for (const d of devices) c[d.state ?? 'unpolled']++;
  return c;
}

/** Per-device poll counters summed over the agent. */
export interface PollTotals {
  polls: number;
  down_polls: number;
  requests: number;
  retries: number;
  timeouts: number;
  overruns: number;
  reader_errors: number;
  probes: number;
  /** Devices waiting longer than their interval because they are down. */
  backing_off: number;
  /** Slowest last poll of any device, ms; 0 before the first poll. */
  max_last_poll_ms: number;
  /** Mean of every device's last poll, ms; 0 before the first poll. */
  mean_last_poll_ms: number;
}

export function pollTotals(stats: AgentStats): PollTotals {
  const t: PollTotals = { polls: 0, down_polls: 0, requests: 0, retries: 0, timeouts: 0, overruns: 0, reader_errors: 0, probes: 0, backing_off: 0, max_last_poll_ms: 0, mean_last_poll_ms: 0 };
  let polled = 0;
  let sum = 0;
  for (const d of Object.values(stats.polling.devices)) {
    t.polls += d.polls;
    t.down_polls += d.down_polls;
    t.requests += d.requests;
    t.retries += d.retries;
    t.timeouts += d.timeouts;
    t.overruns += d.overruns;
    t.reader_errors += d.reader_errors;
    t.probes += d.probes;
    if (d.backoff_ms > 0) t.backing_off++;
    if (d.last_poll_ms !== null) {
      polled++;
      sum += d.last_poll_ms;
      t.max_last_poll_ms = Math.max(t.max_last_poll_ms, d.last_poll_ms);
    }
  }
  t.mean_last_poll_ms = polled === 0 ? 0 : sum / polled;
  return t;
}
