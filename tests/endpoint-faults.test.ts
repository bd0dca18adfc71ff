/**
 * An endpoint that fails in every way at once (20% HTTP 500, 10% never answered, 10% garbage
 * bodies, 5% 429, and a share of 200s whose choice has `content: null`): `simulate` and `verify`
 * each finish in one invocation and give exactly what the healthy endpoint gives for the same
 * seed. Nothing lost, nothing recorded from a malformed answer. The control: the same runs with the
 * content-null answer treated as text would differ (checked directly on the client).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient, LatencyWindow, TIMEOUT_FLOOR_MS, TIMEOUT_P99_MULTIPLE } from '../models/backends/chat-client.ts';
import { startFakeOpenAIServer, type FakeOpenAIServer } from './helpers/fake-openai-server.ts';
import { startFaultProxy, type FaultProxy } from './helpers/fault-proxy.ts';
import { runCli } from './helpers/run-cli.ts';

const root = mkdtempSync(join(tmpdir(), 'llm-auction-faults-'));
let server: FakeOpenAIServer;
let proxy: FaultProxy;
const MIX = { error500: 0.2, hang: 0.1, garbage: 0.05, nullContent: 0.05, error429: 0.05, seed: 7 };
// No cache (every answer is fetched), a short timeout for the hung requests, short backoffs.
const spec = (base: string) => `openai:${base}?model=fake-model&cache=off&timeout_ms=1500&retry_base_ms=5&retry_max_ms=50`;

const lines = (dir: string) =>
  readFileSync(join(dir, 'episodes.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { query_id: string; sample: number; response: string })
    .sort((a, b) => (a.query_id === b.query_id ? a.sample - b.sample : a.query_id < b.query_id ? -1 : 1));

beforeAll(async () => {
  server = await startFakeOpenAIServer();
  proxy = await startFaultProxy(server.baseURL, MIX);
  process.env.OPENAI_API_KEY ??= 'test';
});
afterAll(async () => {
  await proxy.close();
  await server.close();
});

describe('through a faulty endpoint', () => {
  it('simulate finishes in one invocation with every episode equal to the healthy run', async () => {
    const args = (base: string, out: string) => ['simulate', '-m', spec(base), '--limit', '30', '--samples', '2', '--out', out, '--json', '-'];
    const healthy = await runCli(args(server.baseURL, join(root, 'sim-healthy')), 120_000);
    expect(healthy.code, healthy.err).toBe(0);
    const faulty = await runCli(args(proxy.baseURL, join(root, 'sim-faulty')), 120_000);
    expect(faulty.code, faulty.err).toBe(0);
    expect(faulty.err).not.toMatch(/\n\s+at /);
    const a = lines(join(root, 'sim-healthy'));
    const b = lines(join(root, 'sim-faulty'));
    expect(a).toHaveLength(60);
    expect(b).toEqual(a);
    expect(b.every((e) => e.response !== '')).toBe(true);
    // Every kind of fault was met.
    for (const k of ['error500', 'error429', 'hang', 'garbage', 'nullContent'] as const) expect(proxy.counts[k], k).toBeGreaterThan(0);
  }, 240_000);

  it('verify finishes in one invocation with the healthy verdicts', async () => {
    const args = (base: string) => ['verify', '-m', spec(base), '--property', 'monotonicity', '--cases', '2', '--budget', '300', '--sampled', '--json', '-'];
    const before = proxy.counts.requests;
    const healthy = await runCli(args(server.baseURL), 120_000);
    expect([0, 1, 3], healthy.err).toContain(healthy.code);
    const faulty = await runCli(args(proxy.baseURL), 180_000);
    expect(faulty.code, faulty.err).toBe(healthy.code);
    expect(JSON.parse(faulty.out).properties).toEqual(JSON.parse(healthy.out).properties);
    expect(proxy.counts.requests - before).toBeGreaterThan(20);
  }, 360_000);
});

describe('a malformed answer is never an answer', () => {
  it('content: null is retried, not recorded as an empty response', async () => {
    const p = await startFaultProxy(server.baseURL, { nullContent: 1 });
    try {
      const client = new ChatClient({ baseURL: p.baseURL, model: 'fake-model', cacheDir: null, maxRetries: 2, retryBaseMs: 1, retryMaxMs: 2, apiKey: 'x' });
      await expect(client.chat([{ role: 'user', content: 'hi' }], { seed: 1 })).rejects.toThrow(/choice 0 has no text content/);
      expect(p.counts.nullContent).toBe(3); // the first try and two retries
    } finally {
      await p.close();
    }
  });
});

describe('the per-request timeout follows the observed latency', () => {
  it('is timeout_ms until 20 answers are timed, then 4x the p99 within [floor, timeout_ms], doubling per retry', () => {
    const client = new ChatClient({ baseURL: 'http://127.0.0.1:9/v1', model: 'm', cacheDir: null, timeoutMs: 120_000, apiKey: 'x' });
    expect(client.timeoutFor(0)).toBe(120_000);
    const w = (client as unknown as { latency: LatencyWindow }).latency;
    for (let i = 0; i < 100; i++) w.observe(i < 99 ? 1000 : 5000);
    // p99 of 99 x 1 s and one 5 s is 1 s: 4 s, raised to the floor.
    expect(client.timeoutFor(0)).toBe(TIMEOUT_FLOOR_MS);
    for (let i = 0; i < 200; i++) w.observe(8000);
    expect(client.timeoutFor(0)).toBe(TIMEOUT_P99_MULTIPLE * 8000);
    expect(client.timeoutFor(1)).toBe(2 * TIMEOUT_P99_MULTIPLE * 8000);
    expect(client.timeoutFor(5)).toBe(120_000); // capped
  });
});
