/**
 * Power, false alarms and samples to a verdict of the monotonicity and continuity checks, on
 * clicks, at the click rates users have (0.02 to 0.8), against the paper's protocol on clicks.
 *
 *   npx tsx benchmarks/verify-samples.ts [--seeds N] [--pass-seeds N] [--rates 0.02,0.3] [--null-budget N]
 *                                        [--property continuity] [--role smooth] [--out FILE]
 *
 * Writes benchmarks/results/verify-samples.json (or FILE) and prints one line per rule; the table
 * of properties/README.md is made from the JSON by benchmarks/verify-samples-table.ts, which can
 * merge a run of some rows (--property, --role) into an earlier one. Each row records the budget
 * it ran under (each property's default cap, or --null-budget for the nulls).
 *
 * Every rule inserts each ad independently with an exposure probability q(bid) and is clicked at
 * a fixed rate c per exposure (tests/fixtures/planted.ts, `atClickRate`); c is the click rate of
 * the row. The sampled path sees what a judge gives: 0/1 clicks (observable `clicks`), drawn
 * with common random numbers when the rule honours seeds (the judge's seed fixed per batch).
 *
 * - violations, which must fail with power >= 0.9 at the default budget: a winner-takes-the-slot
 *   step and a step that half of the queries have (continuity); a 50% relative dip over ten bids
 *   and a rule whose exposure falls as the bid rises (monotonicity);
 * - smooth rules, which must pass: logistic ramps from 10% to 90% exposure over 15 and 60 bids
 *   (both properties). A pass costs about 1 / c responses per comparison, so at low click rates it
 *   may need more than the default budget: the table says how many were used;
 * - nulls that can move: the text changes with the bid while the allocation does not (which
 *   responses insert the ad and how it is phrased shift with the bid; one phrasing is clicked 25%
 *   more than the other), and the boundaries of the nulls (a relative dip of exactly rho, a step
 *   of exactly kappa S); false alarms must stay <= alpha, with common random numbers and without.
 *   A null never settles, so it runs to its budget: --null-budget (default 40,000) keeps the run
 *   short; the tests are anytime-valid, so a larger budget can only add the chances a longer
 *   run has, each bounded the same way;
 * - the exact path (rules that enumerate) on the same rules: deterministic verdicts.
 *
 * The paper's protocol (200 responses at each bid point, section 5.4) is turned into the test it
 * would need: one z-test per adjacent pair of points on click counts (Bernoulli variance at the
 * two itctr levels), Bonferroni over its pairs and over the same number of cases as ours. We give
 * its power against the same violation at the same alpha, and the n per point it needs for 90%.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cumulativeStdNormalProbability, probit } from 'simple-statistics';
import { continuity, continuitySpec } from '../properties/continuity.ts';
import { monotonicity, monotonicitySpec, PAPER_GRID } from '../properties/monotonicity.ts';
import type { CheckOptions, MechanismUnderTest, Verdict } from '../properties/types.ts';
import { DEFAULT_ALPHA, DEFAULT_BUDGET, DEFAULT_EFFECT, DEFAULT_KAPPA, DEFAULT_RHO } from '../properties/types.ts';
import * as F from '../tests/fixtures/planted.ts';
import type { Runs } from './verify-samples-table.ts';
import type { AuctionInput } from '../mechanism/types.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
};
const SEEDS = Number(flag('--seeds') ?? 20);
const PASS_SEEDS = Number(flag('--pass-seeds') ?? 10);
const RATES = (flag('--rates') ?? '0.02,0.05,0.1,0.3,0.8').split(',').map(Number);
const NULL_BUDGET = Number(flag('--null-budget') ?? 40_000);
const ONLY_PROPERTY = flag('--property');
const ONLY_ROLE = flag('--role');
const EXACT_SEEDS = 3;
const PAPER_PER_POINT = 200;
const alpha = DEFAULT_ALPHA;

type Check = (m: MechanismUnderTest, opts?: CheckOptions) => Promise<Verdict>;
type Q = (b: number, input: AuctionInput) => number;
type Role = 'violation' | 'smooth' | 'null';

interface RuleSpec {
  name: string;
  property: 'monotonicity' | 'continuity';
  role: Role;
  q: Q;
  moving?: boolean;
}

const RULES: RuleSpec[] = [
  { name: 'slot step (winner takes the slot)', property: 'continuity', role: 'violation', q: F.slotWinnerQ },
  { name: 'step on half of the queries', property: 'continuity', role: 'violation', q: F.partialStepQ },
  { name: '50% relative dip over ten bids', property: 'monotonicity', role: 'violation', q: F.relativeDipQ },
  { name: 'inverse bid (exposure falls as the bid rises)', property: 'monotonicity', role: 'violation', q: F.inverseQ },
  { name: 'logistic ramp, 15 bids', property: 'monotonicity', role: 'smooth', q: F.rampQ(15) },
  { name: 'logistic ramp, 60 bids', property: 'monotonicity', role: 'smooth', q: F.rampQ(60) },
  { name: 'logistic ramp, 15 bids', property: 'continuity', role: 'smooth', q: F.rampQ(15) },
  { name: 'logistic ramp, 60 bids', property: 'continuity', role: 'smooth', q: F.rampQ(60) },
  { name: 'null: text moves with the bid, allocation flat', property: 'monotonicity', role: 'null', q: () => 0.6, moving: true },
  { name: 'null: text moves with the bid, allocation flat', property: 'continuity', role: 'null', q: () => 0.6, moving: true },
  { name: `null boundary: relative dip of exactly rho`, property: 'monotonicity', role: 'null', q: F.boundaryDipQ(DEFAULT_RHO), moving: true },
  { name: `null boundary: step of exactly kappa S`, property: 'continuity', role: 'null', q: F.boundaryStepQ(DEFAULT_KAPPA), moving: true },
];

const CHECKS: Record<RuleSpec['property'], Check> = { monotonicity, continuity };
/** The cap a check runs under when no budget is given: the property's own default. */
const DEFAULT_CAPS: Record<RuleSpec['property'], number> = {
  monotonicity: monotonicitySpec.defaultBudget ?? DEFAULT_BUDGET,
  continuity: continuitySpec.defaultBudget ?? DEFAULT_BUDGET,
};

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? Number.NaN;
}

async function runs(check: Check, m: MechanismUnderTest, seeds: number, opts: CheckOptions): Promise<Runs> {
  const t = Date.now();
  const vs: Verdict[] = [];
  // Shrinking is off: it happens after the verdict and is not part of its cost.
  for (let s = 1; s <= seeds; s++) vs.push(await check(m, { seed: s, shrink: false, ...opts }));
  const share = (k: Verdict['verdict']) => Math.round((vs.filter((v) => v.verdict === k).length / vs.length) * 1000) / 1000;
  const used = vs.map((v) => v.details?.samples_to_verdict ?? v.samples);
  return {
    seeds,
    pass: share('pass'),
    fail: share('fail'),
    inconclusive: share('inconclusive'),
    samples_median: Math.round(quantile(used, 0.5)),
    samples_p90: Math.round(quantile(used, 0.9)),
    seconds: (Date.now() - t) / 1000,
  };
}

const z = (p: number) => probit(p);

/**
 * The paper's protocol as a test on clicks: n responses at each point, a one-sided z-test of the
 * difference of the click rates of two points, Bonferroni over `comparisons`. Power against
 * itctr levels p0 -> p1 (a difference d = |p0 - p1|).
 */
function protocolPower(n: number, p0: number, p1: number, comparisons: number): number {
  const a = alpha / comparisons;
  const v = p0 * (1 - p0) + p1 * (1 - p1);
  return cumulativeStdNormalProbability(Math.abs(p0 - p1) / Math.sqrt(v / n) - z(1 - a));
}

function protocolN(p0: number, p1: number, comparisons: number, power = 0.9): number {
  const a = alpha / comparisons;
  const v = p0 * (1 - p0) + p1 * (1 - p1);
  return Math.ceil(((z(1 - a) + z(power)) ** 2 * v) / (p0 - p1) ** 2);
}

const result: Record<string, unknown> = {
  generated: new Date().toISOString(),
  command:
    `npx tsx benchmarks/verify-samples.ts --seeds ${SEEDS} --pass-seeds ${PASS_SEEDS} --rates ${RATES.join(',')} --null-budget ${NULL_BUDGET}` +
    `${ONLY_PROPERTY ? ` --property ${ONLY_PROPERTY}` : ''}${ONLY_ROLE ? ` --role ${ONLY_ROLE}` : ''}`,
  config: { alpha, rho: DEFAULT_RHO, kappa: DEFAULT_KAPPA, effect: DEFAULT_EFFECT, budgets: DEFAULT_CAPS, null_budget: NULL_BUDGET, seeds: SEEDS, pass_seeds: PASS_SEEDS, observable: 'clicks' },
};
const rows: Record<string, unknown>[] = [];

for (const c of RATES) {
  for (const r of RULES) {
    if ((ONLY_PROPERTY && r.property !== ONLY_PROPERTY) || (ONLY_ROLE && r.role !== ONLY_ROLE)) continue;
    const check = CHECKS[r.property];
    const seeds = r.role === 'violation' ? SEEDS : PASS_SEEDS;
    const base = F.atClickRate(`${r.name} @${c}`, r.q, c, r.moving ?? false);
    const row: Record<string, unknown> = { click_rate: c, rule: r.name, property: r.property, role: r.role };
    const budget = r.role === 'null' ? { budget: NULL_BUDGET } : {};
    row.budget = r.role === 'null' ? NULL_BUDGET : DEFAULT_CAPS[r.property];
    row.sampled = await runs(check, F.samplingOnly(base), seeds, { observable: 'clicks', ...budget });
    if (r.role === 'null') {
      // The same null without common random numbers: a backend that ignores seeds.
      row.sampled_without_crn = await runs(check, F.withoutCrn(base), seeds, { observable: 'clicks', ...budget });
    } else {
      // Exact path: deterministic, a few seeds (different auctions); three cases keep the
      // 2^n-response enumerations of ten-ad auctions affordable.
      row.exact = await runs(check, base, EXACT_SEEDS, { cases: 3 });
    }
    rows.push(row);
    const s = row.sampled as Runs;
    const e = row.exact as Runs | undefined;
    const nc = row.sampled_without_crn as Runs | undefined;
    console.log(
      `c=${c} ${r.property.padEnd(12)} ${r.name.padEnd(48)} sampled: fail ${(s.fail * 100).toFixed(0)}% pass ${(s.pass * 100).toFixed(0)}% ` +
        `(${s.samples_median} median, ${s.samples_p90} p90 responses, ${s.seconds.toFixed(0)} s)` +
        (e ? `; exact: fail ${(e.fail * 100).toFixed(0)}% pass ${(e.pass * 100).toFixed(0)}%` : '') +
        (nc ? `; without CRN: fail ${(nc.fail * 100).toFixed(0)}% pass ${(nc.pass * 100).toFixed(0)}%` : ''),
    );
  }
}
result.rows = rows;

// The paper's protocol on clicks, against the relative dip (itctr 0.9c -> 0.45c between two grid
// points) and the slot step (0 -> c at one adjacent pair of the 100-point sweep).
const protocol: Record<string, unknown>[] = [];
for (const c of RATES) {
  const mono = { p0: 0.9 * c, p1: 0.45 * c, comparisons: monotonicitySpec.defaultCases * (PAPER_GRID.length - 1), points: PAPER_GRID.length };
  const cont = { p0: 0, p1: c, comparisons: continuitySpec.defaultCases * 2 * 99, points: 100 };
  const ours = (rule: string, property: string) => (rows.find((x) => x.click_rate === c && x.rule === rule && x.property === property)?.sampled as Runs | undefined)?.samples_median;
  for (const [property, p, rule] of [
    ['monotonicity', mono, '50% relative dip over ten bids'],
    ['continuity', cont, 'slot step (winner takes the slot)'],
  ] as const) {
    const nEq = protocolN(p.p0, p.p1, p.comparisons);
    protocol.push({
      click_rate: c,
      property,
      violation: rule,
      paper_literal: { per_point: PAPER_PER_POINT, per_case: PAPER_PER_POINT * p.points, power: Math.round(protocolPower(PAPER_PER_POINT, p.p0, p.p1, p.comparisons) * 1000) / 1000 },
      paper_equal_power: { per_point: nEq, per_case: nEq * p.points, power: 0.9 },
      ours_to_fail_median: ours(rule, property) ?? null,
    });
  }
}
result.paper_protocol_on_clicks = protocol;

const out = flag('--out') ?? join(dirname(fileURLToPath(import.meta.url)), 'results', 'verify-samples.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\nwrote ${out}`);
