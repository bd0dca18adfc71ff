/**
 * LoRA adapters on local models: `local:…?lora=`, the PEFT -> GGUF conversion (models/lora.ts),
 * and vLLM's runtime LoRA endpoints in `llm-auction serve` (cli/commands/serve-lora.ts). The
 * first part needs no model; the second makes a random adapter with peft on the trainer's copy of
 * SmolLM2, loads it into a served local:smollm2 and shows that it changes the answer. Without the
 * GGUF, the transformers copy or the training venv that part is skipped, saying which is missing.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../cli/commands/serve.ts';
import { formatSpec, parseSpec, specLabel } from '../evaluation/kinds/index.ts';
import { InputError, UsageError } from '../lib/errors.ts';
import { buildAdPrompt } from '../mechanism/prompt.ts';
import type { AdapterRule, AllocationRule, AuctionInput } from '../mechanism/types.ts';
import { createLocalRule, disposeLocalModels, parseLocalSpec } from '../models/backends/local.ts';
import { ADAPTER_GGUF, convertPeftAdapter, defaultBaseModelDir, resolveAdapterFile, trainingPython } from '../models/lora.ts';
import { manifest, modelCacheDir } from '../models/registry.ts';

const tmp = mkdtempSync(path.join(os.tmpdir(), 'llm-auction-lora-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const input: AuctionInput = {
  query: 'Which shoes should I buy for trail running in the rain?',
  profile: { id: 'U-0007', info: 'Female, 34, runs three times a week', interests: ['running', 'hiking'] },
  ads: [
    { id: 'Ad-0001', title: 'Trail Runner GTX Waterproof Shoe', bid: 1.25 },
    { id: 'Ad-0002', title: 'Ceramic Pour-Over Coffee Dripper', bid: 0.4 },
  ],
};

interface Reply {
  status: number;
  text: string;
  json: { error?: { message: string; type: string; param: string | null }; choices?: { message: { content: string } }[]; model?: string; data?: { id: string; parent?: string; root?: string }[] };
}

async function call(server: RunningServer, method: 'GET' | 'POST', route: string, body?: unknown, raw?: string): Promise<Reply> {
  const res = await fetch(`${server.baseURL}${route}`, {
    method,
    ...(method === 'POST' ? { headers: { 'content-type': 'application/json' }, body: raw ?? JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: Reply['json'] = {};
  try {
    json = JSON.parse(text) as Reply['json'];
  } catch {
    // vLLM's success replies are plain text
  }
  return { status: res.status, text, json };
}

const ask = (server: RunningServer, model: string, extra: Record<string, unknown> = {}) =>
  call(server, 'POST', '/chat/completions', { model, messages: [{ role: 'user', content: buildAdPrompt(input) }], ...extra });

describe('?lora= in local specs', () => {
  it('parses, formats back and labels; off means none', () => {
    const c = parseLocalSpec('local:smollm2?lora=/runs/x y/epoch-1/adapter&base=/models/hf&max_tokens=8');
    expect(c).toMatchObject({ model: 'smollm2', lora: '/runs/x y/epoch-1/adapter', loraBase: '/models/hf', maxTokens: 8 });
    expect(parseLocalSpec('local:smollm2')).toMatchObject({ lora: null, loraBase: null });
    expect(parseLocalSpec('local:smollm2?lora=off').lora).toBeNull();
    const spec = parseSpec(`local:smollm2?lora=${encodeURIComponent('/runs/a+b&c/adapter.gguf')}&max_tokens=8`);
    expect(spec).toMatchObject({ kind: 'local', model: 'smollm2', params: { lora: '/runs/a+b&c/adapter.gguf', max_tokens: '8' } });
    const formatted = formatSpec(spec);
    // `+` and `&` are escaped (URLSearchParams would misread them), `/` stays readable.
    expect(formatted).toBe('local:smollm2?lora=/runs/a%2Bb%26c/adapter.gguf&max_tokens=8');
    expect(parseSpec(formatted)).toEqual(spec);
    expect(specLabel(spec)).toBe('local model smollm2 with LoRA /runs/a+b&c/adapter.gguf');
    // The rule's default name tells an adapter's rows from the base model's.
    expect(createLocalRule('local:smollm2?lora=/a/adapter').name).toBe('local:smollm2?lora=/a/adapter');
    expect(createLocalRule('local:smollm2').name).toBe('local:smollm2');
    expect(() => parseLocalSpec('local:smollm2?adapter=/a')).toThrow(/unknown parameter "adapter".*lora/);
  });

  it('says what is wrong with an adapter before touching a model', async () => {
    const noDir = path.join(tmp, 'nope');
    await expect(resolveAdapterFile(noDir, { model: 'smollm2' })).rejects.toThrow(InputError);
    await expect(resolveAdapterFile(noDir, { model: 'smollm2' })).rejects.toThrow(/no such LoRA adapter/);
    const txt = path.join(tmp, 'adapter.txt');
    writeFileSync(txt, 'x');
    await expect(resolveAdapterFile(txt, { model: 'smollm2' })).rejects.toThrow(/must be a \.gguf/);
    const gguf = path.join(tmp, 'given.gguf');
    writeFileSync(gguf, 'x');
    expect(await resolveAdapterFile(gguf, { model: 'smollm2' })).toBe(gguf);
    const empty = path.join(tmp, 'empty');
    mkdirSync(empty);
    await expect(convertPeftAdapter(empty, { baseModelDir: tmp })).rejects.toThrow(/no adapter_config\.json/);
    const peft = path.join(tmp, 'peft');
    mkdirSync(peft);
    writeFileSync(path.join(peft, 'adapter_config.json'), '{}');
    await expect(convertPeftAdapter(peft, { baseModelDir: tmp })).rejects.toThrow(/no adapter_model\.safetensors/);
    writeFileSync(path.join(peft, 'adapter_model.safetensors'), 'x');
    // Environment problems are usage errors (exit 2) that say how to fix them.
    const baseErr = await convertPeftAdapter(peft, { baseModelDir: path.join(tmp, 'no-base') }).then(() => new Error('expected a failure'), (e: unknown) => e as Error);
    expect(baseErr).toBeInstanceOf(UsageError);
    expect(baseErr.message).toMatch(/no config\.json.*make-trainer-model\.sh/);
    const base = path.join(tmp, 'base');
    mkdirSync(base);
    writeFileSync(path.join(base, 'config.json'), '{}');
    const env = { ...process.env, LLM_AUCTION_PYTHON: path.join(tmp, 'no-python') };
    const pyErr = await convertPeftAdapter(peft, { baseModelDir: base, env }).then(() => new Error('expected a failure'), (e: unknown) => e as Error);
    expect(pyErr).toBeInstanceOf(UsageError);
    expect(pyErr.message).toMatch(/no python at .*no-python.*LLM_AUCTION_PYTHON/);
    // A model with no known transformers copy needs ?base= (or a .gguf adapter).
    await expect(resolveAdapterFile(peft, { model: '/models/other.gguf', env: {} })).rejects.toThrow(/\?base=DIR/);
    expect(defaultBaseModelDir('smollm2', null, {})).toBe(path.join(modelCacheDir({}), 'smollm2-hf'));
    expect(defaultBaseModelDir('smollm2', '/b', {})).toBe(path.resolve('/b'));
  });
});

/** A rule that takes adapters without a model: each adapter answers with its own name. */
function stubRule(): AllocationRule & { released: string[] } {
  const released: string[] = [];
  const base: AllocationRule & { released: string[] } = {
    name: 'stub-base',
    released,
    sample: async (_input, n) => Array.from({ length: n }, () => 'base answer'),
    async withAdapter(name: string, adapterPath: string): Promise<AdapterRule> {
      if (adapterPath.includes('missing')) throw new InputError(adapterPath, undefined, undefined, 'no such LoRA adapter');
      if (adapterPath.includes('broken')) throw new Error('the converter crashed');
      return { name, adapterFile: `${adapterPath}/adapter.gguf`, sample: async (_input, n) => Array.from({ length: n }, () => `${name} answer`), release: async () => void released.push(name) };
    },
  };
  return base;
}

describe('serve: vLLM runtime LoRA endpoints, request handling', () => {
  let stub: ReturnType<typeof stubRule>;
  let server: RunningServer;
  let plain: RunningServer;
  beforeAll(async () => {
    stub = stubRule();
    server = await startServer({ rule: stub, port: 0, log: null });
    plain = await startServer({ rule: { name: 'embedded:pretrained', sample: async (_i, n) => Array(n).fill('x') }, port: 0, log: null });
  });
  afterAll(async () => {
    await server.close();
    await plain.close();
  });

  it('loads, lists, routes by model, unloads; bad bodies and unknown names as vLLM answers them', async () => {
    const load = await call(server, 'POST', '/load_lora_adapter', { lora_name: 'irpo-1', lora_path: '/runs/e1/adapter' });
    expect(load).toMatchObject({ status: 200, text: "Success: LoRA adapter 'irpo-1' added successfully." });
    const models = await call(server, 'GET', '/models');
    expect(models.json.data).toEqual([expect.objectContaining({ id: 'stub-base' }), expect.objectContaining({ id: 'irpo-1', root: '/runs/e1/adapter', parent: 'stub-base' })]);
    expect((await call(server, 'GET', '/models/irpo-1')).status).toBe(200);
    const viaAdapter = await ask(server, 'irpo-1');
    expect(viaAdapter.json).toMatchObject({ model: 'irpo-1', choices: [{ message: { content: 'irpo-1 answer' } }] });
    expect((await ask(server, 'stub-base')).json.choices![0]!.message.content).toBe('base answer');
    // A name that is neither: it may be an adapter not loaded (yet), so no base answer passes for it.
    const unknown = await ask(server, 'irpo-2');
    expect(unknown.status).toBe(404);
    expect(unknown.json.error).toMatchObject({ type: 'not_found_error', param: 'model' });

    const cases: [string, unknown, number, RegExp, string?][] = [
      ['/load_lora_adapter', null, 400, /not valid JSON/, '{"lora_name": '],
      ['/load_lora_adapter', { lora_name: 'a' }, 400, /lora_path/],
      ['/load_lora_adapter', { lora_path: '/x' }, 400, /lora_name/],
      ['/load_lora_adapter', { lora_name: '', lora_path: '/x' }, 400, /lora_name/],
      ['/load_lora_adapter', { lora_name: 'irpo-1', lora_path: '/runs/other' }, 400, /already been loaded/],
      ['/load_lora_adapter', { lora_name: 'stub-base', lora_path: '/x' }, 400, /base model's name/],
      ['/load_lora_adapter', { lora_name: 'm', lora_path: '/runs/missing' }, 404, /no such LoRA adapter/],
      ['/load_lora_adapter', { lora_name: 'b', lora_path: '/runs/broken' }, 400, /converter crashed/],
      ['/unload_lora_adapter', {}, 400, /lora_name/],
      ['/unload_lora_adapter', { lora_name: 'never-loaded' }, 404, /cannot be found/],
    ];
    for (const [route, body, status, message, raw] of cases) {
      const r = await call(server, 'POST', route, body, raw);
      expect(r.status, `${route} ${raw ?? JSON.stringify(body)}`).toBe(status);
      expect(r.json.error!.message).toMatch(message);
    }
    expect((await call(server, 'GET', '/load_lora_adapter')).status).toBe(405);
    // load_inplace replaces a loaded adapter (and frees the old one).
    expect((await call(server, 'POST', '/load_lora_adapter', { lora_name: 'irpo-1', lora_path: '/runs/e1b/adapter', load_inplace: true })).status).toBe(200);
    expect(stub.released).toEqual(['irpo-1']);

    const unload = await call(server, 'POST', '/unload_lora_adapter', { lora_name: 'irpo-1' });
    expect(unload).toMatchObject({ status: 200, text: "Success: LoRA adapter 'irpo-1' removed successfully." });
    expect(stub.released).toEqual(['irpo-1', 'irpo-1']);
    expect((await call(server, 'GET', '/models')).json.data!.map((m) => m.id)).toEqual(['stub-base']);
    expect((await ask(server, 'irpo-1')).status).toBe(404);
    expect((await call(server, 'POST', '/unload_lora_adapter', { lora_name: 'irpo-1' })).status).toBe(404);
  });

  it('refuses adapters for rules that cannot take them, naming the ones that can', async () => {
    for (const route of ['/load_lora_adapter', '/unload_lora_adapter']) {
      const r = await call(plain, 'POST', route, { lora_name: 'a', lora_path: '/x' });
      expect(r.status).toBe(404);
      expect(r.json.error!.message).toMatch(/embedded:pretrained.*cannot take LoRA adapters.*local:smollm2/);
    }
    // Such a server answers any model name with its rule, as before.
    expect((await ask(plain, 'whatever')).status).toBe(200);
  });

  it('answers a local rule\'s load of a missing path with 404 without loading the model', async () => {
    const local = await startServer({ rule: createLocalRule('local:smollm2'), port: 0, log: null });
    try {
      const r = await call(local, 'POST', '/load_lora_adapter', { lora_name: 'x', lora_path: path.join(tmp, 'no-adapter') });
      expect(r.status).toBe(404);
      expect(r.json.error).toMatchObject({ type: 'not_found_error', param: 'lora_path' });
      expect(r.json.error!.message).toMatch(/no such LoRA adapter/);
    } finally {
      await local.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------
// Real weights

const M = manifest().models.smollm2;
const GGUF = path.join(modelCacheDir(), M.dir, M.file);
const HF = defaultBaseModelDir('smollm2')!;
const PY = trainingPython();
const missing = [
  [GGUF, 'bash scripts/fetch-models.sh smollm2'],
  [path.join(HF, 'model.safetensors'), 'bash scripts/make-trainer-model.sh'],
  [PY, 'bash training/python/smoke_test.sh'],
].filter(([f]) => !existsSync(f!));
if (missing.length > 0) console.warn(`lora.test.ts: the real-weights part is skipped: ${missing.map(([f, how]) => `${f} is missing (${how})`).join('; ')}`);

/** A random LoRA on q_proj and v_proj (B not zero, so it changes the model), saved by peft. */
function makeRandomAdapter(dir: string): Promise<void> {
  const script = [
    'import sys, torch',
    'from transformers import AutoModelForCausalLM',
    'from peft import LoraConfig, get_peft_model',
    'torch.manual_seed(0)',
    'model = AutoModelForCausalLM.from_pretrained(sys.argv[1])',
    "peft = get_peft_model(model, LoraConfig(r=8, lora_alpha=16, target_modules=['q_proj', 'v_proj'], init_lora_weights=False))",
    'peft.save_pretrained(sys.argv[2])',
  ].join('\n');
  return new Promise((resolve, reject) => {
    const child = spawn(PY, ['-c', script, HF, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`making the adapter failed (${code}): ${err}`))));
  });
}

describe.skipIf(missing.length > 0)('serve local:smollm2 with a hot-loaded LoRA adapter (real weights)', () => {
  const adapterDir = path.join(tmp, 'random-adapter');
  let server: RunningServer;
  const timings: Record<string, number> = {};
  beforeAll(async () => {
    const t0 = Date.now();
    const rule = createLocalRule('local:smollm2?max_tokens=8');
    // The adapter is made while the model loads.
    await Promise.all([makeRandomAdapter(adapterDir), rule.client.load()]);
    timings.setup_ms = Date.now() - t0;
    server = await startServer({ rule, port: 0, log: null });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    await disposeLocalModels();
    console.log(`lora.test.ts timings: ${JSON.stringify(timings)}`);
  });

  it('loads the PEFT adapter, whose greedy answer differs from the base model\'s, and unloads it', async () => {
    let t = Date.now();
    const load = await call(server, 'POST', '/load_lora_adapter', { lora_name: 'rand', lora_path: adapterDir });
    timings.convert_and_load_ms = Date.now() - t;
    expect(load.status, load.text).toBe(200);
    const gguf = path.join(adapterDir, ADAPTER_GGUF);
    expect(statSync(gguf).size).toBeGreaterThan(100_000);
    expect((await call(server, 'GET', '/models')).json.data!.map((m) => m.id)).toEqual(['local:smollm2', 'rand']);

    const same = { seed: 3, temperature: 0, max_tokens: 8 };
    t = Date.now();
    const base = await ask(server, 'local:smollm2', same);
    const adapted = await ask(server, 'rand', same);
    timings.two_answers_ms = Date.now() - t;
    expect(adapted.json.model).toBe('rand');
    const [b, a] = [base.json.choices![0]!.message.content, adapted.json.choices![0]!.message.content];
    expect(a).not.toBe(b);
    console.log(`lora.test.ts: base ${JSON.stringify(b)}, rand ${JSON.stringify(a)}`);

    // A second name on the same adapter reuses the converted file: no conversion this time.
    const mtime = statSync(gguf).mtimeMs;
    t = Date.now();
    expect((await call(server, 'POST', '/load_lora_adapter', { lora_name: 'rand-again', lora_path: adapterDir })).status).toBe(200);
    timings.cached_load_ms = Date.now() - t;
    expect(statSync(gguf).mtimeMs).toBe(mtime);

    for (const name of ['rand', 'rand-again']) expect((await call(server, 'POST', '/unload_lora_adapter', { lora_name: name })).status).toBe(200);
    expect((await call(server, 'GET', '/models')).json.data!.map((m) => m.id)).toEqual(['local:smollm2']);
    expect((await ask(server, 'rand', same)).status).toBe(404);
  }, 120_000);
});
