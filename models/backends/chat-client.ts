/**
 * The chat transport of the `openai:` backend: chat-completions calls to any OpenAI-compatible
 * endpoint — vLLM, llama.cpp server, Ollama, OpenAI itself, `llm-auction serve`. The Ad-LLM rule
 * (openai-rule.ts) and the judging User-LLM (simulation/judge.ts) both talk through it.
 *
 * Everything that makes remote sampling dependable lives in `ChatClient`, not in the SDK:
 * - retries are ours (the SDK runs with `maxRetries: 0`), so each one is counted, traced and
 *   testable; only transient failures (429, 408, 5xx, timeouts, dropped connections) are retried,
 *   a 400/401/404 is a configuration mistake that retrying cannot fix, so it fails at once;
 * - a semaphore bounds the requests in flight across every caller sharing the client, so a
 *   benchmark over many queries cannot flood a small local server;
 * - seeded requests are deterministic, so their responses are cached on disk under a hash of the
 *   whole request body and a re-run costs nothing; unseeded ones are never cached, since reusing
 *   them would silently turn fresh samples into copies;
 * - every logical call (cache hit or not) is one JSON Lines record in the optional trace file.
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { abortableSleep, inFlightSignal } from '../../lib/abort.ts';
import { httpFetch } from './http-fetch.ts';
import { resolveOpenAIConfig, type OpenAIConfig, type OpenAIConfigInput } from './openai-config.ts';
import { readCache, requestHash, writeCache } from './response-cache.ts';
import { Semaphore } from './semaphore.ts';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatOptions {
  n?: number;
  /** A seed makes the request deterministic (where the server honours it) and cacheable. */
  seed?: number;
  temperature?: number;
  topP?: number;
  topK?: number | null;
  maxTokens?: number;
  /** Aborts the call: a queued local call never starts, a running one stops generating. */
  signal?: AbortSignal;
}

export interface ChatResult {
  texts: string[];
  finishReasons: (string | null)[];
  usage: { promptTokens: number; completionTokens: number };
  cacheHit: boolean;
  retries: number;
  hash: string;
}

/** What a client has spent so far; `bench` reads it for its cost columns. */
export interface UsageStats {
  /** Logical calls (one per chat(), cache hits included). */
  calls: number;
  /** HTTP requests sent (retries included). */
  requests: number;
  cacheHits: number;
  retries: number;
  failures: number;
  /** Responses returned to callers. */
  generations: number;
  /** Tokens of requests actually sent (what the endpoint billed). */
  promptTokens: number;
  completionTokens: number;
  /** Tokens of the responses served from the cache (what a run without the cache would have spent). */
  cachedPromptTokens: number;
  cachedCompletionTokens: number;
}

/** One line of the trace file. */
export interface TraceRecord {
  ts: string;
  url: string;
  model: string;
  hash: string;
  n: number;
  seed: number | null;
  latency_ms: number;
  status: number | 'cache' | 'timeout' | 'connection' | 'malformed' | 'aborted' | 'error';
  ok: boolean;
  cache_hit: boolean;
  retries: number;
  choices: number;
  usage: { prompt_tokens: number; completion_tokens: number };
  error?: string;
}

/** A request the endpoint refused, or that kept failing after every retry. */
export class OpenAIBackendError extends Error {
  readonly status: number | undefined;
  readonly retryable: boolean;
  /** The run stopped while this request was in flight (not the endpoint's fault). */
  readonly aborted: boolean;
  constructor(message: string, status: number | undefined, retryable: boolean, aborted = false) {
    super(message);
    this.name = 'OpenAIBackendError';
    this.status = status;
    this.retryable = retryable;
    this.aborted = aborted;
  }
}

/** A reasoning model may open with `<think>…</think>`; that text is not part of the answer. */
export function stripThinking(text: string): string {
  return text.replace(/^\s*<think>[\s\S]*?<\/think>\s*/, '');
}


interface Failure {
  status: TraceRecord['status'];
  httpStatus: number | undefined;
  retryable: boolean;
  message: string;
  retryAfterMs: number | undefined;
}

function classify(e: unknown): Failure {
  if (e instanceof OpenAI.APIConnectionTimeoutError) {
    return { status: 'timeout', httpStatus: undefined, retryable: true, message: 'request timed out', retryAfterMs: undefined };
  }
  if (e instanceof OpenAI.APIConnectionError) {
    const cause = (e as { cause?: unknown }).cause;
    const detail = cause instanceof Error ? `: ${cause.message}` : '';
    return { status: 'connection', httpStatus: undefined, retryable: true, message: `connection failed${detail}`, retryAfterMs: undefined };
  }
  if (e instanceof OpenAI.APIError && typeof e.status === 'number') {
    const s = e.status;
    // 408/409/425/429 and 5xx are the server saying "not now"; anything else is "never".
    const retryable = s === 408 || s === 409 || s === 425 || s === 429 || s >= 500;
    const after = e.headers?.get('retry-after');
    const seconds = after == null ? NaN : Number(after);
    return {
      status: s,
      httpStatus: s,
      retryable,
      message: e.message,
      retryAfterMs: Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : undefined,
    };
  }
  // A body cut short or not JSON at all (a proxy's error page, a crashed worker): the server
  // stumbled, as with a 5xx, so it is retried.
  if (e instanceof SyntaxError) {
    return { status: 'malformed', httpStatus: undefined, retryable: true, message: `malformed response body (${e.message})`, retryAfterMs: undefined };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { status: 'error', httpStatus: undefined, retryable: false, message, retryAfterMs: undefined };
}

function hint(status: number | undefined): string {
  if (status === 401 || status === 403) return ' (check OPENAI_API_KEY)';
  if (status === 404) return ' (check that the base URL ends in /v1 and the model name is one the server serves)';
  return '';
}

/** The adaptive timeout: this many times the recent p99 latency, never under the floor (nor over `timeout_ms`). */
export const TIMEOUT_P99_MULTIPLE = 4;
export const TIMEOUT_FLOOR_MS = 10_000;
/** Answers timed before the p99 is trusted, and how many recent ones it is taken over. */
const LATENCY_MIN_SAMPLES = 20;
const LATENCY_WINDOW = 200;

/** The latencies of the most recent successful requests. */
export class LatencyWindow {
  private readonly ms: number[] = [];
  private next = 0;
  observe(ms: number): void {
    if (this.ms.length < LATENCY_WINDOW) this.ms.push(ms);
    else this.ms[this.next++ % LATENCY_WINDOW] = ms;
  }
  /** The 99th percentile of the window, or undefined while it holds too few answers. */
  p99(): number | undefined {
    if (this.ms.length < LATENCY_MIN_SAMPLES) return undefined;
    const sorted = [...this.ms].sort((a, b) => a - b);
    return sorted[Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)];
  }
}

export function emptyStats(): UsageStats {
  return {
    calls: 0,
    requests: 0,
    cacheHits: 0,
    retries: 0,
    failures: 0,
    generations: 0,
    promptTokens: 0,
    completionTokens: 0,
    cachedPromptTokens: 0,
    cachedCompletionTokens: 0,
  };
}

export class ChatClient {
  readonly config: OpenAIConfig;
  private readonly api: OpenAI;
  private readonly gate: Semaphore;
  private readonly counters = emptyStats();
  private traceChain: Promise<void> = Promise.resolve();
  private traceWarned = false;
  private readonly latency = new LatencyWindow();

  constructor(config: OpenAIConfigInput | OpenAIConfig) {
    this.config = resolveOpenAIConfig(config);
    this.api = new OpenAI({
      baseURL: this.config.baseURL,
      apiKey: this.config.apiKey,
      maxRetries: 0,
      timeout: this.config.timeoutMs,
      fetch: httpFetch,
    });
    this.gate = new Semaphore(this.config.concurrency);
  }

  stats(): UsageStats {
    return { ...this.counters };
  }

  /** The request body as sent; also what the cache key hashes. */
  body(messages: readonly ChatMessage[], opts: ChatOptions = {}): Record<string, unknown> {
    const c = this.config;
    const topK = opts.topK === undefined ? c.topK : opts.topK;
    return {
      ...c.extraBody,
      model: c.model,
      messages: messages.map((m) => ({ role: m.role, content: m.content })),
      n: opts.n ?? 1,
      temperature: opts.temperature ?? c.temperature,
      top_p: opts.topP ?? c.topP,
      ...(topK === null ? {} : { top_k: topK }),
      max_tokens: opts.maxTokens ?? c.maxTokens,
      ...(opts.seed === undefined ? {} : { seed: opts.seed }),
    };
  }

  async chat(messages: readonly ChatMessage[], opts: ChatOptions = {}): Promise<ChatResult> {
    const n = opts.n ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`chat: n must be a positive integer, got ${n}`);
    const body = this.body(messages, opts);
    const hash = requestHash(body);
    const seed = opts.seed ?? null;
    const started = Date.now();
    this.counters.calls++;
    const finish = (texts: string[]) => (this.config.stripThinking ? texts.map(stripThinking) : texts);

    const cacheFile = seed !== null && this.config.cacheDir !== null ? path.join(this.config.cacheDir, hash.slice(0, 2), `${hash}.json`) : null;
    if (cacheFile !== null) {
      const hit = await readCache(cacheFile, hash);
      if (hit) {
        this.counters.cacheHits++;
        this.counters.generations += hit.texts.length;
        this.counters.cachedPromptTokens += hit.usage.promptTokens;
        this.counters.cachedCompletionTokens += hit.usage.completionTokens;
        await this.trace({ started, hash, n, seed, status: 'cache', ok: true, cacheHit: true, retries: 0, choices: hit.texts.length, usage: hit.usage });
        return { texts: finish(hit.texts), finishReasons: hit.finishReasons, usage: hit.usage, cacheHit: true, retries: 0, hash };
      }
    }

    // The run's stop signal: when a run stops, requests in flight and backoff sleeps end at once.
    const signal = inFlightSignal();
    return this.gate.run(async () => {
      for (let attempt = 0; ; attempt++) {
        let f: Failure | undefined;
        let completion: OpenAI.Chat.Completions.ChatCompletion | undefined;
        if (signal.aborted) f = { status: 'aborted', httpStatus: undefined, retryable: false, message: 'aborted: the run stopped', retryAfterMs: undefined };
        else {
          try {
            this.counters.requests++;
            // top_k and extraBody are not in the SDK's types; the SDK sends unknown fields as they are.
            const sent = Date.now();
            completion = await this.api.chat.completions.create(body as unknown as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming, { signal, timeout: this.timeoutFor(attempt) });
            this.latency.observe(Date.now() - sent);
          } catch (e) {
            f = signal.aborted ? { status: 'aborted', httpStatus: undefined, retryable: false, message: 'aborted: the run stopped', retryAfterMs: undefined } : classify(e);
          }
        }
        let texts: string[] = [];
        let finishReasons: (string | null)[] = [];
        let usage = { promptTokens: 0, completionTokens: 0 };
        if (completion !== undefined) {
          const choices = Array.isArray(completion.choices) ? [...completion.choices].sort((a, b) => a.index - b.index) : [];
          // A choice without text (content null or missing) is a malformed answer, never an empty response.
          const missing = choices.findIndex((ch) => typeof ch?.message?.content !== 'string');
          texts = missing >= 0 ? [] : choices.map((ch) => ch.message.content as string);
          finishReasons = choices.map((ch) => ch?.finish_reason ?? null);
          usage = {
            promptTokens: completion.usage?.prompt_tokens ?? 0,
            completionTokens: completion.usage?.completion_tokens ?? 0,
          };
          this.counters.promptTokens += usage.promptTokens;
          this.counters.completionTokens += usage.completionTokens;
          // A 200 without choices (or not shaped like a completion) is the server stumbling: retried like a 5xx.
          if (missing >= 0) f = { status: 'malformed', httpStatus: undefined, retryable: true, message: `malformed response body (choice ${missing} has no text content)`, retryAfterMs: undefined };
          else if (texts.length === 0) f = { status: 200, httpStatus: undefined, retryable: true, message: 'the response has no choices', retryAfterMs: undefined };
        }
        if (f !== undefined) {
          if (f.retryable && attempt < this.config.maxRetries) {
            this.counters.retries++;
            try {
              await abortableSleep(this.backoff(attempt, f.retryAfterMs), signal);
            } catch {
              // stopped while waiting: the next turn of the loop reports it
            }
            continue;
          }
          this.counters.failures++;
          const why = f.httpStatus === undefined ? f.message : `HTTP ${f.httpStatus}: ${f.message}`;
          const tries = attempt > 0 ? ` after ${attempt + 1} attempts` : '';
          const message = `openai backend: ${this.config.baseURL}/chat/completions (model ${this.config.model}) failed${tries}: ${why}${hint(f.httpStatus)}`;
          await this.trace({ started, hash, n, seed, status: f.status, ok: false, cacheHit: false, retries: attempt, choices: 0, usage, error: why });
          throw new OpenAIBackendError(message, f.httpStatus, f.retryable, f.status === 'aborted');
        }
        this.counters.generations += texts.length;
        if (cacheFile !== null) {
          await writeCache(cacheFile, { hash, texts, finishReasons, usage, created: new Date().toISOString(), request: body });
        }
        await this.trace({ started, hash, n, seed, status: 200, ok: true, cacheHit: false, retries: attempt, choices: texts.length, usage });
        return { texts: finish(texts), finishReasons, usage, cacheHit: false, retries: attempt, hash };
      }
    });
  }

  /**
   * The timeout of one attempt: `timeout_ms` until enough answers have been timed, then a multiple
   * of the recent p99 latency (at least the floor, never above `timeout_ms`), doubled on each retry
   * so an endpoint that slowed down is still waited for.
   */
  timeoutFor(attempt: number): number {
    const cap = this.config.timeoutMs;
    const p99 = this.latency.p99();
    const base = p99 === undefined ? cap : Math.min(cap, Math.max(TIMEOUT_FLOOR_MS, TIMEOUT_P99_MULTIPLE * p99));
    return Math.min(cap, base * 2 ** attempt);
  }

  /** Exponential backoff with "equal jitter": half fixed, half random, so retrying clients spread out. */
  private backoff(attempt: number, retryAfterMs: number | undefined): number {
    const { retryBaseMs, retryMaxMs } = this.config;
    const exp = Math.min(retryMaxMs, retryBaseMs * 2 ** attempt);
    const jittered = exp / 2 + (Math.random() * exp) / 2;
    return Math.min(retryMaxMs, Math.max(jittered, retryAfterMs ?? 0));
  }

  private trace(r: {
    started: number;
    hash: string;
    n: number;
    seed: number | null;
    status: TraceRecord['status'];
    ok: boolean;
    cacheHit: boolean;
    retries: number;
    choices: number;
    usage: { promptTokens: number; completionTokens: number };
    error?: string;
  }): Promise<void> {
    const file = this.config.traceFile;
    if (file === null) return Promise.resolve();
    const record: TraceRecord = {
      ts: new Date(r.started).toISOString(),
      url: `${this.config.baseURL.replace(/\/+$/, '')}/chat/completions`,
      model: this.config.model,
      hash: r.hash,
      n: r.n,
      seed: r.seed,
      latency_ms: Date.now() - r.started,
      status: r.status,
      ok: r.ok,
      cache_hit: r.cacheHit,
      retries: r.retries,
      choices: r.choices,
      usage: { prompt_tokens: r.usage.promptTokens, completion_tokens: r.usage.completionTokens },
      ...(r.error === undefined ? {} : { error: r.error }),
    };
    // Appends are chained so concurrent calls never interleave half lines. A trace that cannot be
    // written must not sink the run it observes: warn once and go on.
    this.traceChain = this.traceChain
      .then(async () => {
        await mkdir(path.dirname(file), { recursive: true });
        await appendFile(file, `${JSON.stringify(record)}\n`);
      })
      .catch((e: unknown) => {
        if (!this.traceWarned) process.emitWarning(`openai backend: cannot write trace ${file}: ${String(e)}`);
        this.traceWarned = true;
      });
    return this.traceChain;
  }
}

const sharedClients = new WeakMap<object, ChatClient>();

/** The client for a config object: one per object, so calls with the same config share its concurrency bound and stats. */
export function chatClientFor(target: ChatClient | OpenAIConfigInput | OpenAIConfig): ChatClient {
  if (target instanceof ChatClient) return target;
  let client = sharedClients.get(target);
  if (!client) {
    client = new ChatClient(target);
    sharedClients.set(target, client);
  }
  return client;
}

/** One chat-completions call with caching, retries and tracing. */
export function chat(
  target: ChatClient | OpenAIConfigInput | OpenAIConfig,
  messages: readonly ChatMessage[],
  opts: ChatOptions = {},
): Promise<ChatResult> {
  return chatClientFor(target).chat(messages, opts);
}
