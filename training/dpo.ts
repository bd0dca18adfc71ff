/**
 * DPO for the embedded Ad-LLM (Eq. 6), exact.
 *
 * The embedded policy is log-linear: log pi_theta(y|x) = log pi_0(y|x) + theta · phi(x, y) - log Z_theta(x).
 * For a winner y_w and a loser y_l of the same prompt the normalizers cancel, so
 *
 *   h = beta * [ (theta - theta_ref) · (phi(x, y_w) - phi(x, y_l)) ]
 *   L = - log sigmoid(h),   dL/dtheta = - beta * (1 - sigmoid(h)) * (phi_w - phi_l)
 *
 * with no sampling noise in the gradient. Updates use Adam with a cosine schedule and linear warmup
 * (the paper's DPO schedule shape: warmup ratio 0.1, cosine decay), on mini-batches of pairs.
 */
import { z } from 'zod';
import { Rng } from '../lib/rng.ts';
import { IRPO_BETA } from '../simulation/optimal.ts';

export const DpoConfig = z.object({
  beta: z.number().positive().default(IRPO_BETA).describe('DPO temperature beta (paper: 0.1; embedded:optimal uses the same)'),
  lr: z.number().positive().default(0.1).describe('Peak Adam learning rate for theta (the embedded policy has few parameters, so far above the LLM rate of 1e-6)'),
  batchSize: z.number().int().positive().default(64).describe('Pairs per update (paper: 64)'),
  passes: z.number().int().positive().default(4).describe('Passes over the epoch\'s pairs'),
  minSteps: z
    .number()
    .int()
    .min(0)
    .default(300)
    .describe('At least this many Adam steps per update: more passes when there are few pairs (small runs); 0 keeps `passes` as it is'),
  warmupRatio: z.number().min(0).max(1).default(0.1).describe('Share of steps with linear warmup (paper: 0.1)'),
  l2: z.number().min(0).default(0).describe('L2 penalty on theta - theta_ref'),
});
export type DpoConfig = z.infer<typeof DpoConfig>;

/** One preference pair: the feature difference phi(x, y_w) - phi(x, y_l). */
export interface FeaturePair {
  diff: Float64Array;
}

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** Mean DPO loss and its gradient at theta over the given pairs. */
export function dpoLossAndGrad(theta: Float64Array, ref: Float64Array, pairs: readonly FeaturePair[], beta: number): { loss: number; grad: Float64Array } {
  const grad = new Float64Array(theta.length);
  let loss = 0;
  for (const { diff } of pairs) {
    let h = 0;
    for (let d = 0; d < theta.length; d++) h += (theta[d]! - ref[d]!) * diff[d]!;
    h *= beta;
    // -log sigmoid(h), computed stably.
    loss += h >= 0 ? Math.log1p(Math.exp(-h)) : -h + Math.log1p(Math.exp(h));
    const g = -beta * (1 - sigmoid(h));
    for (let d = 0; d < theta.length; d++) grad[d]! += g * diff[d]!;
  }
  const n = Math.max(1, pairs.length);
  for (let d = 0; d < grad.length; d++) grad[d]! /= n;
  return { loss: loss / n, grad };
}

export interface DpoResult {
  theta: Float64Array;
  lossBefore: number;
  lossAfter: number;
  steps: number;
}

/** Minimize the DPO loss from theta_ref (the policy at the start of the epoch). */
export function dpoUpdate(ref: Float64Array, pairs: readonly FeaturePair[], cfg: Omit<DpoConfig, 'minSteps'> & { minSteps?: number }, seed: number): DpoResult {
  const theta = Float64Array.from(ref);
  const lossBefore = dpoLossAndGrad(theta, ref, pairs, cfg.beta).loss;
  if (pairs.length === 0) return { theta, lossBefore, lossAfter: lossBefore, steps: 0 };
  const m = new Float64Array(theta.length);
  const v = new Float64Array(theta.length);
  const b1 = 0.9;
  const b2 = 0.999;
  const stepsPerPass = Math.ceil(pairs.length / cfg.batchSize);
  const passes = Math.max(cfg.passes, Math.ceil((cfg.minSteps ?? 0) / stepsPerPass));
  const total = stepsPerPass * passes;
  const warmup = Math.max(1, Math.round(cfg.warmupRatio * total));
  const rng = new Rng(seed);
  let step = 0;
  for (let pass = 0; pass < passes; pass++) {
    const order = rng.shuffle(pairs.map((_, k) => k));
    for (let s = 0; s < stepsPerPass; s++) {
      const batch = order.slice(s * cfg.batchSize, (s + 1) * cfg.batchSize).map((k) => pairs[k]!);
      const { grad } = dpoLossAndGrad(theta, ref, batch, cfg.beta);
      if (cfg.l2 > 0) for (let d = 0; d < theta.length; d++) grad[d]! += cfg.l2 * (theta[d]! - ref[d]!);
      step++;
      const lr = step <= warmup ? (cfg.lr * step) / warmup : 0.5 * cfg.lr * (1 + Math.cos((Math.PI * (step - warmup)) / Math.max(1, total - warmup)));
      for (let d = 0; d < theta.length; d++) {
        m[d] = b1 * m[d]! + (1 - b1) * grad[d]!;
        v[d] = b2 * v[d]! + (1 - b2) * grad[d]! * grad[d]!;
        const mh = m[d]! / (1 - b1 ** step);
        const vh = v[d]! / (1 - b2 ** step);
        theta[d]! -= (lr * mh) / (Math.sqrt(vh) + 1e-8);
      }
    }
  }
  return { theta, lossBefore, lossAfter: dpoLossAndGrad(theta, ref, pairs, cfg.beta).loss, steps: step };
}

/** Eq. 6's pairs: the best response wins against every response more than deltaTh below it. */
export function preferencePairs(rewards: readonly number[], deltaTh: number): { winner: number; losers: number[] } | null {
  if (rewards.length < 2) return null;
  let w = 0;
  for (let m = 1; m < rewards.length; m++) if (rewards[m]! > rewards[w]!) w = m;
  const losers: number[] = [];
  for (let m = 0; m < rewards.length; m++) if (m !== w && rewards[w]! - rewards[m]! > deltaTh) losers.push(m);
  return losers.length > 0 ? { winner: w, losers } : null;
}
