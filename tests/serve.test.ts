import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runServe, startServer, type RunningServer } from '../cli/commands/serve.ts';
import { displayTitle, neutralizeText } from '../mechanism/format.ts';
import { parseResponse } from '../mechanism/parser.ts';
import { AdPromptError, buildAdPrompt, parseAdPrompt } from '../mechanism/prompt.ts';
import { deriveSeed } from '../lib/rng.ts';
import type { AllocationRule, AuctionInput, SampleOptions } from '../mechanism/types.ts';
import { createOpenAIRule } from '../models/backends/openai-rule.ts';
import { manifest, modelCacheDir } from '../models/registry.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { EmbeddedPolicy } from '../simulation/embedded-policy.ts';
import { embeddedWorld } from '../simulation/world.ts';

const input: AuctionInput = {
  query: 'Which shoes should I buy for trail running in the rain?',
  profile: { id: 'U-0007', info: 'Female, 34, lives in Seattle, runs three times a week', interests: ['running', 'hiking', 'coffee'] },
  ads: [
    { id: 'Ad-0001', title: 'Trail Runner GTX Waterproof Shoe', bid: 1.25 },
    { id: 'Ad-0002', title: 'Ceramic Pour-Over Coffee Dripper', bid: 0.4 },
    { id: 'Ad-0003', title: 'Title with "quotes" and a \\ backslash', bid: 0 },
  ],
};

/** The input as the prompt shows it: what parseAdPrompt can give back. */
function shown(x: AuctionInput): Omit<AuctionInput, 'profile'> & { profile: Omit<AuctionInput['profile'], 'id'> } {
  return {
    query: neutralizeText(x.query),
    profile: { info: neutralizeText(x.profile.info), interests: x.profile.interests.map(neutralizeText) },
    ads: x.ads.map((a) => ({ ...a, title: displayTitle(a.title) })),
  };
}

describe('parseAdPrompt, the inverse of buildAdPrompt', () => {
  it('reads back query, profile and candidates exactly', () => {
    const { input: got, exact } = parseAdPrompt(buildAdPrompt(input));
    expect(exact).toBe(true);
    expect({ query: got.query, profile: { info: got.profile.info, interests: got.profile.interests }, ads: got.ads }).toEqual(shown(input));
    expect(got.profile.id).toMatch(/^U-prompt-[0-9a-f]{8}$/);
  });

  it('round-trips any auction: build(parse(build(x))) == build(x)', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 40 });
    const interest = text.filter((s) => !neutralizeText(s).includes(', ') && neutralizeText(s) !== '');
    const ad = fc.record({
      id: fc.stringMatching(/^Ad-[0-9A-Za-z_-]{1,8}$/),
      title: text,
      bid: fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.integer({ min: 0, max: 1000 })),
    });
    const auction = fc.record({
      query: text,
      profile: fc.record({ id: fc.constant('U-1'), info: text, interests: fc.array(interest, { maxLength: 4 }) }),
      ads: fc.uniqueArray(ad, { selector: (a) => a.id, maxLength: 6 }),
    });
    fc.assert(
      fc.property(auction, (x) => {
        const prompt = buildAdPrompt(x);
        const back = parseAdPrompt(prompt).input;
        expect(buildAdPrompt(back)).toBe(prompt);
        expect(back.ads.map((a) => a.bid)).toEqual(x.ads.map((a) => (Object.is(a.bid, -0) ? 0 : a.bid)));
      }),
      { numRuns: 300 },
    );
  });

  it('reads a differently worded prompt leniently, and refuses text that is no Ad-LLM prompt', () => {
    const other = [
      'Answer the user and maybe add ads.',
      '{"Ad ID":"Ad-0009","Ad Title":"Foam Roller","Ad Bid":2}',
      'Basic information: Male, 50',
      'Interests: fitness, cooking',
      '## User question',
      'How do I recover after a long run?',
    ].join('\n');
    const { input: got, exact } = parseAdPrompt(other);
    expect(exact).toBe(false);
    expect(got.ads).toEqual([{ id: 'Ad-0009', title: 'Foam Roller', bid: 2 }]);
    expect(got.profile.interests).toEqual(['fitness', 'cooking']);
    expect(got.query).toBe('How do I recover after a long run?');
    expect(() => parseAdPrompt('hello there')).toThrow(AdPromptError);
    const badBid = buildAdPrompt(input).replace('"Ad Bid":1.25', '"Ad Bid":"lots"');
    expect(() => parseAdPrompt(badBid)).toThrow(/Ad Bid/);
  });
});

/** A rule whose answer is a function of the auction, the seed and the choice, recording what it saw. */
function echoRule(): AllocationRule & { seen: { input: AuctionInput; n: number; opts: SampleOptions }[] } {
  const seen: { input: AuctionInput; n: number; opts: SampleOptions }[] = [];
  return {
    name: 'echo-rule',
    seen,
    async sample(inp, n, opts = {}) {
      seen.push({ input: inp, n, opts });
      if (inp.query.includes('FAIL')) throw new Error('scripted failure');
      const seed = opts.seed ?? Math.floor(Math.random() * 1e9);
      return Array.from({ length: n }, (_, i) => {
        const ad = inp.ads[(seed + i) % Math.max(1, inp.ads.length)];
        return ad ? `Answer ${seed}/${i}: try @${ad.title}@[${ad.id}].` : `Answer ${seed}/${i}.`;
      });
    },
  };
}

/** The fields of a chat-completions reply (or error) the tests read. */
interface ApiReply {
  choices: { index: number; message: { role: string; content: string }; finish_reason: string }[];
  usage: { prompt_tokens: number; completion_tokens: number };
  error: { message: string; type: string };
}

async function post(server: RunningServer, body: unknown, raw?: string): Promise<{ status: number; json: ApiReply; headers: Headers }> {
  const res = await fetch(`${server.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ?? JSON.stringify(body) });
  return { status: res.status, json: (await res.json()) as ApiReply, headers: res.headers };
}

describe('llm-auction serve over a test rule', () => {
  const rule = echoRule();
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ rule, port: 0, log: null });
  });
  afterAll(async () => {
    await server.close();
  });

  it('lists the model and answers the openai backend with n responses, reproducibly under a seed', async () => {
    const models = await (await fetch(`${server.baseURL}/models`)).json();
    expect(models).toMatchObject({ object: 'list', data: [{ id: 'echo-rule', object: 'model' }] });
    expect((await fetch(`${server.baseURL}/models/echo-rule`)).status).toBe(200);

    const client = createOpenAIRule({ baseURL: server.baseURL, model: 'echo-rule', cacheDir: null, maxRetries: 0 });
    const a = await client.sample(input, 5, { seed: 11 });
    const b = await client.sample(input, 5, { seed: 11 });
    const c = await client.sample(input, 5, { seed: 12 });
    expect(a).toHaveLength(5);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    // The rule saw the auction the client encoded: the prompt was read back faithfully.
    const last = rule.seen.at(-1)!;
    expect(last.input.query).toBe(input.query);
    expect(last.input.ads).toEqual(shown(input).ads);
    // Each answer inserts a candidate, and the parser on the client side accepts it.
    for (const t of a) expect(parseResponse(t, input.ads).exposures).toHaveLength(1);
    expect(client.stats().completionTokens).toBeGreaterThan(0);
  });

  it('passes the seed through and reports sampling fields the rule ignores', async () => {
    const r = await post(server, { model: 'echo-rule', messages: [{ role: 'user', content: buildAdPrompt(input) }], n: 2, seed: 3, temperature: 0.2, top_k: 5, stop: ['\n'], logprobs: true });
    expect(r.status).toBe(200);
    expect(r.json.choices).toHaveLength(2);
    expect(r.json.choices[1]).toMatchObject({ index: 1, message: { role: 'assistant' }, finish_reason: 'stop' });
    expect(r.json.usage.prompt_tokens).toBeGreaterThan(100);
    expect(rule.seen.at(-1)!.opts.seed).toBe(3);
    // Fields no rule honours (stop, logprobs) are named too, never dropped silently.
    expect(r.headers.get('x-llm-auction-ignored')).toBe('temperature,top_k,stop,logprobs');
  });

  it('answers mistakes with OpenAI-style errors and the right status', async () => {
    const ok = { model: 'echo-rule', messages: [{ role: 'user', content: buildAdPrompt(input) }] };
    const cases: [unknown, number, RegExp, string?][] = [
      [null, 400, /not valid JSON/, '{"model": '],
      [{ model: 'x', messages: [] }, 400, /messages/],
      [{ ...ok, n: 0 }, 400, /^n:/],
      [{ ...ok, temperature: 3 }, 400, /temperature/],
      [{ ...ok, stream: true }, 400, /streaming/],
      [{ model: 'x', messages: [{ role: 'user', content: 'just chatting' }] }, 400, /not an Ad-LLM prompt/],
      [{ ...ok, messages: [{ role: 'user', content: buildAdPrompt({ ...input, query: 'FAIL please' }) }] }, 500, /scripted failure/],
    ];
    for (const [body, status, message, raw] of cases) {
      const r = await post(server, body, raw);
      expect(r.status, JSON.stringify(body)).toBe(status);
      expect(r.json.error.message).toMatch(message);
      expect(r.json.error).toHaveProperty('type');
    }
    const notFound = await fetch(`${server.baseURL}/completions`, { method: 'POST', body: '{}' });
    expect(notFound.status).toBe(404);
    expect(((await notFound.json()) as { error: { type: string } }).error.type).toBe('not_found_error');
    expect((await fetch(`${server.baseURL}/chat/completions`)).status).toBe(405);
    expect((await fetch(`${server.baseURL}/models/other`)).status).toBe(404);
    expect(server.stats().errors).toBeGreaterThanOrEqual(10);
  });
});

describe('a client that goes away', () => {
  it('stops its generation: the rule sees the abort, serve counts it, and the next request is served', async () => {
    let aborted = 0;
    let started = 0;
    // A rule as slow as a CPU model: it answers after 30 s unless its signal fires first.
    const slow: AllocationRule = {
      name: 'slow-rule',
      payment: 'first-price-click',
      async sample(_inp: AuctionInput, n: number, opts: SampleOptions & { signal?: AbortSignal } = {}) {
        started++;
        if (n === 1 && opts.seed === 1) return ['quick'];
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, 30_000);
          opts.signal?.addEventListener('abort', () => {
            clearTimeout(timer);
            aborted++;
            reject(opts.signal!.reason as Error);
          });
        });
        return Array.from({ length: n }, () => 'late');
      },
    };
    const server = await startServer({ rule: slow, port: 0, log: null });
    try {
      const body = (seed: number) => JSON.stringify({ model: 'slow-rule', messages: [{ role: 'user', content: buildAdPrompt(input) }], seed });
      const client = new AbortController();
      const pending = fetch(`${server.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(7), signal: client.signal });
      for (let i = 0; i < 100 && started === 0; i++) await new Promise((r) => setTimeout(r, 10));
      client.abort();
      await expect(pending).rejects.toThrow();
      for (let i = 0; i < 100 && server.stats().cancelled === 0; i++) await new Promise((r) => setTimeout(r, 10));
      expect(aborted).toBe(1);
      expect(server.stats().cancelled).toBe(1);
      const next = await fetch(`${server.baseURL}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: body(1) });
      expect(next.status).toBe(200);
    } finally {
      await server.close();
    }
  });
});

describe('serving limits', () => {
  it('serve publishes a rule\'s limits in /v1/models, and an openai: client fills the parameters its spec left out', async () => {
    const { withServedDefaults, SERVED_TIMEOUT_MS } = await import('../models/backends/served-limits.ts');
    const limited: AllocationRule = { ...echoRule(), name: 'capped-rule', servingLimits: { maxTokens: 48, parallel: 1 } };
    const server = await startServer({ rule: limited, port: 0, log: null });
    const plain = await startServer({ rule: echoRule(), port: 0, log: null });
    try {
      const models = (await (await fetch(`${server.baseURL}/models`)).json()) as { data: { llm_auction?: unknown }[] };
      expect(models.data[0]!.llm_auction).toEqual({ max_tokens: 48, parallel: 1 });
      const notes: string[] = [];
      const filled = await withServedDefaults(server.baseURL, { model: 'capped-rule' }, (l) => notes.push(l));
      expect(filled).toEqual({ model: 'capped-rule', concurrency: '1', max_tokens: '48', timeout_ms: String(SERVED_TIMEOUT_MS) });
      expect(notes.join('\n')).toMatch(/llm-auction serve.*concurrency=1, max_tokens=48/);
      // What the spec sets stays as it is.
      const kept = await withServedDefaults(server.baseURL, { model: 'capped-rule', concurrency: '4', max_tokens: '200' }, () => {});
      expect(kept).toMatchObject({ concurrency: '4', max_tokens: '200' });
      // A server without limits (and one that does not answer) leaves the spec alone.
      expect(await withServedDefaults(plain.baseURL, { model: 'echo-rule' }, () => {})).toEqual({ model: 'echo-rule' });
      expect(await withServedDefaults('http://127.0.0.1:9/v1', { model: 'x' }, () => {})).toEqual({ model: 'x' });
    } finally {
      await server.close();
      await plain.close();
    }
  });
});

describe('runServe, the command', () => {
  it('writes its address, serves until SIGTERM, then returns 0 with its tallies', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'llm-auction-serve-'));
    const json = path.join(dir, 'serve.json');
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string | Uint8Array) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
    try {
      const code = runServe({ rule: echoRule(), port: 0, json });
      for (let i = 0; i < 100 && !existsSync(json); i++) await new Promise((r) => setTimeout(r, 20));
      const info = JSON.parse(readFileSync(json, 'utf8')) as { url: string; model: string; port: number };
      expect(info.model).toBe('echo-rule');
      expect(out.join('')).toContain(info.url);
      const models = (await (await fetch(`${info.url}/models`)).json()) as { data: { id: string }[] };
      expect(models.data[0]!.id).toBe('echo-rule');
      process.emit('SIGTERM');
      expect(await code).toBe(0);
      expect(JSON.parse(readFileSync(json, 'utf8'))).toMatchObject({ url: info.url, requests: 1, errors: 0 });
    } finally {
      process.stdout.write = write;
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('fails with a one-line usage error (exit 2) when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    try {
      const e = await runServe({ rule: echoRule(), port: (blocker.address() as AddressInfo).port }).then(
        () => undefined,
        (x: unknown) => x as Error,
      );
      expect(e?.name).toBe('UsageError'); // the CLI prints it on one line and exits 2
      expect(e?.message).toMatch(/^serve: cannot listen on 127\.0\.0\.1:\d+: address already in use$/);
    } finally {
      blocker.close();
    }
  });
});

describe('llm-auction serve over the embedded rule', () => {
  const world = embeddedWorld(0);
  const profiles = new Map(world.profiles.map((p) => [p.id, p]));
  const q = world.queries[5]!;
  const auction = auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: 0, stage: 'test', epoch: 0, candidates: 10 });
  const rule = new EmbeddedPolicy().rule();
  let server: RunningServer;
  beforeAll(async () => {
    server = await startServer({ rule, port: 0, log: null });
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves the same responses the rule gives in process, for the seed the client sends', async () => {
    const client = createOpenAIRule({ baseURL: server.baseURL, model: rule.name, cacheDir: null, maxRetries: 0 });
    const served = await client.sample(auction, 6, { seed: 42 });
    expect(served).toHaveLength(6);
    expect(await client.sample(auction, 6, { seed: 42 })).toEqual(served);
    // The openai backend sends deriveSeed(seed, 'openai', request, round) with its one request.
    const direct = await rule.sample(auction, 6, { seed: deriveSeed(42, 'openai', 0, 0) });
    expect(served).toEqual(direct);
  });
});

const SMOL = (() => {
  const m = manifest().models.smollm2;
  return `${modelCacheDir()}/${m.dir}/${m.file}`;
})();
const HAVE_SMOL = existsSync(SMOL);
if (!HAVE_SMOL) console.warn(`serve.test.ts: ${SMOL} is missing; serving local:smollm2 is skipped. Get it with: bash scripts/fetch-models.sh smollm2`);

describe.skipIf(!HAVE_SMOL)('llm-auction serve over local:smollm2', () => {
  let server: RunningServer;
  let dispose: () => Promise<void>;
  beforeAll(async () => {
    const local = await import('../models/backends/local.ts');
    dispose = local.disposeLocalModels;
    const rule = local.createLocalRule('local:smollm2?max_tokens=24');
    await rule.client.load();
    server = await startServer({ rule, port: 0, log: null });
  });
  afterAll(async () => {
    await server?.close();
    await dispose?.();
  });

  it('answers through the openai client with n responses, repeatable under a seed', async () => {
    const client = createOpenAIRule({ baseURL: server.baseURL, model: 'local:smollm2', cacheDir: null, maxRetries: 0, maxTokens: 24 });
    const a = await client.sample(input, 2, { seed: 5 });
    expect(a).toHaveLength(2);
    for (const t of a) expect(typeof t).toBe('string');
    expect(await client.sample(input, 2, { seed: 5 })).toEqual(a);
    // Every sampling field is honoured by the local rule: nothing reported as ignored.
    const r = await post(server, { model: 'local:smollm2', messages: [{ role: 'user', content: buildAdPrompt(input) }], seed: 1, temperature: 0.5, top_p: 0.9, top_k: 10, max_tokens: 8 });
    expect(r.status).toBe(200);
    expect(r.headers.get('x-llm-auction-ignored')).toBeNull();
    // Eight tokens cut any answer to an Ad-LLM prompt: finish_reason says so.
    expect(r.json.choices[0]!.finish_reason).toBe('length');
  });
});
