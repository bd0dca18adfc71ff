/**
 * The mechanism reward (Eq. 5, implemented as Eq. 8):
 *
 *   R(x, h, a, b, y) = sum_i b_i * pCTR_i(x, h, a_i, y) * 1(a_i in y)  -  lambda * s_resp(y)
 *   s_resp(y)        = perAd * N_ad(y)  +  perError * N_err(y)
 *
 * N_ad(y) is the number of valid exposures in y and N_err(y) the number of format errors the parser
 * found (hallucinated ids, changed titles, broken markup, repeated ads). The paper's exact Eq. 8 is
 * not legible in our copy; it penalizes "the number and formatting errors of inserted ads" with
 * lambda = 1. Our defaults price an inserted ad at 10 and an error at 50 (bids are 1..100): an ad is
 * worth inserting only when b_i * pCTR_i > 10, and a response crowded with ads or broken markup
 * scores below zero, as the pretrained model does in the paper's Table 2 (reward -120 at revenue 47).
 */
import { z } from 'zod';
import type { BiddedAd, ParsedResponse } from './types.ts';

export const RewardConfig = z.object({
  lambda: z.number().min(0).default(1).describe('Weight lambda of the response penalty s_resp(y) (paper: 1)'),
  perAd: z.number().min(0).default(10).describe('Cost in s_resp(y) of each inserted ad (valid exposure)'),
  perError: z.number().min(0).default(50).describe('Cost in s_resp(y) of each format error (unknown id, changed title, malformed, duplicate)'),
});
export type RewardConfig = z.infer<typeof RewardConfig>;

export const DEFAULT_REWARD: RewardConfig = RewardConfig.parse({});

export interface RewardBreakdown {
  /** sum_i b_i * pCTR_i over valid exposures (expected revenue under the click model). */
  value: number;
  /** s_resp(y) before lambda. */
  penalty: number;
  adCount: number;
  errorCount: number;
  reward: number;
}

/** s_resp(y). */
export function responsePenalty(parsed: ParsedResponse, cfg: RewardConfig = DEFAULT_REWARD): number {
  return cfg.perAd * parsed.exposures.length + cfg.perError * parsed.errors.length;
}

/**
 * R(y) for one parsed response. `ctr` gives the predicted click probability of each exposed ad
 * (the pCTR model during training, the user model's true probability for the Oracle).
 */
export function reward(
  parsed: ParsedResponse,
  ads: readonly BiddedAd[],
  ctr: Readonly<Record<string, number>> | ((adId: string) => number),
  cfg: RewardConfig = DEFAULT_REWARD,
): RewardBreakdown {
  const bids = new Map(ads.map((a) => [a.id, a.bid]));
  const p = typeof ctr === 'function' ? ctr : (id: string) => ctr[id] ?? 0;
  let value = 0;
  for (const e of parsed.exposures) {
    const b = bids.get(e.id);
    if (b === undefined) continue;
    value += b * p(e.id);
  }
  const penalty = responsePenalty(parsed, cfg);
  return { value, penalty, adCount: parsed.exposures.length, errorCount: parsed.errors.length, reward: value - cfg.lambda * penalty };
}
