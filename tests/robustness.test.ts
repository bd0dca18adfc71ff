/**
 * Hard to break: a faulty endpoint survived in one invocation, one writer per run
 * directory, stale locks of dead processes taken over, a stopped run resumed.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockHolder, lockRunDir } from '../simulation/run-lock.ts';
import { startFakeOpenAIServer, type FakeOpenAIServer } from './helpers/fake-openai-server.ts';

const BIN = new URL('../bin/llm-auction.js', import.meta.url).pathname;
const root = mkdtempSync(join(tmpdir(), 'llm-auction-robust-'));
let server: FakeOpenAIServer;

function cli(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, OPENAI_API_KEY: 'test' } });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
  return { child, done };
}

const episodes = (dir: string) =>
  readFileSync(join(dir, 'episodes.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { query_id: string; sample: number });

/** The query ids of the embedded world's first n test queries (what --limit n runs). */
async function testQueryIds(n: number): Promise<string[]> {
  const { embeddedWorld } = await import('../simulation/world.ts');
  return embeddedWorld(0)
    .queries.filter((q) => q.split === 'test')
    .slice(0, n)
    .map((q) => q.id);
}

function expectEachOnce(eps: { query_id: string; sample: number }[], ids: string[], samples: number) {
  const keys = eps.map((e) => `${e.query_id}#${e.sample}`);
  expect(new Set(keys).size).toBe(keys.length); // nothing repeated
  expect(new Set(keys)).toEqual(new Set(ids.flatMap((id) => Array.from({ length: samples }, (_, m) => `${id}#${m}`)))); // nothing lost
}

const deadPid = () => spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout.trim();

beforeAll(async () => {
  server = await startFakeOpenAIServer();
});
afterAll(async () => server.close());

describe('a faulty endpoint', () => {
  it('20% HTTP 500, 10% hangs, 5% truncated JSON, 5% empty choices: one invocation, every episode exactly once, traffic in the manifest', async () => {
    server.reset();
    server.faults = { error500: 0.2, hang: 0.1, truncated: 0.05, emptyChoices: 0.05, seed: 12 };
    const out = join(root, 'faulty');
    // Default retries and concurrency; a short timeout so the hung requests are given up quickly,
    // and a short backoff base so the test stays fast.
    const spec = `openai:${server.baseURL}?model=fake-model&cache=${join(root, 'cache-faulty')}&timeout_ms=1000&retry_base_ms=20`;
    const r = await cli(['simulate', '-m', spec, '--limit', '60', '--samples', '2', '--out', out]).done;
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/\n\s+at /); // no stack trace
    expectEachOnce(episodes(out), await testQueryIds(60), 2);
    // Every kind of fault happened, and was survived.
    expect(server.faultCounts.error500).toBeGreaterThan(0);
    expect(server.faultCounts.hang).toBeGreaterThan(0);
    expect(server.faultCounts.truncated).toBeGreaterThan(0);
    expect(server.faultCounts.emptyChoices).toBeGreaterThan(0);
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('complete');
    expect(manifest.endpoint.requests).toBe(server.requests);
    expect(manifest.endpoint.retries).toBeGreaterThan(0);
    expect(manifest.endpoint).toHaveProperty('failures');
    expect(existsSync(join(out, '.lock'))).toBe(false); // released
  });

  it('a refusal stops the run at once (exit 2, requests in flight aborted), and --resume finishes it', async () => {
    server.reset();
    // The first request is refused (401), late enough that the others have arrived; they would take
    // 10 minutes: they must be aborted, not awaited.
    server.enqueue({ status: 401, message: 'bad key', delayMs: 500 }, ...Array.from({ length: 20 }, () => ({ delayMs: 600_000 })));
    const out = join(root, 'refused');
    const spec = `openai:${server.baseURL}?model=fake-model&cache=off`;
    const r = await cli(['simulate', '-m', spec, '--limit', '12', '--concurrency', '4', '--out', out]).done;
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/401/);
    expect(r.err).toMatch(/--resume continues/);
    expect(server.requests).toBeGreaterThan(1); // others were in flight when it stopped
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    expect(manifest.status).toBe('stopped');
    expect(manifest.endpoint.failures).toBeGreaterThanOrEqual(1);
    server.reset();
    const again = await cli(['simulate', '-m', spec, '--limit', '12', '--concurrency', '4', '--out', out, '--resume']).done;
    expect(again.code, again.err).toBe(0);
    expectEachOnce(episodes(out), await testQueryIds(12), 1);
  });
});

describe('one writer per run directory', () => {
  it('refuses a second writer naming the holder, and takes over the lock of a killed one', async () => {
    server.reset();
    server.latencyMs = 150; // slow enough that the first writer is still running
    const out = join(root, 'two-writers');
    const args = ['simulate', '-m', `openai:${server.baseURL}?model=fake-model&cache=${join(root, 'cache-two')}`, '--limit', '40', '--concurrency', '1', '--out', out, '--resume'];
    const first = cli(args);
    const lock = join(out, '.lock');
    for (let t = 0; !existsSync(lock) && t < 600; t++) await new Promise((r) => setTimeout(r, 50));
    expect(lockHolder(out)?.pid).toBe(first.child.pid);
    const second = await cli(args).done;
    expect(second.code).toBe(2);
    expect(second.err.trim().split('\n')).toHaveLength(1);
    expect(second.err).toContain(`pid ${first.child.pid} on ${hostname()}, started ${lockHolder(out)!.started}`);
    // kill -9 the holder: its lock stays behind, naming a dead process; the next run takes it over.
    first.child.kill('SIGKILL');
    await first.done;
    expect(existsSync(lock)).toBe(true);
    server.latencyMs = 0;
    const third = await cli(args).done;
    expect(third.code, third.err).toBe(0);
    expectEachOnce(episodes(out), await testQueryIds(40), 1);
    expect(existsSync(lock)).toBe(false);
  });

  it('in process: re-entrant for its holder, stale lock of a dead pid taken over, a foreign file refused', () => {
    const dir = join(root, 'lock-unit');
    mkdirSync(dir, { recursive: true });
    const release = lockRunDir(dir, 'test');
    const inner = lockRunDir(dir, 'test');
    inner();
    expect(lockHolder(dir)?.pid).toBe(process.pid);
    release();
    expect(lockHolder(dir)).toBeUndefined();
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: Number(deadPid()), host: hostname(), started: '2020-01-01T00:00:00.000Z', command: 'dead' }));
    const again = lockRunDir(dir, 'test');
    expect(lockHolder(dir)?.pid).toBe(process.pid);
    again();
    writeFileSync(join(dir, '.lock'), JSON.stringify({ pid: 1, host: 'elsewhere', started: '2020-01-01T00:00:00.000Z', command: 'remote' }));
    expect(() => lockRunDir(dir, 'test')).toThrow(/pid 1 on elsewhere, started 2020-01-01T00:00:00.000Z \(remote\)/);
    writeFileSync(join(dir, '.lock'), 'garbage');
    expect(() => lockRunDir(dir, 'test')).toThrow(/does not name a holder/);
  });
});

describe('kill -9 and resume: train', () => {
  it('a training run killed mid-epoch resumes to the same metrics and policies as one that never stopped', async () => {
    const args = ['train', '--queries', '40', '--epochs', '2', '--seed', '5'];
    const full = join(root, 'train-full');
    const killed = join(root, 'train-killed');
    const a = await cli([...args, '--out', full]).done;
    expect(a.code, a.err).toBe(0);
    const run = cli([...args, '--out', killed]);
    // Kill it once epoch 2 has started writing its online data: epoch 1 done, epoch 2 half done.
    const marker = join(killed, 'epoch-2', 'online', 'episodes.jsonl');
    for (let t = 0; !existsSync(marker) && t < 6000; t++) await new Promise((r) => setTimeout(r, 5));
    run.child.kill('SIGKILL');
    const k = await run.done;
    expect(k.code).toBeNull(); // it was killed, not finished
    expect(existsSync(join(killed, 'epoch-2', 'policy.json'))).toBe(false);
    expect(lockHolder(killed)?.pid).toBe(run.child.pid); // its lock is left behind, naming a dead process
    const resumed = await cli([...args, '--out', killed, '--resume']).done;
    expect(resumed.code, resumed.err).toBe(0);
    // Metrics equal but for the wall-clock seconds each phase took.
    const metrics = (d: string) =>
      readFileSync(join(d, 'metrics.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => ({ ...JSON.parse(l), seconds: undefined }));
    expect(metrics(killed)).toEqual(metrics(full));
    expect(metrics(full)).toHaveLength(2);
    for (const file of ['epoch-1/policy.json', 'epoch-2/policy.json', 'epoch-2/online/episodes.jsonl', 'epoch-2/pairs.jsonl']) {
      expect(readFileSync(join(killed, file), 'utf8'), file).toBe(readFileSync(join(full, file), 'utf8'));
    }
    expect(existsSync(join(killed, '.lock'))).toBe(false);
  });
});

describe('kill -9 and resume: bench', () => {
  it('a bench killed mid-run resumes from its last finished query to the same Table 2 and episodes', async () => {
    const { statSync } = await import('node:fs');
    // rm=oracle: no logged-clicks pCTR fit in each of the three runs (what is tested is kill and resume).
    const args = ['bench', '-m', 'embedded:pretrained,mosaic:embedded:pretrained?n=3&rm=oracle', '--limit', '40', '--seed', '4'];
    const full = join(root, 'bench-full');
    const killed = join(root, 'bench-killed');
    const a = await cli([...args, '--out', full]).done;
    expect(a.code, a.err).toBe(0);
    const run = cli([...args, '--out', killed]);
    const progress = join(killed, 'bench-progress.jsonl');
    for (let t = 0; !(existsSync(progress) && statSync(progress).size > 12_000) && t < 6000; t++) await new Promise((r) => setTimeout(r, 5));
    run.child.kill('SIGKILL');
    const k = await run.done;
    expect(k.code).toBeNull(); // killed, not finished
    expect(existsSync(join(killed, 'bench.json'))).toBe(false);
    const done = readFileSync(progress, 'utf8').split('\n').length - 2;
    expect(done).toBeGreaterThan(0);
    expect(done).toBeLessThan(40);
    const resumed = await cli([...args, '--out', killed, '--resume']).done;
    expect(resumed.code, resumed.err).toBe(0);
    expect(readFileSync(join(killed, 'bench.json'), 'utf8')).toBe(readFileSync(join(full, 'bench.json'), 'utf8'));
    expect(readFileSync(progress, 'utf8')).toBe(readFileSync(join(full, 'bench-progress.jsonl'), 'utf8'));
    for (const f of ['embedded_pretrained.jsonl', 'mosaic_embedded_pretrained_n_3_rm_oracle.jsonl']) {
      expect(readFileSync(join(killed, 'bench-episodes', f), 'utf8'), f).toBe(readFileSync(join(full, 'bench-episodes', f), 'utf8'));
    }
  });
});

describe('interrupted', () => {
  it('SIGINT stops simulate at once (exit 2, requests in flight aborted, manifest "stopped"), and --resume finishes it', async () => {
    server.reset();
    server.enqueue(...Array.from({ length: 3 }, () => ({ content: 'Fine.' })), ...Array.from({ length: 20 }, () => ({ delayMs: 600_000 })));
    const out = join(root, 'interrupted');
    const spec = `openai:${server.baseURL}?model=fake-model&cache=off`;
    const args = ['simulate', '-m', spec, '--limit', '8', '--concurrency', '1', '--out', out];
    const run = cli(args);
    // Three auctions answer, the fourth hangs: interrupt then.
    for (let t = 0; server.requests < 4 && t < 1200; t++) await new Promise((r) => setTimeout(r, 25));
    run.child.kill('SIGINT');
    const r = await run.done;
    expect(r.code).toBe(2);
    expect(r.err.trim().split('\n')).toHaveLength(1);
    expect(r.err).toMatch(/interrupted by SIGINT .*3 of 8 episodes are in .*--resume continues/);
    expect(JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8')).status).toBe('stopped');
    expect(episodes(out)).toHaveLength(3);
    server.reset();
    const again = await cli([...args, '--resume']).done;
    expect(again.code, again.err).toBe(0);
    expectEachOnce(episodes(out), await testQueryIds(8), 1);
  });
});
