/**
 * The prominence auction of Dubey, Feng, Kidambi, Mehta and Wang, "Auctions with LLM Summaries"
 * (KDD 2024). The auction allocates prominence in the generated text, not slots: each ad gets a
 * share that rises with its bid (monotone in the bid, so a truthful payment exists), the LLM is
 * prompted to follow the shares, and clicks are priced with a pCTR model of how prominence turns
 * into clicks.
 *
 * Ours: shares s_i = e_i / sum_j e_j with e_i = bid_i x pCTR_i (the prompt-only guess of
 * ./prompt-ctr.ts, or a pCTR model with `rm=logs|DIR`); ads below the share threshold `tau` get
 * nothing; the largest share above it is woven into the answer (one sentence, the prominent
 * place), the next is listed after the answer, the rest get nothing. Instead of prompting an LLM to
 * follow the shares, the base rule writes an ad-free answer and a template places the two ads, so
 * the allocation is exactly what the auction decided (their LLM may deviate from it).
 *
 * Price: with the others fixed, ad i's place is a step function of its bid t: listed from
 * t_L = max(t_tau, E_2 / q_i), woven from t_W = max(t_tau, E_1 / q_i), where E_1 >= E_2 are the
 * others' two largest e_j and t_tau = tau S / ((1 - tau) q_i) the bid at which its share reaches
 * tau (S: the others' total). Under the pCTR model a place gives g_L (listed) or g_W (woven)
 * expected clicks, so the monotone-allocation (Myerson) payment is t_L g_L + t_W (g_W - g_L)
 * when woven and t_L g_L when listed; divided by the clicks it buys it is a per-click price,
 * never above the bid. The paper's fractional prominence levels and its summary-quality model
 * are not reproduced: two places only.
 */
import { z } from 'zod';
import type { AllocationRule, AuctionInput, BiddedAd, GspSlot, SampleOptions, WeightedResponse } from '../mechanism/types.ts';
import { adFree, appendSentence, listedBlock, postedSlot, promptCtr, wovenSentence, type CtrPredictor } from './prompt-ctr.ts';

export const ProminenceConfig = z.object({
  tau: z.number().gt(0).lt(1).default(0.2).describe('Share threshold: an ad whose share of bid x pCTR is below it gets no place'),
});
export type ProminenceConfigInput = z.input<typeof ProminenceConfig>;

export interface ProminenceAllocation {
  woven?: BiddedAd;
  listed?: BiddedAd;
  slots: GspSlot[];
}

const byScore = (x: { ad: BiddedAd; e: number }, y: { ad: BiddedAd; e: number }) => y.e - x.e || (x.ad.id < y.ad.id ? -1 : x.ad.id > y.ad.id ? 1 : 0);

/** The places and per-click prices of one auction. */
export function prominenceAllocate(input: AuctionInput, ctr: CtrPredictor, tau: number): ProminenceAllocation {
  const scored = input.ads.map((ad) => {
    const g = ctr(input, ad);
    const gW = g.woven;
    return { ad, q: gW, gW, gL: Math.min(g.listed, gW), e: ad.bid * gW };
  });
  const total = scored.reduce((s, x) => s + x.e, 0);
  const eligible = scored.filter((x) => x.e > 0 && x.e / total >= tau).sort(byScore);
  const out: ProminenceAllocation = { slots: [] };
  eligible.slice(0, 2).forEach((x, place) => {
    const others = scored.filter((y) => y !== x).map((y) => y.e).sort((a, b) => b - a);
    const S = total - x.e;
    const tTau = (tau * S) / ((1 - tau) * x.q);
    const tL = Math.max(tTau, (others[1] ?? 0) / x.q);
    const tW = Math.max(tTau, (others[0] ?? 0) / x.q);
    const price = place === 0 ? (tL * x.gL + tW * (x.gW - x.gL)) / x.gW : tL;
    if (place === 0) out.woven = x.ad;
    else out.listed = x.ad;
    out.slots.push(postedSlot(x.ad, place === 0 ? x.gW : x.gL, price));
  });
  return out;
}

export class ProminenceRule implements AllocationRule {
  readonly name: string;
  readonly payment = 'gsp' as const;
  readonly config: z.infer<typeof ProminenceConfig>;
  readonly generationsPerResponse: number;
  readonly enumerate?: (input: AuctionInput) => Promise<WeightedResponse[]>;

  constructor(
    readonly inner: AllocationRule,
    readonly ctr: CtrPredictor = promptCtr(),
    config: ProminenceConfigInput = {},
  ) {
    this.config = ProminenceConfig.parse(config);
    this.name = `prominence:${inner.name}?tau=${this.config.tau}`;
    this.generationsPerResponse = inner.generationsPerResponse ?? 1;
    const enumerate = inner.enumerate?.bind(inner);
    if (enumerate) {
      this.enumerate = async (input) => {
        const a = this.allocate(input);
        return (await enumerate(adFree(input))).map((w) => ({ response: this.render(input, w.response, a), prob: w.prob }));
      };
    }
  }

  allocate(input: AuctionInput): ProminenceAllocation {
    return prominenceAllocate(input, this.ctr, this.config.tau);
  }

  slots(input: AuctionInput): GspSlot[] {
    return this.allocate(input).slots;
  }

  render(input: AuctionInput, answer: string, a: ProminenceAllocation): string {
    const body = a.woven ? appendSentence(answer, wovenSentence(input.query, a.woven)) : answer.trimEnd();
    return body + listedBlock(a.listed ? [a.listed] : []);
  }

  async sample(input: AuctionInput, n: number, opts: SampleOptions = {}): Promise<string[]> {
    const a = this.allocate(input);
    return (await this.inner.sample(adFree(input), n, opts)).map((t) => this.render(input, t, a));
  }
}
