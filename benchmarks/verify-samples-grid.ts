/**
 * Responses to a verdict of sampled monotonicity and continuity, three designs side by side, on
 * 0/1 clicks (observable `clicks`), at default alpha, rho, kappa, effect:
 *
 * - `full`: the fixed design (monotonicity on 1, 10, ..., 100; continuity on all 99 steps), common
 *   random numbers (--grid full --share off);
 * - `pilot`: the grid a pilot picks per case (properties/grid.ts), common random numbers;
 * - `weighted`: the pilot's grid, one response reweighted to every grid bid (properties/weighted.ts),
 *   the rule reporting exact log-probabilities (tests/fixtures/logprob.ts).
 *
 *   nice npx tsx benchmarks/verify-samples-grid.ts [--rates 0.05,0.1,0.3] [--seeds 2] [--budget 1500000] [--out FILE]
 *   npx tsx benchmarks/verify-samples-grid.ts --render     (rebuild the table from the JSON's rows)
 *
 * Beside each rule, the paper's protocol (n responses at every point of its grid, one z-test per
 * comparison on click counts) at equal alpha and 90% power, with the same number of cases:
 * for a violation, the z-test of the most violating pair at alpha / (cases x comparisons), in one
 * case (every auction of a planted rule violates, and the protocol is told where); for a pass,
 * the one-sided z-test that each comparison stays below the margin at alpha (an
 * intersection-union test, like ours), sized for its hardest comparison on the exact curve.
 *
 * Rules: logistic ramps of scale 15 and 4 bids (must pass), the slot step and the 50% relative
 * dip (must fail). Writes benchmarks/results/verify-samples-grid.json with the command.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cumulativeStdNormalProbability, probit } from 'simple-statistics';
import { machine } from './lib.ts';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { continuity } from '../properties/continuity.ts';
import { monotonicity } from '../properties/monotonicity.ts';
import type { CheckOptions, MechanismUnderTest, Verdict } from '../properties/types.ts';
import * as F from '../tests/fixtures/planted.ts';
import * as L from '../tests/fixtures/logprob.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
};
const RATES = (flag('--rates') ?? '0.05,0.1,0.3').split(',').map(Number);
const SEEDS = Number(flag('--seeds') ?? 2);
const BUDGET = Number(flag('--budget') ?? 1_500_000);
const RULES: [string, 'monotonicity' | 'continuity', F.RateQ, 'pass' | 'fail'][] = [
  ['logistic scale 15', 'monotonicity', L.logisticScale(15), 'pass'],
  ['logistic scale 4', 'monotonicity', L.logisticScale(4), 'pass'],
  ['logistic scale 15', 'continuity', L.logisticScale(15), 'pass'],
  ['logistic scale 4', 'continuity', L.logisticScale(4), 'pass'],
  ['slot step', 'continuity', F.slotWinnerQ, 'fail'],
  ['50% relative dip over ten bids', 'monotonicity', F.relativeDipQ, 'fail'],
];
const DESIGNS: [string, (name: string, q: F.RateQ, c: number) => MechanismUnderTest, CheckOptions][] = [
  ['full', (n, q, c) => F.samplingOnly(F.atClickRate(n, q, c)), { bidGrid: 'full', share: 'off' }],
  ['pilot', (n, q, c) => F.samplingOnly(F.atClickRate(n, q, c)), {}],
  ['weighted', (n, q, c) => L.atClickRateWithLogProb(n, q, c), {}],
];

const OUT = flag('--out') ?? join(dirname(fileURLToPath(import.meta.url)), 'results', 'verify-samples-grid.json');
const ALPHA = 0.05;
const z = (p: number) => probit(p);
void cumulativeStdNormalProbability;

/** Responses per case the paper's protocol needs at 90% power (see the module comment). */
function paperPerCase(prop: 'monotonicity' | 'continuity', q: F.RateQ, c: number, expected: 'pass' | 'fail', cases: number): number {
  const input = F.fixtureInstances(new (class {
    int(a: number) { return a + 1; }
    pick<T>(xs: readonly T[]) { return xs[0]!; }
    shuffle<T>(xs: readonly T[]) { return [...xs]; }
  })() as never);
  input.ads[0]!.bid = 100;
  const it = (b: number) => c * Math.min(1, Math.max(0, q(b, { ...input, ads: input.ads.map((a, k) => (k === 0 ? { ...a, bid: b } : a)) })));
  const grid = prop === 'continuity' ? Array.from({ length: 100 }, (_, k) => k + 1) : [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
  const pairs = prop === 'continuity' ? grid.slice(0, -1).map((b, k) => [b, grid[k + 1]!] as const) : grid.flatMap((b, k) => grid.slice(k + 1).map((b2) => [b, b2] as const));
  const S = it(1) + it(100);
  const v = (p: number) => p * (1 - p);
  let worst = 0;
  for (const [b, b2] of pairs) {
    const [p0, p1] = [it(b), it(b2)];
    // Mean of the tested difference, its null value, and its variance per response per point.
    const [mean, bound, variance] =
      prop === 'continuity' ? [Math.abs(p1 - p0), (expected === 'fail' ? 0.3 : 0.2) * S, v(p0) + v(p1)] : [0.9 * p0 - p1, expected === 'fail' ? 0 : 0.1 * S, 0.81 * v(p0) + v(p1)];
    const gap = expected === 'fail' ? mean - bound : bound - mean;
    if (expected === 'fail' && gap <= 0) continue;
    const a = expected === 'fail' ? ALPHA / (cases * pairs.length * (prop === 'continuity' ? 2 : 1)) : ALPHA;
    const n = Math.ceil(((z(1 - a) + z(0.9)) ** 2 * Math.max(variance, 1e-12)) / (gap * gap));
    worst = expected === 'fail' ? (worst === 0 ? n : Math.min(worst, n)) : Math.max(worst, n);
  }
  return worst * grid.length;
}

const fmt = (n: number | undefined) => (n === undefined ? '–' : n >= 1e6 ? `${(n / 1e6).toFixed(1)}M` : n >= 1000 ? `${Math.round(n / 100) / 10}k` : String(n));

function render(rows: Record<string, unknown>[], command: string, analysis: string[] = []): void {
  const cases = { monotonicity: 10, continuity: 5 } as const;
  const md = [
    '| click rate | property | rule | expected | full grid (old), CRN | pilot grid, CRN | pilot grid, weighted | paper protocol at 90% power (pass: all cases; fail: one) | best of ours vs paper |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  const targets: { what: string; target: string; measured: string; met: boolean }[] = [];
  for (const r of rows) {
    const spec = RULES.find(([n, p]) => n === r.rule && p === r.property)!;
    const cell = (d: string) => {
      const x = r[d] as { verdicts: string[]; median: number } | undefined;
      return x ? `${x.verdicts.join('/')}, ${fmt(x.median)}` : '–';
    };
    const prop = r.property as 'monotonicity' | 'continuity';
    // A pass needs every case; a planted violation is in every auction, so the protocol's first case finds it.
    const paper = paperPerCase(prop, spec[2], r.click_rate as number, spec[3], cases[prop]) * (spec[3] === 'pass' ? cases[prop] : 1);
    const ours = ['pilot', 'weighted', 'full']
      .map((d) => r[d] as { verdicts: string[]; median: number } | undefined)
      .filter((x): x is { verdicts: string[]; median: number } => !!x && x.verdicts.every((v) => v === spec[3]))
      .map((x) => x.median);
    const best = ours.length ? Math.min(...ours) : undefined;
    const ratio = best ? paper / best : undefined;
    md.push(`| ${r.click_rate} | ${prop} | ${r.rule} | ${spec[3]} | ${cell('full')} | ${cell('pilot')} | ${cell('weighted')} | ${fmt(paper)} | ${ratio ? `${ratio.toFixed(1)}x fewer` : '–'} |`);
    targets.push({ what: `${prop}, ${r.rule}, click rate ${r.click_rate}: responses to ${spec[3]} vs the paper's protocol`, target: '>= 10x fewer', measured: ratio ? `${ratio.toFixed(1)}x` : 'no verdict', met: (ratio ?? 0) >= 10 });
  }
  const doc = {
    suite: 'verify-samples-grid',
    date: new Date().toISOString(),
    machine: machine(),
    tasks: [],
    targets,
    markdown: md,
    notes: [
      `Produced by \`${command}\` (0/1 clicks, alpha 0.05, rho 0.1, kappa 0.3, effect 0.1, default cases; one seed per cell unless it lists more verdicts; shrinking off).`,
      'full: the old fixed design; pilot: a grid per case from a pilot on its own seed (properties/grid.ts); weighted: the same grid, one response reweighted to every grid bid by exact log-probabilities (properties/weighted.ts). Responses include the pilots.',
      'The paper protocol column is a formula on the exact curve (z-tests on click counts at 90% power, the same alpha and number of cases), not a simulation.',
      ...analysis,
    ],
    analysis,
    extra: { rows },
  };
  writeFileSync(OUT, `${JSON.stringify(doc, null, 2)}\n`);
  console.log(md.join('\n'));
}

if (args.includes('--render')) {
  const prev = JSON.parse(readFileSync(OUT, 'utf8')) as { rows?: Record<string, unknown>[]; extra?: { rows: Record<string, unknown>[] }; command?: string; notes?: string[]; analysis?: string[] };
  // `analysis`: what the numbers say, written after reading them; kept when the table is rebuilt.
  render(prev.extra?.rows ?? prev.rows ?? [], prev.command ?? (prev.notes?.[0] ?? '').replace(/^Produced by `(.*?)`.*$/, '$1'), prev.analysis ?? []);
  process.exit(0);
}

const rows: Record<string, unknown>[] = [];
for (const c of RATES) {
  for (const [name, prop, q, expected] of RULES) {
    const row: Record<string, unknown> = { click_rate: c, rule: name, property: prop, expected };
    for (const [design, make, opts] of DESIGNS) {
      const t = Date.now();
      const vs: Verdict[] = [];
      for (let s = 1; s <= SEEDS; s++) vs.push(await (prop === 'monotonicity' ? monotonicity : continuity)(make(name, q, c), { seed: s, shrink: false, observable: 'clicks', budget: BUDGET, ...opts }));
      const used = vs.map((v) => v.details?.samples_to_verdict ?? v.samples).sort((a, b) => a - b);
      row[design] = { verdicts: vs.map((v) => v.verdict), responses: used, median: used[Math.floor(used.length / 2)], seconds: (Date.now() - t) / 1000 };
    }
    rows.push(row);
    const f = (d: string) => {
      const r = row[d] as { verdicts: string[]; median: number };
      return `${d} ${r.verdicts.join('/')} ${r.median}`;
    };
    console.log(`c=${c} ${prop} ${name}: ${DESIGNS.map(([d]) => f(d)).join(' | ')}`);
    render(rows, `nice npx tsx benchmarks/verify-samples-grid.ts --rates ${RATES.join(',')} --seeds ${SEEDS} --budget ${BUDGET}`);
  }
}
