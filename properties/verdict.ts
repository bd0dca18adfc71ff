/**
 * The common skeleton of every verdict property: planned cases from fast-check, a per-case test,
 * the family-wise alpha accounting, the budget, shrinking, and the verdict.
 *
 * Alpha accounting. Before anything is sampled this module fixes C planned cases and each property
 * fixes P planned comparisons per case (grid pairs, adjacent bids, ads...), so the fail family has
 * C * P members and each fail test runs at alpha / (C * P) (Bonferroni). fast-check runs at most
 * the C planned cases (numRuns = C) and stops at the first failing one, which only lowers the
 * error. The pass claim is the intersection of per-comparison equivalence claims, each tested at
 * alpha: an intersection-union test, valid at alpha with no correction.
 *
 * Shrinking. After a planned case fails, the verdict is settled. fast-check then tries smaller
 * variants of it; each attempt is a fresh test on fresh samples at the same per-comparison level,
 * and the smallest one that still fails is reported as the counterexample. Attempts are capped
 * (MAX_SHRINKS, and a quarter of the budget) and never change the verdict or its p-value.
 */
import fc from 'fast-check';
import { deriveSeed } from '../lib/rng.ts';
import { type Case, caseArbitrary, PILOT_RESPONSES, type Stratum, stratifyFocal, stratumOf } from './cases.ts';
import { describeInstance, observableOf } from './sampling.ts';
import type { CheckOptions, MechanismUnderTest, Observable, ResolvedOptions, Verdict, VerdictDetails, VerdictProperty } from './types.ts';
import { DEFAULT_BUDGET, resolveOptions } from './types.ts';

export type Mode = 'exact' | 'sampled';

export interface CaseOutcome {
  status: 'fail' | 'pass' | 'open';
  /** Unadjusted p-value of the strongest evidence of a violation in this case (0 when exact). */
  failP: number;
  /** p-value of this case's equivalence claim (largest over its comparisons; 0 when exact). */
  passP: number;
  /** Responses drawn (sampled) or scored from enumerate (exact). */
  samples: number;
  /** The violating comparison, or the one closest to failing. */
  evidence?: Record<string, unknown>;
  /** Open sampled cases: go on where the case stopped, with `extra` more responses. */
  resume?: (extra: number) => Promise<CaseOutcome>;
  /** The bids this case compared (grid.ts), when it chose them. */
  grid?: readonly number[];
  /** How its samples were drawn: common random numbers, or weighted across bids (weighted.ts). */
  design?: 'crn' | 'weighted';
  /** Open cases: responses it would need in all to settle (an extrapolation), null when unknown. */
  need?: number | null;
  /** The weight diagnostic rejected the rule's log-probabilities: the case cannot settle on them. */
  weightsRejected?: boolean;
}

/** An exact case is settled either way; its p-values are 0 and 1 (no sampling, nothing to test). */
export function exactOutcome(fail: boolean, samples: number, evidence?: Record<string, unknown>): CaseOutcome {
  return { status: fail ? 'fail' : 'pass', failP: fail ? 0 : 1, passP: fail ? 1 : 0, samples, ...(evidence ? { evidence } : {}) };
}

export interface CaseContext {
  m: MechanismUnderTest;
  c: Case;
  opts: ResolvedOptions;
  mode: Mode;
  /** What the sampled tests are fed (see sampling.ts). */
  observable: Observable;
  /** Level of each fail test: alpha / planned comparisons. */
  alphaFail: number;
  /** Level of each equivalence test (alpha). */
  alphaPass: number;
  /** Most responses this case may draw. */
  budget: number;
  /** Seed of this case's samples (batches derive from it). */
  seed: number;
  /** Called after each batch with the responses this case has drawn so far. */
  progress: (samples: number) => void;
}

/**
 * How a verdict property is tested on this skeleton, with what it declares about itself (see
 * VerdictProperty); `plannedProperty` turns it into the property the registry lists.
 */
export interface PropertyPlan extends Pick<VerdictProperty, 'name' | 'description' | 'defaultCases' | 'evidence' | 'passNote'> {
  /** Most responses when `budget` is not given (DEFAULT_BUDGET when absent). */
  defaultBudget?: number;
  /** Planned comparisons per case (fixed before sampling; the Bonferroni denominator). */
  comparisons(mode: Mode, opts: ResolvedOptions): number;
  runCase(ctx: CaseContext): Promise<CaseOutcome>;
  /** Notes for the verdict's details (what a pass means, assumptions). */
  notes?(mode: Mode, m: MechanismUnderTest, opts: ResolvedOptions): string[];
  /**
   * Why the mechanism's payment rule makes this property hold for every allocation, or null when
   * it does not. When it does, nothing is sampled: the verdict is `holds-by-construction`.
   */
  byConstruction?(m: MechanismUnderTest): string | null;
}

/** The property a plan describes: its check runs the plan over the planned cases. */
export function plannedProperty(plan: PropertyPlan): VerdictProperty {
  return {
    kind: 'verdict',
    name: plan.name,
    description: plan.description,
    defaultCases: plan.defaultCases,
    defaultBudget: plan.defaultBudget ?? DEFAULT_BUDGET,
    byConstruction: (m) => plan.byConstruction?.(m) ?? null,
    check: (m, opts) => runProperty(plan, m, opts),
    evidence: plan.evidence,
    ...(plan.passNote ? { passNote: plan.passNote } : {}),
  };
}

/** Most shrink attempts after a failure (each one is a full test of a smaller case). */
export const MAX_SHRINKS = 40;

async function runProperty(plan: PropertyPlan, m: MechanismUnderTest, options: CheckOptions = {}): Promise<Verdict> {
  const opts = resolveOptions(options, plan.defaultCases, plan.defaultBudget);
  const mode: Mode = opts.exact && typeof m.rule.enumerate === 'function' ? 'exact' : 'sampled';
  const observable = observableOf(m, opts.observable);
  const reason = plan.byConstruction?.(m) ?? null;
  const baseDetails = {
    property: plan.name,
    mode,
    observable: mode === 'sampled' ? observable : null,
    alpha: opts.alpha,
    effect: opts.effect,
    rho: opts.rho,
    kappa: opts.kappa,
    budget: opts.budget,
    ...(mode === 'sampled' ? { bid_grid: opts.bidGrid, share: opts.share } : {}),
  };
  if (reason !== null) {
    return {
      verdict: 'holds-by-construction',
      samples: 0,
      p_value: null,
      counterexample: null,
      reason,
      details: {
        ...baseDetails,
        cases: 0,
        cases_planned: 0,
        comparisons_planned: 0,
        alpha_per_comparison: 0,
        cases_failed: 0,
        cases_passed: 0,
        cases_open: 0,
        samples_to_verdict: 0,
        case_samples: [],
        case_status: [],
        samples_shrinking: 0,
        shrinks: 0,
        notes: [reason],
      },
    };
  }
  const perCase = plan.comparisons(mode, opts);
  const planned = opts.cases * perCase;
  const alphaFail = opts.alpha / planned;
  // verify --shard: only planned cases [from, to), on their share of the budget (./case-merge.ts
  // joins the parts); the planned family, and so every test's level, stays the whole check's.
  const range = options.caseRange;
  if (range && !(Number.isInteger(range.from) && Number.isInteger(range.to) && range.from >= 0 && range.from < range.to && range.to <= opts.cases)) {
    throw new RangeError(`caseRange must be a non-empty part of the ${opts.cases} planned cases, got ${JSON.stringify(range)}`);
  }
  const from = range?.from ?? 0;
  const to = range?.to ?? opts.cases;
  const budgetAll = range ? Math.floor((opts.budget * (to - from)) / opts.cases) : opts.budget;
  let generated = 0;
  const pilots: number[] = [];

  const outcomes: CaseOutcome[] = [];
  const caseOf = new Map<CaseOutcome, Case>();
  let used = 0;
  let phase: 'planned' | 'shrinking' = 'planned';
  let firstFail: { c: Case; outcome: CaseOutcome; index: number } | undefined;
  let shrunk: { c: Case; outcome: CaseOutcome } | undefined;
  let shrinkUsed = 0;
  let shrinks = 0;
  /** Exact path: responses scored from enumerate (what `samples` reports there). */
  let exactScored = 0;
  const strata: { stratum: Stratum; focal: string; click_rate: number | null }[] = [];
  let error: unknown;

  const shrinkBudget = () => Math.min(Math.floor(budgetAll / 4), budgetAll - used);
  const report = (samples: number) =>
    opts.onProgress?.({ property: plan.name, samples, budget: budgetAll, cases: outcomes.length, casesPlanned: to - from, phase });

  /** One case at this check's levels; `before` is what the check had drawn when it began (for progress). */
  const runCase = (c: Case, budget: number, seed: number, before: number) =>
    plan.runCase({ m, c, opts, mode, observable, alphaFail, alphaPass: opts.alpha, budget, seed, progress: (s) => report(before + s) });

  const predicate = async (c: Case): Promise<boolean> => {
    if (error !== undefined) return true;
    try {
      if (phase === 'planned') {
        const index = generated++;
        if (index < from || index >= to) return true; // another part's case (verify --shard)
        // Alternate often and rarely clicked focal ads (a pilot on its own seed picks the ad).
        const stratum = stratumOf(index);
        // The pilot is skipped when it would take more than a twentieth of this case's share.
        const affordable = mode === 'exact' || (budgetAll - used) / (to - index) >= 20 * PILOT_RESPONSES;
        const pilot = affordable
          ? await stratifyFocal(m, c, stratum, mode === 'exact', observable, deriveSeed(opts.seed, plan.name, 'pilot', index), opts.concurrency)
          : { samples: 0, click_rate: null };
        used += pilot.samples;
        pilots.push(pilot.samples);
        strata.push({ stratum, focal: c.instance.ads[c.focal]?.id ?? '', click_rate: pilot.click_rate === null ? null : Math.round(pilot.click_rate * 1e4) / 1e4 });
        const left = budgetAll - used;
        // First pass: half of an equal share of what is left; the rest is handed out after all
        // planned cases ran, to those still open (below).
        const budget = mode === 'exact' ? Number.POSITIVE_INFINITY : Math.floor(left / (to - index) / 2);
        const outcome = await runCase(c, budget, deriveSeed(opts.seed, plan.name, 'case', index), used);
        if (mode === 'sampled') used += outcome.samples;
        else exactScored += outcome.samples;
        outcomes.push(outcome);
        caseOf.set(outcome, c);
        report(used);
        if (outcome.status === 'fail') {
          firstFail = { c, outcome, index };
          phase = 'shrinking';
          return false;
        }
        return true;
      }
      // Shrinking: the verdict is settled; look for a smaller case that still fails.
      if (!opts.shrink || shrinks >= MAX_SHRINKS) return true;
      const left = mode === 'exact' ? Number.POSITIVE_INFINITY : shrinkBudget() - shrinkUsed;
      if (left < 1) return true;
      const attempt = shrinks++;
      // Twice what the planned failure needed is plenty for a case that really fails.
      const budget = Math.min(left, 2 * Math.max(1, firstFail?.outcome.samples ?? 0));
      const outcome = await runCase(c, budget, deriveSeed(opts.seed, plan.name, 'shrink', attempt), used + shrinkUsed);
      if (mode === 'sampled') shrinkUsed += outcome.samples;
      else exactScored += outcome.samples;
      if (outcome.status === 'fail') {
        shrunk = { c, outcome };
        return false;
      }
      return true;
    } catch (e) {
      // A broken backend is not a counterexample: remember the error, stop, rethrow below.
      error = e;
      return true;
    }
  };

  const run = await fc.check(fc.asyncProperty(caseArbitrary(m), predicate), {
    seed: opts.seed | 0,
    numRuns: opts.cases,
    endOnFailure: !opts.shrink,
  });
  if (error !== undefined) throw error;
  if (run.interrupted) throw new Error(`${plan.name}: fast-check was interrupted`);

  // Budget left after the first pass over the planned cases (each had half of an equal share of
  // what was left when it began) goes back to the cases still open, the one closest to a
  // violation first: a violation found halfway in one case is not dropped because the other
  // cases took their share, and a case that was close to passing can finish. Every test is anytime-valid, so how many samples a case gets
  // may depend on what it has shown; the planned comparisons, and so the alpha spent, are as before.
  if (!firstFail && mode === 'sampled') {
    const open = outcomes
      .map((o, k) => ({ o, k }))
      .filter(({ o }) => o.status === 'open' && o.resume)
      .sort((a, b) => a.o.failP - b.o.failP);
    for (let r = 0; r < open.length && !firstFail; r++) {
      const { o, k } = open[r]!;
      // Each may take all that is left: a case stops as soon as it is settled, and hands the rest
      // on to the next.
      const extra = budgetAll - used;
      if (extra < 1) break;
      const resumed = await o.resume!(extra);
      used += resumed.samples - o.samples;
      outcomes[k] = resumed;
      const c = caseOf.get(o)!;
      caseOf.set(resumed, c);
      if (resumed.status === 'fail') firstFail = { c, outcome: resumed, index: from + k };
    }
    report(used);
  }

  const failed = outcomes.filter((o) => o.status === 'fail').length;
  const passed = outcomes.filter((o) => o.status === 'pass').length;
  const open = outcomes.length - failed - passed;
  const adjust = (p: number) => Math.min(1, p * planned);

  let verdict: Verdict['verdict'];
  let pValue: number | null;
  let counterexample: Record<string, unknown> | null = null;
  if (firstFail) {
    verdict = 'fail';
    pValue = adjust(firstFail.outcome.failP);
    const best = shrunk ?? firstFail;
    counterexample = {
      instance: describeInstance(best.c.instance),
      focal: best.c.instance.ads[best.c.focal]?.id,
      ...best.outcome.evidence,
      p_value_adjusted: mode === 'exact' ? null : adjust(best.outcome.failP),
      samples: best.outcome.samples,
      shrunk: shrunk !== undefined,
    };
  } else if (passed === to - from) {
    verdict = 'pass';
    pValue = Math.max(0, ...outcomes.map((o) => o.passP));
  } else {
    verdict = 'inconclusive';
    pValue = outcomes.length ? adjust(Math.min(...outcomes.map((o) => o.failP))) : 1;
  }
  if (mode === 'exact') pValue = null;

  const planNotes = plan.notes?.(mode, m, opts) ?? [];
  const details: VerdictDetails = {
    ...baseDetails,
    cases: outcomes.length,
    cases_planned: opts.cases,
    comparisons_planned: planned,
    alpha_per_comparison: alphaFail,
    cases_failed: failed,
    cases_passed: passed,
    cases_open: open,
    samples_to_verdict: mode === 'sampled' ? used : exactScored,
    case_samples: outcomes.map((o) => o.samples),
    case_status: outcomes.map((o) => o.status),
    case_strata: strata,
    samples_shrinking: shrinkUsed,
    shrinks,
    notes: [...planNotes],
  };
  if (outcomes.some((o) => o.grid)) {
    details.case_grids = outcomes.map((o) => (o.grid ? [...o.grid] : null));
    details.case_designs = outcomes.map((o) => o.design ?? null);
  }
  if (outcomes.some((o) => o.weightsRejected)) {
    details.weights_rejected = true;
    details.notes.push('the rule\'s log-probabilities disagree with its samples (weight diagnostic): cases weighted by them were left open; run with share off (--share off)');
  }
  if (verdict === 'inconclusive' && mode === 'sampled' && !details.weights_rejected) {
    // What a verdict would cost: each open case's extrapolated need, the settled ones as they are.
    const needs = outcomes.map((o) => (o.status === 'open' ? o.need : o.samples));
    const known = needs.every((n): n is number => typeof n === 'number');
    const total = known ? needs.reduce((a, n) => a + n, 0) + (to - from - outcomes.length) * Math.max(...needs, 0) : null;
    details.budget_needed = total === null ? null : Math.ceil((total * 1.2) / 1000) * 1000;
    details.notes.push(
      total === null
        ? `some comparison has no pass evidence yet: a pass needs well over ${opts.budget} responses`
        : `at this rate a verdict needs about ${details.budget_needed} responses (--budget ${details.budget_needed})`,
    );
  }
  let closestAt = -1;
  if (verdict !== 'fail') {
    // The comparison that came closest to a violation: useful when inconclusive.
    // Open cases first (they are why a verdict is inconclusive), then the smallest p-value.
    const rank = (o: CaseOutcome) => (o.status === 'open' ? 0 : 1);
    const closest = outcomes.filter((o) => o.evidence).sort((a, b) => rank(a) - rank(b) || a.failP - b.failP)[0];
    const cc = closest && caseOf.get(closest);
    if (closest?.evidence && cc) {
      details.closest = { instance: describeInstance(cc.instance), focal: cc.instance.ads[cc.focal]?.id, case_status: closest.status, ...closest.evidence };
      closestAt = outcomes.indexOf(closest);
    }
  }
  if (range) {
    // What the merge needs to give the whole check's verdict and details (./case-merge.ts).
    details.shard_cases = {
      from,
      to,
      budget: budgetAll,
      notes_base: planNotes,
      pilot_samples: pilots,
      fail_p: outcomes.map((o) => o.failP),
      pass_p: outcomes.map((o) => o.passP),
      need: outcomes.map((o) => (o.status === 'open' ? (o.need ?? null) : o.samples)),
      closest: closestAt < 0 ? null : { index: from + closestAt, fail_p: outcomes[closestAt]!.failP },
    };
  }
  return {
    verdict,
    samples: mode === 'sampled' ? used + shrinkUsed : exactScored,
    p_value: pValue,
    counterexample,
    details,
  };
}
