/**
 * Utility maximizers under first price (Cor. 4.4): a report, not a verdict.
 *
 * The corollary only says a mixed-strategy equilibrium exists; there is nothing to pass or fail.
 * What is worth reporting is how far the truthful profile is from an equilibrium and how much
 * utility maximizers shade their bids. For each case every ad is a utility maximizer whose value
 * is its instance bid; starting from truthful bids, rounds of best-response dynamics on a bid grid
 * (each ad in turn moves to its best grid bid against the others' current bids) run until no ad
 * moves or the round limit. Reported per case and overall:
 *
 * - epsilon: the largest gain any ad could still get by deviating on the grid at the final profile,
 *   absolute (value units) and relative to its value (so 0 means an equilibrium on the grid);
 * - epsilon_truthful: the same at the truthful profile (how much truth-telling leaves on the table);
 * - shading: mean over ads of 1 - b_i / v_i at the final profile;
 * - converged: whether the dynamics stopped by themselves.
 *
 * Exact when the rule enumerates. Sampled otherwise: each profile's itctr is a mean of `perProfile`
 * responses, all profiles sharing one seed (common random numbers, so utilities of neighbouring
 * profiles are compared on the same randomness); the gaps are then estimates, with sampling noise
 * of roughly v / sqrt(perProfile), and the report says so.
 */
import { deriveSeed, Rng } from '../lib/rng.ts';
import { estimateItctr } from '../mechanism/itctr.ts';
import { num } from './evidence.ts';
import { PAPER_GRID } from './monotonicity.ts';
import { describeInstance } from './sampling.ts';
import type { CheckOptions, MechanismUnderTest, ProgressEvent, PropertyReport, ReportProperty } from './types.ts';
import { DEFAULT_BUDGET } from './types.ts';
import { round } from '../lib/numbers.ts';

export interface EquilibriumOptions extends CheckOptions {
  /** Bid grid of the dynamics (default exact 1, 5, 10, ..., 100; sampled 1, 10, ..., 100). */
  grid?: readonly number[];
  /** Most rounds of best responses (default exact 8, sampled 3). */
  rounds?: number;
  /** Sampled path: responses per evaluated bid profile (default 32). */
  perProfile?: number;
}

/** A type, not an interface, so that it reads as the plain record a PropertyReport's cases are. */
export type EquilibriumCase = {
  instance: Record<string, unknown>;
  values: number[];
  bids: number[];
  rounds: number;
  converged: boolean;
  epsilon: number;
  epsilon_relative: number;
  epsilon_truthful: number;
  epsilon_truthful_relative: number;
  shading: number;
};

export interface EquilibriumReport extends PropertyReport {
  property: 'um-equilibrium';
  /** Largest over cases. */
  epsilon: number;
  epsilon_relative: number;
  epsilon_truthful_relative: number;
  /** Mean over cases. */
  shading: number;
  /** True when the budget ran out before every case finished (later cases are missing). */
  budget_exhausted: boolean;
  cases: EquilibriumCase[];
}

export const DEFAULT_EQ_GRID: readonly number[] = [1, ...Array.from({ length: 20 }, (_, k) => 5 * (k + 1))];

class Profiles {
  private readonly cache = new Map<string, Promise<{ itctr: number[]; exposure: number[] }>>();
  samples = 0;

  constructor(
    private readonly m: MechanismUnderTest,
    private readonly base: ReturnType<MechanismUnderTest['instances']>,
    private readonly exact: boolean,
    private readonly perProfile: number,
    private readonly seed: number,
    private readonly budget: () => number,
  ) {}

  eval(bids: readonly number[]) {
    const key = bids.join(',');
    let p = this.cache.get(key);
    if (!p) {
      if (!this.exact && this.budget() < this.perProfile) throw new BudgetOut();
      const input = { ...this.base, ads: this.base.ads.map((a, k) => ({ ...a, bid: bids[k]! })) };
      if (!this.exact) this.samples += this.perProfile;
      p = estimateItctr(this.m.rule, input, this.m.clicks, { exact: this.exact, samples: this.perProfile, seed: this.seed }).then((est) => {
        if (this.exact) this.samples += est[0]?.samples ?? 0;
        return { itctr: est.map((e) => e.itctr), exposure: est.map((e) => e.exposure) };
      });
      this.cache.set(key, p);
    }
    return p;
  }
}

class BudgetOut extends Error {}

export async function umEquilibrium(m: MechanismUnderTest, options: EquilibriumOptions = {}): Promise<EquilibriumReport> {
  const exact = (options.exact ?? true) && typeof m.rule.enumerate === 'function';
  // Sampled evaluations are costly (every bid profile is a fresh set of responses), so the sampled
  // defaults are smaller: the paper grid, fewer rounds and cases.
  const grid = [...(options.grid ?? (exact ? DEFAULT_EQ_GRID : PAPER_GRID))];
  const rounds = options.rounds ?? (exact ? 8 : 3);
  const perProfile = options.perProfile ?? 32;
  const budget = options.budget ?? DEFAULT_BUDGET;
  const seed = (options.seed ?? 0) >>> 0;
  const ncases = options.cases ?? (exact ? 3 : 2);
  const cases: EquilibriumCase[] = [];
  let samples = 0;
  let exhausted = false;
  const progress = (c: number) =>
    options.onProgress?.({ property: 'um-equilibrium', samples, budget, cases: c, casesPlanned: ncases, phase: 'planned' } satisfies ProgressEvent);

  for (let ci = 0; ci < ncases && !exhausted; ci++) {
    const input = m.instances(Rng.derive(seed, 'um-equilibrium', 'instance', ci));
    const values = input.ads.map((a) => a.bid);
    const prof: Profiles = new Profiles(m, input, exact, perProfile, deriveSeed(seed, 'um-equilibrium', 'samples', ci), (): number => budget - samples - prof.samples);
    const utility = async (bids: readonly number[], i: number) => {
      const p = await prof.eval(bids);
      const pay = m.payment.expectedPayment({ bid: bids[i]!, itctr: p.itctr[i]!, exposure: p.exposure[i]! });
      return values[i]! * p.itctr[i]! - pay;
    };
    /** Best grid response of ad i to the others, and the gain over its current bid. */
    const best = async (bids: readonly number[], i: number) => {
      const current = await utility(bids, i);
      let top = { bid: bids[i]!, u: current };
      for (const b of grid) {
        const alt = bids.slice();
        alt[i] = b;
        const u = await utility(alt, i);
        if (u > top.u + 1e-12) top = { bid: b, u };
      }
      return { bid: top.bid, gain: top.u - current };
    };
    const gap = async (bids: readonly number[]) => {
      let abs = 0;
      let rel = 0;
      for (let i = 0; i < bids.length; i++) {
        const g = (await best(bids, i)).gain;
        abs = Math.max(abs, g);
        if (values[i]! > 0) rel = Math.max(rel, g / values[i]!);
      }
      return { abs, rel };
    };
    try {
      const truthful = await gap(values);
      let bids = values.slice();
      let converged = false;
      let r = 0;
      while (r < rounds && !converged) {
        r++;
        converged = true;
        for (let i = 0; i < bids.length; i++) {
          const br = await best(bids, i);
          if (br.bid !== bids[i] && br.gain > 1e-9) {
            bids = bids.slice();
            bids[i] = br.bid;
            converged = false;
          }
        }
      }
      const final = await gap(bids);
      const shading = values.reduce((s, v, i) => s + (v > 0 ? 1 - bids[i]! / v : 0), 0) / values.length;
      cases.push({
        instance: describeInstance(input),
        values,
        bids,
        rounds: r,
        converged,
        epsilon: round(final.abs),
        epsilon_relative: round(final.rel),
        epsilon_truthful: round(truthful.abs),
        epsilon_truthful_relative: round(truthful.rel),
        shading: round(shading),
      });
    } catch (e) {
      if (!(e instanceof BudgetOut)) throw e;
      exhausted = true;
    }
    samples += prof.samples;
    progress(cases.length);
  }

  const max = (f: (c: EquilibriumCase) => number) => (cases.length ? Math.max(...cases.map(f)) : Number.NaN);
  return {
    property: 'um-equilibrium',
    report: true,
    mode: exact ? 'exact' : 'sampled',
    samples,
    epsilon: max((c) => c.epsilon),
    epsilon_relative: max((c) => c.epsilon_relative),
    epsilon_truthful_relative: max((c) => c.epsilon_truthful_relative),
    shading: cases.length ? round(cases.reduce((s, c) => s + c.shading, 0) / cases.length) : Number.NaN,
    budget_exhausted: exhausted,
    cases,
    notes: [
      `best-response dynamics on bids ${grid[0]}..${grid[grid.length - 1]} (${grid.length} points), at most ${rounds} rounds, from truthful bids`,
      exact ? 'exact itctr (enumerate)' : `sampled: ${perProfile} responses per profile with common random numbers; gaps are estimates`,
    ],
  };
}

export const umEquilibriumSpec: ReportProperty<EquilibriumReport> = {
  name: 'um-equilibrium',
  kind: 'report',
  description: 'Cor. 4.4 (report only): epsilon-Nash gap and bid shading of utility maximizers under best-response dynamics',
  defaultCases: 3,
  defaultBudget: DEFAULT_BUDGET,
  run: umEquilibrium,
  summary: (r) => `epsilon ${num(r.epsilon_relative)} of value (truthful ${num(r.epsilon_truthful_relative)}), shading ${num(r.shading)}`,
};
