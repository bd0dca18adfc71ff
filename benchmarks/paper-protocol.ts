/**
 * The paper's monotonicity and continuity protocol (sections 5.4.1 and 5.4.2), simulated.
 *
 * The paper draws a fixed number n of fresh responses at every bid of a grid and counts the
 * User-LLM's clicks on the perturbed ad: {1, 10, 20, ..., 100} for monotonicity, every bid 1..100
 * for continuity. It reads the resulting curve by eye. To compare it with our checks at equal
 * alpha and power we give it the test it would need on the same claims as ours, with the same
 * number of cases (auctions with a focal ad) and the same definitions:
 *
 * - fail, monotonicity: for some case and pair b < b' of its grid, a one-sided z-test rejects
 *   E[(1 - rho) x(b) - x(b')] <= 0 at alpha / (cases x 55) (Bonferroni over every comparison);
 * - fail, continuity: for some case and step b -> b + 1, a z-test rejects
 *   E[x(b+1) - x(b) - kappa S] <= 0 or E[x(b) - x(b+1) - kappa S] <= 0 at alpha / (cases x 198),
 *   S = x(1) + x(100);
 * - pass: every comparison of every case shows the margin (relative dip within rho beyond
 *   effect x S; step within (kappa - effect) S) by a one-sided z-test at alpha (an
 *   intersection-union test, like ours, so no Bonferroni).
 *
 * z statistics use the plug-in variance of the per-response observations at each point (the
 * points are independent: the paper generates fresh responses at every bid, so there are no
 * common random numbers to pair). Counts are drawn from the rule's exact per-response
 * distribution at every (case, bid) (a multinomial over its observation values, via exact
 * binomial draws). So this is a Monte Carlo of the protocol's verdicts, not a power formula.
 *
 * `smallestN` finds, on a geometric ladder of n per point (ratio 1.15), the smallest n at which
 * at least `target` of `trials` simulated runs reach the expected verdict.
 */
import { probit } from 'simple-statistics';
import { Rng } from '../lib/rng.ts';

export type ProtocolProperty = 'monotonicity' | 'continuity';

/** One response's observation at a bid: value v_j with probability p_j (the rest is 0). */
export type Outcomes = readonly (readonly [value: number, prob: number])[];

export interface ProtocolConfig {
  property: ProtocolProperty;
  cases: number;
  alpha: number;
  rho: number;
  kappa: number;
  effect: number;
}

export const PAPER_MONO_GRID: readonly number[] = [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
export const PAPER_CONT_GRID: readonly number[] = Array.from({ length: 100 }, (_, k) => k + 1);

export function protocolGrid(property: ProtocolProperty): readonly number[] {
  return property === 'monotonicity' ? PAPER_MONO_GRID : PAPER_CONT_GRID;
}

/** Comparisons per case: 55 pairs (monotonicity), 99 steps tested both ways (continuity). */
export function protocolComparisons(property: ProtocolProperty): number {
  const g = protocolGrid(property).length;
  return property === 'monotonicity' ? (g * (g - 1)) / 2 : 2 * (g - 1);
}

function normal(rng: Rng): number {
  let u = 0;
  while (u === 0) u = rng.uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.uniform());
}

/** Gamma(shape >= 1, 1) by Marsaglia and Tsang. */
function gamma(rng: Rng, shape: number): number {
  const d = shape - 1 / 3;
  const c = 1 / Math.sqrt(9 * d);
  for (;;) {
    let x: number;
    let v: number;
    do {
      x = normal(rng);
      v = 1 + c * x;
    } while (v <= 0);
    v = v * v * v;
    const u = rng.uniform();
    if (u < 1 - 0.0331 * x ** 4 || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
  }
}

/**
 * Binomial(n, p), exact: geometric waiting times when few successes are expected, else Knuth's
 * recursion on order statistics (the median order statistic of n uniforms is a Beta draw; halve
 * n on the side p falls) down to a short waiting-time finish.
 */
export function binomial(rng: Rng, n: number, p: number): number {
  let k = 0;
  for (;;) {
    if (n <= 0 || p <= 0) return k;
    if (p >= 1) return k + n;
    if (n * Math.min(p, 1 - p) < 30) break;
    const a = 1 + Math.floor(n / 2);
    const b = n + 1 - a;
    const ga = gamma(rng, a);
    const x = ga / (ga + gamma(rng, b));
    if (x >= p) {
      n = a - 1;
      p /= x;
    } else {
      k += a;
      n = b - 1;
      p = (p - x) / (1 - x);
    }
  }
  const flip = p > 0.5;
  const q = flip ? 1 - p : p;
  // Waiting times: geometric gaps between successes (about n q < 30 steps).
  let s = 0;
  const lq = Math.log(1 - q);
  let pos = 0;
  for (;;) {
    pos += Math.floor(Math.log(1 - rng.uniform()) / lq) + 1;
    if (pos > n) break;
    s++;
  }
  return k + (flip ? n - s : s);
}

/** Mean of n responses at one point and the variance of that mean (plug-in). */
function drawPoint(rng: Rng, n: number, outcomes: Outcomes): [number, number] {
  let left = n;
  let rest = 1;
  let sum = 0;
  let sq = 0;
  for (const [v, p] of outcomes) {
    if (left <= 0 || rest <= 0) break;
    const k = binomial(rng, left, Math.min(1, p / rest));
    sum += v * k;
    sq += v * v * k;
    left -= k;
    rest -= p;
  }
  const mean = sum / n;
  return [mean, Math.max(0, sq / n - mean * mean) / n];
}

function z(value: number, variance: number): number {
  if (variance > 0) return value / Math.sqrt(variance);
  return value > 0 ? Number.POSITIVE_INFINITY : value < 0 ? Number.NEGATIVE_INFINITY : 0;
}

export type ProtocolVerdict = 'fail' | 'pass' | 'inconclusive';

/**
 * One run of the protocol: `cases[k][i]` is the observation distribution of case k at grid point i.
 * Fail when any comparison of any case rejects its null at the Bonferroni level; pass when every
 * comparison of every case shows its margin; else inconclusive.
 */
export function runProtocol(rng: Rng, n: number, cases: readonly (readonly Outcomes[])[], cfg: ProtocolConfig): ProtocolVerdict {
  const zFail = probit(1 - cfg.alpha / (cfg.cases * protocolComparisons(cfg.property)));
  const zPass = probit(1 - cfg.alpha);
  const { rho, kappa, effect } = cfg;
  let allPass = true;
  for (const points of cases) {
    const m: number[] = [];
    const v: number[] = [];
    for (const o of points) {
      const [a, b] = drawPoint(rng, n, o);
      m.push(a);
      v.push(b);
    }
    const last = m.length - 1;
    const S = m[0]! + m[last]!;
    if (cfg.property === 'monotonicity') {
      for (let i = 0; i < m.length; i++) {
        for (let j = i + 1; j < m.length; j++) {
          const d = (1 - rho) * m[i]! - m[j]!;
          if (z(d, (1 - rho) ** 2 * v[i]! + v[j]!) > zFail) return 'fail';
          if (allPass) {
            // Y = D - effect (x(1) + x(100)): coefficients per point, merged where they coincide.
            const coef = new Map<number, number>([[i, 1 - rho]]);
            coef.set(j, (coef.get(j) ?? 0) - 1);
            coef.set(0, (coef.get(0) ?? 0) - effect);
            coef.set(last, (coef.get(last) ?? 0) - effect);
            let val = 0;
            let vr = 0;
            for (const [k, a] of coef) {
              val += a * m[k]!;
              vr += a * a * v[k]!;
            }
            if (!(z(val, vr) < -zPass)) allPass = false;
          }
        }
      }
    } else {
      for (let i = 0; i < last; i++) {
        const d = m[i + 1]! - m[i]!;
        // Var of +-d - c S, with the end points merged into the step's coefficients when shared.
        const varOf = (sign: number, c: number) => {
          const coef = new Map<number, number>([[i + 1, sign], [i, -sign]]);
          coef.set(0, (coef.get(0) ?? 0) - c);
          coef.set(last, (coef.get(last) ?? 0) - c);
          let vr = 0;
          for (const [k, a] of coef) vr += a * a * v[k]!;
          return vr;
        };
        if (z(d - kappa * S, varOf(1, kappa)) > zFail || z(-d - kappa * S, varOf(-1, kappa)) > zFail) return 'fail';
        if (allPass) {
          const c = kappa - effect;
          if (!(z(d - c * S, varOf(1, c)) < -zPass && z(-d - c * S, varOf(-1, c)) < -zPass)) allPass = false;
        }
      }
    }
  }
  return allPass ? 'pass' : 'inconclusive';
}

/** Share of `trials` runs at n per point ending in `want`; cases drawn afresh per trial by `drawCases`. */
export function successRate(
  seed: number,
  n: number,
  trials: number,
  drawCases: (rng: Rng) => Outcomes[][],
  cfg: ProtocolConfig,
  want: ProtocolVerdict,
): number {
  let ok = 0;
  for (let t = 0; t < trials; t++) {
    const rng = Rng.derive(seed, 'paper-protocol', n, t);
    if (runProtocol(rng, n, drawCases(rng), cfg) === want) ok++;
  }
  return ok / trials;
}

const ladder = (k: number) => Math.round(2 * 1.15 ** k);
/** First ladder index whose n is at least `n`. */
const ladderIndex = (n: number) => {
  let k = 0;
  while (ladder(k) < n) k++;
  return k;
};

/**
 * The smallest n per point from which the protocol's fail test holds its level: false alarms at
 * most alpha on every null given (`nulls`, each drawing its cases), at this n and the next two of
 * the ladder. A z-test on a handful of responses per point is not a valid test (a point with no
 * click has a plug-in variance of 0), and its false alarms do not fall monotonically with n, so
 * the ladder is scanned upward one step at a time. null if not reached by maxN.
 */
export function validFloor(seed: number, trials: number, nulls: ((rng: Rng) => Outcomes[][])[], cfg: ProtocolConfig, maxN = 100_000): number | null {
  const ok = (k: number) => nulls.every((draw) => successRate(seed, ladder(k), trials, draw, cfg, 'fail') <= cfg.alpha);
  let run = 0;
  for (let k = 0; ladder(k) <= maxN; k++) {
    run = ok(k) ? run + 1 : 0;
    if (run === 3) return ladder(k - 2);
  }
  return null;
}

/**
 * Smallest n per point (on the ladder 2 x 1.15^k, up to `maxN`) whose success rate reaches
 * `target`, assuming it grows with n (an exponential search, then bisection). null if even maxN
 * falls short; the search starts at `fromN` (the protocol's validity floor, see validFloor).
 */
export function smallestN(
  seed: number,
  trials: number,
  drawCases: (rng: Rng) => Outcomes[][],
  cfg: ProtocolConfig,
  want: ProtocolVerdict,
  target = 0.9,
  maxN = 20_000_000,
  fromN = 2,
): { n: number; rate: number } | null {
  const cache = new Map<number, number>();
  const rate = (k: number) => {
    if (!cache.has(k)) cache.set(k, successRate(seed, ladder(k), trials, drawCases, cfg, want));
    return cache.get(k)!;
  };
  const k0 = ladderIndex(fromN);
  let hi = k0;
  while (rate(hi) < target) {
    hi += 8;
    if (ladder(hi) > maxN) return null;
  }
  let lo = Math.max(k0 - 1, hi - 8);
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (mid >= k0 && rate(mid) >= target) hi = mid;
    else lo = mid;
  }
  return { n: ladder(hi), rate: rate(hi) };
}
