/**
 * The two baselines the LLM-Auction paper compares with, as wrappers around another rule:
 * MOSAIC (post-generation aggregation of N candidates) and pre-generation GSP (a position auction
 * that decides which ads the Ad-LLM may use). See baselines/README.md.
 */
import type { AllocationRule } from '../mechanism/types.ts';
import { GspRule, type QualityFunction } from './gsp.ts';
import { MosaicRule, type CtrFunction, type MosaicConfigInput } from './mosaic.ts';

export * from './gsp.ts';
export * from './mosaic.ts';
export * from './mosaic-payment.ts';

export interface WrapOptions {
  /** MOSAIC's reward model (required for `mosaic:`): a pCTR model learned from logs, or `oracleCtr(user)` for the oracle reference. */
  ctr?: CtrFunction;
  /** MOSAIC's settings other than n (beta, reward, payment). */
  mosaic?: Omit<MosaicConfigInput, 'n'>;
  /** GSP's quality model (default: `relevanceQuality()`, a hand-set prior; `gsp:` specs pass a pCTR model learned from logs, or `oracleQuality(user)`). */
  quality?: QualityFunction;
}

/** Build the rule of a `mosaic:` or `gsp:` spec around its already resolved inner rule. */
export function wrapRule(spec: { kind: 'mosaic'; n: number } | { kind: 'gsp'; k: number }, inner: AllocationRule, opts: WrapOptions = {}): AllocationRule {
  if (spec.kind === 'gsp') return new GspRule(inner, { k: spec.k }, opts.quality);
  if (!opts.ctr) throw new Error(`mosaic:${inner.name}?n=${spec.n}: MOSAIC needs a reward model (ctr function) to score its candidates`);
  return new MosaicRule(inner, opts.ctr, { ...opts.mosaic, n: spec.n });
}

/** Inner generations behind one response of a rule (1 unless a wrapper says otherwise). */
export function generationsPerResponse(rule: AllocationRule): number {
  const g = rule.generationsPerResponse;
  return g !== undefined && g > 0 ? g : 1;
}
