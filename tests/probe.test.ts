/**
 * `probeEndpoint` against endpoints that behave like vLLM and like `transformers serve` (which
 * refuses top_k, answers one choice whatever n asks, and samples greedily), played by the fake
 * OpenAI server.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../lib/errors.ts';
import { probeEndpoint } from '../models/probe.ts';
import { runProbe } from '../cli/commands/probe.ts';
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
