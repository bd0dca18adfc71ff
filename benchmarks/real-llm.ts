/**
 * LLM-Auction on a real LLM, end to end on this CPU: SmolLM2-135M-Instruct served by vLLM's CPU
 * build (--backend vllm: scripts/vllm-serve.sh, requests batched with n per request and
 * concurrency) or by `llm-auction serve` (--backend local, llama.cpp, the default), trained by IRPO
 * through the external-trainer contract (TRL + LoRA on CPU), each epoch's adapter hot-loaded
 * through `/v1/load_lora_adapter` (vLLM takes the PEFT directory as it is; the local server
 * converts it to GGUF). Then Table 2's rows for the base model, the format-warm-started model
 * (`run:DIR@0`) and the trained model on held-out test queries, with paired differences,
 * `verify` monotonicity and Figure 4(a) from the served model.
 *
 *   npx tsx benchmarks/real-llm.ts [--backend local|vllm] [--out runs/real-llm] [--queries 24] [--epochs 2] [--test 40] \
 *       [--candidates 3] [--max-tokens 96] [--ad-template compact] [--mosaic-n 4] [--warm-queries N] \
 *       [--rm-samples R] [--dpo-samples M] [--trainer-steps N|all] [--batch-size B] \
 *       [--concurrency C] [--n-per-request N] [--throughput-queries 12 --throughput-samples 4] \
 *       [--verify-budget N --verify-cases 2] [--fig4a-queries N --fig4a-samples K] [--threads T] [--smoke]
 *
 * --smoke is the CI check (with the local backend): a handful of queries, one epoch, one DPO step,
 * and it asserts that the adapter was hot-loaded and that the next epoch's samples came from it
 * (their text differs from the base model's under the same seed). `--backend vllm --smoke` is the
 * same check through vLLM (not in CI: the venv is 3.5 GB), and asserts that no adapter was
 * converted. Every step's command is printed and written to OUT/commands.txt, so the run can be
 * repeated by hand.
 *
 * The throughput phase (--throughput-queries Q, 0 for none) runs the same seeded `simulate` (Q
 * queries x --throughput-samples answers, the run's prompt and max_tokens) through each backend
 * the run uses — with --backend vllm, through the local backend first (vLLM not yet started, so
 * its idle engine takes no core) and then through vLLM — and records answers and characters per
 * second beside every phase's wall time in OUT/result.json.
 *
 * Needs: bash scripts/fetch-models.sh smollm2, bash training/python/smoke_test.sh (the training
 * venv), bash scripts/make-trainer-model.sh (the trainer's transformers copy), and for
 * --backend vllm bash scripts/vllm-serve.sh --install-only.
 */
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { summarizeRealLlm } from './real-llm-summary.ts';
import { freePort, loadAdapter, runTracked, startLocal, startVllm, type Served } from './real-llm-servers.ts';

const { values: a } = parseArgs({
  options: {
    backend: { type: 'string', default: 'local' },
    out: { type: 'string', default: 'runs/real-llm' },
    queries: { type: 'string', default: '24' },
    epochs: { type: 'string', default: '2' },
    test: { type: 'string', default: '40' },
    candidates: { type: 'string', default: '3' },
    'max-tokens': { type: 'string', default: '96' },
    'rm-samples': { type: 'string', default: '4' },
    'dpo-samples': { type: 'string', default: '4' },
    'trainer-lr': { type: 'string', default: '5e-5' },
    'trainer-steps': { type: 'string', default: '24' },
    'batch-size': { type: 'string', default: '2' },
    'warm-steps': { type: 'string', default: '48' },
    'warm-lr': { type: 'string', default: '2e-4' },
    'warm-queries': { type: 'string' },
    reward: { type: 'string', default: 'oracle' },
    seed: { type: 'string', default: '0' },
    'ad-template': { type: 'string' },
    'mosaic-n': { type: 'string', default: '4' },
    'verify-budget': { type: 'string', default: '0' },
    'verify-cases': { type: 'string', default: '2' },
    'fig4a-queries': { type: 'string', default: '0' },
    'fig4a-samples': { type: 'string', default: '4' },
    concurrency: { type: 'string' },
    'n-per-request': { type: 'string' },
    'throughput-queries': { type: 'string' },
    'throughput-samples': { type: 'string', default: '4' },
    'vllm-nice': { type: 'string', default: '5' },
    'vllm-cores': { type: 'string' },
    threads: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});
const smoke = a.smoke!;
const backend = a.backend!;
if (backend !== 'local' && backend !== 'vllm') {
  console.error(`[real-llm] --backend must be local or vllm, got ${JSON.stringify(backend)}`);
  process.exit(2);
}
const vllm = backend === 'vllm';
const out = resolve(smoke ? `${a.out}-smoke` : a.out!);
const py = resolve(process.env.LLM_AUCTION_PYTHON ?? '.cache/venv-train/bin/python');
const base = resolve('.cache/models/smollm2-hf');
const need: [string, string][] = [
  ['.cache/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf', 'bash scripts/fetch-models.sh smollm2'],
  [py, 'bash training/python/smoke_test.sh'],
  [join(base, 'model.safetensors'), 'bash scripts/make-trainer-model.sh'],
  ...(vllm ? ([[resolve(process.env.VLLM_VENV ?? '.cache/venv-vllm', 'bin/python'), 'bash scripts/vllm-serve.sh --install-only']] as [string, string][]) : []),
];
for (const [f, how] of need) {
  if (!existsSync(f)) {
    console.error(`[real-llm] ${f} is missing: run ${how}`);
    process.exit(2);
  }
}
const positive = (flag: string, v: string | undefined, min = 1): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) {
    console.error(`[real-llm] --${flag} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
    process.exit(2);
  }
  return n;
};
mkdirSync(out, { recursive: true });
const started = Date.now();
const log = (s: string) => console.log(`[real-llm ${((Date.now() - started) / 1000).toFixed(0).padStart(5)}s] ${s}`);
// Every command of the run reads and writes the same prompt: the compact one by default, about a
// third of the default's tokens (prompt reading dominates on a CPU), with no example titles that
// a 135M model copies instead of the candidates. The smoke test keeps the default prompt: with it
// the over-trained warm start writes markup within its 32 tokens (right or broken), which is what
// gives the one DPO step pairs to train on.
const adTemplate = a['ad-template'] ?? (smoke ? 'default' : 'compact');
const cli = (args: string[]) => ['node', resolve('bin/llm-auction.js'), '--ad-template', adTemplate, ...args];
const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);
const timings: Record<string, number> = {};
const time = (label: string, t0: number) => {
  timings[label] = (timings[label] ?? 0) + (Date.now() - t0) / 1000;
};

async function run(label: string, argv: string[], okCodes: readonly number[] = [0]): Promise<void> {
  const line = argv.map(quote).join(' ');
  appendFileSync(join(out, 'commands.txt'), `# ${label}\n${line}\n`);
  log(`${label}: ${line}`);
  const t0 = Date.now();
  const code = await runTracked(argv);
  if (!okCodes.includes(code)) throw new Error(`${label} exited with ${code}`);
  time(label, t0);
}

// ---- 1. The servers. Generation is bounded (max_tokens) so every request finishes. ----
const maxTokens = smoke ? 32 : Number(a['max-tokens']);
const dpoSamples = smoke ? 2 : positive('dpo-samples', a['dpo-samples']);
// vLLM batches: several requests in flight, each asking for n answers at once. The local server
// generates one answer at a time (as the runs before vLLM were recorded).
const concurrency = positive('concurrency', a.concurrency ?? (vllm ? '8' : '1'));
const nPerRequest = a['n-per-request'] ?? (vllm ? String(dpoSamples) : undefined);
// Every core for the local server: sampling and the trainer take turns (IRPO's phases run one
// after the other), and reading the prompt, most of a short answer's cost, runs twice as fast on
// two cores. The smoke test keeps the backend's default (half the cores), as CI runs it beside other work.
const threads = a.threads ?? (smoke ? undefined : String(availableParallelism()));
// Each backend is asked as it serves best: the local server as the runs before vLLM asked it (one
// request at a time, one answer each: it generates one at a time), vLLM with the run's settings.
const specOf = (s: Served) =>
  s.backend === 'vllm' || !vllm
    ? `openai:${s.url}?model=${encodeURIComponent(s.model)}&max_tokens=${maxTokens}&concurrency=${concurrency}${nPerRequest ? `&n_per_request=${nPerRequest}` : ''}&cache=off`
    : `openai:${s.url}?model=${encodeURIComponent(s.model)}&max_tokens=${maxTokens}&concurrency=1&cache=off`;
// The port is kept across a --resume: the run directory's policies name the endpoint's URL.
const portFile = join(out, 'port.json');
const ports = (existsSync(portFile) ? JSON.parse(readFileSync(portFile, 'utf8')) : {}) as Record<string, number>;
const portFor = async (b: string) => {
  ports[b] ??= await freePort();
  writeFileSync(portFile, `${JSON.stringify(ports)}\n`);
  return ports[b]!;
};
async function serveLocal(tag: string): Promise<Served> {
  const json = join(out, tag === 'main' ? 'serve.json' : `serve-${tag}.json`);
  const argv = cli(['serve', '-m', `local:smollm2?max_tokens=${maxTokens}${threads ? `&threads=${threads}` : ''}`, '--port', String(await portFor(`local-${tag}`)), '--json', json]);
  appendFileSync(join(out, 'commands.txt'), `# serve${tag === 'main' ? ' (kept running during the run)' : ` (${tag})`}\n${argv.map(quote).join(' ')}\n`);
  log(`serve: ${argv.map(quote).join(' ')}`);
  const s = await startLocal(argv, json);
  timings[`start local server${tag === 'main' ? '' : ` (${tag})`}`] = s.startSeconds;
  return s;
}
async function serveVllm(): Promise<Served> {
  const logFile = join(out, 'vllm-serve.log');
  appendFileSync(join(out, 'commands.txt'), `# vLLM (kept running during the run; its output: ${logFile})\nnice -n ${a['vllm-nice']} bash scripts/vllm-serve.sh --port ${await portFor('vllm')} --max-lora-rank 8${a['vllm-cores'] ? ` --cores ${a['vllm-cores']}` : ''} -- --max-loras 4\n`);
  log('starting vLLM (scripts/vllm-serve.sh)');
  // The server runs a little below the trainer's priority: its idle engine busy-polls a core,
  // which would otherwise slow the DPO step it waits for.
  const s = await startVllm({ port: await portFor('vllm'), logFile, maxLoraRank: 8, maxLoras: 4, nice: Number(a['vllm-nice']), cores: a['vllm-cores'] });
  timings['start vLLM server'] = s.startSeconds;
  return s;
}

/** answers and characters per second of the same seeded simulate through one backend. */
interface Throughput { backend: string; spec: string; queries: number; samples: number; answers: number; chars: number; seconds: number; answers_per_s: number; chars_per_s: number; load_average: number[] }
const throughputFile = join(out, 'throughput.json');
const throughput = (existsSync(throughputFile) ? JSON.parse(readFileSync(throughputFile, 'utf8')) : {}) as Record<string, Throughput>;
const tq = Number(a['throughput-queries'] ?? (smoke ? '0' : '12'));
const ts = Number(a['throughput-samples']);
async function measureThroughput(s: Served): Promise<void> {
  if (!(tq > 0) || throughput[s.backend]) return;
  const dir = join(out, `throughput-${s.backend}`);
  rmSync(dir, { recursive: true, force: true });
  // probe=off: the probe (a concurrent seeded burst beside three long prompts, about 45 s on vLLM here) is a once-per-process
  // check, not throughput; the endpoint was probed when the run's first command asked it.
  const spec = `${specOf(s)}&probe=off`;
  const label = `throughput ${s.backend}`;
  const t0 = Date.now();
  await run(label, cli(['simulate', '-m', spec, '--queries', 'test', '--limit', String(tq), '--samples', String(ts), '--candidates', a.candidates!, '--concurrency', '8', '--seed', a.seed!, '--out', dir]));
  const seconds = (Date.now() - t0) / 1000;
  const eps = readFileSync(join(dir, 'episodes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { response: string });
  const chars = eps.reduce((n, e) => n + e.response.length, 0);
  throughput[s.backend] = { backend: s.backend, spec, queries: tq, samples: ts, answers: eps.length, chars, seconds, answers_per_s: eps.length / seconds, chars_per_s: chars / seconds, load_average: loadavg() };
  writeFileSync(throughputFile, `${JSON.stringify(throughput, null, 2)}\n`);
  log(`${label}: ${eps.length} answers, ${chars} characters in ${seconds.toFixed(1)} s (${(eps.length / seconds).toFixed(2)} answers/s, ${(chars / seconds).toFixed(0)} chars/s)`);
}

const servers: Served[] = [];
try {
  // With vLLM, the local backend's throughput is measured first, alone (vLLM not yet started).
  if (vllm && tq > 0 && !throughput.local) {
    const local = await serveLocal('throughput');
    try {
      await measureThroughput(local);
    } finally {
      await local.stop();
    }
  }
  const served = vllm ? await serveVllm() : await serveLocal('main');
  servers.push(served);
  const endpoint = specOf(served);
  log(`serving ${served.model} at ${served.url} (${served.backend}, ready in ${served.startSeconds.toFixed(0)} s)`);
  await measureThroughput(served);

  // ---- 2. IRPO with the external trainer: warm start (epoch 0), then the epochs. ----
  const trainDir = join(out, 'train');
  // A resumed run's adapters are loaded into the fresh server (by the names its policies give).
  for (const e of existsSync(trainDir) ? readdirSync(trainDir).filter((d) => /^epoch-\d+$/.test(d)) : []) {
    const f = join(trainDir, e, 'policy.json');
    if (!existsSync(f)) continue;
    const p = JSON.parse(readFileSync(f, 'utf8')) as { model?: string; adapter?: string | null };
    if (p.adapter && p.model && p.model !== served.model) log(`${e}: adapter ${p.model} ${await loadAdapter(served.url, p.model, p.adapter)}`);
  }
  const trainer = [py, resolve('training/python/train_dpo.py'), '--cpu', '--batch-size', smoke ? '2' : String(positive('batch-size', a['batch-size'])), '--lora-r', '8', '--lora-alpha', '16', '--lora-dropout', '0', '--max-length', '1024', '--warmup-ratio', '0'];
  // --trainer-steps all: no cap, one pass over the epoch's pairs (every pair seen once).
  const steps = smoke ? '1' : a['trainer-steps']!;
  await run('train', cli([
    'train', '--out', trainDir, '--trainer', 'external', '--ad-llm', endpoint, '--base-model', base,
    '--trainer-command', trainer.map(quote).join(' '),
    // The smoke run over-trains its warm start on purpose (a high rate, several passes over three
    // examples) so that the adapter certainly changes the text and some answers carry ads to pair.
    '--warm-start', 'sft', '--warm-start-steps', smoke ? '6' : a['warm-steps']!, '--warm-start-lr', smoke ? '2e-3' : a['warm-lr']!,
    ...(!smoke && a['warm-queries'] ? ['--warm-start-queries', a['warm-queries']] : []),
    '--trainer-lr', a['trainer-lr']!, ...(steps === 'all' ? [] : ['--trainer-steps', steps]),
    '--queries', smoke ? '3' : a.queries!, '--epochs', smoke ? '1' : a.epochs!,
    '--rm-samples', smoke ? '2' : a['rm-samples']!, '--dpo-samples', String(dpoSamples),
    '--candidates', a.candidates!, '--reward', a.reward!, '--seed', a.seed!,
    ...(existsSync(join(trainDir, 'metrics.jsonl')) ? ['--resume'] : []),
  ]));

  if (smoke) {
    await smokeChecks(trainDir, served);
  } else {
    // ---- 3. Table 2 rows on held-out queries, paired against the warm-started model. ----
    // The baselines run over the warm-started model: GSP (one slot, pre-generation) and MOSAIC
    // with --mosaic-n candidates per answer scored by the same reward IRPO trained on.
    const warm = `run:${trainDir}@0`;
    const mosaicN = Number(a['mosaic-n']);
    const rows = [
      endpoint,
      warm,
      `gsp:${warm}?k=1`,
      ...(mosaicN > 0 ? [`mosaic:${warm}?n=${mosaicN}&rm=${a.reward === 'oracle' ? 'oracle' : trainDir}`] : []),
      ...Array.from({ length: Number(a.epochs) - 1 }, (_, k) => `run:${trainDir}@${k + 1}`),
      `run:${trainDir}`,
    ];
    await run('bench', cli([
      'bench', '-m', rows.join(','), '--queries', 'test', '--limit', a.test!, '--candidates', a.candidates!,
      '--paired-with', warm, '--seed', a.seed!, '--json', join(out, 'bench.json'),
    ]));
    const bench = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
    // ---- 4. verify monotonicity of the trained model at a stated budget (responses per property). --
    // Exit 1 (fail) and 3 (inconclusive at this budget) are results, recorded as they are.
    const budget = Number(a['verify-budget']);
    if (budget > 0) {
      await run('verify', cli(['verify', '-m', `run:${trainDir}`, '--property', 'monotonicity', '--budget', String(budget), '--cases', a['verify-cases']!, '--seed', a.seed!, '--json', join(out, 'verify.json')]), [0, 1, 3]);
    }
    const verify = budget > 0 && existsSync(join(out, 'verify.json')) ? JSON.parse(readFileSync(join(out, 'verify.json'), 'utf8')) : null;
    // ---- 5. Figure 4(a) from the real model: every epoch's rule, one ad's bid set to 1, 10, ..., 100
    // on held-out queries; a served model cannot enumerate its answers, so its itctr is estimated
    // from --fig4a-samples responses per (query, bid, epoch), seeded per query (common random numbers).
    const fig4aQueries = Number(a['fig4a-queries']);
    if (fig4aQueries > 0) {
      await run('figure 4(a)', cli(['report', '--run', trainDir, '--out', join(out, 'report'), '--figures', '4a', '--queries', String(fig4aQueries), '--itctr-samples', a['fig4a-samples']!, '--seed', a.seed!, '--json', join(out, 'report.json')]));
    }
    const fig4a = fig4aQueries > 0 ? JSON.parse(readFileSync(join(out, 'report', 'fig4a.json'), 'utf8')) : null;
    if (fig4a) copyFileSync(join(out, 'report', 'fig4a.svg'), resolve('benchmarks/results/real-llm-fig4a.svg'));
    const result = {
      backend,
      endpoint,
      criteria: { test_queries: Number(a.test), verify_budget: budget, fig4a_queries: fig4aQueries, fig4a_samples: Number(a['fig4a-samples']), dpo_samples: dpoSamples, rm_samples: Number(a['rm-samples']), trainer_steps: steps, batch_size: Number(a['batch-size']) },
      throughput,
      verify,
      fig4a,
      command: `npx tsx benchmarks/real-llm.ts ${process.argv.slice(2).map(quote).join(' ')}`,
      produced_by: readFileSync(join(out, 'commands.txt'), 'utf8'),
      timings_s: { ...timings, total: (Date.now() - started) / 1000 },
      bench,
      metrics: readFileSync(join(trainDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)),
    };
    writeFileSync(join(out, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
    log(`wrote ${join(out, 'result.json')}`);
    summarizeRealLlm(out);
  }
} finally {
  for (const s of servers) await s.stop();
}
log('done; every server stopped');

/**
 * What the CI smoke test asserts: the adapters were hot-loaded into the server through
 * /v1/load_lora_adapter (they are listed as models), epoch 1 sampled from the warm-started
 * adapter (its policy names it), and that adapter changes the text: for the same prompt and seed,
 * greedy answers of the base model and the adapter differ.
 */
async function smokeChecks(trainDir: string, served: Served): Promise<void> {
  const fail = (msg: string): never => {
    throw new Error(`smoke check failed: ${msg}`);
  };
  const p0 = JSON.parse(readFileSync(join(trainDir, 'epoch-0', 'policy.json'), 'utf8')) as { model: string; adapter: string | null };
  const p1 = JSON.parse(readFileSync(join(trainDir, 'epoch-1', 'policy.json'), 'utf8')) as { model: string };
  if (!p0.adapter || p0.model === served.model) fail(`epoch 0 is not the warm-started adapter: ${JSON.stringify(p0)}`);
  const listed = ((await (await fetch(`${served.url}/models`)).json()) as { data: { id: string }[] }).data.map((m) => m.id);
  for (const m of [p0.model, p1.model]) if (!listed.includes(m)) fail(`adapter ${m} is not loaded (models: ${listed.join(', ')})`);
  // One DPO step ran on real pairs, and its adapter was loaded: converted to GGUF by the local
  // server; by vLLM as the PEFT directory it is (nothing converted).
  const dpo = JSON.parse(readFileSync(join(trainDir, 'epoch-1', 'adapter', 'metrics.json'), 'utf8')) as { steps: number; pairs: number; loss_finite: boolean };
  if (!(dpo.steps >= 1 && dpo.pairs >= 1 && dpo.loss_finite)) fail(`epoch 1's DPO did not run a step on pairs: ${JSON.stringify(dpo)}`);
  for (const dir of [p0.adapter!, join(trainDir, 'epoch-1', 'adapter')]) {
    if (!existsSync(join(dir, 'adapter_config.json'))) fail(`${dir} is not a PEFT adapter directory`);
    if (served.backend === 'local' && !existsSync(join(dir, 'adapter.gguf'))) fail(`${dir} was not converted to GGUF`);
    if (served.backend === 'vllm' && existsSync(join(dir, 'adapter.gguf'))) fail(`${dir} was converted to GGUF, which vLLM does not need`);
  }
  const online = readFileSync(join(trainDir, 'epoch-1', 'online', 'episodes.jsonl'), 'utf8').trim().split('\n');
  if (online.length === 0) fail('epoch 1 sampled nothing');
  const prompt = JSON.parse(readFileSync(join(trainDir, 'epoch-0', 'warm-start', 'sft.jsonl'), 'utf8').split('\n')[0]!).prompt as string;
  const answer = async (model: string) => {
    const res = await fetch(`${served.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }], temperature: 0, seed: 1, max_tokens: 32 }),
    });
    if (!res.ok) fail(`${model}: HTTP ${res.status} ${await res.text()}`);
    return ((await res.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
  };
  const [b, w] = [await answer(served.model), await answer(p0.model)];
  log(`base: ${JSON.stringify(b.slice(0, 120))}`);
  log(`${p0.model}: ${JSON.stringify(w.slice(0, 120))}`);
  if (b === w) fail('the adapter gives the same text as the base model under the same seed');
  log(`smoke checks passed (${served.backend}): warm start and ${dpo.steps} DPO step(s) on ${dpo.pairs} pair(s), adapters ${served.backend === 'local' ? 'converted and ' : 'loaded as PEFT directories and '}hot-loaded, epoch 1 sampled from the warm-started adapter, whose text differs from the base model's`);
}

