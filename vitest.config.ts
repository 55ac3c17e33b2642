import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites that start real services (mosquitto, influxd) use their own ports; files run in parallel,
    // one per core (vitest's default keeps a core free, which on a 2-core machine runs them one by
    // one). Tests wait on conditions or a manual clock, so a busy core slows them, never fails them.
    pool: 'forks',
    maxWorkers: availableParallelism(),
    reporters: ['default'],
  },
});
