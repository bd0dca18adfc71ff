/**
 * What the four published-mechanism baselines (inject:, segment:, prominence:, token:) share:
 *
 * - a click predictor known before the response exists: by default a PROMPT-ONLY guess (the
 *   relevance of the ad's title to the question and the user's interests under the embedded
 *   Ad-LLM's own coarse text representation, `policyEncoder`, mapped through a fixed logistic), or
 *   a pCTR model (`rm=logs`: fitted on the world's logged clicks; `rm=DIR`: a training run's) applied to the sentence the ad would be shown in. The
 *   user's click model, its weights and its latent terms are never read.
 * - how an ad is written into an ad-free answer: one sentence that names the question's topic and
 *   carries the ad's markup (woven), or a line after the answer (listed);
 * - the posted per-click price of a monotone allocation (Myerson): with x(t) the probability that
 *   the ad is shown at bid t (the others' bids fixed) and a click probability given exposure that
 *   does not depend on the bid, truthful expected payment is ctr * (b x(b) - ∫_0^b x(t) dt), so
 *   the price per click is b - ∫_0^b x(t) dt / x(b): between 0 and b (IR) whenever x is monotone.
 */
import { z } from 'zod';
import { displayTitle, insertion } from '../mechanism/format.ts';
import type { AuctionInput, BiddedAd, GspSlot } from '../mechanism/types.ts';
import { policyEncoder } from '../simulation/embedded-policy.ts';
import { cosine, stems } from '../simulation/text-encoder.ts';

/** A predicted click probability for an ad woven into the answer and for the same ad listed after it. */
export interface ClickGuess {
  woven: number;
  listed: number;
}

/** A click predictor known before the response: never the user's model. */
export type CtrPredictor = (input: AuctionInput, ad: BiddedAd) => ClickGuess;

export const PromptCtrConfig = z.object({
  a: z.number().default(-1.8).describe('Logit of a click on a woven ad whose title shares nothing with the question or the interests'),
  b: z.number().default(5).describe('Logit added per unit of the prompt-only relevance guess (0..1)'),
  listedGap: z.number().min(0).default(0.7).describe('Logit lost when the ad is listed after the answer instead of woven in'),
});
export type PromptCtrConfig = z.infer<typeof PromptCtrConfig>;

const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The prompt-only relevance guess of each ad: 0.6 x cos(title, question) + 0.4 x best cos(title, interest), capped at 1. */
export function promptRelevance(input: AuctionInput, ads: readonly BiddedAd[] = input.ads): number[] {
  const enc = policyEncoder();
  const [qv, ...iv] = enc.encodeSync([input.query, ...input.profile.interests]);
  const tv = enc.encodeSync(ads.map((a) => displayTitle(a.title)));
  return ads.map((_, k) => {
    let p = 0;
    for (const v of iv) p = Math.max(p, cosine(tv[k]!, v));
    return Math.min(1, 0.6 * Math.max(0, cosine(tv[k]!, qv!)) + 0.4 * p);
  });
}

/**
 * The default predictor: sigmoid(a + b x relevance) woven, `listedGap` lower listed. The defaults
 * (a = -1.8, b = 5, gap 0.7) are the click prior the embedded Ad-LLM itself holds (its value
 * feature), fixed, not fitted to anything: no user model and no clicks went into them.
 */
export function promptCtr(config: Partial<PromptCtrConfig> = {}): CtrPredictor {
  const c = PromptCtrConfig.parse(config);
  const memo = new Map<string, number>();
  return (input, ad) => {
    const key = `${input.query}\u0001${input.profile.id}\u0001${ad.id}\u0001${ad.title}`;
    let rel = memo.get(key);
    if (rel === undefined) {
      rel = promptRelevance(input, [ad])[0]!;
      if (memo.size > 50_000) memo.clear();
      memo.set(key, rel);
    }
    const z = c.a + c.b * rel;
    return { woven: sigmoid(z), listed: sigmoid(z - c.listedGap) };
  };
}

/** What a pCTR model of a training run is asked: the contract of training/pctr.ts's predict. */
export type PctrPredict = (examples: { query: string; response: string; userId: string; adId: string }[]) => ArrayLike<number>;

/**
 * A training run's pCTR model as a predictor: it scores the ad in the sentence (woven) or the line
 * (listed) it would be shown in, not the whole answer, so the prediction is fixed before the
 * answer is written and the allocation and prices are a function of the auction alone.
 */
export function pctrPredictor(predict: PctrPredict): CtrPredictor {
  return (input, ad) => {
    const base = { query: input.query, userId: input.profile.id, adId: ad.id };
    const p = predict([
      { ...base, response: wovenSentence(input.query, ad) },
      { ...base, response: listedBlock([ad]).trim() },
    ]);
    return { woven: p[0]!, listed: p[1]! };
  };
}

/** The first content words of the question, lower-case: what a woven sentence talks about. */
export function topicOf(query: string): string {
  const words = query
    .replace(/[^A-Za-z0-9' -]+/g, ' ')
    .split(/\s+/)
    .filter((w) => w.length > 0);
  const content = words.filter((w) => stems(w).length > 0);
  return (content.length > 0 ? content : words).slice(0, 4).join(' ').toLowerCase() || 'this';
}

/** One sentence about the question that carries the ad's markup. */
export function wovenSentence(query: string, ad: { id: string; title: string }): string {
  return `If you are looking into ${topicOf(query)}, ${insertion(ad)} can help.`;
}

/** The answer with a sentence added after it (a full stop first when the answer lacks one). */
export function appendSentence(answer: string, sentence: string): string {
  const a = answer.trimEnd();
  if (a === '') return sentence;
  return /[.!?]["')\]]?$/.test(a) ? `${a} ${sentence}` : `${a}. ${sentence}`;
}

/** Ads listed after the answer, one per line. */
export function listedBlock(ads: readonly { id: string; title: string }[]): string {
  return ads.length === 0 ? '' : `\n\nYou might also like:${ads.map((a) => `\n- ${insertion(a)}`).join('')}`;
}

/** The auction with no ads: what the base rule answers when it must write without any. */
export function adFree(input: AuctionInput): AuctionInput {
  return { ...input, ads: [] };
}

/**
 * Myerson's price per click for an allocation curve x (probability of exposure at bid t):
 * b - ∫_0^b x(t) dt / x(b), the integral by Simpson's rule on `steps` intervals. 0 when x(b) = 0.
 */
export function myersonClickPrice(x: (t: number) => number, b: number, steps = 128): number {
  const xb = x(b);
  if (!(xb > 0) || !(b > 0)) return 0;
  const n = steps % 2 === 0 ? steps : steps + 1;
  const h = b / n;
  let s = x(0) + xb;
  for (let k = 1; k < n; k++) s += (k % 2 === 1 ? 4 : 2) * x(k * h);
  const integral = (s * h) / 3;
  return Math.min(b, Math.max(0, b - integral / xb));
}

/**
 * The price per click of x(t) = (c t + A) / (t + B) (a linear aggregation or a proportional draw
 * with the others fixed), in closed form: ∫_0^b x = c b + (A - c B) ln(1 + b / B).
 */
export function ratioClickPrice(c: number, A: number, B: number, b: number): number {
  if (!(B > 0)) return 0; // alone: shown whatever the bid
  const xb = (c * b + A) / (b + B);
  if (!(xb > 0)) return 0;
  const integral = c * b + (A - c * B) * Math.log1p(b / B);
  return Math.min(b, Math.max(0, b - integral / xb));
}

/** A posted per-click price as the slot the `gsp` settlement charges. */
export function postedSlot(ad: BiddedAd, quality: number, price: number): GspSlot {
  return { id: ad.id, bid: ad.bid, quality, score: ad.bid * quality, price: Math.min(ad.bid, Math.max(0, price)) };
}
