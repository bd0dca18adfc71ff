/**
 * Samples shared across bids by importance weighting, where the rule reports log-probabilities.
 *
 * The CRN design draws every arm of a grid in each batch: a grid of G bids costs G responses per
 * observation. When log pi(y | bid) is known for any response y and bid (a rule's `logProb`, or
 * exactly from `enumerate`), one response can speak for every bid of the grid. Each response is
 * drawn from the mixture q(y) = (1/G) sum_g pi(y | g): a grid bid k uniformly at random (from
 * the batch's own stream), then y ~ pi(. | k), on a seed of its own (no two responses share
 * randomness, so the observations are independent and identically distributed). Its weight at
 * grid bid g is w_g(y) = pi(y | g) / q(y), and
 *
 *     E_q[w_g(y) x(y)] = itctr(g),    0 <= w_g <= G,    sum_g w_g(y) = G.
 *
 * Bounded weights are what keep the betting tests (sequential.ts) valid: each comparison's
 * variable, e.g. x ((1 - rho) w_a - w_b) for a dip, is a bounded paired mean again, with bounds G
 * times the unweighted ones. The price is in those bounds: a bet may risk at most 1/G of the
 * unweighted one, so a response carries about 1/G of an unweighted observation's evidence when
 * clicks are rare, and the saving over common random numbers comes from not needing the backend
 * to honour seeds and from the grid being small (BENCHMARKS.md, verify-samples).
 *
 * It assumes the click model does not look at the bids (a user never sees them): x is scored once
 * per response, at the bid it was drawn at.
 *
 * The weight diagnostic. With correct log-probabilities, w_g(y) / G is the probability that y
 * was drawn at grid bid g, so Z = (1(k = g) - w_g(y) / G) h(y) has mean 0 for h = 1 (the weights
 * average 1) and for h = the focal ad's exposure (the weighted exposure at g agrees with the one
 * drawn at g). Both are tested two-sided by betting at every grid bid, at total level
 * alpha / (10 cases) per case; a rejection (or a response the reported log-probabilities call impossible at every grid
 * bid) ends the case open, and the verdict says the log-probabilities disagree with the samples
 * (run with share off). A backend whose log-probabilities ignore the bid, or come from another
 * model, is caught this way; one that is only slightly off may not be.
 */
import { logSumExp } from '../lib/stats.ts';
import { deriveSeed, Rng } from '../lib/rng.ts';
import { round } from '../lib/numbers.ts';
import { ResponseParser } from '../mechanism/parser.ts';
import type { AllocationRule, AuctionInput } from '../mechanism/types.ts';
import { nextBatch, pool, scoreResponse, withBid } from './sampling.ts';
import { BettingTest } from './sequential.ts';
import type { CaseContext, CaseOutcome } from './verdict.ts';

/** Where a comparison stands: still open, or decided (defined here, below case-loop.ts, which re-exports it). */
export type ComparisonState = 'open' | 'pass' | 'fail';

export type LogProbFn = (input: AuctionInput, response: string) => Promise<number>;

const enumCaches = new WeakMap<AllocationRule, Map<string, Map<string, number>>>();

/**
 * The rule's log-probability of a response: its own `logProb`, or exactly from `enumerate`
 * (summing the probabilities of the entries with that text); undefined when it has neither.
 */
export function logProbOf(rule: AllocationRule): LogProbFn | undefined {
  if (typeof rule.logProb === 'function') return (input, response) => rule.logProb!(input, response);
  if (typeof rule.enumerate !== 'function') return undefined;
  let cache = enumCaches.get(rule);
  if (!cache) enumCaches.set(rule, (cache = new Map()));
  const tables = cache;
  return async (input, response) => {
    const key = `${input.query}\u0000${input.profile.id}\u0000${input.ads.map((a) => `${a.id}:${a.bid}`).join(',')}`;
    let table = tables.get(key);
    if (!table) {
      table = new Map();
      for (const r of await rule.enumerate!(input)) table.set(r.response, (table.get(r.response) ?? 0) + r.prob);
      if (tables.size >= 512) tables.delete(tables.keys().next().value!);
      tables.set(key, table);
    }
    const p = table.get(response) ?? 0;
    return p > 0 ? Math.log(p) : Number.NEGATIVE_INFINITY;
  };
}

/** One response drawn from the mixture: the grid index it was drawn at, the focal ad's x and e, its weights. */
export interface WeightedObs {
  k: number;
  x: number;
  e: number;
  w: Float64Array;
  /** The reported log-probabilities call it impossible at every grid bid. */
  impossible: boolean;
}

export class MixtureSampler {
  samples = 0;
  logProbCalls = 0;
  private batches = 0;
  private readonly parser: ResponseParser;
  /** Log-probabilities at the grid bids by response text (a rule that repeats itself is scored once). */
  private readonly cache = new Map<string, Float64Array>();

  constructor(
    private readonly ctx: CaseContext,
    readonly grid: readonly number[],
    private readonly lp: LogProbFn,
    private readonly seedBase: number,
  ) {
    this.parser = new ResponseParser(ctx.c.instance.ads);
  }

  async draw(n: number): Promise<WeightedObs[]> {
    const { m, c, observable, opts } = this.ctx;
    const G = this.grid.length;
    const batch = this.batches++;
    const rng = Rng.derive(this.seedBase, 'mixture', batch);
    const picks = Array.from({ length: n }, () => rng.int(0, G - 1));
    this.samples += n;
    const inputs = this.grid.map((b) => withBid(c.instance, c.focal, b));
    const byK = Array.from({ length: G }, (_, k) => picks.flatMap((p, j) => (p === k ? [j] : [])));
    const slots: (WeightedObs | undefined)[] = new Array(n);
    await pool(
      byK.map((js, k) => ({ js, k })).filter((t) => t.js.length > 0),
      opts.concurrency,
      async ({ js, k }) => {
        const seed = deriveSeed(this.seedBase, 'mixture', batch, k);
        const responses = await m.rule.sample(inputs[k]!, js.length, { seed });
        for (let r = 0; r < Math.min(js.length, responses.length); r++) {
          const y = responses[r]!;
          const s = await scoreResponse(m, this.parser, observable, inputs[k]!, y, seed, [r]);
          let lps = this.cache.get(y);
          if (!lps) {
            // All grid bids at once: an endpoint's scorer (models/backends/prompt-scorer.ts) bounds its own concurrency.
            lps = Float64Array.from(await Promise.all(inputs.map((inp) => this.lp(inp, y))));
            this.logProbCalls += G;
            if (this.cache.size >= 4096) this.cache.delete(this.cache.keys().next().value!);
            this.cache.set(y, lps);
          }
          const mix = logSumExp(lps) - Math.log(G);
          const w = new Float64Array(G);
          const impossible = !Number.isFinite(mix);
          if (!impossible) for (let g = 0; g < G; g++) w[g] = Math.min(G, Math.exp(lps[g]! - mix));
          slots[js[r]!] = { k, x: s.x[c.focal]!, e: s.e[c.focal]!, w, impossible };
        }
      },
    );
    return slots.filter((o): o is WeightedObs => o !== undefined);
  }
}

/** The weight diagnostic (see the module comment). */
export class WeightDiagnostic {
  private readonly tests: BettingTest[][] = [];
  private readonly sums: Float64Array;
  private n = 0;
  impossible = 0;

  constructor(
    private readonly G: number,
    private readonly level: number,
  ) {
    // Per grid bid: h = 1 and h = exposure, each two-sided.
    for (let g = 0; g < G; g++) this.tests.push([0, 1, 2, 3].map(() => new BettingTest(0, -1)));
    this.sums = new Float64Array(G);
  }

  push(o: WeightedObs): void {
    if (o.impossible) {
      this.impossible++;
      return;
    }
    this.n++;
    for (let g = 0; g < this.G; g++) {
      const z = (o.k === g ? 1 : 0) - o.w[g]! / this.G;
      const [a, b, c, d] = this.tests[g]!;
      a!.push(z);
      b!.push(-z);
      c!.push(z * o.e);
      d!.push(-z * o.e);
      this.sums[g]! += o.w[g]!;
    }
  }

  /** Whether the log-probabilities are shown wrong (each of the 4 G tests at level / (4 G)). */
  rejects(): boolean {
    if (this.impossible > 0) return true;
    const a = this.level / (4 * this.G);
    return this.tests.some((ts) => ts.some((t) => t.rejects(a)));
  }

  /** Mean weight per grid bid (1 when the log-probabilities are right), and the smallest p-value (Bonferroni-adjusted). */
  summary(): { mean_weight: number[]; p_value: number; impossible: number; observations: number } {
    const p = Math.min(1, 4 * this.G * Math.min(...this.tests.flat().map((t) => t.pValue())));
    return { mean_weight: [...this.sums].map((s) => round(this.n ? s / this.n : Number.NaN, 3)), p_value: round(p, 6), impossible: this.impossible, observations: this.n };
  }
}

/** A comparison fed with weighted observations (the weighted twin of case-loop's Comparison). */
export interface WeightedComparison {
  observe(o: WeightedObs): void;
  decide(alphaFail: number, alphaPass: number): ComparisonState;
  count(): number;
  failP(): number;
  passP(): number;
  violationWealth(): number;
  /** What a counterexample shows; `est(g, 'x' | 'e')` is the weighted mean at grid index g. */
  evidence(est: (g: number, what: 'x' | 'e') => number): Record<string, unknown>;
}

/**
 * Run one case on the weighted design: batches from the mixture, every response fed to every
 * open comparison and to the diagnostic; stops at the first fail, when all pass, when the
 * diagnostic rejects the log-probabilities, or when the budget is spent (resumable).
 */
export async function runWeightedCase(ctx: CaseContext, grid: readonly number[], comparisons: readonly WeightedComparison[], lp: LogProbFn): Promise<CaseOutcome> {
  const budget = ctx.budget;
  const sampler = new MixtureSampler(ctx, grid, lp, deriveSeed(ctx.seed, 'weighted'));
  const G = grid.length;
  // At alpha / (10 cases) per case: a false flag anywhere in the check at most alpha / 10 (a flag
  // costs a verdict; wrong log-probabilities of any size that matters pile up evidence fast).
  const diag = new WeightDiagnostic(G, ctx.opts.alpha / (10 * ctx.opts.cases));
  const state: ComparisonState[] = comparisons.map(() => 'open');
  const sums = { x: new Float64Array(G), e: new Float64Array(G), n: 0 };
  const est = (g: number, what: 'x' | 'e') => (sums.n ? sums[what][g]! / sums.n : Number.NaN);

  const finish = (status: CaseOutcome['status'], failing?: number, flagged = false): CaseOutcome => {
    const failP = Math.min(1, ...comparisons.map((c) => c.failP()));
    const passP = Math.max(0, ...comparisons.map((c, i) => (state[i] === 'pass' ? c.passP() : 1)));
    const shownIdx =
      failing ??
      comparisons
        .map((c, i) => ({ i, open: state[i] === 'open' ? 0 : 1, p: c.failP() }))
        .sort((a, b) => a.open - b.open || a.p - b.p)[0]?.i;
    const shown = shownIdx === undefined ? {} : comparisons[shownIdx]!.evidence(est);
    const evidence = {
      ...shown,
      p_value_raw: shownIdx === undefined ? null : round(comparisons[shownIdx]!.failP(), 6),
      comparisons_open: state.filter((s) => s === 'open').length,
      weighted: true,
      weights: diag.summary(),
      logprob_calls: sampler.logProbCalls,
      ...(flagged ? { weights_rejected: true } : {}),
    };
    const out: CaseOutcome = { status, failP, passP, samples: sampler.samples, evidence, need: status === 'open' && !flagged ? settleEstimate(sampler.samples, comparisons.filter((_, i) => state[i] === 'open'), ctx.alphaPass) : null };
    if (status === 'open' && !flagged) out.resume = (extra: number) => loop(sampler.samples + extra);
    if (flagged) out.weightsRejected = true;
    return out;
  };

  const loop = async (limit: number): Promise<CaseOutcome> => {
    for (;;) {
      if (!state.includes('open')) return finish('pass');
      const n = Math.min(nextBatch(sums.n), limit - sampler.samples);
      if (n < 1) return finish('open');
      const obs = await sampler.draw(n);
      for (const o of obs) {
        diag.push(o);
        if (o.impossible) continue;
        sums.n++;
        for (let g = 0; g < G; g++) {
          sums.x[g]! += o.w[g]! * o.x;
          sums.e[g]! += o.w[g]! * o.e;
        }
        comparisons.forEach((c, i) => {
          if (state[i] === 'open') c.observe(o);
        });
      }
      if (diag.rejects()) return finish('open', undefined, true);
      for (let i = 0; i < comparisons.length; i++) {
        if (state[i] !== 'open') continue;
        state[i] = comparisons[i]!.decide(ctx.alphaFail, ctx.alphaPass);
        if (state[i] === 'fail') return finish('fail', i);
      }
      ctx.progress(sampler.samples);
    }
  };
  return loop(budget);
}

/**
 * Responses an open case would need in all to settle, from how fast its slowest open comparison's
 * pass evidence has been growing (log wealth per observation, extrapolated to 1/alphaPass); null
 * when some open comparison has no pass evidence yet.
 */
export function settleEstimate(samples: number, open: readonly { count(): number; passP(): number }[], alphaPass: number): number | null {
  let factor = 1;
  for (const c of open) {
    const logW = -Math.log(Math.max(c.passP(), 1e-300));
    if (!(logW > 1e-6) || c.count() === 0) return null;
    factor = Math.max(factor, Math.log(1 / alphaPass) / logW);
  }
  return Math.ceil(samples * Math.min(factor, 1e4));
}
