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
  /** Click probability of each validly exposed ad (ids not listed are never clicked). */
  clickProbabilities(ctx: ClickContext): Promise<Record<string, number>>;
}
