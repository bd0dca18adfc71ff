/**
 * Allocation continuity (Thm. 4.3): itctr_i changes without jumps as the focal bid sweeps 1..100.
 *
 * Definition used here. Bids are integers, so "continuous" needs a scale: a jump is a change of
 * itctr_i larger than `jump` (default 0.15, absolute) between adjacent bids b and b + 1. It is a
 * Lipschitz-style bound at step 1: a position auction, where an ad either holds a slot or not,
 * moves itctr_i by the ad's whole click rate (0.3 and up in practice) at one bid, while a smooth
 * rule, even a steep one going from 10% to 90% exposure over ten bids, moves it by a few hundredths
 * per bid. The violation size is |Δ| - jump, so `pass` rules out adjacent changes of
 * jump + effect (default 0.20) or more, and `fail` shows one above jump.
 *
 * Comparisons: the 99 adjacent pairs of the sweep, each two-sided, so 198 per case, the same grid
 * as the paper's continuity experiment (section 5.4.2: one query, one ad, bid 1..100).
 * - Sampled: fail tests H0 Δ <= jump and H0 -Δ <= jump at alpha / (cases * 198); equivalence
 *   tests H0 Δ >= jump + effect and H0 -Δ >= jump + effect at alpha each (both must reject).
 *   With common random numbers a smooth rule's adjacent differences are mostly exactly zero, and
 *   each adjacent pair is settled in 16 to 24 responses per bid, so a whole curve costs under
 *   2,000 responses against the paper's 20,000.
 * - Exact: fail when some adjacent change exceeds jump (plus the tolerance).
 *
 * Power at the defaults (alpha 0.05, jump 0.15, effect 0.05, budget 20,000, 5 cases, about
 * 4,000 per case), measured by benchmarks/verify-samples.ts over 20 seeds on minimal:jump (one
 * step of exactly 0.20 = jump + effect at bid 50; ctr 0.5) with a backend that honours seeds:
 * detected in 100% of runs, by the first case alone in ~95%, after about 2,600 responses for
 * that case; correct rules (including the steep one) pass after ~1,800-1,900 per case, against
 * the paper's 20,000 (which has 0.4% power against that step at this alpha and would need
 * ~380,000 for 90%). Without common random numbers nothing settles at the default budget; about
 * 60,000 responses make correct rules pass.
 */
import { runProperty, type CaseContext, type CaseOutcome, type PropertySpec } from './driver.ts';
import { FULL_GRID } from './monotonicity.ts';
import { type Comparison, pairedSummary, runSequentialCase } from './runner.ts';
import { type ArmData, armSummary, ExactEvaluator, round } from './sampling.ts';
import { BettingTest } from './sequential.ts';
import type { CheckOptions, MechanismUnderTest, Verdict } from './types.ts';

class StepComparison implements Comparison {
  readonly bids: readonly number[];
  private readonly diffs: number[] = [];
  // Δ = itctr(b+1) - itctr(b), with Δ in [-1, 1].
  private readonly up: BettingTest; // H0 Δ <= jump
  private readonly down: BettingTest; // H0 -Δ <= jump
  private readonly eqUp: BettingTest; // H0 Δ >= jump + effect, i.e. E[-Δ] <= -(jump + effect)
  private readonly eqDown: BettingTest; // H0 -Δ >= jump + effect, i.e. E[Δ] <= -(jump + effect)
  private upPassed = false;
  private downPassed = false;

  constructor(
    readonly b: number,
    private readonly focal: number,
    private readonly jump: number,
    effect: number,
  ) {
    this.bids = [b, b + 1];
    this.up = new BettingTest(jump, -1);
    this.down = new BettingTest(jump, -1);
    this.eqUp = new BettingTest(-(jump + effect), -1);
    this.eqDown = new BettingTest(-(jump + effect), -1);
  }

  observe(j: number, batch: (bid: number) => ArmData): void {
    const d = batch(this.b + 1).x[this.focal]![j]! - batch(this.b).x[this.focal]![j]!;
    this.diffs.push(d);
    this.up.push(d);
    this.down.push(-d);
    this.eqUp.push(-d);
    this.eqDown.push(d);
  }

  decide(alphaFail: number, alphaPass: number) {
    if (this.up.rejects(alphaFail) || this.down.rejects(alphaFail)) return 'fail' as const;
    this.upPassed ||= this.eqUp.rejects(alphaPass);
    this.downPassed ||= this.eqDown.rejects(alphaPass);
    return this.upPassed && this.downPassed ? ('pass' as const) : ('open' as const);
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

  evidence(arm: (bid: number) => ArmData): Record<string, unknown> {
    const d = pairedSummary(this.diffs);
    return {
      bids: [this.b, this.b + 1],
      itctr: [armSummary(arm(this.b), this.focal), armSummary(arm(this.b + 1), this.focal)],
      change: d.mean,
      change_ci95: d.ci95,
      jump: this.jump,
    };
  }
}

async function exactCase(ctx: CaseContext): Promise<CaseOutcome> {
  const { c, opts } = ctx;
  const ev = new ExactEvaluator(ctx.m, c.instance, c.focal);
  const v = (await ev.sweep(FULL_GRID)).map((p) => p.itctr[c.focal]!);
  let k = 0;
  for (let j = 1; j < v.length - 1; j++) if (Math.abs(v[j + 1]! - v[j]!) > Math.abs(v[k + 1]! - v[k]!)) k = j;
  const change = v[k + 1]! - v[k]!;
  const fail = Math.abs(change) > opts.jump + opts.tolerance;
  return {
    status: fail ? 'fail' : 'pass',
    failP: fail ? 0 : 1,
    passP: fail ? 1 : 0,
    samples: ev.responses,
    evidence: { bids: [FULL_GRID[k], FULL_GRID[k + 1]], itctr: [round(v[k]!, 6), round(v[k + 1]!, 6)], change: round(change, 6), jump: opts.jump, exact: true },
  };
}

export const continuitySpec: PropertySpec = {
  name: 'continuity',
  defaultCases: 5,
  comparisons: () => 2 * (FULL_GRID.length - 1),
  async runCase(ctx) {
    if (ctx.mode === 'exact') return exactCase(ctx);
    const comps = FULL_GRID.slice(0, -1).map((b) => new StepComparison(b, ctx.c.focal, ctx.opts.jump, ctx.opts.effect));
    // 100 arms: a pair that just missed settling in the first 16 (one discordant response) needs
    // only a few more, so later batches may be as small as 8; that alone saves ~10% per curve.
    return runSequentialCase(ctx, ctx.c.focal, comps, { first: 16, floor: 8 });
  },
  notes: (mode, _m, opts) => [
    `a jump is an itctr change above ${opts.jump} between adjacent integer bids (1..100)`,
    mode === 'exact' ? 'exact itctr (enumerate)' : `pass rules out adjacent changes >= ${round(opts.jump + opts.effect)} at every bid`,
  ],
};

/** Thm. 4.3 as a test: see the module comment for the definition of a jump and the power. */
export function continuity(m: MechanismUnderTest, opts?: CheckOptions): Promise<Verdict> {
  return runProperty(continuitySpec, m, opts);
}
