/**
 * The `openai:` backend: an Ad-LLM (and the User-LLM's transport) over any OpenAI-compatible
 * chat-completions endpoint — vLLM, llama.cpp server, Ollama, OpenAI itself, `llm-auction serve`.
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
import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { httpFetch } from './http-fetch.ts';
import { z } from 'zod';
import { abortableSleep, inFlightSignal } from '../../mechanism/abort.ts';
import { UsageError } from '../../mechanism/errors.ts';
import { buildAdPrompt } from '../../mechanism/prompt.ts';
import { deriveSeed } from '../../mechanism/rng.ts';
import { validatedConfig } from '../../mechanism/schemas.ts';
import type { AllocationRule, AuctionInput, SampleOptions } from '../../mechanism/types.ts';

// ---------------------------------------------------------------------------------------------
// Configuration

/** Sampling defaults of the paper's Ad-LLM (Appendix B.2.1). */
export const AD_LLM_DEFAULTS = { temperature: 0.7, topP: 0.8, topK: 20, maxTokens: 2048 } as const;

export const DEFAULT_CACHE_DIR = '.cache/llm-auction/openai';

export const openAIConfigSchema = z.object({
  baseURL: z.url({ error: 'must be an http(s) URL' }).describe('Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1'),
  model: z.string().min(1, { error: 'must not be empty' }).describe('Model name as the server knows it'),
  name: z.string().optional().describe('Name of the rule in results (default "openai:MODEL")'),
  apiKey: z
    .string()
    .default(() => process.env.OPENAI_API_KEY || 'EMPTY')
    .describe('API key; defaults to $OPENAI_API_KEY, else "EMPTY" (what local servers expect)'),
  temperature: z.number().min(0).max(2).default(AD_LLM_DEFAULTS.temperature).describe('Sampling temperature'),
  topP: z.number().gt(0).max(1).default(AD_LLM_DEFAULTS.topP).describe('Nucleus sampling mass (top_p)'),
  topK: z
    .number()
    .int()
    .nullable()
    .default(AD_LLM_DEFAULTS.topK)
    .describe('top_k, sent as an extra body field as vLLM accepts it; null leaves it out (OpenAI itself rejects it)'),
  maxTokens: z.number().int().positive().default(AD_LLM_DEFAULTS.maxTokens).describe('Maximum tokens per response'),
  maxNPerRequest: z
    .number()
    .int()
    .positive()
    .default(16)
    .describe('Most responses asked for in one request; larger n is split into several requests'),
  concurrency: z.number().int().positive().default(8).describe('Most requests in flight at once'),
  maxRetries: z.number().int().min(0).max(100).default(6).describe('Retries of a transient failure (429, 5xx, timeout, connection, a malformed body, no choices)'),
  retryBaseMs: z.number().min(0).default(500).describe('First backoff delay; doubles on each retry, with jitter'),
  retryMaxMs: z.number().min(0).default(30_000).describe('Longest backoff delay (also caps a Retry-After header)'),
  timeoutMs: z.number().int().positive().default(120_000).describe('Per-request timeout in milliseconds'),
  cacheDir: z
    .string()
    .nullable()
    .default(DEFAULT_CACHE_DIR)
    .describe('Directory of the response cache (seeded requests only); null disables it'),
  traceFile: z.string().nullable().default(null).describe('JSON Lines file that gets one record per call; null for none'),
  extraBody: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('Further request body fields, e.g. {"chat_template_kwargs":{"enable_thinking":false}}'),
  stripThinking: z
    .boolean()
    .default(true)
    .describe('Drop a leading <think>…</think> block: the user never sees a reasoning model\'s reasoning'),
});

export type OpenAIConfig = z.output<typeof openAIConfigSchema>;
export type OpenAIConfigInput = z.input<typeof openAIConfigSchema>;

/** Validate a config object; a bad field is a UsageError naming it. */
export function resolveOpenAIConfig(input: OpenAIConfigInput, fieldNames: Record<string, string> = {}): OpenAIConfig {
  return validatedConfig(openAIConfigSchema, input, 'openai backend', fieldNames);
}

// ---------------------------------------------------------------------------------------------
// Spec strings: openai:BASE_URL?model=NAME&temperature=…

/** Spec parameter -> config field; the spec speaks the API's snake_case. */
const SPEC_PARAMS: Record<string, keyof OpenAIConfig> = {
  model: 'model',
  name: 'name',
  temperature: 'temperature',
  top_p: 'topP',
  top_k: 'topK',
  max_tokens: 'maxTokens',
  n_per_request: 'maxNPerRequest',
  concurrency: 'concurrency',
  max_retries: 'maxRetries',
  retry_base_ms: 'retryBaseMs',
  retry_max_ms: 'retryMaxMs',
  timeout_ms: 'timeoutMs',
  cache: 'cacheDir',
  trace: 'traceFile',
  strip_thinking: 'stripThinking',
};
const STRING_FIELDS = new Set<keyof OpenAIConfig>(['model', 'name', 'cacheDir', 'traceFile']);
const OFF = new Set(['off', 'none', 'false', 'no', '']);

function specValue(key: string, field: keyof OpenAIConfig, raw: string): unknown {
  if (field === 'cacheDir' || field === 'traceFile') return OFF.has(raw.toLowerCase()) ? null : raw;
  if (STRING_FIELDS.has(field)) return raw;
  if (field === 'stripThinking') {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new UsageError(`openai spec: ${key} must be true or false, got ${JSON.stringify(raw)}`);
  }
  if (field === 'topK' && (OFF.has(raw.toLowerCase()) || raw === 'null')) return null;
  const x = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(x)) throw new UsageError(`openai spec: ${key} must be a number, got ${JSON.stringify(raw)}`);
  return x;
}

const FIELD_TO_PARAM: Record<string, string> = {
  ...Object.fromEntries(Object.entries(SPEC_PARAMS).map(([k, f]) => [f, k])),
  baseURL: 'base URL',
};

/**
 * The unvalidated config input of a parsed spec (mechanism/spec.ts gives `baseURL` and `params`):
 * parameters are checked and converted, but defaults are not applied yet, so a caller with other
 * defaults (the judge) can resolve it with its own schema. The model falls back to
 * $LLM_AUCTION_MODEL, an empty base URL to $OPENAI_BASE_URL.
 */
export function openAIInputFromParams(
  baseURL: string,
  params: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): OpenAIConfigInput {
  const input: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(params)) {
    const field = SPEC_PARAMS[key];
    if (field === undefined) {
      throw new UsageError(`openai spec: unknown parameter "${key}" (known: ${Object.keys(SPEC_PARAMS).join(', ')})`);
    }
    input[field] = specValue(key, field, raw);
  }
  const url = baseURL || env.OPENAI_BASE_URL || '';
  if (url === '') throw new UsageError('openai spec: no base URL (write openai:http://HOST:PORT/v1?model=NAME or set OPENAI_BASE_URL)');
  if (!/^https?:\/\//i.test(url)) throw new UsageError(`openai spec: base URL must start with http:// or https://, got ${JSON.stringify(url)}`);
  input.baseURL = url;
  input.model ??= env.LLM_AUCTION_MODEL;
  if (typeof input.model !== 'string' || input.model === '') {
    throw new UsageError('openai spec: no model (add ?model=NAME or set LLM_AUCTION_MODEL)');
  }
  // Read here rather than left to the schema default, so the env passed in is the one that counts.
  input.apiKey = env.OPENAI_API_KEY || 'EMPTY';
  return input as OpenAIConfigInput;
}

/** A validated config from the parts of a parsed spec; a bad parameter is a UsageError naming it. */
export function openAIConfigFromParams(
  baseURL: string,
  params: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): OpenAIConfig {
  return resolveOpenAIConfig(openAIInputFromParams(baseURL, params, env), FIELD_TO_PARAM);
}

/** Split `openai:URL?k=v&…` into its base URL and parameters. */
export function splitOpenAISpec(spec: string): { baseURL: string; params: Record<string, string> } {
  const s = spec.trim();
  if (!s.startsWith('openai:')) throw new UsageError(`openai spec must start with "openai:", got ${JSON.stringify(spec)}`);
  const rest = s.slice('openai:'.length);
  const q = rest.indexOf('?');
  const params: Record<string, string> = {};
  if (q >= 0) for (const [k, v] of new URLSearchParams(rest.slice(q + 1))) params[k] = v;
  return { baseURL: q < 0 ? rest : rest.slice(0, q), params };
}

/** `openai:http://127.0.0.1:8000/v1?model=Qwen3-4B&temperature=0.5&n_per_request=4` -> config. */
export function parseOpenAISpec(spec: string, env: NodeJS.ProcessEnv = process.env): OpenAIConfig {
  const { baseURL, params } = splitOpenAISpec(spec);
  return openAIConfigFromParams(baseURL, params, env);
}

// ---------------------------------------------------------------------------------------------
// The client

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

/** A counting semaphore: `run` waits for a free slot, and a released slot goes straight to the next waiter. */
export class Semaphore {
  private active = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }
}

/** JSON with object keys sorted, so equal requests hash equally whatever order fields were set in. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestHash(body: unknown): string {
  return createHash('sha256').update(stableStringify(body)).digest('hex');
}

/** A reasoning model may open with `<think>…</think>`; that text is not part of the answer. */
export function stripThinking(text: string): string {
  return text.replace(/^\s*<think>[\s\S]*?<\/think>\s*/, '');
}

interface CacheEntry {
  hash: string;
  texts: string[];
  finishReasons: (string | null)[];
  usage: { promptTokens: number; completionTokens: number };
  created: string;
  request: unknown;
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

function emptyStats(): UsageStats {
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
            completion = await this.api.chat.completions.create(body as unknown as OpenAI.Chat.Completions.ChatCompletionCreateParamsNonStreaming, { signal });
          } catch (e) {
            f = signal.aborted ? { status: 'aborted', httpStatus: undefined, retryable: false, message: 'aborted: the run stopped', retryAfterMs: undefined } : classify(e);
          }
        }
        let texts: string[] = [];
        let finishReasons: (string | null)[] = [];
        let usage = { promptTokens: 0, completionTokens: 0 };
        if (completion !== undefined) {
          const choices = Array.isArray(completion.choices) ? [...completion.choices].sort((a, b) => a.index - b.index) : [];
          texts = choices.map((ch) => (typeof ch?.message?.content === 'string' ? ch.message.content : ''));
          finishReasons = choices.map((ch) => ch?.finish_reason ?? null);
          usage = {
            promptTokens: completion.usage?.prompt_tokens ?? 0,
            completionTokens: completion.usage?.completion_tokens ?? 0,
          };
          this.counters.promptTokens += usage.promptTokens;
          this.counters.completionTokens += usage.completionTokens;
          // A 200 without choices (or not shaped like a completion) is the server stumbling: retried like a 5xx.
          if (texts.length === 0) f = { status: 200, httpStatus: undefined, retryable: true, message: 'the response has no choices', retryAfterMs: undefined };
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

async function readCache(file: string, hash: string): Promise<CacheEntry | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const e = JSON.parse(text) as Partial<CacheEntry>;
    // A truncated or foreign file is a miss, never an answer.
    if (e.hash !== hash || !Array.isArray(e.texts) || !e.texts.every((t) => typeof t === 'string') || e.texts.length === 0) return undefined;
    return {
      hash,
      texts: e.texts,
      finishReasons: Array.isArray(e.finishReasons) ? e.finishReasons : e.texts.map(() => null),
      usage: { promptTokens: e.usage?.promptTokens ?? 0, completionTokens: e.usage?.completionTokens ?? 0 },
      created: e.created ?? '',
      request: e.request,
    };
  } catch {
    return undefined;
  }
}

async function writeCache(file: string, entry: CacheEntry): Promise<void> {
  // Write then rename, so a reader (or a crash) never sees half a file.
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, JSON.stringify(entry));
  await rename(tmp, file);
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

// ---------------------------------------------------------------------------------------------
// The allocation rule

export interface OpenAIRule extends AllocationRule {
  readonly config: OpenAIConfig;
  readonly client: ChatClient;
  stats(): UsageStats;
}

/** Sizes of the requests that together ask for n responses, none above cap. */
export function splitN(n: number, cap: number): number[] {
  const sizes: number[] = [];
  for (let left = n; left > 0; left -= Math.min(cap, left)) sizes.push(Math.min(cap, left));
  return sizes;
}

/** A 400 that says the server does not allow several choices per request (llama.cpp, some OpenAI models). */
function rejectsMultipleChoices(e: unknown): boolean {
  return e instanceof OpenAIBackendError && e.status === 400 && /\bn\b|choice/i.test(e.message);
}

export function createOpenAIRule(configInput: OpenAIConfigInput | OpenAIConfig): OpenAIRule {
  const client = new ChatClient(configInput);
  const config = client.config;
  // Lowered when the server turns out to return fewer choices than asked, so later requests ask
  // for what it will give.
  let cap = config.maxNPerRequest;

  async function fill(messages: ChatMessage[], k: number, size: number, seed: number | undefined): Promise<string[]> {
    const out: string[] = [];
    for (let round = 0; out.length < size; round++) {
      const want = Math.min(size - out.length, cap);
      // Each request gets its own seed: the same seed on two requests would repeat the same texts.
      const s = seed === undefined ? undefined : deriveSeed(seed, 'openai', k, round);
      let r: ChatResult;
      try {
        r = await client.chat(messages, { n: want, seed: s });
      } catch (e) {
        if (want > 1 && rejectsMultipleChoices(e)) {
          cap = 1;
          continue;
        }
        throw e;
      }
      out.push(...r.texts.slice(0, want));
      if (r.texts.length < want) cap = Math.max(1, Math.min(cap, r.texts.length));
    }
    return out;
  }

  return {
    name: config.name ?? `openai:${config.model}`,
    config,
    client,
    stats: () => client.stats(),
    async sample(input: AuctionInput, n: number, opts: SampleOptions = {}): Promise<string[]> {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`sample: n must be a non-negative integer, got ${n}`);
      if (n === 0) return [];
      const messages: ChatMessage[] = [{ role: 'user', content: buildAdPrompt(input) }];
      const parts = await Promise.all(splitN(n, cap).map((size, k) => fill(messages, k, size, opts.seed)));
      return parts.flat();
    },
  };
}
