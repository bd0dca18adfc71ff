/**
 * Issue #24, item 5: responses to a verdict, power and false alarms of sampled monotonicity and
 * continuity, re-measured in one run for three designs, at click rates 0.02, 0.05, 0.1, 0.3, 0.8,
 * observed on 0/1 clicks and on the click probability of each response:
 *
 * - `current`: the default design, the pilot's grid per case (properties/grid.ts) with samples
 *   shared across its bids by importance weighting (properties/weighted.ts); the rule reports
 *   exact log-probabilities (tests/fixtures/logprob.ts), as the embedded world does;
 * - `pilot`: the pilot's grid with common random numbers, for a rule that reports none;
 * - `old`: the fixed design before issue #24 (`--grid full --share off`: monotonicity on
 *   1, 10, ..., 100, continuity on all 99 steps, common random numbers);
 * - `paper`: the paper's protocol (n fresh responses at every point of its grid), simulated with
 *   the test it would need at our alpha (benchmarks/paper-protocol.ts), and sized by simulation
 *   to reach the expected verdict in 90% of runs.
 *
 * Rules (tests/fixtures/planted.ts, `atClickRate`: each ad inserted independently with exposure
 * q(bid), clicked at rate c per exposure): logistic ramps of scale 15 and 4 bids (must pass); the
 * slot step and the step on half of the queries (continuity), the 50% relative dip over ten bids
 * and the inverse bid (monotonicity), which must fail; the moving nulls (text moves with the bid,
 * allocation flat) and the boundary nulls (a dip of exactly rho, a step of exactly kappa S), which
 * must not fail beyond alpha.
 *
 * Every check runs at default settings under its default budget (the cap per run: 200k
 * monotonicity, 300k continuity), except the nulls, which never settle and run to --null-budget.
 * A cell's result is appended to --out as soon as it finishes (a timeout loses only the cell in
 * progress); --resume skips cells already there.
 *
 *   nice -n 19 npx tsx benchmarks/verify-samples-2.ts [--rates 0.02,0.05,0.1,0.3,0.8]
 *     [--observables clicks,click-probability] [--designs current,old] [--roles pass,fail,null]
 *     [--seeds-fail 10] [--seeds-pass 1] [--seeds-null 20] [--null-budget 10000] [--null-rates 0.1,0.3,0.8]
 *     [--paper] [--paper-trials 200] [--out tmp/verify-samples-2/part.json] [--resume] [--rerun-named]
 *
 * --rerun-named reruns a pass that ended inconclusive, same seed, at the budget its verdict named.
 *   npx tsx benchmarks/verify-samples-2-table.ts PART.json ...   (the table, BENCHMARKS' JSON)
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Rng } from '../lib/rng.ts';
import { continuity, continuitySpec } from '../properties/continuity.ts';
import { monotonicity, monotonicitySpec } from '../properties/monotonicity.ts';
import { withBid } from '../properties/sampling.ts';
import type { CheckOptions, MechanismUnderTest, Observable, Verdict } from '../properties/types.ts';
import { DEFAULT_ALPHA, DEFAULT_BUDGET, DEFAULT_CONTINUITY_BUDGET, DEFAULT_EFFECT, DEFAULT_KAPPA, DEFAULT_RHO } from '../properties/types.ts';
import * as F from '../tests/fixtures/planted.ts';
import * as L from '../tests/fixtures/logprob.ts';
import { type Outcomes, PAPER_CONT_GRID, PAPER_MONO_GRID, type ProtocolConfig, smallestN, successRate, validFloor } from './paper-protocol.ts';

export type Property = 'monotonicity' | 'continuity';
export type Role = 'pass' | 'fail' | 'null';
export type Design = 'current' | 'pilot' | 'old';

export interface RuleDef {
  key: string;
  name: string;
  property: Property;
  role: Role;
  q: F.RateQ;
  moving?: boolean;
}

export const RULES: RuleDef[] = [
  { key: 'ramp15', name: 'logistic ramp, scale 15 bids', property: 'monotonicity', role: 'pass', q: L.logisticScale(15) },
  { key: 'ramp4', name: 'logistic ramp, scale 4 bids', property: 'monotonicity', role: 'pass', q: L.logisticScale(4) },
  { key: 'ramp15', name: 'logistic ramp, scale 15 bids', property: 'continuity', role: 'pass', q: L.logisticScale(15) },
  { key: 'ramp4', name: 'logistic ramp, scale 4 bids', property: 'continuity', role: 'pass', q: L.logisticScale(4) },
  { key: 'slot', name: 'slot step (winner takes the slot)', property: 'continuity', role: 'fail', q: F.slotWinnerQ },
  { key: 'half-step', name: 'step on half of the queries', property: 'continuity', role: 'fail', q: F.partialStepQ },
  { key: 'dip', name: '50% relative dip over ten bids', property: 'monotonicity', role: 'fail', q: F.relativeDipQ },
  { key: 'inverse', name: 'inverse bid', property: 'monotonicity', role: 'fail', q: F.inverseQ },
  { key: 'moving', name: 'moving null (text moves, allocation flat)', property: 'monotonicity', role: 'null', q: () => 0.6, moving: true },
  { key: 'moving', name: 'moving null (text moves, allocation flat)', property: 'continuity', role: 'null', q: () => 0.6, moving: true },
  { key: 'boundary', name: 'boundary null: relative dip of exactly rho', property: 'monotonicity', role: 'null', q: F.boundaryDipQ(DEFAULT_RHO), moving: true },
  { key: 'boundary', name: 'boundary null: step of exactly kappa S', property: 'continuity', role: 'null', q: F.boundaryStepQ(DEFAULT_KAPPA), moving: true },
];

export interface RunRecord {
  seed: number;
  verdict: Verdict['verdict'];
  responses: number;
  budget_needed: number | null;
  seconds: number;
  /** --rerun-named: the same seed rerun at the budget an inconclusive verdict named. */
  named?: { budget: number; verdict: Verdict['verdict']; responses: number; seconds: number };
}
export interface Cell {
  key: string;
  design: Design;
  observable: Observable;
  click_rate: number;
  property: Property;
  rule: string;
  role: Role;
  budget: number;
  runs: RunRecord[];
}
export interface PaperCell {
  key: string;
  observable: Observable;
  click_rate: number;
  property: Property;
  rule: string;
  role: Role;
  trials: number;
  /** Smallest n per point reaching the expected verdict in 90% of runs (null: not within the ladder). */
  n_per_point: number | null;
  responses: number | null;
  rate_at_n: number | null;
  /** Smallest n per point for the expected verdict alone (before the validity floor). */
  n_verdict?: number | null;
  /**
   * Smallest n per point from which the protocol's fail test keeps its false alarms on this
   * property's moving and boundary nulls within alpha (z-tests on a few responses per point are
   * not valid; see validFloor); the protocol fixes n in advance, so its n is at least this.
   */
  n_valid?: number | null;
  /** Violations: share failing at the paper's own 200 responses per point. */
  power_at_200?: number;
  /** Nulls: share failing at the n the protocol needs against this property's violation. */
  false_alarms?: number;
  false_alarm_n?: number;
}
export interface PartDoc {
  commands: string[];
  config: Record<string, unknown>;
  cells: Cell[];
  paper: PaperCell[];
}

export const CASES: Record<Property, number> = { monotonicity: monotonicitySpec.defaultCases, continuity: continuitySpec.defaultCases };
export const CAPS: Record<Property, number> = { monotonicity: monotonicitySpec.defaultBudget ?? DEFAULT_BUDGET, continuity: continuitySpec.defaultBudget ?? DEFAULT_CONTINUITY_BUDGET };
export const cellKey = (design: string, obs: string, c: number, property: string, rule: string) => `${design}|${obs}|${c}|${property}|${rule}`;

/** The mechanism a design sees for a rule. */
function mechanismFor(design: Design, r: RuleDef, c: number): MechanismUnderTest {
  const base = F.samplingOnly(F.atClickRate(`${r.name} @${c}`, r.q, c, r.moving ?? false));
  if (design !== 'current') return base;
  // The moving rule writes each inserted ad in one of two phrasings with probability 1/2 whatever
  // the bid: a constant in log pi, which the weights (ratios across bids) do not see.
  return { ...base, name: `${base.name}~logprob`, rule: { ...base.rule, logProb: L.independentLogProb(r.q) } };
}

const DESIGN_OPTS: Record<Design, CheckOptions> = { current: {}, pilot: { share: 'off' }, old: { bidGrid: 'full', share: 'off' } };

/** Observation distributions of the protocol's cases at each of its grid points. */
function protocolCases(r: RuleDef, c: number, obs: Observable): (rng: Rng) => Outcomes[][] {
  const grid = r.property === 'monotonicity' ? PAPER_MONO_GRID : PAPER_CONT_GRID;
  const hi = Math.min(1, 1.25 * c);
  const lo = 0.75 * c;
  return (rng) =>
    Array.from({ length: CASES[r.property] }, () => {
      const input = F.fixtureInstances(rng);
      const focal = rng.int(0, input.ads.length - 1);
      return grid.map((b): Outcomes => {
        const q = Math.min(1, Math.max(0, r.q(b, withBid(input, focal, b))));
        if (obs === 'clicks') return [[1, r.moving ? (q * (hi + lo)) / 2 : q * c]];
        return r.moving ? [[hi, q / 2], [lo, q / 2]] : [[c, q]];
      });
    });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string, dflt: string) => {
    const k = args.indexOf(name);
    return k >= 0 ? args[k + 1]! : dflt;
  };
  const list = (name: string, dflt: string) => flag(name, dflt).split(',');
  const RATES = list('--rates', '0.02,0.05,0.1,0.3,0.8').map(Number);
  const OBS = list('--observables', 'clicks,click-probability') as Observable[];
  const DESIGNS = list('--designs', 'current,old') as Design[];
  const ROLES = list('--roles', 'pass,fail,null') as Role[];
  const KEYS = flag('--rules', '') ? list('--rules', '') : undefined;
  const PROPS = list('--properties', 'monotonicity,continuity') as Property[];
  const SEEDS: Record<Role, number> = { fail: Number(flag('--seeds-fail', '10')), pass: Number(flag('--seeds-pass', '1')), null: Number(flag('--seeds-null', '20')) };
  const SEED0 = Number(flag('--first-seed', '1'));
  const NULL_BUDGET = Number(flag('--null-budget', '10000'));
  const NULL_RATES = list('--null-rates', '0.1,0.3,0.8').map(Number);
  const PAPER = args.includes('--paper');
  const RERUN_NAMED = args.includes('--rerun-named');
  const TRIALS = Number(flag('--paper-trials', '200'));
  const OUT = flag('--out', 'tmp/verify-samples-2/part.json');
  const command = `nice -n 19 npx tsx benchmarks/verify-samples-2.ts ${args.join(' ')}`;

  const doc: PartDoc =
    args.includes('--resume') && existsSync(OUT) ? (JSON.parse(readFileSync(OUT, 'utf8')) as PartDoc) : { commands: [], config: {}, cells: [], paper: [] };
  doc.commands.push(command);
  doc.config = { alpha: DEFAULT_ALPHA, rho: DEFAULT_RHO, kappa: DEFAULT_KAPPA, effect: DEFAULT_EFFECT, caps: CAPS, cases: CASES, null_budget: NULL_BUDGET };
  mkdirSync(dirname(OUT), { recursive: true });
  const save = () => writeFileSync(OUT, `${JSON.stringify(doc, null, 1)}\n`);
  const rules = RULES.filter((r) => ROLES.includes(r.role) && PROPS.includes(r.property) && (!KEYS || KEYS.includes(r.key)));

  if (PAPER) {
    const cfgOf = (p: Property): ProtocolConfig => ({ property: p, cases: CASES[p], alpha: DEFAULT_ALPHA, rho: DEFAULT_RHO, kappa: DEFAULT_KAPPA, effect: DEFAULT_EFFECT });
    const points = (p: Property) => (p === 'monotonicity' ? PAPER_MONO_GRID : PAPER_CONT_GRID).length;
    const valid = new Map<string, number | null>();
    // Violations and passes first: the nulls are run at the n the violations need.
    for (const r of [...rules].sort((a, b) => (a.role === 'null' ? 1 : 0) - (b.role === 'null' ? 1 : 0))) {
      for (const obs of OBS) {
        for (const c of r.role === 'null' ? NULL_RATES.filter((x) => RATES.includes(x)) : RATES) {
          const key = cellKey('paper', obs, c, r.property, r.name);
          if (doc.paper.some((p) => p.key === key)) continue;
          const t = Date.now();
          const draw = protocolCases(r, c, obs);
          const cfg = cfgOf(r.property);
          const cell: PaperCell = { key, observable: obs, click_rate: c, property: r.property, rule: r.name, role: r.role, trials: TRIALS, n_per_point: null, responses: null, rate_at_n: null };
          if (r.role === 'null') {
            // The largest n the protocol needs against this property's violations at this rate.
            const ns = doc.paper.filter((p) => p.observable === obs && p.click_rate === c && p.property === r.property && p.role === 'fail' && p.n_per_point !== null).map((p) => p.n_per_point!);
            if (ns.length) {
              cell.false_alarm_n = Math.max(...ns);
              cell.false_alarms = successRate(11, cell.false_alarm_n, TRIALS * 2, draw, cfg, 'fail');
            }
          } else {
            const vkey = `${obs}|${c}|${r.property}`;
            if (!valid.has(vkey)) {
              const nulls = RULES.filter((x) => x.role === 'null' && x.property === r.property).map((x) => protocolCases(x, c, obs));
              valid.set(vkey, validFloor(17, TRIALS * 2, nulls, cfg));
            }
            const nValid = valid.get(vkey) ?? null;
            const found = nValid === null ? null : smallestN(7, TRIALS, draw, cfg, r.role, 0.9, 20_000_000, nValid);
            cell.n_verdict = found?.n ?? null;
            cell.n_valid = nValid;
            if (found && nValid !== null) {
              const n = Math.max(found.n, nValid);
              const rate = n === found.n ? found.rate : successRate(7, n, TRIALS, draw, cfg, r.role);
              Object.assign(cell, { n_per_point: n, responses: n * points(r.property) * CASES[r.property], rate_at_n: rate });
            }
            if (r.role === 'fail') cell.power_at_200 = successRate(13, 200, TRIALS, draw, cfg, 'fail');
          }
          doc.paper.push(cell);
          save();
          console.log(`paper ${obs} c=${c} ${r.property} ${r.name}: n/point ${cell.n_per_point ?? '-'} responses ${cell.responses ?? '-'}` +
            `${cell.power_at_200 !== undefined ? ` power@200 ${cell.power_at_200}` : ''}${cell.false_alarms !== undefined ? ` false alarms ${cell.false_alarms} at n ${cell.false_alarm_n}` : ''} (${((Date.now() - t) / 1000).toFixed(1)} s)`);
        }
      }
    }
    return;
  }

  for (const role of ROLES) {
    for (const design of DESIGNS) {
      for (const obs of OBS) {
        // Cheap cells first, so a timeout cuts the dearest ones.
        for (const c of [...(role === 'null' ? NULL_RATES : RATES)].filter((x) => RATES.includes(x)).sort((a, b) => b - a)) {
          for (const r of rules.filter((x) => x.role === role)) {
            const key = cellKey(design, obs, c, r.property, r.name);
            let cell = doc.cells.find((x) => x.key === key);
            const budget = role === 'null' ? NULL_BUDGET : CAPS[r.property];
            if (!cell) {
              cell = { key, design, observable: obs, click_rate: c, property: r.property, rule: r.name, role, budget, runs: [] };
              doc.cells.push(cell);
            }
            const check = r.property === 'monotonicity' ? monotonicity : continuity;
            const m = mechanismFor(design, r, c);
            for (let seed = SEED0; seed < SEED0 + SEEDS[role]; seed++) {
              if (cell.runs.some((x) => x.seed === seed)) continue;
              const t = Date.now();
              const v = await check(m, { seed, shrink: false, observable: obs, budget, ...DESIGN_OPTS[design] });
              const need = v.details?.budget_needed;
              cell.runs.push({ seed, verdict: v.verdict, responses: v.details?.samples_to_verdict ?? v.samples, budget_needed: typeof need === 'number' ? need : null, seconds: (Date.now() - t) / 1000 });
              save();
            }
            for (const run of cell.runs) {
              if (!RERUN_NAMED || run.named || run.verdict !== 'inconclusive' || run.budget_needed === null || role === 'null') continue;
              const t = Date.now();
              const v = await check(m, { seed: run.seed, shrink: false, observable: obs, budget: run.budget_needed, ...DESIGN_OPTS[design] });
              run.named = { budget: run.budget_needed, verdict: v.verdict, responses: v.details?.samples_to_verdict ?? v.samples, seconds: (Date.now() - t) / 1000 };
              save();
              console.log(`  rerun at the named budget ${run.budget_needed}: ${v.verdict} after ${run.named.responses}`);
            }
            const vs = cell.runs.map((x) => x.verdict[0]).join('');
            const rs = cell.runs.map((x) => x.responses).sort((a, b) => a - b);
            console.log(`${design} ${obs} c=${c} ${r.property} ${r.name}: ${vs} median ${rs[Math.floor(rs.length / 2)]} (${cell.runs.reduce((s, x) => s + x.seconds, 0).toFixed(0)} s)`);
          }
        }
      }
    }
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
