/**
 * Which published mechanism is monotone, continuous and IR in practice, at the embedded world's
 * click rates (issue #22, item 4): `llm-auction verify --property monotonicity,continuity,ir` on
 * each baseline kind over `embedded:pretrained`, side by side.
 *
 *   nice npx tsx benchmarks/baseline-properties.ts [--cases 4] [--budget 4000] [--mosaic-budget 40000] [--run DIR] [--out FILE]
 *
 * Rows: inject:, segment:, prominence:, token: (issue #22), gsp: and mosaic: (n=5), each with its
 * default predictor (prompt-only for the four; the pCTR model fitted on the world's logged clicks
 * for GSP's quality and MOSAIC's reward model); `--run DIR` gives MOSAIC a training run's pCTR
 * model instead (skipped, with the reason, when DIR has none). Every verify is the CLI itself (a
 * child process), seed 0, world seed 0, on `--cases` auctions per property and at most `--budget`
 * responses per property (`--mosaic-budget` for MOSAIC, the one rule that cannot enumerate and so
 * samples): small, so the run is bounded; rules that enumerate are checked exactly and stop
 * early, MOSAIC may end inconclusive, and the table says so.
 *
 * Writes benchmarks/results/baseline-properties.json (or FILE) and prints the Markdown table that
 * README and BENCHMARKS.md show.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { machine } from './lib.ts';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const k = args.indexOf(name);
  return k >= 0 ? args[k + 1] : undefined;
};
const CASES = Number(flag('--cases') ?? 4);
const BUDGET = Number(flag('--budget') ?? 4000);
const MOSAIC_BUDGET = Number(flag('--mosaic-budget') ?? 40000);
const PROPERTIES = ['monotonicity', 'continuity', 'ir'] as const;
const here = dirname(fileURLToPath(import.meta.url));
const BIN = join(here, '..', 'bin', 'llm-auction.js');
const OUT = flag('--out') ?? join(here, 'results', 'baseline-properties.json');
const run = promisify(execFile);
const tmp = mkdtempSync(join(tmpdir(), 'baseline-properties-'));

interface Row {
  mechanism: string;
  label: string;
  paper: string;
  skipped?: string;
  seconds?: number;
  /** Lowest and highest click rate of the focal ads the cases drew (verify's strata), per exposure. */
  click_rates?: [number, number];
  /** Per property: the verdict, exact or sampled, responses used, and the counterexample's key numbers on a fail. */
  verdicts?: Record<string, { verdict: string; mode: string; samples: number; evidence: string }>;
}

async function cli(argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [BIN, ...argv], { maxBuffer: 64 << 20, timeout: 3_600_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof x.code === 'number' ? x.code : 99, stdout: x.stdout ?? '', stderr: x.stderr ?? '' };
  }
}

async function verifyRow(mechanism: string, label: string, paper: string, budget = BUDGET): Promise<Row> {
  const json = join(tmp, `${label.replace(/\W+/g, '-')}.json`);
  const t0 = Date.now();
  const r = await cli(['verify', '-m', mechanism, '--property', PROPERTIES.join(','), '--cases', String(CASES), '--budget', String(budget), '--seed', '0', '--json', json]);
  const seconds = (Date.now() - t0) / 1000;
  if (!existsSync(json)) return { mechanism, label, paper, skipped: `verify exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`, seconds };
  type Out = { verdict: string; samples?: number; counterexample?: Record<string, unknown> | null; details?: { mode?: string; case_strata?: { click_rate?: number }[] } };
  const out = JSON.parse(readFileSync(json, 'utf8')) as { properties: Record<string, Out> };
  const verdicts: NonNullable<Row['verdicts']> = {};
  const rates: number[] = [];
  for (const p of PROPERTIES) {
    const v = out.properties[p];
    if (!v) continue;
    const c = v.counterexample;
    const evidence = c ? JSON.stringify({ focal: c.focal ?? c.ad, bids: c.bids ?? c.bid, itctr: c.itctr, exposure: c.exposure }) : '';
    verdicts[p] = { verdict: v.verdict, mode: v.details?.mode ?? '', samples: v.samples ?? 0, evidence };
    for (const st of v.details?.case_strata ?? []) if (typeof st.click_rate === 'number') rates.push(st.click_rate);
  }
  process.stdout.write(`${label}: ${PROPERTIES.map((p) => `${p} ${verdicts[p]?.verdict ?? '-'}`).join(', ')} (${seconds.toFixed(0)} s)\n`);
  const clickRates = rates.length ? ([Math.min(...rates), Math.max(...rates)] as [number, number]) : undefined;
  return { mechanism, label, paper, seconds, verdicts, ...(clickRates ? { click_rates: clickRates } : {}) };
}

const BASE = 'embedded:pretrained';
const rows: Row[] = [];
const plan: [string, string, string][] = [
  [`inject:${BASE}`, 'Inject (prompt-only CTR)', 'generate-then-inject (GEM-Bench Ad-LLM family)'],
  [`segment:${BASE}`, 'Segment auction', 'Hajiaghayi et al., NeurIPS 2024'],
  [`prominence:${BASE}`, 'Prominence auction', 'Dubey et al., KDD 2024'],
  [`token:${BASE}`, 'Token auction', 'Dütting et al., WWW 2024'],
  [`gsp:${BASE}?k=1`, 'GSP (k=1)', 'Edelman et al. 2007 (pre-generation)'],
];
for (const [m, label, paper] of plan) rows.push(await verifyRow(m, label, paper));
const RUN = flag('--run');
if (RUN !== undefined && !existsSync(join(RUN, 'epoch-1', 'pctr.json'))) {
  rows.push({ mechanism: `mosaic:${BASE}?n=5&rm=${RUN}`, label: 'MOSAIC (n=5, pCTR run)', paper: 'Soumalias et al., NeurIPS 2025', skipped: `--run ${RUN} has no epoch-1/pctr.json` });
} else {
  const mosaic = RUN === undefined ? `mosaic:${BASE}?n=5` : `mosaic:${BASE}?n=5&rm=${RUN}`;
  rows.push(await verifyRow(mosaic, RUN === undefined ? 'MOSAIC (n=5, pCTR from logs)' : 'MOSAIC (n=5, pCTR run)', 'Soumalias et al., NeurIPS 2025', MOSAIC_BUDGET));
}

const cell = (r: Row, p: string) => {
  const v = r.verdicts?.[p];
  if (!v) return r.skipped ? 'skipped' : '-';
  return `${v.verdict}${v.mode === 'exact' || v.verdict === 'holds-by-construction' ? '' : ` (${v.mode}, ${v.samples})`}`;
};
const markdown = [
  `| mechanism | paper | monotone | continuous | IR | focal click rates | seconds |`,
  `| --- | --- | --- | --- | --- | --- | ---: |`,
  ...rows.map(
    (r) =>
      `| \`${r.mechanism.replace(RUN ?? '\u0000', 'RUN')}\` ${r.label} | ${r.paper} | ${cell(r, 'monotonicity')} | ${cell(r, 'continuity')} | ${cell(r, 'ir')} | ${r.click_rates ? r.click_rates.map((x) => x.toFixed(2)).join(' to ') : '-'} | ${r.seconds?.toFixed(0) ?? '-'} |`,
  ),
];
const which = (p: string, v: string) => rows.filter((r) => r.verdicts?.[p]?.verdict === v).map((r) => r.label);
const notes = [
  `How: ${'`'}nice npx tsx benchmarks/baseline-properties.ts --cases ${CASES} --budget ${BUDGET} --mosaic-budget ${MOSAIC_BUDGET}${'`'}, i.e. \`llm-auction verify --property ${PROPERTIES.join(',')} --cases ${CASES} --budget ${BUDGET} --seed 0\` per row (MOSAIC at --budget ${MOSAIC_BUDGET}), over ${BASE}, world seed 0, the embedded parametric user. A verdict without a note is exact (the rule enumerates its responses); "(sampled, N)" is MOSAIC's, with the responses it used. Budgets are small to bound the run: an inconclusive row would need more.`,
  `Continuity fails for: ${which('continuity', 'fail').join(', ') || 'none'} (a deterministic winner: exposure jumps at the bid where the ad starts to win). Passes for: ${which('continuity', 'pass').join(', ') || 'none'} (randomized allocations that move smoothly with the bid).`,
  `Monotonicity passes for: ${which('monotonicity', 'pass').join(', ') || 'none'}; fails for: ${which('monotonicity', 'fail').join(', ') || 'none'}. IR passes for: ${which('ir', 'pass').join(', ') || 'none'}; holds by construction (first price per click) for: ${which('ir', 'holds-by-construction').join(', ') || 'none'}.`,
  'The focal click rates are the per-exposure click probabilities of the ads the cases focus on (verify draws often- and rarely-clicked ones), i.e. the world\'s click rates the verdicts hold at.',
];
const skipped = rows.filter((r) => r.skipped).map((r) => `${r.label}: ${r.skipped}`);
const result = {
  suite: 'baseline-properties',
  date: new Date().toISOString(),
  machine: machine(),
  how: `llm-auction verify --property ${PROPERTIES.join(',')} --cases ${CASES} --budget ${BUDGET} (MOSAIC ${MOSAIC_BUDGET}) --seed 0, each baseline over ${BASE}, world seed 0, default user (embedded:parametric); exact wherever the rule enumerates`,
  mosaic_budget: MOSAIC_BUDGET,
  run: RUN ?? null,
  rows,
  skipped,
  markdown,
  notes,
};
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`\n${markdown.join('\n')}\n${skipped.length ? `\nskipped: ${skipped.join('; ')}\n` : ''}wrote ${OUT}\n`);
