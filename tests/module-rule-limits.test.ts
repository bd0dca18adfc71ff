/**
 * A module rule that never returns control cleanly: a sample() that never settles, one that calls
 * process.exit(0), one slower than LLM_AUCTION_MODULE_TIMEOUT_S. Each ends in exit 2 with one line,
 * never Node's exit 13, never a silent exit 0 with the manifest left "running".
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from './helpers/run-cli.ts';

const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'llm-auction-modlim-'));
const mod = (name: string, body: string) => {
  const p = join(dir, `${name}.mjs`);
  writeFileSync(p, body);
  return p;
};
const never = mod('never', 'export default { name: "never", sample() { return new Promise(() => {}); } };');
const exiter = mod('exiter', 'export default { name: "exiter", async sample() { process.exit(0); } };');
const slow = mod('slow', 'export default { name: "slow", sample(i, n) { return new Promise((r) => setTimeout(() => r(Array(n).fill("x")), 5000)); } };');
const run = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });

describe('module rules that do not return control', () => {
  it.each(['simulate', 'verify'])('%s: a sample() that never settles is one line and exit 2 (not exit 13)', (cmd) => {
    const args = cmd === 'simulate' ? ['simulate', '-m', `module:${never}`, '--limit', '2', '--out', join(dir, 'never-run')] : ['verify', '-m', `module:${never}`, '--cases', '1'];
    const r = run(args);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^llm-auction: the command stopped: it was waiting on a call that can never finish/);
  });

  it('a module calling process.exit(0) mid-run: exit 2, and the manifest says "stopped", not "running"', () => {
    const out = join(dir, 'exit-run');
    const r = run(['simulate', '-m', `module:${exiter}`, '--limit', '2', '--out', out]);
    expect(r.status, r.stderr).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/something called process\.exit before it finished/);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).status).toBe('stopped');
  });

  it('LLM_AUCTION_MODULE_TIMEOUT_S bounds each call (in process)', async () => {
    process.env.LLM_AUCTION_MODULE_TIMEOUT_S = '1';
    try {
      const r = await runCli(['simulate', '-m', `module:${slow}`, '--limit', '1', '--out', join(dir, 'slow-run')]);
      expect(r.code, r.err).toBe(2);
      expect(r.err.trim().split('\n')).toHaveLength(1);
      expect(r.err).toMatch(/mechanism slow: sample\(\) did not settle within 1 s/);
      // The control: the same rule with a limit it fits in finishes.
      process.env.LLM_AUCTION_MODULE_TIMEOUT_S = '30';
      const ok = await runCli(['simulate', '-m', `module:${slow}`, '--limit', '1', '--out', join(dir, 'slow-run-ok')]);
      expect(ok.code, ok.err).toBe(0);
      process.env.LLM_AUCTION_MODULE_TIMEOUT_S = 'soon';
      const bad = await runCli(['simulate', '-m', `module:${slow}`, '--limit', '1', '--out', join(dir, 'slow-run-bad')]);
      expect(bad.code).toBe(2);
      expect(bad.err).toMatch(/LLM_AUCTION_MODULE_TIMEOUT_S: must be a number of seconds/);
    } finally {
      delete process.env.LLM_AUCTION_MODULE_TIMEOUT_S;
    }
  }, 60_000);
});
