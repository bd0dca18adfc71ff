/**
 * What common random numbers buy, and what the click probability buys over 0/1 clicks.
 *
 *   npx tsx benchmarks/verify-crn.ts [--seeds N] [--rates 0.05,0.3] [--out FILE]
 *
 * The same rules as benchmarks/verify-samples.ts (tests/fixtures/planted.ts, `atClickRate`), each
 * checked three ways at the default budget:
 * - `crn`: the endpoint honours seeds, so response j at every bid of a batch shares its
 *   randomness, and the judge's click on identical text is the same (0/1 clicks);
 * - `no-crn`: the Ad-LLM endpoint ignores seeds (every call draws fresh randomness), the judge
 *   honours them (0/1 clicks; the embedded user is such a judge);
 * - `neither`: neither honours seeds: fresh responses and independently drawn clicks;
 * - `probability`: seeds honoured, and the click model's probability per response is observed
 *   instead of a click (only possible where the user model can give it, e.g. the embedded one).
 * Writes benchmarks/results/verify-crn.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { continuity } from '../properties/continuity.ts';
import { monotonicity } from '../properties/monotonicity.ts';
import type { CheckOptions, MechanismUnderTest, Verdict } from '../properties/types.ts';
import { DEFAULT_BUDGET } from '../properties/types.ts';
import * as F from '../tests/fixtures/planted.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
};
const SEEDS = Number(flag('--seeds') ?? 10);
const RATES = (flag('--rates') ?? '0.05,0.3').split(',').map(Number);

const RULES: { name: string; property: 'monotonicity' | 'continuity'; q: F.RateQ }[] = [
  { name: '50% relative dip over ten bids', property: 'monotonicity', q: F.relativeDipQ },
  { name: 'logistic ramp, 15 bids', property: 'monotonicity', q: F.rampQ(15) },
  { name: 'slot step (winner takes the slot)', property: 'continuity', q: F.slotWinnerQ },
  { name: 'logistic ramp, 15 bids', property: 'continuity', q: F.rampQ(15) },
];
const CHECKS = { monotonicity, continuity };

async function runs(check: (m: MechanismUnderTest, o?: CheckOptions) => Promise<Verdict>, m: MechanismUnderTest, opts: CheckOptions) {
  const t = Date.now();
  const vs: Verdict[] = [];
  for (let s = 1; s <= SEEDS; s++) vs.push(await check(m, { seed: s, shrink: false, ...opts }));
  const used = vs.map((v) => v.details?.samples_to_verdict ?? v.samples).sort((a, b) => a - b);
  const share = (k: Verdict['verdict']) => vs.filter((v) => v.verdict === k).length / vs.length;
  return { seeds: SEEDS, pass: share('pass'), fail: share('fail'), inconclusive: share('inconclusive'), samples_median: used[Math.floor(used.length / 2)]!, seconds: (Date.now() - t) / 1000 };
}

const rows: Record<string, unknown>[] = [];
for (const c of RATES) {
  for (const r of RULES) {
    const base = F.atClickRate(`${r.name} @${c}`, r.q, c);
    const check = CHECKS[r.property];
    const row = {
      click_rate: c,
      rule: r.name,
      property: r.property,
      crn: await runs(check, F.samplingOnly(base), { observable: 'clicks' }),
      no_crn: await runs(check, F.withoutCrn(base), { observable: 'clicks' }),
      neither: await runs(check, F.withoutCrn(base), { observable: 'clicks', clickSeeds: 'fresh' }),
      probability: await runs(check, F.samplingOnly(base), { observable: 'click-probability' }),
    };
    rows.push(row);
    const f = (x: { pass: number; fail: number; samples_median: number }) => `fail ${x.fail * 100}% pass ${x.pass * 100}% (${x.samples_median})`;
    console.log(`c=${c} ${r.property.padEnd(12)} ${r.name.padEnd(36)} crn: ${f(row.crn)} | no crn: ${f(row.no_crn)} | neither: ${f(row.neither)} | probability: ${f(row.probability)}`);
  }
}
const out = flag('--out') ?? join(dirname(fileURLToPath(import.meta.url)), 'results', 'verify-crn.json');
mkdirSync(dirname(out), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify({ generated: new Date().toISOString(), command: `npx tsx benchmarks/verify-crn.ts --seeds ${SEEDS} --rates ${RATES.join(',')}`, budget: DEFAULT_BUDGET, rows }, null, 2)}\n`,
);
console.log(`wrote ${out}`);
