import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'llm-auction-sim-'));
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', timeout: 120_000 });
const base = ['simulate', '-m', 'embedded:pretrained', '--queries', 'train', '--samples', '2', '--seed', '7'];
const read = (dir: string) => readFileSync(join(dir, 'episodes.jsonl'), 'utf8');

describe('llm-auction simulate', () => {
  it('writes the contract fields, and the same seed gives the same directory byte for byte', () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    expect(cli([...base, '--limit', '40', '--out', a]).status).toBe(0);
    expect(cli([...base, '--limit', '40', '--out', b]).status).toBe(0);
    expect(read(a)).toBe(read(b));
    expect(readFileSync(join(a, 'manifest.json'), 'utf8')).toBe(readFileSync(join(b, 'manifest.json'), 'utf8'));
    const lines = read(a).trim().split('\n').map((l) => JSON.parse(l));
    expect(lines).toHaveLength(80);
    for (const key of ['query_id', 'sample', 'mechanism', 'bids', 'response', 'exposures', 'format_errors', 'clicks', 'payments', 'reward']) {
      expect(lines[0]).toHaveProperty(key);
    }
    // Revenue is what the ledger charged: the bid of each clicked, validly exposed ad.
    for (const e of lines) {
      expect(e.revenue).toBeCloseTo(e.clicks.reduce((s: number, id: string) => s + e.bids[id], 0), 9);
    }
    const c = join(root, 'c');
    expect(cli(['simulate', '-m', 'embedded:pretrained', '--queries', 'train', '--samples', '2', '--seed', '8', '--limit', '40', '--out', c]).status).toBe(0);
    expect(read(c)).not.toBe(read(a));
  });

  it('resumes after kill -9 with no episode lost or repeated', async () => {
    const full = join(root, 'full');
    const killed = join(root, 'killed');
    const args = [...base, '--limit', '1500'];
    expect(cli([...args, '--out', full]).status).toBe(0);
    const child = spawn(process.execPath, [BIN, ...args, '--out', killed], { stdio: 'ignore' });
    const file = join(killed, 'episodes.jsonl');
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = setInterval(() => {
        if (existsSync(file) && statSync(file).size > 20_000) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        } else if (Date.now() - started > 60_000) {
          clearInterval(poll);
          reject(new Error('simulate never started writing'));
        }
      }, 5);
    });
    await new Promise((r) => child.on('exit', r));
    const partial = read(killed).length;
    expect(partial).toBeLessThan(read(full).length);
    // Simulate a write torn in the middle of a line, as a crash can leave.
    appendFileSync(file, '{"query_id":"Q-0');
    const resumed = cli([...args, '--out', killed, '--resume']);
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(read(killed)).toBe(read(full));
  });

  it('refuses to overwrite a run, or to resume one with another configuration (exit 2)', () => {
    const d = join(root, 'guard');
    expect(cli([...base, '--limit', '5', '--out', d]).status).toBe(0);
    const again = cli([...base, '--limit', '5', '--out', d]);
    expect(again.status).toBe(2);
    expect(again.stderr).toMatch(/already holds a run/);
    const other = cli([...base, '--limit', '6', '--out', d, '--resume']);
    expect(other.status).toBe(2);
    expect(other.stderr).toMatch(/different configuration/);
    expect(cli([...base, '--limit', '5', '--out', d, '--resume']).status).toBe(0);
  });

  it('reports bad query files with file, line and field (exit 2)', () => {
    const q = join(root, 'queries.jsonl');
    writeFileSync(q, '{"id":"Q-1","profile_id":"U-0001","text":"Which mat?","split":"test"}\n{"id":"Q-2","profile_id":"U-0001","split":"test"}\n');
    const r = cli(['simulate', '-m', 'embedded:pretrained', '--queries', q, '--out', join(root, 'bad')]);
    expect(r.status).toBe(2);
    expect(r.stderr.trim()).toBe(`llm-auction: ${q}:2: field "text": is required`);
  });

  it('runs a user rule given as a module', () => {
    const mod = join(root, 'rule.mjs');
    writeFileSync(
      mod,
      `export default { name: 'first-ad', async sample(input, n) { const a = input.ads[0]; return Array.from({ length: n }, () => 'Sure. @' + a.title + '@[' + a.id + '] fits.'); } };\n`,
    );
    const d = join(root, 'mod');
    const r = cli(['simulate', '-m', `module:${mod}`, '--limit', '10', '--out', d]);
    expect(r.status, r.stderr).toBe(0);
    const eps = read(d).trim().split('\n').map((l) => JSON.parse(l));
    expect(eps.every((e) => e.mechanism === 'first-ad' && e.exposures.length === 1)).toBe(true);
  });
});
