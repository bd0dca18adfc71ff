/**
 * `probeEndpoint` against endpoints that behave like vLLM and like `transformers serve` (which
 * refuses top_k, answers one choice whatever n asks, and samples greedily), played by the fake
 * OpenAI server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../lib/errors.ts';
import { EngineDiedError, probeEndpoint } from '../models/probe.ts';
import { runProbe } from '../cli/commands/probe.ts';
import { resolveRule } from '../evaluation/resolve.ts';
import { adaptToEndpoint, forgetEndpoints } from '../models/backends/served-limits.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { embeddedWorld } from '../simulation/world.ts';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_MODEL, startFakeOpenAIServer, type FakeOpenAIServer } from './helpers/fake-openai-server.ts';
import { runCli } from './helpers/run-cli.ts';

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


describe("the probe's concurrent seeded burst", () => {
  // vLLM's CPU build with chunked prefill on answers every single request, then dies under
  // concurrent seeded n > 1 requests; the fake plays that with dieAtSeededInFlight.
  const dying = () => {
    server.reset();
    forgetEndpoints();
    server.latencyMs = 40; // so the burst's requests are really in flight together
    server.dieAtSeededInFlight = 4;
  };

  it('an engine that dies under the burst is an EngineDiedError naming the cause and the flags that avoid it', async () => {
    dying();
    const err = await probeEndpoint({ baseURL: server.baseURL, model: FAKE_MODEL, burst: { concurrency: 8, n: 4 } }).catch((e: unknown) => e);
    expect(server.dead).toBe(true);
    expect(err).toBeInstanceOf(EngineDiedError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/stopped answering after a burst of 8 concurrent seeded requests of n = 4/);
    expect(msg).toMatch(/chunked prefill on vLLM's CPU build/);
    expect(msg).toMatch(/--no-enable-chunked-prefill --max-num-batched-tokens 8192/);
    expect(msg.split('\n')).toHaveLength(1);
    // Every burst request was seeded (each its own seed) and asked n = 4.
    const burst = server.bodies.filter((b) => typeof b.seed === 'number' && b.seed >= 2000);
    expect(burst.length).toBeGreaterThanOrEqual(4);
    expect(new Set(burst.map((b) => b.seed)).size).toBe(burst.length);
    expect(burst.every((b) => b.n === 4)).toBe(true);
  });

  it('controls: the same endpoint that does not die passes, and without the burst the dying one is not caught', async () => {
    server.reset();
    server.latencyMs = 40;
    const r = await probeEndpoint({ baseURL: server.baseURL, model: FAKE_MODEL, burst: { concurrency: 8, n: 4 } });
    expect(r.burst).toMatchObject({ requests: 8, n: 4, seeded: true, answered: 8, failures: [], alive: true });
    expect(server.maxInFlight).toBeGreaterThanOrEqual(4);
    dying();
    const skipped = await probeEndpoint({ baseURL: server.baseURL, model: FAKE_MODEL, burst: null });
    expect(skipped.burst).toBeNull();
    expect(server.dead).toBe(false);
  });

  it('long seeded prompts beside the burst: an engine that dies only when two are read at once is caught even with n = 1 (control: no seeds, no death)', async () => {
    // The long prompts' characters: two in flight together exceed the "step", one does not.
    const longChars = (k: number) => server.bodies.filter((b) => typeof b.seed === 'number' && b.seed >= 3000)[k]?.messages?.reduce((a, m) => a + m.content.length, 0) ?? 0;
    server.reset();
    forgetEndpoints();
    server.latencyMs = 40;
    server.capN = 1; // the short burst goes with n = 1, so dieAtSeededInFlight could not fire
    const ok = await probeEndpoint({ baseURL: server.baseURL, model: FAKE_MODEL, burst: { concurrency: 4, n: 4 } });
    expect(ok.burst!.long_prompts).toMatchObject({ requests: 3, answered: 3, refused: null });
    expect(ok.burst!.long_prompts.approx_tokens).toBeGreaterThan(1000);
    const chars = longChars(0);
    expect(chars).toBeGreaterThan(3000);
    expect(longChars(1)).toBeGreaterThan(3000);

    server.reset();
    server.latencyMs = 40;
    server.capN = 1;
    server.dieAtSeededPromptChars = Math.floor(1.5 * chars);
    const err = await probeEndpoint({ baseURL: server.baseURL, model: FAKE_MODEL, burst: { concurrency: 4, n: 4 } }).catch((e: unknown) => e);
    expect(server.dead).toBe(true);
    expect(err).toBeInstanceOf(EngineDiedError);
    expect((err as Error).message).toMatch(/stopped answering after a burst of 4 concurrent seeded requests and 3 seeded requests of about \d+ prompt tokens.*read in two steps.*--no-enable-chunked-prefill/);

    server.reset();
    server.latencyMs = 40;
    server.capN = 1;
    server.rejectFields = ['seed'];
    server.dieAtSeededPromptChars = Math.floor(1.5 * chars);
    const control = await probeEndpoint({ baseURL: server.baseURL, model: FAKE_MODEL, burst: { concurrency: 4, n: 4 } });
    expect(server.dead).toBe(false);
    expect(control.burst).toMatchObject({ seeded: false, alive: true });
  });

  it('long prompts a short context refuses are a warning that the check was not made, not a failure of the engine', async () => {
    server.reset();
    forgetEndpoints();
    server.maxPromptChars = 2000;
    const r = await probeEndpoint({ baseURL: server.baseURL, model: FAKE_MODEL, burst: { concurrency: 4, n: 4 } });
    expect(r.burst).toMatchObject({ answered: 4, failures: [], alive: true });
    expect(r.burst!.long_prompts.answered).toBe(0);
    expect(r.burst!.long_prompts.refused).toMatch(/HTTP 400/);
    expect(r.warnings.join('\n')).toMatch(/long prompts .* were refused .* not checked/);
    expect(r.warnings.join('\n')).not.toMatch(/concurrent requests failed/);
  });

  it('n is asked only where it is honoured, seeds only where taken', async () => {
    server.reset();
    server.capN = 1;
    server.rejectFields = ['seed'];
    const r = await probeEndpoint({ baseURL: server.baseURL, model: FAKE_MODEL, burst: { concurrency: 3, n: 4 } });
    expect(r.burst).toMatchObject({ requests: 3, n: 1, seeded: false, answered: 3, alive: true });
  });

  it('probe exits 2 with one line; simulate stops before any episode is written, and writes them all on the control', async () => {
    dying();
    const spec = `openai:${server.baseURL}?model=${FAKE_MODEL}&concurrency=8&n_per_request=4&cache=off&max_retries=0`;
    const p = await runCli(['probe', '-m', spec]);
    expect(p.code).toBe(2);
    expect(p.err.trim().split('\n')).toHaveLength(1);
    expect(p.err).toMatch(/--no-enable-chunked-prefill/);

    // (vitest sets LLM_AUCTION_PROBE=off for the other tests' fakes: probe=on asks for it here.)
    const dir = mkdtempSync(join(tmpdir(), 'probe-burst-'));
    const episodes = (name: string) => {
      const f = join(dir, name, 'episodes.jsonl');
      return existsSync(f) ? readFileSync(f, 'utf8').trim() : '';
    };
    dying();
    const s = await runCli(['simulate', '-m', `${spec}&probe=on`, '--limit', '4', '--samples', '4', '--out', join(dir, 'dead')]);
    expect(s.code, s.err).toBe(2);
    expect(s.err.trim().split('\n').filter((l) => /stopped answering/.test(l))).toHaveLength(1);
    expect(s.err).toMatch(/stopped answering after a burst of 8 concurrent seeded requests of n = 4.*--no-enable-chunked-prefill/);
    expect(episodes('dead')).toBe('');
    // Without the probe the same run dies later and says only that the connection failed.
    dying();
    const blind = await runCli(['simulate', '-m', `${spec}&probe=off`, '--limit', '4', '--samples', '4', '--out', join(dir, 'blind')]);
    expect(blind.code).toBe(2);
    expect(blind.err).not.toMatch(/chunked prefill/);
    expect(blind.err).toMatch(/0 of 16 episodes/);

    server.reset();
    forgetEndpoints();
    server.latencyMs = 40;
    const ok = await runCli(['simulate', '-m', `${spec}&probe=on`, '--limit', '4', '--samples', '4', '--out', join(dir, 'alive')]);
    expect(ok.code, ok.err).toBe(0);
    expect(ok.err).toMatch(/openai: probed /);
    expect(episodes('alive').split('\n')).toHaveLength(16);
  });
});
