/**
 * The sequential loop of one sampled case, shared by the properties.
 *
 * A case has comparisons; each needs some arms (focal bids) and holds its own anytime-valid
 * tests. Rounds alternate between two kinds:
 *
 * - broad: one batch at every arm an undecided comparison still needs, so every comparison
 *   progresses and the easy ones (most pairs of a correct rule) settle and drop out;
 * - focus: when some undecided comparison currently holds real evidence of a violation (its
 *   violation wealth is at least FOCUS_WEALTH), a batch at that comparison's arms only, as large
 *   as the broad round's spend allows. A violation is then confirmed at the cost of its two arms
 *   instead of the whole grid.
 *
 * Alternating (rather than focusing until done) keeps a fluke from starving the other
 * comparisons: under common random numbers a fluke's wealth can stay put instead of decaying.
 *
 * Why this stays valid: every choice of what to sample next depends only on data already seen,
 * and each comparison's tests only ever see observations paired within one batch (one seed), so
 * every wealth process is still a supermartingale under its null and Ville's inequality holds at
 * whatever time the case stops. A case stops as soon as one comparison shows a violation (fail),
 * when all have shown equivalence (pass), or when its budget is spent (open).
 */
import type { CaseContext, CaseOutcome } from './verdict.ts';
import { type ArmData, type BatchPlan, CaseSampler, DEFAULT_BATCHES, nextBatch } from './sampling.ts';
import type { BettingTest } from './sequential.ts';
import { round } from '../lib/numbers.ts';
import { type ComparisonState, settleEstimate } from './weighted.ts';

export type { ComparisonState } from './weighted.ts';

/**
 * The bookkeeping of a comparison with one test per claim: the violation test decides `fail`, the
 * equivalence test decides `pass`.
 */
export abstract class PairComparison {
  protected abstract readonly violation: BettingTest;
  protected abstract readonly equivalence: BettingTest;

  decide(alphaFail: number, alphaPass: number): ComparisonState {
    if (this.violation.rejects(alphaFail)) return 'fail';
    if (this.equivalence.rejects(alphaPass)) return 'pass';
    return 'open';
  }

  count(): number {
    return this.violation.count;
  }

  failP(): number {
    return this.violation.pValue();
  }

  violationWealth(): number {
    return this.violation.wealth;
  }

  passP(): number {
    return this.equivalence.pValue();
  }
}

export interface Comparison {
  /** The focal bids whose samples this comparison needs (focus rounds draw only these). */
  readonly bids: readonly number[];
  /**
   * Further bids some of its claims read when a batch has them (the curve's scale arms for a
   * monotonicity pass claim); broad rounds draw them too.
   */
  readonly extraBids?: readonly number[];
  /**
   * Feed observation j of one batch (every arm in `bids` was drawn in it; `has` says whether an
   * arm of `extraBids` was too).
   */
  observe(j: number, batch: (bid: number) => ArmData, has: (bid: number) => boolean): void;
  /** Observations fed so far. */
  count(): number;
  /** Current decision at the given levels (monotone: once decided it stays decided). */
  decide(alphaFail: number, alphaPass: number): ComparisonState;
  /** Unadjusted anytime p-value of the violation claim. */
  failP(): number;
  /** Current wealth of the violation claim (evidence now, used to choose where to sample). */
  violationWealth(): number;
  /** Anytime p-value of the equivalence (no violation of size effect) claim. */
  passP(): number;
  /** What a counterexample shows about this comparison; `arm` gives all of an arm's responses. */
  evidence(arm: (bid: number) => ArmData): Record<string, unknown>;
}

/** Violation wealth (1/p) at which a comparison earns focus rounds. */
export const FOCUS_WEALTH = 5;

interface Tracked {
  c: Comparison;
  state: ComparisonState;
}

/** @param plan  batch sizes (see nextBatch); continuity uses a smaller floor, see there. */
export async function runSequentialCase(
  ctx: CaseContext,
  focal: number,
  comparisons: readonly Comparison[],
  plan: BatchPlan = DEFAULT_BATCHES,
): Promise<CaseOutcome> {
  const sampler = new CaseSampler(ctx.m, ctx.c.instance, focal, ctx.seed, ctx.opts.concurrency, ctx.observable, ctx.opts.clickSeeds);
  const arm = (bid: number) => sampler.arm(bid);
  const tracked: Tracked[] = comparisons.map((c) => ({ c, state: 'open' }));
  let broadCount = 0;
  let lastBroadSpend = 0;
  let focusNext = false;

  const finish = (status: CaseOutcome['status'], failing?: Tracked): CaseOutcome => {
    const failP = Math.min(1, ...tracked.map((t) => t.c.failP()));
    const passP = Math.max(0, ...tracked.map((t) => (t.state === 'pass' ? t.c.passP() : 1)));
    // The failing comparison; else an undecided one (why the case is open), the most suspicious
    // first; else the most suspicious of all.
    const rank = (t: Tracked) => (t.state === 'open' ? 0 : 1);
    const shown = failing ?? [...tracked].sort((a, b) => rank(a) - rank(b) || a.c.failP() - b.c.failP())[0];
    const evidence = shown
      ? { ...shown.c.evidence(arm), p_value_raw: round(shown.c.failP(), 6), comparisons_open: tracked.filter((t) => t.state === 'open').length }
      : undefined;
    const out: CaseOutcome = { status, failP, passP, samples: sampler.samples, ...(evidence ? { evidence } : {}) };
    if (status === 'open') out.need = settleEstimate(sampler.samples, tracked.filter((t) => t.state === 'open').map((t) => t.c), ctx.alphaPass);
    // An open case can be given more samples later and go on where it stopped (see verdict.ts).
    if (status === 'open') out.resume = (extra: number) => loop(sampler.samples + extra);
    return out;
  };

  let limit = ctx.budget;
  const loop = async (newLimit: number): Promise<CaseOutcome> => {
  limit = newLimit;
  for (;;) {
    const open = tracked.filter((t) => t.state === 'open');
    if (open.length === 0) return finish('pass');
    let lead: Tracked | undefined;
    for (const t of open) if (!lead || t.c.violationWealth() > lead.c.violationWealth()) lead = t;
    const focus: boolean = focusNext && lead !== undefined && lead.c.violationWealth() >= FOCUS_WEALTH;
    focusNext = !focus;
    const bids = focus ? [...lead!.c.bids] : [...new Set(open.flatMap((t) => [...t.c.bids, ...(t.c.extraBids ?? [])]))];
    const room = Math.floor((limit - sampler.samples) / bids.length);
    // A focus round may spend as much as the broad round before it: half the budget goes to
    // confirming the leading violation while the other comparisons keep progressing.
    // It asks for no more than the lead's growth so far says it needs to settle (with 25% slack).
    const want = focus ? focusBatch(lead!.c, ctx.alphaFail, lastBroadSpend / bids.length, plan) : nextBatch(broadCount, plan);
    const n = Math.min(want, room);
    if (n < 1) {
      // A focus round that does not fit may still leave room for a broad one, and vice versa.
      if (focus) continue;
      return finish('open');
    }
    if (!focus) {
      broadCount += n;
      lastBroadSpend = n * bids.length;
    }
    const batch = await sampler.draw(bids, n);
    const drawn = (bid: number) => batch.get(bid)!;
    for (const t of open) {
      if (!t.c.bids.every((b) => batch.has(b))) continue;
      const len = Math.min(...t.c.bids.map((b) => drawn(b).x[0]?.length ?? 0));
      const has = (b: number) => batch.has(b);
      for (let j = 0; j < len; j++) t.c.observe(j, drawn, has);
      t.state = t.c.decide(ctx.alphaFail, ctx.alphaPass);
      if (t.state === 'fail') return finish('fail', t);
    }
    ctx.progress(sampler.samples);
  }
  };
  return loop(ctx.budget);
}

/**
 * Size of a focus batch: what the comparison's wealth growth per observation so far says it needs
 * to reach 1/alphaFail, with 25% slack, between the usual next batch and `cap` (the broad round's
 * spend per arm).
 */
function focusBatch(c: Comparison, alphaFail: number, cap: number, plan: BatchPlan): number {
  const count = c.count();
  const base = nextBatch(count, plan);
  const ceiling = Math.max(base, Math.floor(cap));
  const logW = Math.log(c.violationWealth());
  const growth = logW / Math.max(1, count);
  if (!(growth > 0) || !Number.isFinite(logW)) return ceiling;
  const need = Math.ceil((1.25 * (Math.log(1 / alphaFail) - logW)) / growth);
  return Math.max(plan.floor, Math.min(need, ceiling));
}

/** Mean and a descriptive 95% normal interval of paired differences (for reports only). */
export function pairedSummary(ds: readonly number[]): { mean: number; ci95: [number, number]; n: number } {
  const n = ds.length;
  if (n === 0) return { mean: Number.NaN, ci95: [Number.NaN, Number.NaN], n };
  let s = 0;
  for (const d of ds) s += d;
  const mean = s / n;
  let v = 0;
  for (const d of ds) v += (d - mean) * (d - mean);
  const se = n > 1 ? Math.sqrt(v / (n - 1) / n) : Number.POSITIVE_INFINITY;
  return { mean: round(mean), ci95: [round(mean - 1.96 * se), round(mean + 1.96 * se)], n };
}
