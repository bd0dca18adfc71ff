/**
 * `probeEndpoint` against endpoints that behave like vLLM and like `transformers serve` (which
 * refuses top_k, answers one choice whatever n asks, and samples greedily), played by the fake
 * OpenAI server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../lib/errors.ts';
import { probeEndpoint } from '../models/probe.ts';
import { runProbe } from '../cli/commands/probe.ts';
import { resolveRule } from '../evaluation/resolve.ts';
import { adaptToEndpoint, forgetEndpoints } from '../models/backends/served-limits.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { embeddedWorld } from '../simulation/world.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_MODEL, startFakeOpenAIServer, type FakeOpenAIServer } from './helpers/fake-openai-server.ts';

let server: FakeOpenAIServer;
beforeAll(async () => {
  server = await startFakeOpenAIServer();
});
afterAll(() => server.close());
beforeEach(() => server.reset());

describe('probeEndpoint', () => {
  it('finds nothing to adapt on an endpoint that honours every field (vLLM-like)', async () => {
    server.cutAtMaxTokens = true;
    const r = await probeEndpoint({ baseURL: server.baseURL, model: FAKE_MODEL });
    expect(Object.values(r.fields).every((f) => f.accepted)).toBe(true);
    expect(r.n_returned).toBe(3);
    expect(r.distinct_texts).toBe(r.tries);
    expect(r.seed_repeats).toBe(true);
    expect(r.logprobs_returned).toBe(true);
    expect(r.finish_reason_length).toBe(true);
    expect(r.adapt).toEqual({});
    expect(r.warnings).toEqual([]);
  });

  it('says how to adapt to a transformers-serve-like endpoint, and warns that its samples are greedy', async () => {
    server.rejectFields = ['top_k'];
    server.capN = 1;
    server.responder = () => 'Golden Crust, because it sounds warm.';
    const r = await probeEndpoint({ baseURL: server.baseURL, model: FAKE_MODEL });
    expect(r.fields.top_k).toMatchObject({ accepted: false, status: 422 });
    expect(r.n_returned).toBe(1);
    expect(r.adapt).toEqual({ top_k: 'off', n_per_request: '1' });
    expect(r.distinct_texts).toBe(1);
    expect(r.warnings.join('\n')).toMatch(/samples greedily/);
    expect(r.warnings.join('\n')).toMatch(/top_k=off/);
    // It says finish_reason "stop" for a cut answer: flagged too.
    expect(r.finish_reason_length).toBe(false);
  });

  it('warns when the same seed does not give the same text (no common random numbers)', async () => {
    let k = 0;
    server.responder = () => `answer ${k++}`;
    const r = await probeEndpoint({ baseURL: server.baseURL, model: FAKE_MODEL });
    expect(r.seed_repeats).toBe(false);
    expect(r.warnings.join('\n')).toMatch(/seeds are not honoured/);
  });

  it('is a usage error when the endpoint refuses the plainest request or does not answer', async () => {
    server.rejectFields = ['messages'];
    await expect(probeEndpoint({ baseURL: server.baseURL, model: FAKE_MODEL })).rejects.toBeInstanceOf(UsageError);
    await expect(probeEndpoint({ baseURL: 'http://127.0.0.1:9/v1', model: 'm', timeoutMs: 2000 })).rejects.toThrow(/did not answer/);
  });
});

describe('llm-auction probe', () => {
  const quiet = async (f: () => Promise<number>) => {
    const write = process.stdout.write;
    let text = '';
    process.stdout.write = ((c: string) => {
      text += c;
      return true;
    }) as typeof process.stdout.write;
    try {
      return { code: await f(), text };
    } finally {
      process.stdout.write = write;
    }
  };

  it('exits 0 on an endpoint with nothing to adapt, 3 with the adapted spec otherwise', async () => {
    server.cutAtMaxTokens = true;
    const spec = `openai:${server.baseURL}?model=${FAKE_MODEL}`;
    expect((await quiet(() => runProbe({ mechanism: spec }))).code).toBe(0);
    server.reset();
    server.rejectFields = ['top_k'];
    server.capN = 1;
    const json = join(mkdtempSync(join(tmpdir(), 'probe-')), 'probe.json');
    const r = await quiet(() => runProbe({ mechanism: spec, json }));
    expect(r.code).toBe(3);
    expect(r.text).toMatch(/refused: HTTP 422/);
    const out = JSON.parse(readFileSync(json, 'utf8'));
    expect(out.adapted_spec).toBe(`${spec}&top_k=off&n_per_request=1`);
  });

  it('refuses a spec that is not an endpoint, saying what to give', async () => {
    await expect(runProbe({ mechanism: 'embedded:optimal' })).rejects.toThrow(/openai:URL\?model=NAME/);
  });
});

describe('runs probe the endpoint first and adapt to it', () => {
  const world = embeddedWorld(0);
  const q = world.queries[0]!;
  const input = auctionInput(q, world.profiles.find((p) => p.id === q.profile_id)!, world.catalog, { seed: 0, stage: 'test', epoch: 0, candidates: 4 });
  const transformersLike = () => {
    server.reset();
    forgetEndpoints();
    server.rejectFields = ['top_k'];
    server.capN = 1;
  };

  it('a transformers-serve-like endpoint: top_k off and one response per request, set for the run, and the run works', async () => {
    transformersLike();
    const notes: string[] = [];
    const params = await adaptToEndpoint(server.baseURL, { model: FAKE_MODEL }, (l) => notes.push(l), {});
    expect(params).toMatchObject({ top_k: 'off', n_per_request: '1' });
    expect(notes[0]).toMatch(/probed .* using top_k=off, n_per_request=1/);
    expect(notes.some((l) => /^warning: .*top_k is refused/.test(l))).toBe(true);
    // The same endpoint is probed once per run, whatever the number of rules over it.
    const asked = server.requests;
    await adaptToEndpoint(server.baseURL, { model: FAKE_MODEL }, () => {}, {});
    expect(server.requests).toBe(asked);
    // Through a spec, as every command resolves it: three responses, none refused.
    const rule = await resolveRule(`openai:${server.baseURL}?model=${FAKE_MODEL}&probe=on&cache=off&max_retries=0`);
    const out = await rule.sample(input, 3, { seed: 1 });
    expect(out).toHaveLength(3);
    expect(server.bodies.slice(-3).every((b) => !('top_k' in b) && (b.n ?? 1) === 1)).toBe(true);
  });

  it('keeps what the spec set, and does not probe with probe=off (where the same run fails on top_k)', async () => {
    transformersLike();
    const kept = await adaptToEndpoint(server.baseURL, { model: FAKE_MODEL, top_k: '20' }, () => {}, {});
    expect(kept.top_k).toBe('20');
    expect(kept.n_per_request).toBe('1');
    transformersLike();
    const off = await adaptToEndpoint(server.baseURL, { model: FAKE_MODEL, probe: 'off' }, () => {}, {});
    expect(off).toEqual({ model: FAKE_MODEL, probe: 'off' });
    expect(server.requests).toBe(0);
    const rule = await resolveRule(`openai:${server.baseURL}?model=${FAKE_MODEL}&probe=off&cache=off&max_retries=0`);
    await expect(rule.sample(input, 2, { seed: 1 })).rejects.toThrow(/422/);
    // $LLM_AUCTION_PROBE=off is the default's off switch; a spec's probe=on still wins.
    transformersLike();
    expect(await adaptToEndpoint(server.baseURL, { model: FAKE_MODEL }, () => {}, { LLM_AUCTION_PROBE: 'off' })).toEqual({ model: FAKE_MODEL });
    expect((await adaptToEndpoint(server.baseURL, { model: FAKE_MODEL, probe: 'on' }, () => {}, { LLM_AUCTION_PROBE: 'off' })).top_k).toBe('off');
  });

  it('an endpoint that cannot be probed is used as the spec says, with a note', async () => {
    forgetEndpoints();
    const notes: string[] = [];
    const params = await adaptToEndpoint('http://127.0.0.1:9/v1', { model: 'm', timeout_ms: '2000' }, (l) => notes.push(l), {});
    expect(params).toEqual({ model: 'm', timeout_ms: '2000' });
    expect(notes.join('\n')).toMatch(/could not probe/);
  });
});

