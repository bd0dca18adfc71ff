/**
 * Throughput of the simulation environment (issue: simulation environment).
 *
 * 1. The embedded world at the paper's scale: 15k queries x 10 samples, with clicks, payments and
 *    rewards, written to a run directory. Target: under 5 minutes on 2 cores.
 * 2. The `openai:` backend against a local endpoint with a fixed 50 ms latency, served from a
 *    separate process so only the suite's own CPU is counted. Target: throughput within 10% of
 *    concurrency / latency, and under 1 ms of the suite's CPU per request.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createOpenAIRule } from '../models/backends/openai-rule.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { EmbeddedPolicy } from '../simulation/embedded-policy.ts';
import { runSimulation } from '../simulation/run.ts';
import { ParametricUser } from '../simulation/user-model.ts';
import { embeddedWorld } from '../simulation/world.ts';
import { writeResult, type Target } from './lib.ts';

const quick = process.argv.includes('--quick');
const targets: Target[] = [];
const notes: string[] = [];
const extra: Record<string, unknown> = {};

// 1. Endpoint efficiency (first, in a fresh heap: the embedded run leaves a large one behind): a fake OpenAI-compatible server in another process, 50 ms per request.
{
  const server = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fake-endpoint.ts', import.meta.url)), '50'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const baseURL = await new Promise<string>((resolve) => server.stdout!.once('data', (d: Buffer) => resolve(d.toString().trim())));
  const world = embeddedWorld(0);
  const profiles = new Map(world.profiles.map((p) => [p.id, p]));
  const requests = quick ? 300 : 1200;
  const inputs = world.queries.slice(0, requests).map((q) => auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: 0, stage: 'bench', epoch: 0, candidates: 10 }));
  // Warm-up: the first few hundred requests pay for JIT compilation and connection set-up.
  const warm = createOpenAIRule({ baseURL, model: 'fake-model', concurrency: 16, cacheDir: null, maxNPerRequest: 1 });
  await Promise.all(inputs.slice(0, 300).map((input, k) => warm.sample(input, 1, { seed: 10_000 + k })));
  for (const concurrency of [4, 8, 16]) {
    const rule = createOpenAIRule({ baseURL, model: 'fake-model', concurrency, cacheDir: null, maxNPerRequest: 1 });
    await Promise.all(inputs.slice(0, 200).map((input, k) => rule.sample(input, 1, { seed: 20_000 + k })));
    (globalThis as { gc?: () => void }).gc?.();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await Promise.all(inputs.map((input, k) => rule.sample(input, 1, { seed: k })));
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const rate = requests / secs;
    const ideal = concurrency / 0.05;
    const cpuMs = (cpu.user + cpu.system) / 1000 / requests;
    targets.push({ what: `endpoint throughput, concurrency ${concurrency}, 50 ms latency`, target: `>= 90% of ${ideal} req/s`, measured: `${rate.toFixed(1)} req/s (${((100 * rate) / ideal).toFixed(0)}%)`, met: rate >= 0.9 * ideal });
    targets.push({ what: `suite CPU per request, concurrency ${concurrency}`, target: '< 1 ms', measured: `${cpuMs.toFixed(2)} ms`, met: cpuMs < 1 });
    extra[`endpoint_c${concurrency}`] = { requests, seconds: secs, req_per_s: rate, cpu_ms_per_request: cpuMs };
  }
  server.kill();
  notes.push(
    `endpoint figures: ${requests} requests per concurrency level after 300 warm-up requests; they include building the Ad-LLM prompt, the request hash, the openai client over keep-alive node:http, and reading the reply; the server runs in a separate process`,
  );
}

// 2. Embedded world at paper scale.
{
  const world = embeddedWorld(0);
  const profiles = new Map(world.profiles.map((p) => [p.id, p]));
  const queries = quick ? world.queries.slice(0, 1500) : world.queries;
  const samples = 10;
  const items = queries.map((q) => ({
    queryId: q.id,
    input: auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: 0, stage: 'bench', epoch: 0, candidates: 10 }),
  }));
  const out = mkdtempSync(join(tmpdir(), 'llm-auction-bench-env-'));
  const policy = new EmbeddedPolicy();
  const t0 = performance.now();
  await runSimulation({
    out,
    items,
    episode: { rule: policy.rule(), clicks: new ParametricUser(), seed: 0, samples, stage: 'bench', epoch: 0 },
    manifest: { kind: 'bench', seed: 0, config: {}, versions: {} },
  });
  const secs = (performance.now() - t0) / 1000;
  rmSync(out, { recursive: true, force: true });
  const episodes = queries.length * samples;
  const projected = (secs * 150_000) / episodes;
  targets.push({
    what: `embedded environment, 15k queries x 10 samples with clicks${quick ? ' (projected from 1.5k)' : ''}`,
    target: '< 300 s on 2 cores',
    measured: `${projected.toFixed(0)} s (${Math.round(episodes / secs).toLocaleString('en-US')} episodes/s)`,
    met: projected < 300,
  });
  extra.embedded = { queries: queries.length, samples, seconds: secs, episodes_per_s: episodes / secs };
}

const result = writeResult({ suite: 'environment', tasks: [], targets, notes, extra });
for (const t of result.targets) console.log(`${t.met ? 'met ' : 'MISS'}  ${t.what}: ${t.measured} (target ${t.target})`);
