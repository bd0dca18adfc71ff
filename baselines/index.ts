/**
 * The two baselines the LLM-Auction paper compares with, as wrappers around another rule:
 * MOSAIC (post-generation aggregation of N candidates) and pre-generation GSP (a position auction
 * that decides which ads the Ad-LLM may use). See baselines/README.md.
 */
import { formatSpec, parseSpec, type MechanismSpec } from '../mechanism/spec.ts';
import type { AllocationRule } from '../mechanism/types.ts';
import { GspRule, type QualityFunction } from './gsp.ts';
import { MosaicRule, type CtrFunction, type MosaicConfigInput } from './mosaic.ts';

export * from './gsp.ts';
export * from './mosaic.ts';
export * from './mosaic-payment.ts';

/**
 * The name a wrapper spec's rule goes by: `mosaic:INNER?n=N` or `gsp:INNER?k=K`, the canonical
 * spec text (so `mosaic:embedded:pretrained` is named `mosaic:embedded:pretrained?n=20`). With
 * `innerName`, the inner part is that name instead of the inner spec's text, which is what the
 * rules call themselves (`new MosaicRule(inner, …).name`). A spec that is no wrapper gives its
 * canonical text.
 */
export function wrapperName(spec: MechanismSpec | string, innerName?: string): string {
  const s = typeof spec === 'string' ? parseSpec(spec) : spec;
  if (s.kind === 'mosaic') return `mosaic:${innerName ?? formatSpec(s.inner)}?n=${s.n}`;
  if (s.kind === 'gsp') return `gsp:${innerName ?? formatSpec(s.inner)}?k=${s.k}`;
  return formatSpec(s);
}

export interface WrapOptions {
  /** MOSAIC's reward model (required for `mosaic:`): pCTR, or `oracleCtr(user)`. */
  ctr?: CtrFunction;
  /** MOSAIC's settings other than n (beta, reward, payment). */
  mosaic?: Omit<MosaicConfigInput, 'n'>;
  /** GSP's quality model (default: `relevanceQuality()`). */
  quality?: QualityFunction;
}

/** Build the rule of a `mosaic:` or `gsp:` spec around its already resolved inner rule. */
export function wrapRule(spec: Extract<MechanismSpec, { kind: 'mosaic' | 'gsp' }>, inner: AllocationRule, opts: WrapOptions = {}): AllocationRule {
  if (spec.kind === 'gsp') return new GspRule(inner, { k: spec.k }, opts.quality);
  if (!opts.ctr) throw new Error(`${wrapperName(spec)}: MOSAIC needs a reward model (ctr function) to score its candidates`);
  return new MosaicRule(inner, opts.ctr, { ...opts.mosaic, n: spec.n });
}

/** Inner generations behind one response of a rule (1 unless a wrapper says otherwise). */
export function generationsPerResponse(rule: AllocationRule): number {
  const g = rule.generationsPerResponse;
  return g !== undefined && g > 0 ? g : 1;
}
