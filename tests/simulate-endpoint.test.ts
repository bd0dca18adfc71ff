/**
 * The environment against an OpenAI-compatible endpoint, end to end through the CLI: the Ad-LLM,
 * the LLM-as-a-judge user and LLM-written queries all come from a local fake server.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeOpenAIServer, type FakeOpenAIServer } from './helpers/fake-openai-server.ts';

const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'llm-auction-endpoint-'));
let server: FakeOpenAIServer;

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, OPENAI_API_KEY: 'test' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => resolve({ code, out, err }));
  });
}

beforeAll(async () => {
  server = await startFakeOpenAIServer();
  server.responder = (body) => {
    const prompt = body.messages?.map((m) => m.content).join('\n') ?? '';
    if (prompt.includes('"Ad ID"')) return undefined; // the Ad-LLM: the server's default answer inserts a candidate
    const ids = [...new Set(prompt.match(/\[(Ad-[A-Za-z0-9_-]+)\]/g) ?? [])].map((s) => s.slice(1, -1));
    if (ids.length > 0) {
      // The judge: click the first ad, in a code fence with some chatter around it.
      return 'Sure!\n```json\n' + JSON.stringify(ids.map((id, k) => ({ ad_id: id, clicked: k === 0, reason: 'fits the question' }))) + '\n```';
    }
    return '1. What running shoes suit a beginner?\n2. How do I plan a weekend trip on a budget?\n3. Which houseplants survive low light?';
  };
});
afterAll(async () => server.close());

describe('simulate against an OpenAI-compatible endpoint', () => {
  it('uses the endpoint as Ad-LLM and as the judging user, and a re-run is served from the cache', async () => {
    const spec = `openai:${server.baseURL}?model=fake-model&cache=${join(root, 'cache')}`;
    const args = ['simulate', '-m', spec, '--user', spec, '--limit', '6', '--samples', '2', '--seed', '3'];
    const a = await cli([...args, '--out', join(root, 'a')]);
    expect(a.code, a.err).toBe(0);
    const eps = readFileSync(join(root, 'a', 'episodes.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(eps).toHaveLength(12);
    expect(eps.every((e) => e.exposures.length === 1 && e.clicks.length === 1 && e.user.startsWith('judge:'))).toBe(true);
    expect(eps.every((e) => e.revenue === e.bids[e.clicks[0]])).toBe(true);
    const before = server.requests;
    const b = await cli([...args, '--out', join(root, 'b')]);
    expect(b.code, b.err).toBe(0);
    expect(server.requests).toBe(before);
    expect(readFileSync(join(root, 'b', 'episodes.jsonl'), 'utf8')).toBe(readFileSync(join(root, 'a', 'episodes.jsonl'), 'utf8'));
  });

  it('lets the user LLM write the queries from the profiles', async () => {
    const spec = `openai:${server.baseURL}?model=fake-model&cache=off`;
    const r = await cli(['simulate', '-m', 'embedded:pretrained', '--user', spec, '--queries', 'generate', '--queries-per-profile', '3', '--limit', '5', '--out', join(root, 'gen')]);
    expect(r.code, r.err).toBe(0);
    const qs = readFileSync(join(root, 'gen', 'queries.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(qs).toHaveLength(5);
    expect(qs[0]).toMatchObject({ id: 'Q-G-U-0001-1', profile_id: 'U-0001', text: 'What running shoes suit a beginner?', split: 'test' });
    expect(readFileSync(join(root, 'gen', 'episodes.jsonl'), 'utf8').trim().split('\n')).toHaveLength(5);
  });

  it('fails with exit 2 and one line when the endpoint refuses the model', async () => {
    server.enqueue({ status: 404, message: 'model not found' });
    const r = await cli(['simulate', '-m', `openai:${server.baseURL}?model=nope&cache=off`, '--limit', '1', '--out', join(root, 'bad')]);
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/404/);
  });
});
