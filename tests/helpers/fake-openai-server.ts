/**
 * A small OpenAI-compatible server for tests (node:http only), on 127.0.0.1 and a free port.
 *
 * `/v1/models` lists one model; `/v1/chat/completions` answers with `n` choices whose text is a
 * deterministic function of the prompt, the seed and the choice index (with no seed, a fresh nonce
 * per request, as a real sampler would). When the prompt carries the Ad-LLM's candidate list, each
 * text inserts one candidate chosen by the same hash, so downstream code sees real exposures.
 *
 * Tests script failures by queueing behaviours, consumed one per chat request in arrival order,
 * and read counters (requests, in flight, the most ever in flight) and the request bodies.
 *
 * With `toy` set, answers come from a toy model with known bid-dependent probabilities, and vLLM's
 * scoring routes answer: `/tokenize` and `/v1/completions` with `prompt_logprobs` or `echo`
 * (toy-scoring.ts).
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ToyTokenizer, toyPromptLogprobs, toySample, type ToyOptions } from './toy-scoring.ts';

export type Behaviour =
  /** Answer with this HTTP status and an OpenAI-style error body. */
  | { status: number; message?: string; retryAfterSeconds?: number; delayMs?: number }
  /** Wait this long before answering normally (beyond the client's timeout, say). */
  | { delayMs: number }
  /** Answer with these texts instead of the generated ones (one per choice; the last repeats). */
  | { content: string | string[] };

export interface ChatBody {
  model?: string;
  messages?: { role: string; content: string }[];
  n?: number;
  seed?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  max_tokens?: number;
  [key: string]: unknown;
}

export interface FakeOpenAIServer {
  /** e.g. http://127.0.0.1:43123/v1 */
  readonly baseURL: string;
  readonly port: number;
  /** Chat requests received (every attempt, failed ones included). */
  readonly requests: number;
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Bodies of the chat requests, in arrival order. */
  readonly bodies: ChatBody[];
  /** Latency added to every chat request (ms). */
  latencyMs: number;
  /** Return at most this many choices, whatever n asks (a server that silently caps n). */
  capN: number | null;
  /** Refuse n above this with a 400 (a server that does not allow several choices). */
  rejectNAbove: number | null;
  /** Refuse a request carrying any of these body fields with a 422 (as `transformers serve` does top_k). */
  rejectFields: string[];
  /** Cut each text to max_tokens words and say finish_reason "length" (a server that honours the cap). */
  cutAtMaxTokens: boolean;
  /** LoRA adapters loaded through vLLM's `POST /v1/load_lora_adapter` ({lora_name, lora_path}). */
  readonly adapters: Map<string, string>;
  /**
   * Random faults, each request drawn independently (a seeded stream, so a run is repeatable up
   * to arrival order): a share answered 500, a share never answered (the client must time out), a
   * share cut off mid-JSON, a share with an empty `choices` array.
   */
  faults: { error500?: number; hang?: number; truncated?: number; emptyChoices?: number; seed?: number } | null;
  /** Requests that met each fault so far. */
  readonly faultCounts: { error500: number; hang: number; truncated: number; emptyChoices: number };
  /**
   * Die, as vLLM's CPU build with chunked prefill does, once this many seeded requests with n > 1
   * are in flight at once: from then on every connection is dropped (until reset()).
   */
  dieAtSeededInFlight: number | null;
  /**
   * Die, as vLLM's CPU build with chunked prefill does when a seeded prompt is read in two steps,
   * once seeded requests in flight at once carry more prompt characters than this (a step's
   * budget, in characters): from then on every connection is dropped (until reset()).
   */
  dieAtSeededPromptChars: number | null;
  /** Refuse a chat request whose messages are longer than this many characters with a 400 (a short context). */
  maxPromptChars: number | null;
  /** Prometheus text served at GET /metrics (vLLM's), or null: no such route. */
  metrics: string | null;
  /** The server has died (dieAtSeededInFlight, dieAtSeededPromptChars). */
  readonly dead: boolean;
  /** Compute the reply text of a choice; return undefined for the default text. */
  responder: ((body: ChatBody, index: number) => string | undefined) | null;
  /** Answer from the toy model and serve /tokenize and /v1/completions scoring (toy-scoring.ts); null: neither route. */
  toy: ToyOptions | null;
  /** Requests to /tokenize and /v1/completions. */
  readonly scoringRequests: { tokenize: number; completions: number };
  enqueue(...behaviours: Behaviour[]): void;
  /** Clear counters, queue and settings. */
  reset(): void;
  close(): Promise<void>;
}

export const FAKE_MODEL = 'fake-model';

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Candidate ads from an Ad-LLM prompt: lines that are JSON objects with "Ad ID" and "Ad Title". */
function candidates(prompt: string): { id: string; title: string }[] {
  const out: { id: string; title: string }[] = [];
  for (const line of prompt.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      const o = JSON.parse(t) as Record<string, unknown>;
      if (typeof o['Ad ID'] === 'string' && typeof o['Ad Title'] === 'string') out.push({ id: o['Ad ID'], title: o['Ad Title'] });
    } catch {
      // not a candidate line
    }
  }
  return out;
}

export function defaultText(prompt: string, seed: number | string, index: number): string {
  const h = sha(`${prompt}\u0000${seed}\u0000${index}`);
  const ads = candidates(prompt);
  const base = `Here is a helpful answer (${h.slice(0, 12)}).`;
  if (ads.length === 0) return base;
  const ad = ads[parseInt(h.slice(12, 20), 16) % ads.length]!;
  return `${base} You might like @${ad.title}@[${ad.id}] for this.`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, payload: unknown, headers: Record<string, string> = {}): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(payload));
}

function errorBody(message: string, status: number) {
  return { error: { message, type: status === 429 ? 'rate_limit_error' : 'invalid_request_error', code: null, param: null } };
}

export async function startFakeOpenAIServer(): Promise<FakeOpenAIServer> {
  let requests = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  let nonce = 0;
  let seededInFlight = 0;
  let seededPromptCharsInFlight = 0;
  let dead = false;
  const bodies: ChatBody[] = [];
  const queue: Behaviour[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const faultCounts = { error500: 0, hang: 0, truncated: 0, emptyChoices: 0 };
  let faultState = 0;
  let faultSeed: number | undefined;
  /** mulberry32: a small seeded stream for the fault draws. */
  const draw = () => {
    faultState = (faultState + 0x6d2b79f5) | 0;
    let t = faultState;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const hung = new Set<ServerResponse>();

  const wait = (ms: number, res: ServerResponse) =>
    new Promise<boolean>((resolve) => {
      if (ms <= 0) return resolve(true);
      const t = setTimeout(() => {
        timers.delete(t);
        resolve(true);
      }, ms);
      timers.add(t);
      // The client gave up (timeout): stop waiting, nobody will read the answer.
      res.on('close', () => {
        clearTimeout(t);
        timers.delete(t);
        resolve(false);
      });
    });

  async function chat(req: IncomingMessage, res: ServerResponse): Promise<void> {
    requests++;
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    try {
      let body: ChatBody;
      try {
        body = JSON.parse(await readBody(req)) as ChatBody;
      } catch {
        return send(res, 400, errorBody('body is not JSON', 400));
      }
      bodies.push(body);
      const promptChars = (body.messages ?? []).reduce((a, m) => a + String(m.content ?? '').length, 0);
      if (server.maxPromptChars !== null && promptChars > server.maxPromptChars) {
        return send(res, 400, errorBody(`This model's maximum context length is shorter than the ${promptChars} characters of this request`, 400));
      }
      const seededLoad = server.dieAtSeededInFlight !== null && body.seed !== undefined && (body.n ?? 1) > 1;
      const seededChars = body.seed !== undefined ? promptChars : 0;
      if (seededLoad) seededInFlight++;
      seededPromptCharsInFlight += seededChars;
      try {
        if (seededLoad && seededInFlight >= server.dieAtSeededInFlight!) dead = true;
        if (server.dieAtSeededPromptChars !== null && seededPromptCharsInFlight > server.dieAtSeededPromptChars) dead = true;
        if (!dead) return await answer(req, res, body);
      } finally {
        if (seededLoad) seededInFlight--;
        seededPromptCharsInFlight -= seededChars;
      }
      res.socket?.destroy();
    } finally {
      inFlight--;
    }
  }

  async function answer(_req: IncomingMessage, res: ServerResponse, body: ChatBody): Promise<void> {
    {
      const f = server.faults;
      if (f) {
        if (faultSeed !== (f.seed ?? 0)) {
          faultSeed = f.seed ?? 0;
          faultState = faultSeed;
        }
        let u = draw();
        const pick = (p: number | undefined) => {
          const hit = u < (p ?? 0);
          u -= p ?? 0;
          return hit;
        };
        if (pick(f.error500)) {
          faultCounts.error500++;
          return send(res, 500, errorBody('injected fault', 500));
        }
        if (pick(f.hang)) {
          faultCounts.hang++;
          hung.add(res);
          res.on('close', () => hung.delete(res));
          return; // never answered: the client's timeout must end it
        }
        if (pick(f.truncated)) {
          faultCounts.truncated++;
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"id":"chatcmpl-x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assis');
          return;
        }
        if (pick(f.emptyChoices)) {
          faultCounts.emptyChoices++;
          return send(res, 200, { id: 'chatcmpl-empty', object: 'chat.completion', created: 0, model: body.model ?? FAKE_MODEL, choices: [], usage: { prompt_tokens: 1, completion_tokens: 0, total_tokens: 1 } });
        }
      }
      const behaviour = queue.shift();
      const alive = await wait(server.latencyMs + (behaviour && 'delayMs' in behaviour ? (behaviour.delayMs ?? 0) : 0), res);
      if (!alive) return;
      if (dead) {
        res.socket?.destroy();
        return;
      }
      if (behaviour && 'status' in behaviour) {
        const headers: Record<string, string> =
          behaviour.retryAfterSeconds === undefined ? {} : { 'retry-after': String(behaviour.retryAfterSeconds) };
        return send(res, behaviour.status, errorBody(behaviour.message ?? `scripted ${behaviour.status}`, behaviour.status), headers);
      }
      if (!Array.isArray(body.messages) || body.messages.length === 0) return send(res, 400, errorBody('messages must be a non-empty array', 400));
      const n = body.n ?? 1;
      if (!Number.isInteger(n) || n < 1) return send(res, 400, errorBody('n must be a positive integer', 400));
      if (server.rejectNAbove !== null && n > server.rejectNAbove) {
        return send(res, 400, errorBody(`n must be at most ${server.rejectNAbove}`, 400));
      }
      const refused = server.rejectFields.find((f) => f in body);
      if (refused !== undefined) return send(res, 422, errorBody(`unexpected field: ${refused}`, 422));
      const count = server.capN === null ? n : Math.min(n, server.capN);
      const prompt = body.messages.map((m) => `${m.role}: ${m.content}`).join('\n');
      const seed = body.seed ?? `nonce-${nonce++}`;
      const choices = [];
      for (let i = 0; i < count; i++) {
        let text: string | undefined;
        if (behaviour && 'content' in behaviour) {
          const c = behaviour.content;
          text = typeof c === 'string' ? c : c[Math.min(i, c.length - 1)];
        }
        const toy = server.toy;
        text ??= server.responder?.(body, i) ?? (toy ? toySample(body.messages.at(-1)!.content, seed, i, body.temperature ?? 1, toy.q) : defaultText(prompt, seed, i));
        let finish = 'stop';
        const words = text.split(/\s+/).filter(Boolean);
        if (server.cutAtMaxTokens && typeof body.max_tokens === 'number' && words.length > body.max_tokens) {
          text = words.slice(0, body.max_tokens).join(' ');
          finish = 'length';
        }
        const logprobs = body.logprobs === true ? { content: text.split(/\s+/).filter(Boolean).map((token) => ({ token, logprob: -1 })) } : null;
        choices.push({ index: i, message: { role: 'assistant', content: text }, finish_reason: finish, logprobs });
      }
      const completionTokens = choices.reduce((s, c) => s + c.message.content.split(/\s+/).filter(Boolean).length, 0);
      const promptTokens = Math.ceil(prompt.length / 4);
      send(res, 200, {
        id: `chatcmpl-${sha(`${prompt}${seed}`).slice(0, 16)}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model ?? FAKE_MODEL,
        choices,
        usage: { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens },
      });
    }
  }

  const tok = new ToyTokenizer();
  const scoringRequests = { tokenize: 0, completions: 0 };
  /** vLLM's /tokenize (messages or prompt) and /v1/completions over token ids, for the toy model. */
  async function scoring(req: IncomingMessage, res: ServerResponse, route: 'tokenize' | 'completions'): Promise<void> {
    const toy = server.toy!;
    scoringRequests[route]++;
    const b = JSON.parse(await readBody(req)) as { messages?: { role: string; content: string }[]; add_generation_prompt?: boolean; prompt?: string | number[]; add_special_tokens?: boolean; prompt_logprobs?: number; echo?: boolean; logprobs?: number };
    if (route === 'tokenize') {
      const ids = b.messages ? tok.chat(b.messages, b.add_generation_prompt ?? false) : [...(b.add_special_tokens === false ? [] : [0]), ...tok.encode(String(b.prompt ?? ''))];
      return send(res, 200, { count: ids.length, max_model_len: 4096, tokens: ids });
    }
    const ids = Array.isArray(b.prompt) ? b.prompt : tok.encode(String(b.prompt ?? ''));
    const lps = toy.promptLogprobs === false ? null : toyPromptLogprobs(tok, ids, toy.scoring ?? 'exact', toy.q);
    const choice: Record<string, unknown> = { index: 0, text: ' x', finish_reason: 'length', logprobs: null };
    if (lps && b.prompt_logprobs !== undefined) choice.prompt_logprobs = lps.map((lp, i) => (lp === null ? null : { [String(ids[i])]: { logprob: lp, rank: 1, decoded_token: tok.decode([ids[i]!]) } }));
    if (b.logprobs !== undefined) choice.logprobs = { tokens: [...(lps && b.echo ? ids.map((i) => tok.decode([i])) : []), ' x'], token_logprobs: [...(lps && b.echo ? lps : []), -1], top_logprobs: null, text_offset: [] };
    send(res, 200, { id: 'cmpl-toy', object: 'text_completion', created: 0, model: FAKE_MODEL, choices: [choice], usage: { prompt_tokens: ids.length, completion_tokens: 1, total_tokens: ids.length + 1 } });
  }

  const adapters = new Map<string, string>();
  const http: Server = createServer((req, res) => {
    if (dead) {
      req.socket.destroy();
      return;
    }
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'POST' && url.pathname === '/v1/load_lora_adapter') {
      readBody(req)
        .then((text) => {
          const b = JSON.parse(text) as { lora_name?: string; lora_path?: string };
          if (!b.lora_name || !b.lora_path) return send(res, 400, errorBody('lora_name and lora_path are required', 400));
          adapters.set(b.lora_name, b.lora_path);
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end(`Success: LoRA adapter '${b.lora_name}' added successfully.`);
        })
        .catch((e: unknown) => send(res, 400, errorBody(String(e), 400)));
      return;
    }
    if (req.method === 'POST' && (url.pathname === '/tokenize' || url.pathname === '/v1/completions') && server.toy && (url.pathname !== '/tokenize' || server.toy.tokenize !== false)) {
      scoring(req, res, url.pathname === '/tokenize' ? 'tokenize' : 'completions').catch((e: unknown) => send(res, 400, errorBody(String(e), 400)));
      return;
    }
    if (req.method === 'GET' && url.pathname === '/metrics' && server.metrics !== null) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(server.metrics);
      return;
    }
    if (req.method === 'GET' && url.pathname === '/v1/models') {
      return send(res, 200, { object: 'list', data: [{ id: FAKE_MODEL, object: 'model', created: 0, owned_by: 'tests' }] });
    }
    if (req.method === 'POST' && url.pathname === '/v1/chat/completions') {
      chat(req, res).catch((e: unknown) => send(res, 500, errorBody(String(e), 500)));
      return;
    }
    send(res, 404, errorBody(`no route ${req.method} ${url.pathname}`, 404));
  });

  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;

  const server: FakeOpenAIServer = {
    baseURL: `http://127.0.0.1:${port}/v1`,
    port,
    get requests() {
      return requests;
    },
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    bodies,
    adapters,
    latencyMs: 0,
    capN: null,
    rejectNAbove: null,
    rejectFields: [],
    cutAtMaxTokens: false,
    responder: null,
    toy: null,
    scoringRequests,
    faults: null,
    faultCounts,
    dieAtSeededInFlight: null,
    dieAtSeededPromptChars: null,
    maxPromptChars: null,
    metrics: null,
    get dead() {
      return dead;
    },
    enqueue(...b) {
      queue.push(...b);
    },
    reset() {
      requests = 0;
      maxInFlight = 0;
      bodies.length = 0;
      queue.length = 0;
      adapters.clear();
      server.latencyMs = 0;
      server.capN = null;
      server.rejectNAbove = null;
      server.rejectFields = [];
      server.cutAtMaxTokens = false;
      server.responder = null;
      server.toy = null;
      scoringRequests.tokenize = scoringRequests.completions = 0;
      server.faults = null;
      server.dieAtSeededInFlight = null;
      server.dieAtSeededPromptChars = null;
      server.maxPromptChars = null;
      server.metrics = null;
      dead = false;
      faultSeed = undefined;
      for (const k of Object.keys(faultCounts) as (keyof typeof faultCounts)[]) faultCounts[k] = 0;
    },
    close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const res of hung) res.destroy();
      hung.clear();
      http.closeAllConnections();
      return new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
  return server;
}
