#!/usr/bin/env node
// The published entry point. The suite is written in TypeScript and runs through tsx's
// loader, so `npx llm-auction` works straight after `npm ci` with no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../cli/main.ts');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Nothing may keep a finished command alive (a keep-alive socket, a retry timer of a request
// that was aborted): leave shortly after the result, whatever is still scheduled.
setTimeout(() => process.exit(code), 200).unref();
