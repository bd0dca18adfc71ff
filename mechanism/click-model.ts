/**
 * A click model gives ctr_i(x, h, a_i, y): the probability that the user clicks ad i, given the
 * query, the profile and the response that exposes it. The simulated users of `simulation/`
 * implement it; ITCTR, the properties and the reward all read clicks through this interface.
 */
import type { AuctionInput, ParsedResponse } from './types.ts';

export interface ClickContext {
  input: AuctionInput;
  response: string;
  parsed: ParsedResponse;
}

export interface ClickModel {
  name: string;
  /**
   * What `clickProbabilities` returns: a probability per response (a parametric user: the
   * default), or `clicks`, one user's 0/1 decisions (an LLM judge). The property checks feed
   * their tests whichever the model gives, and say which.
   */
  observable?: 'click-probability' | 'clicks';
  /** Click probability of each validly exposed ad (ids not listed are never clicked). */
  clickProbabilities(ctx: ClickContext): Promise<Record<string, number>>;
  /**
   * Draw the clicks of one user. Models whose clicks are not independent (similar ads compete
   * for one click) implement it; otherwise each ad is clicked independently with its probability.
   */
  sampleClicks?(ctx: ClickContext, uniform: () => number): Promise<string[]>;
}

/** Clicks drawn from a click model, one uniform draw per exposed ad when clicks are independent. */
export async function drawClicks(model: ClickModel, ctx: ClickContext, uniform: () => number): Promise<string[]> {
  if (model.sampleClicks) return model.sampleClicks(ctx, uniform);
  const p = await model.clickProbabilities(ctx);
  const out: string[] = [];
  for (const e of ctx.parsed.exposures) if (uniform() < (p[e.id] ?? 0)) out.push(e.id);
  return out;
}

/**
 * The key under which a wrapped click model hands the judge the model to score and draw clicks
 * with. Only the simulation's scoring of episodes (simulation/episode.ts, Table 2's exact rows)
 * reads it; a mechanism never does. The tripwire test (tests/tripwire.test.ts) gives every
 * mechanism a user that throws when read and puts the real one here, so any mechanism that reads
 * the user without asking for the oracle by name fails it.
 */
export const SCORING_MODEL = Symbol.for('llm-auction.scoring-model');

/** The click model the judge scores with: the model itself unless it carries a SCORING_MODEL. */
export function scoringModel(model: ClickModel): ClickModel {
  return ((model as unknown as Record<symbol, ClickModel | undefined>)[SCORING_MODEL]) ?? model;
}
