import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The machines this runs on have 2 cores; statistical tests are CPU-bound.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 120_000,
    hookTimeout: 60_000,
    reporters: ['default', './tests/summary-reporter.ts'],
    // Runs probe an endpoint before using it (models/backends/served-limits.ts); the fake servers
    // of most tests count requests, so the probe is off unless a test asks for it (tests/probe.test.ts).
    env: { LLM_AUCTION_PROBE: 'off' },
  },
});
