import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Suites that start real services (mosquitto, influxd) use their own ports; files run in parallel.
    pool: 'forks',
    reporters: ['default'],
  },
});
