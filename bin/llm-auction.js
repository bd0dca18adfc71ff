#!/usr/bin/env node
// The published entry point. In a checkout the suite runs from its TypeScript sources through
// tsx's loader, so `npx llm-auction` works straight after `npm ci` with no build step; the
// installed package holds no sources and runs the compiled dist/ (built by `npm pack`). tsx's
// loader is registered either way, so `-m module:./my-rule.ts` loads a user's TypeScript rule.
import { existsSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
const fromSource = existsSync(new URL('../cli/main.ts', import.meta.url));
const { main } = await import(fromSource ? '../cli/main.ts' : '../dist/cli/main.js');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Nothing may keep a finished command alive (a keep-alive socket, a retry timer of a request
// that was aborted): leave shortly after the result, whatever is still scheduled.
setTimeout(() => process.exit(code), 200).unref();
