/**
 * `verify --out DIR` keeps each finished property; kill -9 at several moments (before any property
 * finished, after one, after two), then `--resume`, gives DIR/verify.json byte for byte as an
 * uninterrupted run writes it, and the resume does not check a finished property again; one of them
 * also repairs a record torn by the kill. Control: a kept verdict changed before the resume changes
 * verify.json (the resume reads what was kept rather than check it again). Refusals:
 * a second run over DIR without --resume, a resume with another configuration, --resume without --out.
 */
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'llm-auction-verify-resume-'));
const ARGS = ['verify', '-m', 'embedded:pretrained', '--cases', '2', '--sampled', '--budget', '3000'];
const env = { ...process.env, LLM_AUCTION_PROGRESS_MS: '0' };
const run = (extra: string[]) => spawnSync(process.execPath, [BIN, ...ARGS, ...extra], { encoding: 'utf8', env, timeout: 120_000 });
const progressLines = (dir: string) => (existsSync(join(dir, 'verify-progress.jsonl')) ? readFileSync(join(dir, 'verify-progress.jsonl'), 'utf8').split('\n').filter(Boolean).length : 0);

/** Start verify --out DIR, kill -9 it once `lines` lines (header included) are in its progress file. */
async function killAt(dir: string, lines: number): Promise<number> {
  const child = spawn(process.execPath, [BIN, ...ARGS, '--out', dir], { env, stdio: 'ignore' });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let done = false;
  void exited.then(() => (done = true));
  while (!done && progressLines(dir) < lines) await new Promise((r) => setTimeout(r, 10));
  child.kill('SIGKILL');
  await exited;
  return progressLines(dir);
}

describe('verify --out / --resume', () => {
  it('kill -9 at several moments, then --resume: verify.json byte-identical to an uninterrupted run', async () => {
    const whole = join(root, 'whole');
    const r = run(['--out', whole]);
    expect([0, 1, 3], r.stderr).toContain(r.status);
    const want = readFileSync(join(whole, 'verify.json'), 'utf8');
    expect(progressLines(whole)).toBe(1 + 4); // header, then monotonicity, continuity, ir, vm-truthfulness

    const moments: number[] = [];
    for (const lines of [1, 2, 3]) {
      const dir = join(root, `killed-${lines}`);
      const kept = await killAt(dir, lines);
      moments.push(kept);
      expect(existsSync(join(dir, 'verify.json'))).toBe(false); // it was stopped before the end
      const before = readFileSync(join(dir, 'verify-progress.jsonl'), 'utf8');
      if (lines === 2) cpSync(dir, join(root, 'control'), { recursive: true });
      if (lines === 3) appendFileSync(join(dir, 'verify-progress.jsonl'), '{"property":"ir","ki'); // a write torn by the kill
      const again = run(['--out', dir, '--resume']);
      expect(again.status, again.stderr).toBe(r.status);
      expect(readFileSync(join(dir, 'verify.json'), 'utf8')).toBe(want);
      // What was finished is kept as it was, not checked again.
      expect(readFileSync(join(dir, 'verify-progress.jsonl'), 'utf8').startsWith(before.slice(0, before.lastIndexOf('\n') + 1))).toBe(true);
      expect(progressLines(dir)).toBe(1 + 4); // each property once: none checked twice
    }
    // The kills fell at different moments: some before any property finished, some after.
    expect(new Set(moments).size).toBeGreaterThan(1);

    // Control: a resume over a kept verdict that was changed (monotonicity's sample count) does not
    // give the uninterrupted verify.json, so the resumes above did read what was kept.
    const control = join(root, 'control');
    const kept = readFileSync(join(control, 'verify-progress.jsonl'), 'utf8').split('\n');
    expect(kept.length).toBeGreaterThan(2); // monotonicity finished before this kill
    const rec = JSON.parse(kept[1]!);
    rec.value.samples -= 1;
    kept[1] = JSON.stringify(rec);
    writeFileSync(join(control, 'verify-progress.jsonl'), kept.join('\n'));
    const c = run(['--out', control, '--resume']);
    expect(c.status, c.stderr).toBe(r.status);
    expect(readFileSync(join(control, 'verify.json'), 'utf8')).not.toBe(want);
  }, 600_000);

  it('refuses a second run without --resume, a resume with another configuration, and --resume without --out', () => {
    const dir = join(root, 'whole');
    const twice = run(['--out', dir]);
    expect(twice.status).toBe(2);
    expect(twice.stderr).toMatch(/already holds a verify .*pass --resume/);
    const other = spawnSync(process.execPath, [BIN, 'verify', '-m', 'embedded:pretrained', '--cases', '3', '--sampled', '--budget', '3000', '--out', dir, '--resume'], { encoding: 'utf8', env });
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/cannot resume: it was written with a different configuration/);
    const noOut = run(['--resume']);
    expect(noOut.status).toBe(2);
    expect(noOut.stderr).toMatch(/--resume continues a verify written with --out DIR/);
  }, 120_000);
});
