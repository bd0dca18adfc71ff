/**
 * What the pCTR model of Eq. 3 reads about one exposure: the logged examples (x, y, h, a_i), phi,
 * the frozen text features of the query and the response, and the optional exposure context read
 * off the response.
 *
 * phi is never trained, so each distinct text is encoded once and cached. The paper's encoder
 * outputs 1024 dims; to keep CPU training fast the features can go through a fixed random
 * projection to `textDim` dims (a Johnson-Lindenstrauss map: inner products and norms are kept
 * approximately). The projection is drawn once from the seed and is as frozen as the encoder: it is
 * part of phi, not of the learnable parameters.
 */
import { Rng } from '../lib/rng.ts';
import type { Episode } from '../simulation/episode.ts';
import { cosine, lexicalEncoder, type TextEncoder } from '../simulation/text-encoder.ts';
import { denseForward, gaussian } from './nn.ts';

/** One exposure of one ad in one logged response, with its click label when known. */
export interface PctrExample {
  query: string;
  response: string;
  userId: string;
  adId: string;
  click?: 0 | 1;
}

/**
 * One example per valid exposure of every episode, labelled with whether the user clicked it.
 * Episodes carry only valid exposures (the parser drops broken or hallucinated insertions; only
 * those can be clicked), which is the set Eq. 4 sums over. A repeated ad counts once.
 */
export function examplesFromEpisodes(
  episodes: Iterable<Pick<Episode, 'query_id' | 'response' | 'exposures' | 'clicks'>>,
  profileOf: (queryId: string) => string,
  queryTextOf: (queryId: string) => string,
): PctrExample[] {
  const out: PctrExample[] = [];
  const seen = new Set<string>();
  for (const ep of episodes) {
    if (ep.exposures.length === 0) continue;
    const userId = profileOf(ep.query_id);
    const query = queryTextOf(ep.query_id);
    const clicked = new Set(ep.clicks);
    seen.clear();
    for (const e of ep.exposures) {
      if (seen.has(e.id)) continue;
      seen.add(e.id);
      out.push({ query, response: ep.response, userId, adId: e.id, click: clicked.has(e.id) ? 1 : 0 });
    }
  }
  return out;
}

/** Width of the exposure-context block (see exposureContext). */
export const CONTEXT_DIM = 5;
const INSERTION = /@[^@\n]{1,200}@\[[^\]\n]{1,40}\]|@[^@\n]{1,200}@|\[Ad-[0-9]+\]/g;

/**
 * What the response itself says about one exposure, all observable from (x, a_i, y) of Eq. 3:
 * how many insertions the response carries (any markup, right or broken) / 4, this ad's position
 * among them / 3, whether it is woven into a sentence (1) or listed on a line of its own (0), the
 * lexical similarity of its title to the question, and that similarity when woven.
 */
export function exposureContext(query: string, response: string, adId: string): number[] {
  let count = 0;
  let position = -1;
  let title = '';
  let at = -1;
  for (const m of response.matchAll(INSERTION)) {
    if (position < 0 && m[0].endsWith(`@[${adId}]`)) {
      position = count;
      title = m[0].slice(1, m[0].lastIndexOf('@['));
      at = m.index;
    }
    count++;
  }
  if (position < 0) return [count / 4, 0, 0, 0, 0];
  const lineStart = response.lastIndexOf('\n', at) + 1;
  const woven = response.startsWith('- ', lineStart) ? 0 : 1;
  const [tv, qv] = lexicalEncoder().encodeSync([title, query]);
  const rel = Math.max(0, cosine(tv!, qv!));
  return [count / 4, position / 3, woven, rel, rel * woven];
}

export interface TextFeatureOptions {
  /** Seeds the projection. */
  seed: number;
  /** Width of the projection; null feeds the encoder's output as it is. */
  textDim: number | null;
  /** Memory cap of the cache; it is emptied when a call would go past it. */
  cacheMB: number;
}

/**
 * phi with its cache. A model and its clones share one instance: same encoder and projection, so
 * the same features, and a text encoded for one is there for all.
 *
 * predict, fit and evaluate are synchronous and read features through the encoder's `encodeSync`
 * (`ensure`). An encoder that embeds asynchronously (the ONNX one) serves synchronously only what
 * it has already embedded, or has no encodeSync at all; `prepare` embeds the texts through
 * `encode` first, so the synchronous calls then find everything they need.
 */
export class TextFeatures {
  readonly encoder: TextEncoder;
  /** Width of one feature block: textDim, or the encoder's dim without projection. */
  readonly dim: number;
  /** Fingerprint of the projection, so a checkpoint can tell the same seed now draws another one. */
  readonly checksum: number | null;
  /** dim x encoder.dim, row-major. */
  private readonly projection: Float64Array | null;
  private readonly cache = new Map<string, Float32Array>();
  private cacheMB: number;

  constructor(encoder: TextEncoder, opts: TextFeatureOptions) {
    this.encoder = encoder;
    this.dim = opts.textDim ?? encoder.dim;
    this.cacheMB = opts.cacheMB;
    const drawn = opts.textDim === null ? null : drawProjection(opts.seed, encoder.dim, opts.textDim);
    this.projection = drawn?.projection ?? null;
    this.checksum = drawn?.checksum ?? null;
  }

  /** A new cap (MB) for the cache, from its next call on (a fitted model that now predicts call by call needs little). */
  capCache(mb: number): void {
    this.cacheMB = mb;
  }

  /** The cached features of a text that `ensure` or `prepare` has seen in this call. */
  get(text: string): Float32Array {
    return this.cache.get(text)!;
  }

  /**
   * Computes and caches the features of the examples' texts through the encoder's asynchronous
   * `encode`; harmless when they are already there. Prepare the examples of each call just before
   * it: the cache is emptied when it would pass its cap, which can drop features prepared much
   * earlier.
   */
  async prepare(examples: readonly PctrExample[]): Promise<void> {
    const missing = this.missing(examples);
    if (missing.length === 0) return;
    const chunk = 1024;
    for (let k = 0; k < missing.length; k += chunk) {
      const texts = missing.slice(k, k + chunk);
      const vecs = await this.encoder.encode(texts);
      this.store(texts, vecs);
    }
  }

  /** Makes sure the examples' features are cached, encoding the missing ones synchronously. */
  ensure(examples: readonly PctrExample[]): void {
    const missing = this.missing(examples);
    if (missing.length === 0) return;
    const hint = 'await model.prepare(examples) before predict, fit or evaluate';
    if (!this.encoder.encodeSync) throw new Error(`text encoder "${this.encoder.name}" has no encodeSync: ${hint}`);
    const chunk = 4096;
    for (let k = 0; k < missing.length; k += chunk) {
      const texts = missing.slice(k, k + chunk);
      let vecs: Float32Array[];
      try {
        vecs = this.encoder.encodeSync(texts);
      } catch (err) {
        // An asynchronous encoder's encodeSync only serves what it has already embedded; the
        // remedy on this side is prepare, which the encoder's own message cannot point to.
        throw new Error(`text encoder "${this.encoder.name}" cannot embed ${missing.length} text(s) synchronously: ${hint} (${(err as Error).message})`);
      }
      this.store(texts, vecs);
    }
  }

  private missing(examples: readonly PctrExample[]): string[] {
    const cache = this.cache;
    const missing = new Set<string>();
    for (const ex of examples) {
      if (!cache.has(ex.query)) missing.add(ex.query);
      if (!cache.has(ex.response)) missing.add(ex.response);
    }
    const list = [...missing];
    // Empty the cache when this call would take it past its cap. Callers hold references to the
    // vectors they use, so clearing never invalidates a batch in progress.
    const bytesPerText = 4 * this.dim + 64;
    const cap = Math.floor((this.cacheMB * 2 ** 20) / bytesPerText);
    if (cache.size + list.length > cap && cache.size > 0) {
      cache.clear();
      return this.missing(examples);
    }
    return list;
  }

  private store(texts: readonly string[], vecs: readonly Float32Array[]): void {
    const { projection, cache } = this;
    const E = this.encoder.dim;
    const T = this.dim;
    const check = (v: Float32Array | undefined): Float32Array => {
      if (!v || v.length !== E) throw new Error(`text encoder "${this.encoder.name}" returned ${v?.length ?? 'no'} dims for a text, expected ${E}`);
      return v;
    };
    if (!projection) {
      texts.forEach((text, k) => cache.set(text, check(vecs[k])));
      return;
    }
    // Project blocks of texts as one matrix product with the layers' blocked kernel: encoder
    // outputs of long texts are nearly dense, so this beats any per-text sparse loop.
    const rows = 32;
    const x = new Float64Array(rows * E);
    const y = new Float64Array(rows * T);
    const zero = new Float64Array(T);
    for (let k = 0; k < texts.length; k += rows) {
      const count = Math.min(rows, texts.length - k);
      for (let r = 0; r < count; r++) x.set(check(vecs[k + r]), r * E);
      denseForward(projection, zero, E, T, x, count, y, false);
      for (let r = 0; r < count; r++) cache.set(texts[k + r]!, Float32Array.from(y.subarray(r * T, (r + 1) * T)));
    }
  }
}

/**
 * The frozen projection: entries N(0, 1/textDim), so a unit vector stays unit-norm on average.
 * Stored textDim x encoderDim, with a checksum of its entries.
 */
function drawProjection(seed: number, encoderDim: number, textDim: number): { projection: Float64Array; checksum: number } {
  const T = textDim;
  const E = encoderDim;
  const rng = Rng.derive(seed, 'pctr/projection', E, T);
  const p = new Float64Array(E * T);
  const scale = 1 / Math.sqrt(T);
  let checksum = 0;
  // Drawn input-major and rounded to float32: the matrix (and the checksum in checkpoints) of
  // the first version of this model, which stored it that way, so its checkpoints still load.
  for (let i = 0; i < E; i++) {
    for (let j = 0; j < T; j++) {
      const k = i * T + j;
      const v = Math.fround(gaussian(rng) * scale);
      p[j * E + i] = v;
      checksum += v * ((k % 7) + 1);
    }
  }
  return { projection: p, checksum };
}
