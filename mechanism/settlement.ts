/**
 * The one settlement path: from a rule's responses to what each advertiser pays.
 *
 * A response is settled by the rule's payment rule on its valid exposures and the user's clicks,
 * at the prices posted for it before the clicks: none for first price (the bid is the price),
 * the auction's slots for a pre-generation rule (GSP, `rule.slots`), or the per-response prices
 * of a rule that posts its own (MOSAIC's Rochet payment, `rule.samplePriced`). Simulation, bench
 * and the property checks all draw and settle through the functions here, so a rule's prices
 * cannot be honoured on one path and dropped on another.
 */
import { UsageError } from '../lib/errors.ts';
import { expectedCharges, Ledger, paymentRule, type PaymentRule } from './payment.ts';
import type { AllocationRule, AuctionInput, Charge, Exposure, GspSlot, PricedResponse, SampleOptions } from './types.ts';

/** The payment rule that settles a rule's responses: its own, or first price per click. */
export function paymentOf(rule: Pick<AllocationRule, 'payment'>): PaymentRule {
  return paymentRule(rule.payment ?? 'first-price-click');
}

/** The per-click prices a rule fixes for a whole auction before generating (GSP's slots), if any. */
export function auctionPrices(rule: AllocationRule, input: AuctionInput): GspSlot[] | undefined {
  return rule.slots?.(input);
}

function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  return typeof x === 'object' ? 'an object' : `a ${typeof x}`;
}

/**
 * `sample` is the contract's entry point for any module, so its output is checked before anything
 * is settled on it: exactly n strings. `where` ends each message (e.g. "(query Q-1)").
 */
function checkResponses(rule: AllocationRule, responses: unknown, n: number, where: string): asserts responses is string[] {
  const at = where ? ` ${where}` : '';
  if (!Array.isArray(responses)) throw new UsageError(`mechanism ${rule.name}: sample() must return an array of strings, got ${describe(responses)}${at}`);
  if (responses.length !== n) throw new UsageError(`mechanism ${rule.name}: sample() returned ${responses.length} responses for ${n} requested${at}`);
  const bad = responses.findIndex((r) => typeof r !== 'string');
  if (bad >= 0) throw new UsageError(`mechanism ${rule.name}: sample() response [${bad}] is ${describe(responses[bad])}, not a string${at}`);
}

/**
 * n responses of a rule, each with the prices it is settled at: drawn with the rule's own prices
 * where it posts them per response, else sampled and given the auction's prices (if any).
 */
export async function sampleForSettlement(rule: AllocationRule, input: AuctionInput, n: number, opts: SampleOptions = {}, where = ''): Promise<PricedResponse[]> {
  if (rule.samplePriced) {
    const drawn = await rule.samplePriced(input, n, opts);
    if (drawn.length !== n) throw new UsageError(`mechanism ${rule.name}: returned ${drawn.length} responses for ${n} requested${where ? ` ${where}` : ''}`);
    return drawn;
  }
  const responses: unknown = await rule.sample(input, n, opts);
  checkResponses(rule, responses, n, where);
  const slots = auctionPrices(rule, input);
  return responses.map((response) => (slots ? { response, slots } : { response }));
}

/** One response to settle: its auction, the prices posted for it, and its valid exposures. */
export interface ResponseToSettle {
  queryId: string;
  sample: number;
  input: AuctionInput;
  priced: PricedResponse;
  exposures: readonly Exposure[];
}

/** What each advertiser pays for one response and the user's clicks on it, recorded in `ledger`. */
export function settleResponse(payment: PaymentRule, r: ResponseToSettle, clicked: readonly string[], ledger: Ledger = new Ledger()): Charge[] {
  const slots = r.priced.slots;
  return ledger.settle(payment, { queryId: r.queryId, sample: r.sample, ads: r.input.ads, exposures: r.exposures, clicked, ...(slots ? { slots } : {}) });
}

/**
 * The expectation of `settleResponse` over the user's clicks, given each exposed ad's click
 * probability: the expected revenue of one response.
 */
export function expectedRevenue(payment: PaymentRule, r: ResponseToSettle, ctr: Readonly<Record<string, number>>): number {
  const slots = r.priced.slots;
  let total = 0;
  for (const c of expectedCharges(payment, { queryId: r.queryId, sample: r.sample, ads: r.input.ads, exposures: r.exposures, ...(slots ? { slots } : {}) }, ctr)) total += c.amount;
  return total;
}
