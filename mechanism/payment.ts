/**
 * Payment rules (paper, section 4.2) behind one interface, and the ledger that records every charge.
 *
 * - `first-price-click` (LLM-Auction, Eq. 7): advertiser i pays its bid b_i for each click on a valid
 *   exposure of its ad, so its expected payment is p_i = b_i * itctr_i.
 * - `first-price-impression`: pays b_i for each valid exposure, clicked or not (a contrast case: it
 *   is not individually rational for a utility maximizer whose ad is seldom clicked).
 * - `gsp`: the pre-generation position auction. Ads are ranked by bid x quality (a predicted CTR);
 *   the top k win a slot, and a winner pays per click the least bid that keeps its rank,
 *   b_{j+1} q_{j+1} / q_j, never more than its own bid. The same rule charges any price per click
 *   posted before the clicks: MOSAIC with its Rochet payment posts its prices as such slots.
 *
 * Only valid exposures are charged: a click on an ad the response did not validly expose (a
 * hallucinated id, a changed title, a duplicate) costs nobody anything.
 *
 * `settle` is the only place a rule says what it charges. Expected payments (bench's exact rows,
 * the property checks) are expectations of `settle` itself (`expectedCharges`), never a formula
 * written beside it that could drift from it.
 */
import type { BiddedAd, Charge, Exposure, GspSlot, PaymentRuleName } from './types.ts';

/** One response's outcome, as the payment rule sees it. */
export interface SettlementEvent {
  queryId: string;
  sample: number;
  /** The candidate ads with their bids. */
  ads: readonly BiddedAd[];
  /** Valid exposures found by the parser. */
  exposures: readonly Exposure[];
  /** Ids the user clicked (anything not validly exposed is ignored). */
  clicked: readonly string[];
  /** Per-click prices posted before the clicks: GSP's slots (`gspAllocate`) or MOSAIC's Rochet prices. */
  slots?: readonly GspSlot[];
}

export interface PaymentRule {
  name: PaymentRuleName;
  /** The charges for one response. */
  settle(event: SettlementEvent): Charge[];
  /**
   * Expected payment of an ad given its bid, itctr (probability of exposure and click) and
   * exposure probability; `price` is the posted per-click price when the ad holds a slot.
   */
  expectedPayment(args: ExpectedPaymentArgs): number;
}

export interface ExpectedPaymentArgs {
  bid: number;
  itctr: number;
  exposure: number;
  price?: number;
}

function exposedIds(event: SettlementEvent): Set<string> {
  return new Set(event.exposures.map((e) => e.id));
}

function bidOf(event: SettlementEvent): Map<string, number> {
  return new Map(event.ads.map((a) => [a.id, a.bid]));
}

/** Clicked ids that are valid exposures of candidates, each once. */
function chargeableClicks(event: SettlementEvent): string[] {
  const exposed = exposedIds(event);
  const bids = bidOf(event);
  const out: string[] = [];
  const seen = new Set<string>();
  for (const id of event.clicked) {
    if (seen.has(id) || !exposed.has(id) || !bids.has(id)) continue;
    seen.add(id);
    out.push(id);
  }
  return out;
}

/**
 * The expectation of `settle` over the user's clicks on one response: every valid exposure is
 * settled as clicked, and each per-click charge is weighted by that ad's click probability
 * (impression charges are due anyway). Exact, because no rule here makes the amount charged for
 * one click depend on which other ads were clicked. Returns the charges with expected amounts.
 */
export function expectedCharges(rule: Pick<PaymentRule, 'settle'>, event: Omit<SettlementEvent, 'clicked'>, ctr: Readonly<Record<string, number>>): Charge[] {
  const charges = rule.settle({ ...event, clicked: event.exposures.map((e) => e.id) });
  return charges.map((c) => ({ ...c, amount: c.event === 'click' ? c.amount * (ctr[c.ad_id] ?? 0) : c.amount }));
}

/**
 * One ad's expected payment from its itctr and exposure probability, through the rule's own
 * `settle`: the ad alone, exposed, clicked, at its posted price when it has one. The charge per
 * click weighs with itctr (exposed and clicked), a charge per impression with the exposure.
 */
function expectedPaymentOf(rule: Pick<PaymentRule, 'settle'>, { bid, itctr, exposure, price }: ExpectedPaymentArgs): number {
  const id = 'ad';
  const charges = rule.settle({
    queryId: '',
    sample: 0,
    ads: [{ id, title: '', bid }],
    exposures: [{ id, title: '', start: 0, end: 0 }],
    clicked: [id],
    ...(price !== undefined ? { slots: [{ id, bid, quality: 1, score: bid, price }] } : {}),
  });
  let total = 0;
  for (const c of charges) total += c.amount * (c.event === 'click' ? itctr : exposure);
  return total;
}

export const firstPriceClick: PaymentRule = {
  name: 'first-price-click',
  settle(event) {
    const bids = bidOf(event);
    return chargeableClicks(event).map((id) => {
      const bid = bids.get(id)!;
      return { query_id: event.queryId, sample: event.sample, ad_id: id, bid, event: 'click', amount: bid };
    });
  },
  expectedPayment(args) {
    return expectedPaymentOf(firstPriceClick, args);
  },
};

export const firstPriceImpression: PaymentRule = {
  name: 'first-price-impression',
  settle(event) {
    const bids = bidOf(event);
    const seen = new Set<string>();
    const out: Charge[] = [];
    for (const e of event.exposures) {
      const bid = bids.get(e.id);
      if (bid === undefined || seen.has(e.id)) continue;
      seen.add(e.id);
      out.push({ query_id: event.queryId, sample: event.sample, ad_id: e.id, bid, event: 'impression', amount: bid });
    }
    return out;
  },
  expectedPayment(args) {
    return expectedPaymentOf(firstPriceImpression, args);
  },
};

/**
 * Rank ads by bid x quality and give the top k a slot. Ties break by ad id so the allocation is a
 * deterministic function of its input. Ads with zero score win nothing.
 */
export function gspAllocate(ads: readonly BiddedAd[], quality: (ad: BiddedAd) => number, k: number): GspSlot[] {
  const ranked = ads
    .map((ad) => {
      const q = Math.max(0, quality(ad));
      return { ad, q, score: ad.bid * q };
    })
    .filter((r) => r.score > 0)
    .sort((a, b) => b.score - a.score || (a.ad.id < b.ad.id ? -1 : a.ad.id > b.ad.id ? 1 : 0));
  const slots: GspSlot[] = [];
  for (let j = 0; j < Math.min(k, ranked.length); j++) {
    const r = ranked[j]!;
    const next = ranked[j + 1];
    const price = next ? Math.min(r.ad.bid, next.score / r.q) : 0;
    slots.push({ id: r.ad.id, bid: r.ad.bid, quality: r.q, score: r.score, price });
  }
  return slots;
}

export const gsp: PaymentRule = {
  name: 'gsp',
  settle(event) {
    const slots = new Map((event.slots ?? []).map((s) => [s.id, s]));
    const out: Charge[] = [];
    for (const id of chargeableClicks(event)) {
      const slot = slots.get(id);
      if (!slot) continue; // an ad that won no slot cannot be charged
      out.push({ query_id: event.queryId, sample: event.sample, ad_id: id, bid: slot.bid, event: 'click', amount: slot.price });
    }
    return out;
  },
  expectedPayment(args) {
    return expectedPaymentOf(gsp, args);
  },
};

export const PAYMENT_RULES: Record<PaymentRuleName, PaymentRule> = {
  'first-price-click': firstPriceClick,
  'first-price-impression': firstPriceImpression,
  gsp,
};

export function paymentRule(name: PaymentRuleName = 'first-price-click'): PaymentRule {
  return PAYMENT_RULES[name];
}

export class LedgerInvariantError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LedgerInvariantError';
  }
}

/**
 * Every charge, with the invariants checked as it is written: an amount is finite and not
 * negative, it is charged only for a valid exposure of the auction it belongs to, and a click
 * never costs more than the bid. Revenue is the sum of the ledger, nothing else.
 */
export class Ledger {
  private readonly rows: Charge[] = [];

  record(charge: Charge, exposures: readonly Exposure[] | ReadonlySet<string>): void {
    const exposed = exposures instanceof Set ? exposures : new Set((exposures as readonly Exposure[]).map((e) => e.id));
    if (!Number.isFinite(charge.amount) || charge.amount < 0) {
      throw new LedgerInvariantError(`charge for ${charge.ad_id} in ${charge.query_id} is ${charge.amount}: must be finite and not negative`);
    }
    if (!exposed.has(charge.ad_id)) {
      throw new LedgerInvariantError(`charge for ${charge.ad_id} in ${charge.query_id}#${charge.sample}: the ad is not a valid exposure`);
    }
    if (charge.event === 'click' && charge.amount > charge.bid + 1e-9) {
      throw new LedgerInvariantError(`charge for ${charge.ad_id} in ${charge.query_id}: ${charge.amount} per click exceeds the bid ${charge.bid}`);
    }
    this.rows.push({ ...charge });
  }

  /** Settle one response with a payment rule and record its charges; returns them. */
  settle(rule: PaymentRule, event: SettlementEvent): Charge[] {
    const charges = rule.settle(event);
    const exposed = exposedIds(event);
    for (const c of charges) this.record(c, exposed);
    return charges;
  }

  get entries(): readonly Charge[] {
    return this.rows;
  }

  get revenue(): number {
    let total = 0;
    for (const c of this.rows) total += c.amount;
    return total;
  }

  revenueByAd(): Map<string, number> {
    const out = new Map<string, number>();
    for (const c of this.rows) out.set(c.ad_id, (out.get(c.ad_id) ?? 0) + c.amount);
    return out;
  }

  revenueByQuery(): Map<string, number> {
    const out = new Map<string, number>();
    for (const c of this.rows) out.set(c.query_id, (out.get(c.query_id) ?? 0) + c.amount);
    return out;
  }

  toJsonl(): string {
    return this.rows.map((c) => JSON.stringify(c)).join('\n') + (this.rows.length ? '\n' : '');
  }
}
