/**
 * `bench --shard i/n` (issue #27): three shards of one bench, merged, equal the unsharded bench
 * byte for byte: bench.json (rows, intervals and paired differences computed again over every
 * query), bench-progress.jsonl and each row's episodes. The rows mix exact and sampled rows, a
 * fitted one (best-in-class, fitted on every scored auction, also in a shard) and a prompt-only
 * floor (gap closed); the controls show the merge reads the shards' per-query outcomes.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchRun } from '../evaluation/bench-run.ts';
import { mergeBenches } from '../evaluation/bench-shard.ts';
import type { BenchOptions } from '../evaluation/table2.ts';

const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'llm-auction-bench-shard-'));
const base: BenchOptions = {
  mechanism: 'embedded:pretrained,embedded:best-in-class,mosaic:embedded:pretrained?n=3&rm=oracle,inject:embedded:pretrained',
  queries: 'test',
  limit: 7, // blocks of 2, 2 and 3
  user: 'embedded:parametric',
  candidates: 10,
  worldSeed: 0,
  seed: 5,
  pairedWith: 'embedded:best-in-class',
};
const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');

describe('bench over 3 shards', () => {
  it('merged, equals the unsharded bench byte for byte (bench.json, progress, episodes)', { timeout: 600_000 }, async () => {
    const whole = join(root, 'whole');
    await benchRun({ ...base, out: whole });
    const dirs = ['3/3', '1/3', '2/3'].map((s) => join(root, `s${s[0]}`));
    for (const [k, s] of ['3/3', '1/3', '2/3'].entries()) await benchRun({ ...base, out: dirs[k]!, shard: s });
    // Each shard benched only its block.
    expect(JSON.parse(read(join(root, 's3'), 'bench.json')).rows[0].queries).toBe(3);
    expect(JSON.parse(read(join(root, 's1'), 'bench.json')).rows[0].queries).toBe(2);

    const m = mergeBenches(dirs, join(root, 'merged'));
    expect(m).toMatchObject({ shards: 3, queries: 7 });
    for (const f of ['bench.json', 'bench-progress.jsonl']) expect(read(join(root, 'merged'), f), f).toBe(read(whole, f));
    const eps = readdirSync(join(whole, 'bench-episodes')).sort();
    expect(eps).toHaveLength(4);
    expect(readdirSync(join(root, 'merged', 'bench-episodes')).sort()).toEqual(eps);
    for (const f of eps) expect(read(join(root, 'merged', 'bench-episodes'), f), f).toBe(read(join(whole, 'bench-episodes'), f));
    // The merged file carries what the unsharded one does: paired rows and gap closed.
    const rows = JSON.parse(read(join(root, 'merged'), 'bench.json')).rows;
    expect(rows[0].queries).toBe(7);
    expect(rows.some((r: { gap_closed?: number }) => r.gap_closed !== undefined)).toBe(true);
    expect(rows[1].paired.map((p: { against: string }) => p.against)).toContain('embedded:pretrained');

    // Control: averaging the shards' own rows is not what the merge does; their intervals are
    // wider than the whole's, and their query-weighted mean of means is only close.
    const shardRows = [1, 2, 3].map((i) => JSON.parse(read(join(root, `s${i}`), 'bench.json')).rows[0]);
    expect(shardRows.map((r) => r.revenue_ci95)).not.toContainEqual(rows[0].revenue_ci95);
    // Control: one query's outcome changed in a shard changes the merged rows (the merge reads them).
    const p2 = join(root, 's2', 'bench-progress.jsonl');
    const lines = read(join(root, 's2'), 'bench-progress.jsonl').split('\n');
    const rec = JSON.parse(lines[1]!);
    rec.outcomes[0].reward += 1;
    lines[1] = JSON.stringify(rec);
    writeFileSync(p2, lines.join('\n'));
    const tampered = mergeBenches(dirs, join(root, 'tampered'));
    expect(tampered.rows[0]!.reward_per_query).toBeCloseTo(rows[0].reward_per_query + 1 / 7, 12);
    expect(read(join(root, 'tampered'), 'bench.json')).not.toBe(read(whole, 'bench.json'));

    // Refusals: a shard missing or twice, an existing output, a shard of another bench.
    expect(() => mergeBenches(dirs.slice(0, 2), join(root, 'm1'))).toThrow(/missing/);
    expect(() => mergeBenches([...dirs, dirs[0]!], join(root, 'm2'))).toThrow(/twice|missing|3\/3/);
    expect(() => mergeBenches(dirs, join(root, 'merged'))).toThrow(/already holds a bench/);
    await benchRun({ ...base, seed: 6, out: join(root, 'other1'), shard: '1/3' });
    expect(() => mergeBenches([join(root, 'other1'), ...dirs.slice(0, 1), ...dirs.slice(2)], join(root, 'm3'))).toThrow(/not shards of one bench/);
  });

  it('the CLI: bench --shard and merge print the unsharded table; --shard without --out is exit 2', { timeout: 300_000 }, () => {
    const common = ['bench', '-m', 'embedded:pretrained,embedded:ceiling', '--limit', '5', '--seed', '3'];
    const run = (args: string[]) => spawnSync('nice', ['-n', '19', process.execPath, BIN, ...args], { encoding: 'utf8' });
    const whole = run([...common, '--out', join(root, 'cw')]);
    expect(whole.status, whole.stderr).toBe(0);
    for (const i of [1, 2]) expect(run([...common, '--shard', `${i}/2`, '--out', join(root, `c${i}`)]).status).toBe(0);
    const m = run(['merge', '--from', `${join(root, 'c2')},${join(root, 'c1')}`, '--out', join(root, 'cm'), '--json', join(root, 'cm.json')]);
    expect(m.status, m.stderr).toBe(0);
    expect(read(join(root, 'cm'), 'bench.json')).toBe(read(join(root, 'cw'), 'bench.json'));
    // The table as bench prints it (its first lines: the rows).
    expect(m.stdout.split('\n').slice(0, 4).join('\n')).toBe(whole.stdout.split('\n').slice(0, 4).join('\n'));
    expect(JSON.parse(readFileSync(join(root, 'cm.json'), 'utf8')).rows).toEqual(JSON.parse(read(join(root, 'cw'), 'bench.json')).rows);
    const bad = run([...common, '--shard', '1/2']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--shard needs --out/);
  });
});
