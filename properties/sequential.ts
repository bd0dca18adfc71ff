/**
 * Anytime-valid one-sided tests for the mean of a bounded variable, by betting.
 *
 * Why this design: the checks sample in batches and stop as soon as the answer is clear, look at
 * many comparisons at once, and see variables (a paired itctr difference under common random
 * numbers) that are zero most of the time. A fixed-n z-test is invalid under optional stopping and
 * badly calibrated when most observations are zero (a zero sample variance "proves" anything).
 * A test by betting (Waudby-Smith & Ramdas, "Estimating means of bounded random variables by
 * betting", JRSS-B 2024; Shafer & Vovk's game-theoretic testing) has neither problem:
 *
 *   H0: E[Y] <= m, with Y in [lo, hi] known a priori (lo < m).
 *   Wealth K_t = prod_{s<=t} (1 + lambda_s (Y_s - m)), lambda_s in [0, 1/(m - lo)) chosen from
 *   Y_1..Y_{s-1} only. Under H0 K_t is a non-negative supermartingale, so by Ville's inequality
 *   P(sup_t K_t >= 1/a) <= a: rejecting the first time the wealth reaches 1/a is a level-a test
 *   whatever the stopping rule, and 1/sup K_t is an anytime-valid p-value.
 *
 * It needs nothing but the bounds (no normality, no variance assumption), adapts to a small
 * variance (the bet grows when the data are consistent), and for an all-zero sample it reaches
 * the exact binomial limit: about ln(1/a)/effect observations.
 *
 * The bet is aGRAPA (the approximate growth-rate-adaptive plug-in of the same paper):
 * lambda = (mu - m) / (sigma^2 + (mu - m)^2) from regularized running estimates, clipped to
 * [0, CAP/(m - lo)]. CAP < 1 keeps one extreme observation from wiping out the wealth.
 */

/** Largest fraction of the ruin bound that is ever bet (0.9: fast on clean data, still safe). */
export const BET_CAP = 0.9;

/** Slack for floating point when comparing an observation or a bound with the null mean. */
const DEGENERATE_EPS = 1e-12;

export class BettingTest {
  private logWealth = 0;
  private maxLogWealth = 0;
  private n = 0;
  private sum = 0;
  /** Sum of squared deviations from the running predictable mean (aGRAPA's variance estimate). */
  private sq = 0;
  private readonly priorVar: number;
  private readonly degenerate: boolean;

  /**
   * @param m   the null mean: H0 is E[Y] <= m
   * @param lo  a bound with Y >= lo always
   *
   * When lo >= m the bounds alone settle most of it: if lo > m, H0 cannot hold (E[Y] >= lo > m)
   * and is rejected outright; if lo = m, H0 forces Y = m almost surely, so a single observation
   * above m rejects it with certainty. Structural bounds of this kind come from the payment rule
   * (see `affineRange`), e.g. a per-click first price can never charge more than the value.
   */
  constructor(
    readonly m: number,
    readonly lo: number,
    readonly cap: number = BET_CAP,
  ) {
    if (!(Number.isFinite(m) && Number.isFinite(lo))) throw new RangeError(`BettingTest: bounds must be finite (m ${m}, lo ${lo})`);
    this.degenerate = lo >= m - DEGENERATE_EPS;
    if (lo > m + DEGENERATE_EPS) this.maxLogWealth = Number.POSITIVE_INFINITY;
    // A weak prior: the variance of a two-point variable spread over half the range. It keeps the
    // first bets small and washes out after a few observations.
    this.priorVar = 0.25 * (m - lo) * (m - lo);
  }

  private lambda(): number {
    const mu = (this.m + this.sum) / (1 + this.n);
    const v = (this.priorVar + this.sq) / (1 + this.n);
    const edge = mu - this.m;
    if (edge <= 0) return 0;
    return Math.min(edge / (v + edge * edge), this.cap / (this.m - this.lo));
  }

  push(y: number): void {
    if (!Number.isFinite(y)) throw new RangeError(`BettingTest: observation ${y} is not finite`);
    // Observations a hair below the bound (floating point) are clamped; anything further is a bug
    // in the caller's bounds, which would void the guarantee, so it throws.
    if (y < this.lo) {
      if (y < this.lo - 1e-9) throw new RangeError(`BettingTest: observation ${y} below the declared bound ${this.lo}`);
      y = this.lo;
    }
    const mu = (this.m + this.sum) / (1 + this.n);
    if (this.degenerate) {
      if (y > this.m + DEGENERATE_EPS) this.logWealth = Number.POSITIVE_INFINITY;
    } else {
      this.logWealth += Math.log1p(this.lambda() * (y - this.m));
    }
    if (this.logWealth > this.maxLogWealth) this.maxLogWealth = this.logWealth;
    this.sum += y;
    this.n += 1;
    this.sq += (y - mu) * (y - mu);
  }

  get count(): number {
    return this.n;
  }

  get mean(): number {
    return this.n > 0 ? this.sum / this.n : Number.NaN;
  }

  /** Current wealth (not the running maximum): where the evidence stands now. */
  get wealth(): number {
    return this.maxLogWealth === Number.POSITIVE_INFINITY ? Number.POSITIVE_INFINITY : Math.exp(this.logWealth);
  }

  /** Anytime-valid p-value: 1 / (largest wealth so far), capped at 1. */
  pValue(): number {
    return Math.min(1, Math.exp(-this.maxLogWealth));
  }

  /** Whether H0 has been rejected at level a (the wealth reached 1/a at some point). */
  rejects(a: number): boolean {
    return this.maxLogWealth >= -Math.log(a);
  }
}

/**
 * Two tests on the same stream of a variable D in [-1, 1], for a one-sided claim with an
 * indifference zone:
 *
 * - `violation`: H0 E[D] <= 0; rejecting it shows a violation (E[D] > 0).
 * - `equivalence`: H0 E[D] >= margin; rejecting it shows E[D] < margin (no violation of size
 *   margin or more).
 */
export class OneSidedPair {
  readonly violation: BettingTest;
  readonly equivalence: BettingTest;

  constructor(
    readonly margin: number,
    readonly lo = -1,
    readonly hi = 1,
    /** Where the violation null sits (0 by default; continuity uses the jump size). */
    readonly zero = 0,
  ) {
    this.violation = new BettingTest(zero, lo);
    // E[D] >= margin  <=>  E[-D] <= -margin, with -D >= -hi.
    this.equivalence = new BettingTest(-margin, -hi);
  }

  push(d: number): void {
    this.violation.push(d);
    this.equivalence.push(-d);
  }

  get count(): number {
    return this.violation.count;
  }

  get mean(): number {
    return this.violation.mean;
  }
}

/**
 * Range of a per-response quantity q(x, e) that is affine in (x, e), where x = ctr 1(exposed) in
 * [0, 1] and e = 1(exposed): the feasible (x, e) lie in the triangle (0,0), (0,1), (1,1), so an
 * affine q takes its extremes at those corners. Returns null when q is not affine there (checked
 * at an interior point), in which case the caller must fall back to generic bounds.
 */
export function affineRange(q: (x: number, e: number) => number): [number, number] | null {
  const a = q(0, 0);
  const b = q(0, 1);
  const c = q(1, 1);
  const mid = q(0.5, 1);
  const mid2 = q(0.25, 0.5);
  const scale = Math.max(1, Math.abs(a), Math.abs(b), Math.abs(c));
  if (![a, b, c, mid, mid2].every(Number.isFinite)) return null;
  if (Math.abs(mid - (b + c) / 2) > 1e-9 * scale) return null;
  if (Math.abs(mid2 - (a * 2 + b + c) / 4) > 1e-9 * scale) return null;
  return [Math.min(a, b, c), Math.max(a, b, c)];
}
