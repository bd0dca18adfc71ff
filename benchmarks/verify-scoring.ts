/**
 * What it costs to score a given response at another bid, against generating one: the price of
 * sharing samples across a grid's bids (properties/weighted.ts), where each response drawn is
 * scored at every grid bid.
 *
 *   nice -n 19 npx tsx benchmarks/verify-scoring.ts [--instances N] [--grid G] [--n K] [--vllm [--vllm-instances I]]
 *
 * - The embedded world (embedded:pretrained and embedded:optimal): `sample` against `logProb`
 *   from `enumerate` (logProbOf), K responses per auction scored at G bids, as the weighted
 *   design does: the first score at a bid enumerates the auction there (cold), later ones look the
 *   response up (warm).
 * - An `openai:` endpoint with `score=prompt-logprobs`: the fake server's toy model
 *   (tests/helpers/toy-scoring.ts) in this process, so this is the client's and the HTTP routes'
 *   own cost (tokenize and completions requests), not a model's: generating K answers per auction
 *   (one chat request) against scoring them at G bids.
 * - vLLM's CPU build, with --vllm: SmolLM2 served by scripts/vllm-serve.sh --no-lora (scoring
 *   kills the CPU build's engine with LoRA on), --vllm-instances auctions (default 3) of K answers
 *   each, generated with n = K in one request and scored at the G bids, 8 requests at a time; no
 *   warm pass (the server recomputes every prompt). Needs the venv (bash scripts/vllm-serve.sh
 *   --install-only). Without --vllm the row of the last run that had it is kept.
 *
 * Writes benchmarks/results/verify-scoring.json; BENCHMARKS.md comes from benchmarks/summarize.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { resolveMechanismUnderTest } from '../evaluation/resolve.ts';
import { Rng } from '../lib/rng.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import { createOpenAIRule } from '../models/backends/openai-rule.ts';
import { withBid } from '../properties/sampling.ts';
import { logProbOf } from '../properties/weighted.ts';
import { FAKE_MODEL, startFakeOpenAIServer } from '../tests/helpers/fake-openai-server.ts';
import { writeResult } from './lib.ts';
import { freePort, startVllm } from './real-llm-servers.ts';

const args = process.argv.slice(2);
const flag = (name: string, d: number) => {
  const k = args.indexOf(name);
  return k >= 0 ? Number(args[k + 1]) : d;
};
const INSTANCES = flag('--instances', 20);
const G = flag('--grid', 12);
const K = flag('--n', 16);
const VLLM = args.includes('--vllm');
const VLLM_INSTANCES = flag('--vllm-instances', 3);
const command = `npx tsx benchmarks/verify-scoring.ts --instances ${INSTANCES} --grid ${G} --n ${K}${VLLM ? ` --vllm --vllm-instances ${VLLM_INSTANCES}` : ''}`;

const gridBids = Array.from({ length: G }, (_, g) => 1 + Math.round((99 * g) / Math.max(1, G - 1)));
const now = () => performance.now() / 1000;

interface Row {
  rule: string;
  /** wall seconds spent generating, and scoring at the grid (cold) */
  generate_s?: number;
  score_s?: number;
  generate_per_s: number;
  /** responses scored at all G grid bids per second, each bid's first score enumerating (cold) */
  score_grid_cold_per_s: number;
  /** the same responses again, the auctions' tables cached (warm) */
  score_grid_warm_per_s: number | null;
  /** single scores (one response at one bid) per second, cold */
  scores_cold_per_s: number;
  generations: number;
  scores: number;
}

type Lp = (input: AuctionInput, response: string) => Promise<number>;

async function measure(name: string, sample: (input: AuctionInput, n: number, seed: number) => Promise<string[]>, lp: Lp, instances: AuctionInput[], warm = true): Promise<Row> {
  let gen = 0;
  let genS = 0;
  let coldS = 0;
  let warmS = 0;
  let scores = 0;
  let finite = 0;
  for (const [i, input] of instances.entries()) {
    const focal = i % input.ads.length;
    let t = now();
    const ys = await sample(input, K, 1000 + i);
    genS += now() - t;
    gen += ys.length;
    const at = gridBids.map((b) => withBid(input, focal, b));
    const pass = async () => {
      for (const y of ys) for (const lps of await Promise.all(at.map((a) => lp(a, y)))) finite += Number.isFinite(lps) ? 1 : 0;
    };
    t = now();
    await pass();
    coldS += now() - t;
    if (warm) {
      t = now();
      await pass();
      warmS += now() - t;
    }
    scores += ys.length * G;
  }
  // A response is always possible at the bid it was drawn at, so most scores are finite.
  if (finite === 0) throw new Error(`${name}: no finite score: the scorer is broken`);
  // One decimal for fast rows, three significant digits for slow ones (vLLM on CPU: 0.045/s).
  const r = (x: number) => (x >= 10 ? Math.round(x * 10) / 10 : Number(x.toPrecision(3)));
  return { rule: name, generate_s: Math.round(genS * 10) / 10, score_s: Math.round(coldS * 10) / 10, generate_per_s: r(gen / genS), score_grid_cold_per_s: r(gen / coldS), score_grid_warm_per_s: warm ? r(gen / warmS) : null, scores_cold_per_s: r(scores / coldS), generations: gen, scores };
}

const rows: Row[] = [];
const t0 = now();
const load0 = loadavg()[0]!;
const cpu0 = process.cpuUsage();
for (const spec of ['embedded:pretrained', 'embedded:optimal']) {
  const m = await resolveMechanismUnderTest(spec);
  const lp = logProbOf(m.rule)!;
  const rng = Rng.derive(7, 'verify-scoring', spec);
  const instances = Array.from({ length: INSTANCES }, () => m.instances(rng));
  rows.push(await measure(spec, (inp, n, seed) => m.rule.sample(inp, n, { seed }), lp, instances));
  console.log(JSON.stringify(rows.at(-1)));
}

let endpoint: Record<string, number> = {};
{
  const server = await startFakeOpenAIServer();
  server.toy = {};
  try {
    const rule = createOpenAIRule({ baseURL: server.baseURL, model: FAKE_MODEL, score: 'prompt-logprobs', cacheDir: null, concurrency: 8, maxNPerRequest: K });
    const m = await resolveMechanismUnderTest('embedded:pretrained');
    const rng = Rng.derive(7, 'verify-scoring', 'openai');
    const instances = Array.from({ length: Math.min(INSTANCES, 10) }, () => m.instances(rng));
    rows.push(await measure('openai: fake toy endpoint, score=prompt-logprobs (client + HTTP cost)', (inp, n, seed) => rule.sample(inp, n, { seed }), rule.logProb!, instances));
    const s = rule.scorer!.stats();
    endpoint = { requests: s.requests, tokenize: server.scoringRequests.tokenize, completions: server.scoringRequests.completions, prompt_tokens_per_score: Math.round(s.promptTokens / Math.max(1, s.scored)) };
    console.log(JSON.stringify({ ...rows.at(-1), ...endpoint }));
  } finally {
    await server.close();
  }
}
// vLLM's CPU build: the real engine's prefill, the cost a user of score= on it pays.
const RESULT = 'benchmarks/results/verify-scoring.json';
let vllm: (Row & { answer_tokens_per_score: number; prompt_tokens_per_score: number; seconds: number; when: string; derived?: string }) | null = null;
if (VLLM) {
  const prevTemplate = process.env.LLM_AUCTION_AD_TEMPLATE;
  process.env.LLM_AUCTION_AD_TEMPLATE = 'compact'; // short prompts, as tests/vllm.test.ts uses on CPU
  const logFile = join(tmpdir(), `verify-scoring-vllm-${process.pid}.log`);
  const server = await startVllm({ port: await freePort(), logFile, maxLoraRank: 16, maxLoras: 1, nice: 0, lora: false });
  const t = now();
  try {
    const rule = createOpenAIRule({ baseURL: server.url, model: server.model, score: 'prompt-logprobs', cacheDir: null, concurrency: 8, maxNPerRequest: K, maxTokens: 48 });
    await rule.scorer!.check();
    const m = await resolveMechanismUnderTest('embedded:pretrained');
    const rng = Rng.derive(7, 'verify-scoring', 'vllm');
    const instances = Array.from({ length: VLLM_INSTANCES }, () => m.instances(rng));
    const row = await measure("openai: vLLM's CPU build, SmolLM2-135M, score=prompt-logprobs", (inp, n, seed) => rule.sample(inp, n, { seed }), rule.logProb!, instances, false);
    const st = rule.scorer!.stats();
    vllm = { ...row, answer_tokens_per_score: Math.round(st.answerTokens / Math.max(1, st.scored)), prompt_tokens_per_score: Math.round(st.promptTokens / Math.max(1, st.scored)), seconds: Math.round(now() - t), when: new Date().toISOString() };
    console.log(JSON.stringify(vllm));
  } finally {
    await server.stop();
    if (prevTemplate === undefined) delete process.env.LLM_AUCTION_AD_TEMPLATE;
    else process.env.LLM_AUCTION_AD_TEMPLATE = prevTemplate;
  }
} else if (existsSync(RESULT)) {
  vllm = (JSON.parse(readFileSync(RESULT, 'utf8')) as { extra?: { vllm?: typeof vllm } }).extra?.vllm ?? null;
}
if (vllm) rows.push(vllm);
const wall = now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuS = (cpu.user + cpu.system) / 1e6;

/** The note on vLLM's row: one score and one grid of scores in generations' time, against CRN. */
function vllmNote(): string {
  if (!vllm) return "vLLM's CPU build: not measured by this run (--vllm) and no earlier row kept.";
  const perGeneration = vllm.generate_s! / vllm.generations;
  const perScore = vllm.score_s! / vllm.scores;
  const gridPerResponse = vllm.score_s! / vllm.generations;
  return `vLLM's CPU build (SmolLM2-135M served by scripts/vllm-serve.sh --no-lora, 2 cores; ${vllm.when.slice(0, 16)} UTC, --vllm-instances ${vllm.generations / K}): ${vllm.generations} answers generated ${K} per request in ${vllm.generate_s} s (${vllm.generate_per_s}/s); scoring them at the ${G} grid bids, ${vllm.scores} scores 8 at a time of ${vllm.prompt_tokens_per_score} tokens each (${vllm.answer_tokens_per_score} of them the answer), took ${vllm.score_s} s: one score costs about ${(perScore / perGeneration).toFixed(1)} generations' time, and a response scored at the whole grid about ${(gridPerResponse / perGeneration).toFixed(0)}. The common-random-numbers design draws one generation at each of the ${G} bids per observation instead, so on this server sharing samples costs about ${(gridPerResponse / (G * perGeneration)).toFixed(1)}x the wall time per observation: use score=off here. The likely reason: a prompt_logprobs request recomputes the whole prompt (vLLM reads no prefix cache for it) and takes a log-softmax over the 49k-token vocabulary at each of its positions, while n answers of one request share one prefill and decode only their own tokens. By hand earlier (/work/shared/MEASURED.md, 162-token prompt, no concurrency in generation): 8 answers in 12.7 s, scored in 4.9-5.4 s concurrently. On a GPU the balance differs and is not measured here.${vllm.derived ? ` (${vllm.derived})` : ''}`;
}

const markdown = [
  `Responses per second, generating against scoring at a grid of ${G} bids (${K} responses per auction; \`${command}\`, nice 19 on a shared machine). "Grid" rates count a response scored at all ${G} bids as one; "cold" includes each bid's first score (an enumeration of the auction there, or the prompt's tokenization), "warm" is the same responses again. The weighted design pays one grid score per response drawn, once per distinct response text.`,
  '',
  '| rule | generate /s | score at the grid, cold /s | score at the grid, warm /s | single scores, cold /s | grid score vs generate |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.rule} | ${r.generate_per_s.toLocaleString('en-US')} | ${r.score_grid_cold_per_s.toLocaleString('en-US')} | ${r.score_grid_warm_per_s === null ? '–' : r.score_grid_warm_per_s.toLocaleString('en-US')} | ${r.scores_cold_per_s.toLocaleString('en-US')} | ${(r.generate_per_s / r.score_grid_cold_per_s).toFixed(2)}x the time |`),
  '',
];
writeResult({
  suite: 'verify-scoring',
  tasks: [],
  targets: [],
  markdown,
  notes: [
    `The embedded rules score exactly from \`enumerate\` (properties/weighted.ts, logProbOf); the endpoint row is the fake server's toy model in this process, so it measures the suite's own scoring route (one /tokenize per new prompt and answer, one /v1/completions per score), not a model's prefill. Each score sends the whole prompt and answer (${endpoint.prompt_tokens_per_score} tokens on average here) and gets a log-probability back for every one of them (vLLM's prompt_logprobs has no offset), so the answer's JSON grows with the prompt.`,
    vllmNote(),
    `Rates are wall-clock: this run took ${wall.toFixed(1)} s wall and ${cpuS.toFixed(1)} s CPU (load average ${load0.toFixed(1)} at its start on ${cpus().length} cores, shared), so the process had about ${Math.round((100 * cpuS) / wall)}% of a core; the ratios between columns are what carries over.`,
  ],
  extra: { command, grid: gridBids, responses_per_auction: K, instances: INSTANCES, rows, endpoint, vllm, wall_s: wall, cpu_s: cpuS, load_average_start: load0 },
});
console.log('wrote benchmarks/results/verify-scoring.json');
