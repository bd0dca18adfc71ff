/**
 * Allocation monotonicity (Def. 3.2): raising ad i's bid, the others fixed, never lowers itctr_i.
 *
 * Definition used here, on the ad's own scale. For bids b < b' a violation is a relative dip
 * larger than rho (default 0.1):
 *
 *     itctr_i(b') < (1 - rho) itctr_i(b),   i.e.   E[(1 - rho) x(b) - x(b')] > 0,
 *
 * with x one draw of itctr (a click, or the click probability of one response; see sampling.ts).
 * Relative, so a 50% dip is a violation whether the ad is clicked 2% or 80% of the time when shown;
 * an absolute threshold in itctr units would let every dip of a rarely clicked ad through.
 *
 * `pass` needs a scale for the places where itctr is near zero (a dip from 0 to 0 is no dip and no
 * evidence either). The scale is the curve's own: S = itctr_i(1) + itctr_i(100). Each pair passes
 * when E[(1 - rho) x(b) - x(b') - effect (x(1) + x(100))] < 0 is shown, i.e. no relative dip above
 * rho beyond a share `effect` (default 0.1) of the curve's scale. Both are bounded paired means,
 * so the anytime-valid betting tests apply unchanged. An ad that is never clicked at any bid gives
 * no evidence either way and its case stays open (inconclusive), which is what a sample can say.
 *
 * Cases: auctions from the mechanism's generator with a focal ad i. For each case the focal bid
 * takes the values of a grid G, and every pair b < b' of G is a planned comparison. All pairs,
 * not only neighbours: a decline spread over several grid steps is large between its ends.
 *
 * - Sampled: G = {1, 10, 20, ..., 100}, the paper's bid-perturbation grid (section 5.4.1), so 55
 *   comparisons per case. Fail test H0 E[(1-rho) x(b) - x(b')] <= 0 at alpha / (cases * 55);
 *   pass test (above) at alpha. Both anytime-valid (sequential.ts).
 * - Exact (enumerate): G = 1..100, every pair; fail when max (1 - rho) itctr(b) - itctr(b') exceeds
 *   `tolerance` times the curve's maximum (floating point), pass otherwise. Deterministic.
 *
 * Power, false alarms and samples to a verdict at click rates 0.02 to 0.8 are measured by
 * benchmarks/verify-samples.ts (table in properties/README.md).
 */
import { type Comparison, PairComparison, pairedSummary, runSequentialCase } from './case-loop.ts';
import { gridPassNote, MONOTONICITY_GRID, runOnGrid } from './grid.ts';
import { runWeightedCase, type WeightedComparison, type WeightedObs } from './weighted.ts';
import { curveStep, focalPrefix, listOf, num } from './evidence.ts';
import { type ArmData, armSummary, exactCurve } from './sampling.ts';
import { BettingTest } from './sequential.ts';
import type { PropertyCheck } from './types.ts';
import { type CaseContext, type CaseOutcome, exactOutcome, plannedProperty } from './verdict.ts';
import { round } from '../lib/numbers.ts';

/** The paper's grid {1, 10, 20, ..., 100}. */
export const PAPER_GRID: readonly number[] = [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
export const FULL_GRID: readonly number[] = Array.from({ length: 100 }, (_, k) => k + 1);
/** The ends of the sweep: their itctr sum is the scale S of a focal ad's curve. */
export const SCALE_BIDS: readonly number[] = [1, 100];

class DipComparison extends PairComparison implements Comparison {
  readonly bids: readonly number[];
  readonly extraBids: readonly number[];
  /** H0 E[D] <= 0 with D = (1 - rho) x(lo) - x(hi) in [-1, 1 - rho]. */
  protected readonly violation = new BettingTest(0, -1);
  /** H0 E[-Y] <= 0 with Y = D - effect (x(1) + x(100)), -Y >= -(1 - rho). */
  protected readonly equivalence: BettingTest;
  private readonly diffs: number[] = [];

  constructor(
    readonly lo: number,
    readonly hi: number,
    private readonly focal: number,
    private readonly rho: number,
    private readonly effect: number,
  ) {
    super();
    this.bids = [lo, hi];
    this.extraBids = SCALE_BIDS.filter((b) => b !== lo && b !== hi);
    this.equivalence = new BettingTest(0, -(1 - rho));
  }

  observe(j: number, batch: (bid: number) => ArmData, has: (bid: number) => boolean): void {
    const x = (bid: number) => batch(bid).x[this.focal]![j]!;
    const d = (1 - this.rho) * x(this.lo) - x(this.hi);
    this.diffs.push(d);
    this.violation.push(d);
    if (SCALE_BIDS.every(has)) this.equivalence.push(-(d - this.effect * (x(SCALE_BIDS[0]!) + x(SCALE_BIDS[1]!))));
  }

  evidence(arm: (bid: number) => ArmData): Record<string, unknown> {
    const d = pairedSummary(this.diffs);
    const [a, b] = [armSummary(arm(this.lo), this.focal), armSummary(arm(this.hi), this.focal)];
    return {
      bids: [this.lo, this.hi],
      itctr: [a, b],
      exposure: [a.exposure, b.exposure],
      relative_dip: a.itctr > 0 ? round(1 - b.itctr / a.itctr) : null,
      rho: this.rho,
      excess_dip: d.mean,
      excess_dip_ci95: d.ci95,
    };
  }
}

/** The same pair on the weighted design (weighted.ts): bounds G times the unweighted ones. */
class WeightedDip extends PairComparison implements WeightedComparison {
  /** H0 E[D] <= 0, D = x ((1 - rho) w_a - w_b) >= -G. */
  protected readonly violation: BettingTest;
  /** H0 E[-Y] <= 0, Y = D - effect x (w_0 + w_last); -Y >= -(1 - rho) G. */
  protected readonly equivalence: BettingTest;
  private readonly last: number;

  constructor(
    private readonly a: number,
    private readonly b: number,
    private readonly grid: readonly number[],
    private readonly rho: number,
    private readonly effect: number,
  ) {
    super();
    const G = grid.length;
    this.last = G - 1;
    this.violation = new BettingTest(0, -G);
    this.equivalence = new BettingTest(0, -(1 - rho) * G);
  }

  observe(o: WeightedObs): void {
    const d = o.x * ((1 - this.rho) * o.w[this.a]! - o.w[this.b]!);
    this.violation.push(d);
    this.equivalence.push(-(d - this.effect * o.x * (o.w[0]! + o.w[this.last]!)));
  }

  evidence(est: (g: number, what: 'x' | 'e') => number): Record<string, unknown> {
    const [v0, v1] = [est(this.a, 'x'), est(this.b, 'x')];
    return {
      bids: [this.grid[this.a], this.grid[this.b]],
      itctr: [round(v0), round(v1)],
      exposure: [round(est(this.a, 'e')), round(est(this.b, 'e'))],
      relative_dip: v0 > 0 ? round(1 - v1 / v0) : null,
      rho: this.rho,
      excess_dip: round((1 - this.rho) * v0 - v1),
    };
  }
}

/** The largest excess dip (1 - rho) v(b) - v(b') over b < b' of a curve, with its bids. */
export function largestExcessDip(v: readonly number[], rho: number): { excess: number; lo: number; hi: number } {
  let best = { excess: Number.NEGATIVE_INFINITY, lo: 0, hi: 0 };
  let argmax = 0;
  for (let k = 1; k < v.length; k++) {
    if (v[k - 1]! > v[argmax]!) argmax = k - 1;
    const excess = (1 - rho) * v[argmax]! - v[k]!;
    if (excess > best.excess) best = { excess, lo: argmax, hi: k };
  }
  return best;
}

async function exactCase(ctx: CaseContext): Promise<CaseOutcome> {
  const { c, opts } = ctx;
  const { itctr: v, exposure: e, responses } = await exactCurve(ctx.m, c.instance, c.focal, FULL_GRID);
  const best = largestExcessDip(v, opts.rho);
  const fail = best.excess > opts.tolerance * Math.max(...v) + 1e-15;
  const lo = v[best.lo]!;
  return exactOutcome(fail, responses, {
    bids: [FULL_GRID[best.lo], FULL_GRID[best.hi]],
    itctr: [round(lo, 6), round(v[best.hi]!, 6)],
    exposure: [round(e[best.lo]!, 6), round(e[best.hi]!, 6)],
    relative_dip: lo > 0 ? round(1 - v[best.hi]! / lo, 6) : null,
    rho: opts.rho,
    excess_dip: round(best.excess, 6),
    exact: true,
  });
}

export const monotonicitySpec = plannedProperty({
  name: 'monotonicity',
  description: "Def. 3.2: raising an ad's bid never lowers its itctr by more than a share rho (relative dip)",
  defaultCases: 10,
  // Sampled on a pilot's grid: at most MONOTONICITY_GRID.maxPoints bids, so at most that many pairs
  // whatever the pilot picks (the Bonferroni denominator is fixed before sampling).
  comparisons: (mode, opts) => {
    const g = mode === 'exact' ? FULL_GRID.length : opts.bidGrid === 'full' ? PAPER_GRID.length : Math.max(PAPER_GRID.length, MONOTONICITY_GRID.maxPoints);
    return (g * (g - 1)) / 2;
  },
  async runCase(ctx) {
    if (ctx.mode === 'exact') return exactCase(ctx);
    const pairs = (grid: readonly number[]) => grid.flatMap((_, a) => grid.slice(a + 1).map((_, k) => [a, a + 1 + k] as const));
    const { rho, effect } = ctx.opts;
    return runOnGrid(ctx, MONOTONICITY_GRID, PAPER_GRID, {
      crn: (cx, grid) => runSequentialCase(cx, ctx.c.focal, pairs(grid).map(([a, b]) => new DipComparison(grid[a]!, grid[b]!, ctx.c.focal, rho, effect))),
      weighted: (cx, grid, lp) => runWeightedCase(cx, grid, pairs(grid).map(([a, b]) => new WeightedDip(a, b, grid, rho, effect)), lp),
    });
  },
  notes: (mode, _m, opts) => [
    `a violation is a relative dip: itctr(b') < ${round(1 - opts.rho)} itctr(b) for some b < b'`,
    mode === 'exact'
      ? 'exact itctr on bids 1..100 (enumerate), every pair'
      : opts.bidGrid === 'full'
        ? `grid ${PAPER_GRID.join(',')}, all pairs; pass rules out relative dips above ${opts.rho} beyond ${opts.effect} x (itctr(1) + itctr(100))`
        : `grid per case chosen by a pilot on its own seed (case_grids), all pairs; pass rules out relative dips above ${opts.rho} beyond ${opts.effect} x (itctr(1) + itctr(100)) ` +
          'between any two grid bids; not ruled out: a dip narrower than a grid gap (--grid full compares 1, 10, ..., 100)',
  ],
  passNote: (v) => gridPassNote(v),
  evidence: (ev) => {
    const bids = listOf(ev.bids);
    if (!bids || !listOf(ev.itctr)) return '';
    // A negative dip is a rise: say so, so that a curve going the right way never reads as a violation.
    const dip = typeof ev.relative_dip === 'number' ? ev.relative_dip : null;
    const change = dip === null ? 'relative dip n/a' : dip < 0 ? `itctr rose by ${num(-dip)} of itctr(${bids[0]})` : `relative dip ${num(dip)}`;
    return `${focalPrefix(ev)}bid ${bids[0]} -> ${bids[1]}: ${curveStep(ev)}, ${change} (a violation is a dip above rho ${num(ev.rho)})`;
  },
});

/** Def. 3.2 as a test: see the module comment for the design and the stated power. */
export const monotonicity: PropertyCheck = monotonicitySpec.check;
