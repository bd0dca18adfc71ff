/**
 * The token auction of Dütting, Mirrokni, Paes Leme, Xu and Zuo, "Mechanism Design for Large
 * Language Models" (WWW 2024). Each advertiser is represented by a distribution over the output
 * (in the paper, its own LLM's next-token distribution), reports one bid, and the platform samples
 * from an aggregate of the distributions weighted by the bids. They show that monotone aggregation
 * is what makes truthful bidding possible and derive second-price-like payments from it; of their
 * two aggregation rules we use the LINEAR one, q = sum_i b_i q_i / sum_i b_i.
 *
 * Ours works on whole responses of the embedded world instead of tokens: the base rule's response
 * distribution pi (it must enumerate) is the shared model, and advertiser i's distribution is pi
 * conditioned on a valid exposure of ad i, q_i(y) = pi(y) 1[i in y] / pi(i in y) (pi itself when
 * pi never shows i). The aggregate is sampled once per response; no per-token aggregation, so the
 * paper's stable-sampling payment per token becomes one payment per response.
 *
 * Price (per click, posted before generation). With the others fixed, ad i is exposed under the
 * aggregate with probability x_i(t) = (t c_i + A_i) / (t + B_i), where c_i = 1 when pi can show i
 * (else 0), A_i = sum_{j≠i} b_j q_j(i in y) and B_i = sum_{j≠i} b_j: increasing in t because
 * q_j(i in y) <= 1 (monotone aggregation). Myerson's payment for that curve, taken per click (a
 * click's chance given exposure assumed not to move with the bid), is
 *   p_i = b_i - (c_i b_i + (A_i - c_i B_i) ln(1 + b_i / B_i)) / x_i(b_i),   0 <= p_i <= b_i (IR).
 */
import { ResponseParser } from '../mechanism/parser.ts';
import { Rng } from '../lib/rng.ts';
import type { AllocationRule, AuctionInput, GspSlot, SampleOptions, WeightedResponse } from '../mechanism/types.ts';
import { EmbeddedRule } from '../simulation/embedded-policy.ts';
import { postedSlot, ratioClickPrice } from './prompt-ctr.ts';

interface Aggregate {
  responses: WeightedResponse[];
  slots: GspSlot[];
}

/** The base rule's distribution without waiting, where it can give it so (the embedded Ad-LLM and rules trained from it). */
function distributionNow(inner: AllocationRule, input: AuctionInput): WeightedResponse[] | undefined {
  if (!(inner instanceof EmbeddedRule)) return undefined;
  const t = inner.policy.table(input);
  const lp = inner.logProbs(input);
  return t.plans.map((p, j) => ({ response: inner.policy.render(input, p, t), prob: Math.exp(lp[j]!) }));
}

export class TokenRule implements AllocationRule {
  readonly name: string;
  readonly payment = 'gsp' as const;
  readonly generationsPerResponse: number;
  private readonly innerEnumerate: (input: AuctionInput) => Promise<WeightedResponse[]>;
  /** Aggregates by auction (query, profile, ads and bids). */
  private readonly memo = new Map<string, Aggregate>();

  constructor(readonly inner: AllocationRule) {
    if (typeof inner.enumerate !== 'function') throw new Error(`token:${inner.name}: the base rule gives no response distribution (no enumerate)`);
    this.innerEnumerate = inner.enumerate.bind(inner);
    this.name = `token:${inner.name}`;
    this.generationsPerResponse = inner.generationsPerResponse ?? 1;
  }

  private key(input: AuctionInput): string {
    return `${input.query}\u0001${input.profile.id}\u0001${input.ads.map((a) => `${a.id}=${a.bid}=${a.title}`).join('|')}`;
  }

  private remember(key: string, a: Aggregate): Aggregate {
    if (this.memo.size > 2000) this.memo.clear();
    this.memo.set(key, a);
    return a;
  }

  /** The aggregate distribution and each ad's posted per-click price. */
  async aggregate(input: AuctionInput): Promise<Aggregate> {
    const k = this.key(input);
    return this.memo.get(k) ?? this.remember(k, aggregateOf(input, distributionNow(this.inner, input) ?? (await this.innerEnumerate(input))));
  }

  async enumerate(input: AuctionInput): Promise<WeightedResponse[]> {
    return (await this.aggregate(input)).responses;
  }

  /**
   * Posted prices per click. Computed on the spot where the base rule gives its distribution
   * without waiting (the embedded Ad-LLM, run:); for any other base rule they are those of the
   * auction's aggregate, which drawing or enumerating computes first (settlement and bench do).
   */
  slots(input: AuctionInput): GspSlot[] {
    const k = this.key(input);
    const hit = this.memo.get(k);
    if (hit) return hit.slots;
    const now = distributionNow(this.inner, input);
    if (!now) throw new Error(`${this.name}: prices read before the auction's aggregate was computed (draw or enumerate first)`);
    return this.remember(k, aggregateOf(input, now)).slots;
  }

  async sample(input: AuctionInput, n: number, opts: SampleOptions = {}): Promise<string[]> {
    const { responses } = await this.aggregate(input);
    const rng = new Rng(opts.seed ?? Math.floor(Math.random() * 2 ** 31));
    const w = responses.map((r) => r.prob);
    return Array.from({ length: n }, () => responses[rng.categorical(w)]!.response);
  }
}

/** The linear aggregate of a base distribution's ad-conditioned distributions, and each ad's price. */
export function aggregateOf(input: AuctionInput, distribution: readonly WeightedResponse[]): Aggregate {
  const base = distribution.filter((w) => w.prob > 0);
  const parser = new ResponseParser(input.ads);
  const n = input.ads.length;
  const index = new Map(input.ads.map((a, i) => [a.id, i]));
  const shown = base.map((w) => [...new Set(parser.parse(w.response).exposures.map((e) => index.get(e.id)!))]);
  // pi(i), pi(i and j)
  const pi = new Float64Array(n);
  const pij = new Float64Array(n * n);
  base.forEach((w, y) => {
    for (const i of shown[y]!) {
      pi[i]! += w.prob;
      for (const j of shown[y]!) pij[i * n + j]! += w.prob;
    }
  });
  const bids = input.ads.map((a) => a.bid);
  const W = bids.reduce((s, b) => s + b, 0);
  // q(y) = (sum over j with pi(j) = 0 of b_j) pi(y) / W + sum_{j in y, pi(j) > 0} b_j pi(y) / (pi(j) W)
  const blind = bids.reduce((s, b, j) => s + (pi[j]! > 0 ? 0 : b), 0);
  const responses = base.map((w, y) => {
    let m = blind;
    for (const j of shown[y]!) m += bids[j]! / pi[j]!;
    return { response: w.response, prob: W > 0 ? (w.prob * m) / W : w.prob };
  });
  // q_j(i in y): pi(i and j) / pi(j), or pi(i) when pi never shows j.
  const slots: GspSlot[] = [];
  input.ads.forEach((ad, i) => {
    if (!(pi[i]! > 0)) return; // never shown: never charged
    let A = 0;
    let B = 0;
    for (let j = 0; j < n; j++) {
      if (j === i) continue;
      B += bids[j]!;
      A += bids[j]! * (pi[j]! > 0 ? pij[i * n + j]! / pi[j]! : pi[i]!);
    }
    const x = (ad.bid + A) / (ad.bid + B);
    slots.push(postedSlot(ad, x, ratioClickPrice(1, A, B, ad.bid)));
  });
  return { responses, slots };
}
