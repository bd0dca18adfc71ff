/**
 * MOSAIC (Soumalias, Curry, Seuken, "Truthful Aggregation of LLMs with an Application to Online
 * Advertising", arXiv 2405.05905, NeurIPS 2025) as a wrapper around another allocation rule.
 *
 * Their Algorithm 1 approximates, without touching the model's weights, the optimum of the
 * KL-regularized objective E_pi[R] - beta * KL(pi || pi_ref), i.e. pi*(y) ∝ pi_ref(y) exp(R(y)/beta):
 * draw M candidate replies from a generator pi_gen, weight each by exp(R(y_m)/beta) times the
 * importance ratio pi_ref(y_m)/pi_gen(y_m), and return one candidate drawn in proportion to its
 * weight. As M grows the output converges to pi* (self-normalized importance sampling).
 *
 * Here the generator is the reference itself (pi_gen = pi_ref = the wrapped Ad-LLM), as in the
 * LLM-Auction paper's re-implementation (section 5.2.2: "using our own reward model", 20
 * candidates per query), so the importance ratio is 1 and the weights are exp(R_m / beta). R is
 * the mechanism reward of Eq. 8 with click probabilities from a reward model given as a function:
 * the IRPO pCTR model, or a click model's true probabilities for an oracle variant.
 *
 * Every output is the aggregation of its own N fresh candidates; candidates and the selection are
 * drawn from streams derived from the seed and the output's index, so a seeded call is
 * reproducible and output k does not depend on how many outputs were asked for.
 *
 * Payment: first price per click by default, the rule every mechanism of Table 2 is compared
 * under. With `payment: 'mosaic-rochet'`, MOSAIC's own Rochet payment (./mosaic-payment.ts) is
 * computed for each output from its candidates and posted as per-click prices; `draw` returns them
 * as the `slots` the `gsp` settlement reads, and `samplePriced` hands them to settlement.
 */
import { z } from 'zod';
import type { ClickModel } from '../mechanism/click-model.ts';
import { ResponseParser } from '../mechanism/parser.ts';
import { reward, RewardConfig } from '../mechanism/reward.ts';
import { deriveSeed, Rng } from '../lib/rng.ts';
import type { AllocationRule, AuctionInput, GspSlot, ParsedResponse, PaymentRuleName, PricedResponse, SampleOptions } from '../mechanism/types.ts';
import { DEFAULT_OBJECTIVE_BETA } from '../simulation/optimal.ts';
import { rochetPayments, rochetSlots, selectionProbabilities, type RochetPayment } from './mosaic-payment.ts';

export const MOSAIC_PAYMENTS = ['first-price-click', 'mosaic-rochet'] as const;
export type MosaicPayment = (typeof MOSAIC_PAYMENTS)[number];

export const MosaicConfig = z.object({
  n: z
    .number()
    .int()
    .min(1)
    .default(20)
    .describe('N: candidate replies drawn from the reference rule for each output (MOSAIC\'s M; the LLM-Auction paper uses 20)'),
  beta: z
    .number()
    .positive()
    .default(DEFAULT_OBJECTIVE_BETA)
    .describe('KL weight (MOSAIC\'s tau) in reward units: candidates are selected with probability ∝ exp(R / beta)'),
  reward: RewardConfig.prefault({}).describe('The reward R(y) of Eq. 8 the candidates are scored with (lambda and the penalty costs)'),
  payment: z
    .enum(MOSAIC_PAYMENTS)
    .default('first-price-click')
    .describe("'first-price-click' (Table 2's common rule) or 'mosaic-rochet' (MOSAIC's own truthful payment, posted per click)"),
});
export type MosaicConfig = z.infer<typeof MosaicConfig>;
export type MosaicConfigInput = z.input<typeof MosaicConfig>;

/**
 * The reward model: predicted click probability of each validly exposed ad of a response. It is
 * assumed deterministic in (input, response), so a draw scores each distinct text once.
 */
export type CtrFunction = (input: AuctionInput, response: string, parsed: ParsedResponse) => Promise<Record<string, number>>;

/** The oracle reward model: a click model's true click probabilities. */
export function oracleCtr(clicks: ClickModel): CtrFunction {
  return (input, response, parsed) => clicks.clickProbabilities({ input, response, parsed });
}

export interface ScoredCandidate {
  response: string;
  /** R(y) of Eq. 8 under the reward model. */
  reward: number;
  /** The reward model's click probability of each validly exposed ad. */
  ctr: Record<string, number>;
  /** Ids of the validly exposed ads. */
  exposures: string[];
}

/** One MOSAIC output with everything that produced it. */
export interface MosaicDraw {
  response: string;
  /** Index of the selected candidate. */
  chosen: number;
  candidates: ScoredCandidate[];
  /** Selection probability of each candidate: softmax of reward / beta. */
  probs: number[];
  /** MOSAIC's Rochet payment per ad, with payment 'mosaic-rochet'. */
  payments?: RochetPayment[];
  /** The same payments as per-click prices for the `gsp` settlement, with payment 'mosaic-rochet'. */
  slots?: GspSlot[];
}

// A type alias, not an interface: the rule's `stats` member takes a record of counts.
export type MosaicStats = {
  /** Calls made to the inner rule's sample. */
  innerCalls: number;
  /** Responses the inner rule generated (N per output). */
  generations: number;
  /** Outputs MOSAIC returned. */
  outputs: number;
};

export class MosaicRule implements AllocationRule {
  readonly name: string;
  readonly config: MosaicConfig;
  /** Rochet prices are posted per click, which the `gsp` settlement charges from `slots`. */
  readonly payment: PaymentRuleName;
  /** Inner generations behind one output, for cost accounting (generations per query). */
  readonly generationsPerResponse: number;
  readonly stats: MosaicStats = { innerCalls: 0, generations: 0, outputs: 0 };

  constructor(
    readonly inner: AllocationRule,
    readonly ctr: CtrFunction,
    config: MosaicConfigInput = {},
  ) {
    this.config = MosaicConfig.parse(config);
    this.name = `mosaic:${inner.name}?n=${this.config.n}`;
    this.payment = this.config.payment === 'mosaic-rochet' ? 'gsp' : 'first-price-click';
    this.generationsPerResponse = this.config.n;
  }

  async sample(input: AuctionInput, n: number, opts: SampleOptions = {}): Promise<string[]> {
    return (await this.draw(input, n, opts)).map((d) => d.response);
  }

  /** The outputs `sample` gives, each with its Rochet prices when MOSAIC charges its own payment. */
  async samplePriced(input: AuctionInput, n: number, opts: SampleOptions = {}): Promise<PricedResponse[]> {
    return (await this.draw(input, n, opts)).map((d) => (d.slots ? { response: d.response, slots: d.slots } : { response: d.response }));
  }

  /** n outputs, each with its candidates, selection probabilities and (for Rochet) prices. */
  async draw(input: AuctionInput, n: number, opts: SampleOptions = {}): Promise<MosaicDraw[]> {
    const { n: N, beta } = this.config;
    const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 31);
    const parser = new ResponseParser(input.ads);
    // Texts repeat often (small models, short answers): score each distinct one once per call.
    const scored = new Map<string, Promise<ScoredCandidate>>();
    const score = (text: string): Promise<ScoredCandidate> => {
      let hit = scored.get(text);
      if (!hit) {
        hit = this.score(input, text, parser);
        scored.set(text, hit);
      }
      return hit;
    };
    const out: MosaicDraw[] = [];
    for (let k = 0; k < n; k++) {
      const texts = await this.inner.sample(input, N, { seed: deriveSeed(seed, 'mosaic', 'candidates', k) });
      this.stats.innerCalls++;
      this.stats.generations += texts.length;
      if (texts.length !== N) throw new Error(`${this.inner.name} returned ${texts.length} responses for ${N} requested`);
      const candidates: ScoredCandidate[] = [];
      for (const t of texts) candidates.push(await score(typeof t === 'string' ? t : String(t ?? '')));
      const probs = selectionProbabilities(candidates.map((c) => c.reward), beta);
      const chosen = N === 1 ? 0 : Rng.derive(seed, 'mosaic', 'select', k).categorical(probs);
      const d: MosaicDraw = { response: candidates[chosen]!.response, chosen, candidates, probs };
      if (this.config.payment === 'mosaic-rochet') {
        d.payments = rochetPayments(candidates, input.ads, beta);
        d.slots = rochetSlots(d.payments);
      }
      out.push(d);
      this.stats.outputs++;
    }
    return out;
  }

  private async score(input: AuctionInput, response: string, parser: ResponseParser): Promise<ScoredCandidate> {
    const parsed = parser.parse(response);
    const ctr = await this.ctr(input, response, parsed);
    const r = reward(parsed, input.ads, ctr, this.config.reward).reward;
    return { response, reward: r, ctr, exposures: parsed.exposures.map((e) => e.id) };
  }
}
