/**
 * The main job as a newcomer runs it, timed: `llm-auction demo` on the embedded default, from an
 * empty run directory, on this machine. Writes benchmarks/results/demo.json (BENCHMARKS.md): wall
 * and CPU time against the 10-minute target, peak memory, the time of each phase read off the demo's own
 * timestamps, and its Table 2 checks (the orderings and the shuffled-click control).
 *
 *   npx tsx benchmarks/demo.ts [--run runs/demo-timed] [--out reports/demo-timed]
 *
 * Run it on an otherwise idle machine: the demo trains two runs at a time, one per core.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeResult, type Target } from './lib.ts';

const arg = (name: string, dflt: string) => {
  const k = process.argv.indexOf(name);
  return k >= 0 ? process.argv[k + 1]! : dflt;
};
const run = arg('--run', 'runs/demo-timed');
const out = arg('--out', 'reports/demo-timed');
const TARGET_S = 600;

rmSync(run, { recursive: true, force: true });
rmSync(out, { recursive: true, force: true });
const bin = new URL('../bin/llm-auction.js', import.meta.url).pathname;
const command = `llm-auction demo --run ${run} --out ${out}`;
// bash's `times` reports the CPU time of the finished child (every worker thread of it included).
// Peak memory: the demo's process writes its own peak resident set size as it exits (a preload,
// so the demo itself is unchanged); the IRPO runs are worker threads of that one process.
const peakFile = join(tmpdir(), `llm-auction-demo-peak-${process.pid}.txt`);
const preload = join(tmpdir(), `llm-auction-demo-peak-${process.pid}.cjs`);
writeFileSync(preload, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(peakFile)}, String(process.resourceUsage().maxRSS)));\n`);
// Other work on the machine slows the demo down: the load at the start is recorded with the times.
const loadAtStart = loadavg()[0]!;
const started = performance.now();
const r = spawnSync('bash', ['-c', `node --require ${JSON.stringify(preload)} ${JSON.stringify(bin)} demo --run ${JSON.stringify(run)} --out ${JSON.stringify(out)}; code=$?; times >&2; exit $code`], {
  encoding: 'utf8',
  maxBuffer: 64 * 2 ** 20,
});
const wall = (performance.now() - started) / 1000;
const peakGib = existsSync(peakFile) ? Number(readFileSync(peakFile, 'utf8')) / 2 ** 20 : NaN; // maxRSS is in KiB
rmSync(peakFile, { force: true });
rmSync(preload, { force: true });
writeFileSync(join(run, 'demo-stdout.log'), r.stdout);
if (r.status !== 0 && r.status !== 1 && r.status !== 3) {
  process.stderr.write(r.stderr.slice(-4000));
  throw new Error(`${command} exited ${r.status}`);
}
// `times` prints two lines: the shell's user/system, then its children's, as 0m1.234s.
const secs = (m: string) => {
  const x = /(\d+)m([\d.]+)s/.exec(m);
  return x ? Number(x[1]) * 60 + Number(x[2]) : NaN;
};
const timesLines = r.stderr.trim().split('\n').slice(-2);
const [childUser, childSys] = (timesLines[1] ?? '').trim().split(/\s+/).map(secs);
const cpu = (childUser ?? NaN) + (childSys ?? NaN);

// The demo's timeline from its stamped lines ("[123 s] ..."): each line with the time since the
// one before, so a line that closes a phase carries that phase's time.
const stamped = [...r.stdout.matchAll(/^\[(\d+) s\] ([^\n]*)/gm)].map((m) => ({ at: Number(m[1]), what: m[2]!.split(/: (?![^(]*\))|;/)[0]!.replace(/:\s*$/, '').replace(/\|/g, '/').slice(0, 80) }));
const phases: { phase: string; ended_at_s: number; seconds: number }[] = [];
let last = 0;
for (const s of stamped) {
  phases.push({ phase: s.what, ended_at_s: s.at, seconds: s.at - last });
  last = s.at;
}

const checksFile = join(run, 'bench', 'checks.json');
const checks = existsSync(checksFile) ? (JSON.parse(readFileSync(checksFile, 'utf8')) as { ok: boolean; lines: string[] }) : { ok: false, lines: ['no checks.json: the demo did not reach Table 2'] };
const targets: Target[] = [
  { what: '`demo` wall time on the embedded default, 2 runs trained at a time', target: `< ${TARGET_S} s`, measured: `${wall.toFixed(0)} s (CPU ${cpu.toFixed(0)} s, peak memory ${peakGib.toFixed(1)} GiB)`, met: wall < TARGET_S },
  // A `note` line (pCTR minus the strongest prompt-only row) is reported, not a target.
  ...checks.lines
    .filter((l) => !l.startsWith('note'))
    .map((l) => ({ what: `demo Table 2: ${l.replace(/^(ok|FAIL)\s+/, '')}`, target: 'holds', measured: l.startsWith('ok') ? 'holds' : 'fails', met: l.startsWith('ok') })),
  ...checks.lines.filter((l) => l.startsWith('note')).map((l) => ({ what: `demo Table 2 (reported): ${l.slice(5)}`, target: 'reported', measured: 'reported', met: true })),
];
const markdown = [
  `Produced by \`npx tsx benchmarks/demo.ts\`, which runs \`${command}\` from an empty run directory and reads the demo's own timestamps.`,
  '',
  '| demo prints | at | since the line before |',
  '| --- | ---: | ---: |',
  ...phases.map((p) => `| ${p.phase} | ${p.ended_at_s} s | ${p.seconds} s |`),
  '',
];
writeResult({ suite: 'demo', tasks: [], targets, markdown, extra: { command, wall_s: wall, cpu_s: cpu, peak_rss_gib: peakGib, load_average_at_start: loadAtStart, exit_code: r.status, phases } });
process.stdout.write(`${command}: ${wall.toFixed(0)} s wall, ${cpu.toFixed(0)} s CPU, peak ${peakGib.toFixed(2)} GiB, exit ${r.status}\n${checks.lines.join('\n')}\n`);
