#!/usr/bin/env node
// The published entry point. In a checkout the suite runs from its TypeScript sources through
// tsx's loader, so `npx llm-auction` works straight after `npm ci` with no build step; the
// installed package holds no sources and runs the compiled dist/ (built by `npm pack`). tsx's
// loader is registered either way, so `-m module:./my-rule.ts` loads a user's TypeScript rule.
import { existsSync, writeSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
let finished = false;
// Leaving before main() returned is never a silent success: Node's 13 means the command awaited a
// promise that can never settle (a module rule's sample() that never resolves); 0 means something
// called process.exit (a module rule). Either way: one line, exit 2.
let drained = false;
process.on('beforeExit', () => {
  // Nothing left to run while main() still waits: what it awaits can never settle.
  if (!finished) drained = true;
});
process.on('exit', () => {
  if (finished) return;
  const code = process.exitCode ?? 0;
  if (code !== 0 && code !== 13) return;
  const why =
    code === 13 || drained
      ? "it was waiting on a call that can never finish (a promise that never settles, e.g. a module rule's sample() or enumerate())"
      : 'something called process.exit before it finished (e.g. a module rule)';
  writeSync(2, `llm-auction: the command stopped: ${why}\n`);
  process.exitCode = 2;
});
const fromSource = existsSync(new URL('../cli/main.ts', import.meta.url));
const { main } = await import(fromSource ? '../cli/main.ts' : '../dist/cli/main.js');
const code = await main(process.argv.slice(2));
finished = true;
process.exitCode = code;
// Nothing may keep a finished command alive (a keep-alive socket, a retry timer of a request
// that was aborted): leave shortly after the result, whatever is still scheduled.
setTimeout(() => process.exit(code), 200).unref();
