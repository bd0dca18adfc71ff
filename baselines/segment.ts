/**
 * The segment auction of Hajiaghayi, Lahaie, Rezaei and Shin, "Ad Auctions for LLMs via Retrieval
 * Augmented Generation" (NeurIPS 2024). The answer is cut into discourse segments; for each
 * segment one ad is retrieved at random, ad i with probability proportional to bid_i x relevance_i
 * (the allocation that maximizes logarithmic social welfare), and written into that segment.
 *
 * Ours: the base rule writes the answer without ads; it is cut into K segments of whole sentences
 * (`segments=K`, default 1: our answers are a few sentences, so one segment is the whole answer),
 * and the drawn ad's sentence closes its segment. Relevance is the prompt-only click guess of
 * ./prompt-ctr.ts (or a pCTR model with `rm=logs|DIR`), never the user's model. An ad drawn
 * for a second segment is not repeated (a repeat would be a format error): that segment stays
 * ad-free.
 *
 * Price (derived here, per click). With the others fixed, S = sum_{j≠i} b_j r_j, the chance that
 * one segment shows ad i at bid t is s(t) = t r_i / (t r_i + S), and over K independent segments
 * the ad is shown with x(t) = 1 - (1 - s(t))^K, increasing in t. If a click on the ad is as
 * likely whatever the bids once it is shown, the truthful expected payment is Myerson's
 * ctr x (b x(b) - ∫_0^b x(t) dt), i.e. the posted price per click
 *
 *   p_i = b_i - ∫_0^{b_i} x(t) dt / x(b_i),   0 <= p_i <= b_i (IR),
 *
 * for K = 1 in closed form b - (b - (S / r) ln(1 + b r / S)) / s(b) (0 when i is alone). The
 * paper's multi-ad extension and its pricing of several ads in one segment are not implemented.
 */
import { z } from 'zod';
import { UsageError } from '../lib/errors.ts';
import { Rng } from '../lib/rng.ts';
import type { AllocationRule, AuctionInput, BiddedAd, GspSlot, SampleOptions, WeightedResponse } from '../mechanism/types.ts';
import { adFree, appendSentence, myersonClickPrice, postedSlot, promptCtr, ratioClickPrice, wovenSentence, type CtrPredictor } from './prompt-ctr.ts';

export const SegmentConfig = z.object({
  segments: z.number().int().min(1).max(8).default(1).describe('K: segments the answer is cut into, one ad drawn for each'),
});
export type SegmentConfigInput = z.input<typeof SegmentConfig>;

/** Outcomes enumerated at most (ads^K): above it the rule only samples. */
const MAX_TUPLES = 50_000;

/** The answer's sentences grouped into k contiguous segments (empty ones at the end when short). */
export function segmentsOf(answer: string, k: number): string[] {
  const sentences = answer
    .trim()
    .split(/(?<=[.!?])\s+/)
    .filter((s) => s.length > 0);
  const out: string[] = [];
  const per = Math.ceil(sentences.length / k);
  for (let j = 0; j < k; j++) out.push(sentences.slice(j * per, (j + 1) * per).join(' '));
  return out;
}

export class SegmentRule implements AllocationRule {
  readonly name: string;
  readonly payment = 'gsp' as const;
  readonly config: z.infer<typeof SegmentConfig>;
  readonly generationsPerResponse: number;
  readonly enumerate?: (input: AuctionInput) => Promise<WeightedResponse[]>;

  constructor(
    readonly inner: AllocationRule,
    readonly relevance: CtrPredictor = promptCtr(),
    config: SegmentConfigInput = {},
  ) {
    this.config = SegmentConfig.parse(config);
    this.name = `segment:${inner.name}?segments=${this.config.segments}`;
    this.generationsPerResponse = inner.generationsPerResponse ?? 1;
    const enumerate = inner.enumerate?.bind(inner);
    if (enumerate) this.enumerate = async (input) => this.enumerateOver(input, await enumerate(adFree(input)));
  }

  /** Each ad's draw weight bid x relevance. */
  weights(input: AuctionInput): number[] {
    return input.ads.map((ad) => Math.max(0, ad.bid * this.relevance(input, ad).woven));
  }

  /** Per-click prices of every ad with a chance to be drawn. */
  slots(input: AuctionInput): GspSlot[] {
    const w = this.weights(input);
    const total = w.reduce((s, x) => s + x, 0);
    const K = this.config.segments;
    const out: GspSlot[] = [];
    input.ads.forEach((ad, i) => {
      if (!(w[i]! > 0)) return;
      const r = w[i]! / ad.bid;
      const S = total - w[i]!;
      const price =
        !(S > 0)
          ? 0 // alone: drawn whatever the bid
          : K === 1
          ? ratioClickPrice(r, 0, S / r, ad.bid) // s(t) = t r / (t r + S) = (1 t + 0) / (t + S / r)
          : myersonClickPrice((t) => 1 - (1 - (t * r) / (t * r + S)) ** K, ad.bid, 256);
      out.push(postedSlot(ad, r, price));
    });
    return out;
  }

  /** The answer with the ads drawn for its segments (undefined: none, or a repeat). */
  render(input: AuctionInput, answer: string, drawn: readonly (BiddedAd | undefined)[]): string {
    const parts = segmentsOf(answer, drawn.length);
    const seen = new Set<string>();
    const out: string[] = [];
    parts.forEach((seg, j) => {
      const ad = drawn[j];
      if (ad && !seen.has(ad.id)) {
        seen.add(ad.id);
        out.push(appendSentence(seg, wovenSentence(input.query, ad)));
      } else if (seg !== '') out.push(seg);
    });
    return out.join(' ');
  }

  private async enumerateOver(input: AuctionInput, answers: WeightedResponse[]): Promise<WeightedResponse[]> {
    const w = this.weights(input);
    const total = w.reduce((s, x) => s + x, 0);
    const K = this.config.segments;
    const live = input.ads.map((ad, i) => ({ ad, p: total > 0 ? w[i]! / total : 0 })).filter((x) => x.p > 0);
    if (live.length ** K > MAX_TUPLES) throw new UsageError(`${this.name}: ${live.length} ads over ${K} segments make ${live.length}^${K} outcomes, too many to score exactly; use fewer segments or fewer --candidates`);
    const byText = new Map<string, number>();
    const add = (text: string, p: number) => byText.set(text, (byText.get(text) ?? 0) + p);
    for (const a of answers) {
      if (!(a.prob > 0)) continue;
      if (live.length === 0) {
        add(a.response, a.prob);
        continue;
      }
      const walk = (drawn: BiddedAd[], p: number) => {
        if (drawn.length === K) return add(this.render(input, a.response, drawn), a.prob * p);
        for (const x of live) walk([...drawn, x.ad], p * x.p);
      };
      walk([], 1);
    }
    return [...byText].map(([response, prob]) => ({ response, prob }));
  }

  async sample(input: AuctionInput, n: number, opts: SampleOptions = {}): Promise<string[]> {
    const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
    const answers = await this.inner.sample(adFree(input), n, opts);
    const w = this.weights(input);
    const total = w.reduce((s, x) => s + x, 0);
    return answers.map((a, k) => {
      if (!(total > 0)) return a;
      const rng = Rng.derive(seed, 'segment', k);
      const drawn = Array.from({ length: this.config.segments }, () => input.ads[rng.categorical(w)]!);
      return this.render(input, a, drawn);
    });
  }
}
