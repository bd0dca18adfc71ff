#!/usr/bin/env node
// The published entry point. The suite is written in TypeScript and runs through tsx's
// loader, so `npx llm-auction` works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
