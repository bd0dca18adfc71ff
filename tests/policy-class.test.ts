/**
 * The embedded Ad-LLM's class can express the rules a practitioner writes first (issue #22): its
 * best member on a small bench is at least the one-ad rule "weave in the ad with the highest
 * bid x (0.1 + 0.8 x word overlap), only above a reserve of 10" and at least never inserting. The
 * control: the class as it was before issue #22 (theta restricted to its first 7 features) falls
 * below the one-ad rule on the same bench, so the comparison can fail.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkRunPolicy } from '../simulation/run-files.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { EmbeddedPolicy, FEATURES, LEGACY_NUM_FEATURES, NUM_FEATURES, adSlot, neverInsertRule } from '../simulation/embedded-policy.ts';
import { classObjective, optimizeClass, planRewards, type ClassProblem } from '../simulation/optimal.ts';
import { ParametricUser } from '../simulation/user-model.ts';
import { embeddedWorld } from '../simulation/world.ts';
import { oneAdRule } from './fixtures/one-ad-rule.ts';

const world = embeddedWorld(0);
const profiles = new Map(world.profiles.map((p) => [p.id, p]));
const policy = new EmbeddedPolicy();
const user = new ParametricUser({ worldSeed: 0 });
const inputs = world.queries
  .filter((q) => q.split === 'test')
  .slice(0, 40)
  .map((q) => auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: 0, stage: 'bench', epoch: 0, candidates: 10 }));
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

describe('the embedded Ad-LLM class', () => {
  it('keeps theta = 0 the pretrained model and names one identity feature per catalog ad', () => {
    expect(NUM_FEATURES).toBe(9 + 100);
    expect(FEATURES.slice(LEGACY_NUM_FEATURES, 9)).toEqual(['extra_ads', 'bid_relevance']);
    expect(new Set(world.catalog.map((a) => adSlot(a.id))).size).toBe(100);
    const input = inputs[0]!;
    const t = policy.table(input);
    const lp = policy.logProbs(input, new Float64Array(NUM_FEATURES));
    lp.forEach((x, j) => expect(x).toBeCloseTo(t.logp0[j]!, 9));
    // The dense and the compact features agree: log pi at a random theta, both ways.
    const theta = Float64Array.from({ length: NUM_FEATURES }, (_, d) => Math.sin(d + 1));
    const dense = policy.features(input, t);
    const scores = t.plans.map((_, j) => t.logp0[j]! + theta.reduce((s, th, d) => s + th * dense[j * NUM_FEATURES + d]!, 0));
    const z = Math.log(scores.reduce((s, x) => s + Math.exp(x - Math.max(...scores)), 0)) + Math.max(...scores);
    policy.logProbs(input, theta, t).forEach((x, j) => expect(x).toBeCloseTo(scores[j]! - z, 9));
  });

  it('has a best member at least the one-ad eCPM-above-reserve rule and never-insert; the 7-feature class falls below the rule', async () => {
    const problems: ClassProblem[] = [];
    for (const input of inputs) problems.push(await planRewards(policy, user, input));
    const rule = oneAdRule({ policy });
    const oneAd = mean(inputs.map((input, k) => problems[k]!.rewards[rule.choose(input)]!));
    const nullRow = neverInsertRule(policy);
    const never = mean(
      await Promise.all(
        inputs.map(async (input, k) => {
          const [only] = await nullRow.enumerate!(input);
          const t = policy.table(input);
          return problems[k]!.rewards[t.plans.findIndex((p) => policy.render(input, p, t) === only!.response)]!;
        }),
      ),
    );
    const best = optimizeClass(problems, undefined, 300).value;
    const legacy = optimizeClass(problems, undefined, 300, 1, LEGACY_NUM_FEATURES);
    expect(Array.from(legacy.theta.slice(LEGACY_NUM_FEATURES)).every((x) => x === 0)).toBe(true);
    expect(legacy.value).toBeCloseTo(classObjective(problems, legacy.theta).value, 9);
    expect(best).toBeGreaterThanOrEqual(oneAd);
    expect(best).toBeGreaterThanOrEqual(never);
    expect(legacy.value).toBeLessThan(oneAd); // the control: the old class cannot say "one ad only"
  }, 300_000);

  it('refuses a theta of the old length (7) with one line naming the file and saying to retrain; takes the new length', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llm-auction-theta-'));
    mkdirSync(join(dir, 'epoch-0'));
    writeFileSync(join(dir, 'epoch-0', 'policy.json'), JSON.stringify({ epoch: 0, theta: new Array(LEGACY_NUM_FEATURES).fill(0) }));
    expect(() => checkRunPolicy(dir)).toThrow(/epoch-0\/policy\.json.*theta.*must hold 109 numbers.*has 7.*train it again/);
    writeFileSync(join(dir, 'epoch-0', 'policy.json'), JSON.stringify({ epoch: 0, theta: new Array(NUM_FEATURES).fill(0) }));
    expect(() => checkRunPolicy(dir)).not.toThrow();
  });
});
