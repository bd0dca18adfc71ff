/**
 * The `openai:` backend's configuration: its schema with the paper's Ad-LLM sampling defaults, and
 * the way a spec (`openai:BASE_URL?model=NAME&temperature=…`) becomes a config.
 */
import { z } from 'zod';
import { UsageError } from '../../lib/errors.ts';
import { validatedConfig } from '../../mechanism/schemas.ts';
import { splitQuery } from '../../mechanism/spec.ts';
import { configFromParams, paramNames, type BackendParam } from './params.ts';

/** Sampling defaults of the paper's Ad-LLM (Appendix B.2.1). */
export const AD_LLM_DEFAULTS = { temperature: 0.7, topP: 0.8, topK: 20, maxTokens: 2048 } as const;

export const DEFAULT_CACHE_DIR = '.cache/llm-auction/openai';

export const openAIConfigSchema = z.object({
  baseURL: z.url({ error: 'must be an http(s) URL' }).describe('Base URL of the OpenAI-compatible API, e.g. http://127.0.0.1:8000/v1'),
  replicas: z
    .array(z.url({ error: 'must be an http(s) URL' }))
    .default([])
    .describe('Base URLs of several replicas of one model (`openai:URL1|URL2|…`): requests are balanced over them, prefix-affine, with failover (replica-pool.ts); empty or one: baseURL alone'),
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
  concurrency: z.number().int().positive().default(8).describe('Most requests in flight at once (per replica where the spec lists several)'),
  maxRetries: z.number().int().min(0).max(100).default(6).describe('Retries of a transient failure (429, 5xx, timeout, connection, a malformed body, no choices)'),
  retryBaseMs: z.number().min(0).default(500).describe('First backoff delay; doubles on each retry, with jitter'),
  retryMaxMs: z.number().min(0).default(30_000).describe('Longest backoff delay (also caps a Retry-After header)'),
  timeoutMs: z
    .number()
    .int()
    .positive()
    .default(120_000)
    .describe('Longest per-request timeout in milliseconds; once 20 answers are timed, a request waits 4x the recent p99 latency (at least 10 s, at most this), doubled on each retry'),
  cacheDir: z
    .string()
    .nullable()
    .default(DEFAULT_CACHE_DIR)
    .describe('Directory of the response cache (seeded requests only); null disables it'),
  traceFile: z.string().nullable().default(null).describe('JSON Lines file that gets one record per call; null for none'),
  probe: z
    .boolean()
    .default(true)
    .describe('Before the first request, ask the endpoint a few short questions (what `llm-auction probe` prints) and adapt to it: top_k=off where it refuses top_k, n_per_request=1 where it ignores n, and a loud warning where its samples are greedy; $LLM_AUCTION_PROBE=off turns it off by default'),
  extraBody: z
    .record(z.string(), z.unknown())
    .default({})
    .describe('Further request body fields, e.g. {"chat_template_kwargs":{"enable_thinking":false}}'),
  stripThinking: z
    .boolean()
    .default(true)
    .describe('Drop a leading <think>…</think> block: the user never sees a reasoning model\'s reasoning'),
  score: z
    .enum(['off', 'auto', 'prompt-logprobs', 'echo'])
    .default('off')
    .describe(
      "Score a given answer at other bids, so verify shares each sampled response across a grid's bids (prompt-scorer.ts): prompt-logprobs = the chat prompt rendered by the server's /tokenize, then /v1/completions with prompt_logprobs (vLLM); echo = the same with echo and logprobs; auto = whichever the server answers, else off with a note; off (default) = never. Scoring needs the sampled distribution to be the model's own, so with it on temperature, top_p and top_k default to 1, 1 and off, and other values are refused",
    ),
});

export type OpenAIConfig = z.output<typeof openAIConfigSchema>;
export type OpenAIConfigInput = z.input<typeof openAIConfigSchema>;

/**
 * Why scoring would give wrong weights with these sampling settings, or null when it is sound: a
 * server's log-probabilities are the model's own (temperature 1, nothing cut), so the sampled
 * distribution must be too.
 */
export function scoringSamplingProblem(c: Pick<OpenAIConfig, 'temperature' | 'topP' | 'topK'>): string | null {
  const bad = [
    ...(c.temperature === 1 ? [] : [`temperature ${c.temperature}`]),
    ...(c.topP === 1 ? [] : [`top_p ${c.topP}`]),
    ...(c.topK === null || c.topK <= 0 ? [] : [`top_k ${c.topK}`]),
  ];
  return bad.length ? `the sampled distribution is not the model's own (${bad.join(', ')}; scoring needs temperature=1&top_p=1&top_k=off), so the weights would be wrong` : null;
}

/**
 * Validate a config object; a bad field is a UsageError naming it. With `score` on, the sampling
 * settings left unset default to the model's own distribution, and set ones that differ are refused
 * (`auto` instead turns scoring off where it resolves, evaluation/kinds/openai.ts).
 */
export function resolveOpenAIConfig(input: OpenAIConfigInput, fieldNames: Record<string, string> = {}): OpenAIConfig {
  const scoring = input.score !== undefined && input.score !== 'off';
  const raw = scoring ? { ...input, temperature: input.temperature ?? 1, topP: input.topP ?? 1, topK: input.topK === undefined ? null : input.topK } : input;
  const config = validatedConfig(openAIConfigSchema, raw, 'openai backend', fieldNames);
  const problem = config.score === 'prompt-logprobs' || config.score === 'echo' ? scoringSamplingProblem(config) : null;
  if (problem !== null) throw new UsageError(`openai backend: ${fieldNames.score ?? 'score'}=${config.score}: ${problem}`);
  return config;
}

/** The spec parameters the openai backend takes (see params.ts for what each means). */
const OPENAI_PARAMS: readonly BackendParam[] = [
  'model',
  'name',
  'temperature',
  'top_p',
  'top_k',
  'max_tokens',
  'n_per_request',
  'concurrency',
  'max_retries',
  'retry_base_ms',
  'retry_max_ms',
  'timeout_ms',
  'cache',
  'trace',
  'strip_thinking',
  'probe',
  'score',
];

/**
 * The unvalidated config input of a parsed spec: parameters are checked and converted, but
 * defaults are not applied yet, so a caller with other defaults (the judge) can resolve it with
 * its own schema. The model falls back to $LLM_AUCTION_MODEL, an empty base URL to $OPENAI_BASE_URL.
 */
export function openAIInputFromParams(
  baseURL: string,
  params: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): OpenAIConfigInput {
  const input = configFromParams('openai', OPENAI_PARAMS, params);
  const url = baseURL || env.OPENAI_BASE_URL || '';
  if (url === '') throw new UsageError('openai spec: no base URL (write openai:http://HOST:PORT/v1?model=NAME or set OPENAI_BASE_URL)');
  // `URL1|URL2|…`: several replicas of one model (replica-pool.ts); the first is also the base URL.
  const urls = url.split('|');
  for (const u of urls) {
    if (!/^https?:\/\//i.test(u)) throw new UsageError(`openai spec: base URL must start with http:// or https://, got ${JSON.stringify(u)}`);
  }
  if (new Set(urls).size !== urls.length) throw new UsageError(`openai spec: a replica is listed twice in ${JSON.stringify(url)}`);
  input.baseURL = urls[0];
  if (urls.length > 1) input.replicas = urls;
  input.model ??= env.LLM_AUCTION_MODEL;
  if (typeof input.model !== 'string' || input.model === '') {
    throw new UsageError('openai spec: no model (add ?model=NAME or set LLM_AUCTION_MODEL)');
  }
  // Read here rather than left to the schema default, so the env passed in is the one that counts.
  input.apiKey = env.OPENAI_API_KEY || 'EMPTY';
  return input as OpenAIConfigInput;
}

const FIELD_TO_PARAM = { ...paramNames(OPENAI_PARAMS), baseURL: 'base URL' };

/** A validated config from the parts of a parsed spec; a bad parameter is a UsageError naming it. */
export function openAIConfigFromParams(
  baseURL: string,
  params: Record<string, string>,
  env: NodeJS.ProcessEnv = process.env,
): OpenAIConfig {
  return resolveOpenAIConfig(openAIInputFromParams(baseURL, params, env), FIELD_TO_PARAM);
}

/**
 * Split `openai:URL?k=v&…` into its base URL and parameters. Training reads its `--ad-llm`
 * endpoint with it, below the command layer where mechanism specs are parsed.
 */
export function splitOpenAISpec(spec: string): { baseURL: string; params: Record<string, string> } {
  const s = spec.trim();
  if (!s.startsWith('openai:')) throw new UsageError(`openai spec must start with "openai:", got ${JSON.stringify(spec)}`);
  const { head, params } = splitQuery(s.slice('openai:'.length));
  return { baseURL: head, params };
}

/** `openai:http://127.0.0.1:8000/v1?model=Qwen3-4B&temperature=0.5&n_per_request=4` -> config. */
export function parseOpenAISpec(spec: string, env: NodeJS.ProcessEnv = process.env): OpenAIConfig {
  const { baseURL, params } = splitOpenAISpec(spec);
  return openAIConfigFromParams(baseURL, params, env);
}
