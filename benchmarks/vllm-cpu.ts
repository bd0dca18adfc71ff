/**
 * vLLM's CPU build as the suite's reference endpoint, recorded: runs tests/vllm.test.ts (which
 * starts scripts/vllm-serve.sh twice: with the chunked-prefill workaround, then without it) and
 * writes what each step found and how long it took to benchmarks/results/vllm-cpu.json
 * (BENCHMARKS.md after `npm run bench`). The test asserts the outcomes; this only records them,
 * with the machine's load average, since the timings mean little on a shared machine without it.
 *
 *   bash scripts/vllm-serve.sh --install-only && npx tsx benchmarks/vllm-cpu.ts
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { machine, writeResult } from './lib.ts';

const file = join(mkdtempSync(join(tmpdir(), 'vllm-cpu-')), 'record.json');
const t0 = Date.now();
const run = spawnSync('npx', ['vitest', 'run', 'tests/vllm.test.ts'], { stdio: 'inherit', env: { ...process.env, LLM_AUCTION_VLLM_RECORD: file } });
const wall = (Date.now() - t0) / 1000;
if (!existsSync(file)) {
  console.error(`[vllm-cpu] the test wrote no record (exit ${run.status}): is the venv installed? (bash scripts/vllm-serve.sh --install-only)`);
  process.exit(2);
}
type Rec = {
  probe?: { exit: number; burst: { requests: number; n: number; answered: number; alive: boolean; seconds: number } };
  simulate?: { exit: number; episodes: number; queries: number; distinct_responses: number; alive_after?: boolean };
  bench?: { exit: number; rows: number; queries: number };
  verify?: { exit: number; verdict: string; responses: number; budget: number };
  adapter?: { load: number; unload: number; base_text: string; adapter_text: string };
  crash?: { exit: number; episodes: number; message: string; engine_log_says: string | null };
  crash_skipped: string | null;
  timings: Record<string, number>;
  wall_s: number;
  load_average_start: number[];
  load_average_end: number[];
};
const r = JSON.parse(readFileSync(file, 'utf8')) as Rec;
const load = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');
const targets = [
  { what: 'probe against vLLM (workaround flags): every field honoured, the seeded burst survived', target: 'exit 0, engine up', measured: r.probe ? `exit ${r.probe.exit}; burst ${r.probe.burst.requests} x n = ${r.probe.burst.n}: ${r.probe.burst.answered} answered in ${r.probe.burst.seconds.toFixed(0)} s, ${r.probe.burst.alive ? 'up' : 'gone'}` : 'not run', met: r.probe?.exit === 0 && r.probe.burst.alive },
  { what: 'seeded simulate, concurrency=16&n_per_request=4, 24 queries x 4 samples', target: '96 episodes, engine alive', measured: r.simulate ? `${r.simulate.episodes} episodes (${r.simulate.distinct_responses} distinct responses), engine ${r.simulate.alive_after ? 'alive' : 'not checked'}` : 'not run', met: r.simulate?.episodes === 96 && r.simulate.alive_after === true },
  { what: 'a PEFT adapter through /v1/load_lora_adapter, used, unloaded', target: 'HTTP 200 both ways, the text changes', measured: r.adapter ? `load ${r.adapter.load}, unload ${r.adapter.unload}, text ${r.adapter.base_text === r.adapter.adapter_text ? 'unchanged' : 'changed'}` : 'not run', met: r.adapter?.load === 200 && r.adapter.unload === 200 && r.adapter.base_text !== r.adapter.adapter_text },
  { what: "chunked prefill on: simulate's probe catches the crash before any episode", target: 'exit 2, 0 episodes, the engine log shows the crash', measured: r.crash ? `exit ${r.crash.exit}, ${r.crash.episodes} episodes, log: ${r.crash.engine_log_says ?? 'no crash line'}` : `skipped (${r.crash_skipped})`, met: r.crash?.exit === 2 && r.crash.episodes === 0 && r.crash.engine_log_says !== null },
];
writeResult({
  suite: 'vllm-cpu',
  tasks: [],
  targets,
  markdown: [
    `tests/vllm.test.ts against vLLM's CPU build (vllm-cpu 0.32.0, SmolLM2-135M-Instruct fp32, scripts/vllm-serve.sh), test exit ${run.status}; the whole file took ${r.wall_s.toFixed(0)} s (${wall.toFixed(0)} s with vitest), load average (1/5/15 min) ${load(r.load_average_start)} at the start and ${load(r.load_average_end)} at the end on ${machine().cores} cores.`,
    '',
    '| step | seconds |',
    '| --- | ---: |',
    ...Object.entries(r.timings).map(([k, v]) => `| ${k} | ${v.toFixed(1)} |`),
    '',
    ...(r.crash ? [`The crash run's one line: ${r.crash.message}`, ''] : []),
    ...(r.verify ? [`verify monotonicity at budget ${r.verify.budget}: ${r.verify.verdict} after ${r.verify.responses} responses (exit ${r.verify.exit}).`, ''] : []),
  ],
  notes: ['Run: `bash scripts/vllm-serve.sh --install-only && npx tsx benchmarks/vllm-cpu.ts`'],
  extra: { record: r, test_exit: run.status },
});
console.log(`[vllm-cpu] wrote benchmarks/results/vllm-cpu.json (test exit ${run.status})`);
process.exit(run.status === 0 ? 0 : 1);
