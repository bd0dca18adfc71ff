import { describe, expect, it } from 'vitest';
import { individuallyRational, objective, roiFeasible, truthfulBid, utilityMaximizer, valueMaximizer } from '../mechanism/advertiser.ts';
import type { ClickModel } from '../mechanism/click-model.ts';
import { insertion } from '../mechanism/format.ts';
import { estimateItctr } from '../mechanism/itctr.ts';
import { parseResponse } from '../mechanism/parser.ts';
import { DEFAULT_REWARD, reward, RewardConfig } from '../mechanism/reward.ts';
import { Rng } from '../lib/rng.ts';
import type { AllocationRule, AuctionInput } from '../mechanism/types.ts';

const input: AuctionInput = {
  query: 'How do I start running?',
  profile: { id: 'U-0001', info: 'office worker in her thirties', interests: ['running', 'coffee'] },
  ads: [
    { id: 'Ad-0001', title: 'Trail Running Shoes', bid: 80 },
    { id: 'Ad-0002', title: 'Espresso Machine', bid: 30 },
  ],
};
const [shoes, espresso] = input.ads as [(typeof input.ads)[0], (typeof input.ads)[0]];

describe('reward (Eq. 5/8)', () => {
  it('is sum of bid x pCTR over valid exposures minus lambda x s_resp', () => {
    const text = `Start slow. ${insertion(shoes)} help. Also ${insertion(espresso)}.`;
    const r = reward(parseResponse(text, input.ads), input.ads, { 'Ad-0001': 0.5, 'Ad-0002': 0.1 });
    expect(r.value).toBeCloseTo(80 * 0.5 + 30 * 0.1);
    expect(r.penalty).toBe(2 * DEFAULT_REWARD.perAd);
    expect(r.reward).toBeCloseTo(43 - 20);
  });

  it('charges errors and gives a crowded or broken response a negative reward under the defaults', () => {
    const text = `${insertion(shoes)} ${insertion(espresso)} @Shoes@[Ad-0001] @Magic@[Ad-0999] [Ad-0002]`;
    const parsed = parseResponse(text, input.ads);
    expect(parsed.errors).toHaveLength(3);
    const r = reward(parsed, input.ads, () => 0.3);
    expect(r.reward).toBeLessThan(0);
    expect(r.reward).toBeCloseTo(80 * 0.3 + 30 * 0.3 - 2 * 10 - 3 * 50);
  });

  it('takes its costs from a validated config', () => {
    const cfg = RewardConfig.parse({ lambda: 2, perAd: 5 });
    expect(cfg.perError).toBe(50);
    const r = reward(parseResponse(insertion(shoes), input.ads), input.ads, { 'Ad-0001': 1 }, cfg);
    expect(r.reward).toBe(80 - 2 * 5);
    expect(() => RewardConfig.parse({ lambda: -1 })).toThrow();
  });
});

/** A rule that inserts the shoes ad with probability q, exactly enumerable. */
function coinRule(q: number, withEnumerate: boolean): AllocationRule {
  const yes = `You could try ${insertion(shoes)}.`;
  const no = 'Start with short, easy runs.';
  const rule: AllocationRule = {
    name: 'coin',
    async sample(_in, n, opts) {
      const rng = new Rng(opts?.seed ?? 0);
      return Array.from({ length: n }, () => (rng.bernoulli(q) ? yes : no));
    },
  };
  if (withEnumerate) rule.enumerate = async () => [{ response: yes, prob: q }, { response: no, prob: 1 - q }];
  return rule;
}
const clicks: ClickModel = { name: 'fixed', clickProbabilities: async ({ parsed }) => Object.fromEntries(parsed.exposures.map((e) => [e.id, 0.4])) };

describe('ITCTR (Def. 3.1)', () => {
  it('is exact when the rule enumerates its distribution', async () => {
    const est = await estimateItctr(coinRule(0.25, true), input, clicks);
    const s = est.find((e) => e.id === 'Ad-0001')!;
    expect(s.exact).toBe(true);
    expect(s.itctr).toBeCloseTo(0.25 * 0.4);
    expect(s.exposure).toBeCloseTo(0.25);
    expect(s.ci95).toEqual([s.itctr, s.itctr]);
    expect(est.find((e) => e.id === 'Ad-0002')!.itctr).toBe(0);
  });

  it('is estimated from M samples with a 95% interval that covers the truth about 95% of the time', async () => {
    const truth = 0.25 * 0.4;
    let covered = 0;
    const runs = 200;
    for (let seed = 0; seed < runs; seed++) {
      const est = await estimateItctr(coinRule(0.25, false), input, clicks, { samples: 100, seed });
      const s = est.find((e) => e.id === 'Ad-0001')!;
      expect(s.exact).toBe(false);
      expect(s.samples).toBe(100);
      if (s.ci95[0] <= truth && truth <= s.ci95[1]) covered++;
    }
    // Wilson on [0,1]-valued samples is conservative: coverage at or above nominal.
    expect(covered / runs).toBeGreaterThanOrEqual(0.93);
  });

  it('same seed, same estimate', async () => {
    const a = await estimateItctr(coinRule(0.5, false), input, clicks, { samples: 30, seed: 4 });
    const b = await estimateItctr(coinRule(0.5, false), input, clicks, { samples: 30, seed: 4 });
    expect(a).toEqual(b);
  });
});

describe('advertisers (Defs. 3.3, 3.4)', () => {
  it('utility and value maximizers', () => {
    const um = utilityMaximizer('Ad-0001', 50);
    const vm = valueMaximizer('Ad-0001', 50, 2);
    expect(objective(um, 0.2, 6)).toBeCloseTo(4);
    expect(objective(vm, 0.2, 6)).toBeCloseTo(10);
    expect(roiFeasible(vm, 0.2, 5)).toBe(true);
    expect(roiFeasible(vm, 0.2, 5.01)).toBe(false);
    expect(individuallyRational(um, 0.2, 10)).toBe(true);
    expect(individuallyRational(um, 0.2, 10.1)).toBe(false);
    expect(truthfulBid(vm)).toBe(25);
    expect(truthfulBid(um)).toBe(50);
    expect(() => valueMaximizer('Ad-0001', 50, 0)).toThrow(RangeError);
    expect(() => utilityMaximizer('Ad-0001', Number.NaN)).toThrow(RangeError);
  });
});
