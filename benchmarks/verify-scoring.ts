/**
 * What it costs to score a given response at another bid, against generating one: the price of
 * sharing samples across a grid's bids (properties/weighted.ts), where each response drawn is
 * scored at every grid bid.
 *
 *   nice -n 19 npx tsx benchmarks/verify-scoring.ts [--instances N] [--grid G] [--n K]
 *
 * - The embedded world (embedded:pretrained and embedded:optimal): `sample` against `logProb`
 *   from `enumerate` (logProbOf), K responses per auction scored at G bids, as the weighted
 *   design does: the first score at a bid enumerates the auction there (cold), later ones look the
 *   response up (warm).
 * - An `openai:` endpoint with `score=prompt-logprobs`: the fake server's toy model
 *   (tests/helpers/toy-scoring.ts) in this process, so this is the client's and the HTTP routes'
 *   own cost (tokenize and completions requests), not a model's: generating K answers per auction
 *   (one chat request) against scoring them at G bids.
 * - vLLM's CPU build: not run here (it needs the venv; tests/vllm.test.ts records generate and
 *   score seconds when it runs); the figures measured by hand are quoted in the notes with their source.
 *
 * Writes benchmarks/results/verify-scoring.json; BENCHMARKS.md comes from benchmarks/summarize.ts.
 */
import { cpus, loadavg } from 'node:os';
import { resolveMechanismUnderTest } from '../evaluation/resolve.ts';
import { Rng } from '../lib/rng.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import { createOpenAIRule } from '../models/backends/openai-rule.ts';
import { withBid } from '../properties/sampling.ts';
import { logProbOf } from '../properties/weighted.ts';
import { FAKE_MODEL, startFakeOpenAIServer } from '../tests/helpers/fake-openai-server.ts';
import { writeResult } from './lib.ts';

const args = process.argv.slice(2);
const flag = (name: string, d: number) => {
  const k = args.indexOf(name);
  return k >= 0 ? Number(args[k + 1]) : d;
};
const INSTANCES = flag('--instances', 20);
const G = flag('--grid', 12);
const K = flag('--n', 16);
const command = `npx tsx benchmarks/verify-scoring.ts --instances ${INSTANCES} --grid ${G} --n ${K}`;

const gridBids = Array.from({ length: G }, (_, g) => 1 + Math.round((99 * g) / Math.max(1, G - 1)));
const now = () => performance.now() / 1000;

interface Row {
  rule: string;
  generate_per_s: number;
  /** responses scored at all G grid bids per second, each bid's first score enumerating (cold) */
  score_grid_cold_per_s: number;
  /** the same responses again, the auctions' tables cached (warm) */
  score_grid_warm_per_s: number;
  /** single scores (one response at one bid) per second, cold */
  scores_cold_per_s: number;
  generations: number;
  scores: number;
}

type Lp = (input: AuctionInput, response: string) => Promise<number>;

async function measure(name: string, sample: (input: AuctionInput, n: number, seed: number) => Promise<string[]>, lp: Lp, instances: AuctionInput[]): Promise<Row> {
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
    t = now();
    await pass();
    warmS += now() - t;
    scores += ys.length * G;
  }
  // A response is always possible at the bid it was drawn at, so most scores are finite.
  if (finite === 0) throw new Error(`${name}: no finite score: the scorer is broken`);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { rule: name, generate_per_s: r(gen / genS), score_grid_cold_per_s: r(gen / coldS), score_grid_warm_per_s: r(gen / warmS), scores_cold_per_s: r(scores / coldS), generations: gen, scores };
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
const wall = now() - t0;
const cpu = process.cpuUsage(cpu0);
const cpuS = (cpu.user + cpu.system) / 1e6;

const markdown = [
  `Responses per second, generating against scoring at a grid of ${G} bids (${K} responses per auction; \`${command}\`, nice 19 on a shared machine). "Grid" rates count a response scored at all ${G} bids as one; "cold" includes each bid's first score (an enumeration of the auction there, or the prompt's tokenization), "warm" is the same responses again. The weighted design pays one grid score per response drawn, once per distinct response text.`,
  '',
  '| rule | generate /s | score at the grid, cold /s | score at the grid, warm /s | single scores, cold /s | grid score vs generate |',
  '| --- | ---: | ---: | ---: | ---: | ---: |',
  ...rows.map((r) => `| ${r.rule} | ${r.generate_per_s.toLocaleString('en-US')} | ${r.score_grid_cold_per_s.toLocaleString('en-US')} | ${r.score_grid_warm_per_s.toLocaleString('en-US')} | ${r.scores_cold_per_s.toLocaleString('en-US')} | ${(r.generate_per_s / r.score_grid_cold_per_s).toFixed(2)}x the time |`),
  '',
];
writeResult({
  suite: 'verify-scoring',
  tasks: [],
  targets: [],
  markdown,
  notes: [
    `The embedded rules score exactly from \`enumerate\` (properties/weighted.ts, logProbOf); the endpoint row is the fake server's toy model in this process, so it measures the suite's own scoring route (one /tokenize per new prompt and answer, one /v1/completions per score), not a model's prefill. Each score sends the whole prompt and answer (${endpoint.prompt_tokens_per_score} tokens on average here) and gets a log-probability back for every one of them (vLLM's prompt_logprobs has no offset), so the answer's JSON grows with the prompt.`,
    "vLLM's CPU build (SmolLM2-135M, 2 threads; measured by hand, /work/shared/MEASURED.md, not by this script): 8 answers (691 tokens, 162-token prompt) generated in 12.7 s; the same 8 scored at another bid in 7.9 s one after another and 4.9-5.4 s concurrently, so one score costs 0.4-0.6 of a generation's time there, and scoring a response at a grid of G bids about 0.4-0.6 G generations' time, beside the G generations the common-random-numbers design draws per observation (one at each bid): on that server scoring saves about half the time per observation, not G-fold. tests/vllm.test.ts records generate and score seconds (record.scoring) when it runs.",
    `Rates are wall-clock: this run took ${wall.toFixed(1)} s wall and ${cpuS.toFixed(1)} s CPU (load average ${load0.toFixed(1)} at its start on ${cpus().length} cores, shared), so the process had about ${Math.round((100 * cpuS) / wall)}% of a core; the ratios between columns are what carries over.`,
  ],
  extra: { command, grid: gridBids, responses_per_auction: K, instances: INSTANCES, rows, endpoint, wall_s: wall, cpu_s: cpuS, load_average_start: load0 },
});
console.log('wrote benchmarks/results/verify-scoring.json');
