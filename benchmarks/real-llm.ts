/**
 * LLM-Auction on a real LLM, end to end on this CPU: SmolLM2-135M-Instruct served by
 * `llm-auction serve`, trained by IRPO through the external-trainer contract (TRL + LoRA on CPU),
 * each epoch's adapter hot-loaded through vLLM's `/v1/load_lora_adapter`, exactly as a GPU user
 * runs it against vLLM. Then Table 2's rows for the base model, the format-warm-started model
 * (`run:DIR@0`) and the trained model on held-out test queries, with paired differences.
 *
 *   npx tsx benchmarks/real-llm.ts [--out runs/real-llm] [--queries 24] [--epochs 2] [--test 40] \
 *       [--candidates 3] [--max-tokens 96] [--ad-template compact] [--mosaic-n 4] [--warm-queries N] \
 *       [--verify-budget N --verify-cases 2] [--fig4a-queries N --fig4a-samples K] [--threads T] [--smoke]
 *
 * --smoke is the CI check: a handful of queries, one epoch, one DPO step, and it asserts that the
 * adapter was hot-loaded and that the next epoch's samples came from it (their text differs from
 * the base model's under the same seed). Every step's command is printed and written to
 * OUT/commands.txt, so the run can be repeated by hand.
 *
 * Needs: bash scripts/fetch-models.sh smollm2, bash training/python/smoke_test.sh (the training
 * venv), bash scripts/make-trainer-model.sh (the trainer's transformers copy).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { summarizeRealLlm } from './real-llm-summary.ts';

const { values: a } = parseArgs({
  options: {
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
    threads: { type: 'string' },
    smoke: { type: 'boolean', default: false },
  },
});
const smoke = a.smoke!;
const out = resolve(smoke ? `${a.out}-smoke` : a.out!);
const py = resolve(process.env.LLM_AUCTION_PYTHON ?? '.cache/venv-train/bin/python');
const base = resolve('.cache/models/smollm2-hf');
const need: [string, string][] = [
  ['.cache/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf', 'bash scripts/fetch-models.sh smollm2'],
  [py, 'bash training/python/smoke_test.sh'],
  [join(base, 'model.safetensors'), 'bash scripts/make-trainer-model.sh'],
];
for (const [f, how] of need) {
  if (!existsSync(f)) {
    console.error(`[real-llm] ${f} is missing: run ${how}`);
    process.exit(2);
  }
}
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

function run(label: string, argv: string[], okCodes: readonly number[] = [0]): void {
  const line = argv.map(quote).join(' ');
  appendFileSync(join(out, 'commands.txt'), `# ${label}\n${line}\n`);
  log(`${label}: ${line}`);
  const t0 = Date.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: 'inherit' });
  if (!okCodes.includes(r.status ?? -1)) throw new Error(`${label} exited with ${r.status}`);
  timings[label] = (Date.now() - t0) / 1000;
}
const timings: Record<string, number> = {};

// ---- 1. Serve the base model. Generation is bounded (max_tokens) so every request finishes. ----
const maxTokens = smoke ? 32 : Number(a['max-tokens']);
// Every core for the server: sampling and the trainer take turns (IRPO's phases run one after the
// other), and reading the prompt, most of a short answer's cost, runs twice as fast on two cores.
// The smoke test keeps the backend's default (half the cores), as CI runs it beside other work.
const threads = a.threads ?? (smoke ? undefined : String(availableParallelism()));
const serveArgs = cli(['serve', '-m', `local:smollm2?max_tokens=${maxTokens}${threads ? `&threads=${threads}` : ''}`, '--port', '0', '--json', join(out, 'serve.json')]);
appendFileSync(join(out, 'commands.txt'), `# serve (kept running during the run)\n${serveArgs.map(quote).join(' ')}\n`);
log(`serve: ${serveArgs.map(quote).join(' ')}`);
const server: ChildProcess = spawn(serveArgs[0]!, serveArgs.slice(1), { stdio: ['ignore', 'inherit', 'inherit'] });
const stop = () => server.kill('SIGTERM');
process.on('exit', stop);
for (let i = 0; i < 600 && !existsSync(join(out, 'serve.json')); i++) await new Promise((r) => setTimeout(r, 500));
if (!existsSync(join(out, 'serve.json'))) throw new Error('serve did not start');
const served = JSON.parse(readFileSync(join(out, 'serve.json'), 'utf8')) as { url: string; model: string };
const endpoint = `openai:${served.url}?model=${encodeURIComponent(served.model)}&max_tokens=${maxTokens}&concurrency=1&cache=off`;
log(`serving ${served.model} at ${served.url}`);

try {
  // ---- 2. IRPO with the external trainer: warm start (epoch 0), then the epochs. ----
  const trainDir = join(out, 'train');
  const trainer = [py, resolve('training/python/train_dpo.py'), '--cpu', '--batch-size', '2', '--lora-r', '8', '--lora-alpha', '16', '--lora-dropout', '0', '--max-length', '1024', '--warmup-ratio', '0'];
  run('train', cli([
    'train', '--out', trainDir, '--trainer', 'external', '--ad-llm', endpoint, '--base-model', base,
    '--trainer-command', trainer.map(quote).join(' '),
    // The smoke run over-trains its warm start on purpose (a high rate, several passes over three
    // examples) so that the adapter certainly changes the text and some answers carry ads to pair.
    '--warm-start', 'sft', '--warm-start-steps', smoke ? '6' : a['warm-steps']!, '--warm-start-lr', smoke ? '2e-3' : a['warm-lr']!,
    ...(!smoke && a['warm-queries'] ? ['--warm-start-queries', a['warm-queries']] : []),
    '--trainer-lr', a['trainer-lr']!, '--trainer-steps', smoke ? '1' : a['trainer-steps']!,
    '--queries', smoke ? '3' : a.queries!, '--epochs', smoke ? '1' : a.epochs!,
    '--rm-samples', smoke ? '2' : a['rm-samples']!, '--dpo-samples', smoke ? '2' : a['dpo-samples']!,
    '--candidates', a.candidates!, '--reward', a.reward!, '--seed', a.seed!,
    ...(existsSync(join(trainDir, 'metrics.jsonl')) ? ['--resume'] : []),
  ]));

  if (smoke) {
    await smokeChecks(trainDir, served);
    process.exit(0);
  }

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
  run('bench', cli([
    'bench', '-m', rows.join(','), '--queries', 'test', '--limit', smoke ? '3' : a.test!, '--candidates', a.candidates!,
    '--paired-with', warm, '--seed', a.seed!, '--json', join(out, 'bench.json'),
  ]));
  const bench = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
  // ---- 4. verify monotonicity of the trained model at a stated budget (responses per property). --
  // Exit 1 (fail) and 3 (inconclusive at this budget) are results, recorded as they are.
  const budget = Number(a['verify-budget']);
  if (budget > 0) {
    run('verify', cli(['verify', '-m', `run:${trainDir}`, '--property', 'monotonicity', '--budget', String(budget), '--cases', a['verify-cases']!, '--seed', a.seed!, '--json', join(out, 'verify.json')]), [0, 1, 3]);
  }
  const verify = budget > 0 && existsSync(join(out, 'verify.json')) ? JSON.parse(readFileSync(join(out, 'verify.json'), 'utf8')) : null;
  // ---- 5. Figure 4(a) from the real model: every epoch's rule, one ad's bid set to 1, 10, ..., 100
  // on held-out queries; a served model cannot enumerate its answers, so its itctr is estimated
  // from --fig4a-samples responses per (query, bid, epoch), seeded per query (common random numbers).
  const fig4aQueries = Number(a['fig4a-queries']);
  if (fig4aQueries > 0) {
    run('figure 4(a)', cli(['report', '--run', trainDir, '--out', join(out, 'report'), '--figures', '4a', '--queries', String(fig4aQueries), '--itctr-samples', a['fig4a-samples']!, '--seed', a.seed!, '--json', join(out, 'report.json')]));
  }
  const fig4a = fig4aQueries > 0 ? JSON.parse(readFileSync(join(out, 'report', 'fig4a.json'), 'utf8')) : null;
  if (fig4a) copyFileSync(join(out, 'report', 'fig4a.svg'), resolve('benchmarks/results/real-llm-fig4a.svg'));
  const result = { verify, fig4a, command: `npx tsx benchmarks/real-llm.ts ${process.argv.slice(2).map(quote).join(' ')}`, produced_by: readFileSync(join(out, 'commands.txt'), 'utf8'), timings_s: timings, bench, metrics: readFileSync(join(trainDir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)) };
  writeFileSync(join(out, 'result.json'), `${JSON.stringify(result, null, 2)}\n`);
  log(`wrote ${join(out, 'result.json')}`);
  summarizeRealLlm(out);
} finally {
  stop();
}

/**
 * What the CI smoke test asserts: the adapters were hot-loaded into the server through
 * /v1/load_lora_adapter (they are listed as models), epoch 1 sampled from the warm-started
 * adapter (its policy names it), and that adapter changes the text: for the same prompt and seed,
 * greedy answers of the base model and the adapter differ.
 */
async function smokeChecks(trainDir: string, served: { url: string; model: string }): Promise<void> {
  const fail = (msg: string): never => {
    throw new Error(`smoke check failed: ${msg}`);
  };
  const p0 = JSON.parse(readFileSync(join(trainDir, 'epoch-0', 'policy.json'), 'utf8')) as { model: string; adapter: string | null };
  const p1 = JSON.parse(readFileSync(join(trainDir, 'epoch-1', 'policy.json'), 'utf8')) as { model: string };
  if (!p0.adapter || p0.model === served.model) fail(`epoch 0 is not the warm-started adapter: ${JSON.stringify(p0)}`);
  const listed = ((await (await fetch(`${served.url}/models`)).json()) as { data: { id: string }[] }).data.map((m) => m.id);
  for (const m of [p0.model, p1.model]) if (!listed.includes(m)) fail(`adapter ${m} is not loaded (models: ${listed.join(', ')})`);
  // One DPO step ran on real pairs, and its adapter was converted to GGUF and loaded.
  const dpo = JSON.parse(readFileSync(join(trainDir, 'epoch-1', 'adapter', 'metrics.json'), 'utf8')) as { steps: number; pairs: number; loss_finite: boolean };
  if (!(dpo.steps >= 1 && dpo.pairs >= 1 && dpo.loss_finite)) fail(`epoch 1's DPO did not run a step on pairs: ${JSON.stringify(dpo)}`);
  for (const dir of [p0.adapter!, join(trainDir, 'epoch-1', 'adapter')]) if (!existsSync(join(dir, 'adapter.gguf'))) fail(`${dir} was not converted to GGUF`);
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
  log(`smoke checks passed: warm start and ${dpo.steps} DPO step(s) on ${dpo.pairs} pair(s), adapters converted and hot-loaded, epoch 1 sampled from the warm-started adapter, whose text differs from the base model's`);
}

