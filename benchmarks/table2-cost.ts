/**
 * Table 2's cost (issues #28, #25): wall time, CPU seconds and peak memory of
 * `bench -m embedded:pretrained,mosaic:embedded:pretrained,gsp:embedded:pretrained,run:DIR,run:DIR2,embedded:best-in-class,embedded:ceiling`
 * at each --limit given, each run under `/usr/bin/time -v`, written to
 * benchmarks/results/table2-cost.json.
 *
 *   nice npx tsx benchmarks/table2-cost.ts --runs runs/pctr,runs/oracle --limits 100,1000
 *   nice npx tsx benchmarks/table2-cost.ts --runs … --from 1000=/tmp/time-1000.txt   (a run already timed)
 *
 * `--memory 100=FILE,300=FILE` adds the /usr/bin/time -v reports of issue #25's memory bench,
 * `bench -m embedded:pretrained,mosaic:embedded:pretrained,run:DIR,embedded:optimal --limit N`, whose
 * peak memory must not grow with N beyond a constant.
 *
 * The comparison is with the issue's measurement of the same seven rows on 1,000 queries before
 * the change (27 min 49 s wall, 1,666 s CPU, 4.2 GiB peak, 2 loaded cores). CPU seconds are the
 * fair figure on a shared machine; wall time is reported with the load it ran under.
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { readFileSync } from 'node:fs';
import { writeResult } from './lib.ts';

const BEFORE = { limit: 1000, wall_s: 27 * 60 + 49, cpu_s: 1666, peak_gib: 4.2 };

export interface Timed {
  limit: number;
  wall_s: number;
  cpu_s: number;
  user_s: number;
  sys_s: number;
  peak_rss_gib: number;
}

/** The figures of `/usr/bin/time -v`'s report. */
export function parseTimeV(text: string, limit: number): Timed {
  const num = (re: RegExp) => {
    const m = re.exec(text);
    if (!m) throw new Error(`no ${re.source} in the /usr/bin/time -v report`);
    return m;
  };
  const user = Number(num(/User time \(seconds\): ([\d.]+)/)[1]);
  const sys = Number(num(/System time \(seconds\): ([\d.]+)/)[1]);
  const wall = num(/Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)/)[1]!.split(':').map(Number);
  const wallS = wall.reduce((a, b) => a * 60 + b, 0);
  const rssKiB = Number(num(/Maximum resident set size \(kbytes\): (\d+)/)[1]);
  return { limit, wall_s: wallS, cpu_s: user + sys, user_s: user, sys_s: sys, peak_rss_gib: rssKiB / 2 ** 20 };
}

function arg(name: string): string | undefined {
  const k = process.argv.indexOf(`--${name}`);
  return k >= 0 ? process.argv[k + 1] : undefined;
}

const runs = (arg('runs') ?? '').split(',').filter(Boolean);
if (runs.length !== 2) throw new Error('--runs DIR,DIR2: two training runs (e.g. --reward pctr and --reward oracle)');
const rows = ['embedded:pretrained', 'mosaic:embedded:pretrained', 'gsp:embedded:pretrained', ...runs.map((r) => `run:${r}`), 'embedded:best-in-class', 'embedded:ceiling'].join(',');
const timed: Timed[] = [];
for (const f of (arg('from') ?? '').split(',').filter(Boolean)) {
  const [limit, file] = f.split('=');
  timed.push(parseTimeV(readFileSync(file!, 'utf8'), Number(limit)));
}
const load = loadavg()[0]!;
const timedHere = (arg('limits') ?? '') !== '';
for (const limit of (arg('limits') ?? '').split(',').filter(Boolean).map(Number)) {
  const r = spawnSync('/usr/bin/time', ['-v', 'node', 'bin/llm-auction.js', 'bench', '-m', rows, '--limit', String(limit)], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`bench --limit ${limit} failed: ${r.stderr.slice(-2000)}`);
  timed.push(parseTimeV(r.stderr, limit));
}
timed.sort((a, b) => a.limit - b.limit);
const memory = (arg('memory') ?? '')
  .split(',')
  .filter(Boolean)
  .map((f) => parseTimeV(readFileSync(f.split('=')[1]!, 'utf8'), Number(f.split('=')[0])))
  .sort((a, b) => a.limit - b.limit);
const at = timed.find((t) => t.limit === BEFORE.limit);
const f1 = (x: number) => x.toFixed(1);
writeResult({
  suite: 'table2-cost',
  tasks: [],
  targets: at
    ? [
        { what: 'Table 2, seven rows, 1,000 test queries: CPU seconds (user + sys)', target: `<= ${Math.round(BEFORE.cpu_s / 3)} s (a third of ${BEFORE.cpu_s} s)`, measured: `${Math.round(at.cpu_s)} s`, met: at.cpu_s <= BEFORE.cpu_s / 3 },
        { what: 'the same: wall time', target: `<= ${f1(BEFORE.wall_s / 60 / 3)} min (a third of ${f1(BEFORE.wall_s / 60)} min)`, measured: `${f1(at.wall_s / 60)} min`, met: at.wall_s <= BEFORE.wall_s / 3 },
        { what: 'the same: peak memory (RSS)', target: `<= ${f1(BEFORE.peak_gib / 3)} GiB (a third of ${BEFORE.peak_gib} GiB)`, measured: `${at.peak_rss_gib.toFixed(2)} GiB`, met: at.peak_rss_gib <= BEFORE.peak_gib / 3 },
      ]
    : [],
  markdown: [
    '| test queries | wall | CPU (user + sys) | peak RSS |',
    '| ---: | ---: | ---: | ---: |',
    ...timed.map((t) => `| ${t.limit} | ${f1(t.wall_s)} s | ${f1(t.cpu_s)} s | ${t.peak_rss_gib.toFixed(2)} GiB |`),
    '',
    ...(memory.length > 0
      ? [
          "Issue #25's memory bench (`embedded:pretrained,mosaic:embedded:pretrained,run:DIR,embedded:optimal`):",
          '',
          '| test queries | wall | CPU (user + sys) | peak RSS |',
          '| ---: | ---: | ---: | ---: |',
          ...memory.map((t) => `| ${t.limit} | ${f1(t.wall_s)} s | ${f1(t.cpu_s)} s | ${t.peak_rss_gib.toFixed(2)} GiB |`),
          '',
        ]
      : []),
  ],
  notes: [
    ...(arg('note') ? [arg('note')!] : []),
    `How: \`bench -m ${rows.replace(/run:[^,]+/g, 'run:DIR')}\` (DIR: \`train --preset tiny\`, with --reward pctr and --reward oracle), world seed 0, seed 0, under /usr/bin/time -v${timedHere ? `; load average ${load.toFixed(1)} when this script started` : ''}.`,
    `Before (the issue's measurement, same seven rows, 1,000 queries): ${f1(BEFORE.wall_s / 60)} min wall, ${BEFORE.cpu_s} s CPU, ${BEFORE.peak_gib} GiB peak.`,
  ],
  extra: { timed, memory, before: BEFORE, mechanisms: rows },
});
console.log(JSON.stringify(timed));
