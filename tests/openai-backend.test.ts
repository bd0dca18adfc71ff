import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../lib/errors.ts';
import { parseResponse } from '../mechanism/parser.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import { chat, OpenAIBackendError, type TraceRecord } from '../models/backends/chat-client.ts';
import { parseOpenAISpec, type OpenAIConfigInput } from '../models/backends/openai-config.ts';
import { createOpenAIRule, splitN } from '../models/backends/openai-rule.ts';
import { requestHash, stableStringify } from '../models/backends/response-cache.ts';
import { startFakeOpenAIServer, type FakeOpenAIServer } from './helpers/fake-openai-server.ts';

const input: AuctionInput = {
  query: 'How do I brew better coffee at home?',
  profile: { id: 'U-0001', info: 'A 30-year-old designer living in a small flat.', interests: ['coffee', 'cycling'] },
  ads: [
    { id: 'Ad-0001', title: 'Ceramic Pour-Over Dripper', bid: 40 },
    { id: 'Ad-0002', title: 'Burr Grinder Pro', bid: 12 },
    { id: 'Ad-0003', title: 'Carbon Road Bike Helmet', bid: 77 },
  ],
};

let server: FakeOpenAIServer;
let dir: string;

beforeAll(async () => {
  server = await startFakeOpenAIServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(async () => {
  server.reset();
  dir = await mkdtemp(path.join(tmpdir(), 'llm-auction-openai-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A config with short timeouts and backoffs, so failure paths run in milliseconds. */
function cfg(extra: Partial<OpenAIConfigInput> = {}): OpenAIConfigInput {
  return {
    baseURL: server.baseURL,
    model: 'fake-model',
    apiKey: 'test',
    cacheDir: null,
    retryBaseMs: 5,
    retryMaxMs: 20,
    timeoutMs: 2_000,
    ...extra,
  };
}

describe('openai rule', () => {
  it('returns n responses built from the Ad-LLM prompt, with the paper sampling parameters', async () => {
    const rule = createOpenAIRule(cfg());
    const out = await rule.sample(input, 5, { seed: 1 });
    expect(out).toHaveLength(5);
    expect(new Set(out).size).toBe(5);
    // The fake server inserts one of the candidates it found in the prompt.
    for (const text of out) expect(parseResponse(text, input.ads).exposures).toHaveLength(1);
    const body = server.bodies[0]!;
    expect(body.messages![0]!.role).toBe('user');
    expect(body.messages![0]!.content).toContain('"Ad ID":"Ad-0001"');
    expect(body.messages![0]!.content).toContain(input.query);
    expect(body).toMatchObject({ model: 'fake-model', n: 5, temperature: 0.7, top_p: 0.8, top_k: 20, max_tokens: 2048 });
    expect(typeof body.seed).toBe('number');
    expect(rule.name).toBe('openai:fake-model');
    expect(await rule.sample(input, 0)).toEqual([]);
  });

  it('gives identical output for the same seed and different output for another', async () => {
    const rule = createOpenAIRule(cfg());
    const a = await rule.sample(input, 3, { seed: 7 });
    const b = await rule.sample(input, 3, { seed: 7 });
    const c = await rule.sample(input, 3, { seed: 8 });
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // Without a seed every call is a fresh draw.
    expect(await rule.sample(input, 3)).not.toEqual(await rule.sample(input, 3));
  });

  it('splits n over several requests and tops up when the server caps n', async () => {
    expect(splitN(20, 16)).toEqual([16, 4]);
    expect(splitN(4, 16)).toEqual([4]);
    const rule = createOpenAIRule(cfg({ maxNPerRequest: 4 }));
    const out = await rule.sample(input, 10, { seed: 3 });
    expect(out).toHaveLength(10);
    expect(server.bodies.map((b) => b.n)).toEqual([4, 4, 2]);
    expect(new Set(server.bodies.map((b) => b.seed)).size).toBe(3);

    server.reset();
    server.capN = 2;
    const capped = createOpenAIRule(cfg());
    const out2 = await capped.sample(input, 5, { seed: 3 });
    expect(out2).toHaveLength(5);
    expect(new Set(out2).size).toBe(5);

    server.reset();
    server.rejectNAbove = 1;
    const single = createOpenAIRule(cfg());
    expect(await single.sample(input, 3, { seed: 3 })).toHaveLength(3);
    expect(server.bodies.filter((b) => b.n === 1)).toHaveLength(3);
  });

  it('answers a re-run from the disk cache without calling the server', async () => {
    const cacheDir = path.join(dir, 'cache');
    const first = createOpenAIRule(cfg({ cacheDir }));
    const a = await first.sample(input, 4, { seed: 11 });
    const sent = server.requests;
    expect(sent).toBe(1);
    // A new rule (as in a new process) reads the same files.
    const second = createOpenAIRule(cfg({ cacheDir }));
    const b = await second.sample(input, 4, { seed: 11 });
    expect(b).toEqual(a);
    expect(server.requests).toBe(sent);
    expect(second.stats()).toMatchObject({ calls: 1, requests: 0, cacheHits: 1, generations: 4, completionTokens: 0 });
    expect(second.stats().cachedCompletionTokens).toBe(first.stats().completionTokens);
    // A changed sampling parameter is a different request.
    await createOpenAIRule(cfg({ cacheDir, temperature: 0.5 })).sample(input, 4, { seed: 11 });
    expect(server.requests).toBe(sent + 1);
    // Unseeded requests are never cached.
    await second.sample(input, 2);
    await second.sample(input, 2);
    expect(server.requests).toBe(sent + 3);
  });

  it('retries 429 and 500 with backoff and succeeds', async () => {
    const rule = createOpenAIRule(cfg());
    server.enqueue({ status: 429, retryAfterSeconds: 0 }, { status: 500 }, { status: 503 });
    const out = await rule.sample(input, 2, { seed: 1 });
    expect(out).toHaveLength(2);
    expect(server.requests).toBe(4);
    expect(rule.stats()).toMatchObject({ calls: 1, requests: 4, retries: 3, failures: 0 });
  });

  it('gives up after maxRetries with the last error', async () => {
    const rule = createOpenAIRule(cfg({ maxRetries: 2 }));
    server.enqueue({ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 });
    await expect(rule.sample(input, 1, { seed: 1 })).rejects.toThrow(/after 3 attempts: HTTP 500/);
    expect(server.requests).toBe(3);
  });

  it('fails at once on a 400 with a clear message', async () => {
    const rule = createOpenAIRule(cfg());
    server.enqueue({ status: 400, message: 'max_tokens is too large for this model' });
    const err = await rule.sample(input, 1, { seed: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAIBackendError);
    expect((err as OpenAIBackendError).status).toBe(400);
    expect((err as Error).message).toMatch(/chat\/completions \(model fake-model\) failed: HTTP 400: .*max_tokens is too large/);
    expect(server.requests).toBe(1);
    server.enqueue({ status: 404, message: 'model not found' }, { status: 401, message: 'bad key' });
    await expect(rule.sample(input, 1)).rejects.toThrow(/HTTP 404.*base URL ends in \/v1/);
    await expect(rule.sample(input, 1)).rejects.toThrow(/HTTP 401.*OPENAI_API_KEY/);
    expect(server.requests).toBe(3);
  });

  it('retries a request that runs past the timeout', async () => {
    const rule = createOpenAIRule(cfg({ timeoutMs: 300 }));
    server.enqueue({ delayMs: 5_000 });
    const out = await rule.sample(input, 1, { seed: 1 });
    expect(out).toHaveLength(1);
    expect(server.requests).toBe(2);
    expect(rule.stats().retries).toBe(1);
  });

  it('reports a connection failure after retrying', async () => {
    const rule = createOpenAIRule({ ...cfg({ maxRetries: 1 }), baseURL: 'http://127.0.0.1:1/v1' });
    await expect(rule.sample(input, 1)).rejects.toThrow(/after 2 attempts: connection failed/);
  });

  it('keeps at most `concurrency` requests in flight', async () => {
    server.latencyMs = 40;
    const rule = createOpenAIRule(cfg({ concurrency: 3, maxNPerRequest: 1 }));
    const [a, b] = await Promise.all([rule.sample(input, 6, { seed: 1 }), rule.sample(input, 6, { seed: 2 })]);
    expect(a).toHaveLength(6);
    expect(b).toHaveLength(6);
    expect(server.requests).toBe(12);
    // The bound holds, and requests really did overlap (a loaded machine may not reach all 3).
    expect(server.maxInFlight).toBeLessThanOrEqual(3);
    expect(server.maxInFlight).toBeGreaterThan(1);
  });

  it('writes one trace record per call, cache hits and failures included', async () => {
    const traceFile = path.join(dir, 'trace', 'calls.jsonl');
    const rule = createOpenAIRule(cfg({ traceFile, cacheDir: path.join(dir, 'cache') }));
    server.enqueue({ status: 429 });
    await rule.sample(input, 2, { seed: 5 });
    await rule.sample(input, 2, { seed: 5 });
    server.enqueue({ status: 400, message: 'nope' });
    await rule.sample(input, 1, { seed: 6 }).catch(() => undefined);
    const records = (await readFile(traceFile, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as TraceRecord);
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({ model: 'fake-model', n: 2, status: 200, ok: true, cache_hit: false, retries: 1, choices: 2 });
    expect(records[0]!.url).toBe(`${server.baseURL}/chat/completions`);
    expect(records[0]!.usage.completion_tokens).toBeGreaterThan(0);
    expect(records[0]!.latency_ms).toBeGreaterThanOrEqual(0);
    expect(records[0]!.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(records[1]).toMatchObject({ status: 'cache', cache_hit: true, hash: records[0]!.hash });
    expect(records[2]).toMatchObject({ status: 400, ok: false, retries: 0 });
  });

  it('offers a lower-level chat() that shares one client per config object', async () => {
    const config = cfg({ concurrency: 2 });
    const r = await chat(config, [{ role: 'user', content: 'hello' }], { n: 2, seed: 1, temperature: 0.1, topK: null });
    expect(r.texts).toHaveLength(2);
    expect(r.cacheHit).toBe(false);
    expect(server.bodies[0]).toMatchObject({ temperature: 0.1, n: 2, seed: 1 });
    expect(server.bodies[0]).not.toHaveProperty('top_k');
    await chat(config, [{ role: 'user', content: 'again' }]);
    const { chatClientFor } = await import('../models/backends/chat-client.ts');
    expect(chatClientFor(config).stats().calls).toBe(2);
  });

  it('serves /v1/models to the openai client', async () => {
    const { default: OpenAI } = await import('openai');
    const models = await new OpenAI({ baseURL: server.baseURL, apiKey: 'x' }).models.list();
    expect(models.data.map((m) => m.id)).toEqual(['fake-model']);
  });

  it('hashes request bodies independently of key order', () => {
    expect(stableStringify({ b: 1, a: [1, { d: 2, c: 3 }] })).toBe('{"a":[1,{"c":3,"d":2}],"b":1}');
    expect(requestHash({ a: 1, b: 2 })).toBe(requestHash({ b: 2, a: 1 }));
  });
});

describe('parseOpenAISpec', () => {
  it('reads the URL and overrides defaults from query parameters', () => {
    const c = parseOpenAISpec('openai:http://127.0.0.1:8000/v1?model=Qwen3-4B&temperature=0.5&n_per_request=4', {});
    expect(c).toMatchObject({
      baseURL: 'http://127.0.0.1:8000/v1',
      model: 'Qwen3-4B',
      temperature: 0.5,
      maxNPerRequest: 4,
      topP: 0.8,
      topK: 20,
      maxTokens: 2048,
      concurrency: 8,
      maxRetries: 6,
      timeoutMs: 120_000,
      apiKey: 'EMPTY',
      cacheDir: '.cache/llm-auction/openai',
      traceFile: null,
    });
  });

  it('takes the model and key from the environment', () => {
    const c = parseOpenAISpec('openai:https://api.example.com/v1', { LLM_AUCTION_MODEL: 'org/model:4b', OPENAI_API_KEY: 'sk-x' });
    expect(c.model).toBe('org/model:4b');
    expect(c.apiKey).toBe('sk-x');
  });

  it('turns off top_k, the cache and sets a trace file', () => {
    const c = parseOpenAISpec('openai:http://h:1/v1?model=m&top_k=off&cache=off&trace=t.jsonl&timeout_ms=500', {});
    expect(c).toMatchObject({ topK: null, cacheDir: null, traceFile: 't.jsonl', timeoutMs: 500 });
  });

  it('refuses a missing model, unknown or bad parameters with a UsageError', () => {
    expect(() => parseOpenAISpec('openai:http://h:1/v1', {})).toThrow(UsageError);
    expect(() => parseOpenAISpec('openai:http://h:1/v1', {})).toThrow(/no model/);
    expect(() => parseOpenAISpec('openai:http://h:1/v1?model=m&temprature=1', {})).toThrow(/unknown parameter "temprature"/);
    expect(() => parseOpenAISpec('openai:http://h:1/v1?model=m&temperature=hot', {})).toThrow(/temperature must be a number/);
    expect(() => parseOpenAISpec('openai:http://h:1/v1?model=m&n_per_request=0', {})).toThrow(/n_per_request/);
    expect(() => parseOpenAISpec('openai:ftp://h/v1?model=m', {})).toThrow(UsageError);
    expect(() => parseOpenAISpec('local:x', {})).toThrow(UsageError);
  });
});
