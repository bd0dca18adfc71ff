/** Small statistics used across the suite (intervals for means of values in [0, 1]). */
import { probit } from 'simple-statistics';

/** The two-sided normal quantile for confidence level `level` (0.95 gives 1.96). */
export function zFor(level: number): number {
  return probit(1 - (1 - level) / 2);
}

/**
 * Wilson score interval for the mean of n values in [0, 1] with sample mean `mean`. For 0/1 clicks
 * it is the usual Wilson interval; for click probabilities in [0, 1] it is conservative, since a
 * variable in [0, 1] with mean p has variance at most p (1 - p).
 */
export function wilson(mean: number, n: number, level = 0.95): [number, number] {
  if (n <= 0) return [0, 1];
  const z = zFor(level);
  const z2 = z * z;
  const p = Math.min(1, Math.max(0, mean));
  const denom = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / denom;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

/** log(sum(exp(x))) without overflow; -Infinity for an empty list. */
export function logSumExp(xs: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < xs.length; i++) if (xs[i]! > m) m = xs[i]!;
  if (m === -Infinity) return m;
  let s = 0;
  for (let i = 0; i < xs.length; i++) s += Math.exp(xs[i]! - m);
  return m + Math.log(s);
}
