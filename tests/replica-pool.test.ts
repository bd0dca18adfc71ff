/**
 * Several replicas in one spec (`openai:URL1|URL2|…?model=M`, issue #27): balancing, prefix
 * affinity, failover, and a `simulate` that survives losing a replica with every episode equal to
 * a one-replica run's.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseOpenAISpec } from '../models/backends/openai-config.ts';
import { ReplicaPool, createChatClient, promptKey } from '../models/backends/replica-pool.ts';
import { ChatClient } from '../models/backends/chat-client.ts';
import { parseSpec } from '../evaluation/kinds/index.ts';
import { startFakeOpenAIServer, type FakeOpenAIServer } from './helpers/fake-openai-server.ts';

const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'llm-auction-replicas-'));
let servers: FakeOpenAIServer[] = [];

async function fleet(n: number): Promise<FakeOpenAIServer[]> {
  servers = await Promise.all(Array.from({ length: n }, () => startFakeOpenAIServer()));
  return servers;
}
afterEach(async () => {
  await Promise.all(servers.map((s) => s.close().catch(() => undefined)));
  servers = [];
});

const spec = (urls: string[], extra = '') => `openai:${urls.join('|')}?model=fake-model&cache=off&probe=off&retry_base_ms=1${extra}`;

describe('openai:URL1|URL2 spec', () => {
  it('parses into replicas, and refuses a bad or repeated one', () => {
    const c = parseOpenAISpec('openai:http://a:1/v1|http://b:2/v1?model=m');
    expect(c.replicas).toEqual(['http://a:1/v1', 'http://b:2/v1']);
    expect(c.baseURL).toBe('http://a:1/v1');
    expect(parseOpenAISpec('openai:http://a:1/v1?model=m').replicas).toEqual([]);
    expect(() => parseOpenAISpec('openai:http://a:1/v1|ftp://b?model=m')).toThrow(/must start with http/);
    expect(() => parseOpenAISpec('openai:http://a:1/v1|http://a:1/v1?model=m')).toThrow(/listed twice/);
    expect(parseSpec('openai:http://a:1/v1|http://b:2/v1?model=m')).toMatchObject({ kind: 'openai', baseURL: 'http://a:1/v1|http://b:2/v1' });
    expect(() => parseSpec('openai:http://a:1/v1|nope?model=m')).toThrow();
    expect(createChatClient(parseOpenAISpec('openai:http://a:1/v1?model=m'))).not.toBeInstanceOf(ReplicaPool);
    expect(createChatClient(parseOpenAISpec('openai:http://a:1/v1|http://b:2/v1?model=m'))).toBeInstanceOf(ReplicaPool);
  });
});

describe('ReplicaPool', () => {
  it('sends one prompt to one replica (affinity) and spreads many prompts over all', async () => {
    const [a, b, c] = await fleet(3);
    const pool = createChatClient(parseOpenAISpec(spec([a!.baseURL, b!.baseURL, c!.baseURL])));
    for (let s = 0; s < 6; s++) await pool.chat([{ role: 'user', content: 'the same auction' }], { seed: s });
    const counts = servers.map((x) => x.requests);
    expect(counts.filter((k) => k > 0)).toEqual([6]);
    await Promise.all(Array.from({ length: 60 }, (_, k) => pool.chat([{ role: 'user', content: `auction ${k}` }], { seed: 1 })));
    expect(servers.every((x) => x.requests >= 8)).toBe(true);
  });

  it('balances by outstanding requests when the preferred replica is full', async () => {
    const [a, b] = await fleet(2);
    a!.latencyMs = b!.latencyMs = 40;
    const pool = createChatClient(parseOpenAISpec(spec([a!.baseURL, b!.baseURL], '&concurrency=2')));
    // One prompt, 8 requests at once: affinity fills its replica's 2 slots, the rest go to the other.
    await Promise.all(Array.from({ length: 8 }, (_, s) => pool.chat([{ role: 'user', content: 'one prompt' }], { seed: s })));
    expect(a!.requests).toBeGreaterThan(0);
    expect(b!.requests).toBeGreaterThan(0);
    expect(Math.max(a!.maxInFlight, b!.maxInFlight)).toBeLessThanOrEqual(2);
  });

  it('drains a replica that refuses connections and answers from the others with the same texts', async () => {
    const [a, b] = await fleet(2);
    const one = new ChatClient(parseOpenAISpec(spec([a!.baseURL])));
    const pool = createChatClient(parseOpenAISpec(spec([a!.baseURL, b!.baseURL]))) as ReplicaPool;
    const prompts = Array.from({ length: 20 }, (_, k) => `auction ${k}`);
    const want = await Promise.all(prompts.map((p) => one.chat([{ role: 'user', content: p }], { seed: 9, n: 2 })));
    await b!.close();
    const got = await Promise.all(prompts.map((p) => pool.chat([{ role: 'user', content: p }], { seed: 9, n: 2 })));
    expect(got.map((r) => r.texts)).toEqual(want.map((r) => r.texts));
    const st = pool.stats();
    const rb = st.replicas.find((r) => r.url === b!.baseURL)!;
    expect(rb.drains).toBeGreaterThanOrEqual(1);
    expect(rb.failures).toBe(rb.requests);
    expect(st.failures).toBe(0);
    expect(st.retries).toBe(rb.failures); // each refused request was sent once more, elsewhere
    // Drained: the next wave goes to A alone (the requests sent before the first refusal raced it).
    await Promise.all(prompts.map((p) => pool.chat([{ role: 'user', content: `${p} again` }], { seed: 9 })));
    expect(pool.stats().replicas.find((r) => r.url === b!.baseURL)!.requests).toBe(rb.requests);
  });

  it('fails (retryable) when every replica is gone, after a bounded number of attempts', async () => {
    const [a, b] = await fleet(2);
    const pool = createChatClient(parseOpenAISpec(spec([a!.baseURL, b!.baseURL], '&max_retries=1'))) as ReplicaPool;
    await a!.close();
    await b!.close();
    await expect(pool.chat([{ role: 'user', content: 'x' }], { seed: 1 })).rejects.toMatchObject({ name: 'OpenAIBackendError', retryable: true });
    expect(pool.stats().requests).toBeLessThanOrEqual(3);
  });

  it('drains a replica after two timeouts in a row, and the judging user can be a pool too', async () => {
    const [a, b] = await fleet(2);
    const pool = createChatClient(parseOpenAISpec(spec([a!.baseURL, b!.baseURL], '&timeout_ms=300'))) as ReplicaPool;
    // Find a prompt that prefers A, then make A hang.
    const key = (p: string) => promptKey([{ role: 'user', content: p }]);
    const prompt = Array.from({ length: 50 }, (_, k) => `slow ${k}`).find((p) => pool.pick(key(p)).url === a!.baseURL)!;
    a!.latencyMs = 5_000;
    const first = await pool.chat([{ role: 'user', content: prompt }], { seed: 1 });
    expect(first.texts).toHaveLength(1);
    let ra = pool.stats().replicas.find((r) => r.url === a!.baseURL)!;
    expect(ra.drains).toBe(0); // one timeout: not drained yet, the request went to B
    await pool.chat([{ role: 'user', content: prompt }], { seed: 2 });
    ra = pool.stats().replicas.find((r) => r.url === a!.baseURL)!;
    expect(ra.drains).toBe(1);
    expect(ra.failures).toBe(2);
    expect(pool.pick(key(prompt)).url).toBe(b!.baseURL);
    const { createJudgeClickModel, judgeConfigFromParams } = await import('../simulation/judge.ts');
    const judge = createJudgeClickModel(judgeConfigFromParams(`${a!.baseURL}|${b!.baseURL}`, { model: 'fake-model' }));
    expect(judge.client).toBeInstanceOf(ReplicaPool);
  });

  it('retries a 503 without draining', async () => {
    const [a, b] = await fleet(2);
    const pool = createChatClient(parseOpenAISpec(spec([a!.baseURL, b!.baseURL]))) as ReplicaPool;
    a!.enqueue({ status: 503 });
    b!.enqueue({ status: 503 });
    const r = await pool.chat([{ role: 'user', content: 'y' }], { seed: 2 });
    expect(r.texts).toHaveLength(1);
    expect(pool.stats().replicas.every((x) => x.drains === 0)).toBe(true);
    expect(pool.stats().retries).toBe(2); // A 503, then B 503 (a retry avoids the replica that just failed), then A
  });
});

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, OPENAI_API_KEY: 'test', LLM_AUCTION_PROBE: 'off' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

describe('simulate over two replicas, one closed mid-run', () => {
  it('exits 0 with every episode equal to a one-replica run with the same seed', { timeout: 120_000 }, async () => {
    const [a, b] = await fleet(2);
    a!.latencyMs = b!.latencyMs = 15;
    const common = ['--limit', '40', '--samples', '3', '--seed', '5', '--concurrency', '8'];
    const one = await cli(['simulate', '-m', spec([a!.baseURL]), '--out', join(root, 'one'), ...common]);
    expect(one.code, one.err).toBe(0);
    const aBefore = a!.requests;
    // Close replica B once it has answered a few requests of the two-replica run.
    let closed = false;
    const watch = setInterval(() => {
      if (!closed && b!.requests >= 5) {
        closed = true;
        void b!.close();
      }
    }, 2);
    const two = await cli(['simulate', '-m', spec([a!.baseURL, b!.baseURL]), '--out', join(root, 'two'), ...common]);
    clearInterval(watch);
    expect(two.code, two.err).toBe(0);
    expect(closed).toBe(true);
    expect(a!.requests).toBeGreaterThan(aBefore);
    const eps = (d: string) => readFileSync(join(root, d, 'episodes.jsonl'), 'utf8');
    expect(eps('two').trim().split('\n')).toHaveLength(120);
    expect(eps('two')).toBe(eps('one'));
    const m = JSON.parse(readFileSync(join(root, 'two', 'manifest.json'), 'utf8'));
    expect(m.status).toBe('complete');
    const reps = m.endpoint.replicas as { url: string; requests: number; failures: number; drains: number }[];
    expect(reps.map((r) => r.url)).toEqual([a!.baseURL, b!.baseURL]);
    expect(reps[1]!.requests).toBeGreaterThanOrEqual(5);
    expect(reps[1]!.drains).toBeGreaterThanOrEqual(1);
    expect(m.endpoint.requests).toBe(reps[0]!.requests + reps[1]!.requests);
    // Control: the comparison can tell runs apart (another seed gives other episodes).
    const other = await cli(['simulate', '-m', spec([a!.baseURL]), '--out', join(root, 'other'), ...common.slice(0, 4), '--seed', '6']);
    expect(other.code, other.err).toBe(0);
    expect(eps('other')).not.toBe(eps('one'));
  });
});
