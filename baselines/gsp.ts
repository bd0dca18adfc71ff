/**
 * Pre-generation GSP: the classic position auction run before the Ad-LLM writes anything
 * (LLM-Auction paper, sections 1-2: the "pre-generation" class of mechanisms; Edelman et al. 2007).
 *
 * 1. Rank the candidate ads by bid x quality, where quality is a click-through rate predicted from
 *    what is known before a response exists: the query, the user's profile and the ad.
 * 2. The top k win a slot and only they are handed to the inner Ad-LLM (the inner rule sees the
 *    auction with `ads` restricted to the winners); the others cannot appear in the response.
 * 3. A winner pays per click the least bid that keeps its rank, score_{j+1} / quality_j
 *    (`gspAllocate` and the `gsp` payment rule of mechanism/payment.ts).
 *
 * Because the allocation is decided by a rank, an ad's exposure probability is a step function of
 * its bid: zero below the bid at which it enters the top k, then whatever the Ad-LLM does with it.
 * That step is what the continuity check (paper, section 5.4.2, Figure 4(b)) is meant to catch.
 */
import { z } from 'zod';
import { displayTitle } from '../mechanism/format.ts';
import { gspAllocate } from '../mechanism/payment.ts';
import type { AllocationRule, AuctionInput, BiddedAd, GspSlot, SampleOptions, WeightedResponse } from '../mechanism/types.ts';
import { cosine, lexicalEncoder, type TextEncoder } from '../simulation/text-encoder.ts';

/** Predicted click-through rate of an ad for an auction, known before generation. */
export type QualityFunction = (input: AuctionInput, ad: BiddedAd) => number;

export const QualityConfig = z.object({
  bias: z.number().default(-2).describe('Logit of a click on an ad whose title shares nothing with the query or the interests'),
  wQuery: z.number().default(2).describe('Weight of the cosine similarity between the ad title and the query'),
  wProfile: z.number().default(2).describe("Weight of the title's best cosine similarity to one of the user's interests"),
});
export type QualityConfig = z.infer<typeof QualityConfig>;

/** The two similarities a pre-generation quality can see: title to query, title to the closest interest. */
export function relevanceFeatures(
  input: AuctionInput,
  ad: BiddedAd,
  encoder: TextEncoder & { encodeSync(texts: readonly string[]): Float32Array[] } = lexicalEncoder(),
): { relQuery: number; relProfile: number } {
  const interests = input.profile.interests.length > 0 ? input.profile.interests : [input.profile.info];
  const [tv, qv, ...iv] = encoder.encodeSync([displayTitle(ad.title), input.query, ...interests]);
  let relProfile = 0;
  for (const v of iv) relProfile = Math.max(relProfile, cosine(tv!, v));
  return { relQuery: Math.max(0, cosine(tv!, qv!)), relProfile };
}

/**
 * A hand-set quality model: a logistic of text-encoder similarities,
 *
 *   q(ad) = sigmoid(bias + wQuery * max(0, cos(title, query)) + wProfile * max_j cos(title, interest_j)).
 *
 * Its default weights are an uninformed prior (more similar ranks higher), not fitted to anything
 * and not the simulated user's: `llm-auction` ranks GSP with a pCTR model fitted on logged clicks
 * (training/logged-pctr.ts), and with `oracleQuality` only when asked (`gsp:…?quality=oracle`).
 */
export function relevanceQuality(
  config: Partial<QualityConfig> = {},
  encoder: TextEncoder & { encodeSync(texts: readonly string[]): Float32Array[] } = lexicalEncoder(),
): QualityFunction {
  const c = QualityConfig.parse(config);
  return (input, ad) => {
    const { relQuery, relProfile } = relevanceFeatures(input, ad, encoder);
    return 1 / (1 + Math.exp(-(c.bias + c.wQuery * relQuery + c.wProfile * relProfile)));
  };
}

/** What `oracleQuality` reads of the parametric user (simulation/user-model.ts). */
export interface OracleQualityUser {
  config: { bias: number; wQuery: number; wProfile: number };
  latentLogit(userId: string, query: string, adId: string): number;
}

/**
 * The oracle quality (`gsp:…?quality=oracle`, an upper reference): the simulated user's own click
 * logit of the ad before any response exists, its relevance weights and its latent terms (taste,
 * ad quality, the (query, ad) term), without the terms that need the response (nativeness,
 * position, fatigue, competition). It reads the user, which no mechanism can.
 */
export function oracleQuality(user: OracleQualityUser): QualityFunction {
  return (input, ad) => {
    const { relQuery, relProfile } = relevanceFeatures(input, ad);
    const c = user.config;
    const z = c.bias + c.wQuery * relQuery + c.wProfile * relProfile + user.latentLogit(input.profile.id, input.query, ad.id);
    return 1 / (1 + Math.exp(-z));
  };
}

export const GspConfig = z.object({
  k: z.number().int().min(1).default(1).describe('Slots: how many of the top-ranked ads are handed to the Ad-LLM'),
});
export type GspConfig = z.infer<typeof GspConfig>;
export type GspConfigInput = z.input<typeof GspConfig>;

export class GspRule implements AllocationRule {
  readonly name: string;
  readonly payment = 'gsp' as const;
  readonly config: GspConfig;
  /** The inner rule generates once per response: GSP adds no generations. */
  readonly generationsPerResponse: number;
  /** Present exactly when the inner rule can enumerate (over the restricted auction). */
  readonly enumerate?: (input: AuctionInput) => Promise<WeightedResponse[]>;

  constructor(
    readonly inner: AllocationRule,
    config: GspConfigInput = {},
    readonly quality: QualityFunction = relevanceQuality(),
  ) {
    this.config = GspConfig.parse(config);
    this.name = `gsp:${inner.name}?k=${this.config.k}`;
    this.generationsPerResponse = inner.generationsPerResponse ?? 1;
    const enumerate = inner.enumerate?.bind(inner);
    if (enumerate) this.enumerate = (input) => enumerate(this.restrict(input));
  }

  /** The slots of this auction: the top k by bid x quality, each with its GSP price per click. */
  slots(input: AuctionInput): GspSlot[] {
    return gspAllocate(input.ads, (ad) => this.quality(input, ad), this.config.k);
  }

  /** The auction as the Ad-LLM sees it: only the winners, in their original order. */
  restrict(input: AuctionInput, slots: readonly GspSlot[] = this.slots(input)): AuctionInput {
    const won = new Set(slots.map((s) => s.id));
    return { ...input, ads: input.ads.filter((a) => won.has(a.id)) };
  }

  async sample(input: AuctionInput, n: number, opts: SampleOptions = {}): Promise<string[]> {
    return this.inner.sample(this.restrict(input), n, opts);
  }
}
