/**
 * MOSAIC's own payment rule (Soumalias, Curry, Seuken, arXiv 2405.05905, section 5: Rochet
 * payments with the social-welfare offset), specialised to this project's bids.
 *
 * Given the M candidate replies of one MOSAIC output, the selection probabilities are a softmax of
 * the aggregate reward over the reference LLM's draws:
 *
 *   p_m(r) = exp(R_m / beta) / sum_k exp(R_k / beta),   R_m = sum_i r_i(y_m) + r_0(y_m)
 *
 * where r_i(y) is advertiser i's reported reward and r_0(y) is the platform's own, non-strategic
 * term (here -lambda * s_resp(y), the response penalty of Eq. 8). p is the gradient of the convex
 * potential U(r) = beta * log sum_m exp(R_m / beta), so the allocation is cyclically monotone in
 * each advertiser's report and Rochet's construction gives payments that make truthful reporting a
 * dominant strategy for any fixed candidate set:
 *
 *   pay_i = <p(r), r_i> - [ U(r) - U(r with r_i := 0) ]
 *
 * The offset U(r with r_i := 0) is the free term of Rochet's payment; choosing it this way makes
 * advertiser i's utility U(r) - U(r_{-i}) exactly its marginal contribution to the regularized
 * welfare the allocation maximizes over the candidates (MOSAIC's welfare-aligned offset). It is
 * >= 0 (individually rational) because rewards are >= 0 and U is increasing; and pay_i >= 0
 * because U is convex (the tangent at r lies below U).
 *
 * In this project an advertiser reports a single number, its bid b_i per click, and its reward is
 * r_i(y) = b_i * ctr_i(y) * 1(a_i validly in y). Then dU/db_i = sum_m p_m ctr_im = X_i(b_i), the
 * expected clicks, and the formula above is exactly Myerson's single-parameter payment
 * b_i X_i(b_i) - integral_0^b_i X_i(t) dt for the allocation "expected clicks given the candidates".
 * Everything is closed-form in the candidates' rewards, so the rule is cheap: O(M) per ad.
 *
 * MOSAIC charges a lump sum per auction. The ledger here charges only clicked valid exposures (and
 * never more than the bid per click), so we post the lump sum as a price per click,
 * price_i = pay_i / X_i <= b_i: with calibrated click predictions (the oracle reward model), the
 * expected charge over the selection and the clicks equals pay_i. With a pCTR model that is not
 * calibrated, the expected charge is pay_i times (true clicks / predicted clicks) instead.
 */
import type { BiddedAd, GspSlot } from '../mechanism/types.ts';
import { logSumExp } from '../lib/stats.ts';

/** What the payment rule needs to know about one candidate reply. */
export interface PricedCandidate {
  /** Aggregate reward R(y_m) (Eq. 8), the quantity the softmax selects on. */
  reward: number;
  /** Predicted click probability of each validly exposed ad in y_m. */
  ctr: Readonly<Record<string, number>>;
  /** Ids of the ads y_m validly exposes. */
  exposures: readonly string[];
}

export interface RochetPayment {
  id: string;
  bid: number;
  /** X_i = sum_m p_m ctr_im: expected clicks of the ad given the candidates. */
  clicks: number;
  /** b_i X_i: the reported value of the allocation. */
  value: number;
  /** U(r) - U(r_{-i}) = beta log(Z / Z_{-i}): the advertiser's marginal contribution. */
  utility: number;
  /** value - utility: the Rochet payment for this output (a lump sum). */
  payment: number;
  /** payment / clicks: the same payment posted per click (0 when the ad gets no clicks). */
  clickPrice: number;
}


/** Softmax of reward / beta: MOSAIC's selection distribution over one candidate set. */
export function selectionProbabilities(rewards: readonly number[], beta: number): number[] {
  if (!(beta > 0)) throw new RangeError(`beta must be positive, got ${beta}`);
  const logits = rewards.map((r) => r / beta);
  const z = logSumExp(logits);
  return logits.map((l) => Math.exp(l - z));
}

/**
 * Rochet payments with the welfare offset for every candidate ad of one MOSAIC output. `ads` are
 * the auction's candidates with their bids; ads no candidate reply exposes get zeros.
 */
export function rochetPayments(candidates: readonly PricedCandidate[], ads: readonly BiddedAd[], beta: number): RochetPayment[] {
  const rewards = candidates.map((c) => c.reward);
  const p = selectionProbabilities(rewards, beta);
  const logZ = logSumExp(rewards.map((r) => r / beta));
  return ads.map((ad) => {
    // r_i(y_m): the advertiser's own reported reward in each candidate.
    const ctr = candidates.map((c) => (c.exposures.includes(ad.id) ? Math.max(0, c.ctr[ad.id] ?? 0) : 0));
    const own = ctr.map((c) => ad.bid * c);
    let clicks = 0;
    ctr.forEach((c, m) => (clicks += p[m]! * c));
    if (!(clicks > 0)) return { id: ad.id, bid: ad.bid, clicks: 0, value: 0, utility: 0, payment: 0, clickPrice: 0 };
    const value = ad.bid * clicks;
    const logZWithout = logSumExp(rewards.map((r, m) => (r - own[m]!) / beta));
    // Both terms are >= 0 in exact arithmetic; clamp away rounding so the ledger's invariants hold.
    const utility = Math.min(value, Math.max(0, beta * (logZ - logZWithout)));
    const payment = Math.max(0, value - utility);
    const clickPrice = clicks > 0 ? Math.min(ad.bid, payment / clicks) : 0;
    return { id: ad.id, bid: ad.bid, clicks, value, utility, payment, clickPrice };
  });
}

/**
 * The Rochet payments as posted per-click prices in the shape the `gsp` settlement reads (it
 * charges `price` for each click on a validly exposed ad that holds a slot): `quality` carries the
 * expected clicks X_i and `score` the reported value b_i X_i. Only ads with expected clicks appear.
 */
export function rochetSlots(payments: readonly RochetPayment[]): GspSlot[] {
  return payments.filter((p) => p.clicks > 0).map((p) => ({ id: p.id, bid: p.bid, quality: p.clicks, score: p.value, price: p.clickPrice }));
}
