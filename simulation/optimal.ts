/**
 * The exact optimum of the embedded world (Thm. 4.3, Eq. 13):
 *
 *   pi*(y | x) = pi_0(y | x) * exp(R(y) / beta) / Z
 *
 * with R the mechanism reward (Eq. 8) under the user's true click probabilities, summed over every
 * plan of the embedded Ad-LLM. It is the ceiling any allocation rule over the same response space
 * can reach on the objective E[R] - beta * KL(pi || pi_0). beta is in the reward's units (bids
 * are 1..100): small values approach the best single response, large ones stay near pi_0.
 */
import type { ClickModel } from '../mechanism/click-model.ts';
import { ResponseParser } from '../mechanism/parser.ts';
import { DEFAULT_REWARD, reward, type RewardConfig } from '../mechanism/reward.ts';
import { Rng } from '../mechanism/rng.ts';
import type { AllocationRule, AuctionInput, SampleOptions, WeightedResponse } from '../mechanism/types.ts';
import type { EmbeddedPolicy } from './embedded-policy.ts';

export const DEFAULT_OBJECTIVE_BETA = 2;

export class OptimalRule implements AllocationRule {
  readonly payment = 'first-price-click' as const;
  readonly name = 'embedded:optimal';
  private readonly cache = new Map<string, { texts: string[]; ctr: Record<string, number>[] }>();

  constructor(
    readonly policy: EmbeddedPolicy,
    readonly clicks: ClickModel,
    readonly beta = DEFAULT_OBJECTIVE_BETA,
    readonly rewardConfig: RewardConfig = DEFAULT_REWARD,
  ) {}

  /** Texts and true click probabilities of every plan (bid-independent, so cached per auction). */
  private async outcomes(input: AuctionInput) {
    const t = this.policy.table(input);
    const hit = this.cache.get(t.key);
    if (hit) return hit;
    const parser = new ResponseParser(input.ads);
    const texts = t.plans.map((p) => this.policy.render(input, p, t));
    const ctr: Record<string, number>[] = [];
    for (const response of texts) ctr.push(await this.clicks.clickProbabilities({ input, response, parsed: parser.parse(response) }));
    const out = { texts, ctr };
    if (this.cache.size > 2000) this.cache.clear();
    this.cache.set(t.key, out);
    return out;
  }

  /** Normalized log pi*(plan | x) and the responses. */
  async distribution(input: AuctionInput): Promise<{ texts: string[]; logp: Float64Array; rewards: Float64Array }> {
    const t = this.policy.table(input);
    const { texts, ctr } = await this.outcomes(input);
    const parser = new ResponseParser(input.ads);
    const rewards = new Float64Array(texts.length);
    const logp = new Float64Array(texts.length);
    let max = -Infinity;
    for (let j = 0; j < texts.length; j++) {
      rewards[j] = reward(parser.parse(texts[j]!), input.ads, ctr[j]!, this.rewardConfig).reward;
      logp[j] = t.logp0[j]! + rewards[j]! / this.beta;
      if (logp[j]! > max) max = logp[j]!;
    }
    let z = 0;
    for (let j = 0; j < logp.length; j++) z += Math.exp(logp[j]! - max);
    const logZ = max + Math.log(z);
    for (let j = 0; j < logp.length; j++) logp[j]! -= logZ;
    return { texts, logp, rewards };
  }

  async sample(input: AuctionInput, n: number, opts: SampleOptions = {}): Promise<string[]> {
    const { texts, logp } = await this.distribution(input);
    const rng = new Rng(opts.seed ?? Math.floor(Math.random() * 2 ** 31));
    const weights = Array.from(logp, (x) => Math.exp(x));
    return Array.from({ length: n }, () => texts[rng.categorical(weights)]!);
  }

  async enumerate(input: AuctionInput): Promise<WeightedResponse[]> {
    const { texts, logp } = await this.distribution(input);
    return texts.map((response, j) => ({ response, prob: Math.exp(logp[j]!) }));
  }
}
