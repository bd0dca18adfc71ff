import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../lib/rng.ts';
import { spearman } from '../lib/stats.ts';
import { irpoConfig } from '../training/config.ts';
import { dpoLossAndGrad, dpoUpdate, preferencePairs } from '../training/dpo.ts';
import { loadTheta, trainIrpo } from '../training/irpo.ts';

const root = mkdtempSync(join(tmpdir(), 'llm-auction-irpo-'));

describe('DPO on the embedded policy', () => {
  it('has the exact gradient (finite differences)', () => {
    const rng = new Rng(2);
    const pairs = Array.from({ length: 20 }, () => ({ diff: Float64Array.from({ length: 7 }, () => rng.uniform() * 4 - 2) }));
    const ref = Float64Array.from({ length: 7 }, () => rng.uniform() - 0.5);
    const theta = Float64Array.from(ref, (x) => x + rng.uniform() - 0.5);
    const { grad } = dpoLossAndGrad(theta, ref, pairs, 0.1);
    for (let d = 0; d < 7; d++) {
      const h = 1e-6;
      const up = Float64Array.from(theta);
      up[d]! += h;
      const dn = Float64Array.from(theta);
      dn[d]! -= h;
      const num = (dpoLossAndGrad(up, ref, pairs, 0.1).loss - dpoLossAndGrad(dn, ref, pairs, 0.1).loss) / (2 * h);
      expect(Math.abs(num - grad[d]!)).toBeLessThan(1e-7);
    }
  });

  it('starts at log 2 and lowers the loss', () => {
    const pairs = [{ diff: Float64Array.from([1, 0, -1]) }, { diff: Float64Array.from([2, 1, 0]) }];
    const ref = new Float64Array(3);
    const r = dpoUpdate(ref, pairs, { beta: 0.1, lr: 0.1, batchSize: 2, passes: 20, warmupRatio: 0.1, l2: 0 }, 1);
    expect(r.lossBefore).toBeCloseTo(Math.log(2), 12);
    expect(r.lossAfter).toBeLessThan(r.lossBefore);
  });

  it('pairs the best response with every response more than deltaTh below it (Eq. 6)', () => {
    expect(preferencePairs([5, 30, 19, 21, -40], 10)).toEqual({ winner: 1, losers: [0, 2, 4] });
    expect(preferencePairs([5, 8, 12], 10)).toBeNull();
    expect(preferencePairs([1], 10)).toBeNull();
  });

  it('rank correlation', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 40])).toBeCloseTo(1);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1);
    expect(spearman([1, 1, 1], [0, 1, 0])).toBe(0);
  });
});

describe('IRPO (Algorithm 1) on the embedded world', () => {
  const config = irpoConfig({ preset: 'tiny', trainQueries: 150, epochs: 2, rmSamples: 4, dpoSamples: 5 });

  it('trains with the pCTR reward model and checkpoints every phase', async () => {
    const out = join(root, 'pctr');
    const metrics = await trainIrpo({ out, config, seed: 3 });
    expect(metrics.map((m) => m.epoch)).toEqual([1, 2]);
    expect(metrics[0]!.pctr_auc).not.toBeNull();
    expect(metrics[0]!.pairs).toBeGreaterThan(0);
    expect(metrics[0]!.dpo_loss_after).toBeLessThan(metrics[0]!.dpo_loss_before);
    expect(loadTheta(out).epoch).toBe(2);
    for (const f of ['epoch-1/pctr.json', 'epoch-1/pairs.jsonl', 'epoch-1/online/episodes.jsonl', 'epoch-2/policy.json', 'metrics.jsonl']) expect(existsSync(join(out, f)), f).toBe(true);
    const pair = JSON.parse(readFileSync(join(out, 'epoch-1/pairs.jsonl'), 'utf8').split('\n')[0]!);
    expect(Object.keys(pair).slice(0, 3)).toEqual(['prompt', 'chosen', 'rejected']);
  });

  it('with the true click probabilities (Oracle), becomes bid-aware; a crashed run resumes to the same result', async () => {
    const a = join(root, 'a');
    const b = join(root, 'b');
    const oracle = { ...config, reward: 'oracle' as const };
    const metrics = await trainIrpo({ out: a, config: oracle, seed: 5 });
    // Epoch 1 is measured under the pretrained policy, which ignores bids.
    expect(Math.abs(metrics[0]!.bid_click_rank_correlation)).toBeLessThan(0.05);
    expect(metrics[1]!.bid_click_rank_correlation).toBeGreaterThan(metrics[0]!.bid_click_rank_correlation + 0.05);
    expect(metrics[1]!.reward_per_query).toBeGreaterThan(metrics[0]!.reward_per_query);
    expect(loadTheta(a).theta[0]).toBeGreaterThan(0); // the expected-value feature gained weight
    await trainIrpo({ out: b, config: oracle, seed: 5 });
    // Crash in the middle of epoch 2: its policy and metrics line never got written.
    rmSync(join(b, 'epoch-2', 'policy.json'));
    const lines = readFileSync(join(b, 'metrics.jsonl'), 'utf8').trim().split('\n');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(b, 'metrics.jsonl'), `${lines[0]}\n`);
    await expect(trainIrpo({ out: b, config: oracle, seed: 5 })).rejects.toThrow(/--resume/);
    await trainIrpo({ out: b, config: oracle, seed: 5, resume: true });
    expect(loadTheta(b).theta).toEqual(loadTheta(a).theta);
    expect(readFileSync(join(b, 'epoch-2/online/episodes.jsonl'), 'utf8')).toBe(readFileSync(join(a, 'epoch-2/online/episodes.jsonl'), 'utf8'));
    await expect(trainIrpo({ out: b, config: { ...oracle, deltaTh: 5 }, seed: 5, resume: true })).rejects.toThrow(/different configuration/);
  });
});
