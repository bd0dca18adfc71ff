/**
 * Samples to a verdict: our sequential monotonicity and continuity checks against the paper's
 * protocol, at equal alpha and power.
 *
 *   npx tsx benchmarks/verify-samples.ts [--seeds N]      (default 20 seeds; writes
 *   benchmarks/results/verify-samples.json and prints a summary)
 *
 * The paper verifies monotonicity by drawing 200 responses at each bid of {1, 10, ..., 100}
 * (section 5.4.1) and continuity by drawing 200 at each bid of 1..100 for one query and ad
 * (section 5.4.2), and plots the curves. To compare sample costs fairly, that protocol is turned
 * into the test it would need to be: a fixed number n of independent responses per bid point,
 * one z-test per adjacent pair of points, Bonferroni over those pairs and over the same number of
 * cases as ours, at our alpha and at the power we measure. We report:
 *
 * - ours: responses per case (one auction and focal ad, i.e. one curve) until the verdict, on the
 *   sampled fixtures (enumerate hidden, seeds honoured so common random numbers apply): to `pass`
 *   on the correct rules, to `fail` on a violation of exactly the default size (minimal:dip, a
 *   0.05 itctr drop; minimal:jump, a 0.20 step, i.e. 0.05 above the jump threshold) and on the
 *   planted rules; also the measured power, false-alarm rate at the null's boundary, and what
 *   happens without common random numbers;
 * - paper_literal: 200 per point, its cost per case and the power that buys against the same
 *   violation at the same alpha;
 * - paper_equal_power: the n per point that protocol needs to reach our alpha and power;
 * - textbook: the two-sample size bound n per arm = (z_{1-a} + z_{1-b})^2 2p(1-p) / d^2, for a
 *   single comparison (a = alpha) and with the protocol's Bonferroni correction.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cumulativeStdNormalProbability, probit } from 'simple-statistics';
import { continuity } from '../properties/continuity.ts';
import { monotonicity, PAPER_GRID } from '../properties/monotonicity.ts';
import { continuitySpec } from '../properties/continuity.ts';
import { monotonicitySpec } from '../properties/monotonicity.ts';
import { vmTruthfulness } from '../properties/vm-truthfulness.ts';
import type { CheckOptions, MechanismUnderTest, Verdict } from '../properties/types.ts';
import { DEFAULT_ALPHA, DEFAULT_BUDGET, DEFAULT_EFFECT, DEFAULT_JUMP } from '../properties/types.ts';
import * as F from '../tests/fixtures/planted.ts';

const args = process.argv.slice(2);
const seedsArg = args.indexOf('--seeds');
const SEEDS = seedsArg >= 0 ? Number(args[seedsArg + 1]) : 20;
const PAPER_PER_POINT = 200;
const TARGET_POWER = 0.9;
const alpha = DEFAULT_ALPHA;
const effect = DEFAULT_EFFECT;
const jump = DEFAULT_JUMP;

type Check = (m: MechanismUnderTest, opts?: CheckOptions) => Promise<Verdict>;

interface Runs {
  mechanism: string;
  seeds: number;
  pass_rate: number;
  fail_rate: number;
  inconclusive_rate: number;
  /** Share of seeds whose first case alone reached `fail` (power of a single case at its budget share). */
  first_case_fail_rate: number;
  /** Responses per case until the verdict (samples to verdict / cases run), over seeds. */
  per_case_median: number;
  per_case_p90: number;
  /** Responses for the whole check (all planned cases), over seeds. */
  total_median: number;
  seconds: number;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

async function runs(check: Check, m: MechanismUnderTest): Promise<Runs> {
  const t = Date.now();
  const vs: Verdict[] = [];
  // Shrinking is off: it happens after the verdict and is not part of its cost.
  for (let s = 1; s <= SEEDS; s++) vs.push(await check(m, { seed: s, shrink: false }));
  const perCase = vs.map((v) => (v.details?.samples_to_verdict ?? v.samples) / Math.max(1, v.details?.cases ?? 1));
  const share = (k: Verdict['verdict']) => vs.filter((v) => v.verdict === k).length / vs.length;
  return {
    mechanism: m.name,
    seeds: SEEDS,
    pass_rate: share('pass'),
    fail_rate: share('fail'),
    inconclusive_rate: share('inconclusive'),
    first_case_fail_rate: vs.filter((v) => v.details?.case_status[0] === 'fail').length / vs.length,
    per_case_median: Math.round(quantile(perCase, 0.5)),
    per_case_p90: Math.round(quantile(perCase, 0.9)),
    total_median: Math.round(quantile(vs.map((v) => v.details?.samples_to_verdict ?? v.samples), 0.5)),
    seconds: (Date.now() - t) / 1000,
  };
}

const z = (p: number) => probit(p);

/** n per arm for a one-sided two-sample z-test at level a with power pw against a difference d. */
function textbookN(a: number, pw: number, variance: number, d: number): number {
  return Math.ceil(((z(1 - a) + z(pw)) ** 2 * variance) / (d * d));
}

/** Power of that test with n per arm. */
function powerAt(a: number, n: number, variance: number, d: number): number {
  return cumulativeStdNormalProbability(d / Math.sqrt(variance / n) - z(1 - a));
}

interface ProtocolSpec {
  property: 'monotonicity' | 'continuity';
  check: Check;
  /** Bid points of the paper's protocol for this property. */
  points: number;
  /** Comparisons per case of the fixed-n version of the protocol (adjacent pairs; x2 two-sided). */
  comparisons: number;
  cases: number;
  /** The difference to detect beyond the null and the Bernoulli variance of the two arms. */
  delta: number;
  variance: number;
  p: [number, number];
  correct: (() => MechanismUnderTest)[];
  minimal: () => MechanismUnderTest;
  planted: () => MechanismUnderTest;
}

const protocols: ProtocolSpec[] = [
  {
    property: 'monotonicity',
    check: monotonicity,
    points: PAPER_GRID.length,
    comparisons: PAPER_GRID.length - 1,
    cases: monotonicitySpec.defaultCases,
    delta: effect,
    // minimal:dip: itctr 0.5 * 0.6 = 0.30 before the drop, 0.5 * 0.5 = 0.25 after (click outcomes).
    p: [0.3, 0.25],
    variance: 0.3 * 0.7 + 0.25 * 0.75,
    correct: [F.correctLogistic, F.correctSteep, F.correctSoftmax],
    minimal: () => F.minimalDip(effect),
    planted: F.plantedDip,
  },
  {
    property: 'continuity',
    check: continuity,
    points: 100,
    comparisons: 2 * 99,
    cases: continuitySpec.defaultCases,
    delta: effect,
    // minimal:jump: itctr 0.5 * 0.3 = 0.15 below bid 50, 0.5 * 0.7 = 0.35 from 50 on.
    p: [0.15, 0.35],
    variance: 0.15 * 0.85 + 0.35 * 0.65,
    correct: [F.correctLogistic, F.correctSteep, F.correctSoftmax],
    minimal: () => F.minimalJump(jump + effect),
    planted: F.plantedStep,
  },
];

const result: Record<string, unknown> = {
  generated: new Date().toISOString(),
  config: { alpha, effect, jump, budget: DEFAULT_BUDGET, seeds: SEEDS, target_power: TARGET_POWER, paper_per_point: PAPER_PER_POINT },
};
const lines: string[] = [];

for (const spec of protocols) {
  const correct = [];
  for (const c of spec.correct) correct.push(await runs(spec.check, F.samplingOnly(c())));
  const minimal = await runs(spec.check, F.samplingOnly(spec.minimal()));
  const planted = await runs(spec.check, F.samplingOnly(spec.planted()));
  const flat = await runs(spec.check, F.samplingOnly(F.flatRule()));
  const noCrnMinimal = await runs(spec.check, F.withoutCrn(spec.minimal()));
  const noCrnCorrect = await runs(spec.check, F.withoutCrn(F.correctLogistic()));

  // Ours, per case: the worse of "to pass on a correct rule" and "to fail on the minimal violation".
  const passPerCase = Math.max(...correct.map((r) => r.per_case_median));
  const oursPerCase = Math.max(passPerCase, minimal.per_case_median);

  const familyAlpha = alpha / (spec.cases * spec.comparisons);
  const literalPerCase = PAPER_PER_POINT * spec.points;
  const literalPower = powerAt(familyAlpha, PAPER_PER_POINT, spec.variance, spec.delta);
  const equalN = textbookN(familyAlpha, TARGET_POWER, spec.variance, spec.delta);
  const textbookSingle = textbookN(alpha, TARGET_POWER, spec.variance, spec.delta);
  const pbar = (spec.p[0] + spec.p[1]) / 2;
  const textbookFormula = textbookN(alpha, TARGET_POWER, 2 * pbar * (1 - pbar), spec.delta);

  const entry = {
    ours: {
      design: 'sequential betting tests, common random numbers, focus rounds; responses per case (one curve)',
      per_case_to_pass_correct: passPerCase,
      per_case_to_fail_minimal: minimal.per_case_median,
      per_case: oursPerCase,
      power_at_effect: minimal.fail_rate,
      power_at_effect_single_case: minimal.first_case_fail_rate,
      false_alarm_at_null_boundary: flat.fail_rate,
      correct,
      minimal,
      planted,
      null_flat: flat,
      without_crn: { minimal: noCrnMinimal, correct: noCrnCorrect },
    },
    paper_literal: {
      per_point: PAPER_PER_POINT,
      points: spec.points,
      per_case: literalPerCase,
      power_at_effect: Math.round(literalPower * 1000) / 1000,
    },
    paper_equal_power: {
      per_point: equalN,
      points: spec.points,
      per_case: equalN * spec.points,
      alpha_per_comparison: familyAlpha,
      power: TARGET_POWER,
    },
    textbook: {
      formula: 'n per arm = (z_{1-a} + z_{1-b})^2 * 2p(1-p) / d^2',
      delta: spec.delta,
      p: pbar,
      power: TARGET_POWER,
      per_arm_single_comparison: textbookFormula,
      per_arm_single_comparison_exact_variance: textbookSingle,
      per_arm_bonferroni: equalN,
    },
    ratio: {
      paper_equal_power_over_ours: Math.round(((equalN * spec.points) / oursPerCase) * 10) / 10,
      paper_literal_over_ours: Math.round((literalPerCase / oursPerCase) * 10) / 10,
    },
  };
  result[spec.property] = entry;
  lines.push(
    `${spec.property}: ours ${oursPerCase} responses per case (pass ${passPerCase}, fail at the minimal violation ${minimal.per_case_median}); ` +
      `power ${(minimal.fail_rate * 100).toFixed(0)}% (one case alone ${(minimal.first_case_fail_rate * 100).toFixed(0)}%), false alarms at the null boundary ${(flat.fail_rate * 100).toFixed(0)}% (${SEEDS} seeds)`,
    `  paper literal: ${literalPerCase} per case (power ${(literalPower * 100).toFixed(1)}% against the same violation) -> ${entry.ratio.paper_literal_over_ours}x ours`,
    `  paper at equal alpha and power: ${equalN} per point, ${equalN * spec.points} per case -> ${entry.ratio.paper_equal_power_over_ours}x ours`,
    `  textbook n per arm (single comparison, a=${alpha}, power ${TARGET_POWER}, d=${spec.delta}, p=${pbar}): ${textbookFormula}; with Bonferroni: ${equalN}`,
    `  without common random numbers: power ${(noCrnMinimal.fail_rate * 100).toFixed(0)}%, correct:logistic pass ${(noCrnCorrect.pass_rate * 100).toFixed(0)}% at the default budget`,
  );
  console.log(lines.slice(-5).join('\n'));
}

// vm-truthfulness has no counterpart in the paper's experiments; ours only, for the power statement.
{
  const correct = [];
  for (const c of [F.correctLogistic, F.correctSteep, F.correctSoftmax]) correct.push(await runs(vmTruthfulness, F.samplingOnly(c())));
  const minimal = await runs(vmTruthfulness, F.samplingOnly(F.minimalDip(effect)));
  const planted = await runs(vmTruthfulness, F.samplingOnly(F.plantedUnderbid()));
  result['vm-truthfulness'] = {
    ours: {
      per_case_to_pass_correct: Math.max(...correct.map((r) => r.per_case_median)),
      per_case_to_fail_minimal: minimal.per_case_median,
      power_at_effect: minimal.fail_rate,
      correct,
      minimal,
      planted,
    },
  };
  console.log(
    `vm-truthfulness: power ${(minimal.fail_rate * 100).toFixed(0)}% on minimal:dip (${minimal.per_case_median} per case); ` +
      `correct rules pass ${correct.map((r) => `${(r.pass_rate * 100).toFixed(0)}%`).join('/')} after ${correct.map((r) => r.per_case_median).join('/')} per case`,
  );
}

const out = join(dirname(fileURLToPath(import.meta.url)), 'results', 'verify-samples.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\nwrote ${out}`);
