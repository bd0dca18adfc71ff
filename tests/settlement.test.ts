import { describe, expect, it } from 'vitest';
import { GspRule, MosaicRule, oracleCtr, type MosaicDraw } from '../baselines/index.ts';
import { ResponseParser } from '../mechanism/parser.ts';
import { gsp } from '../mechanism/payment.ts';
import { expectedRevenue, paymentOf, sampleForSettlement } from '../mechanism/settlement.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { EmbeddedPolicy } from '../simulation/embedded-policy.ts';
import { runAuction, type Episode } from '../simulation/episode.ts';
import { ParametricUser } from '../simulation/user-model.ts';
import { embeddedWorld } from '../simulation/world.ts';

const world = embeddedWorld(0);
const profiles = new Map(world.profiles.map((p) => [p.id, p]));
const auctions = (count: number): { queryId: string; input: AuctionInput }[] =>
  world.queries.slice(0, count).map((q) => ({
    queryId: q.id,
    input: auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: 0, stage: 'test', epoch: 0, candidates: 10 }),
  }));
const user = new ParametricUser();
const inner = new EmbeddedPolicy().rule();

/** A MOSAIC rule that keeps every draw it makes, so a test can read the prices it posted. */
function recordingMosaic(payment: 'first-price-click' | 'mosaic-rochet'): { rule: MosaicRule; draws: MosaicDraw[] } {
  const rule = new MosaicRule(inner, oracleCtr(user), { payment });
  const draws: MosaicDraw[] = [];
  const draw = rule.draw.bind(rule);
  rule.draw = async (input, n, opts) => {
    const out = await draw(input, n, opts);
    draws.push(...out);
    return out;
  };
  return { rule, draws };
}

async function play(rule: MosaicRule | GspRule, items: { queryId: string; input: AuctionInput }[]): Promise<Episode[]> {
  const out: Episode[] = [];
  for (const { queryId, input } of items) out.push(...(await runAuction({ queryId, input, rule, clicks: user, seed: 5, samples: 1 })));
  return out;
}

describe('one settlement path', () => {
  it("settles MOSAIC's Rochet prices through runAuction: real revenue, each click at its posted price", async () => {
    const items = auctions(200);
    const rochet = recordingMosaic('mosaic-rochet');
    const eps = await play(rochet.rule, items);
    expect(rochet.draws).toHaveLength(200);
    const clicks = eps.reduce((s, e) => s + e.clicks.length, 0);
    const revenue = eps.reduce((s, e) => s + e.revenue, 0);
    expect(clicks).toBeGreaterThan(40);
    expect(revenue).toBeGreaterThan(0);
    let expected = 0;
    eps.forEach((e, k) => {
      const prices = new Map(rochet.draws[k]!.payments!.map((p) => [p.id, p]));
      expected += rochet.draws[k]!.payments!.reduce((s, p) => s + p.payment, 0);
      const exposed = new Set(e.exposures.map((x) => x.id));
      // Every click on a valid exposure is charged once, at the Rochet price of this output.
      const charged = e.clicks.filter((id) => exposed.has(id));
      expect(e.payments.map((p) => p.ad_id).sort()).toEqual([...charged].sort());
      for (const p of e.payments) {
        expect(p.event).toBe('click');
        expect(p.amount).toBeCloseTo(prices.get(p.ad_id)!.clickPrice, 12);
        expect(p.amount).toBeLessThanOrEqual(e.bids[p.ad_id]!);
      }
    });
    // With the oracle reward model the posted prices are calibrated, so realized revenue is an
    // unbiased estimate of the Rochet lump sums; over 200 auctions it lands well within a quarter.
    expect(Math.abs(revenue - expected)).toBeLessThan(0.25 * expected);
  });

  it('draws the same responses and clicks whichever payment MOSAIC charges', async () => {
    const items = auctions(20);
    const first = await play(recordingMosaic('first-price-click').rule, items);
    const rochet = await play(recordingMosaic('mosaic-rochet').rule, items);
    expect(rochet.map((e) => [e.response, e.clicks])).toEqual(first.map((e) => [e.response, e.clicks]));
    // First price charges the bid per click, Rochet at most the bid.
    first.forEach((e, k) => {
      for (const p of e.payments) expect(p.amount).toBe(e.bids[p.ad_id]);
      expect(rochet[k]!.revenue).toBeLessThanOrEqual(e.revenue + 1e-9);
    });
  });

  it("charges GSP's slot prices through runAuction, exactly what the gsp payment rule says", async () => {
    const items = auctions(60);
    const rule = new GspRule(inner, { k: 2 });
    const eps = await play(rule, items);
    let charges = 0;
    eps.forEach((e, k) => {
      const { input, queryId } = items[k]!;
      const slots = rule.slots(input);
      const parsed = new ResponseParser(input.ads).parse(e.response);
      const direct = gsp.settle({ queryId, sample: 0, ads: input.ads, exposures: parsed.exposures, clicked: e.clicks, slots });
      expect(e.payments).toEqual(direct.map((c) => ({ ad_id: c.ad_id, event: c.event, amount: c.amount })));
      for (const p of e.payments) expect(p.amount).toBe(slots.find((s) => s.id === p.ad_id)!.price);
      charges += e.payments.length;
    });
    expect(charges).toBeGreaterThan(0);
  });

  it('computes expected payments as the expectation of the same settlement', async () => {
    const { input, queryId } = auctions(1)[0]!;
    const rule = new GspRule(inner, { k: 3 });
    const [priced] = await sampleForSettlement(rule, input, 1, { seed: 1 });
    const parsed = new ResponseParser(input.ads).parse(priced!.response);
    const ctr = await user.clickProbabilities({ input, response: priced!.response, parsed });
    const payment = paymentOf(rule);
    const total = expectedRevenue(payment, { queryId, sample: 0, input, priced: priced!, exposures: parsed.exposures }, ctr);
    // Ad by ad, the payment rule's expected payment (what the property checks use) sums to it.
    let byAd = 0;
    for (const e of parsed.exposures) {
      const ad = input.ads.find((a) => a.id === e.id)!;
      const price = priced!.slots!.find((s) => s.id === e.id)?.price ?? 0;
      byAd += payment.expectedPayment({ bid: ad.bid, itctr: ctr[e.id] ?? 0, exposure: 1, price });
    }
    expect(total).toBeCloseTo(byAd, 12);
    expect(paymentOf(inner).name).toBe('first-price-click');
  });

  it("scores an episode's revenue in expectation over the clicks: drawn revenue averages to it, per response and at MOSAIC's Rochet prices", async () => {
    const { rule } = recordingMosaic('mosaic-rochet');
    const items = auctions(40);
    const diffs: number[] = [];
    let clicked = 0;
    for (const { queryId, input } of items) {
      for (const e of await runAuction({ queryId, input, rule, clicks: user, seed: 9, samples: 6 })) {
        diffs.push(e.revenue - e.expected_revenue);
        clicked += e.clicks.length;
        // Nothing shown, nothing owed; something charged only where something was clickable.
        if (e.exposures.length === 0) expect(e.expected_revenue).toBe(0);
        expect(e.expected_revenue).toBeGreaterThanOrEqual(0);
      }
    }
    expect(clicked).toBeGreaterThan(10);
    const mean = diffs.reduce((a, b) => a + b, 0) / diffs.length;
    const sd = Math.sqrt(diffs.reduce((a, b) => a + (b - mean) ** 2, 0) / (diffs.length - 1));
    // Drawn minus expected has mean zero; a biased expectation (e.g. prices ignored) would not.
    expect(Math.abs(mean)).toBeLessThan(4 * (sd / Math.sqrt(diffs.length)));
    expect(sd).toBeGreaterThan(0);
  });
});
