/**
 * log pi(answer | auction) from an OpenAI-compatible endpoint, for any answer and any bids: what
 * lets `verify` reweight one sampled response to every bid of a grid (properties/weighted.ts)
 * instead of generating at each.
 *
 * The route (vLLM's; measured in BENCHMARKS.md, verify-scoring): the chat prompt at the bids asked
 * is rendered by the server itself through `/tokenize` (`messages`, `add_generation_prompt: true`),
 * so its own chat template is used; the answer is tokenized alone (`add_special_tokens: false`);
 * the two token lists, and the end-of-turn token the template writes after an answer, go to
 * `/v1/completions` as one prompt with `max_tokens: 1`, and the log-probabilities of the answer's
 * positions are summed. Two ways to ask for them:
 * - `prompt-logprobs`: `prompt_logprobs: 0`, vLLM's field (per position, the prompt token's own);
 * - `echo`: `echo: true` with `logprobs: 0`, the older OpenAI completions way (the prompt's
 *   `token_logprobs` come back before the generated token's).
 * Servers that return log-probabilities of generated tokens only cannot do either: llama.cpp's
 * server, Ollama, and so `llm-auction serve` and the local backends.
 *
 * What makes the number right:
 * - the end-of-turn token counts: the model chose to stop there, and that choice depends on the
 *   bids too. It is found once, by rendering a one-word conversation; an answer as long as
 *   `max_tokens` was cut, not ended, and is scored without it;
 * - the sampled distribution must be the model's own (temperature 1, no top_p/top_k cut): the
 *   config refuses other settings (openai-config.ts, scoringSamplingProblem);
 * - the answer is scored as the server tokenizes its text; a sampler that wrote the same text
 *   through other tokens, or a stripped <think> block, is not accounted for. The weight diagnostic
 *   (properties/weighted.ts) is what catches scores that disagree with the samples.
 */
import { UsageError } from '../../lib/errors.ts';
import { abortableSleep, inFlightSignal } from '../../lib/abort.ts';
import type { AuctionInput } from '../../mechanism/types.ts';
import type { ChatMessage } from './chat-client.ts';
import { httpFetch } from './http-fetch.ts';
import { type OpenAIConfig, scoringSamplingProblem } from './openai-config.ts';
import { Semaphore } from './semaphore.ts';

export type ScoreMode = 'prompt-logprobs' | 'echo';

/** The endpoint cannot score a given answer the way the spec asks (exit 2, one line). */
export class ScoringUnsupportedError extends UsageError {
  constructor(
    baseURL: string,
    mode: ScoreMode | 'auto',
    readonly why: string,
  ) {
    super(
      `openai: ${baseURL} cannot score a given answer with score=${mode} (${why}); vLLM can, llama.cpp's server and Ollama (so also llm-auction serve and local: models) return log-probabilities of generated tokens only: use score=off`,
    );
    this.name = 'ScoringUnsupportedError';
  }
}

export interface ScoreStats {
  /** Answers scored (one per logProb call). */
  scored: number;
  /** HTTP requests sent: tokenize and completions, retries included. */
  requests: number;
  /** Tokens sent to /v1/completions (prompt and answer): what the server prefilled. */
  promptTokens: number;
  /** Answer tokens whose log-probabilities were summed. */
  answerTokens: number;
}

export interface PromptScorer {
  readonly mode: ScoreMode | 'auto';
  logProb(input: AuctionInput, response: string): Promise<number>;
  /** Score a tiny conversation: throws ScoringUnsupportedError when the server cannot. */
  check(): Promise<void>;
  stats(): ScoreStats;
}

/** An HTTP failure worth telling apart from a server that lacks the route. */
class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Messages = (input: AuctionInput) => readonly ChatMessage[];

/** The server's root, where vLLM serves /tokenize and /metrics: the base URL without its /v1. */
const serverRoot = (baseURL: string) => baseURL.replace(/\/+$/, '').replace(/\/v1$/, '');

const CHECK_MESSAGES: ChatMessage[] = [{ role: 'user', content: 'Say yes.' }];

export function createPromptScorer(config: OpenAIConfig, messagesFor: Messages, mode: ScoreMode | 'auto' = config.score === 'off' ? 'auto' : config.score): PromptScorer {
  const base = config.baseURL.replace(/\/+$/, '');
  const root = serverRoot(config.baseURL);
  const gate = new Semaphore(config.concurrency);
  const stats: ScoreStats = { scored: 0, requests: 0, promptTokens: 0, answerTokens: 0 };
  const kwargs = config.extraBody.chat_template_kwargs;
  // vLLM serves /tokenize at the root; some proxies put it under /v1. Found on first use.
  let tokenizeURL: Promise<string> | undefined;
  let endToken: Promise<number | null> | undefined;
  let resolved: Promise<ScoreMode> | undefined;
  const promptIds = new Map<string, Promise<number[]>>();
  const answerIds = new Map<string, Promise<number[]>>();

  async function post(url: string, body: unknown): Promise<unknown> {
    const signal = inFlightSignal();
    for (let attempt = 0; ; attempt++) {
      stats.requests++;
      let retry: string;
      try {
        const res = await httpFetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${config.apiKey}` },
          body: JSON.stringify(body),
          signal: AbortSignal.any([signal, AbortSignal.timeout(config.timeoutMs)]),
        });
        const text = await res.text();
        if (res.ok) return JSON.parse(text) as unknown;
        const msg = `HTTP ${res.status}: ${text.replace(/\s+/g, ' ').slice(0, 200)}`;
        if (res.status < 500 && res.status !== 429) throw new HttpError(res.status, msg);
        retry = msg;
      } catch (e) {
        if (e instanceof HttpError || signal.aborted) throw e;
        retry = e instanceof Error ? e.message : String(e);
      }
      if (attempt >= config.maxRetries) throw new Error(`openai: ${url} failed after ${attempt + 1} attempts: ${retry}`);
      await abortableSleep(Math.min(config.retryMaxMs, config.retryBaseMs * 2 ** attempt), signal);
    }
  }

  const tokens = (r: unknown, what: string): number[] => {
    const t = (r as { tokens?: unknown }).tokens;
    if (!Array.isArray(t) || !t.every((x) => Number.isInteger(x))) throw new Error(`/tokenize gave no token ids for ${what}`);
    return t as number[];
  };

  async function tokenize(body: Record<string, unknown>, what: string): Promise<number[]> {
    tokenizeURL ??= (async () => {
      for (const url of [`${root}/tokenize`, `${base}/tokenize`]) {
        try {
          await post(url, { model: config.model, prompt: 'x', add_special_tokens: false });
          return url;
        } catch (e) {
          if (!(e instanceof HttpError && e.status === 404)) throw e;
        }
      }
      throw new HttpError(404, `no /tokenize route (tried ${root}/tokenize and ${base}/tokenize)`);
    })();
    const url = await tokenizeURL;
    return gate.run(async () => tokens(await post(url, { model: config.model, ...body }), what));
  }

  const chatIds = (messages: readonly ChatMessage[], generationPrompt: boolean) =>
    tokenize({ messages, add_generation_prompt: generationPrompt, ...(kwargs === undefined ? {} : { chat_template_kwargs: kwargs }) }, 'the chat prompt');
  const textIds = (text: string) => tokenize({ prompt: text, add_special_tokens: false }, 'the answer');

  /** The token the chat template writes right after an answer (the end of the turn), or null. */
  function end(): Promise<number | null> {
    endToken ??= (async () => {
      const pre = await chatIds(CHECK_MESSAGES, true);
      const ans = await textIds('yes');
      const full = await chatIds([...CHECK_MESSAGES, { role: 'assistant', content: 'yes' }], false);
      const aligned = [...pre, ...ans].every((t, i) => full[i] === t);
      return aligned && full.length > pre.length + ans.length ? full[pre.length + ans.length]! : null;
    })();
    return endToken;
  }

  /** Log-probabilities of the prompt's positions from..to-1. */
  async function positions(m: ScoreMode, ids: number[], from: number): Promise<number[]> {
    const body =
      m === 'prompt-logprobs'
        ? { model: config.model, prompt: ids, max_tokens: 1, prompt_logprobs: 0 }
        : { model: config.model, prompt: ids, max_tokens: 1, echo: true, logprobs: 0 };
    const r = (await gate.run(() => post(`${base}/completions`, body))) as {
      prompt_logprobs?: unknown;
      choices?: { prompt_logprobs?: unknown; logprobs?: { token_logprobs?: unknown } | null }[];
    };
    stats.promptTokens += ids.length;
    const out: number[] = [];
    if (m === 'prompt-logprobs') {
      const per = r.choices?.[0]?.prompt_logprobs ?? r.prompt_logprobs;
      if (!Array.isArray(per) || per.length < ids.length) throw new Error('its /v1/completions answer has no prompt_logprobs');
      for (let i = from; i < ids.length; i++) {
        const at = per[i] as Record<string, { logprob?: number }> | null;
        const own = at?.[String(ids[i])] ?? (at && Object.keys(at).length === 1 ? Object.values(at)[0] : undefined);
        out.push(typeof own?.logprob === 'number' ? own.logprob : Number.NaN);
      }
    } else {
      const per = r.choices?.[0]?.logprobs?.token_logprobs;
      if (!Array.isArray(per) || per.length < ids.length) throw new Error('its /v1/completions answer does not echo the prompt\'s token_logprobs');
      for (let i = from; i < ids.length; i++) out.push(typeof per[i] === 'number' ? (per[i] as number) : Number.NaN);
    }
    if (out.some((x) => Number.isNaN(x))) throw new Error('a log-probability of the answer is missing');
    return out;
  }

  async function score(m: ScoreMode, messages: readonly ChatMessage[], response: string): Promise<number> {
    const key = JSON.stringify(messages);
    let p = promptIds.get(key);
    if (!p) {
      p = chatIds(messages, true);
      if (promptIds.size >= 256) promptIds.delete(promptIds.keys().next().value!);
      promptIds.set(key, p);
    }
    let a = answerIds.get(response);
    if (!a) {
      a = textIds(response);
      if (answerIds.size >= 4096) answerIds.delete(answerIds.keys().next().value!);
      answerIds.set(response, a);
    }
    const [pre, ans, stop] = await Promise.all([p, a, end()]);
    // An answer as long as max_tokens was cut there, not ended: no end-of-turn token to score.
    const tail = stop !== null && ans.length < config.maxTokens ? [stop] : [];
    const lps = await positions(m, [...pre, ...ans, ...tail], pre.length);
    stats.scored++;
    stats.answerTokens += ans.length;
    return lps.reduce((s, x) => s + x, 0);
  }

  /** Whether the server scores the tiny conversation with this mode: null when it does, else why not. */
  async function tryMode(m: ScoreMode): Promise<string | null> {
    try {
      const lp = await score(m, CHECK_MESSAGES, 'yes');
      return Number.isFinite(lp) && lp <= 1e-6 ? null : `it scored a check answer ${lp}`;
    } catch (e) {
      return (e instanceof Error ? e.message : String(e)).split('\n')[0]!;
    }
  }

  function modeNow(): Promise<ScoreMode> {
    resolved ??= (async () => {
      if (mode !== 'auto') {
        const why = await tryMode(mode);
        if (why !== null) throw new ScoringUnsupportedError(config.baseURL, mode, why);
        const risk = await loraScoringRisk(config);
        if (risk !== null) throw new UsageError(`openai: ${config.baseURL}: score=${mode} refused: ${risk}`);
        return mode;
      }
      const d = await detectScoreMode(config, scorerFor);
      if (d.mode === 'off') throw new ScoringUnsupportedError(config.baseURL, 'auto', d.why);
      return d.mode;
    })();
    return resolved;
  }
  const scorerFor = (m: ScoreMode) => tryMode(m);

  return {
    mode,
    async logProb(input, response) {
      return score(await modeNow(), messagesFor(input), response);
    },
    async check() {
      await modeNow();
    },
    stats: () => ({ ...stats }),
  };
}

/**
 * Which way the endpoint can score a given answer: prompt-logprobs first, then echo; off, with
 * why, when neither works or the sampling settings make scores wrong.
 */
export async function detectScoreMode(
  config: OpenAIConfig,
  tryMode: (m: ScoreMode) => Promise<string | null> = (m) => {
    return createPromptScorer(config, () => CHECK_MESSAGES, m)
      .check()
      .then(
        () => null,
        (e: unknown) => (e instanceof ScoringUnsupportedError ? e.why : e instanceof Error ? e.message : String(e)),
      );
  },
): Promise<{ mode: ScoreMode | 'off'; why: string }> {
  const problem = scoringSamplingProblem(config);
  if (problem !== null) return { mode: 'off', why: problem };
  const reasons: string[] = [];
  for (const m of ['prompt-logprobs', 'echo'] as const) {
    const why = await tryMode(m);
    if (why === null) {
      const risk = await loraScoringRisk(config);
      return risk === null ? { mode: m, why: '' } : { mode: 'off', why: risk };
    }
    reasons.push(`${m}: ${why}`);
  }
  return { mode: 'off', why: reasons.join('; ') };
}

/**
 * Why scoring would kill this server, or null. vLLM's CPU build 0.32.0 started with --enable-lora
 * answers one prompt-log-probability request, but two in one engine step fail in its LoRA logits
 * path (punica_cpu add_lora_logits: "einsum(): subscript b has size 7 for operand 1 which does not
 * broadcast with previously seen size 299", reproduced here with 8 concurrent requests) and the
 * engine exits. A LoRA-enabled vLLM says so in /metrics (`vllm:lora_requests_info{max_lora=…}`,
 * present once it has served a request, as the check before this has). The CPU build cannot be
 * told from the CUDA one there, so a CUDA server with LoRA is refused too; the environment
 * variable lets it through. A server without /metrics is not vLLM: no risk known.
 */
export async function loraScoringRisk(config: Pick<OpenAIConfig, 'baseURL' | 'apiKey'>, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  if (/^(1|true|yes|on)$/i.test(env.LLM_AUCTION_SCORE_WITH_LORA ?? '')) return null;
  const root = serverRoot(config.baseURL);
  let text: string;
  try {
    const res = await httpFetch(`${root}/metrics`, { headers: { authorization: `Bearer ${config.apiKey}` }, signal: AbortSignal.timeout(10_000) });
    if (!res.ok) return null;
    text = await res.text();
  } catch {
    return null;
  }
  const m = /^vllm:lora_requests_info\{[^}]*max_lora="(\d+)"/m.exec(text);
  if (!m) return null;
  return (
    `the server is vLLM started with --enable-lora (its /metrics shows max_lora=${m[1]}), and vLLM's CPU build 0.32.0 kills its engine when two prompt log-probability requests share a step there (einsum in punica_cpu add_lora_logits); ` +
    'score against a server started without --enable-lora (bash scripts/vllm-serve.sh --no-lora), or set LLM_AUCTION_SCORE_WITH_LORA=on on a CUDA build'
  );
}
