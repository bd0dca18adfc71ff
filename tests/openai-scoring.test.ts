/**
 * `openai:…&score=…`: an endpoint scores a given answer at other bids (models/backends/prompt-scorer.ts),
 * so verify shares each sampled response across a grid (properties/weighted.ts).
 *
 * Against the fake server's toy model (tests/helpers/toy-scoring.ts), whose answer probabilities
 * are known and move with the bids:
 * - the scores are exact through both routes (prompt_logprobs, echo), at bids the answer was not
 *   sampled at, and the scored distribution sums to 1 (the end-of-turn token is counted);
 * - importance weights from one bid to another average 1 over sampled answers;
 * - verify runs the weighted design on it without flagging the weights; the controls, a server
 *   whose scores ignore the bid or are flattened, are flagged by the weight diagnostic;
 * - a server that cannot score is a one-line error naming llama.cpp and Ollama; auto falls back
 *   to off, saying why; sampling settings that make scores wrong are refused.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../lib/errors.ts';
import { ResponseParser } from '../mechanism/parser.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import { parseOpenAISpec } from '../models/backends/openai-config.ts';
import { createOpenAIRule, type OpenAIRule } from '../models/backends/openai-rule.ts';
import { detectScoreMode, ScoringUnsupportedError } from '../models/backends/prompt-scorer.ts';
import { resolveMechanismUnderTest, resolveRule } from '../evaluation/resolve.ts';
import { monotonicity } from '../properties/monotonicity.ts';
import { withBid } from '../properties/sampling.ts';
import { FAKE_MODEL, startFakeOpenAIServer, type FakeOpenAIServer } from './helpers/fake-openai-server.ts';
import { toyRamp } from './helpers/toy-scoring.ts';

const input: AuctionInput = {
  query: 'How do I brew better coffee at home?',
  profile: { id: 'U-0001', info: 'A 30-year-old designer living in a small flat.', interests: ['coffee', 'cycling'] },
  ads: [
    { id: 'Ad-0001', title: 'Ceramic Pour-Over Dripper', bid: 70 },
    { id: 'Ad-0002', title: 'Burr Grinder Pro', bid: 30 },
    { id: 'Ad-0003', title: 'Carbon Road Bike Helmet', bid: 55 },
  ],
};

/** log pi(y | input) of the toy model, computed here from the parsed exposures. */
function expected(inp: AuctionInput, y: string): number {
  const shown = new Set(new ResponseParser(inp.ads).parse(y).exposures.map((e) => e.id));
  return inp.ads.reduce((s, a) => s + Math.log(shown.has(a.id) ? toyRamp(a.bid) : 1 - toyRamp(a.bid)), 0);
}

/** Every answer the toy can write for this input (2^ads). */
function allAnswers(inp: AuctionInput): string[] {
  return Array.from({ length: 2 ** inp.ads.length }, (_, mask) => 'Toy answer.' + inp.ads.map((a, j) => (mask & (1 << j) ? ` See @${a.title}@[${a.id}].` : '')).join(''));
}

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await startFakeOpenAIServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  server.toy = {};
});

const rule = (score: 'prompt-logprobs' | 'echo' | 'auto', extra: Record<string, unknown> = {}): OpenAIRule =>
  createOpenAIRule({ baseURL: server.baseURL, model: FAKE_MODEL, score, cacheDir: null, maxRetries: 0, ...extra });

describe('the score option', () => {
  it('defaults to off (no logProb); with it on, sampling defaults to the model\'s own distribution', () => {
    expect(parseOpenAISpec('openai:http://h:1/v1?model=m').score).toBe('off');
    expect(createOpenAIRule({ baseURL: 'http://h:1/v1', model: 'm', cacheDir: null }).logProb).toBeUndefined();
    const c = parseOpenAISpec('openai:http://h:1/v1?model=m&score=prompt-logprobs');
    expect(c).toMatchObject({ score: 'prompt-logprobs', temperature: 1, topP: 1, topK: null });
    // Control: without score the paper's Ad-LLM defaults stay.
    expect(parseOpenAISpec('openai:http://h:1/v1?model=m')).toMatchObject({ temperature: 0.7, topP: 0.8, topK: 20 });
  });

  it('refuses sampling settings that make the scores wrong, and an unknown mode, in one line naming the parameter', () => {
    for (const [q, msg] of [
      ['score=echo&temperature=0.7', /score=echo: the sampled distribution is not the model's own \(temperature 0\.7; scoring needs temperature=1&top_p=1&top_k=off\)/],
      ['score=prompt-logprobs&top_k=20', /top_k 20/],
      ['score=prompt-logprobs&top_p=0.9', /top_p 0\.9/],
      ['score=maybe', /^openai backend: score: /],
    ] as const) {
      let err: unknown;
      try {
        parseOpenAISpec(`openai:http://h:1/v1?model=m&${q}`);
      } catch (e) {
        err = e;
      }
      expect(err, q).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(msg);
      expect((err as Error).message).not.toContain('\n');
    }
    // Control: the model's own settings written out are accepted; auto is not refused (it turns itself off).
    expect(parseOpenAISpec('openai:http://h:1/v1?model=m&score=echo&temperature=1&top_p=1&top_k=off').score).toBe('echo');
    expect(parseOpenAISpec('openai:http://h:1/v1?model=m&score=auto&temperature=0.7').temperature).toBe(0.7);
  });
});

describe('scores through the endpoint are exact', () => {
  for (const mode of ['prompt-logprobs', 'echo'] as const) {
    it(`${mode}: answers sampled at one bid, scored at others, equal the toy model's log-probabilities`, async () => {
      const r = rule(mode);
      const ys = await r.sample(input, 24, { seed: 5 });
      expect(new Set(ys).size).toBeGreaterThan(2);
      for (const b of [1, 50, 70, 100]) {
        const at = withBid(input, 0, b);
        for (const y of ys.slice(0, 8)) expect(await r.logProb!(at, y)).toBeCloseTo(expected(at, y), 9);
      }
      // The scored distribution is a distribution: over every answer the toy writes, sum 1.
      const at = withBid(input, 0, 45);
      const total = (await Promise.all(allAnswers(at).map((y) => r.logProb!(at, y)))).reduce((s, lp) => s + Math.exp(lp), 0);
      expect(total).toBeCloseTo(1, 9);
      expect(server.scoringRequests.completions).toBeGreaterThan(0);
      expect(r.scorer!.stats().scored).toBeGreaterThanOrEqual(32);
    });
  }

  it('importance weights from bid 70 to bids 30 and 90 average 1 over sampled answers; the bid-blind server gives weights 1 that miss the move', async () => {
    const r = rule('prompt-logprobs');
    const from = withBid(input, 0, 70);
    const ys = await r.sample(from, 300, { seed: 9 });
    const shown = ys.map((y) => (y.includes('[Ad-0001]') ? 1 : 0));
    const weights = async (to: AuctionInput) => {
      const at = await Promise.all(ys.map((y) => r.logProb!(from, y)));
      return Promise.all(ys.map(async (y, j) => Math.exp((await r.logProb!(to, y)) - at[j]!)));
    };
    for (const b of [30, 90]) {
      const ws = await weights(withBid(input, 0, b));
      const mean = ws.reduce((s, w) => s + w, 0) / ws.length;
      const sd = Math.sqrt(ws.reduce((s, w) => s + (w - mean) ** 2, 0) / (ws.length - 1));
      expect(Math.abs(mean - 1)).toBeLessThan(4 * (sd / Math.sqrt(ws.length)) + 1e-9);
      // The weighted exposure of the focal ad at b matches the toy's own probability there.
      const est = ws.reduce((s, w, j) => s + w * shown[j]!, 0) / ws.length;
      expect(Math.abs(est - toyRamp(b))).toBeLessThan(0.12);
    }
    // Control: scores that ignore the bid give weights of exactly 1, and the estimate at bid 30 is
    // the exposure at 70 (about 0.88), not the toy's 0.12 there.
    server.toy = { scoring: 'bid-blind' };
    const blind = await weights(withBid(input, 0, 30));
    expect(blind.every((w) => Math.abs(w - 1) < 1e-9)).toBe(true);
    expect(Math.abs(blind.reduce((s, w, j) => s + w * shown[j]!, 0) / blind.length - toyRamp(30))).toBeGreaterThan(0.5);
  });
});

describe('verify shares samples through the endpoint', () => {
  const spec = () => `openai:${server.baseURL}?model=${FAKE_MODEL}&score=prompt-logprobs&cache=off&probe=off&n_per_request=16`;
  const run = async () => monotonicity(await resolveMechanismUnderTest(spec()), { seed: 1, cases: 2, budget: 1500, shrink: false });

  it('exact scores: the weighted design runs, weights average 1, nothing flagged', async () => {
    const v = await run();
    expect(v.details?.case_designs).toEqual(['weighted', 'weighted']);
    expect(v.details?.weights_rejected).toBeUndefined();
    expect(v.verdict).not.toBe('fail');
    const means = (v.details?.closest as { weights?: { mean_weight: number[] } } | undefined)?.weights?.mean_weight ?? [];
    expect(means.length).toBeGreaterThan(0);
    for (const w of means) expect(Math.abs(w - 1)).toBeLessThan(0.25);
  }, 120_000);

  for (const scoring of ['bid-blind', 'flattened'] as const) {
    it(`control: a server whose scores are ${scoring} is flagged by the weight diagnostic, never a verdict`, async () => {
      server.toy = { scoring };
      const v = await run();
      expect(v.details?.weights_rejected).toBe(true);
      expect(v.verdict).toBe('inconclusive');
      expect(v.details?.notes.join(' ')).toMatch(/log-probabilities disagree with its samples/);
    }, 120_000);
  }
});

describe('servers that cannot score', () => {
  it('generated-token log-probabilities only (as llama.cpp and Ollama): a one-line error naming them', async () => {
    server.toy = { promptLogprobs: false };
    for (const mode of ['prompt-logprobs', 'echo'] as const) {
      const err = await rule(mode).scorer!.check().then(() => null, (e: unknown) => e);
      expect(err).toBeInstanceOf(ScoringUnsupportedError);
      expect((err as Error).message).toMatch(new RegExp(`cannot score a given answer with score=${mode} \\(.*\\); vLLM can, llama\\.cpp's server and Ollama .* use score=off$`));
      expect((err as Error).message).not.toContain('\n');
    }
    // Control: the same server with prompt log-probabilities passes the check.
    server.toy = {};
    await expect(rule('prompt-logprobs').scorer!.check()).resolves.toBeUndefined();
  });

  it('no /tokenize: the spec asking for a mode stops before the run (exit 2); auto falls back to off', async () => {
    server.toy = { tokenize: false };
    await expect(resolveRule(`openai:${server.baseURL}?model=${FAKE_MODEL}&score=prompt-logprobs&cache=off&probe=off`)).rejects.toThrow(/no \/tokenize route/);
    const off = await detectScoreMode(parseOpenAISpec(`openai:${server.baseURL}?model=${FAKE_MODEL}&score=auto&max_retries=0`));
    expect(off.mode).toBe('off');
    expect(off.why).toMatch(/prompt-logprobs: .*tokenize.*; echo: /);
    const r = await resolveRule(`openai:${server.baseURL}?model=${FAKE_MODEL}&score=auto&cache=off&probe=off`);
    expect(r.logProb).toBeUndefined();
    // Control: a server that can is detected, and the rule it gives scores.
    server.toy = {};
    const on = await resolveRule(`openai:${server.baseURL}?model=${FAKE_MODEL}&score=auto&cache=off&probe=off`);
    expect((on as OpenAIRule).config.score).toBe('prompt-logprobs');
    expect(typeof on.logProb).toBe('function');
    // auto with the paper's sampling settings: off, because the scores would be wrong.
    const paper = await detectScoreMode(parseOpenAISpec(`openai:${server.baseURL}?model=${FAKE_MODEL}&score=auto&temperature=0.7&top_p=0.8&top_k=20`));
    expect(paper).toMatchObject({ mode: 'off' });
    expect(paper.why).toMatch(/temperature 0\.7, top_p 0\.8, top_k 20/);
  });

  it("vLLM with LoRA on (its /metrics says max_lora): a named mode is refused in one line before any answer is scored, auto falls back to off; the control without it scores", async () => {
    const lora = '# HELP vllm:lora_requests_info Running stats on lora requests.\nvllm:lora_requests_info{max_lora="2",running_lora_adapters="",waiting_lora_adapters=""} 1.79e+09\n';
    server.metrics = lora;
    const err = await rule('prompt-logprobs').scorer!.check().then(() => null, (e: unknown) => e);
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(/score=prompt-logprobs refused: the server is vLLM started with --enable-lora \(its \/metrics shows max_lora=2\).*punica_cpu.*--no-lora/);
    expect((err as Error).message).not.toContain('\n');
    // Only the one tiny check request reached /v1/completions: no answer of a run was scored.
    expect(server.scoringRequests.completions).toBe(1);
    await expect(resolveRule(`openai:${server.baseURL}?model=${FAKE_MODEL}&score=prompt-logprobs&cache=off&probe=off`)).rejects.toThrow(/--enable-lora/);
    const auto = await detectScoreMode(parseOpenAISpec(`openai:${server.baseURL}?model=${FAKE_MODEL}&score=auto&max_retries=0`));
    expect(auto).toMatchObject({ mode: 'off' });
    expect(auto.why).toMatch(/--enable-lora/);
    // The override lets it through (a CUDA build, say).
    process.env.LLM_AUCTION_SCORE_WITH_LORA = 'on';
    try {
      await expect(rule('prompt-logprobs').scorer!.check()).resolves.toBeUndefined();
    } finally {
      delete process.env.LLM_AUCTION_SCORE_WITH_LORA;
    }
    // Control: the same server's metrics without LoRA (a server started with --no-lora) score.
    server.metrics = '# HELP vllm:num_requests_running Number of requests in model execution batches.\nvllm:num_requests_running{engine="0",model_name="smollm2"} 0.0\n';
    await expect(rule('prompt-logprobs').scorer!.check()).resolves.toBeUndefined();
    expect((await detectScoreMode(parseOpenAISpec(`openai:${server.baseURL}?model=${FAKE_MODEL}&score=auto&max_retries=0`))).mode).toBe('prompt-logprobs');
  });
});
