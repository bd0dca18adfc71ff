import { describe, expect, it } from 'vitest';
import {
  GspRule,
  MosaicRule,
  generationsPerResponse,
  oracleCtr,
  relevanceQuality,
  rochetPayments,
  selectionProbabilities,
  wrapRule,
  type PricedCandidate,
} from '../baselines/index.ts';
import { ResponseParser } from '../mechanism/parser.ts';
import { gsp, Ledger } from '../mechanism/payment.ts';
import { reward } from '../mechanism/reward.ts';
import { sampleForSettlement } from '../mechanism/settlement.ts';
import { deriveSeed } from '../lib/rng.ts';
import { formatSpec, parseSpec } from '../evaluation/kinds/index.ts';
import type { AllocationRule, AuctionInput, BiddedAd } from '../mechanism/types.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { EmbeddedPolicy, NUM_FEATURES } from '../simulation/embedded-policy.ts';
import { DEFAULT_OBJECTIVE_BETA, OptimalRule } from '../simulation/optimal.ts';
import { ParametricUser } from '../simulation/user-model.ts';
import { embeddedWorld } from '../simulation/world.ts';

const world = embeddedWorld(0);
const profiles = new Map(world.profiles.map((p) => [p.id, p]));
const auction = (k: number, seed = 0): AuctionInput => {
  const q = world.queries[k]!;
  return auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed, stage: 'test', epoch: 0, candidates: 10 });
};
const policy = new EmbeddedPolicy();
const user = new ParametricUser();
const inner = policy.rule();
const ctr = oracleCtr(user);
const withBid = (input: AuctionInput, id: string, bid: number): AuctionInput => ({ ...input, ads: input.ads.map((a) => (a.id === id ? { ...a, bid } : a)) });

/**
 * Exact exposure probability of every ad under an enumerable rule. `seen` memoizes parses across
 * calls whose candidates differ only in bids (a bid sweep), since parsing ignores bids.
 */
async function exposures(rule: AllocationRule, input: AuctionInput, seen = new Map<string, string[]>()): Promise<Map<string, number>> {
  const parser = new ResponseParser(input.ads);
  const out = new Map(input.ads.map((a) => [a.id, 0]));
  for (const { response, prob } of await rule.enumerate!(input)) {
    let ids = seen.get(response);
    if (!ids) {
      ids = parser.parse(response).exposures.map((e) => e.id);
      seen.set(response, ids);
    }
    for (const id of ids) out.set(id, (out.get(id) ?? 0) + prob);
  }
  return out;
}

/** Expected reward of the reference and of the exact optimum (same beta, the user's true ctr). */
async function exactRewards(input: AuctionInput) {
  const { logp, rewards } = await new OptimalRule(policy, user).distribution(input);
  const lp0 = policy.logProbs(input, new Float64Array(NUM_FEATURES));
  let opt = 0;
  let ref = 0;
  for (let j = 0; j < rewards.length; j++) {
    opt += Math.exp(logp[j]!) * rewards[j]!;
    ref += Math.exp(lp0[j]!) * rewards[j]!;
  }
  return { opt, ref };
}

/**
 * MOSAIC's expected reward, with the final selection integrated out exactly given each candidate
 * set (less noise than averaging the selected replies), and its standard error over candidate sets.
 */
async function mosaicReward(input: AuctionInput, n: number, outputs: number, seed: number) {
  const draws = await new MosaicRule(inner, ctr, { n }).draw(input, outputs, { seed });
  const xs = draws.map((d) => d.probs.reduce((s, p, m) => s + p * d.candidates[m]!.reward, 0));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1));
  return { mean, se: sd / Math.sqrt(xs.length) };
}

describe('MOSAIC', () => {
  it('defaults to the paper settings and names itself after its inner rule', () => {
    const m = new MosaicRule(inner, ctr);
    expect(m.config.n).toBe(20);
    expect(m.config.beta).toBe(DEFAULT_OBJECTIVE_BETA);
    expect(m.config.reward).toEqual({ lambda: 1, perAd: 10, perError: 50 });
    expect(m.payment).toBe('first-price-click');
    expect(m.generationsPerResponse).toBe(20);
    expect(m.name).toBe('mosaic:embedded:pretrained?n=20');
    expect((m as AllocationRule).enumerate).toBeUndefined();
    expect(new MosaicRule(inner, ctr, { payment: 'mosaic-rochet' }).payment).toBe('gsp');
    expect(() => new MosaicRule(inner, ctr, { n: 0 })).toThrow();
  });

  it('with n = 1 returns the reference rule\'s own draws, so it follows the reference distribution', async () => {
    const input = auction(1);
    const m = new MosaicRule(inner, ctr, { n: 1 });
    const seed = 5;
    const got = await m.sample(input, 4, { seed });
    for (let k = 0; k < 4; k++) {
      const own = await inner.sample(input, 1, { seed: deriveSeed(seed, 'mosaic', 'candidates', k) });
      expect(got[k]).toBe(own[0]);
    }
    // And in distribution: the share of outputs exposing each ad matches the reference's exact one.
    const K = 3000;
    const outs = await m.sample(input, K, { seed: 9 });
    const parser = new ResponseParser(input.ads);
    const seen = new Map(input.ads.map((a) => [a.id, 0]));
    for (const r of outs) for (const e of parser.parse(r).exposures) seen.set(e.id, seen.get(e.id)! + 1 / K);
    const exact = await exposures(inner, input);
    for (const [id, p] of exact) expect(Math.abs(seen.get(id)! - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / K) + 1e-3);
  });

  it('is deterministic for a seed, and output k does not depend on how many are drawn', async () => {
    const input = auction(2);
    const m = new MosaicRule(inner, ctr, { n: 8 });
    const a = await m.sample(input, 6, { seed: 11 });
    expect(await m.sample(input, 6, { seed: 11 })).toEqual(a);
    expect(await m.sample(input, 3, { seed: 11 })).toEqual(a.slice(0, 3));
    expect(await m.sample(input, 6, { seed: 12 })).not.toEqual(a);
  });

  it('counts its inner generations: n per output', async () => {
    const m = new MosaicRule(inner, ctr, { n: 7 });
    await m.sample(auction(3), 5, { seed: 1 });
    await m.sample(auction(4), 2, { seed: 1 });
    expect(m.stats).toEqual({ innerCalls: 7, generations: 49, outputs: 7 });
    expect(generationsPerResponse(m)).toBe(7);
  });

  it('gains expected reward with n (1 < 5 < 20) and approaches the exact optimum at n = 200', async () => {
    const input = auction(0);
    const { opt, ref } = await exactRewards(input);
    const r1 = await mosaicReward(input, 1, 400, 21);
    const r5 = await mosaicReward(input, 5, 400, 22);
    const r20 = await mosaicReward(input, 20, 400, 23);
    const r200 = await mosaicReward(input, 200, 100, 24);
    // n = 1 is the reference itself.
    expect(Math.abs(r1.mean - ref)).toBeLessThan(4 * r1.se);
    for (const [lo, hi] of [
      [r1, r5],
      [r5, r20],
      [r20, r200],
    ] as const) {
      expect(hi.mean - lo.mean).toBeGreaterThan(4 * Math.hypot(lo.se, hi.se));
    }
    // Within 10% of the way from the reference to the optimum (observed: about 2%).
    expect(Math.abs(r200.mean - opt)).toBeLessThan(0.1 * (opt - ref));
  });

  it('with n = 200 exposes ads as pi_ref * exp(R / beta) does', async () => {
    const input = auction(0);
    const draws = await new MosaicRule(inner, ctr, { n: 200 }).draw(input, 100, { seed: 31 });
    const got = new Map(input.ads.map((a) => [a.id, 0]));
    for (const d of draws) d.probs.forEach((p, m) => d.candidates[m]!.exposures.forEach((id) => got.set(id, got.get(id)! + p / draws.length)));
    const opt = await exposures(new OptimalRule(policy, user), input);
    const ref = await exposures(inner, input);
    let toOpt = 0;
    let refToOpt = 0;
    for (const [id, p] of opt) {
      toOpt += Math.abs(got.get(id)! - p);
      refToOpt += Math.abs(ref.get(id)! - p);
    }
    expect(toOpt).toBeLessThan(0.2);
    expect(toOpt).toBeLessThan(0.25 * refToOpt);
  });
});

describe("MOSAIC's Rochet payment", () => {
  const beta = DEFAULT_OBJECTIVE_BETA;

  /** One real candidate set with its rewards, from a draw on the embedded world. */
  async function candidateSet(k: number) {
    const input = auction(k);
    const [d] = await new MosaicRule(inner, ctr, { n: 20, payment: 'mosaic-rochet' }).draw(input, 1, { seed: 40 + k });
    return { input, d: d! };
  }

  /** The same candidates scored as if ad `id` had bid t (only its own term of R changes). */
  function withOwnBid(cands: readonly PricedCandidate[], ad: BiddedAd, t: number): PricedCandidate[] {
    return cands.map((c) => (c.exposures.includes(ad.id) ? { ...c, reward: c.reward + (t - ad.bid) * (c.ctr[ad.id] ?? 0) } : c));
  }

  const clicksAt = (cands: readonly PricedCandidate[], ad: BiddedAd, t: number) => {
    const moved = withOwnBid(cands, ad, t);
    const p = selectionProbabilities(moved.map((c) => c.reward), beta);
    return moved.reduce((s, c, m) => s + (c.exposures.includes(ad.id) ? p[m]! * (c.ctr[ad.id] ?? 0) : 0), 0);
  };

  it("is Myerson's payment for the expected clicks, and costs between 0 and the bid per click", async () => {
    let checked = 0;
    for (const k of [0, 2, 5]) {
      const { input, d } = await candidateSet(k);
      for (const pay of d.payments!) {
        const ad = input.ads.find((a) => a.id === pay.id)!;
        expect(pay.clickPrice).toBeGreaterThanOrEqual(0);
        expect(pay.clickPrice).toBeLessThanOrEqual(ad.bid);
        if (pay.clicks === 0) continue;
        // b X(b) - integral_0^b X(t) dt, by Simpson's rule.
        const steps = 2000;
        const h = ad.bid / steps;
        let integral = 0;
        for (let s = 0; s <= steps; s++) integral += (s === 0 || s === steps ? 1 : s % 2 ? 4 : 2) * clicksAt(d.candidates, ad, s * h);
        integral *= h / 3;
        expect(pay.clicks).toBeCloseTo(clicksAt(d.candidates, ad, ad.bid), 12);
        expect(pay.payment).toBeCloseTo(ad.bid * pay.clicks - integral, 6);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(0);
  });

  it('makes bidding the true value per click optimal for a fixed candidate set', async () => {
    const { input, d } = await candidateSet(2);
    const best = d.payments!.filter((p) => p.clicks > 0).sort((a, b) => b.clicks - a.clicks)[0]!;
    const ad = input.ads.find((a) => a.id === best.id)!;
    const value = ad.bid;
    const utility = (t: number) => {
      const ads = input.ads.map((a) => (a.id === ad.id ? { ...a, bid: t } : a));
      const p = rochetPayments(withOwnBid(d.candidates, ad, t), ads, beta).find((x) => x.id === ad.id)!;
      return value * p.clicks - p.payment;
    };
    const truthful = utility(value);
    expect(truthful).toBeGreaterThanOrEqual(0);
    for (let t = 0; t <= 2 * value; t += value / 50) expect(utility(t)).toBeLessThanOrEqual(truthful + 1e-9);
  });

  it('settles through the gsp rule at the posted per-click prices', async () => {
    const input = auction(5);
    const rule = new MosaicRule(inner, ctr, { n: 20, payment: 'mosaic-rochet' });
    const outs = await sampleForSettlement(rule, input, 10, { seed: 3 });
    const parser = new ResponseParser(input.ads);
    let charged = 0;
    outs.forEach(({ response, slots }, m) => {
      const parsed = parser.parse(response);
      const ledger = new Ledger();
      const clicked = parsed.exposures.map((e) => e.id);
      const charges = ledger.settle(gsp, { queryId: 'q', sample: m, ads: input.ads, exposures: parsed.exposures, clicked, slots: slots! });
      for (const c of charges) {
        expect(c.amount).toBe(slots!.find((s) => s.id === c.ad_id)!.price);
        expect(c.amount).toBeLessThanOrEqual(c.bid);
        charged++;
      }
    });
    expect(charged).toBeGreaterThan(0);
  });
});

describe('pre-generation GSP', () => {
  const quality = relevanceQuality();
  /** The top k by bid x quality, computed independently of gspAllocate. */
  const ranked = (input: AuctionInput) =>
    input.ads
      .map((ad) => ({ ad, q: quality(input, ad), score: ad.bid * quality(input, ad) }))
      .sort((a, b) => b.score - a.score || (a.ad.id < b.ad.id ? -1 : 1));

  it('predicts a quality in (0, 1) that is higher for ads that match the question', () => {
    const input = auction(0);
    for (const ad of input.ads) {
      const q = quality(input, ad);
      expect(q).toBeGreaterThan(0);
      expect(q).toBeLessThan(1);
    }
    const fit: BiddedAd = { id: 'Ad-9001', title: input.query, bid: 10 };
    const unrelated: BiddedAd = { id: 'Ad-9002', title: 'Zebra-striped xylophone mallets', bid: 10 };
    expect(quality(input, fit)).toBeGreaterThan(quality(input, unrelated));
  });

  it('hands the inner rule only the top-k ads', async () => {
    const seen: AuctionInput[] = [];
    const spy: AllocationRule = {
      name: 'spy',
      async sample(input, n) {
        seen.push(input);
        return Array.from({ length: n }, () => 'no ads here');
      },
    };
    for (const k of [1, 2, 3]) {
      const rule = new GspRule(spy, { k });
      expect(rule.enumerate).toBeUndefined();
      for (const j of [0, 4, 8]) {
        const input = auction(j);
        await rule.sample(input, 2, { seed: 1 });
        const got = seen.at(-1)!;
        const want = new Set(ranked(input).slice(0, k).map((r) => r.ad.id));
        expect(got.ads.map((a) => a.id)).toEqual(input.ads.filter((a) => want.has(a.id)).map((a) => a.id));
        expect(got.query).toBe(input.query);
        expect(got.profile).toBe(input.profile);
      }
    }
    // An injected quality model decides the ranking: equal qualities rank by bid.
    const byBid = new GspRule(spy, { k: 2 }, () => 0.1);
    const input = auction(6);
    await byBid.sample(input, 1);
    const top2 = [...input.ads].sort((a, b) => b.bid - a.bid || (a.id < b.id ? -1 : 1)).slice(0, 2);
    expect(new Set(seen.at(-1)!.ads.map((a) => a.id))).toEqual(new Set(top2.map((a) => a.id)));
  });

  it('enumerates over the restricted auction when the inner rule enumerates', async () => {
    const input = auction(3);
    const rule = new GspRule(inner, { k: 2 });
    expect(rule.name).toBe('gsp:embedded:pretrained?k=2');
    const dist = await rule.enumerate!(input);
    expect(dist.reduce((s, d) => s + d.prob, 0)).toBeCloseTo(1, 9);
    const winners = new Set(rule.slots(input).map((s) => s.id));
    const parser = new ResponseParser(input.ads);
    for (const { response } of dist) for (const e of parser.parse(response).exposures) expect(winners.has(e.id)).toBe(true);
  });

  it('charges per click the next score over its own quality, never more than the bid', () => {
    for (let j = 0; j < 20; j++) {
      const input = auction(j, j);
      const order = ranked(input);
      for (const k of [1, 2, 3]) {
        const slots = new GspRule(inner, { k }).slots(input);
        expect(slots.map((s) => s.id)).toEqual(order.slice(0, k).map((r) => r.ad.id));
        slots.forEach((s, r) => {
          expect(s.price).toBeLessThanOrEqual(s.bid);
          expect(s.price).toBeCloseTo(order[r + 1]!.score / order[r]!.q, 10);
        });
        // Settled with the slots: a clicked winner pays its price, a clicked loser nothing.
        const exposures = input.ads.map((a, n) => ({ id: a.id, title: a.title, start: n, end: n + 1 }));
        const charges = gsp.settle({ queryId: 'q', sample: 0, ads: input.ads, exposures, clicked: input.ads.map((a) => a.id), slots });
        const byId = (a: [string, number], b: [string, number]) => (a[0] < b[0] ? -1 : 1);
        expect(charges.map((c): [string, number] => [c.ad_id, c.amount]).sort(byId)).toEqual(slots.map((s): [string, number] => [s.id, s.price]).sort(byId));
      }
    }
  });

  it("has an exposure curve with a step at the rank change, unlike the embedded optimum's (Figure 4(b))", async () => {
    const rule = new GspRule(inner, { k: 1 });
    const optimal = new OptimalRule(policy, user, DEFAULT_OBJECTIVE_BETA); // the smooth KL optimum (MOSAIC's beta), not the near-argmax at IRPO's
    const parses = new Map<string, string[]>();
    // The first auction whose best-quality ad (it wins at bid 100, loses at bid 1) is worth
    // inserting for the user at bid 100: an ad the user ignores has a flat curve under any rule.
    let input = auction(0);
    for (let k = 0; k < 30; k++) {
      input = auction(k);
      if ((await exposures(optimal, withBid(input, ranked(input)[0]!.ad.id, 100), parses)).get(ranked(input)[0]!.ad.id)! > 0.5) break;
    }
    const target = ranked(input)[0]!.ad;
    const gspCurve: number[] = [];
    const optCurve: number[] = [];
    for (let b = 1; b <= 100; b++) {
      const at = withBid(input, target.id, b);
      gspCurve.push((await exposures(rule, at, parses)).get(target.id)!);
      optCurve.push((await exposures(optimal, at, parses)).get(target.id)!);
    }
    const biggestStep = (xs: number[]) => Math.max(...xs.slice(1).map((x, i) => Math.abs(x - xs[i]!)));
    expect(gspCurve[0]).toBe(0);
    expect(gspCurve[99]).toBeGreaterThan(0.3);
    expect(biggestStep(gspCurve)).toBeGreaterThan(0.15);
    expect(biggestStep(optCurve)).toBeLessThan(0.15);
    // The optimum still moves: continuity is not flatness.
    expect(optCurve[99]! - optCurve[0]!).toBeGreaterThan(0.3);
  });
});

describe('wrapper helpers', () => {
  it('name wrappers by their canonical spec, or around an inner rule name', () => {
    const canonical = (s: string) => formatSpec(parseSpec(s));
    expect(canonical('mosaic:embedded:pretrained')).toBe('mosaic:embedded:pretrained?n=20');
    expect(canonical('gsp:mosaic:embedded:pretrained?n=5?k=2')).toBe('gsp:mosaic:embedded:pretrained?n=5?k=2');
    expect(wrapRule({ kind: 'gsp', k: 1 }, { name: 'my-llm', sample: async () => [] }).name).toBe('gsp:my-llm?k=1');
    expect(canonical('embedded:optimal')).toBe('embedded:optimal');
  });

  it('build the rule of a wrapper spec around its resolved inner rule', async () => {
    const spec = parseSpec('gsp:mosaic:embedded:pretrained?n=3?k=2');
    if (spec.kind !== 'gsp' || spec.inner.kind !== 'mosaic') throw new Error('unexpected spec');
    const mosaicSpec = spec.inner as unknown as { kind: 'mosaic'; n: number };
    const m = wrapRule(mosaicSpec, inner, { ctr });
    const g = wrapRule(spec, m);
    expect(m).toBeInstanceOf(MosaicRule);
    expect(g).toBeInstanceOf(GspRule);
    expect(g.name).toBe(formatSpec(spec));
    expect(generationsPerResponse(g)).toBe(3);
    expect(() => wrapRule(mosaicSpec, inner)).toThrow(/reward model/);
    const input = auction(7);
    const outs = await sampleForSettlement(g, input, 3, { seed: 2 });
    expect(outs).toHaveLength(3);
    for (const o of outs) expect(o.slots).toEqual((g as GspRule).slots(input));
    // Reward of the selected replies is computed with Eq. 8 as everywhere else.
    const parsed = new ResponseParser(input.ads).parse(outs[0]!.response);
    expect(Number.isFinite(reward(parsed, input.ads, await ctr(input, outs[0]!.response, parsed)).reward)).toBe(true);
  });
});
