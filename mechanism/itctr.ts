/**
 * ITCTR (Definition 3.1, Eq. 1): itctr_i = E_{y ~ pi(.|x,h,a,b)} [ ctr_i(x,h,a_i,y) * 1(a_i in y) ],
 * the probability that ad i is both exposed and clicked under the allocation rule.
 *
 * When the rule can enumerate its response distribution the expectation is computed exactly.
 * Otherwise it is estimated from M sampled responses: each sample contributes ctr_i(y_m) (zero when
 * a_i is not validly exposed), and the 95% interval is the Wilson interval of that mean.
 */
import type { ClickModel } from './click-model.ts';
import { ResponseParser } from './parser.ts';
import { wilson } from '../lib/stats.ts';
import type { AllocationRule, AuctionInput } from './types.ts';

export interface ItctrEstimate {
  id: string;
  itctr: number;
  ci95: [number, number];
  /** Probability (or share of samples) in which the ad is validly exposed. */
  exposure: number;
  samples: number;
  exact: boolean;
}

export interface ItctrOptions {
  /** M, the number of sampled responses when the distribution is not enumerable. */
  samples?: number;
  seed?: number;
  /** Use `enumerate` when the rule has it (default true). */
  exact?: boolean;
}

export async function estimateItctr(
  rule: AllocationRule,
  input: AuctionInput,
  clicks: ClickModel,
  opts: ItctrOptions = {},
): Promise<ItctrEstimate[]> {
  const parser = new ResponseParser(input.ads);
  const ids = input.ads.map((a) => a.id);
  const sumCtr = new Map(ids.map((id) => [id, 0]));
  const sumExp = new Map(ids.map((id) => [id, 0]));

  if (rule.enumerate && opts.exact !== false) {
    const dist = await rule.enumerate(input);
    let total = 0;
    for (const { response, prob } of dist) {
      total += prob;
      const parsed = parser.parse(response);
      const ctr = await clicks.clickProbabilities({ input, response, parsed });
      for (const e of parsed.exposures) {
        if (!sumCtr.has(e.id)) continue;
        sumCtr.set(e.id, sumCtr.get(e.id)! + prob * (ctr[e.id] ?? 0));
        sumExp.set(e.id, sumExp.get(e.id)! + prob);
      }
    }
    const norm = total > 0 ? total : 1;
    return ids.map((id) => {
      const v = sumCtr.get(id)! / norm;
      return { id, itctr: v, ci95: [v, v], exposure: sumExp.get(id)! / norm, samples: dist.length, exact: true };
    });
  }

  const m = opts.samples ?? 10;
  const responses = await rule.sample(input, m, opts.seed === undefined ? {} : { seed: opts.seed });
  return itctrFromResponses(input, responses, clicks);
}

/**
 * itctr of every candidate estimated from responses already sampled from the rule: each
 * contributes ctr_i(y_m), zero where a_i is not validly exposed (what `estimateItctr` does when the
 * rule cannot enumerate; Figure 4(a) calls it on the responses it also draws clicks for).
 */
export async function itctrFromResponses(input: AuctionInput, responses: readonly string[], clicks: ClickModel): Promise<ItctrEstimate[]> {
  const parser = new ResponseParser(input.ads);
  const ids = input.ads.map((a) => a.id);
  const sumCtr = new Map(ids.map((id) => [id, 0]));
  const sumExp = new Map(ids.map((id) => [id, 0]));
  for (const response of responses) {
    const parsed = parser.parse(response);
    const ctr = await clicks.clickProbabilities({ input, response, parsed });
    for (const e of parsed.exposures) {
      if (!sumCtr.has(e.id)) continue;
      sumCtr.set(e.id, sumCtr.get(e.id)! + Math.min(1, Math.max(0, ctr[e.id] ?? 0)));
      sumExp.set(e.id, sumExp.get(e.id)! + 1);
    }
  }
  const n = responses.length;
  return ids.map((id) => {
    const v = n > 0 ? sumCtr.get(id)! / n : 0;
    return { id, itctr: v, ci95: wilson(v, n), exposure: n > 0 ? sumExp.get(id)! / n : 0, samples: n, exact: false };
  });
}
