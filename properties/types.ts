/**
 * What a property check takes and gives back.
 *
 * A check looks at a mechanism as a black box: an allocation rule that writes responses, the click
 * model that says how likely each exposed ad is to be clicked, the payment rule, and a generator of
 * auctions to try it on. It answers with a verdict that is the outcome of a hypothesis test with a
 * stated error rate (see properties/README.md for the design and its guarantees).
 */
import type { ClickModel } from '../mechanism/click-model.ts';
import type { PaymentRule } from '../mechanism/payment.ts';
import type { Rng } from '../lib/rng.ts';
import type { AllocationRule, AuctionInput } from '../mechanism/types.ts';

/**
 * A mechanism as the checks see it. `instances` draws one auction (query, profile, 2 to 10
 * candidate ads with integer bids in 1..100) from the given random stream; the checks treat the
 * drawn bids as the advertisers' truthful reports and move one ad's bid at a time.
 */
export interface MechanismUnderTest {
  name: string;
  rule: AllocationRule;
  clicks: ClickModel;
  payment: PaymentRule;
  instances: (rng: Rng) => AuctionInput;
}

/**
 * `holds-by-construction`: the payment rule makes the property true for every allocation (for
 * example IR under first price per click), so nothing was sampled and the verdict is not
 * evidence about the rule; summaries do not count it as a pass.
 */
export type VerdictKind = 'pass' | 'fail' | 'inconclusive' | 'holds-by-construction';

/**
 * What a sampled check sees of the user: `clicks` (0/1, as an LLM judge or a real user gives
 * them) or `click-probability` (the click model's exact probability for each response, where the
 * click model can provide it: less noise, same expectation).
 */
export type Observable = 'clicks' | 'click-probability';

/**
 * The answer of one check.
 *
 * - `fail`: a violation is statistically significant; the chance of this on a mechanism that has
 *   the property is at most alpha over all planned comparisons together.
 * - `pass`: every planned comparison ruled out a violation of size `effect` or more, each at
 *   level alpha (an intersection-union test, so the chance of `pass` when some tested comparison
 *   hides a violation of at least `effect` is at most alpha).
 * - `inconclusive`: the budget ran out before either.
 * - `holds-by-construction`: the payment rule makes the property hold for every allocation
 *   (`reason` says why); nothing was tested, so it is not evidence and no alpha is spent on it.
 *
 * `p_value`: for `fail` the Bonferroni-adjusted p-value of the violation found; for `pass` the
 * p-value of the intersection-union test (the largest of the per-comparison ones); for
 * `inconclusive` the smallest adjusted p-value of a violation (how close it came to `fail`).
 * Anytime-valid (see sequential.ts), so it stays valid although sampling stopped early.
 * null when itctr was computed exactly (no sampling, nothing to test).
 * `samples`: responses drawn (sampled path) or responses scored from `enumerate` (exact path).
 */
export interface Verdict {
  verdict: VerdictKind;
  samples: number;
  p_value: number | null;
  counterexample: Record<string, unknown> | null;
  /** Why the property holds by construction (only with that verdict). */
  reason?: string;
  details?: VerdictDetails;
}

export interface VerdictDetails {
  property: string;
  mode: 'exact' | 'sampled';
  /** Sampled path: what the tests were fed; null on the exact path (exact itctr). */
  observable: Observable | null;
  alpha: number;
  effect: number;
  /** Monotonicity: tolerated relative dip. */
  rho: number;
  /** Continuity: largest share of the curve's scale one bid step may carry. */
  kappa: number;
  budget: number;
  /** Cases (auction, focal ad) tried, and how many were planned. */
  cases: number;
  cases_planned: number;
  /** Planned comparisons over all cases: the Bonferroni denominator of the fail tests. */
  comparisons_planned: number;
  alpha_per_comparison: number;
  cases_failed: number;
  cases_passed: number;
  cases_open: number;
  /** Responses the planned cases used: what the verdict itself cost (sampled path). */
  samples_to_verdict: number;
  /** Per planned case, in order: responses used and outcome. */
  case_samples: number[];
  case_status: ('fail' | 'pass' | 'open')[];
  /** Responses spent looking for a smaller counterexample after the verdict was settled. */
  samples_shrinking: number;
  shrinks: number;
  notes: string[];
  [key: string]: unknown;
}

export interface ProgressEvent {
  property: string;
  /** Responses drawn so far by this check, and its budget. */
  samples: number;
  budget: number;
  /** Cases finished so far, of those planned. */
  cases: number;
  casesPlanned: number;
  phase: 'planned' | 'shrinking';
}

export interface CheckOptions {
  /** Family-wise false-alarm rate of `fail`, and level of the `pass` test. Default 0.05. */
  alpha?: number;
  /** Most responses a check may draw (shrinking included). Default: the property's own (DEFAULT_BUDGET, or DEFAULT_CONTINUITY_BUDGET for continuity). */
  budget?: number;
  /** Seed of the instances, the focal ads and every sample; same seed, same verdict. Default 0. */
  seed?: number;
  /**
   * Margin of the `pass` claims, on the allocation's own scale: a share of the focal ad's curve
   * scale S = itctr(1) + itctr(100) for monotonicity and continuity (pass rules out violations
   * larger than effect * S), and the expected overpayment per unit of value for IR and
   * vm-truthfulness. Default 0.1.
   */
  effect?: number;
  /**
   * Monotonicity: the relative dip that counts as a violation. Raising a bid from b to b' may not
   * lower itctr below (1 - rho) itctr(b). Default 0.1.
   */
  rho?: number;
  /**
   * Continuity: one step b -> b + 1 may move itctr by at most kappa * S, S = itctr(1) +
   * itctr(100) (the curve's own scale). Default 0.3.
   */
  kappa?: number;
  /**
   * Sampled path: feed the tests 0/1 clicks (`clicks`) or the click model's probability for each
   * response (`click-probability`). Default: probability where the click model provides one
   * (it does not declare `observable: 'clicks'`), else clicks.
   */
  observable?: Observable;
  /**
   * Clicks drawn by the checks (observable `clicks` on a click model that gives probabilities):
   * `shared` (default) uses one uniform per response index and ad for every bid of a batch, as a
   * judge that honours seeds would; `fresh` draws every click independently, as one that does not.
   */
  clickSeeds?: 'shared' | 'fresh';
  /** Number of planned cases (auction and focal ad). Default: the property's own (`defaultCases`). */
  cases?: number;
  /** Force the sampled path (false) even when the rule can enumerate; default: exact when possible. */
  exact?: boolean;
  /** Most `sample` calls in flight at once (useful for remote endpoints). Default 8. */
  concurrency?: number;
  /** Exact path: a difference below this counts as zero (floating point). Default 1e-9. */
  tolerance?: number;
  /** Look for a smaller counterexample after a failure (default true). */
  shrink?: boolean;
  /**
   * Monotonicity and continuity, sampled path: which bids are compared. `pilot` (default): a grid
   * chosen per case by a pilot on its own seed, coarse where the curve is flat and fine where it
   * moves (properties/grid.ts); a pass then speaks about the bids of that grid and says so.
   * `full`: the fixed design (monotonicity on 1, 10, ..., 100; continuity on all 99 adjacent steps).
   */
  bidGrid?: GridChoice;
  /**
   * Sampled path: share samples across bids by importance weighting where the rule reports
   * log-probabilities of its responses (`logProb`, or exactly from `enumerate`): `auto` (default)
   * uses them when available, `off` never does (properties/weighted.ts).
   */
  share?: ShareChoice;
  onProgress?: (e: ProgressEvent) => void;
  /**
   * Run only planned cases [from, to) of the check (0-based), on their share of the budget
   * (budget x (to - from) / cases): `verify --shard` splitting one property's cases over machines.
   * The cases, their seeds and the Bonferroni family are the whole check's, so a part's tests run at
   * the whole check's levels; its details carry `shard_cases`, and properties/case-merge.ts joins
   * the parts into one verdict.
   */
  caseRange?: { from: number; to: number };
}

export type GridChoice = 'pilot' | 'full';
export type ShareChoice = 'auto' | 'off';

export const DEFAULT_ALPHA = 0.05;
/**
 * Most responses one property may draw. A cap, not a cost: the tests stop as soon as they are
 * sure, so a rule whose ads are clicked often settles in a few thousand responses. What a verdict
 * costs grows like 1 / click rate (a rarely clicked ad gives little evidence per response);
 * measured at click rates 0.02 to 0.8 by benchmarks/verify-samples.ts (properties/README.md).
 */
export const DEFAULT_BUDGET = 200_000;
/**
 * Continuity's cap is larger. A pass must settle every gap of its grid, and a gap's evidence
 * arrives only with clicks. On the pilot's grid (properties/grid.ts) a smooth logistic ramp's pass
 * measured about 75-83k responses on 0/1 clicks at click rate 0.1 (5 cases, common random
 * numbers), so about 8,000 / click rate: 300k covers click rates from 0.05 up with room. Below
 * that an inconclusive verdict names the budget it would need (`details.budget_needed`). The full
 * 99-step design (`bidGrid: 'full'`) costs about 17,000 / click rate and needs a larger --budget.
 */
export const DEFAULT_CONTINUITY_BUDGET = 300_000;
export const DEFAULT_EFFECT = 0.1;
export const DEFAULT_RHO = 0.1;
export const DEFAULT_KAPPA = 0.3;

export interface ResolvedOptions {
  alpha: number;
  budget: number;
  seed: number;
  effect: number;
  rho: number;
  kappa: number;
  observable: Observable | undefined;
  clickSeeds: 'shared' | 'fresh';
  cases: number;
  exact: boolean;
  concurrency: number;
  tolerance: number;
  shrink: boolean;
  bidGrid: GridChoice;
  share: ShareChoice;
  onProgress: ((e: ProgressEvent) => void) | undefined;
}

export function resolveOptions(opts: CheckOptions, defaultCases: number, defaultBudget = DEFAULT_BUDGET): ResolvedOptions {
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const budget = opts.budget ?? defaultBudget;
  const effect = opts.effect ?? DEFAULT_EFFECT;
  const rho = opts.rho ?? DEFAULT_RHO;
  const kappa = opts.kappa ?? DEFAULT_KAPPA;
  const cases = opts.cases ?? defaultCases;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  if (!(Number.isInteger(budget) && budget >= 1)) throw new RangeError(`budget must be a positive integer, got ${budget}`);
  if (!(effect > 0 && effect <= 1)) throw new RangeError(`effect must be in (0, 1], got ${effect}`);
  if (!(rho >= 0 && rho < 1)) throw new RangeError(`rho must be in [0, 1), got ${rho}`);
  if (!(kappa > 0 && kappa < 1)) throw new RangeError(`kappa must be in (0, 1), got ${kappa}`);
  if (opts.observable !== undefined && opts.observable !== 'clicks' && opts.observable !== 'click-probability') {
    throw new RangeError(`observable must be clicks or click-probability, got ${String(opts.observable)}`);
  }
  if (opts.bidGrid !== undefined && opts.bidGrid !== 'pilot' && opts.bidGrid !== 'full') throw new RangeError(`bidGrid must be pilot or full, got ${String(opts.bidGrid)}`);
  if (opts.share !== undefined && opts.share !== 'auto' && opts.share !== 'off') throw new RangeError(`share must be auto or off, got ${String(opts.share)}`);
  if (!(Number.isInteger(cases) && cases >= 1)) throw new RangeError(`cases must be a positive integer, got ${cases}`);
  return {
    alpha,
    budget,
    seed: (opts.seed ?? 0) >>> 0,
    effect,
    rho,
    kappa,
    observable: opts.observable,
    clickSeeds: opts.clickSeeds ?? 'shared',
    cases,
    exact: opts.exact ?? true,
    concurrency: Math.max(1, opts.concurrency ?? 8),
    tolerance: opts.tolerance ?? 1e-9,
    shrink: opts.shrink ?? true,
    bidGrid: opts.bidGrid ?? 'pilot',
    share: opts.share ?? 'auto',
    onProgress: opts.onProgress,
  };
}

/** A property check: the env-checker shape, a plain async function of the mechanism. */
export type PropertyCheck = (m: MechanismUnderTest, opts?: CheckOptions) => Promise<Verdict>;

/**
 * What every property declares about itself. The registry (registry.ts) is a list of these, and
 * the name list, `--property`'s default and help, and verify's evidence column all read them, so
 * a property lives in one file.
 */
interface PropertyBase {
  /** The name `--property` takes and the key of verify.json (no commas: the flag splits on them). */
  name: string;
  /** One line: what is checked, and the paper's reference. */
  description: string;
  /** Planned cases when `cases` is not given. */
  defaultCases: number;
  /** Most responses when `budget` is not given. */
  defaultBudget: number;
}

/** A property tested with a stated error rate: pass, fail, inconclusive or holds by construction. */
export interface VerdictProperty extends PropertyBase {
  kind: 'verdict';
  check: PropertyCheck;
  /** Why the mechanism's payment rule makes the property hold for every allocation, or null. */
  byConstruction: (m: MechanismUnderTest) => string | null;
  /**
   * One line about a counterexample (`failing`) or about the comparison that came closest to one
   * (an inconclusive verdict's `details.closest`), for verify's summary; '' when it cannot tell.
   */
  evidence: (ev: Record<string, unknown>, failing: boolean) => string;
  /** What a pass adds to the line that gives its scope (for example: not separate evidence). */
  passNote?: (v: Verdict) => string;
}

/**
 * What a report-only property measures. The theory promises nothing to test here, so it has no
 * verdict and never decides an exit code; verify.json keeps it under "reports".
 */
export interface PropertyReport {
  property: string;
  report: true;
  mode: 'exact' | 'sampled';
  samples: number;
  cases: readonly Record<string, unknown>[];
  notes: string[];
}

export interface ReportProperty<R extends PropertyReport = PropertyReport> extends PropertyBase {
  kind: 'report';
  run(m: MechanismUnderTest, opts?: CheckOptions): Promise<R>;
  /** One line about the measurement, for verify's summary. */
  summary(r: R): string;
}

export type PropertySpec = VerdictProperty | ReportProperty;
