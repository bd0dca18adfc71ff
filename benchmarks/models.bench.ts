/**
 * The offline models (issue: real models, offline).
 *
 * 1. ONNX encoder (all-MiniLM-L6-v2): texts per second through `OnnxEncoder.encode` (tokenize,
 *    batch, run, pool, normalize; no cache), batched and one by one, against the time onnxruntime's
 *    own `session.run` takes on the very same padded batches. The gap is our overhead.
 *    Target: overhead under 15% of the runtime's time.
 * 2. Local LLM (SmolLM2-135M-Instruct Q4_1, node-llama-cpp on the CPU): prompt-processing and
 *    generation tokens per second on the Ad-LLM prompt. Target: generation of at least 20 tokens/s.
 *
 * Models come from `bash scripts/fetch-models.sh`; a missing one is noted and its part skipped.
 * `--quick` uses fewer texts and tokens.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { buildAdPrompt } from '../mechanism/prompt.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { embeddedWorld } from '../simulation/world.ts';
import { writeResult, type TaskFigure, type Target } from './lib.ts';

const quick = process.argv.includes('--quick');
const targets: Target[] = [];
const notes: string[] = [];
const tasks: TaskFigure[] = [];
const extra: Record<string, unknown> = { cores: os.availableParallelism() };

function figure(name: string, timesMs: number[], opsPerRun: number): TaskFigure {
  const sorted = [...timesMs].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const mean = timesMs.reduce((s, x) => s + x, 0) / timesMs.length;
  return { name, median_ms: median, mean_ms: mean, p99_ms: sorted.at(-1)!, ops_per_s: (opsPerRun * 1000) / median, samples: timesMs.length };
}

const world = embeddedWorld(0);
const catalogTitles = readFileSync(new URL('../data/catalog.jsonl', import.meta.url), 'utf8')
  .split('\n')
  .filter(Boolean)
  .map((l) => (JSON.parse(l) as { title: string }).title);
const nTexts = quick ? 128 : 512;
// Half ad titles, half user queries: the two kinds of text the user model embeds.
const texts = [...catalogTitles.slice(0, nTexts / 2), ...world.queries.slice(0, nTexts / 2).map((q) => q.text)];

// ---------------------------------------------------------------------------------------------
// 1. Encoder
try {
  const { OnnxEncoder } = await import('../simulation/onnx-encoder.ts');
  const reps = quick ? 2 : 3;
  const batched: number[] = [];
  const single: number[] = [];
  const raw: number[] = [];
  let runShare = 0;
  for (let r = 0; r < reps; r++) {
    // A fresh encoder per repetition: with its cache off and an empty memory, every text is computed.
    const enc = await OnnxEncoder.create('all-minilm-l6-v2', { cacheDir: null, batchSize: 32 });
    const t0 = performance.now();
    await enc.encode(texts);
    batched.push(performance.now() - t0);
    runShare = enc.stats().runMs / batched.at(-1)!;

    // The runtime alone on the same batches (same length sort, same padding), tensors prepared beforehand.
    const order = texts.map((t) => ({ t, len: enc.tokenIds(t).length })).sort((a, b) => b.len - a.len);
    const feeds = [];
    for (let i = 0; i < order.length; i += 32) feeds.push(enc.feeds(enc.tokenize(order.slice(i, i + 32).map((o) => o.t))));
    const t1 = performance.now();
    for (const f of feeds) await enc.session.run(f);
    raw.push(performance.now() - t1);
    await enc.close();
  }
  {
    const few = texts.slice(0, quick ? 32 : 96);
    const enc = await OnnxEncoder.create('all-minilm-l6-v2', { cacheDir: null, batchSize: 1 });
    const t0 = performance.now();
    await enc.encode(few);
    single.push(performance.now() - t0);
    tasks.push(figure(`encoder: encode ${few.length} texts one by one (batch 1)`, single, few.length));
    await enc.close();
  }
  tasks.push(figure(`encoder: encode ${texts.length} texts, batch 32`, batched, texts.length));
  tasks.push(figure(`onnxruntime session.run on the same ${Math.ceil(texts.length / 32)} batches`, raw, texts.length));
  const medB = tasks.find((t) => t.name.startsWith('encoder: encode') && t.name.includes('batch 32'))!.median_ms;
  const medR = tasks.at(-1)!.median_ms;
  const overhead = (medB - medR) / medR;
  extra.encoder = { texts: texts.length, batched_texts_per_s: (texts.length * 1000) / medB, raw_texts_per_s: (texts.length * 1000) / medR, overhead, run_share_of_encode: runShare };
  targets.push({ what: 'encoder overhead over onnxruntime session.run (batched)', target: '< 15%', measured: `${(overhead * 100).toFixed(1)}%`, met: overhead < 0.15 });
} catch (e) {
  notes.push(`encoder skipped: ${(e as Error).message.split('\n')[0]} (bash scripts/fetch-models.sh encoder)`);
}

// ---------------------------------------------------------------------------------------------
// 2. Local LLM
try {
  const { LocalChat, disposeLocalModels } = await import('../models/backends/local.ts');
  const profiles = new Map(world.profiles.map((p) => [p.id, p]));
  const q = world.queries[0]!;
  const input: AuctionInput = auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: 0, stage: 'bench', epoch: 0, candidates: 10 });
  const messages = [{ role: 'user' as const, content: buildAdPrompt(input) }];
  const chat = new LocalChat({ model: 'smollm2' });
  await chat.load();
  const promptTokens = await chat.countTokens(messages[0]!.content);
  const reps = quick ? 2 : 3;
  const prefill: number[] = [];
  const gen: number[] = [];
  let genTokens = 0;
  const maxTokens = quick ? 64 : 128;
  for (let r = 0; r < reps; r++) {
    // A seeded call clears the context, so each one evaluates the whole prompt: one token of output
    // measures the prompt processing.
    const t0 = performance.now();
    await chat.chat(messages, { n: 1, seed: 100 + r, maxTokens: 1 });
    prefill.push(performance.now() - t0);
    const t1 = performance.now();
    const res = await chat.chat(messages, { n: 1, seed: 200 + r, maxTokens, temperature: 0.7 });
    const ms = performance.now() - t1 - prefill.at(-1)!;
    gen.push(ms);
    genTokens = res.usage.completionTokens;
    extra[`llm_rep_${r}`] = { completion_tokens: res.usage.completionTokens, finish: res.finishReasons[0] };
  }
  tasks.push(figure(`smollm2: prompt processing (${promptTokens} tokens)`, prefill, promptTokens));
  const genFigure = figure(`smollm2: generation (~${genTokens} tokens after the prompt)`, gen, genTokens);
  tasks.push(genFigure);
  extra.llm = { prompt_tokens: promptTokens, prompt_tokens_per_s: tasks.at(-2)!.ops_per_s, generation_tokens_per_s: genFigure.ops_per_s, threads: chat.config.threads };
  targets.push({ what: 'SmolLM2-135M generation speed on the CPU', target: '>= 20 tokens/s', measured: `${genFigure.ops_per_s.toFixed(1)} tokens/s (${chat.config.threads} thread(s))`, met: genFigure.ops_per_s >= 20 });
  notes.push('generation time = time of a prompt+generation call minus the same prompt\'s processing time measured just before');
  await disposeLocalModels();
} catch (e) {
  notes.push(`local LLM skipped: ${(e as Error).message.split('\n')[0]} (bash scripts/fetch-models.sh smollm2)`);
}

const result = writeResult({ suite: 'models', tasks, targets, notes, extra });
for (const t of result.tasks) console.log(`${t.name.padEnd(64)} median ${t.median_ms.toFixed(1)} ms  ${t.ops_per_s.toFixed(1)}/s`);
for (const t of result.targets) console.log(`${t.met ? 'met    ' : 'NOT MET'} ${t.what}: ${t.measured} (target ${t.target})`);
for (const n of result.notes ?? []) console.log(`note: ${n}`);
