/**
 * The ceilings of the embedded world, each exact (every plan of the embedded Ad-LLM enumerated,
 * R the mechanism reward of Eq. 8 under the user's true click probabilities):
 *
 * - `embedded:optimal` (OptimalRule): the KL-regularized optimum of Thm. 4.3 / Eq. 13,
 *   pi*(y | x) = pi_0(y | x) * exp(R(y) / beta) / Z, at the beta IRPO's DPO trains with (0.1 by
 *   default; its name shows it). It maximizes E[R] - beta * KL(pi || pi_0). beta is in the
 *   reward's units (bids are 1..100): small values approach the best single response.
 * - `embedded:ceiling` (CeilingRule): the best single plan of each query, argmax_y R(y): the
 *   unconstrained ceiling of any rule over the same responses.
 * - `embedded:best-in-class` (BestInClassRule): pi_theta* with theta* = argmax_theta E[R] over the
 *   policy's own class (the log-linear Ad-LLM of embedded-policy.ts), found by exact gradient
 *   ascent on the auctions a bench scores (on training auctions elsewhere). The gap between it and the ceiling is what the policy's features
 *   cannot express; IRPO, which trains theta, can at best reach it.
 *
 * These are judges' rules: they read the user's click model, which no trained mechanism does.
 */
import type { ClickModel } from '../mechanism/click-model.ts';
import { ResponseParser } from '../mechanism/parser.ts';
import { DEFAULT_REWARD, reward, type RewardConfig } from '../mechanism/reward.ts';
import { Generations } from '../lib/generations.ts';
import { Rng } from '../lib/rng.ts';
import type { Ad, AllocationRule, AuctionInput, ParsedResponse, Profile, Query, SampleOptions, WeightedResponse } from '../mechanism/types.ts';
import { NUM_FEATURES, NUM_SHAPE_FEATURES, type EmbeddedPolicy, type PlanFeatures } from './embedded-policy.ts';

/** MOSAIC's KL weight (its tau) in reward units. */
export const DEFAULT_OBJECTIVE_BETA = 2;
/** The beta IRPO's DPO trains with: the default of `embedded:optimal`. */
export const IRPO_BETA = 0.1;

/**
 * The parse and the true click probabilities of one response to one auction, memoized per click
 * model. Neither depends on the bids, so the key is the auction (the query, the profile, the
 * candidates' ids and titles) and then the text; every exact expectation in the suite (the
 * ceilings, Table 2's exact rows) reads responses through here and scores each distinct text once.
 * The memo holds the last few dozen auctions (a bench goes query by query, every row in turn), so
 * its memory does not grow with the number of queries.
 */
type Outcome = { parsed: ParsedResponse; ctr: Record<string, number> };
type AuctionOutcomes = { parser: ResponseParser; byText: Map<string, Outcome> };
const outcomeMemo = new WeakMap<ClickModel, Generations<string, AuctionOutcomes>>();
/** Each auction object's key, built once (auction inputs are not mutated; a changed bid is a new object). */
const auctionKeys = new WeakMap<AuctionInput, string>();

export function auctionKey(input: AuctionInput): string {
  let key = auctionKeys.get(input);
  if (key === undefined) {
    const ads = input.ads.map((a) => `${a.id}=${a.title}`).join('|');
    key = `${input.query}\u0001${input.profile.id}\u0001${input.profile.interests.join('|')}\u0001${ads}`;
    auctionKeys.set(input, key);
  }
  return key;
}

export async function responseOutcome(clicks: ClickModel, input: AuctionInput, response: string): Promise<Outcome> {
  let memo = outcomeMemo.get(clicks);
  if (!memo) outcomeMemo.set(clicks, (memo = new Generations(24)));
  const key = auctionKey(input);
  let auction = memo.get(key);
  if (!auction) memo.set(key, (auction = { parser: new ResponseParser(input.ads), byText: new Map() }));
  const hit = auction.byText.get(response);
  if (hit) return hit;
  const parsed = auction.parser.parse(response);
  const out = { parsed, ctr: await clicks.clickProbabilities({ input, response, parsed }) };
  auction.byText.set(response, out);
  return out;
}

type PlanOutcomes = { texts: string[]; parsed: ParsedResponse[]; ctr: Record<string, number>[] };

/**
 * Plan outcomes per (user, policy), shared by every rule over them: a bench that scores
 * embedded:optimal, embedded:ceiling and embedded:best-in-class computes each auction's true
 * click probabilities once, not three times. An auction's outcomes take megabytes (thousands of
 * plans), so only the last few auctions are kept.
 */
const sharedOutcomes = new WeakMap<ClickModel, WeakMap<EmbeddedPolicy, Generations<string, PlanOutcomes>>>();

function outcomeCache(clicks: ClickModel, policy: EmbeddedPolicy): Generations<string, PlanOutcomes> {
  let byPolicy = sharedOutcomes.get(clicks);
  if (!byPolicy) sharedOutcomes.set(clicks, (byPolicy = new WeakMap()));
  let m = byPolicy.get(policy);
  if (!m) byPolicy.set(policy, (m = new Generations(8)));
  return m;
}

export class OptimalRule implements AllocationRule {
  readonly payment = 'first-price-click' as const;
  readonly name: string;
  private readonly cache: Generations<string, PlanOutcomes>;

  constructor(
    readonly policy: EmbeddedPolicy,
    readonly clicks: ClickModel,
    readonly beta = IRPO_BETA,
    readonly rewardConfig: RewardConfig = DEFAULT_REWARD,
  ) {
    this.name = `embedded:optimal(beta=${beta})`;
    this.cache = outcomeCache(clicks, policy);
  }

  /** Texts and true click probabilities of every plan (bid-independent, so cached per auction). */
  async outcomes(input: AuctionInput): Promise<PlanOutcomes> {
    const t = this.policy.table(input);
    const hit = this.cache.get(t.key);
    if (hit) return hit;
    const texts = t.plans.map((p) => this.policy.render(input, p, t));
    const ctr: Record<string, number>[] = [];
    const parsed: ParsedResponse[] = [];
    for (const response of texts) {
      const o = await responseOutcome(this.clicks, input, response);
      ctr.push(o.ctr);
      parsed.push(o.parsed);
    }
    const out = { texts, parsed, ctr };
    this.cache.set(t.key, out);
    return out;
  }

  /** Normalized log pi*(plan | x) and the responses. */
  async distribution(input: AuctionInput): Promise<{ texts: string[]; logp: Float64Array; rewards: Float64Array }> {
    const t = this.policy.table(input);
    const { texts, parsed, ctr } = await this.outcomes(input);
    const rewards = new Float64Array(texts.length);
    const logp = new Float64Array(texts.length);
    let max = -Infinity;
    for (let j = 0; j < texts.length; j++) {
      rewards[j] = reward(parsed[j]!, input.ads, ctr[j]!, this.rewardConfig).reward;
      logp[j] = t.logp0[j]! + rewards[j]! / this.beta;
      if (logp[j]! > max) max = logp[j]!;
    }
    let z = 0;
    for (let j = 0; j < logp.length; j++) z += Math.exp(logp[j]! - max);
    const logZ = max + Math.log(z);
    for (let j = 0; j < logp.length; j++) logp[j]! -= logZ;
    return { texts, logp, rewards };
  }

  async sample(input: AuctionInput, n: number, opts: SampleOptions = {}): Promise<string[]> {
    const { texts, logp } = await this.distribution(input);
    const rng = new Rng(opts.seed ?? Math.floor(Math.random() * 2 ** 31));
    const weights = Array.from(logp, (x) => Math.exp(x));
    return Array.from({ length: n }, () => texts[rng.categorical(weights)]!);
  }

  async enumerate(input: AuctionInput): Promise<WeightedResponse[]> {
    const { texts, logp } = await this.distribution(input);
    return texts.map((response, j) => ({ response, prob: Math.exp(logp[j]!) }));
  }
}

/** `embedded:ceiling`: the best single plan of each auction under the true reward (ties: the first). */
export class CeilingRule implements AllocationRule {
  readonly payment = 'first-price-click' as const;
  readonly name = 'embedded:ceiling';
  private readonly exact: OptimalRule;

  constructor(policy: EmbeddedPolicy, clicks: ClickModel, rewardConfig: RewardConfig = DEFAULT_REWARD) {
    this.exact = new OptimalRule(policy, clicks, 1, rewardConfig);
  }

  async best(input: AuctionInput): Promise<{ response: string; reward: number }> {
    const { texts, rewards } = await this.exact.distribution(input);
    let j = 0;
    for (let k = 1; k < rewards.length; k++) if (rewards[k]! > rewards[j]!) j = k;
    return { response: texts[j]!, reward: rewards[j]! };
  }

  async sample(input: AuctionInput, n: number): Promise<string[]> {
    const { response } = await this.best(input);
    return Array.from({ length: n }, () => response);
  }

  async enumerate(input: AuctionInput): Promise<WeightedResponse[]> {
    return [{ response: (await this.best(input)).response, prob: 1 }];
  }
}

/** One auction as the class optimizer sees it: per-plan features (compact), log pi_0 and true reward. */
export interface ClassProblem {
  features: PlanFeatures;
  logp0: Float64Array;
  rewards: Float64Array;
}

/** The true reward of every plan of an auction. */
export async function planRewards(policy: EmbeddedPolicy, clicks: ClickModel, input: AuctionInput, rewardConfig: RewardConfig = DEFAULT_REWARD): Promise<ClassProblem> {
  const t = policy.table(input);
  const { rewards } = await new OptimalRule(policy, clicks, 1, rewardConfig).distribution(input);
  return { features: policy.planFeatures(input, t), logp0: t.logp0, rewards };
}

/**
 * Mean E_{pi_theta}[R] over the auctions, and its exact gradient Cov_{pi_theta}(R, phi) =
 * sum_j p_j (R_j - E[R]) phi_j (the per-ad features are sparse: at most maxAds per plan).
 */
export function classObjective(problems: readonly ClassProblem[], theta: ArrayLike<number>): { value: number; grad: Float64Array } {
  const D = NUM_SHAPE_FEATURES;
  const grad = new Float64Array(NUM_FEATURES);
  const th = new Float64Array(NUM_FEATURES);
  for (let d = 0; d < NUM_FEATURES; d++) th[d] = theta[d] ?? 0;
  let value = 0;
  let lp = new Float64Array(0);
  for (const { features: f, logp0, rewards } of problems) {
    const n = rewards.length;
    const W = f.width;
    const { dense, slot, value: sv } = f;
    if (lp.length < n) lp = new Float64Array(n);
    // log pi_0 + theta · phi, inlined (this loop is best-in-class's whole cost).
    let max = -Infinity;
    for (let j = 0, o = 0, q = 0; j < n; j++, o += D, q += W) {
      let s = logp0[j]!;
      for (let d = 0; d < D; d++) s += th[d]! * dense[o + d]!;
      for (let k = 0; k < W; k++) {
        const a = slot[q + k]!;
        if (a >= 0) s += th[D + a]! * sv[q + k]!;
      }
      lp[j] = s;
      if (s > max) max = s;
    }
    let z = 0;
    for (let j = 0; j < n; j++) {
      const d = lp[j]! - max;
      z += lp[j] = d < -60 ? 0 : Math.exp(d);
    }
    let er = 0;
    for (let j = 0; j < n; j++) if (lp[j]! > 0) er += (lp[j]! / z) * rewards[j]!;
    for (let j = 0; j < n; j++) {
      if (lp[j] === 0) continue;
      const w = (lp[j]! / z) * (rewards[j]! - er);
      const o = j * D;
      for (let d = 0; d < D; d++) grad[d]! += w * dense[o + d]!;
      for (let k = 0, q = j * W; k < W; k++) {
        const a = slot[q + k]!;
        if (a >= 0) grad[D + a]! += w * sv[q + k]!;
      }
    }
    value += er;
  }
  const m = Math.max(1, problems.length);
  for (let d = 0; d < NUM_FEATURES; d++) grad[d]! /= m;
  return { value: value / m, grad };
}

export interface ClassOptimum {
  theta: Float64Array;
  /** Mean expected reward of pi_theta* on the auctions it was fitted on. */
  value: number;
  iterations: number;
}

/**
 * argmax_theta of mean E_{pi_theta}[R] by exact gradient ascent (Adam with a decaying step), from
 * the first starting point and from the best of the others; the best point visited wins. The objective is smooth but not
 * concave, and it keeps rising slowly as theta grows (pi_theta sharpens toward the best response
 * its linear score can pick), so the supremum is approached, not attained: more iterations only
 * raise the ceiling, which makes IRPO's "share of the gap closed" against it conservative.
 */
export function optimizeClass(
  problems: readonly ClassProblem[],
  startsIn: readonly ArrayLike<number>[] = [new Float64Array(NUM_FEATURES)],
  iterations = 600,
  lr = 1,
  /** Only the first `free` features move (the rest keep their starting values): a sub-class, e.g. the 7 features before issue #22. */
  free = NUM_FEATURES,
): ClassOptimum {
  // Of the extra starting points only the best is climbed from (each climb costs a quarter of the
  // budget, and they are near one another: trained rules of the same class).
  const extra = startsIn.slice(1).map((s) => ({ s, v: classObjective(problems, s).value }));
  extra.sort((x, y) => y.v - x.v);
  const starts = [startsIn[0]!, ...extra.slice(0, 1).map((e) => e.s)];
  let best: ClassOptimum | undefined;
  for (let k = 0; k < starts.length; k++) {
    const theta = new Float64Array(NUM_FEATURES);
    theta.set(Array.from(starts[k]!).slice(0, NUM_FEATURES));
    // The first start (theta = 0) gets the full budget; the others start near a good solution.
    const steps = k === 0 ? iterations : Math.ceil(iterations / 4);
    const m = new Float64Array(NUM_FEATURES);
    const v = new Float64Array(NUM_FEATURES);
    let bestHere = { theta: Float64Array.from(theta), value: -Infinity };
    for (let it = 1; it <= steps; it++) {
      const { value, grad } = classObjective(problems, theta);
      if (value > bestHere.value) bestHere = { theta: Float64Array.from(theta), value };
      const step = (k === 0 ? lr : lr / 4) * (0.1 + 0.9 * (1 - it / steps));
      for (let d = 0; d < free; d++) {
        m[d] = 0.9 * m[d]! + 0.1 * grad[d]!;
        v[d] = 0.999 * v[d]! + 0.001 * grad[d]! * grad[d]!;
        theta[d]! += (step * (m[d]! / (1 - 0.9 ** it))) / (Math.sqrt(v[d]! / (1 - 0.999 ** it)) + 1e-8);
      }
    }
    const last = classObjective(problems, theta).value;
    if (last > bestHere.value) bestHere = { theta: Float64Array.from(theta), value: last };
    if (!best || bestHere.value > best.value) best = { ...bestHere, iterations };
  }
  return best!;
}

export interface BestInClassOptions {
  /** Training queries the class optimum is fitted on when no auctions are given (each with fresh bids, stage 'best-in-class'). */
  queries?: number;
  /** The auctions to fit on; a bench passes its own, so the optimum is the class's best on exactly what it scores. */
  auctions?: readonly AuctionInput[];
  iterations?: number;
  /** Extra starting points for the ascent (theta = 0 is always one). */
  starts?: readonly ArrayLike<number>[];
  rewardConfig?: RewardConfig;
}

/**
 * `embedded:best-in-class`: theta* = argmax_theta mean E_{pi_theta}[R], returned as the rule
 * pi_theta*. Fitted on `auctions` when given: a bench passes the auctions it scores, so the row is
 * the best the policy's class can do on those very queries and bids (an upper bound for every
 * trained rule of the class, as a ceiling should be; fitted on 200 other queries it overfits them
 * and a trained rule can beat it on the test queries). Without them, on the world's first
 * `queries` training queries with their own bids (seed 0, stage 'best-in-class'). The ascent starts
 * from theta = 0 and from any `starts` given (bench passes the trained rules it compares, which lie
 * in the same class). Deterministic for its auctions and starts.
 */
export async function bestInClass(
  policy: EmbeddedPolicy,
  clicks: ClickModel,
  world: { queries: readonly Query[]; profiles: readonly Profile[]; catalog: readonly Ad[] },
  opts: BestInClassOptions = {},
): Promise<{ rule: AllocationRule; optimum: ClassOptimum }> {
  let auctions = opts.auctions;
  if (!auctions) {
    const { auctionInput } = await import('./auctions.ts');
    const profiles = new Map(world.profiles.map((p) => [p.id, p]));
    const train = world.queries.filter((q) => q.split === 'train').slice(0, opts.queries ?? 200);
    auctions = train.map((q) => auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: 0, stage: 'best-in-class', epoch: 0, candidates: 10 }));
  }
  const problems: ClassProblem[] = [];
  for (const input of auctions) {
    problems.push(await planRewards(policy, clicks, input, opts.rewardConfig));
    // A plan table takes over a megabyte and a problem keeps what the ascent needs of it.
    if (problems.length % 32 === 0) policy.clearTables();
  }
  const optimum = optimizeClass(problems, [new Float64Array(NUM_FEATURES), ...(opts.starts ?? [])], opts.iterations ?? 600);
  return { rule: policy.rule(optimum.theta, 'embedded:best-in-class'), optimum };
}
