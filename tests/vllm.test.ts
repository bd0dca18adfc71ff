/**
 * vLLM as the suite's reference endpoint: the real server (its CPU build, scripts/vllm-serve.sh)
 * serving the project's SmolLM2, started once, and the commands a user runs against it: `probe`,
 * a seeded concurrent `simulate` with n > 1, a `bench` with paired rows, `verify` at a small budget,
 * `score=` refused on this LoRA-enabled server, and a PEFT adapter loaded, used and unloaded
 * through vLLM's own /v1/load_lora_adapter. Then a second server without LoRA, where sampled
 * answers are scored at other bids (`score=prompt-logprobs`, models/backends/prompt-scorer.ts).
 *
 * Then the crash that the probe's burst is there to catch: vLLM started with chunked prefill on
 * dies under concurrent seeded requests ("CPU Generator does not use offset"); a `simulate` that
 * probes first stops with exit 2 and the flags that avoid it, before any episode is written. The
 * control is the first part: the same commands against the server started with the workaround.
 *
 * Skips, saying why, when the venv is absent (`bash scripts/vllm-serve.sh --install-only` makes
 * it; CI does) or LLM_AUCTION_VLLM=off. LLM_AUCTION_VLLM_CRASH=off skips only the crash part.
 * Every server started here is stopped in afterAll, and on the test process's exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuctionInput } from '../mechanism/types.ts';

const ROOT = resolve(import.meta.dirname, '..');
const VENV = process.env.VLLM_VENV ?? join(ROOT, '.cache/venv-vllm');
const PY = join(VENV, 'bin/python');
const REQ = join(ROOT, 'scripts/vllm-requirements.txt');
const GGUF = join(ROOT, '.cache/models/smollm2/SmolLM2-135M-Instruct.Q4_1.gguf');
const HF = join(ROOT, '.cache/models/smollm2-hf/model.safetensors');
const BIN = join(ROOT, 'bin/llm-auction.js');

function whySkip(): string | null {
  if (/^(0|false|no|off)$/i.test(process.env.LLM_AUCTION_VLLM ?? '')) return 'LLM_AUCTION_VLLM=off';
  if (!existsSync(PY)) return `no vLLM venv at ${VENV} (bash scripts/vllm-serve.sh --install-only makes it)`;
  const stamp = existsSync(join(VENV, '.requirements')) ? readFileSync(join(VENV, '.requirements'), 'utf8') : '';
  if (stamp.trim() !== readFileSync(REQ, 'utf8').trim()) return `the venv at ${VENV} is not scripts/vllm-requirements.txt's (bash scripts/vllm-serve.sh --install-only updates it)`;
  if (!existsSync(HF) && !existsSync(GGUF)) return 'SmolLM2 was not fetched (bash scripts/fetch-models.sh smollm2)';
  return null;
}
const SKIP = whySkip();
const CRASH_SKIP = SKIP ?? (/^(0|false|no|off)$/i.test(process.env.LLM_AUCTION_VLLM_CRASH ?? '') ? 'LLM_AUCTION_VLLM_CRASH=off' : null);
const work = mkdtempSync(join(tmpdir(), 'llm-auction-vllm-'));
const started = Date.now();
const timings: Record<string, number> = {};
/** What each step found, written to $LLM_AUCTION_VLLM_RECORD when set (benchmarks/vllm-cpu.ts records it). */
const record: Record<string, unknown> = { load_average_start: loadavg() };
const timed = async <T>(label: string, f: () => Promise<T>): Promise<T> => {
  const t0 = Date.now();
  try {
    return await f();
  } finally {
    timings[label] = (Date.now() - t0) / 1000;
    process.stderr.write(`[vllm.test] ${label}: ${timings[label]!.toFixed(1)} s\n`);
  }
};

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

interface Served {
  child: ChildProcess;
  url: string;
  log: string;
  exited: Promise<number | null>;
}
const running = new Set<ChildProcess>();
// The server runs in its own process group (its engine and workers are children): stop them all.
const killGroup = (c: ChildProcess, signal: NodeJS.Signals) => {
  try {
    process.kill(-c.pid!, signal);
  } catch {
    // already gone
  }
};
process.on('exit', () => {
  for (const c of running) killGroup(c, 'SIGKILL');
});

/** scripts/vllm-serve.sh in the background; resolves when it prints its ready line. */
async function startVllm(name: string, extra: string[] = []): Promise<Served> {
  const port = await freePort();
  const log = join(work, `${name}.log`);
  const out = createWriteStream(log);
  const child = spawn('bash', [join(ROOT, 'scripts/vllm-serve.sh'), '--port', String(port), ...extra], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  void exited.then(() => running.delete(child));
  let text = '';
  const ready = new Promise<void>((res, rej) => {
    const onData = (d: Buffer) => {
      out.write(d);
      text += d.toString();
      if (/\[vllm-serve\] ready: /.test(text)) res();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => rej(new Error(`vllm-serve.sh exited with ${code} before it was ready; its log (${log}) ends:\n${text.slice(-3000)}`)));
  });
  await ready;
  return { child, url: `http://127.0.0.1:${port}/v1`, log, exited };
}

async function stopVllm(s: Served | undefined): Promise<void> {
  if (!s || s.child.exitCode !== null || s.child.signalCode !== null) return;
  killGroup(s.child, 'SIGTERM');
  const gone = await Promise.race([s.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000))]);
  if (!gone) killGroup(s.child, 'SIGKILL');
  // The group's other members (engine core, workers) may outlive the script by a moment.
  killGroup(s.child, 'SIGKILL');
}

function cli(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, [BIN, '--ad-template', 'compact', ...args], { cwd: ROOT, env: { ...process.env, LLM_AUCTION_PROGRESS_MS: '0' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) => res({ code, out, err }));
  });
}

async function models(url: string): Promise<string[]> {
  const r = await fetch(`${url}/models`, { signal: AbortSignal.timeout(10_000) });
  expect(r.status).toBe(200);
  return ((await r.json()) as { data: { id: string }[] }).data.map((m) => m.id);
}

async function chat(url: string, model: string, seed: number): Promise<{ status: number; text: string }> {
  const r = await fetch(`${url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'Name a fruit.' }], max_tokens: 12, temperature: 1, seed }),
    signal: AbortSignal.timeout(120_000),
  });
  const body = await r.text();
  return { status: r.status, text: r.ok ? ((JSON.parse(body) as { choices: { message: { content: string } }[] }).choices[0]!.message.content) : body };
}

/** A server for the describe block that calls this: started before its tests, stopped after them. */
function serverForBlock(label: string, name: string, extra: string[]): () => Served {
  let served: Served | undefined;
  beforeAll(async () => {
    served = await timed(label, () => startVllm(name, extra));
  }, 900_000);
  afterAll(async () => {
    await stopVllm(served);
  }, 60_000);
  return () => served!;
}

const lines = (f: string) => (existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : []);

describe.skipIf(SKIP !== null)(`vLLM's CPU build as the reference endpoint${SKIP ? ` [skipped: ${SKIP}]` : ''}`, () => {
  let vllm: Served | undefined;
  let spec = '';
  let adapter = '';
  beforeAll(async () => {
    // A tiny PEFT LoRA adapter for the model, with random B (PEFT's default B = 0 would not change
    // the text), made from the model copy the script makes if it is missing.
    adapter = join(work, 'adapter');
    const makeAdapter = () => new Promise<void>((res, rej) => {
      const py = spawn(PY, ['-c', [
        'import sys, torch',
        'from transformers import AutoModelForCausalLM',
        'from peft import LoraConfig, get_peft_model',
        'torch.manual_seed(0)',
        'm = AutoModelForCausalLM.from_pretrained(sys.argv[1], dtype=torch.float32)',
        'p = get_peft_model(m, LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"], init_lora_weights=False))',
        'p.save_pretrained(sys.argv[2])',
      ].join('\n'), join(ROOT, '.cache/models/smollm2-hf'), adapter], { env: { ...process.env, HF_HUB_OFFLINE: '1', TRANSFORMERS_OFFLINE: '1' }, stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      py.stderr.on('data', (d) => (err += d));
      py.on('exit', (code) => (code === 0 ? res() : rej(new Error(`making the PEFT adapter failed (${code}): ${err.slice(-2000)}`))));
    });
    vllm = await timed('start (scripts/vllm-serve.sh to ready)', () => startVllm('vllm'));
    await timed('make a PEFT adapter', makeAdapter);
    spec = `openai:${vllm.url}?model=smollm2&max_tokens=32&cache=off`;
  }, 900_000);
  afterAll(async () => {
    await stopVllm(vllm);
  }, 60_000);

  it('probe: every field honoured, seeds repeat, and the engine survives the concurrent seeded burst', async () => {
    const json = join(work, 'probe.json');
    const r = await timed('probe', () => cli(['probe', '-m', `${spec}&concurrency=16&n_per_request=4`, '--json', json]));
    expect(r.code, r.err + r.out).toBe(0);
    const p = JSON.parse(readFileSync(json, 'utf8'));
    record.probe = { exit: r.code, burst: p.burst, warnings: p.warnings };
    expect(Object.values(p.fields as Record<string, { accepted: boolean }>).every((f) => f.accepted)).toBe(true);
    expect(p).toMatchObject({ n_returned: 3, seed_repeats: true, logprobs_returned: true, finish_reason_length: true, warnings: [] });
    expect(p.burst).toMatchObject({ requests: 16, n: 4, seeded: true, answered: 16, alive: true });
    // The long prompts beside it (the crash's sure trigger) were read whole in one step here.
    expect(p.burst.long_prompts).toMatchObject({ requests: 3, answered: 3, refused: null });
  }, 600_000);

  it('simulate: 24 queries x 4 samples, seeded, concurrency=16&n_per_request=4, leaves the engine alive with 96 episodes', async () => {
    const out = join(work, 'sim');
    const r = await timed('simulate 24 x 4', () =>
      cli(['simulate', '-m', `${spec}&concurrency=16&n_per_request=4&probe=off`, '--limit', '24', '--samples', '4', '--concurrency', '16', '--seed', '7', '--out', out]),
    );
    expect(r.code, r.err).toBe(0);
    const eps = lines(join(out, 'episodes.jsonl')).map((l) => JSON.parse(l) as { query_id: string; response: string });
    record.simulate = { exit: r.code, episodes: eps.length, queries: new Set(eps.map((e) => e.query_id)).size, distinct_responses: new Set(eps.map((e) => e.response)).size };
    expect(eps).toHaveLength(96);
    expect(new Set(eps.map((e) => e.query_id)).size).toBe(24);
    expect(new Set(eps.map((e) => e.response)).size).toBeGreaterThan(24); // sampled, not one answer repeated
    expect(await models(vllm!.url)).toContain('smollm2');
    (record.simulate as Record<string, unknown>).alive_after = true;
    expect(readFileSync(vllm!.log, 'utf8')).not.toMatch(/CPU Generator does not use offset|EngineDeadError/);
  }, 900_000);

  it('bench: the served model beside Pretrained, with paired rows', async () => {
    const json = join(work, 'bench.json');
    const r = await timed('bench', () => cli(['bench', '-m', `embedded:pretrained,${spec}`, '--limit', '6', '--paired-with', spec, '--seed', '3', '--json', json]));
    expect(r.code, r.err).toBe(0);
    type Row = { mechanism: string; queries: number; exact: boolean; generations_per_query: number; paired?: { against: string; reward_diff: number }[] };
    const rows = (JSON.parse(readFileSync(json, 'utf8')) as { rows: Row[] }).rows;
    const served = rows.find((r) => r.mechanism === spec)!;
    const pretrained = rows.find((r) => r.mechanism === 'embedded:pretrained')!;
    expect(served).toMatchObject({ queries: 6, exact: false, generations_per_query: 1 });
    // Paired on the same queries and bids: each row's difference against the other, opposite signs.
    const d = pretrained.paired!.find((p) => p.against === spec)!.reward_diff;
    record.bench = { exit: r.code, rows: rows.length, queries: served.queries, served_minus_pretrained_reward: -d };
    expect(served.paired!.find((p) => p.against === 'embedded:pretrained')!.reward_diff).toBeCloseTo(-d, 9);
  }, 900_000);

  it('verify monotonicity at a small budget: a verdict (pass, fail or inconclusive) within the budget', async () => {
    const json = join(work, 'verify.json');
    const r = await timed('verify (budget 24)', () => cli(['verify', '-m', spec, '--property', 'monotonicity', '--budget', '24', '--cases', '1', '--seed', '5', '--json', json]));
    expect([0, 1, 3], r.err).toContain(r.code);
    const v = JSON.parse(readFileSync(json, 'utf8'));
    record.verify = { exit: r.code, verdict: v.properties?.monotonicity?.verdict, responses: v.properties?.monotonicity?.samples, budget: 24 };
    expect(JSON.stringify(v)).toMatch(/monotonicity/);
  }, 900_000);

  it('score=prompt-logprobs against this LoRA-enabled server is refused in one line (exit 2) before any answer is scored, and the engine stays up', async () => {
    // vLLM's CPU build 0.32.0 with --enable-lora dies when two prompt log-probability requests
    // share a step (einsum in punica_cpu add_lora_logits); the scorer reads /metrics first.
    const r = await timed('score= refused on the LoRA server', () =>
      cli(['verify', '-m', `${spec}&score=prompt-logprobs&probe=off`, '--property', 'monotonicity', '--budget', '16', '--cases', '1', '--seed', '5']),
    );
    record.scoring_refused = { exit: r.code, message: r.err.trim().split('\n').at(-1) };
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/score=prompt-logprobs refused: the server is vLLM started with --enable-lora .*--no-lora/);
    expect((await chat(vllm!.url, 'smollm2', 3)).status).toBe(200);
  }, 600_000);

  it("a PEFT adapter loaded through vLLM's /v1/load_lora_adapter changes the text, and unloads", async () => {
    const url = vllm!.url;
    const post = async (path: string, body: unknown) => {
      const r = await fetch(`${url}/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(120_000) });
      return { status: r.status, text: await r.text() };
    };
    await timed('adapter load, use, unload', async () => {
      const load = await post('load_lora_adapter', { lora_name: 'tiny', lora_path: adapter });
      expect(load.status, load.text).toBe(200);
      expect(load.text).toMatch(/tiny/);
      expect(await models(url)).toContain('tiny');
      expect((await post('load_lora_adapter', { lora_name: 'tiny', lora_path: adapter })).status).toBe(400);
      // Same seed: the base model repeats itself (the control), the adapter answers otherwise.
      const base1 = await chat(url, 'smollm2', 11);
      const base2 = await chat(url, 'smollm2', 11);
      const tuned = await chat(url, 'tiny', 11);
      expect(base1.status).toBe(200);
      expect(tuned.status, tuned.text).toBe(200);
      expect(base2.text).toBe(base1.text);
      expect(tuned.text).not.toBe(base1.text);
      const unload = await post('unload_lora_adapter', { lora_name: 'tiny' });
      expect(unload.status, unload.text).toBe(200);
      expect(await models(url)).not.toContain('tiny');
      expect((await chat(url, 'tiny', 11)).status).toBe(404);
      record.adapter = { load: load.status, load_text: load.text.trim(), unload: unload.status, base_text: base1.text, adapter_text: tuned.text };
    });
  }, 600_000);
});

// Scoring on a server started without --enable-lora (bash scripts/vllm-serve.sh --no-lora): the
// route a user of score= takes on vLLM's CPU build. What it records (generate_s, score_s) is the
// cost of scoring against generating on this engine.
describe.skipIf(SKIP !== null)(`score=prompt-logprobs through vLLM without LoRA${SKIP ? ` [skipped: ${SKIP}]` : ''}`, () => {
  const scoring = serverForBlock('start with --no-lora', 'vllm-score', ['--no-lora']);

  it('score=prompt-logprobs: answers sampled at bid 70, scored at 60 and 30, each has a weight near 1 (means near 1); scored under another query (the control) each moves by many nats', async () => {
    const prev = process.env.LLM_AUCTION_AD_TEMPLATE;
    process.env.LLM_AUCTION_AD_TEMPLATE = 'compact';
    try {
      const { createOpenAIRule } = await import('../models/backends/openai-rule.ts');
      // score on: temperature 1, top_p 1, no top_k, so what is sampled is what is scored.
      const r = createOpenAIRule({ baseURL: scoring().url, model: 'smollm2', score: 'prompt-logprobs', maxTokens: 48, cacheDir: null, concurrency: 8 });
      const base: AuctionInput = {
        query: 'How do I brew better coffee at home?',
        profile: { id: 'U-0001', info: 'A 30-year-old designer living in a small flat.', interests: ['coffee', 'cycling'] },
        ads: [
          { id: 'Ad-0001', title: 'Ceramic Pour-Over Dripper', bid: 70 },
          { id: 'Ad-0002', title: 'Burr Grinder Pro', bid: 40 },
        ],
      };
      const at = (bid: number, query = base.query): AuctionInput => ({ ...base, query, ads: base.ads.map((a, k) => (k === 0 ? { ...a, bid } : a)) });
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      let t = Date.now();
      const ys = await r.sample(at(70), 8, { seed: 21 });
      const generateS = (Date.now() - t) / 1000;
      t = Date.now();
      const own = await Promise.all(ys.map((y) => r.logProb!(at(70), y)));
      const scoreS = (Date.now() - t) / 1000;
      const logWeights = async (to: AuctionInput) => (await Promise.all(ys.map((y) => r.logProb!(to, y)))).map((lp, j) => lp - own[j]!);
      const lw60 = await logWeights(at(60));
      const lw30 = await logWeights(at(30));
      const lwOther = await logWeights(at(70, 'What is the capital of France?'));
      const [w60, w30, other] = [lw60, lw30, lwOther].map((lw) => lw.map(Math.exp)) as [number[], number[], number[]];
      const medianAbs = (xs: number[]) => [...xs].map(Math.abs).sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const again = await r.logProb!(at(70), ys[0]!);
      record.scoring = {
        answers: ys.length,
        generate_s: generateS,
        score_s: scoreS,
        answer_tokens: r.scorer!.stats().answerTokens,
        logprob_at_70: own,
        mean_weight_70_to_60: mean(w60),
        mean_weight_70_to_30: mean(w30),
        mean_weight_other_query: mean(other),
        log_weights_70_to_60: lw60,
        log_weights_70_to_30: lw30,
        log_weights_other_query: lwOther,
      };
      expect(own.every((lp) => Number.isFinite(lp) && lp < 0), JSON.stringify(own)).toBe(true);
      expect(again).toBeCloseTo(own[0]!, 2);
      // Weights' mean is 1 in expectation; SmolLM2 barely moves with the bid (MEASURED: ratios within 0.1-0.44 nats).
      for (const w of [w60, w30]) expect(Math.abs(Math.log(mean(w))), JSON.stringify(record.scoring)).toBeLessThan(Math.log(1.5));
      // Each answer's weight barely moves with the bid (median |log w| small); under another
      // question's prompt (the control) each answer's probability moves by far more. (The weights'
      // mean is no control: under another prompt a few answers can gain, and the mean of 8 heavy-
      // tailed weights then lands near 1 by chance: 0.71 in the first run here.)
      for (const lw of [lw60, lw30]) expect(medianAbs(lw), JSON.stringify(record.scoring)).toBeLessThan(0.5);
      expect(medianAbs(lwOther), JSON.stringify(record.scoring)).toBeGreaterThan(4 * Math.max(medianAbs(lw60), medianAbs(lw30), 0.25));
    } finally {
      if (prev === undefined) delete process.env.LLM_AUCTION_AD_TEMPLATE;
      else process.env.LLM_AUCTION_AD_TEMPLATE = prev;
    }
  }, 600_000);
});

describe.skipIf(CRASH_SKIP !== null)(`the probe's burst catches vLLM's chunked-prefill crash${CRASH_SKIP ? ` [skipped: ${CRASH_SKIP}]` : ''}`, () => {
  const vllm = serverForBlock('start with --chunked-prefill', 'vllm-chunked', ['--chunked-prefill']);

  // In two fresh-clone CI runs of 2026-12-06 the burst of short prompts alone did not kill this
  // engine (it died later, in simulate): short prompts are split across steps only when enough
  // arrive at once. The burst now also sends three seeded prompts of ~1300 tokens; two of them
  // waiting together cannot fit one 2048-token step, so one is read in two steps every time.
  it('simulate probes first, the engine dies under the burst, and the run stops with exit 2 naming the cause before any episode', async () => {
    const out = join(work, 'crash');
    const spec = `openai:${vllm().url}?model=smollm2&max_tokens=32&cache=off&concurrency=16&n_per_request=4&probe=on`;
    const r = await timed('simulate on the chunked-prefill server', () => cli(['simulate', '-m', spec, '--limit', '24', '--samples', '4', '--concurrency', '16', '--seed', '7', '--out', out]));
    const log = readFileSync(vllm().log, 'utf8');
    record.crash = {
      exit: r.code,
      episodes: lines(join(out, 'episodes.jsonl')).length,
      message: r.err.trim().split('\n').find((l) => /stopped answering/.test(l)) ?? r.err.trim().split('\n').at(-1),
      engine_log_says: log.match(/RuntimeError: CPU Generator does not use offset/)?.[0] ?? null,
    };
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/stopped answering after a burst of 16 concurrent seeded requests of n = 4 and 3 seeded requests of about \d+ prompt tokens/);
    expect(r.err).toMatch(/--no-enable-chunked-prefill --max-num-batched-tokens 8192/);
    expect(lines(join(out, 'episodes.jsonl'))).toHaveLength(0);
    // It was the crash the message names, in vLLM's own words.
    expect(log).toMatch(/CPU Generator does not use offset/);
  }, 900_000);
});

afterAll(() => {
  rmSync(join(work, 'adapter'), { recursive: true, force: true });
  if (SKIP !== null) return;
  const wall = (Date.now() - started) / 1000;
  process.stderr.write(`[vllm.test] timings (s): ${JSON.stringify(timings)}; whole file ${wall.toFixed(0)} s\n`);
  const file = process.env.LLM_AUCTION_VLLM_RECORD;
  if (file) writeFileSync(file, JSON.stringify({ ...record, timings, wall_s: wall, crash_skipped: CRASH_SKIP, load_average_end: loadavg() }, null, 2));
});
