/**
 * Which published mechanism is monotone, continuous and IR in practice, at the embedded world's
 * click rates (issue #22, item 4): `llm-auction verify --property monotonicity,continuity,ir` on
 * each baseline kind over `embedded:pretrained`, side by side.
 *
 *   nice npx tsx benchmarks/baseline-properties.ts [--cases 4] [--budget 4000] [--run DIR] [--no-train] [--out FILE]
 *
 * Rows: inject:, segment:, prominence:, token: (issue #22), gsp:, and mosaic: with a training
 * run's pCTR model as its reward model (`rm=DIR`): `--run DIR` names one; without it a small run
 * is trained first (tiny preset, 150 queries, 1 epoch, pCTR reward: its only use here is MOSAIC's
 * reward model), and with `--no-train` the MOSAIC row is skipped with that reason. Every verify
 * is the CLI itself (a child process), seed 0, world seed 0, on `--cases` auctions per property
 * and at most `--budget` responses per property (small, so the run is bounded: rules that
 * enumerate are checked exactly and need no budget; MOSAIC samples and may end inconclusive).
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

async function pctrRun(): Promise<{ dir?: string; why?: string }> {
  const given = flag('--run');
  if (given) return existsSync(join(given, 'epoch-1', 'pctr.json')) ? { dir: given } : { why: `--run ${given} has no epoch-1/pctr.json` };
  if (args.includes('--no-train')) return { why: 'no pCTR run given (--no-train): MOSAIC needs a reward model' };
  const dir = join(tmp, 'run');
  const r = await cli(['train', '--out', dir, '--preset', 'tiny', '--queries', '150', '--epochs', '1', '--reward', 'pctr', '--seed', '5']);
  return r.code === 0 ? { dir } : { why: `training the pCTR run failed (exit ${r.code}): ${r.stderr.trim().split('\n').pop()}` };
}

async function verifyRow(mechanism: string, label: string, paper: string): Promise<Row> {
  const json = join(tmp, `${label.replace(/\W+/g, '-')}.json`);
  const t0 = Date.now();
  const r = await cli(['verify', '-m', mechanism, '--property', PROPERTIES.join(','), '--cases', String(CASES), '--budget', String(BUDGET), '--seed', '0', '--json', json]);
  const seconds = (Date.now() - t0) / 1000;
  if (!existsSync(json)) return { mechanism, label, paper, skipped: `verify exit ${r.code}: ${r.stderr.trim().split('\n').pop()}`, seconds };
  type Out = { verdict: string; samples?: number; counterexample?: Record<string, unknown> | null; details?: { mode?: string } };
  const out = JSON.parse(readFileSync(json, 'utf8')) as { properties: Record<string, Out> };
  const verdicts: NonNullable<Row['verdicts']> = {};
  for (const p of PROPERTIES) {
    const v = out.properties[p];
    if (!v) continue;
    const c = v.counterexample;
    const evidence = c ? JSON.stringify({ focal: c.focal ?? c.ad, bids: c.bids ?? c.bid, itctr: c.itctr, exposure: c.exposure }) : '';
    verdicts[p] = { verdict: v.verdict, mode: v.details?.mode ?? '', samples: v.samples ?? 0, evidence };
  }
  process.stdout.write(`${label}: ${PROPERTIES.map((p) => `${p} ${verdicts[p]?.verdict ?? '-'}`).join(', ')} (${seconds.toFixed(0)} s)\n`);
  return { mechanism, label, paper, seconds, verdicts };
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
const pctr = await pctrRun();
const mosaic = `mosaic:${BASE}?n=5`;
if (pctr.dir) rows.push(await verifyRow(`${mosaic}&rm=${pctr.dir}`, 'MOSAIC (n=5, pCTR run)', 'Soumalias et al., NeurIPS 2025'));
else rows.push({ mechanism: mosaic, label: 'MOSAIC (n=5)', paper: 'Soumalias et al., NeurIPS 2025', skipped: pctr.why! });

const cell = (r: Row, p: string) => {
  const v = r.verdicts?.[p];
  if (!v) return r.skipped ? 'skipped' : '-';
  return `${v.verdict}${v.mode === 'exact' ? '' : ` (${v.mode}, ${v.samples})`}`;
};
const markdown = [
  `| mechanism | paper | monotone | continuous | IR |`,
  `| --- | --- | --- | --- | --- |`,
  ...rows.map((r) => `| \`${r.mechanism.replace(pctr.dir ?? '\u0000', 'RUN')}\` ${r.label} | ${r.paper} | ${cell(r, 'monotonicity')} | ${cell(r, 'continuity')} | ${cell(r, 'ir')} |`),
];
const skipped = rows.filter((r) => r.skipped).map((r) => `${r.label}: ${r.skipped}`);
const result = {
  suite: 'baseline-properties',
  date: new Date().toISOString(),
  machine: machine(),
  how: `llm-auction verify --property ${PROPERTIES.join(',')} --cases ${CASES} --budget ${BUDGET} --seed 0, each baseline over ${BASE}, world seed 0, default user (embedded:parametric); exact wherever the rule enumerates`,
  pctr_run: pctr.dir ? 'trained by this script (tiny preset, 150 queries, 1 epoch, pCTR reward, seed 5) unless --run was given' : null,
  rows,
  skipped,
  markdown,
};
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, `${JSON.stringify(result, null, 2)}\n`);
process.stdout.write(`\n${markdown.join('\n')}\n${skipped.length ? `\nskipped: ${skipped.join('; ')}\n` : ''}wrote ${OUT}\n`);
