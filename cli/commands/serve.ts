/**
 * `llm-auction serve -m SPEC [--port P]`: any allocation rule as an OpenAI-compatible
 * chat-completions endpoint, so tools that speak that API (our own `openai:` backend, vLLM-style
 * clients, eval harnesses) can query a mechanism as if it were a model.
 *
 * A request carries the Ad-LLM prompt that mechanism/prompt.ts writes; `parseAdPrompt`, beside
 * the writer, turns it back into the auction (query, profile, candidates with bids) and the rule
 * samples `n` responses for it. Sampling fields the rule understands (temperature, top_p, top_k,
 * max_tokens: the `local:` rule does) are passed through; the others are listed in the
 * `x-llm-auction-ignored` response header rather than silently dropped. Token counts in `usage`
 * are estimates (characters / 4): a mechanism has no tokenizer of its own.
 *
 * Local models also take LoRA adapters at run time through vLLM's `/v1/load_lora_adapter` and
 * `/v1/unload_lora_adapter` (serve-lora.ts); a request names one by its `model`.
 *
 * node:http only; errors are OpenAI-shaped JSON with the matching status code.
 */
import { UsageError } from '../../lib/errors.ts';
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { parseAdPrompt } from '../../mechanism/prompt.ts';
import { deriveSeed } from '../../lib/rng.ts';
import type { AllocationRule, AuctionInput, SampleOptions, SamplingOverrides } from '../../mechanism/types.ts';
import { writeJsonResult } from '../output.ts';
import { approxTokens } from '../../lib/numbers.ts';
import { AdapterError, AdapterTable, servingLimitsEntry } from './serve-lora.ts';

/**
 * OpenAI request fields the server accepts but no rule honours: a request that sets one is
 * answered, and the field is named in `x-llm-auction-ignored`, never silently dropped.
 */
export const UNSUPPORTED_FIELDS = ['stop', 'logprobs', 'top_logprobs', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'response_format', 'tools', 'tool_choice'] as const;

export const MAX_BODY_BYTES = 4 * 1024 * 1024;
export const MAX_N = 128;

const contentPart = z.object({ type: z.string(), text: z.string().optional() }).passthrough();
const chatRequestSchema = z
  .object({
    model: z.string().optional(),
    messages: z
      .array(
        z
          .object({
            role: z.string(),
            content: z.union([z.string(), z.array(contentPart), z.null()]),
          })
          .passthrough(),
      )
      .min(1, { error: 'must contain at least one message' }),
    n: z.number().int().min(1).max(MAX_N).optional().nullable(),
    seed: z.number().int().optional().nullable(),
    temperature: z.number().min(0).max(2).optional().nullable(),
    top_p: z.number().gt(0).max(1).optional().nullable(),
    top_k: z.number().int().min(-1).optional().nullable(),
    max_tokens: z.number().int().positive().optional().nullable(),
    max_completion_tokens: z.number().int().positive().optional().nullable(),
    stream: z.boolean().optional().nullable(),
  })
  .passthrough();

type ChatRequest = z.output<typeof chatRequestSchema>;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type = status >= 500 ? 'server_error' : 'invalid_request_error',
    readonly param: string | null = null,
  ) {
    super(message);
  }
}

function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.writableEnded) return;
  const body = JSON.stringify(payload);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers });
  res.end(body);
}

function sendError(res: ServerResponse, e: HttpError): void {
  send(res, e.status, { error: { message: e.message, type: e.type, param: e.param, code: null } });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The request body as JSON; 400 when it cannot be read or parsed. */
async function readJson(req: IncomingMessage): Promise<unknown> {
  let raw: string;
  try {
    raw = await readBody(req);
  } catch (e) {
    throw e instanceof HttpError ? e : new HttpError(400, `cannot read the request body: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(raw);
  } catch {
    throw new HttpError(400, 'request body is not valid JSON');
  }
}

function messageText(content: ChatRequest['messages'][number]['content']): string {
  if (content === null) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => (p.type === 'text' ? (p.text ?? '') : '')).join('');
}


export interface ServeStats {
  requests: number;
  completions: number;
  errors: number;
  generations: number;
  /** Generations stopped because their client went away. */
  cancelled: number;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8000/v1 */
  readonly baseURL: string;
  readonly host: string;
  readonly port: number;
  readonly model: string;
  stats(): ServeStats;
  close(): Promise<void>;
}

export interface ServeOptions {
  rule: AllocationRule;
  port: number;
  host?: string;
  /** `--json FILE`: the address at start (so a script can find a port-0 server) and the tallies at stop. */
  json?: string;
  /** Requests without a seed get one derived from this and their arrival number. */
  seed?: number;
  /** One line per request and the start banner (default: stderr for requests, stdout for the banner). */
  log?: ((line: string) => void) | null;
}

/** Start the server and return once it listens (port 0 picks a free one). */
export async function startServer(opts: Omit<ServeOptions, 'json'>): Promise<RunningServer> {
  const rule = opts.rule;
  const host = opts.host ?? '127.0.0.1';
  const log = opts.log === undefined ? (l: string) => process.stderr.write(`${l}\n`) : opts.log;
  const counters: ServeStats = { requests: 0, completions: 0, errors: 0, generations: 0, cancelled: 0 };
  const created = Math.floor(Date.now() / 1000);
  const adapters = new AdapterTable(rule, log);
  let arrivals = 0;

  async function completions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = chatRequestSchema.safeParse(await readJson(req));
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      const param = issue.path.map(String).join('.') || null;
      throw new HttpError(400, `${param ?? 'body'}: ${issue.message}`, 'invalid_request_error', param);
    }
    const body = parsed.data;
    if (body.stream) throw new HttpError(400, 'stream: streaming responses are not supported by llm-auction serve', 'invalid_request_error', 'stream');
    // The base rule, or a loaded LoRA adapter named by `model`.
    const target = adapters.ruleFor(body.model);
    const honoured = new Set(target.samplingOptions ?? []);

    // The auction is in the last user message (clients may put instructions in a system message).
    const users = body.messages.filter((m) => m.role === 'user');
    const prompt = messageText((users.at(-1) ?? body.messages.at(-1)!).content);
    let input: AuctionInput;
    try {
      input = parseAdPrompt(prompt).input;
    } catch (e) {
      throw new HttpError(400, `messages: the last user message is not an Ad-LLM prompt (${(e as Error).message})`, 'invalid_request_error', 'messages');
    }

    const n = body.n ?? 1;
    const arrival = arrivals++;
    const seed = body.seed ?? (opts.seed === undefined ? undefined : deriveSeed(opts.seed, 'serve', arrival));
    const sampling: SampleOptions & SamplingOverrides = {};
    if (seed !== undefined) sampling.seed = seed;
    const ignored: string[] = [];
    const pass = (field: 'temperature' | 'top_p' | 'top_k' | 'max_tokens', value: number | null | undefined, set: (v: number) => void) => {
      if (value === undefined || value === null) return;
      if (honoured.has(field)) set(value);
      else ignored.push(field);
    };
    pass('temperature', body.temperature, (v) => (sampling.temperature = v));
    pass('top_p', body.top_p, (v) => (sampling.topP = v));
    // top_k -1 means "off" in vLLM's API.
    pass('top_k', body.top_k, (v) => (sampling.topK = v < 1 ? null : v));
    pass('max_tokens', body.max_tokens ?? body.max_completion_tokens, (v) => (sampling.maxTokens = v));
    for (const field of UNSUPPORTED_FIELDS) {
      const v = (body as Record<string, unknown>)[field];
      if (v !== undefined && v !== null && v !== false && !(Array.isArray(v) && v.length === 0)) ignored.push(field);
    }

    // A client that goes away (a timeout, a killed run) stops its generation: a local model on a
    // CPU would otherwise spend minutes on answers nobody reads while live requests wait.
    const gone = new AbortController();
    const onClose = () => {
      if (!res.writableEnded) gone.abort(new Error('the client closed the connection'));
    };
    res.on('close', onClose);
    sampling.signal = gone.signal;
    let texts: string[];
    let finishReasons: ('stop' | 'length')[] | undefined;
    try {
      if (target.sampleWithFinish) ({ texts, finishReasons } = await target.sampleWithFinish(input, n, sampling));
      else texts = await target.sample(input, n, sampling);
    } catch (e) {
      if (gone.signal.aborted) {
        counters.cancelled++;
        log?.(`cancelled: ${(gone.signal.reason as Error).message}`);
        return;
      }
      throw new HttpError(500, `mechanism ${target.name} failed: ${(e as Error).message}`);
    } finally {
      res.off('close', onClose);
    }
    if (texts.length !== n) throw new HttpError(500, `mechanism ${target.name} returned ${texts.length} responses for n=${n}`);
    counters.completions++;
    counters.generations += texts.length;
    const promptTokens = body.messages.reduce((s, m) => s + approxTokens(messageText(m.content)), 0);
    const completionTokens = texts.reduce((s, t) => s + approxTokens(t), 0);
    const headers: Record<string, string> = ignored.length > 0 ? { 'x-llm-auction-ignored': ignored.join(',') } : {};
    send(
      res,
      200,
      {
        id: `chatcmpl-${randomBytes(12).toString('hex')}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: target.name,
        system_fingerprint: `llm-auction-${rule.name}`,
        choices: texts.map((content, index) => ({ index, message: { role: 'assistant', content }, finish_reason: finishReasons?.[index] ?? 'stop', logprobs: null })),
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      },
      headers,
    );
  }

  // llm_auction: what a client should size its requests by (an openai: client of this server reads it).
  const modelEntry = { id: rule.name, object: 'model', created, owned_by: 'llm-auction', ...servingLimitsEntry(rule) };

  /** vLLM answers these routes with a plain-text line on success. */
  async function adapterRoute(req: IncomingMessage, res: ServerResponse, op: 'load' | 'unload'): Promise<void> {
    const json = await readJson(req);
    const text = op === 'load' ? await adapters.load(json) : await adapters.unload(json);
    if (res.destroyed || res.writableEnded) return;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(text)) });
    res.end(text);
  }

  const http: Server = createServer((req, res) => {
    const started = Date.now();
    counters.requests++;
    const url = new URL(req.url ?? '/', 'http://localhost');
    const pathname = url.pathname.replace(/\/+$/, '') || '/';
    res.on('finish', () => {
      if (res.statusCode >= 400) counters.errors++;
      log?.(`${req.method} ${pathname} ${res.statusCode} ${Date.now() - started}ms`);
    });
    const fail = (e: unknown) =>
      sendError(
        res,
        e instanceof HttpError ? e : e instanceof AdapterError ? new HttpError(e.status, e.message, e.type, e.param) : new HttpError(500, (e as Error).message ?? String(e)),
      );
    try {
      if (pathname === '/v1/models') {
        if (req.method !== 'GET') throw new HttpError(405, `method ${req.method} not allowed on /v1/models`);
        return send(res, 200, { object: 'list', data: [modelEntry, ...adapters.entries()] });
      }
      if (pathname.startsWith('/v1/models/')) {
        if (req.method !== 'GET') throw new HttpError(405, `method ${req.method} not allowed`);
        const id = decodeURIComponent(pathname.slice('/v1/models/'.length));
        const entry = id === rule.name ? modelEntry : adapters.entries().find((m) => m.id === id);
        if (!entry) throw new HttpError(404, `model ${JSON.stringify(id)} not found; this server serves ${JSON.stringify(rule.name)}`, 'not_found_error', 'model');
        return send(res, 200, entry);
      }
      if (pathname === '/v1/load_lora_adapter' || pathname === '/v1/unload_lora_adapter') {
        if (req.method !== 'POST') throw new HttpError(405, `method ${req.method} not allowed on ${pathname} (use POST)`);
        adapterRoute(req, res, pathname === '/v1/load_lora_adapter' ? 'load' : 'unload').catch(fail);
        return;
      }
      if (pathname === '/v1/chat/completions') {
        if (req.method !== 'POST') throw new HttpError(405, `method ${req.method} not allowed on /v1/chat/completions (use POST)`);
        completions(req, res).catch(fail);
        return;
      }
      if (pathname === '/health' || pathname === '/v1/health') return send(res, 200, { status: 'ok', model: rule.name });
      throw new HttpError(404, `no route ${req.method} ${pathname} (try GET /v1/models or POST /v1/chat/completions)`, 'not_found_error');
    } catch (e) {
      fail(e);
    }
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const shownHost = host.includes(':') ? `[${host}]` : host;
  const baseURL = `http://${shownHost}:${port}/v1`;
  return {
    baseURL,
    host,
    port,
    model: rule.name,
    stats: () => ({ ...counters }),
    close: async () => {
      await new Promise<void>((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      });
      await adapters.close();
    },
  };
}

/**
 * The command: serve until SIGINT or SIGTERM, then close and return 0. A port that cannot be
 * bound is a usage problem (exit 2), reported on one line.
 */
export async function runServe(opts: ServeOptions): Promise<number> {
  let server: RunningServer;
  try {
    server = await startServer(opts);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'EADDRINUSE' ? 'address already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new UsageError(`serve: cannot listen on ${opts.host ?? '127.0.0.1'}:${opts.port}: ${why}`);
  }
  // The signal handlers go in before anything announces the server: a client that stops it as soon
  // as it reads the banner must find them there.
  const stopped = new Promise<void>((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  const started = new Date().toISOString();
  const info = { url: server.baseURL, host: server.host, port: server.port, model: server.model, started, pid: process.pid };
  writeJsonResult(opts.json === '-' ? undefined : opts.json, info);
  process.stdout.write(
    `llm-auction serve: ${server.model} at ${server.baseURL}\n` +
      `  try: curl ${server.baseURL}/models\n` +
      `  use: -m 'openai:${server.baseURL}?model=${encodeURIComponent(server.model)}'\n` +
      '  stop with Ctrl-C\n',
  );
  await stopped;
  await server.close();
  const stats = server.stats();
  // With --json -, stdout carries this one document (the banner went to stderr); a file gets both.
  writeJsonResult(opts.json, { ...info, stopped: new Date().toISOString(), ...stats });
  process.stdout.write(`llm-auction serve: stopped after ${stats.requests} request(s), ${stats.errors} error(s)\n`);
  return 0;
}
