import { defineConfig } from 'vitest/config';
import { LongestFirstSequencer } from './test/support/longest-first-sequencer.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Generous bounds: a test waits on conditions, each bounded on its own; these only catch a hang,
    // and must not catch a test that is slow because others load the machine (DCIM_CI_BUSY).
    testTimeout: 120_000,
    hookTimeout: 300_000,
    // Suites that start real services (mosquitto, influxd) use their own ports; files run in parallel.
    pool: 'forks',
    // One fork per worker runs file after file with its module cache kept: each file in a fresh
    // fork re-imports the sources (agent, collector, simulators, profiles), about twice the time on
    // unit-test folders (a whole loaded run: ~1,045 s of npm test isolated, ~880 s not). Tests keep
    // no state in modules between files: each starts its own services and restores what it changes
    // (env, console spies, timers); readiness probes and the freeze checks open connections of
    // their own instead of fetch's per-process pool.
    isolate: false,
    // Vitest's default is one worker less than the cores: on a 2-core machine files would run one at
    // a time, although most of a long suite's time is spent waiting on services and subprocesses
    // (brokers, stores, simulators). Two at once; every wait is on a condition, never a duration.
    maxWorkers: 2,
    // The long suites start first, so the run does not end on one of them alone.
    sequence: { sequencer: LongestFirstSequencer },
    reporters: ['default'],
  },
});
