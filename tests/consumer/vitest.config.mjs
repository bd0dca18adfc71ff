// The scratch project's vitest settings: property checks and a bench take seconds, not milliseconds.
import { defineConfig } from 'vitest/config';

export default defineConfig({ test: { include: ['*.spec.ts'], testTimeout: 120_000 } });
