/**
 * bench's peak memory against the number of queries (issue #25): the CLI's
 * `bench -m embedded:pretrained,mosaic:embedded:pretrained,run:DIR,embedded:optimal` (MOSAIC and the
 * exact rows, DIR a tiny training run made here) at each size, each run in its own process under
 * `/usr/bin/time -v`; its maximum resident set size is the figure. Sizes up to 3,000 are the
 * embedded world's test queries (--limit N); 15,000 is every query of the world, train and test,
 * given as a queries file written here. Writes benchmarks/results/bench-memory.json, keeping the
 * sizes measured before that this call does not measure again (a long size can be run on its own).
 *
 *   nice -n 19 npx tsx benchmarks/bench-memory.ts --sizes 1000,3000 [--parallel] [--run DIR]
 *   nice -n 19 npx tsx benchmarks/bench-memory.ts --sizes 15000
 *   nice -n 19 npx tsx benchmarks/bench-memory.ts --sizes none --note TEXT   (the kept sizes, notes rewritten)
 *
 * What is claimed, and can fail: the peak at the largest size is within LIMIT_GIB of the peak at
 * the smallest. What is allowed to grow is small and stated: per query, the auction inputs built up
 * front (about 1 KB each) and 16 bytes per row for the paired intervals, 16 MB at 15,000 queries
 * and four rows. Everything else is bounded: the user model's memos and the lexical encoder's
 * vectors keep the entries used last in two generations of a fixed size (lib/generations.ts), the
 * plan tables are cleared every 32 queries, and no episode is kept (the CLI prints rows only).
 * Wall time is reported with the load average it ran under (the cores are shared).
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { embeddedWorld } from '../simulation/world.ts';
import { RESULTS_DIR, writeResult } from './lib.ts';

/** Peak at the largest size minus the peak at the smallest: at most this (GiB). */
const LIMIT_GIB = 0.25;
const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;

interface Measured {
  queries: number;
  source: string;
  wall_s: number;
  cpu_s: number;
  peak_rss_gib: number;
  load_start: number;
  load_end: number;
  date: string;
  /** The bench's reward per query of each row, to see that the sizes ran the same rows. */
  reward_per_query: Record<string, number>;
}

function arg(name: string): string | undefined {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : undefined;
}

/** The /usr/bin/time -v figures this suite reports. */
function timeV(report: string): { wall_s: number; cpu_s: number; peak_rss_gib: number } {
  const field = (label: string) => {
    const line = report.split('\n').find((l) => l.trim().startsWith(label));
    if (!line) throw new Error(`/usr/bin/time -v printed no "${label}"`);
    return line.slice(line.lastIndexOf(': ') + 2).trim();
  };
  const wall = field('Elapsed (wall clock) time').split(':').map(Number).reduce((a, b) => a * 60 + b, 0);
  return { wall_s: wall, cpu_s: Number(field('User time (seconds)')) + Number(field('System time (seconds)')), peak_rss_gib: Number(field('Maximum resident set size (kbytes)')) / 2 ** 20 };
}

const work = mkdtempSync(join(tmpdir(), 'bench-memory-'));

/** A tiny training run for the run:DIR row (30 queries, one epoch). */
function tinyRun(): string {
  const dir = join(work, 'run');
  const r = spawnSync(process.execPath, [BIN, 'train', '--queries', '30', '--epochs', '1', '--out', dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`train failed: ${r.stderr.slice(-2000)}`);
  return dir;
}

/** Every query of the embedded world (train and test) as a queries file. */
function allQueries(): string {
  const file = join(work, 'all-queries.jsonl');
  writeFileSync(file, embeddedWorld(0).queries.map((q) => `${JSON.stringify({ id: q.id, profile_id: q.profile_id, text: q.text, split: q.split })}\n`).join(''));
  return file;
}

function measure(queries: number, rows: string): Promise<Measured> {
  const all = embeddedWorld(0).queries.length;
  const test = embeddedWorld(0).queries.filter((q) => q.split === 'test').length;
  const selection = queries <= test ? ['--queries', 'test', '--limit', String(queries)] : queries === all ? ['--queries', allQueries()] : null;
  if (!selection) throw new Error(`--sizes: ${queries} is neither at most the ${test} test queries nor all ${all} of the world`);
  const source = queries <= test ? `first ${queries} test queries` : `all ${all} queries (train and test)`;
  const json = join(work, `bench-${queries}.json`);
  const load_start = loadavg()[0]!;
  const date = new Date().toISOString();
  const child = spawn('/usr/bin/time', ['-v', process.execPath, BIN, 'bench', '-m', rows, ...selection, '--json', json], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, LLM_AUCTION_PROGRESS_MS: '600000' },
  });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve, reject) =>
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`bench at ${queries} queries: exit ${code}: ${err.slice(-2000)}`));
      const result = JSON.parse(readFileSync(json, 'utf8')) as { rows: { mechanism: string; reward_per_query: number }[] };
      const reward_per_query = Object.fromEntries(result.rows.map((r) => [r.mechanism.replace(/^run:.*/, 'run:DIR'), r.reward_per_query]));
      resolve({ queries, source, ...timeV(err), load_start, load_end: loadavg()[0]!, date, reward_per_query });
    }),
  );
}

// --sizes none: measure nothing, rewrite the result (its notes) from the sizes kept.
const sizes = arg('sizes') === 'none' ? [] : (arg('sizes') ?? '1000,3000,15000').split(',').map(Number);
const rows = ['embedded:pretrained', 'mosaic:embedded:pretrained', `run:${sizes.length === 0 ? 'DIR' : (arg('run') ?? tinyRun())}`, 'embedded:optimal'].join(',');
const fresh = process.argv.includes('--parallel') ? await Promise.all(sizes.map((n) => measure(n, rows))) : [];
if (fresh.length === 0) for (const n of sizes) fresh.push(await measure(n, rows));

// Keep the sizes measured before and not now.
const resultFile = new URL('bench-memory.json', RESULTS_DIR);
const before = existsSync(resultFile) ? ((JSON.parse(readFileSync(resultFile, 'utf8')) as { extra?: { measured?: Measured[] } }).extra?.measured ?? []) : [];
const measured = [...before.filter((m) => !sizes.includes(m.queries)), ...fresh].sort((a, b) => a.queries - b.queries);

const f2 = (x: number) => x.toFixed(2);
const lo = measured[0]!;
const hi = measured[measured.length - 1]!;
const growth = hi.peak_rss_gib - lo.peak_rss_gib;
writeResult({
  suite: 'bench-memory',
  tasks: [],
  targets:
    measured.length > 1
      ? [{ what: `bench peak RSS, ${hi.queries.toLocaleString('en-US')} queries minus ${lo.queries.toLocaleString('en-US')}`, target: `<= ${LIMIT_GIB} GiB`, measured: `${growth >= 0 ? '+' : ''}${f2(growth)} GiB`, met: growth <= LIMIT_GIB }]
      : [],
  markdown: [
    '| queries | which | peak RSS | wall | CPU (user + sys) | load average (start, end) | measured |',
    '| ---: | --- | ---: | ---: | ---: | --- | --- |',
    ...measured.map((m) => `| ${m.queries.toLocaleString('en-US')} | ${m.source} | ${f2(m.peak_rss_gib)} GiB | ${(m.wall_s / 60).toFixed(1)} min | ${Math.round(m.cpu_s)} s | ${m.load_start.toFixed(1)}, ${m.load_end.toFixed(1)} | ${m.date.slice(0, 16)} |`),
    '',
  ],
  notes: [
    ...(arg('note') ? [arg('note')!] : []),
    `How: \`llm-auction bench -m embedded:pretrained,mosaic:embedded:pretrained,run:DIR,embedded:optimal\` (DIR: \`train --queries 30 --epochs 1\`; MOSAIC with its defaults, n=20 and the logged-clicks reward model), world seed 0, seed 0, no --out, each size in its own process under /usr/bin/time -v (maximum resident set size). Produced by \`npx tsx benchmarks/bench-memory.ts --sizes ${measured.map((m) => m.queries).join(',')}\`.`,
    `Allowed to grow with the number of queries: the auction inputs (about 1 KB a query) and 16 bytes a query and row for the paired intervals, about 16 MB at 15,000 queries; the user model's memos and the encoder's vectors are bounded (lib/generations.ts) and the pCTR text features by their cache's cap, so the claim is a peak at the largest size within ${LIMIT_GIB} GiB of the smallest.`,
  ],
  extra: { measured, mechanisms: rows.replace(/run:[^,]+/, 'run:DIR'), limit_gib: LIMIT_GIB },
});
console.log(JSON.stringify(measured, null, 1));
