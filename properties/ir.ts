/**
 * Individual rationality (Def. 3.6): bidding truthfully, an advertiser's expected payment never
 * exceeds its expected value v * itctr.
 *
 * Cases: auctions from the generator, whose bids are taken as truthful reports. Every ad of the
 * auction is checked twice on the same responses: as a utility maximizer (value v = b) and as a
 * value maximizer with the case's target ROI tau >= 1, bidding truthfully b = v / tau (Thm. 4.5),
 * so v = tau * b. The expected payment comes from the mechanism's payment rule,
 * `payment.expectedPayment({ bid, itctr, exposure })`, which is the expectation of the rule's own
 * `settle` (mechanism/payment.ts): what the ledger would charge, not a formula beside it.
 *
 * The violation of ad k, in the same units as itctr: (p_k - v_k itctr_k) / v_k, the expected
 * overpayment per auction per unit of value. Sampled, each response gives one draw of it,
 * (expectedPayment(b, x_j, e_j) - v x_j) / v with x_j = ctr 1(exposed), e_j = 1(exposed); its mean
 * is the violation because expectedPayment is affine in (itctr, exposure) for the payment rules
 * of this suite (first price per click or per impression). A payment per response must lie in
 * [0, bid] (the ledger's invariant), which bounds the draw in [-1, 1]; a rule breaking that is
 * reported as an error rather than tested with wrong bounds.
 *
 * Planned comparisons: 20 per case (up to 10 ads, two advertiser models), fail tests at
 * alpha / (cases * 20), equivalence (violation < effect) at alpha. No bid moves, so one arm per
 * case; with first price per click the draw is exactly zero (UM) or negative (VM), and a case
 * passes in about 70 responses. Per impression, an ad clicked with probability ctr overpays by
 * (1 - ctr) per exposure and is caught fast.
 *
 * Holds by construction: where the payment rule charges at most the bid on every response
 * (first price per click: b per click, so a truthful bidder's expected payment b itctr never
 * exceeds v itctr for any allocation, v >= b), nothing is sampled and the verdict says
 * `holds-by-construction`. GSP charges a price per click that depends on the other bids; the
 * check reads the price each ad is actually charged in the auction (`chargedPrice`) and tests it.
 */
import { type Comparison, pairedSummary, runSequentialCase, PairComparison } from './case-loop.ts';
import { num } from './evidence.ts';
import { type ArmData, armSummary, chargedPrice, ExactEvaluator } from './sampling.ts';
import { affineRange, type BettingTest, OneSidedPair } from './sequential.ts';
import type { MechanismUnderTest, PropertyCheck } from './types.ts';
import { type CaseContext, type CaseOutcome, exactOutcome, plannedProperty } from './verdict.ts';
import { round } from '../lib/numbers.ts';

const MAX_ADS = 10;

class OverpaymentComparison extends PairComparison implements Comparison {
  readonly bids: readonly number[];
  private readonly test: OneSidedPair;
  private readonly draws: number[] = [];

  protected get violation(): BettingTest {
    return this.test.violation;
  }

  protected get equivalence(): BettingTest {
    return this.test.equivalence;
  }

  constructor(
    private readonly m: MechanismUnderTest,
    private readonly armBid: number,
    private readonly k: number,
    private readonly adId: string,
    private readonly bid: number,
    private readonly value: number,
    private readonly kind: 'utility' | 'value',
    private readonly tau: number,
    effect: number,
    /** The price per click actually charged (GSP), when the rule sets one. */
    private readonly price: number | undefined,
  ) {
    super();
    this.bids = [armBid];
    // Tight bounds from the payment rule where it is affine (first price per click: the draw is
    // never positive for a UM, so IR is settled by the first batch; per impression: never
    // negative, so one exposure that is not clicked for sure proves the violation).
    const [lo, hi] = affineRange((x, e) => this.draw(x, e)) ?? [-1, 1];
    this.range = [Math.max(-1, lo), Math.min(1, hi)];
    this.test = new OneSidedPair(effect, this.range[0], this.range[1]);
  }

  private readonly range: [number, number];

  private pay(x: number, e: number): number {
    return this.m.payment.expectedPayment({ bid: this.bid, itctr: x, exposure: e, ...(this.price !== undefined ? { price: this.price } : {}) });
  }

  /** (payment - value) / value of one response with x = ctr 1(exposed), e = 1(exposed). */
  private draw(x: number, e: number): number {
    return (this.pay(x, e) - this.value * x) / this.value;
  }

  observe(j: number, batch: (bid: number) => ArmData): void {
    const a = batch(this.armBid);
    const x = a.x[this.k]![j]!;
    const e = a.e[this.k]![j]!;
    const pay = this.pay(x, e);
    if (!(pay >= -1e-9 && pay <= this.bid + 1e-9)) {
      throw new RangeError(`ir: payment rule ${this.m.payment.name} charged ${pay} for one response of ${this.adId} bidding ${this.bid}; the check needs a payment in [0, bid]`);
    }
    const z = (pay - this.value * x) / this.value;
    if (z < this.range[0] - 1e-9 || z > this.range[1] + 1e-9) {
      throw new RangeError(`ir: overpayment ${z} of ${this.adId} outside the bounds [${this.range}] derived from payment rule ${this.m.payment.name}`);
    }
    this.draws.push(z);
    this.test.push(z);
  }

  evidence(arm: (bid: number) => ArmData): Record<string, unknown> {
    const s = armSummary(arm(this.armBid), this.k);
    const over = pairedSummary(this.draws);
    return {
      ad: this.adId,
      advertiser: this.kind === 'utility' ? { kind: 'utility', value: this.value } : { kind: 'value', value: this.value, target_roi: this.tau },
      bid: this.bid,
      ...(this.price !== undefined ? { price_per_click: round(this.price) } : {}),
      itctr: s,
      exposure: s.exposure,
      expected_payment: round(this.pay(s.itctr, s.exposure)),
      expected_value: round(this.value * s.itctr),
      overpayment_per_value: over.mean,
      overpayment_ci95: over.ci95,
    };
  }
}

/** (UM value, VM value) for an ad bidding b, with the case's tau for the VM. */
function advertisers(bid: number, tau: number) {
  return [
    { kind: 'utility' as const, value: bid },
    { kind: 'value' as const, value: tau * bid },
  ];
}

async function exactCase(ctx: CaseContext): Promise<CaseOutcome> {
  const { c, m, opts } = ctx;
  const ev = new ExactEvaluator(m, c.instance, c.focal);
  const p = await ev.at(c.instance.ads[c.focal]!.bid);
  let worst: Record<string, unknown> | undefined;
  let worstV = Number.NEGATIVE_INFINITY;
  c.instance.ads.forEach((ad, k) => {
    if (!(ad.bid > 0)) return;
    const price = chargedPrice(m, c.instance, k);
    for (const adv of advertisers(ad.bid, c.tau)) {
      const itctr = p.itctr[k]!;
      const pay = m.payment.expectedPayment({ bid: ad.bid, itctr, exposure: p.exposure[k]!, ...(price !== undefined ? { price } : {}) });
      const v = (pay - adv.value * itctr) / adv.value;
      if (v > worstV) {
        worstV = v;
        worst = {
          ad: ad.id,
          advertiser: adv.kind === 'utility' ? { kind: 'utility', value: adv.value } : { kind: 'value', value: adv.value, target_roi: c.tau },
          bid: ad.bid,
          ...(price !== undefined ? { price_per_click: round(price, 6) } : {}),
          itctr: round(itctr, 6),
          exposure: round(p.exposure[k]!, 6),
          expected_payment: round(pay, 6),
          expected_value: round(adv.value * itctr, 6),
          overpayment_per_value: round(v, 6),
          exact: true,
        };
      }
    }
  });
  const fail = worstV > opts.tolerance;
  return exactOutcome(fail, ev.responses, worst);
}

export const irSpec = plannedProperty({
  name: 'ir',
  description: 'Def. 3.6: bidding truthfully, expected payment <= v * itctr (UM, and VM with tau >= 1)',
  defaultCases: 10,
  comparisons: () => 2 * MAX_ADS,
  async runCase(ctx) {
    const { c, m, opts } = ctx;
    if (c.instance.ads.length > MAX_ADS) throw new RangeError(`ir: an auction has ${c.instance.ads.length} ads; at most ${MAX_ADS} are planned for`);
    if (ctx.mode === 'exact') return exactCase(ctx);
    const armBid = c.instance.ads[c.focal]!.bid;
    const comps: Comparison[] = [];
    c.instance.ads.forEach((ad, k) => {
      if (!(ad.bid > 0)) return; // a zero value has nothing to lose
      const price = chargedPrice(m, c.instance, k);
      for (const adv of advertisers(ad.bid, c.tau)) {
        comps.push(new OverpaymentComparison(m, armBid, k, ad.id, ad.bid, adv.value, adv.kind, c.tau, opts.effect, price));
      }
    });
    return runSequentialCase(ctx, c.focal, comps);
  },
  notes: (_mode, m, opts) => {
    const out = [`every ad, as a utility maximizer (v = b) and a value maximizer (v = tau b, tau in [1, 2]); pass rules out an expected overpayment >= ${opts.effect} v per auction`];
    if (m.payment.name === 'gsp') out.push('gsp: each ad is charged the per-click price of its slot in the auction (0 without a slot), as settlement does');
    return out;
  },
  byConstruction: (m) => {
    // Only rules that set no price of their own: the charge is then a function of the bid alone.
    if (m.rule.slots) return null;
    // The overpayment per unit of value on any single response, over every (click, exposure)
    // outcome, at a few bids: never positive means no allocation can make IR fail.
    const never = [1, 37, 100].every((b) => {
      const r = affineRange((x, e) => (m.payment.expectedPayment({ bid: b, itctr: x, exposure: e }) - b * x) / b);
      return r !== null && r[1] <= 1e-12;
    });
    return never
      ? `${m.payment.name}: a truthful bidder is charged at most its bid per click and only for clicks, so its expected payment b itctr never exceeds its value v itctr (v >= b) for any allocation`
      : null;
  },
  evidence: (ev) => `${String(ev.ad ?? '?')}: pays ${num(ev.expected_payment)} for value ${num(ev.expected_value)} (exposure ${num(ev.exposure)})`,
});

/** Def. 3.6 as a test: see the module comment. */
export const ir: PropertyCheck = irSpec.check;
