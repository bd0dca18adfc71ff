/**
 * What a mechanism kind is: its text form (mechanism/spec.ts does the shared grammar), how its
 * spec becomes a running allocation rule, and what Table 2 calls it. Each built-in kind is one file
 * in this folder, listed once in index.ts; one defined elsewhere joins with registerMechanismKind.
 */
import type { ClickModel } from '../../mechanism/click-model.ts';
import type { KindGrammar, SpecNode } from '../../mechanism/spec.ts';
import type { AllocationRule, AuctionInput } from '../../mechanism/types.ts';

/**
 * The spec a wrapper (gsp:, mosaic:, …) holds inside: any kind's. Typed here, not as index.ts's
 * union of every kind, so that a kind's file never imports the list that imports it.
 */
export type InnerSpec = SpecNode & { readonly [field: string]: unknown };

export interface ResolveContext {
  /** The user who clicks, when not the embedded world's (MOSAIC's oracle and the ceilings read it). */
  user?: ClickModel;
  worldSeed?: number;
  /** Extra starting thetas of best-in-class's ascent (rules of the same class on the bench). */
  classStarts?: readonly ArrayLike<number>[];
  /** The auctions best-in-class is fitted on: a bench's own (default: 200 training queries of the world). */
  classAuctions?: readonly AuctionInput[];
  /** A wrapped spec's rule, resolved with this same context. */
  resolveInner(inner: SpecNode): Promise<AllocationRule>;
}

export interface LabelContext {
  /** A wrapped spec's label. */
  labelInner(inner: SpecNode): string;
}

export interface PromptOnlyContext {
  /** Whether a wrapped spec reads only the prompt. */
  promptOnlyInner(inner: SpecNode): boolean;
}

export interface MechanismKind<S extends SpecNode> extends KindGrammar<S> {
  resolve(spec: S, ctx: ResolveContext): Promise<AllocationRule>;
  /** What the paper would call the mechanism: "Pretrained LLM", "LLM-Auction (pCTR)", "MOSAIC (n=20)"… */
  label(spec: S, ctx: LabelContext): string;
  /**
   * Whether the mechanism reads only the prompt (question, profile, ads and bids): no clicks, no
   * click logs, no reward model fitted to them, no user model. Table 2's gap closed is measured
   * from the strongest such row (evaluation/gap.ts). Absent: false. A wrapper asks about its inner
   * rule with `ctx.promptOnlyInner`.
   */
  promptOnly?(spec: S, ctx: PromptOnlyContext): boolean;
}
