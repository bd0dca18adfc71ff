/**
 * A neural sentence encoder behind the `TextEncoder` interface: all-MiniLM-L6-v2 (or any BERT-like
 * ONNX export with a tokenizer.json) run by onnxruntime-node on the CPU.
 *
 * It reproduces sentence-transformers' pipeline for that model: WordPiece tokenization by the
 * Hugging Face tokenizer library (tokenizer.json, not a hand-written tokenizer), truncation to
 * max_seq_length (256) with [CLS]/[SEP] kept, the transformer, mean pooling over real tokens, and
 * L2 normalization. The tests check this against embeddings computed by torch at export time.
 *
 * Texts are encoded in batches sorted by length, so a batch pads to similar lengths and no time is
 * spent on padding. Every embedding is also kept on disk, keyed by a hash of the model fingerprint
 * and the text, in an append-only JSON Lines file: the catalog and the query set are embedded once
 * per machine, not once per run.
 *
 * `encodeSync` serves only what is already in memory (onnxruntime's run is asynchronous): call
 * `await encoder.encode(allTexts)` first, then synchronous callers (the embedded policy) can use it.
 * It throws for any text it lacks rather than returning a partial answer; ParametricUser relies on
 * that to fall back to `encode` by itself, and PctrModel turns it into a request to
 * `await model.prepare(examples)`.
 */
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import type * as Ort from 'onnxruntime-node';
import { UsageError } from '../lib/errors.ts';
import { resolveEncoderFiles, type EncoderFiles, type ResolveEncoderOptions } from '../models/registry.ts';
import { lexicalEncoder, type TextEncoder } from './text-encoder.ts';

/**
 * onnxruntime-node, loaded when an ONNX encoder is first asked for. It is an optional peer of the
 * published package (its install script downloads GPU binaries, and most users never need it),
 * so a missing install is named here instead of failing every import of the library.
 */
let ort: typeof Ort;
async function loadOrt(): Promise<typeof Ort> {
  try {
    return (ort ??= await import('onnxruntime-node'));
  } catch (e) {
    if ((e as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new UsageError('the ONNX encoder needs onnxruntime-node: npm i onnxruntime-node (ONNXRUNTIME_NODE_INSTALL=skip npm i onnxruntime-node for CPU only, without its GPU download)');
  }
}

export const DEFAULT_EMBEDDING_CACHE_DIR = '.cache/embeddings';

export interface OnnxEncoderOptions extends ResolveEncoderOptions {
  /** Texts per session.run (default 32). */
  batchSize?: number;
  /** Directory of the on-disk embedding cache; null disables it (default `.cache/embeddings`). */
  cacheDir?: string | null;
  /** onnxruntime intra-op threads (default: onnxruntime's choice, all cores). */
  threads?: number;
  /** Longest token sequence, special tokens included (default: the model's max_seq_length). */
  maxSeqLength?: number;
}

export interface EncoderStats {
  /** Texts asked for (duplicates included). */
  texts: number;
  /** Served from memory or the disk cache. */
  cacheHits: number;
  /** Actually run through the model. */
  computed: number;
  batches: number;
  /** Time inside session.run only (ms), for comparing our overhead with the runtime's. */
  runMs: number;
}

interface TokenizerJson {
  added_tokens?: { id: number; content: string; special?: boolean }[];
}

/** Tokenized batch as the ONNX graph wants it (int64, row-major [batch, seq]). */
export interface TokenBatch {
  ids: BigInt64Array;
  mask: BigInt64Array;
  types: BigInt64Array;
  batch: number;
  seq: number;
}

export class OnnxEncoder implements TextEncoder {
  readonly name: string;
  readonly dim: number;
  readonly files: EncoderFiles;
  private readonly memory = new Map<string, Float32Array>();
  private readonly counters: EncoderStats = { texts: 0, cacheHits: 0, computed: 0, batches: 0, runMs: 0 };
  private readonly cacheFile: string | null;
  private readonly batchSize: number;
  private readonly maxLen: number;
  private readonly clsId: number;
  private readonly sepId: number;
  private readonly padId: number;
  private diskLoaded = false;
  private chain: Promise<unknown> = Promise.resolve();

  private constructor(
    files: EncoderFiles,
    readonly session: Ort.InferenceSession,
    readonly tokenizer: Tokenizer,
    dim: number,
    opts: OnnxEncoderOptions,
    special: { cls: number; sep: number; pad: number },
  ) {
    this.files = files;
    this.name = `onnx:${files.name}`;
    this.dim = dim;
    this.batchSize = Math.max(1, opts.batchSize ?? 32);
    this.maxLen = Math.max(3, opts.maxSeqLength ?? files.maxSeqLength);
    this.clsId = special.cls;
    this.sepId = special.sep;
    this.padId = special.pad;
    const cacheDir = opts.cacheDir === undefined ? DEFAULT_EMBEDDING_CACHE_DIR : opts.cacheDir;
    // The fingerprint is part of the folder name, so new weights never read old vectors.
    this.cacheFile =
      cacheDir === null ? null : path.join(cacheDir, `${slug(files.name)}-${slug(files.fingerprint).slice(0, 16)}-${this.maxLen}`, 'embeddings.jsonl');
  }

  /** Resolve the model (see models/registry.ts for the order), load tokenizer and session. */
  static async create(nameOrPath = 'all-minilm-l6-v2', opts: OnnxEncoderOptions = {}): Promise<OnnxEncoder> {
    const files = await resolveEncoderFiles(nameOrPath, opts);
    const tokenizerJson = JSON.parse(readFileSync(files.tokenizer, 'utf8')) as TokenizerJson;
    const tokenizerConfig = files.tokenizerConfig ? (JSON.parse(readFileSync(files.tokenizerConfig, 'utf8')) as Record<string, unknown>) : {};
    const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    const idOf = (configKey: string, fallback: string): number => {
      const tokenName = typeof tokenizerConfig[configKey] === 'string' ? (tokenizerConfig[configKey] as string) : fallback;
      const id = tokenizer.token_to_id(tokenName);
      if (id === undefined) throw new Error(`${files.tokenizer}: special token ${tokenName} is not in the vocabulary`);
      return id;
    };
    const special = { cls: idOf('cls_token', '[CLS]'), sep: idOf('sep_token', '[SEP]'), pad: idOf('pad_token', '[PAD]') };
    const sessionOptions: Ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      graphOptimizationLevel: 'all',
      ...(opts.threads === undefined ? {} : { intraOpNumThreads: opts.threads }),
    };
    const session = await (await loadOrt()).InferenceSession.create(files.onnx, sessionOptions);
    const enc = new OnnxEncoder(files, session, tokenizer, 0, opts, special);
    // The width is read off the model rather than assumed, so other BERT-like exports work too.
    const probe = await enc.runBatch(enc.tokenize(['dimension probe']));
    (enc as { dim: number }).dim = probe[0]!.length;
    enc.counters.batches = 0;
    enc.counters.runMs = 0;
    return enc;
  }

  stats(): EncoderStats {
    return { ...this.counters };
  }

  /** Token ids of one text as the model sees it: [CLS] + first maxLen-2 WordPieces + [SEP]. */
  tokenIds(text: string): number[] {
    // Truncation is ours because the tokenizer library does not apply tokenizer.json's truncation;
    // cutting the content and then adding the special tokens is what Hugging Face does for one text.
    const body = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    return [this.clsId, ...body.slice(0, this.maxLen - 2), this.sepId];
  }

  /** Texts to padded int64 tensors. */
  tokenize(texts: readonly string[]): TokenBatch {
    const rows = texts.map((t) => this.tokenIds(t));
    const seq = Math.max(...rows.map((r) => r.length));
    const batch = rows.length;
    const ids = new BigInt64Array(batch * seq).fill(BigInt(this.padId));
    const mask = new BigInt64Array(batch * seq);
    const types = new BigInt64Array(batch * seq);
    rows.forEach((r, b) => {
      for (let j = 0; j < r.length; j++) {
        ids[b * seq + j] = BigInt(r[j]!);
        mask[b * seq + j] = 1n;
      }
    });
    return { ids, mask, types, batch, seq };
  }

  /** The feeds of a tokenized batch, limited to the inputs this graph declares. */
  feeds(t: TokenBatch): Record<string, Ort.Tensor> {
    const all: Record<string, Ort.Tensor> = {
      input_ids: new ort.Tensor('int64', t.ids, [t.batch, t.seq]),
      attention_mask: new ort.Tensor('int64', t.mask, [t.batch, t.seq]),
      token_type_ids: new ort.Tensor('int64', t.types, [t.batch, t.seq]),
    };
    return Object.fromEntries(this.session.inputNames.map((n) => {
      const tensor = all[n];
      if (!tensor) throw new Error(`${this.files.onnx}: unexpected model input "${n}" (expected input_ids, attention_mask, token_type_ids)`);
      return [n, tensor];
    }));
  }

  /** One session.run and the pooling: unit vectors, one per row. */
  async runBatch(t: TokenBatch): Promise<Float32Array[]> {
    const feeds = this.feeds(t);
    const started = performance.now();
    const out = await this.session.run(feeds);
    this.counters.runMs += performance.now() - started;
    this.counters.batches++;
    const name = this.session.outputNames.includes('last_hidden_state') ? 'last_hidden_state' : this.session.outputNames[0]!;
    const tensor = out[name]!;
    const data = tensor.data as Float32Array;
    const dims = tensor.dims;
    const vectors: Float32Array[] = [];
    if (dims.length === 2) {
      // Already pooled (a sentence_embedding output): only normalize.
      const d = dims[1]!;
      for (let b = 0; b < t.batch; b++) vectors.push(normalize(data.slice(b * d, (b + 1) * d)));
      return vectors;
    }
    const d = dims[2]!;
    for (let b = 0; b < t.batch; b++) {
      const v = new Float32Array(d);
      let count = 0;
      for (let j = 0; j < t.seq; j++) {
        if (t.mask[b * t.seq + j] === 0n) continue;
        count++;
        const off = (b * t.seq + j) * d;
        for (let k = 0; k < d; k++) v[k]! += data[off + k]!;
      }
      // Mean over real tokens (sentence-transformers clamps the count at 1e-9; we always have >= 2).
      const inv = 1 / Math.max(count, 1e-9);
      for (let k = 0; k < d; k++) v[k]! *= inv;
      vectors.push(normalize(v));
    }
    return vectors;
  }

  private key(text: string): string {
    return createHash('sha256').update(`${this.files.fingerprint}\u0000${this.maxLen}\u0000${text}`).digest('hex').slice(0, 32);
  }

  private loadDisk(): void {
    if (this.diskLoaded) return;
    this.diskLoaded = true;
    if (this.cacheFile === null || !existsSync(this.cacheFile)) return;
    for (const line of readFileSync(this.cacheFile, 'utf8').split('\n')) {
      if (line === '') continue;
      try {
        const rec = JSON.parse(line) as { k?: unknown; v?: unknown };
        if (typeof rec.k !== 'string' || typeof rec.v !== 'string') continue;
        const buf = Buffer.from(rec.v, 'base64');
        // A line cut short by a crash decodes to the wrong length: skip it, it will be recomputed.
        if (buf.length !== this.dim * 4) continue;
        this.memory.set(rec.k, new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)));
      } catch {
        // a torn line
      }
    }
  }

  private persist(entries: [string, Float32Array][]): void {
    if (this.cacheFile === null || entries.length === 0) return;
    mkdirSync(path.dirname(this.cacheFile), { recursive: true });
    const lines = entries.map(([k, v]) => `${JSON.stringify({ k, v: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') })}\n`);
    // One append per call: O_APPEND writes land whole, so concurrent runs sharing the file interleave
    // lines but never bytes; a failed write costs a recomputation next time, nothing more.
    try {
      appendFileSync(this.cacheFile, lines.join(''));
    } catch (e) {
      process.emitWarning(`onnx encoder: cannot write the embedding cache ${this.cacheFile}: ${String(e)}`);
    }
  }

  async encode(texts: readonly string[]): Promise<Float32Array[]> {
    // Calls are serialized: onnxruntime already uses every core for one run, and interleaved calls
    // would only compete for them and duplicate work on shared texts.
    const run = this.chain.then(() => this.encodeNow(texts));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async encodeNow(texts: readonly string[]): Promise<Float32Array[]> {
    this.loadDisk();
    this.counters.texts += texts.length;
    const keys = texts.map((t) => this.key(t));
    const todo = new Map<string, string>();
    keys.forEach((k, i) => {
      // A repeat within the call is computed once; its later copies count as hits.
      if (this.memory.has(k) || todo.has(k)) this.counters.cacheHits++;
      else todo.set(k, texts[i]!);
    });
    if (todo.size > 0) {
      // Longest first, in batches of similar length: padding is what costs on CPU.
      const pending = [...todo.entries()].map(([k, t]) => ({ k, t, len: this.tokenIds(t).length })).sort((a, b) => b.len - a.len);
      for (let i = 0; i < pending.length; i += this.batchSize) {
        const chunk = pending.slice(i, i + this.batchSize);
        const vectors = await this.runBatch(this.tokenize(chunk.map((c) => c.t)));
        const fresh: [string, Float32Array][] = chunk.map((c, j) => [c.k, vectors[j]!]);
        for (const [k, v] of fresh) this.memory.set(k, v);
        this.counters.computed += fresh.length;
        this.persist(fresh);
      }
    }
    return keys.map((k) => this.memory.get(k)!);
  }

  /** Vectors already computed (by `encode` or a previous run's cache); throws naming what is missing. */
  encodeSync(texts: readonly string[]): Float32Array[] {
    this.loadDisk();
    const out: Float32Array[] = [];
    let missing = 0;
    let example = '';
    for (const t of texts) {
      const v = this.memory.get(this.key(t));
      if (v) out.push(v);
      else if (missing++ === 0) example = t;
    }
    if (missing > 0) {
      throw new Error(
        `${this.name}: encodeSync has no vector for ${missing} of ${texts.length} text(s) (e.g. ${JSON.stringify(example.slice(0, 60))}); ` +
          'onnxruntime runs asynchronously, so `await encoder.encode(texts)` them first',
      );
    }
    this.counters.texts += texts.length;
    this.counters.cacheHits += texts.length;
    return out;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

function normalize(v: Float32Array): Float32Array {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  if (n > 0) {
    const inv = 1 / Math.sqrt(n);
    for (let i = 0; i < v.length; i++) v[i]! *= inv;
  }
  return v;
}

function slug(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_');
}

export type EncoderSpec = 'lexical' | `onnx:${string}`;

/**
 * `lexical` (the hashed bag of stems), `onnx:all-minilm-l6-v2` (resolved as in models/registry.ts),
 * or `onnx:/path` (a directory with model.onnx and tokenizer.json, or the .onnx file itself).
 */
export async function createEncoder(spec: EncoderSpec | string, opts: OnnxEncoderOptions = {}): Promise<TextEncoder> {
  const s = spec.trim();
  if (s === 'lexical') return lexicalEncoder();
  if (s.startsWith('onnx:')) {
    const target = s.slice('onnx:'.length);
    if (target === '') throw new Error('encoder spec onnx: needs a model name or path (onnx:all-minilm-l6-v2 or onnx:/path/to/dir)');
    return OnnxEncoder.create(target, opts);
  }
  throw new Error(`unknown encoder spec ${JSON.stringify(spec)}: expected lexical, onnx:all-minilm-l6-v2 or onnx:/path`);
}
