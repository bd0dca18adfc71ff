/**
 * Platt scaling of the pCTR network's output: p = sigmoid(a * logit(p_net) + c), fitted on
 * held-out clicks. Pure functions; PctrModel keeps the fitted (a, c) and applies it.
 */

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));
/** log(p / (1 - p)), with p kept inside (1e-12, 1 - 1e-12). */
const logit = (p: number) => {
  const q = Math.min(1 - 1e-12, Math.max(1e-12, p));
  return Math.log(q / (1 - q));
};

/**
 * Platt scaling of the network's output, fitted on held-out clicks: p = sigmoid(a * logit(p_net) + c).
 * Eq. 5 multiplies pCTR by the bid, so a model whose predictions are squeezed toward the mean
 * click rate (or spread too far) biases the reward of exactly the ads that matter: the few with
 * b * pCTR near an ad's cost.
 */
export interface PctrCalibration {
  a: number;
  c: number;
  /** Held-out exposures and clicks it was fitted on. */
  n: number;
  clicks: number;
}

/**
 * Fits (a, c) by Newton's method on the log loss of the labels `y` given raw predictions `raw`,
 * with a Gaussian prior of precision `prior` pulling (a, c) toward (1, 0), so a few dozen clicks
 * cannot move it far. Null without a click or without a non-click: there is nothing to fit.
 */
export function fitPlatt(raw: ArrayLike<number>, y: readonly number[], prior = 2): PctrCalibration | null {
  const clicks = y.reduce<number>((s, v) => s + v, 0);
  if (clicks === 0 || clicks === y.length) return null;
  const z = Array.from(raw, logit);
  let a = 1;
  let c = 0;
  for (let it = 0; it < 100; it++) {
    let ga = prior * (a - 1);
    let gc = prior * c;
    let haa = prior;
    let hac = 0;
    let hcc = prior;
    for (let k = 0; k < z.length; k++) {
      const q = sigmoid(a * z[k]! + c);
      const r = q - y[k]!;
      const w = q * (1 - q);
      ga += r * z[k]!;
      gc += r;
      haa += w * z[k]! * z[k]!;
      hac += w * z[k]!;
      hcc += w;
    }
    const det = haa * hcc - hac * hac;
    const da = (hcc * ga - hac * gc) / det;
    const dc = (haa * gc - hac * ga) / det;
    a -= da;
    c -= dc;
    if (Math.abs(da) + Math.abs(dc) < 1e-10) break;
  }
  return { a, c, n: y.length, clicks };
}

/** Applies the scaling to raw predictions, in place; returns them. */
export function applyPlatt(raw: Float64Array, cal: PctrCalibration): Float64Array {
  for (let k = 0; k < raw.length; k++) raw[k] = sigmoid(cal.a * logit(raw[k]!) + cal.c);
  return raw;
}
