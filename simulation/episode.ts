/**
 * One episode of the environment: an auction is put to the allocation rule, each sampled response
 * is parsed, the user reads it and clicks, the payment rule charges, and the reward is scored.
 * Every random draw comes from (seed, query id, sample), so any episode can be recomputed alone.
 */
import { drawClicks, scoringModel, type ClickModel } from '../mechanism/click-model.ts';
import { ResponseParser } from '../mechanism/parser.ts';
import { Ledger, type PaymentRule } from '../mechanism/payment.ts';
import { DEFAULT_REWARD, reward, type RewardConfig } from '../mechanism/reward.ts';
import { deriveSeed, Rng } from '../lib/rng.ts';
import { UsageError } from '../lib/errors.ts';
import { expectedRevenue, paymentOf, sampleForSettlement, settleResponse } from '../mechanism/settlement.ts';
import type { AllocationRule, AuctionInput, PricedResponse } from '../mechanism/types.ts';

/** One line of episodes.jsonl (the contract's fields first). */
export interface Episode {
  query_id: string;
  sample: number;
  mechanism: string;
  bids: Record<string, number>;
  response: string;
  exposures: { id: string; title: string }[];
  format_errors: { kind: string; text: string }[];
  clicks: string[];
  payments: { ad_id: string; event: string; amount: number }[];
  /** Sum of the payments. */
  revenue: number;
  /**
   * The revenue this response earns in expectation over the user's clicks (each exposed ad
   * clicked with its `ctr`), at the same prices: what `revenue` averages to for this response.
   */
  expected_revenue: number;
  /** R(y) (Eq. 8) with the user model's click probabilities in place of pCTR. */
  reward: number;
  /** The user model's click probability of each exposed ad. */
  ctr: Record<string, number>;
  user: string;
  epoch?: number;
  stage?: string;
}

export interface EpisodeContext {
  queryId: string;
  input: AuctionInput;
  rule: AllocationRule;
  clicks: ClickModel;
  payment?: PaymentRule;
  rewardConfig?: RewardConfig;
  seed: number;
  samples: number;
  epoch?: number;
  stage?: string;
}

/** Draw `samples` responses for one auction and play each of them out. */
export async function runAuction(ctx: EpisodeContext): Promise<Episode[]> {
  const { queryId, input, rule, clicks, seed, samples } = ctx;
  const payment = ctx.payment ?? paymentOf(rule);
  const cfg = ctx.rewardConfig ?? DEFAULT_REWARD;
  const label = [ctx.stage ?? 'sim', ctx.epoch ?? 0, queryId];
  let drawn: PricedResponse[];
  try {
    drawn = await sampleForSettlement(rule, input, samples, { seed: deriveSeed(seed, 'response', ...label) }, `(query ${queryId})`);
  } catch (e) {
    // Endpoint failures keep their own type (the run decides whether to retry them later), and so
    // do usage errors (a malformed sample() output, already named with its auction); any other
    // failure of the rule is the rule's: one line naming it and the auction.
    if (e instanceof Error && (e.name === 'OpenAIBackendError' || e.name === 'UsageError' || e.name === 'InputError')) throw e;
    throw new UsageError(`mechanism ${rule.name}: sample() failed on query ${queryId}: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  const parser = new ResponseParser(input.ads);
  const bids = Object.fromEntries(input.ads.map((a) => [a.id, a.bid]));
  const out: Episode[] = [];
  for (let m = 0; m < drawn.length; m++) {
    const priced = drawn[m]!;
    const response = priced.response;
    const parsed = parser.parse(response);
    const click = { input, response, parsed };
    // The click draw and the scoring: the one place an episode reads the user.
    const judge = scoringModel(clicks);
    const ctr = await judge.clickProbabilities(click);
    const rng = Rng.derive(seed, 'clicks', ...label, m);
    const clicked = await drawClicks(judge, click, () => rng.uniform());
    const ledger = new Ledger();
    const toSettle = { queryId, sample: m, input, priced, exposures: parsed.exposures };
    const charges = settleResponse(payment, toSettle, clicked, ledger);
    const r = reward(parsed, input.ads, ctr, cfg);
    const ep: Episode = {
      query_id: queryId,
      sample: m,
      mechanism: rule.name,
      bids,
      response,
      exposures: parsed.exposures.map((e) => ({ id: e.id, title: e.title })),
      format_errors: parsed.errors.map((e) => ({ kind: e.kind, text: e.text })),
      clicks: clicked,
      payments: charges.map((c) => ({ ad_id: c.ad_id, event: c.event, amount: c.amount })),
      revenue: ledger.revenue,
      expected_revenue: expectedRevenue(payment, toSettle, ctr),
      reward: r.reward,
      ctr,
      user: clicks.name,
    };
    if (ctx.epoch !== undefined) ep.epoch = ctx.epoch;
    if (ctx.stage !== undefined) ep.stage = ctx.stage;
    out.push(ep);
  }
  return out;
}
