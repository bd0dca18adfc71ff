/**
 * Allocation continuity (Thm. 4.3): itctr_i changes without jumps as the focal bid sweeps 1..100.
 *
 * Definition used here, on the ad's own scale. Bids are integers, so "continuous" needs a scale,
 * and the curve supplies it: S = itctr_i(1) + itctr_i(100), the level at the two ends of the sweep.
 * A jump is one step b -> b + 1 that moves itctr_i by more than a share kappa (default 0.3) of S:
 *
 *     |itctr_i(b + 1) - itctr_i(b)| > kappa (itctr_i(1) + itctr_i(100)).
 *
 * Why this scale and this kappa. A slot auction, where the ad either holds the slot or not, moves
 * itctr_i by its whole level at one bid: the step is S (from 0 to S), a ratio of 1, whatever the
 * ad's click rate. A logistic ramp from 10% to 90% over w bids moves at most about 1.1/w of its
 * range per bid: 0.07 for w = 15, 0.02 for the paper's Figure 4(b)-like curves; even where only
 * the ramp's exponential tail lies inside 1..100, a step changes itctr by at most 1 - exp(-4.4/w)
 * of itctr(b + 1) <= S, i.e. 0.25 for w = 15. kappa = 0.3 sits above every such ramp and far
 * below a step. The ratio does not depend on how clickable the ad is, unlike a threshold in
 * absolute itctr (a step of a 5%-clicked ad moves itctr by 0.05 and hides under 0.15).
 * A curve that is 0 at both ends and lives only in the middle has S = 0 and fails: a bump that
 * rises and falls inside the sweep has no scale to be smooth against.
 *
 * Comparisons: the 99 adjacent pairs of the sweep, each two-sided, so 198 per case, the same grid
 * as the paper's continuity experiment (section 5.4.2: one query, one ad, bid 1..100). With
 * U = x(b+1) - x(b) - kappa (x(1) + x(100)) and W = x(b) - x(b+1) - kappa (x(1) + x(100)), both in
 * [-1 - 2 kappa, 1] and paired within a batch:
 * - Sampled: fail tests H0 E[U] <= 0 and H0 E[W] <= 0 at alpha / (cases * 198); pass tests
 *   H0 E[U + effect S] >= 0 and H0 E[W + effect S] >= 0 at alpha (both must reject), so pass
 *   rules out steps above (kappa - effect) S (default 0.2 S) and [0.2 S, 0.3 S] is the
 *   indifference zone. The betting tests need only the bounds, so they apply unchanged.
 * - Exact: fail when some |itctr(b+1) - itctr(b)| > kappa S (plus floating-point tolerance).
 */
import { type Comparison, type ComparisonState, pairedSummary, runSequentialCase } from './case-loop.ts';
import { CONTINUITY_GRID, gridPassNote, runOnGrid } from './grid.ts';
import { runWeightedCase, type WeightedComparison, type WeightedObs } from './weighted.ts';
import { curveStep, focalPrefix, listOf, num } from './evidence.ts';
import { FULL_GRID, SCALE_BIDS } from './monotonicity.ts';
import { type ArmData, armSummary, exactCurve } from './sampling.ts';
import { BettingTest } from './sequential.ts';
import { DEFAULT_CONTINUITY_BUDGET, type PropertyCheck } from './types.ts';
import { type CaseContext, type CaseOutcome, exactOutcome, plannedProperty } from './verdict.ts';
import { round } from '../lib/numbers.ts';

/**
 * A step tested both ways: `up` and `down` look for a move beyond the allowed jump (a fail), `eqUp`
 * and `eqDown` for one within kappa - effect of the scale (a pass, once both have rejected).
 * StepComparison and WeightedStep differ only in what they feed these four tests.
 */
abstract class TwoSidedStep {
  protected abstract readonly up: BettingTest; // H0 E[U] <= 0
  protected abstract readonly down: BettingTest; // H0 E[W] <= 0
  protected abstract readonly eqUp: BettingTest; // H0 E[U + effect S] >= 0, fed -(U + effect S)
  protected abstract readonly eqDown: BettingTest;
  private upPassed = false;
  private downPassed = false;

  decide(alphaFail: number, alphaPass: number): ComparisonState {
    if (this.up.rejects(alphaFail) || this.down.rejects(alphaFail)) return 'fail';
    this.upPassed ||= this.eqUp.rejects(alphaPass);
    this.downPassed ||= this.eqDown.rejects(alphaPass);
    return this.upPassed && this.downPassed ? 'pass' : 'open';
  }

  count(): number {
    return this.up.count;
  }

  failP(): number {
    return Math.min(this.up.pValue(), this.down.pValue());
  }

  violationWealth(): number {
    return Math.max(this.up.wealth, this.down.wealth);
  }

  passP(): number {
    return Math.max(this.eqUp.pValue(), this.eqDown.pValue());
  }
}

/**
 * One gap b -> b2 of the grid (b2 = b + 1 on the full design). Fail: the curve moves across it by
 * more than (b2 - b) kappa S, so some single step inside moves by more than kappa S. Pass: it
 * moves by less than (kappa - effect) S.
 */
class StepComparison extends TwoSidedStep implements Comparison {
  readonly bids: readonly number[];
  private readonly steps: number[] = [];
  private readonly scales: number[] = [];
  protected readonly up: BettingTest;
  protected readonly down: BettingTest;
  protected readonly eqUp: BettingTest;
  protected readonly eqDown: BettingTest;
  private readonly jump: number;

  constructor(
    readonly b: number,
    readonly b2: number,
    private readonly focal: number,
    private readonly kappa: number,
    private readonly effect: number,
  ) {
    super();
    this.bids = [...new Set([b, b2, ...SCALE_BIDS])];
    this.jump = (b2 - b) * kappa;
    this.up = new BettingTest(0, -1 - 2 * this.jump);
    this.down = new BettingTest(0, -1 - 2 * this.jump);
    // U + effect S = step - (kappa - effect) S <= 1, so its negation is >= -1.
    this.eqUp = new BettingTest(0, -1);
    this.eqDown = new BettingTest(0, -1);
  }

  observe(j: number, batch: (bid: number) => ArmData): void {
    const x = (bid: number) => batch(bid).x[this.focal]![j]!;
    const d = x(this.b2) - x(this.b);
    const s = x(SCALE_BIDS[0]!) + x(SCALE_BIDS[1]!);
    this.steps.push(d);
    this.scales.push(s);
    this.up.push(d - this.jump * s);
    this.down.push(-d - this.jump * s);
    this.eqUp.push(-(d - (this.kappa - this.effect) * s));
    this.eqDown.push(-(-d - (this.kappa - this.effect) * s));
  }

  evidence(arm: (bid: number) => ArmData): Record<string, unknown> {
    const d = pairedSummary(this.steps);
    const s = pairedSummary(this.scales);
    const [a, b] = [armSummary(arm(this.b), this.focal), armSummary(arm(this.b2), this.focal)];
    return {
      bids: [this.b, this.b2],
      itctr: [a, b],
      exposure: [a.exposure, b.exposure],
      change: d.mean,
      change_ci95: d.ci95,
      scale: s.mean,
      step_share: s.mean > 0 ? round(Math.abs(d.mean) / s.mean) : null,
      kappa: this.kappa,
    };
  }
}

/** The same gap on the weighted design (weighted.ts): bounds G times the unweighted ones. */
class WeightedStep extends TwoSidedStep implements WeightedComparison {
  protected readonly up: BettingTest;
  protected readonly down: BettingTest;
  protected readonly eqUp: BettingTest;
  protected readonly eqDown: BettingTest;
  private readonly jump: number;
  private readonly last: number;

  constructor(
    private readonly a: number,
    private readonly grid: readonly number[],
    private readonly kappa: number,
    private readonly effect: number,
  ) {
    super();
    const G = grid.length;
    this.last = G - 1;
    this.jump = (grid[a + 1]! - grid[a]!) * kappa;
    // U = x (w_{a+1} - w_a - jump (w_0 + w_last)) >= -(1 + jump) G since the weights sum to G.
    this.up = new BettingTest(0, -(1 + this.jump) * G);
    this.down = new BettingTest(0, -(1 + this.jump) * G);
    // -(d - (kappa - effect) s) >= -x w_{a+1} >= -G, and likewise down.
    this.eqUp = new BettingTest(0, -G);
    this.eqDown = new BettingTest(0, -G);
  }

  observe(o: WeightedObs): void {
    const d = o.x * (o.w[this.a + 1]! - o.w[this.a]!);
    const s = o.x * (o.w[0]! + o.w[this.last]!);
    this.up.push(d - this.jump * s);
    this.down.push(-d - this.jump * s);
    this.eqUp.push(-(d - (this.kappa - this.effect) * s));
    this.eqDown.push(d + (this.kappa - this.effect) * s);
  }

  evidence(est: (g: number, what: 'x' | 'e') => number): Record<string, unknown> {
    const [v0, v1] = [est(this.a, 'x'), est(this.a + 1, 'x')];
    const scale = est(0, 'x') + est(this.last, 'x');
    return {
      bids: [this.grid[this.a], this.grid[this.a + 1]],
      itctr: [round(v0), round(v1)],
      exposure: [round(est(this.a, 'e')), round(est(this.a + 1, 'e'))],
      change: round(v1 - v0),
      scale: round(scale),
      step_share: scale > 0 ? round(Math.abs(v1 - v0) / scale) : null,
      kappa: this.kappa,
    };
  }
}

/** The largest adjacent step of a curve on 1..100 and its share of the scale v(1) + v(100). */
export function largestStep(v: readonly number[]): { k: number; change: number; scale: number; share: number } {
  let k = 0;
  for (let j = 1; j < v.length - 1; j++) if (Math.abs(v[j + 1]! - v[j]!) > Math.abs(v[k + 1]! - v[k]!)) k = j;
  const change = v[k + 1]! - v[k]!;
  const scale = v[0]! + v[v.length - 1]!;
  return { k, change, scale, share: scale > 0 ? Math.abs(change) / scale : change === 0 ? 0 : Number.POSITIVE_INFINITY };
}

async function exactCase(ctx: CaseContext): Promise<CaseOutcome> {
  const { c, opts } = ctx;
  const { itctr: v, exposure: e, responses } = await exactCurve(ctx.m, c.instance, c.focal, FULL_GRID);
  const { k, change, scale, share } = largestStep(v);
  const fail = Math.abs(change) > opts.kappa * scale + opts.tolerance * Math.max(...v) + 1e-15;
  return exactOutcome(fail, responses, {
    bids: [FULL_GRID[k], FULL_GRID[k + 1]],
    itctr: [round(v[k]!, 6), round(v[k + 1]!, 6)],
    exposure: [round(e[k]!, 6), round(e[k + 1]!, 6)],
    change: round(change, 6),
    scale: round(scale, 6),
    step_share: Number.isFinite(share) ? round(share, 4) : null,
    kappa: opts.kappa,
    exact: true,
  });
}

export const continuitySpec = plannedProperty({
  name: 'continuity',
  description: "Thm. 4.3: no step b -> b+1 moves itctr by more than kappa x (itctr(1) + itctr(100)), the curve's own scale",
  defaultCases: 5,
  defaultBudget: DEFAULT_CONTINUITY_BUDGET,
  // At most 99 gaps whatever grid the pilot picks: the Bonferroni denominator is fixed up front.
  comparisons: () => 2 * (FULL_GRID.length - 1),
  async runCase(ctx) {
    if (ctx.mode === 'exact') return exactCase(ctx);
    const { opts } = ctx;
    if (!(opts.effect < opts.kappa)) throw new RangeError(`continuity: effect (${opts.effect}) must be below kappa (${opts.kappa})`);
    return runOnGrid(ctx, CONTINUITY_GRID, FULL_GRID, {
      // 100 arms: a pair that just missed settling in the first 16 (one discordant response) needs
      // only a few more, so later batches may be as small as 8; that alone saves ~10% per curve.
      crn: (cx, grid) => runSequentialCase(cx, ctx.c.focal, grid.slice(0, -1).map((b, k) => new StepComparison(b, grid[k + 1]!, ctx.c.focal, opts.kappa, opts.effect)), { first: 16, floor: 8 }),
      weighted: (cx, grid, lp) => runWeightedCase(cx, grid, grid.slice(0, -1).map((_, k) => new WeightedStep(k, grid, opts.kappa, opts.effect)), lp),
    });
  },
  notes: (mode, _m, opts) => [
    `a jump is a step between adjacent integer bids larger than ${opts.kappa} x (itctr(1) + itctr(100)), the curve's own scale`,
    mode === 'exact'
      ? 'exact itctr (enumerate)'
      : opts.bidGrid === 'full'
        ? `pass rules out steps above ${round(opts.kappa - opts.effect)} x (itctr(1) + itctr(100)) at every bid`
        : `grid per case chosen by a pilot on its own seed (case_grids): pass rules out a move above ${round(opts.kappa - opts.effect)} x (itctr(1) + itctr(100)) between adjacent grid bids, ` +
          'hence any step above it where the curve is monotone between them; not ruled out: a bump or dip narrower than a grid gap that returns within it (--grid full tests every step); ' +
          `fail: a move above w x ${opts.kappa} x (itctr(1) + itctr(100)) across a gap of w bids, so some single step exceeds the jump`,
  ],
  passNote: (v) => gridPassNote(v),
  evidence: (ev) => {
    const bids = listOf(ev.bids);
    if (!bids) return '';
    return `${focalPrefix(ev)}bid ${bids[0]} -> ${bids[1]}: ${curveStep(ev)}, step ${num(ev.step_share)} of the curve's scale (jump > kappa ${num(ev.kappa)})`;
  },
});

/** Thm. 4.3 as a test: see the module comment for the definition of a jump. */
export const continuity: PropertyCheck = continuitySpec.check;
