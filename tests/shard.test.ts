/**
 * Sharded runs (issue #27): `simulate --shard i/n` over n parts, merged, equals the unsharded run
 * byte for byte (episodes.jsonl and manifest.json: the embedded mechanism's manifest holds no
 * timings or endpoint counts, so nothing is excluded here).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeRuns, parseShard, shardSlice } from '../evaluation/shard.ts';
import { simulateRun, type SimulateOptions } from '../evaluation/simulate.ts';

const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'llm-auction-shard-'));
const base: Omit<SimulateOptions, 'out'> = {
  mechanism: 'embedded:pretrained',
  queries: 'test',
  limit: 23, // not a multiple of 4: blocks of unequal size
  samples: 2,
  user: 'embedded:parametric',
  candidates: 10,
  worldSeed: 0,
  concurrency: 4,
  queriesPerProfile: 5,
  seed: 11,
};
const read = (dir: string, f: string) => readFileSync(join(dir, f), 'utf8');

describe('shards', () => {
  it('parses i/n and splits a list into n contiguous blocks that cover it once', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    for (const bad of ['0/4', '5/4', '1/0', 'a/b', '2', '-1/3']) expect(() => parseShard(bad)).toThrow(/--shard must be i\/n/);
    const xs = Array.from({ length: 23 }, (_, k) => k);
    const parts = [1, 2, 3, 4].map((i) => shardSlice(xs, { index: i, count: 4 }));
    expect(parts.flat()).toEqual(xs);
    expect(parts.map((p) => p.length)).toEqual([5, 6, 6, 6]);
    // More shards than items: some shards are empty, the rest hold one each.
    expect([1, 2, 3, 4, 5].map((i) => shardSlice(['a', 'b'], { index: i, count: 5 }))).toEqual([[], [], ['a'], [], ['b']]);
  });

  it('simulate over 4 shards, merged, equals the unsharded run byte for byte', { timeout: 120_000 }, async () => {
    await simulateRun({ ...base, out: join(root, 'whole') });
    const shards = [3, 1, 4, 2].map((i) => join(root, `s${i}`));
    for (const [k, i] of [3, 1, 4, 2].entries()) await simulateRun({ ...base, out: shards[k]!, shard: `${i}/4` });
    // Each shard holds only its block.
    expect(read(join(root, 's1'), 'episodes.jsonl')).not.toBe(read(join(root, 'whole'), 'episodes.jsonl'));
    expect(JSON.parse(read(join(root, 's2'), 'manifest.json')).config.shard).toBe('2/4');
    const sum = mergeRuns(shards, join(root, 'merged'));
    expect(sum).toMatchObject({ shards: 4, episodes: 46 });
    expect(read(join(root, 'merged'), 'episodes.jsonl')).toBe(read(join(root, 'whole'), 'episodes.jsonl'));
    expect(read(join(root, 'merged'), 'manifest.json')).toBe(read(join(root, 'whole'), 'manifest.json'));

    // Refusals: a shard missing, given twice, or of another run.
    expect(() => mergeRuns(shards.slice(0, 3), join(root, 'm2'))).toThrow(/missing/);
    expect(() => mergeRuns([...shards.slice(0, 3), shards[0]!], join(root, 'm3'))).toThrow(/twice|missing/);
    await simulateRun({ ...base, seed: 12, out: join(root, 'other4'), shard: '4/4' });
    expect(() => mergeRuns([...shards.filter((d) => !d.endsWith('s4')), join(root, 'other4')], join(root, 'm4'))).toThrow(/not shards of one run/);
    // Control: a shard whose episodes were altered no longer merges into the unsharded bytes.
    const s2 = join(root, 's2', 'episodes.jsonl');
    writeFileSync(s2, read(join(root, 's2'), 'episodes.jsonl').replace('"sample":1', '"sample":1 '));
    mergeRuns(shards, join(root, 'tampered'));
    expect(read(join(root, 'tampered'), 'episodes.jsonl')).not.toBe(read(join(root, 'whole'), 'episodes.jsonl'));
  });

  it('the CLI: simulate --shard and merge; a bad --shard is exit 2 naming the flag', { timeout: 120_000 }, () => {
    const common = ['-m', 'embedded:pretrained', '--limit', '6', '--seed', '3'];
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    for (const i of [1, 2]) expect(run(['simulate', ...common, '--shard', `${i}/2`, '--out', join(root, `c${i}`)]).status).toBe(0);
    expect(run(['simulate', ...common, '--out', join(root, 'cw')]).status).toBe(0);
    const m = run(['merge', '--from', `${join(root, 'c2')},${join(root, 'c1')}`, '--out', join(root, 'cm')]);
    expect(m.status, m.stderr).toBe(0);
    expect(read(join(root, 'cm'), 'episodes.jsonl')).toBe(read(join(root, 'cw'), 'episodes.jsonl'));
    const bad = run(['simulate', ...common, '--shard', '3/2', '--out', join(root, 'bad')]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--shard must be i\/n/);
  });
});

describe('verify over 2 shards', () => {
  it('gives the unsharded result and verdict (the properties\' cases split, each at the family alpha share)', { timeout: 180_000 }, async () => {
    const { verifyProperties, mechanismUnderTest } = await import('../evaluation/verify.ts');
    const { mergeVerifyResults } = await import('../evaluation/shard.ts');
    const m = await mechanismUnderTest('embedded:pretrained');
    const common = { mechanism: m, cases: 3, seed: 2, alpha: 0.05 };
    const whole = await verifyProperties(common);
    const shards = await Promise.all(['2/2', '1/2'].map((shard) => verifyProperties({ ...common, shard })));
    // Each shard checks only its block of the properties' cases, at the alpha share of the whole
    // family; a property whose cases straddle the two shards is in both, each with its part.
    const split = Object.keys(shards[0]!.result.properties).filter((p) => p in shards[1]!.result.properties);
    expect(split.length).toBeLessThanOrEqual(1);
    expect(shards.map((s) => Object.keys(s.result.properties).length).reduce((a, b) => a + b)).toBe(Object.keys(whole.result.properties).length + split.length);
    expect(shards.every((s) => s.result.alpha_per_property === whole.result.alpha_per_property)).toBe(true);
    const merged = mergeVerifyResults(shards.map((s) => s.result as never));
    expect(JSON.stringify(merged.result, null, 2)).toBe(JSON.stringify(whole.result, null, 2));
    expect(merged.code).toBe(whole.code);
    // Control: one shard's verdict turned to a fail changes the merged code (the merge reads the shards).
    const bad = JSON.parse(JSON.stringify(shards[0]!.result));
    const name = Object.keys(bad.properties)[0]!;
    bad.properties[name].verdict = 'fail';
    expect(mergeVerifyResults([bad, shards[1]!.result as never]).code).toBe(1);
    expect(() => mergeVerifyResults([shards[0]!.result as never])).toThrow(/missing/);
    // The CLI merge of the two --json files exits with the verdict's code.
    const files = shards.map((s, k) => {
      const f = join(root, `verify-${k}.json`);
      writeFileSync(f, JSON.stringify(s.result));
      return f;
    });
    const r = spawnSync(process.execPath, [BIN, 'merge', '--from', files.join(','), '--out', join(root, 'verify-merged.json')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(whole.code);
    expect(JSON.parse(read(root, 'verify-merged.json'))).toEqual(JSON.parse(JSON.stringify(whole.result)));
  });
});
