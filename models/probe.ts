/**
 * What an OpenAI-compatible endpoint really does with the fields the suite sends, found by asking
 * it a dozen short questions before a run.
 *
 * Servers differ in ways that silently change what a run measures: `transformers serve` rejects
 * `top_k` with HTTP 422, answers one choice whatever `n` asks, and may give the same text for every
 * seed at temperature 1, so every "sample" is its greedy answer and a verification measures a
 * deterministic rule without knowing it. The probe finds each of these and says how to adapt the
 * spec (`top_k=off`, `n_per_request=1`) or why a result would mean less.
 *
 * Then a short burst of concurrent requests, seeded and with n > 1 where the endpoint takes them,
 * as a run sends them, and beside it a few seeded requests with long prompts: vLLM's CPU build
 * with chunked prefill on answers every single request and then dies as soon as a seeded prompt
 * is read in two steps (every worker on "CPU Generator does not use offset"), so a run would write
 * nothing and end on ECONNREFUSED. Short prompts are split only when they happen to arrive
 * together; two long ones waiting at once never fit one step, so the long requests make the split
 * certain rather than lucky. An engine that does not survive the burst is an `EngineDiedError`
 * naming the likely cause, before the run sends anything.
 */
import { UsageError } from '../lib/errors.ts';

export interface ProbeTarget {
  baseURL: string;
  model: string;
  apiKey?: string;
  timeoutMs?: number;
  /**
   * The concurrent burst after the single-request checks: requests in flight at once and the n
   * each asks (cut to what the endpoint honours); null skips it. Default 8 requests of n = 4.
   */
  burst?: { concurrency: number; n: number } | null;
}

/** What the concurrent burst found. */
export interface BurstReport {
  requests: number;
  n: number;
  /** Each request carried its own seed (the endpoint takes seeds). */
  seeded: boolean;
  answered: number;
  /** Requests that failed: HTTP status, or the network error's message. */
  failures: string[];
  /** The endpoint still answered /models and a plain request after the burst. */
  alive: boolean;
  seconds: number;
  /**
   * The seeded long-prompt requests sent beside the burst: how many, their prompts' length in
   * tokens (estimated), how many were answered, and why they were refused where they were (a
   * context shorter than the prompt: then chunked prefill went unchecked).
   */
  long_prompts: { requests: number; approx_tokens: number; answered: number; refused: string | null };
}

/** The endpoint stopped answering under the probe's burst: a run there would write nothing. */
export class EngineDiedError extends UsageError {
  constructor(message: string) {
    super(message);
    this.name = 'EngineDiedError';
  }
}

export const DEFAULT_BURST = { concurrency: 8, n: 4 } as const;

/** An optional request field and whether the endpoint took it. */
export interface FieldReport {
  accepted: boolean;
  /** HTTP status of the refusal. */
  status?: number;
  message?: string;
}

export interface ProbeReport {
  endpoint: string;
  model: string;
  /** Optional fields the suite may send, each tried on its own beside the required ones. */
  fields: Record<'top_k' | 'seed' | 'n' | 'logprobs' | 'stop', FieldReport>;
  /** Choices returned when n = 3 was asked (null when n was refused). */
  n_returned: number | null;
  /** Distinct texts among SEED_TRIES answers at temperature 1, each with its own seed (or none). */
  distinct_texts: number;
  tries: number;
  /** The same seed twice gives the same text (null when seed was refused). */
  seed_repeats: boolean | null;
  /** The answer carries token log-probabilities when asked. */
  logprobs_returned: boolean;
  /** A cut answer says finish_reason "length" (null when the cut could not be observed). */
  finish_reason_length: boolean | null;
  /** The concurrent burst (null when skipped). */
  burst: BurstReport | null;
  /** Spec parameters that make the suite's requests fit this endpoint. */
  adapt: Record<string, string>;
  /** What would make a run on this endpoint mean less than it seems, one line each. */
  warnings: string[];
}

const SEED_TRIES = 4;
const QUESTION = [
  { role: 'system', content: 'You answer in one short sentence.' },
  { role: 'user', content: 'Suggest a name for a small bakery, and say why in a few words.' },
];

interface Choice {
  message?: { content?: string | null };
  finish_reason?: string | null;
  logprobs?: unknown;
}

async function ask(
  t: ProbeTarget,
  extra: Record<string, unknown>,
  messages: readonly { role: string; content: string }[] = QUESTION,
): Promise<{ ok: true; choices: Choice[] } | { ok: false; status: number; message: string }> {
  const url = `${t.baseURL.replace(/\/+$/, '')}/chat/completions`;
  const body = { model: t.model, messages, max_tokens: 24, temperature: 1, top_p: 0.95, ...extra };
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${t.apiKey ?? 'EMPTY'}` },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(t.timeoutMs ?? 120_000),
    });
  } catch (e) {
    throw new UsageError(`probe: ${url} did not answer: ${errorText(e)}`);
  }
  const text = await res.text();
  if (!res.ok) {
    let message = text.slice(0, 200);
    try {
      const j = JSON.parse(text) as { error?: { message?: string } | string; detail?: unknown };
      message = typeof j.error === 'string' ? j.error : (j.error?.message ?? (j.detail !== undefined ? JSON.stringify(j.detail).slice(0, 200) : message));
    } catch {
      // not JSON: keep the start of the body
    }
    return { ok: false, status: res.status, message };
  }
  try {
    const j = JSON.parse(text) as { choices?: Choice[] };
    return { ok: true, choices: Array.isArray(j.choices) ? j.choices : [] };
  } catch {
    throw new UsageError(`probe: ${url} answered HTTP ${res.status} with a body that is not JSON: ${text.slice(0, 120)}`);
  }
}

const textOf = (c: Choice | undefined) => c?.message?.content ?? '';

/** Ask the endpoint what it does with each field; throws a UsageError when it cannot answer at all. */
export async function probeEndpoint(t: ProbeTarget): Promise<ProbeReport> {
  const base = await ask(t, {});
  if (!base.ok) throw new UsageError(`probe: ${t.baseURL} refused the plainest request for model ${t.model}: HTTP ${base.status} ${base.message}`);

  const tried: [keyof ProbeReport['fields'], Record<string, unknown>][] = [
    ['top_k', { top_k: 20 }],
    ['seed', { seed: 1 }],
    ['n', { n: 3 }],
    ['logprobs', { logprobs: true, top_logprobs: 1 }],
    ['stop', { stop: ['\n\n'] }],
  ];
  const fields = {} as ProbeReport['fields'];
  const answers = {} as Record<keyof ProbeReport['fields'], Choice[]>;
  for (const [name, extra] of tried) {
    const r = await ask(t, extra);
    fields[name] = r.ok ? { accepted: true } : { accepted: false, status: r.status, message: r.message };
    if (r.ok) answers[name] = r.choices;
  }

  const nReturned = fields.n.accepted ? answers.n.length : null;
  const logprobsReturned = fields.logprobs.accepted && answers.logprobs.some((c) => c.logprobs !== null && c.logprobs !== undefined);

  // Does the text change between samples? With seeds where they are taken, else plain repeats.
  const texts: string[] = [];
  for (let s = 1; s <= SEED_TRIES; s++) {
    const r = await ask(t, fields.seed.accepted ? { seed: 1000 + s } : {});
    if (r.ok) texts.push(textOf(r.choices[0]));
  }
  let seedRepeats: boolean | null = null;
  if (fields.seed.accepted) {
    const again = await ask(t, { seed: 1001 });
    seedRepeats = again.ok ? textOf(again.choices[0]) === texts[0] : null;
  }
  const cut = await ask(t, { max_tokens: 2 });
  const finishLength = cut.ok && cut.choices[0] ? cut.choices[0].finish_reason === 'length' : null;

  const burst = t.burst === null ? null : await runBurst(t, fields.seed.accepted, nReturned !== null && nReturned >= 2);

  const distinct = new Set(texts).size;
  const adapt: Record<string, string> = {};
  const warnings: string[] = [];
  if (!fields.top_k.accepted) {
    adapt.top_k = 'off';
    warnings.push(`top_k is refused (HTTP ${fields.top_k.status}): add &top_k=off to the spec, or every request fails`);
  }
  if (!fields.n.accepted || (nReturned !== null && nReturned < 3)) {
    adapt.n_per_request = '1';
    warnings.push(
      fields.n.accepted
        ? `n is not honoured (asked 3, got ${nReturned}): add &n_per_request=1 so each response is its own request`
        : `n is refused (HTTP ${fields.n.status}): add &n_per_request=1`,
    );
  }
  if (texts.length >= 2 && distinct === 1) {
    warnings.push(
      `${texts.length} answers at temperature 1 ${fields.seed.accepted ? 'with different seeds ' : ''}were the same text: the endpoint samples greedily, so a verification measures a deterministic rule and a benchmark's "samples" are one answer repeated`,
    );
  }
  if (!fields.seed.accepted) warnings.push(`seed is refused (HTTP ${fields.seed.status}): no common random numbers, so verdicts cost more responses (benchmarks/verify-crn.ts)`);
  else if (seedRepeats === false) warnings.push('the same seed gave different texts: seeds are not honoured, so no common random numbers (verdicts cost more responses) and no response cache');
  if (!fields.stop.accepted) warnings.push(`stop is refused (HTTP ${fields.stop.status})`);
  if (finishLength === false) warnings.push('an answer cut by max_tokens did not say finish_reason "length": cut answers cannot be told from finished ones');
  if (burst && burst.failures.length > 0) {
    warnings.push(
      `${burst.failures.length} of ${burst.requests + burst.long_prompts.requests} concurrent requests failed (${burst.failures.slice(0, 3).join('; ')}) though the endpoint still answers: a run retries them, at a cost; a lower concurrency= may avoid it`,
    );
  }
  if (burst?.long_prompts.refused) {
    warnings.push(
      `the burst's long prompts (about ${burst.long_prompts.approx_tokens} tokens) were refused (${burst.long_prompts.refused}), so a crash of chunked prefill under seeded requests was not checked; the run's own prompts are shorter`,
    );
  }
  return {
    endpoint: t.baseURL,
    model: t.model,
    fields,
    n_returned: nReturned,
    distinct_texts: distinct,
    tries: texts.length,
    seed_repeats: seedRepeats,
    logprobs_returned: logprobsReturned,
    finish_reason_length: finishLength,
    burst,
    adapt,
    warnings,
  };
}

/**
 * Prompt tokens the short burst asks the engine to read, all at once: more than vLLM's CPU default
 * step (2048 tokens with chunked prefill on), so a prompt is split across steps when enough of
 * them arrive together; small enough to cost seconds on a healthy engine.
 */
const BURST_PROMPT_TOKENS = 3600;

/**
 * The seeded long prompts sent beside the short burst. The engine reads the first while the
 * others arrive; two that then wait together cannot both fit one 2048-token step, so the second is
 * read in two steps, which is what kills a seeded request on vLLM's CPU build. Three of about
 * 1300 tokens (capped at three quarters of the served context, where /models says it): a few
 * seconds of prefill on 2 cores for a 135M model. Measured here: two such requests alone survived
 * the crash-prone engine (read one after the other), four alone killed it; these three beside the
 * short burst killed it in 6 of 6 runs of tests/vllm.test.ts's crash case.
 */
const LONG_REQUESTS = 3;
const LONG_PROMPT_TOKENS = 1300;
/** Tokens of one note of burstQuestion (SmolLM2's tokenizer; larger vocabularies use fewer). */
const TOKENS_PER_NOTE = 26;
/** Tokens of the chat template, the system line and the question around the notes. */
const PROMPT_OVERHEAD_TOKENS = 40;

/** A prompt of `notes` notes, distinct per request from its first line (no shared prefix to cache). */
function burstQuestion(k: number, notes: number, label = String(k)): { role: string; content: string }[] {
  const lines = Array.from({ length: notes }, (_, i) => `Note ${label}.${i}: the shop on street ${(k * 31 + i * 7) % 97} sells bread, cakes and coffee from ${6 + (i % 4)} am.`);
  return [
    { role: 'system', content: `Request ${label}. You answer in one short sentence.` },
    { role: 'user', content: `${lines.join(' ')}\nWhich shop opens first? Answer briefly.` },
  ];
}

/** GET /models of the endpoint, within a short timeout (rejects on a network error). */
function getModels(t: ProbeTarget): Promise<Response> {
  return fetch(`${t.baseURL.replace(/\/+$/, '')}/models`, { headers: { authorization: `Bearer ${t.apiKey ?? 'EMPTY'}` }, signal: AbortSignal.timeout(Math.min(t.timeoutMs ?? 30_000, 30_000)) });
}

/** The served model's context length where /models says it (vLLM's `max_model_len`), else null. */
async function servedContext(t: ProbeTarget): Promise<number | null> {
  try {
    const res = await getModels(t);
    if (!res.ok) return null;
    const j = (await res.json()) as { data?: { id?: string; max_model_len?: unknown }[] };
    const entry = j.data?.find((m) => m.id === t.model) ?? j.data?.[0];
    const len = entry?.max_model_len;
    return typeof len === 'number' && Number.isFinite(len) && len > 0 ? len : null;
  } catch {
    return null;
  }
}

/** Does the endpoint still answer: its model list and a plain request, each within a short timeout. */
async function stillAnswers(t: ProbeTarget): Promise<string | null> {
  try {
    const res = await getModels(t);
    await res.arrayBuffer();
    if (res.status >= 500) return `GET /models answered HTTP ${res.status}`;
  } catch (e) {
    return `GET /models: ${errorText(e)}`;
  }
  try {
    const r = await ask(t, { max_tokens: 4 });
    if (!r.ok && r.status >= 500) return `a plain request answered HTTP ${r.status} ${r.message}`.trim();
  } catch (e) {
    return `a plain request: ${(e as Error).message}`;
  }
  return null;
}

/** A fetch failure's reason: undici's "fetch failed" carries it in `cause` (ECONNREFUSED, …). */
function errorText(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const why = err.cause?.code ?? err.cause?.message;
  return why ? `${err.message} (${why})` : err.message;
}

/**
 * `burst.concurrency` requests at once, each with its own seed where seeds are taken and n where
 * several choices come back; then whether the endpoint still answers. Throws EngineDiedError when
 * it does not.
 */
async function runBurst(t: ProbeTarget, seeded: boolean, nHonoured: boolean): Promise<BurstReport> {
  const size = t.burst ?? DEFAULT_BURST;
  const requests = Math.max(1, Math.floor(size.concurrency));
  const n = nHonoured ? Math.max(1, Math.min(Math.floor(size.n), 4)) : 1;
  // Each of the n choices of a request reads its prompt (vLLM prefills them side by side); about
  // 36 tokens of each prompt are the chat template, the system line and the question.
  const notes = Math.max(1, Math.ceil((BURST_PROMPT_TOKENS / (requests * n) - 36) / 24));
  const context = await servedContext(t);
  const longTokens = context === null ? LONG_PROMPT_TOKENS : Math.min(LONG_PROMPT_TOKENS, Math.floor(0.75 * context));
  const longNotes = Math.max(1, Math.floor((longTokens - PROMPT_OVERHEAD_TOKENS) / TOKENS_PER_NOTE));
  const send = async (extra: Record<string, unknown>, messages: { role: string; content: string }[]): Promise<{ status: number | null; message: string } | null> => {
    try {
      const r = await ask(t, extra, messages);
      return r.ok ? null : { status: r.status, message: `HTTP ${r.status} ${r.message}`.trim() };
    } catch (e) {
      return { status: null, message: (e as Error).message.replace(/^probe: /, '') };
    }
  };
  const start = Date.now();
  const [outcomes, longOutcomes] = await Promise.all([
    Promise.all(
      // The crash comes while prompts are read: two tokens of answer are enough.
      Array.from({ length: requests }, (_, k) => send({ max_tokens: 2, ...(n > 1 ? { n } : {}), ...(seeded ? { seed: 2000 + k } : {}) }, burstQuestion(k, notes))),
    ),
    Promise.all(Array.from({ length: LONG_REQUESTS }, (_, k) => send({ max_tokens: 2, ...(seeded ? { seed: 3000 + k } : {}) }, burstQuestion(100 + k, longNotes, `L${k}`)))),
  ]);
  const failures = outcomes.filter((o) => o !== null).map((o) => o.message);
  // A long prompt refused as a client error (HTTP 4xx: a context shorter than it) is not a failure
  // of the engine, only a check that could not be made; anything else counts with the burst's.
  const refused = (o: { status: number | null } | null) => o !== null && o.status !== null && o.status >= 400 && o.status < 500;
  const longRefused = longOutcomes.find(refused) ?? null;
  const longFailures = longOutcomes.filter((o) => o !== null && !refused(o)).map((o) => o!.message);
  // A failed burst is followed by a look at whether the server is still there; a clean one too
  // (an engine may die after its last answer), at the price of one short request.
  const gone = await stillAnswers(t);
  const report: BurstReport = {
    requests,
    n,
    seeded,
    answered: requests - failures.length,
    failures: [...failures, ...longFailures],
    alive: gone === null,
    seconds: (Date.now() - start) / 1000,
    long_prompts: { requests: LONG_REQUESTS, approx_tokens: PROMPT_OVERHEAD_TOKENS + longNotes * TOKENS_PER_NOTE, answered: longOutcomes.filter((o) => o === null).length, refused: longRefused?.message ?? null },
  };
  if (gone !== null) {
    const what = `${requests} concurrent${seeded ? ' seeded' : ''} requests${n > 1 ? ` of n = ${n}` : ''} and ${LONG_REQUESTS}${seeded ? ' seeded' : ''} requests of about ${report.long_prompts.approx_tokens} prompt tokens`;
    const first = report.failures[0] ? ` (first failure: ${report.failures[0]})` : '';
    const cause = seeded
      ? "likely cause: seeded requests with chunked prefill on vLLM's CPU build (its workers die on \"CPU Generator does not use offset\" once a seeded prompt is read in two steps); restart it with --no-enable-chunked-prefill --max-num-batched-tokens 8192 (bash scripts/vllm-serve.sh does)"
      : 'the engine does not survive this many requests at once: restart it and lower the spec\'s concurrency=';
    throw new EngineDiedError(`probe: ${t.baseURL} stopped answering after a burst of ${what}${first}: ${gone.replace(/\.+$/, '')}. ${cause[0]!.toUpperCase()}${cause.slice(1)}. Nothing was run on it.`);
  }
  return report;
}
