/**
 * `verify --shard` splitting one property's cases (issue #27): 2 shards of a one-property verify
 * each check half of its planned cases (at the whole check's levels) and the merge gives the
 * unsharded verdict. On the exact path the merged result is the unsharded one byte for byte, for a
 * pass and for a planted violation (first failing case, its counterexample after shrinking); on
 * the sampled path (each shard on half the budget) the verdicts agree. Controls: a part turned to
 * fail makes the merge fail, and a missing or repeated part is refused.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mergeVerifyResults, type ShardedVerifyResult } from '../evaluation/shard.ts';
import { verifyProperties } from '../evaluation/verify.ts';
import { mergeCaseVerdicts } from '../properties/case-merge.ts';
import type { MechanismUnderTest, Verdict } from '../properties/types.ts';
import * as F from './fixtures/planted.ts';

const json = (x: unknown) => JSON.stringify(x, null, 2);

async function whole_and_shards(m: MechanismUnderTest, opts: { cases: number; seed: number; exact?: boolean; budget?: number }) {
  const common = { mechanism: m, properties: ['monotonicity'], alpha: 0.05, ...opts };
  const whole = await verifyProperties(common);
  const shards = [];
  for (const shard of ['2/2', '1/2']) shards.push(await verifyProperties({ ...common, shard }));
  return { whole, shards, merged: mergeVerifyResults(shards.map((s) => s.result as unknown as ShardedVerifyResult)) };
}

describe('verify over 2 shards of one property', () => {
  it('exact path, a pass: each shard checks half the cases; merged, the unsharded result to the byte', { timeout: 300_000 }, async () => {
    const { whole, shards, merged } = await whole_and_shards(F.correctSoftmax(), { cases: 4, seed: 3 });
    expect(whole.result.properties.monotonicity!.verdict).toBe('pass');
    // The shards' parts: cases 2..3 and 0..1, each at the whole check's per-comparison level.
    const parts = shards.map((s) => s.result.properties.monotonicity!.details as unknown as { shard_cases: { from: number; to: number }; cases: number; alpha_per_comparison: number });
    expect(parts.map((d) => [d.shard_cases.from, d.shard_cases.to])).toEqual([[2, 4], [0, 2]]);
    expect(parts.every((d) => d.cases === 2 && d.alpha_per_comparison === whole.result.properties.monotonicity!.details!.alpha_per_comparison)).toBe(true);
    expect(json(merged.result)).toBe(json(whole.result));
    expect(merged.code).toBe(whole.code);

    // Control: one part turned to a failing case makes the merged verdict fail.
    const bad = JSON.parse(json(shards[0]!.result)) as { properties: { monotonicity: Verdict & { details: { case_status: string[] } } } };
    bad.properties.monotonicity.verdict = 'fail';
    bad.properties.monotonicity.details.case_status[0] = 'fail';
    const m2 = mergeVerifyResults([bad as unknown as ShardedVerifyResult, shards[1]!.result as unknown as ShardedVerifyResult]);
    expect(m2.code).toBe(1);
    expect(m2.result.properties.monotonicity!.verdict).toBe('fail');
    // Refusals: a part missing, or given twice.
    const p = (k: number) => shards[k]!.result.properties.monotonicity as Verdict;
    expect(() => mergeCaseVerdicts([p(0)], 'monotonicity')).toThrow(/missing/);
    expect(() => mergeCaseVerdicts([p(1), p(1), p(0)], 'monotonicity')).toThrow(/given twice/);
  });

  it('exact path, a planted dip: the merged fail is the unsharded one (first failing case, shrunk counterexample)', { timeout: 300_000 }, async () => {
    const { whole, merged } = await whole_and_shards(F.plantedDip(), { cases: 3, seed: 1 });
    expect(whole.result.properties.monotonicity!.verdict).toBe('fail');
    expect(json(merged.result)).toBe(json(whole.result));
    expect(merged.code).toBe(1);
  });

  it('sampled path (each shard on half the budget): the same verdicts as the unsharded check', { timeout: 600_000 }, async () => {
    for (const [create, want] of [[F.correctSoftmax, 'pass'], [F.plantedDip, 'fail']] as const) {
      const { whole, shards, merged } = await whole_and_shards(F.samplingOnly(create()), { cases: 4, seed: 2, budget: 120_000 });
      const v = merged.result.properties.monotonicity!;
      expect(whole.result.properties.monotonicity!.verdict, create.name).toBe(want);
      expect(v.verdict, create.name).toBe(want);
      // Each part spent at most its half of the budget; the merge adds them up.
      const spent = shards.map((s) => (s.result.properties.monotonicity as Verdict).details!.samples_to_verdict);
      expect(spent.every((x) => x <= 60_000)).toBe(true);
      if (want === 'pass') {
        expect((v as Verdict).details!.samples_to_verdict).toBe(spent[0]! + spent[1]!);
        expect((v as Verdict).details!.cases).toBe(4);
      } else {
        expect((v as Verdict).p_value!).toBeLessThanOrEqual(0.05);
      }
      expect(merged.code).toBe(whole.code);
    }
  });

  it('the CLI: verify --shard 1/2 and 2/2 --json, merged, is the unsharded verify.json file byte for byte', { timeout: 300_000 }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-auction-verify-cases-'));
    const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;
    const run = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8' });
    const common = ['verify', '-m', 'embedded:pretrained', '--property', 'monotonicity', '--cases', '2', '--seed', '2'];
    for (const i of [1, 2]) {
      const r = run([...common, '--shard', `${i}/2`, '--json', join(dir, `v${i}.json`)]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`monotonicity (cases ${i}-${i} of 2)`); // a part says which cases
    }
    expect(run([...common, '--json', join(dir, 'whole.json')]).status).toBe(0);
    const m = run(['merge', '--from', `${join(dir, 'v2.json')},${join(dir, 'v1.json')}`, '--out', join(dir, 'merged.json')]);
    expect(m.status, m.stderr).toBe(0);
    expect(readFileSync(join(dir, 'merged.json'), 'utf8')).toBe(readFileSync(join(dir, 'whole.json'), 'utf8'));
  });

  it('sampled path on too small a budget: inconclusive merged, with the cost estimate and the closest comparison', { timeout: 300_000 }, async () => {
    const { whole, merged } = await whole_and_shards(F.samplingOnly(F.correctSoftmax()), { cases: 4, seed: 2, budget: 800 });
    const v = merged.result.properties.monotonicity as Verdict;
    expect(whole.result.properties.monotonicity!.verdict).toBe('inconclusive');
    expect(v.verdict).toBe('inconclusive');
    expect(v.details!.cases).toBe(4);
    expect(v.details!.closest).toBeDefined();
    expect('budget_needed' in v.details!).toBe(true);
    expect(v.details!.notes.at(-1)).toMatch(/responses/);
    expect('shard_cases' in v.details!).toBe(false);
    expect(merged.code).toBe(3);
  });
});
