/**
 * Generate-then-inject: the Ad-LLM family of GEM-Bench (Hu et al., "GEM-Bench: A Benchmark for
 * Ad-Injected Response Generation within Generative Engine Marketing", 2025), and what a
 * practitioner builds first. The base rule answers the question WITHOUT ads (it is called with the
 * auction's ads removed); then the ad with the highest eCPM = bid x predicted CTR is written into
 * the answer, and only when that eCPM clears a reserve.
 *
 * - Predicted CTR: by default a prompt-only guess (./prompt-ctr.ts: the embedded Ad-LLM's own
 *   relevance representation through a fixed logistic); `rm=logs` the pCTR model fitted on the
 *   world's logged clicks, `rm=DIR` a training run's pCTR model,
 *   on the sentence the ad would sit in. The user's click model is never read.
 * - Reserve: the per-ad cost of Eq. 8 (RewardConfig.perAd, 10): an ad is worth showing only when
 *   bid x CTR exceeds what an insertion costs the answer. Nothing was tuned: the reserve and the
 *   logistic's coefficients are fixed defaults (see prompt-ctr.ts), so no test query, click or
 *   user weight shaped them.
 * - Writing the ad in: `template` (default) appends one sentence that names the question's topic
 *   and carries the markup; `llm` asks the base rule to rewrite its answer around the one ad
 *   (only rules that write from a prompt can: the kind refuses plan-rendering ones).
 * - Price: the eCPM auction's second price per click, max(reserve, second-best eCPM) / CTR_winner,
 *   never above the bid; it is the Myerson price of this deterministic allocation (the least bid
 *   that still wins), posted before generation and settled by the `gsp` payment rule.
 *
 * Our simplifications: GEM-Bench's injectors choose where in the answer the ad goes and rewrite
 * with an LLM; our template always appends one sentence at the end, and the choice of ad is made
 * from the prompt alone, before the answer is written.
 */
import { z } from 'zod';
import { RewardConfig } from '../mechanism/reward.ts';
import type { AllocationRule, AuctionInput, BiddedAd, GspSlot, SampleOptions, WeightedResponse } from '../mechanism/types.ts';
import { adFree, appendSentence, postedSlot, promptCtr, wovenSentence, type CtrPredictor } from './prompt-ctr.ts';

export const INJECT_MODES = ['template', 'llm'] as const;
export type InjectMode = (typeof INJECT_MODES)[number];

export const InjectConfig = z.object({
  reserve: z.number().min(0).default(RewardConfig.parse({}).perAd).describe('Least eCPM (bid x predicted CTR) at which an ad is injected; default the per-ad cost of Eq. 8'),
  inject: z.enum(INJECT_MODES).default('template').describe("How the ad is written in: 'template' (one sentence appended) or 'llm' (the base rule rewrites)"),
});
export type InjectConfigInput = z.input<typeof InjectConfig>;

/** The ad that wins the eCPM auction of one auction, with its posted price; none below the reserve. */
export function eCpmWinner(input: AuctionInput, ctr: CtrPredictor, reserve: number): { ad: BiddedAd; slot: GspSlot } | undefined {
  const scored = input.ads
    .map((ad) => {
      const q = ctr(input, ad).woven;
      return { ad, q, e: ad.bid * q };
    })
    .sort((x, y) => y.e - x.e || (x.ad.id < y.ad.id ? -1 : x.ad.id > y.ad.id ? 1 : 0));
  const top = scored[0];
  if (!top || !(top.e >= reserve) || !(top.q > 0)) return undefined;
  const second = Math.max(reserve, scored[1]?.e ?? 0);
  return { ad: top.ad, slot: postedSlot(top.ad, top.q, second / top.q) };
}

/** The text the base rule is asked to rewrite with `inject=llm`: its answer and the one ad. */
export function rewriteInput(input: AuctionInput, answer: string, ad: BiddedAd): AuctionInput {
  const query = `${input.query}\n\nRewrite this answer so that it recommends exactly one of the candidate products, naturally and in a sentence about the question, keeping the rest: ${answer.replace(/\s+/g, ' ').trim()}`;
  return { ...input, query, ads: [ad] };
}

export class InjectRule implements AllocationRule {
  readonly name: string;
  readonly payment = 'gsp' as const;
  readonly config: z.infer<typeof InjectConfig>;
  readonly generationsPerResponse: number;
  readonly enumerate?: (input: AuctionInput) => Promise<WeightedResponse[]>;

  constructor(
    readonly inner: AllocationRule,
    readonly ctr: CtrPredictor = promptCtr(),
    config: InjectConfigInput = {},
  ) {
    this.config = InjectConfig.parse(config);
    this.name = `inject:${inner.name}?inject=${this.config.inject}`;
    this.generationsPerResponse = (inner.generationsPerResponse ?? 1) * (this.config.inject === 'llm' ? 2 : 1);
    const enumerate = inner.enumerate?.bind(inner);
    if (enumerate && this.config.inject === 'template') {
      this.enumerate = async (input) => {
        const win = this.winner(input);
        return (await enumerate(adFree(input))).map((w) => ({ response: this.write(input, w.response, win?.ad), prob: w.prob }));
      };
    }
  }

  winner(input: AuctionInput): { ad: BiddedAd; slot: GspSlot } | undefined {
    return eCpmWinner(input, this.ctr, this.config.reserve);
  }

  /** The winner's posted price per click (none when nothing clears the reserve). */
  slots(input: AuctionInput): GspSlot[] {
    const w = this.winner(input);
    return w ? [w.slot] : [];
  }

  private write(input: AuctionInput, answer: string, ad: BiddedAd | undefined): string {
    return ad ? appendSentence(answer, wovenSentence(input.query, ad)) : answer;
  }

  async sample(input: AuctionInput, n: number, opts: SampleOptions = {}): Promise<string[]> {
    const answers = await this.inner.sample(adFree(input), n, opts);
    const ad = this.winner(input)?.ad;
    if (!ad || this.config.inject === 'template') return answers.map((a) => this.write(input, a, ad));
    const out: string[] = [];
    for (const [k, a] of answers.entries()) {
      const [text] = await this.inner.sample(rewriteInput(input, a, ad), 1, opts.seed === undefined ? {} : { seed: opts.seed + 7919 * (k + 1) });
      out.push(text ?? a);
    }
    return out;
  }
}
