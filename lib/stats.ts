/** Small statistics used across the suite (intervals for means, rank correlation). */
import { mean, probit, sampleCorrelation, sampleStandardDeviation } from 'simple-statistics';

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

/** Spearman rank correlation of two equal-length series (average ranks for ties); 0 below 3 points or when undefined. */
export function spearman(x: readonly number[], y: readonly number[]): number {
  const rank = (v: readonly number[]) => {
    const idx = v.map((_, k) => k).sort((a, b) => v[a]! - v[b]!);
    const r = new Array<number>(v.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && v[idx[j + 1]!] === v[idx[i]!]) j++;
      for (let k = i; k <= j; k++) r[idx[k]!] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  if (x.length < 3) return 0;
  const c = sampleCorrelation(rank(x), rank(y));
  return Number.isFinite(c) ? c : 0;
}

/** Student-t 97.5% quantile, close enough for interval reporting at any n. */
function t975(df: number): number {
  if (df >= 120) return 1.96;
  const table: [number, number][] = [[1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [10, 2.228], [20, 2.086], [30, 2.042], [60, 2.0], [120, 1.98]];
  for (const [d, q] of table) if (df <= d) return q;
  return 1.96;
}

/** Mean with a Student-t 95% interval over the values (Table 2's per-query intervals and paired differences). */
export function meanCi(xs: readonly number[]): { mean: number; ci: [number, number] } {
  if (xs.length === 0) return { mean: 0, ci: [0, 0] };
  const m = mean(xs as number[]);
  if (xs.length < 2) return { mean: m, ci: [m, m] };
  const half = (t975(xs.length - 1) * sampleStandardDeviation(xs as number[])) / Math.sqrt(xs.length);
  return { mean: m, ci: [m - half, m + half] };
}
