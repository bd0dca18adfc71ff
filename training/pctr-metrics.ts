/**
 * How good a pCTR model's predictions are on labelled exposures: ranking (AUC, the paper's measure
 * of the reward model), log loss, and calibration, which matters because Eq. 5 multiplies pCTR by
 * the bid.
 */

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative, ties counting one half (Mann-Whitney U with mid-ranks). NaN when a class is absent.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`auc: ${n} scores for ${labels.length} labels`);
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let rankSumPos = 0;
  for (let k = 0; k < n; ) {
    let j = k;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[k]!]) j++;
    // Ranks k+1..j+1 are tied: each gets their mean.
    const midRank = (k + j + 2) / 2;
    for (let t = k; t <= j; t++) {
      if (labels[order[t]!] === 1) {
        pos++;
        rankSumPos += midRank;
      }
    }
    k = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Mean binary cross-entropy of probabilities against 0/1 labels (probabilities clamped away from 0 and 1). */
export function logLoss(preds: ArrayLike<number>, labels: ArrayLike<number>, eps = 1e-12): number {
  const n = preds.length;
  if (n === 0) return Number.NaN;
  let s = 0;
  for (let k = 0; k < n; k++) {
    const p = Math.min(1 - eps, Math.max(eps, preds[k]!));
    s -= labels[k] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return s / n;
}

/**
 * Expected calibration error with `bins` equal-width bins on [0, 1]: the mean over examples of
 * |mean prediction - click rate| of the example's bin. Reward-model calibration matters here
 * because Eq. 5 multiplies pCTR by the bid: a biased pCTR biases the reward, not just a ranking.
 */
export function expectedCalibrationError(preds: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): number {
  const n = preds.length;
  if (n === 0) return Number.NaN;
  const count = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  for (let k = 0; k < n; k++) {
    const p = preds[k]!;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    count[b]! += 1;
    sumP[b]! += p;
    sumY[b]! += labels[k] === 1 ? 1 : 0;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]! > 0) ece += Math.abs(sumP[b]! - sumY[b]!) / n;
  return ece;
}

export interface PctrEvaluation {
  n: number;
  auc: number;
  logLoss: number;
  /** Expected calibration error, 10 equal-width bins. */
  ece: number;
  positiveRate: number;
  meanPrediction: number;
}
