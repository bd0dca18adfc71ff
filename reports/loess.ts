/**
 * LOESS (locally weighted linear regression) for the trend line of a swept curve, and its
 * segmented form that smooths each stretch between jumps on its own.
 */

/** Default span: the share of the curve's points each local fit uses (Figure 4(b)'s trend). */
export const LOESS_SPAN = 0.2;

/** Local linear regression with tricube weights over the `span` share of nearest points, kept within the range of those points' values. */
export function loess(xs: readonly number[], ys: readonly number[], span = LOESS_SPAN): number[] {
  const n = xs.length;
  const q = Math.min(n, Math.max(3, Math.ceil(span * n)));
  return xs.map((x0) => {
    const d = xs.map((x) => Math.abs(x - x0));
    const h = [...d].sort((a, b) => a - b)[q - 1]! * 1.000001 || 1;
    let sw = 0;
    let sx = 0;
    let sy = 0;
    let sxx = 0;
    let sxy = 0;
    let lo = Infinity;
    let hi = -Infinity;
    for (let i = 0; i < n; i++) {
      const u = d[i]! / h;
      if (u >= 1) continue;
      lo = Math.min(lo, ys[i]!);
      hi = Math.max(hi, ys[i]!);
      const w = (1 - u ** 3) ** 3;
      sw += w;
      sx += w * xs[i]!;
      sy += w * ys[i]!;
      sxx += w * xs[i]! * xs[i]!;
      sxy += w * xs[i]! * ys[i]!;
    }
    const den = sw * sxx - sx * sx;
    if (sw === 0) return ys[xs.indexOf(x0)] ?? 0;
    if (Math.abs(den) < 1e-12) return sy / sw;
    const slope = (sw * sxy - sx * sy) / den;
    // The trend never leaves the range of the counts it summarises: at the ends of a stretch the
    // local line is fitted on one side only and would otherwise extrapolate past the data.
    return Math.min(hi, Math.max(lo, (sy - slope * sx) / sw + slope * x0));
  });
}

/**
 * LOESS of each stretch of a curve between its jumps, never across one: smoothing is for the
 * sampling noise of the raw counts, and a step in the allocation must stay a step. `breaks` are
 * the indices k where the curve jumps between points k and k + 1.
 */
export function segmentedLoess(xs: readonly number[], ys: readonly number[], breaks: readonly number[], span = LOESS_SPAN): number[] {
  const out: number[] = [];
  let from = 0;
  for (const k of [...[...breaks].sort((a, b) => a - b), xs.length - 1]) {
    const to = k + 1;
    if (to <= from) continue;
    const seg = xs.slice(from, to);
    // A stretch shorter than three points has nothing to smooth.
    out.push(...(seg.length < 3 ? ys.slice(from, to) : loess(seg, ys.slice(from, to), Math.min(1, (span * xs.length) / seg.length))));
    from = to;
  }
  return out;
}
