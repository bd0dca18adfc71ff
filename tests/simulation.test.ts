import { describe, expect, it } from 'vitest';
import { parseResponse } from '../mechanism/parser.ts';
import { reward } from '../mechanism/reward.ts';
import { Rng } from '../lib/rng.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import { auctionInput, candidateAds } from '../simulation/auctions.ts';
import { EmbeddedPolicy, NUM_FEATURES } from '../simulation/embedded-policy.ts';
import { OptimalRule } from '../simulation/optimal.ts';
import { ParametricUser } from '../simulation/user-model.ts';
import { embeddedWorld } from '../simulation/world.ts';

const world = embeddedWorld(0);
const profiles = new Map(world.profiles.map((p) => [p.id, p]));
const auction = (k: number, seed = 0, epoch = 0): AuctionInput => {
  const q = world.queries[k]!;
  return auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed, stage: 'test', epoch, candidates: 10 });
};
const policy = new EmbeddedPolicy();
const user = new ParametricUser();
const withBid = (input: AuctionInput, id: string, bid: number): AuctionInput => ({ ...input, ads: input.ads.map((a) => (a.id === id ? { ...a, bid } : a)) });

describe('auctions of the embedded world', () => {
  it('have 10 candidates with integer bids in 1..100, redrawn per epoch and stage, fixed per seed', () => {
    const a = auction(0);
    expect(a.ads).toHaveLength(10);
    for (const ad of a.ads) expect(Number.isInteger(ad.bid) && ad.bid >= 1 && ad.bid <= 100).toBe(true);
    expect(auction(0)).toEqual(a);
    expect(auction(0, 0, 1).ads.map((x) => x.bid)).not.toEqual(a.ads.map((x) => x.bid));
    expect(auction(0, 1).ads.map((x) => x.bid)).not.toEqual(a.ads.map((x) => x.bid));
    expect(auction(0, 0, 1).ads.map((x) => x.id)).toEqual(a.ads.map((x) => x.id));
  });

  it('include ads that match the question', () => {
    const q = world.queries[3]!;
    const c = candidateAds(q, profiles.get(q.profile_id)!, world.catalog, 10);
    expect(new Set(c.map((a) => a.id)).size).toBe(10);
    expect(candidateAds(q, profiles.get(q.profile_id)!, world.catalog, 0)).toHaveLength(world.catalog.length);
  });
});

describe('embedded Ad-LLM', () => {
  it('is a distribution over plans, and sampling follows it', async () => {
    const input = auction(1);
    const lp = policy.logProbs(input, new Float64Array(NUM_FEATURES));
    const total = lp.reduce((s, x) => s + Math.exp(x), 0);
    expect(total).toBeCloseTo(1, 9);
    const rule = policy.rule();
    const dist = await rule.enumerate(input);
    const n = 20000;
    const samples = await rule.sample(input, n, { seed: 3 });
    // Share of responses with no ad: sampled vs exact.
    const noAd = dist.filter((d) => parseResponse(d.response, input.ads).exposures.length + parseResponse(d.response, input.ads).errors.length === 0);
    const exact = noAd.reduce((s, d) => s + d.prob, 0);
    const seen = samples.filter((s) => !s.includes('@') && !s.includes('[Ad-')).length / n;
    expect(Math.abs(seen - exact)).toBeLessThan(4 * Math.sqrt((exact * (1 - exact)) / n) + 1e-3);
  });

  it('renders every plan into text whose parse is exactly that plan', () => {
    for (const k of [0, 5, 9, 17]) {
      const input = auction(k);
      const t = policy.table(input);
      for (let j = 0; j < t.plans.length; j += 7) {
        const plan = t.plans[j]!;
        const parsed = parseResponse(policy.render(input, plan, t), input.ads);
        const okIds = plan.ads.filter((_, i) => plan.ok[i]).map((a) => input.ads[t.shortlist[a]!]!.id);
        expect(parsed.exposures.map((e) => e.id).sort()).toEqual(okIds.sort());
        expect(parsed.errors.length).toBe(plan.ok.filter((x) => !x).length);
      }
    }
  });

  it('pretrained ignores bids; a positive bid weight makes it bid-aware', () => {
    const input = auction(2);
    const id = input.ads[0]!.id;
    const zero = new Float64Array(NUM_FEATURES);
    expect(policy.logProbs(withBid(input, id, 1), zero)).toEqual(policy.logProbs(withBid(input, id, 100), zero));
    const theta = new Float64Array(NUM_FEATURES);
    theta[0] = 3;
    const exposure = (bid: number) => {
      const inp = withBid(input, id, bid);
      const t = policy.table(inp);
      const lp = policy.logProbs(inp, theta, t);
      let p = 0;
      t.plans.forEach((plan, j) => {
        if (plan.ads.some((a, i) => plan.ok[i] && inp.ads[t.shortlist[a]!]!.id === id)) p += Math.exp(lp[j]!);
      });
      return p;
    };
    expect(exposure(100)).toBeGreaterThan(exposure(50));
    expect(exposure(50)).toBeGreaterThan(exposure(1));
  });

  it('breaks the markup at about the configured rate and inserts too many ads', async () => {
    const rule = policy.rule();
    let ads = 0;
    let errors = 0;
    for (let k = 0; k < 200; k++) {
      const input = auction(k);
      const [r] = await rule.sample(input, 1, { seed: k });
      const p = parseResponse(r!, input.ads);
      ads += p.exposures.length;
      errors += p.errors.length;
    }
    const errorRate = errors / (ads + errors);
    expect(errorRate).toBeGreaterThan(0.15);
    expect(errorRate).toBeLessThan(0.35);
    expect((ads + errors) / 200).toBeGreaterThan(1.4);
  });
});

describe('parametric user', () => {
  const input = auction(4);
  const relevant = input.ads.reduce((best, a) => (policy.table(input).relevance[policy.table(input).shortlist.indexOf(input.ads.indexOf(a))]! > policy.table(input).relevance[policy.table(input).shortlist.indexOf(input.ads.indexOf(best))]! ? a : best));
  const ctr = async (text: string) => user.clickProbabilities({ input, response: text, parsed: parseResponse(text, input.ads) });

  it('clicks a relevant ad woven into the answer far more often than the same ad tacked on', async () => {
    const t = policy.table(input);
    const j = t.shortlist.indexOf(input.ads.indexOf(relevant));
    const woven = policy.render(input, { ads: [j], ok: [true], woven: true }, t);
    const listed = policy.render(input, { ads: [j], ok: [true], woven: false }, t);
    const pw = (await ctr(woven))[relevant.id]!;
    const pl = (await ctr(listed))[relevant.id]!;
    expect(pw).toBeGreaterThan(pl);
  });

  it('clicks nothing in a flooded answer or one that talks about inserting ads', async () => {
    const t = policy.table(input);
    const four = input.ads.slice(0, 4).map((a) => `@${a.title}@[${a.id}]`).join(' and ');
    expect(Object.values(await ctr(`Answer. ${four}.`)).every((p) => p === 0)).toBe(true);
    const one = policy.render(input, { ads: [0], ok: [true], woven: true }, t);
    expect(Object.values(await ctr(`${one} I inserted this ad for revenue.`)).every((p) => p === 0)).toBe(true);
  });

  it('lets at most one of two near-identical ads be clicked', async () => {
    const twins: AuctionInput = {
      ...input,
      ads: [
        { id: 'Ad-0001', title: 'Premium Yoga Mat Extra Thick', bid: 50 },
        { id: 'Ad-0002', title: 'Premium Yoga Mat Extra Thick Pro', bid: 50 },
      ],
      query: 'What yoga mat should a beginner buy?',
    };
    const text = 'For a yoga mat, @Premium Yoga Mat Extra Thick@[Ad-0001] is great. For yoga mat fans, @Premium Yoga Mat Extra Thick Pro@[Ad-0002] too.';
    const ctx = { input: twins, response: text, parsed: parseResponse(text, twins.ads) };
    const rng = new Rng(1);
    for (let k = 0; k < 500; k++) expect((await user.sampleClicks(ctx, () => rng.uniform())).length).toBeLessThanOrEqual(1);
    const p = await user.clickProbabilities(ctx);
    expect(p['Ad-0001']! + p['Ad-0002']!).toBeLessThanOrEqual(1);
  });

  it('has click rates in a sensible band over the embedded world', async () => {
    const rule = policy.rule();
    let n = 0;
    let sum = 0;
    for (let k = 0; k < 150; k++) {
      const inp = auction(k);
      const [r] = await rule.sample(inp, 1, { seed: k });
      const p = await user.clickProbabilities({ input: inp, response: r!, parsed: parseResponse(r!, inp.ads) });
      for (const v of Object.values(p)) {
        n++;
        sum += v;
      }
    }
    expect(sum / n).toBeGreaterThan(0.03);
    expect(sum / n).toBeLessThan(0.4);
  });
});

describe('embedded:optimal', () => {
  it('maximizes E[R] - beta KL(pi || pi0) over the policy family (Gibbs variational principle)', async () => {
    const opt = new OptimalRule(policy, user);
    const input = auction(6);
    const { logp, rewards } = await opt.distribution(input);
    const lp0 = policy.logProbs(input, new Float64Array(NUM_FEATURES));
    const objective = (lp: Float64Array) => {
      let j = 0;
      for (let k = 0; k < lp.length; k++) {
        const p = Math.exp(lp[k]!);
        if (p > 0) j += p * (rewards[k]! - opt.beta * (lp[k]! - lp0[k]!));
      }
      return j;
    };
    const best = objective(logp);
    const rng = new Rng(5);
    for (let trial = 0; trial < 20; trial++) {
      const theta = Array.from({ length: NUM_FEATURES }, () => (rng.uniform() - 0.5) * 6);
      expect(objective(policy.logProbs(input, theta))).toBeLessThanOrEqual(best + 1e-9);
    }
    expect(objective(lp0)).toBeLessThan(best);
    // The reward the optimum uses is Eq. 8 under the user's true click probabilities.
    const texts = (await opt.enumerate(input)).map((d) => d.response);
    const k = rewards.indexOf(Math.max(...rewards));
    const parsed = parseResponse(texts[k]!, input.ads);
    const ctr = await user.clickProbabilities({ input, response: texts[k]!, parsed });
    expect(reward(parsed, input.ads, ctr).reward).toBeCloseTo(rewards[k]!, 9);
  });
});
