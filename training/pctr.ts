/**
 * The pCTR reward model of LLM-Auction (paper section 4.1.1, Eq. 3 and 4; Appendix B.2.2):
 *
 *   p_hat_i = sigmoid( MLP( [ phi(x) ; phi(y) ; e_h ; e_{a_i} ] ) )
 *
 * phi is a frozen text encoder applied to the query x and to the whole ad-integrated response y,
 * e_h a learnable user-id embedding (64 dims) and e_{a_i} a learnable ad-id embedding (32 dims).
 * The MLP has hidden layers 128-64-32 with ReLU and a linear output; training minimizes the
 * binary cross-entropy over every exposed ad of every logged response with Adam (lr 1e-3,
 * batch 256). IRPO (Algorithm 1) refits it each epoch on the new online data, starting from the
 * previous weights, and scores sampled responses with it (Eq. 5).
 *
 * Text features. The encoder is never trained, so each distinct text is encoded once and cached.
 * The paper's encoder outputs 1024 dims; to keep CPU training fast the features can go through a
 * fixed random projection to `textDim` dims (a Johnson-Lindenstrauss map: inner products and
 * norms are kept approximately). The projection is drawn once from the seed and is as frozen as
 * the encoder: it is part of phi, not of the learnable parameters. `textDim: null` feeds the
 * encoder's output as it is.
 *
 * Asynchronous encoders. predict, fit, evaluate and lossAndGradients are synchronous and read text
 * features through the encoder's `encodeSync`. The lexical encoder always has them; an ONNX encoder
 * (simulation/onnx-encoder.ts) runs its model asynchronously and serves synchronously only what it
 * has already embedded, and an encoder may have no encodeSync at all. With those, call
 * `await model.prepare(examples)` on the examples first: it embeds them through `encode` and keeps
 * their features, so the synchronous calls then find everything they need. Without it they throw
 * an error that says so.
 *
 * Everything runs in plain TypeScript on Float64Arrays (training/nn.ts); all randomness comes
 * from the config's seed, so the same seed and the same calls give bit-identical weights.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { Rng } from '../mechanism/rng.ts';
import type { Episode } from '../simulation/episode.ts';
import { cosine, lexicalEncoder, type TextEncoder } from '../simulation/text-encoder.ts';
import { adamStep, base64ToF64, bceWithLogit, Dense, denseForward, f64ToBase64, gaussian, Param, sigmoid } from './nn.ts';

export const PctrConfig = z.strictObject({
  userDim: z.number().int().positive().default(64).describe('Size of the learnable user-id embedding e_h (paper: 64)'),
  adDim: z.number().int().positive().default(32).describe('Size of the learnable ad-id embedding e_{a_i} (paper: 32)'),
  hidden: z
    .array(z.number().int().positive())
    .default(() => [128, 64, 32])
    .describe('Hidden layer widths of the MLP, each followed by a ReLU (paper: 128, 64, 32)'),
  lr: z.number().positive().default(1e-3).describe('Adam learning rate (paper: 1e-3)'),
  batchSize: z.number().int().positive().default(256).describe('Mini-batch size of fit (paper: 256)'),
  epochs: z.number().int().positive().default(2).describe('Passes over the examples in one call of fit'),
  weightDecay: z.number().min(0).default(0).describe('Decoupled (AdamW-style) weight decay per step; 0 is plain Adam as in the paper'),
  seed: z.number().int().default(0).describe('Seed of the initialization, the text projection, the shuffling and the id dropout'),
  textDim: z
    .number()
    .int()
    .positive()
    .nullable()
    .default(128)
    .describe(
      'Size of the fixed random projection of each text embedding (drawn once from the seed, never trained, like the encoder); null uses the encoder output as it is',
    ),
  idDropout: z
    .number()
    .min(0)
    .lt(1)
    .default(0)
    .describe('Training-time probability of replacing a user or ad id by the shared "unknown" row, so that row learns an average; 0 leaves it at zero'),
  textCacheMB: z.number().positive().default(256).describe('Memory cap of the cache of text features; it is emptied when a call would go past it'),
  contextFeatures: z
    .boolean()
    .default(false)
    .describe(
      "Append the exposure's context, read off (x, a_i, y): insertions in the response, the ad's position among them, woven or listed, and the title's lexical similarity to the question",
    ),
});
export type PctrConfig = z.infer<typeof PctrConfig>;
export type PctrConfigInput = z.input<typeof PctrConfig>;

/** Training hyperparameters that may change between fits of the same network (see initFrom). */
export type PctrTrainingOverrides = Partial<Pick<PctrConfig, 'lr' | 'batchSize' | 'epochs' | 'weightDecay' | 'idDropout'>>;

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

// ---------------------------------------------------------------------------------------------
// Metrics

/**
 * Area under the ROC curve: the probability that a random positive scores above a random
 * negative, ties counting one half (Mann-Whitney U with mid-ranks). NaN when a class is absent.
 */
export function auc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const n = scores.length;
  if (labels.length !== n) throw new RangeError(`auc: ${n} scores for ${labels.length} labels`);
  const order = Array.from({ length: n }, (_, k) => k).sort((a, b) => scores[a]! - scores[b]!);
  let pos = 0;
  let rankSumPos = 0;
  for (let k = 0; k < n; ) {
    let j = k;
    while (j + 1 < n && scores[order[j + 1]!] === scores[order[k]!]) j++;
    // Ranks k+1..j+1 are tied: each gets their mean.
    const midRank = (k + j + 2) / 2;
    for (let t = k; t <= j; t++) {
      if (labels[order[t]!] === 1) {
        pos++;
        rankSumPos += midRank;
      }
    }
    k = j + 1;
  }
  const neg = n - pos;
  if (pos === 0 || neg === 0) return Number.NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Mean binary cross-entropy of probabilities against 0/1 labels (probabilities clamped away from 0 and 1). */
export function logLoss(preds: ArrayLike<number>, labels: ArrayLike<number>, eps = 1e-12): number {
  const n = preds.length;
  if (n === 0) return Number.NaN;
  let s = 0;
  for (let k = 0; k < n; k++) {
    const p = Math.min(1 - eps, Math.max(eps, preds[k]!));
    s -= labels[k] === 1 ? Math.log(p) : Math.log(1 - p);
  }
  return s / n;
}

/**
 * Expected calibration error with `bins` equal-width bins on [0, 1]: the mean over examples of
 * |mean prediction - click rate| of the example's bin. Reward-model calibration matters here
 * because Eq. 5 multiplies pCTR by the bid: a biased pCTR biases the reward, not just a ranking.
 */
export function expectedCalibrationError(preds: ArrayLike<number>, labels: ArrayLike<number>, bins = 10): number {
  const n = preds.length;
  if (n === 0) return Number.NaN;
  const count = new Float64Array(bins);
  const sumP = new Float64Array(bins);
  const sumY = new Float64Array(bins);
  for (let k = 0; k < n; k++) {
    const p = preds[k]!;
    const b = Math.min(bins - 1, Math.max(0, Math.floor(p * bins)));
    count[b]! += 1;
    sumP[b]! += p;
    sumY[b]! += labels[k] === 1 ? 1 : 0;
  }
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b]! > 0) ece += Math.abs(sumP[b]! - sumY[b]!) / n;
  return ece;
}

export interface PctrEvaluation {
  n: number;
  auc: number;
  logLoss: number;
  /** Expected calibration error, 10 equal-width bins. */
  ece: number;
  positiveRate: number;
  meanPrediction: number;
}

export interface PctrFitOptions {
  /** Passes over the examples (default: the config's epochs). */
  epochs?: number;
  /**
   * Seed of this call's shuffling and id dropout. Default: derived from the config's seed and the
   * number of earlier fits. A caller that resumes from checkpoints (IRPO) can pass one derived from
   * its own epoch so a resumed run draws the same batches as an uninterrupted one.
   */
  seed?: number;
  /** Called after each pass with its 0-based index and mean training BCE. */
  onEpoch?: (epoch: number, meanLoss: number) => void;
}

export interface PctrFitResult {
  /** Mean BCE of each pass, measured on each mini-batch just before its update. */
  losses: number[];
  /** Wall time of the whole call, text encoding included. */
  seconds: number;
  /** Time spent computing text features not yet cached. */
  encodeSeconds: number;
  /** examples x epochs / seconds. */
  examplesPerSecond: number;
  /** Adam steps taken by this call. */
  steps: number;
}

export const PCTR_FORMAT = 'llm-auction-pctr';
export const PCTR_VERSION = 1;

/** The JSON checkpoint. Tensors are base64 of their float64 bytes, so a round trip is exact. */
export interface PctrCheckpoint {
  format: typeof PCTR_FORMAT;
  version: typeof PCTR_VERSION;
  config: PctrConfig;
  encoder: { name: string; dim: number };
  /** Fingerprint of the random projection, to detect a change of random generator on load. */
  projectionChecksum: number | null;
  /** Known ids in row order; row 0 of each table is the shared "unknown" row and is not listed. */
  users: string[];
  ads: string[];
  params: Record<string, string>;
  /** Adam's moments, so resuming from a checkpoint continues exactly; absent in slim saves. */
  optimizer?: { t: number; m: Record<string, string>; v: Record<string, string> };
  state: { steps: number; fits: number; examplesSeen: number };
}

const Checkpoint = z.object({
  format: z.literal(PCTR_FORMAT),
  version: z.literal(PCTR_VERSION),
  config: PctrConfig,
  encoder: z.object({ name: z.string(), dim: z.number().int().positive() }),
  projectionChecksum: z.number().nullable(),
  users: z.array(z.string()),
  ads: z.array(z.string()),
  params: z.record(z.string(), z.string()),
  optimizer: z.object({ t: z.number().int().min(0), m: z.record(z.string(), z.string()), v: z.record(z.string(), z.string()) }).optional(),
  state: z.object({ steps: z.number().int().min(0), fits: z.number().int().min(0), examplesSeen: z.number().min(0) }),
});

/** Examples turned into what the network reads: cached text features and embedding rows. */
interface Prepared {
  n: number;
  query: Float32Array[];
  response: Float32Array[];
  user: Int32Array;
  ad: Int32Array;
  label: Float64Array | null;
  /** n x CONTEXT_DIM exposure-context features (empty without contextFeatures). */
  context: Float64Array;
  encodeSeconds: number;
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

/** Shared between a model and its clones: same encoder and projection, so same features. */
interface TextFeatures {
  /** textDim x encoderDim, row-major. */
  projection: Float64Array | null;
  checksum: number | null;
  cache: Map<string, Float32Array>;
}

const UNKNOWN = 0;

export class PctrModel {
  readonly config: PctrConfig;
  readonly encoder: TextEncoder;
  /** Width of one text feature block: textDim, or the encoder's dim without projection. */
  readonly textDim: number;
  /** Width of the MLP input [phi(x); phi(y); e_h; e_a]. */
  readonly inputDim: number;
  readonly contextDim: number;

  private readonly text: TextFeatures;
  private readonly userRow = new Map<string, number>();
  private readonly adRow = new Map<string, number>();
  private readonly userIds: string[] = [];
  private readonly adIds: string[] = [];
  private readonly userEmb: Param;
  private readonly adEmb: Param;
  private readonly layers: Dense[];
  private steps = 0;
  /** Adam's step count t; restarts at 0 when a checkpoint without optimizer state is loaded. */
  private adamT = 0;
  private fits = 0;
  private examplesSeen = 0;

  // Batch buffers, sized for `bufferRows` rows and reused by every forward and backward pass.
  private bufferRows = 0;
  private acts: Float64Array[] = [];
  private deltas: Float64Array[] = [];
  private dx0 = new Float64Array(0);
  private batchUser = new Int32Array(0);
  private batchAd = new Int32Array(0);

  private constructor(config: PctrConfig, encoder: TextEncoder, text: TextFeatures) {
    this.config = config;
    this.encoder = encoder;
    this.text = text;
    this.textDim = config.textDim ?? encoder.dim;
    this.contextDim = config.contextFeatures ? CONTEXT_DIM : 0;
    this.inputDim = 2 * this.textDim + config.userDim + config.adDim + this.contextDim;
    // Row 0 is the unknown row; it starts at zero, a neutral input, and moves only under idDropout.
    this.userEmb = new Param('user_embedding', config.userDim);
    this.adEmb = new Param('ad_embedding', config.adDim);
    const widths = [this.inputDim, ...config.hidden, 1];
    this.layers = [];
    for (let l = 0; l + 1 < widths.length; l++) {
      const name = l + 2 === widths.length ? 'out' : `fc${l + 1}`;
      this.layers.push(new Dense(name, widths[l]!, widths[l + 1]!));
    }
  }

  /** A fresh model: random MLP weights, empty vocabularies, projection drawn from the seed. */
  static create(config: PctrConfigInput, encoder: TextEncoder): PctrModel {
    const cfg = PctrConfig.parse(config ?? {});
    const model = new PctrModel(cfg, encoder, makeTextFeatures(cfg, encoder.dim));
    const rng = Rng.derive(cfg.seed, 'pctr/init');
    for (const layer of model.layers) layer.initUniform(rng);
    return model;
  }

  /**
   * A copy that starts from `previous`'s weights, vocabularies and optimizer state (psi_{t-1} ->
   * psi_t in Algorithm 1), optionally with other training hyperparameters. `previous` is left as
   * it is, so IRPO can keep the old reward model while fitting the new one. Calling `fit` again on
   * the same model is the in-place form of the same thing.
   */
  static initFrom(previous: PctrModel, overrides: PctrTrainingOverrides = {}): PctrModel {
    const cfg = PctrConfig.parse({ ...previous.config, ...overrides });
    const model = new PctrModel(cfg, previous.encoder, previous.text);
    model.copyStateFrom(previous);
    return model;
  }

  clone(): PctrModel {
    return PctrModel.initFrom(this);
  }

  /** Known ids, in row order (row k+1 holds id k). */
  get users(): readonly string[] {
    return this.userIds;
  }

  get ads(): readonly string[] {
    return this.adIds;
  }

  /** Adam steps taken so far. */
  get stepCount(): number {
    return this.steps;
  }

  /** Every learnable tensor: the two embedding tables, then each layer's weight and bias. */
  parameters(): Param[] {
    const out = [this.userEmb, this.adEmb];
    for (const l of this.layers) out.push(l.W, l.b);
    return out;
  }

  /** Gives rows to ids not seen yet (fit does this by itself for the ids of its examples). */
  addVocabulary(userIds: Iterable<string>, adIds: Iterable<string>): void {
    this.growTable(this.userEmb, this.userRow, this.userIds, this.config.userDim, 'user', userIds);
    this.growTable(this.adEmb, this.adRow, this.adIds, this.config.adDim, 'ad', adIds);
  }

  /**
   * Computes and caches the text features of the examples through the encoder's asynchronous
   * `encode`. Needed before predict/fit/evaluate/lossAndGradients with an encoder whose
   * `encodeSync` cannot serve these texts (OnnxEncoder before it has embedded them) or that has
   * none; harmless otherwise. Prepare the examples of each call just before it: the feature cache
   * is emptied when it would pass `textCacheMB`, which can drop features prepared much earlier.
   */
  async prepare(examples: readonly PctrExample[]): Promise<void> {
    const missing = this.missingTexts(examples);
    if (missing.length === 0) return;
    const chunk = 1024;
    for (let k = 0; k < missing.length; k += chunk) {
      const texts = missing.slice(k, k + chunk);
      const vecs = await this.encoder.encode(texts);
      this.storeFeatures(texts, vecs);
    }
  }

  /** p_hat for each example (Eq. 3); unknown users and ads use the shared unknown rows. */
  predict(examples: readonly PctrExample[]): Float64Array {
    const data = this.prepareSync(examples, false, false);
    const out = new Float64Array(data.n);
    const rows = this.ensureBuffers();
    const logits = this.acts[this.layers.length]!;
    for (let start = 0; start < data.n; start += rows) {
      const count = Math.min(rows, data.n - start);
      this.forward(data, null, start, count, null);
      for (let r = 0; r < count; r++) out[start + r] = sigmoid(logits[r]!);
    }
    return out;
  }

  /**
   * Mini-batch Adam on the BCE of Eq. 4, continuing from the current weights. Ids not seen before
   * get new embedding rows. Batches are drawn by shuffling with a stream derived from the seed
   * and the number of earlier fits, so a model's history fully determines its weights.
   */
  fit(examples: readonly PctrExample[], opts: PctrFitOptions = {}): PctrFitResult {
    const t0 = performance.now();
    const epochs = opts.epochs ?? this.config.epochs;
    if (!Number.isInteger(epochs) || epochs < 0) throw new RangeError(`epochs must be a non-negative integer, got ${epochs}`);
    const data = this.prepareSync(examples, true, true);
    const { n } = data;
    const label = data.label!;
    const losses: number[] = [];
    if (n === 0 || epochs === 0) {
      const seconds = (performance.now() - t0) / 1000;
      return { losses, seconds, encodeSeconds: data.encodeSeconds, examplesPerSecond: 0, steps: 0 };
    }
    if (this.steps === 0) this.initOutputBias(label);
    const fitIndex = this.fits++;
    const params = this.parameters();
    const adam = { lr: this.config.lr, weightDecay: this.config.weightDecay };
    const bs = Math.min(this.config.batchSize, n);
    this.ensureBuffers();
    const perm = new Int32Array(n);
    let steps = 0;
    for (let e = 0; e < epochs; e++) {
      const rng = opts.seed === undefined ? Rng.derive(this.config.seed, 'pctr/fit', fitIndex, e) : Rng.derive(opts.seed, 'pctr/fit', e);
      for (let k = 0; k < n; k++) perm[k] = k;
      for (let k = n - 1; k > 0; k--) {
        const j = rng.int(0, k);
        const t = perm[k]!;
        perm[k] = perm[j]!;
        perm[j] = t;
      }
      let lossSum = 0;
      for (let start = 0; start < n; start += bs) {
        const count = Math.min(bs, n - start);
        for (const p of params) p.zeroGrad();
        lossSum += this.accumulate(data, perm, start, count, 1 / count, this.config.idDropout > 0 ? rng : null);
        this.steps++;
        this.adamT++;
        steps++;
        // Dense Adam over whole tables, as torch.optim.Adam treats an nn.Embedding without sparse
        // gradients: rows absent from the batch still move with their momentum.
        adamStep(params, this.adamT, adam);
      }
      losses.push(lossSum / n);
      opts.onEpoch?.(e, lossSum / n);
    }
    this.examplesSeen += n * epochs;
    const seconds = (performance.now() - t0) / 1000;
    return { losses, seconds, encodeSeconds: data.encodeSeconds, examplesPerSecond: (n * epochs) / seconds, steps };
  }

  /**
   * The mean BCE over all examples (one full batch, no id dropout) with its gradient left in
   * each parameter's `grad`; no update. For gradient checks and diagnostics. New ids get rows.
   */
  lossAndGradients(examples: readonly PctrExample[]): number {
    const data = this.prepareSync(examples, true, true);
    const params = this.parameters();
    for (const p of params) p.zeroGrad();
    if (data.n === 0) return Number.NaN;
    const rows = this.ensureBuffers();
    let lossSum = 0;
    for (let start = 0; start < data.n; start += rows) {
      const count = Math.min(rows, data.n - start);
      lossSum += this.accumulate(data, null, start, count, 1 / data.n, null);
    }
    return lossSum / data.n;
  }

  evaluate(examples: readonly PctrExample[]): PctrEvaluation {
    const labels = new Float64Array(examples.length);
    let pos = 0;
    examples.forEach((ex, k) => {
      if (ex.click !== 0 && ex.click !== 1) throw new Error(`evaluate: example ${k} has no click label (0 or 1)`);
      labels[k] = ex.click;
      pos += ex.click;
    });
    const preds = this.predict(examples);
    let sumP = 0;
    for (let k = 0; k < preds.length; k++) sumP += preds[k]!;
    const n = examples.length;
    return {
      n,
      auc: auc(preds, labels),
      logLoss: logLoss(preds, labels),
      ece: expectedCalibrationError(preds, labels, 10),
      positiveRate: n ? pos / n : Number.NaN,
      meanPrediction: n ? sumP / n : Number.NaN,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Checkpoints

  toJSON(): PctrCheckpoint {
    return this.checkpoint(true);
  }

  /** Writes the checkpoint atomically (temporary file, then rename). `optimizer: false` drops Adam's moments. */
  save(path: string, opts: { optimizer?: boolean } = {}): void {
    mkdirSync(dirname(path), { recursive: true });
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, JSON.stringify(this.checkpoint(opts.optimizer ?? true)));
    renameSync(tmp, path);
  }

  static load(path: string, encoder: TextEncoder): PctrModel {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`${path}: not a readable pCTR checkpoint (${(err as Error).message})`);
    }
    try {
      return PctrModel.fromJSON(json, encoder);
    } catch (err) {
      throw new Error(`${path}: ${(err as Error).message}`);
    }
  }

  static fromJSON(json: unknown, encoder: TextEncoder): PctrModel {
    const head = (json ?? {}) as { format?: unknown; version?: unknown };
    if (typeof json !== 'object' || head.format !== PCTR_FORMAT) {
      throw new Error(`not a pCTR checkpoint: format is ${JSON.stringify(head.format)}, expected "${PCTR_FORMAT}"`);
    }
    if (head.version !== PCTR_VERSION) {
      throw new Error(`pCTR checkpoint version ${JSON.stringify(head.version)} is not supported: this build reads version ${PCTR_VERSION} only`);
    }
    const parsed = Checkpoint.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw new Error(`invalid pCTR checkpoint at ${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
    const ck = parsed.data;
    if (ck.encoder.dim !== encoder.dim || ck.encoder.name !== encoder.name) {
      throw new Error(
        `pCTR checkpoint was trained on text encoder "${ck.encoder.name}" (${ck.encoder.dim} dims), not "${encoder.name}" (${encoder.dim} dims): its text features would mean nothing`,
      );
    }
    const model = PctrModel.create(ck.config, encoder);
    if (ck.projectionChecksum !== model.text.checksum) {
      const same =
        ck.projectionChecksum !== null &&
        model.text.checksum !== null &&
        Math.abs(ck.projectionChecksum - model.text.checksum) <= 1e-9 * Math.max(1, Math.abs(ck.projectionChecksum));
      if (!same) throw new Error('pCTR checkpoint: the text projection drawn from its seed differs from the one it was trained with (random generator changed?)');
    }
    model.addVocabulary(ck.users, ck.ads);
    for (const p of model.parameters()) {
      const text = ck.params[p.name];
      if (text === undefined) throw new Error(`invalid pCTR checkpoint: parameter ${p.name} is missing`);
      p.value = base64ToF64(text, p.size, p.name);
      if (ck.optimizer) {
        const m = ck.optimizer.m[p.name];
        const v = ck.optimizer.v[p.name];
        if (m === undefined || v === undefined) throw new Error(`invalid pCTR checkpoint: optimizer state of ${p.name} is missing`);
        p.m = base64ToF64(m, p.size, `${p.name} (Adam m)`);
        p.v = base64ToF64(v, p.size, `${p.name} (Adam v)`);
      }
    }
    model.steps = ck.state.steps;
    model.adamT = ck.optimizer?.t ?? 0;
    model.fits = ck.state.fits;
    model.examplesSeen = ck.state.examplesSeen;
    return model;
  }

  // ---------------------------------------------------------------------------------------------
  // Internals

  private checkpoint(withOptimizer: boolean): PctrCheckpoint {
    const params: Record<string, string> = {};
    const m: Record<string, string> = {};
    const v: Record<string, string> = {};
    for (const p of this.parameters()) {
      params[p.name] = f64ToBase64(p.value);
      if (withOptimizer) {
        m[p.name] = f64ToBase64(p.m);
        v[p.name] = f64ToBase64(p.v);
      }
    }
    const out: PctrCheckpoint = {
      format: PCTR_FORMAT,
      version: PCTR_VERSION,
      config: { ...this.config, hidden: [...this.config.hidden] },
      encoder: { name: this.encoder.name, dim: this.encoder.dim },
      projectionChecksum: this.text.checksum,
      users: [...this.userIds],
      ads: [...this.adIds],
      params,
      state: { steps: this.steps, fits: this.fits, examplesSeen: this.examplesSeen },
    };
    if (withOptimizer) out.optimizer = { t: this.adamT, m, v };
    return out;
  }

  private copyStateFrom(src: PctrModel): void {
    this.addVocabulary(src.userIds, src.adIds);
    const mine = this.parameters();
    const theirs = src.parameters();
    mine.forEach((p, k) => {
      const q = theirs[k]!;
      p.value = q.value.slice();
      p.m = q.m.slice();
      p.v = q.v.slice();
    });
    this.steps = src.steps;
    this.adamT = src.adamT;
    this.fits = src.fits;
    this.examplesSeen = src.examplesSeen;
  }

  /**
   * Rows for new ids. A new row's initial value depends only on (seed, id), not on the order in
   * which ids arrive, so two runs that meet the same ids in a different order agree. Rows are
   * N(0, 1/dim): unit norm on average, the same scale as the unit-norm text features beside them.
   */
  private growTable(table: Param, rows: Map<string, number>, ids: string[], dim: number, kind: string, incoming: Iterable<string>): void {
    const fresh: string[] = [];
    for (const id of incoming) {
      if (!rows.has(id)) {
        rows.set(id, ids.length + fresh.length + 1);
        fresh.push(id);
      }
    }
    if (fresh.length === 0) return;
    const first = ids.length + 1;
    table.grow((first + fresh.length) * dim);
    const scale = 1 / Math.sqrt(dim);
    fresh.forEach((id, k) => {
      const rng = Rng.derive(this.config.seed, `pctr/${kind}`, id);
      const o = (first + k) * dim;
      for (let i = 0; i < dim; i++) table.value[o + i] = gaussian(rng) * scale;
    });
    // A loop, not push(...fresh): spreading a very large list would overflow the call stack.
    for (const id of fresh) ids.push(id);
  }

  /**
   * Starts the output bias at the log-odds of the click rate of the first data seen, so the first
   * steps learn which examples differ from the average instead of the average itself (click
   * rates are a few percent, far from the 0.5 a zero bias predicts).
   */
  private initOutputBias(label: Float64Array): void {
    let pos = 0;
    for (let k = 0; k < label.length; k++) pos += label[k]!;
    const rate = Math.min(1 - 1e-4, Math.max(1e-4, pos / label.length));
    this.layers[this.layers.length - 1]!.b.value[0] = Math.log(rate / (1 - rate));
  }

  private missingTexts(examples: readonly PctrExample[]): string[] {
    const cache = this.text.cache;
    const missing = new Set<string>();
    for (const ex of examples) {
      if (!cache.has(ex.query)) missing.add(ex.query);
      if (!cache.has(ex.response)) missing.add(ex.response);
    }
    const list = [...missing];
    // Empty the cache when this call would take it past its cap. Callers hold references to the
    // vectors they use, so clearing never invalidates a batch in progress.
    const bytesPerText = 4 * this.textDim + 64;
    const cap = Math.floor((this.config.textCacheMB * 2 ** 20) / bytesPerText);
    if (cache.size + list.length > cap && cache.size > 0) {
      cache.clear();
      return this.missingTexts(examples);
    }
    return list;
  }

  private storeFeatures(texts: readonly string[], vecs: readonly Float32Array[]): void {
    const { projection, cache } = this.text;
    const E = this.encoder.dim;
    const T = this.textDim;
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

  private prepareSync(examples: readonly PctrExample[], grow: boolean, needLabels: boolean): Prepared {
    const t0 = performance.now();
    const missing = this.missingTexts(examples);
    if (missing.length > 0) {
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
        this.storeFeatures(texts, vecs);
      }
    }
    const encodeSeconds = (performance.now() - t0) / 1000;
    if (grow) {
      this.addVocabulary(
        examples.map((e) => e.userId),
        examples.map((e) => e.adId),
      );
    }
    const n = examples.length;
    const cache = this.text.cache;
    const query: Float32Array[] = new Array(n);
    const response: Float32Array[] = new Array(n);
    const user = new Int32Array(n);
    const ad = new Int32Array(n);
    const label = needLabels ? new Float64Array(n) : null;
    const C = this.contextDim;
    const context = new Float64Array(n * C);
    for (let k = 0; k < n; k++) {
      const ex = examples[k]!;
      if (C > 0) context.set(exposureContext(ex.query, ex.response, ex.adId), k * C);
      query[k] = cache.get(ex.query)!;
      response[k] = cache.get(ex.response)!;
      user[k] = this.userRow.get(ex.userId) ?? UNKNOWN;
      ad[k] = this.adRow.get(ex.adId) ?? UNKNOWN;
      if (label) {
        if (ex.click !== 0 && ex.click !== 1) throw new Error(`example ${k} has no click label (0 or 1): fit needs labelled examples`);
        label[k] = ex.click;
      }
    }
    return { n, query, response, user, ad, label, context, encodeSeconds };
  }

  /** Allocates the batch buffers once (or again after a batch-size change); returns their row count. */
  private ensureBuffers(): number {
    const rows = Math.max(this.config.batchSize, 256);
    if (rows === this.bufferRows) return rows;
    this.bufferRows = rows;
    this.acts = [new Float64Array(rows * this.inputDim), ...this.layers.map((l) => new Float64Array(rows * l.outDim))];
    this.deltas = this.layers.map((l) => new Float64Array(rows * l.outDim));
    this.dx0 = new Float64Array(rows * this.inputDim);
    this.batchUser = new Int32Array(rows);
    this.batchAd = new Int32Array(rows);
    return rows;
  }

  /** Fills the input rows of a batch and runs the MLP; logits end up in the last activation buffer. */
  private forward(data: Prepared, idx: Int32Array | null, start: number, count: number, dropRng: Rng | null): void {
    const T = this.textDim;
    const U = this.config.userDim;
    const A = this.config.adDim;
    const D = this.inputDim;
    const x = this.acts[0]!;
    const ue = this.userEmb.value;
    const ae = this.adEmb.value;
    const drop = this.config.idDropout;
    for (let r = 0; r < count; r++) {
      const k = idx ? idx[start + r]! : start + r;
      let u = data.user[k]!;
      let a = data.ad[k]!;
      if (dropRng) {
        if (dropRng.uniform() < drop) u = UNKNOWN;
        if (dropRng.uniform() < drop) a = UNKNOWN;
      }
      this.batchUser[r] = u;
      this.batchAd[r] = a;
      const q = data.query[k]!;
      const y = data.response[k]!;
      let o = r * D;
      for (let i = 0; i < T; i++) x[o + i] = q[i]!;
      o += T;
      for (let i = 0; i < T; i++) x[o + i] = y[i]!;
      o += T;
      const uo = u * U;
      for (let i = 0; i < U; i++) x[o + i] = ue[uo + i]!;
      o += U;
      const ao = a * A;
      for (let i = 0; i < A; i++) x[o + i] = ae[ao + i]!;
      o += A;
      const C = this.contextDim;
      for (let i = 0; i < C; i++) x[o + i] = data.context[k * C + i]!;
    }
    const L = this.layers.length;
    for (let l = 0; l < L; l++) this.layers[l]!.forward(this.acts[l]!, count, this.acts[l + 1]!, l + 1 < L);
  }

  /**
   * Forward and backward for one batch; adds scale x dBCE/dparam to the gradients and returns the
   * batch's summed (unscaled) BCE.
   */
  private accumulate(data: Prepared, idx: Int32Array | null, start: number, count: number, scale: number, dropRng: Rng | null): number {
    this.forward(data, idx, start, count, dropRng);
    const L = this.layers.length;
    const logits = this.acts[L]!;
    const dOut = this.deltas[L - 1]!;
    const label = data.label!;
    let lossSum = 0;
    for (let r = 0; r < count; r++) {
      const k = idx ? idx[start + r]! : start + r;
      const z = logits[r]!;
      const y = label[k]!;
      lossSum += bceWithLogit(z, y);
      // d BCE / d logit = sigmoid(z) - y: the sigmoid and the log cancel.
      dOut[r] = (sigmoid(z) - y) * scale;
    }
    for (let l = L - 1; l >= 0; l--) {
      const layer = this.layers[l]!;
      if (l > 0) {
        const dPrev = this.deltas[l - 1]!;
        layer.backward(this.acts[l]!, this.deltas[l]!, count, dPrev, 0);
        // Through the ReLU: a unit that output 0 passes no gradient.
        const a = this.acts[l]!;
        const len = count * layer.inDim;
        for (let i = 0; i < len; i++) if (a[i]! <= 0) dPrev[i] = 0;
      } else {
        layer.backward(this.acts[0]!, this.deltas[0]!, count, this.dx0, 2 * this.textDim);
      }
    }
    // Scatter the input gradient of the embedding columns into the rows the batch used.
    const T2 = 2 * this.textDim;
    const U = this.config.userDim;
    const A = this.config.adDim;
    const D = this.inputDim;
    const gu = this.userEmb.grad;
    const ga = this.adEmb.grad;
    const dx = this.dx0;
    for (let r = 0; r < count; r++) {
      const o = r * D + T2;
      const uo = this.batchUser[r]! * U;
      for (let i = 0; i < U; i++) gu[uo + i]! += dx[o + i]!;
      const ao = this.batchAd[r]! * A;
      for (let i = 0; i < A; i++) ga[ao + i]! += dx[o + U + i]!;
    }
    return lossSum;
  }
}

/**
 * The frozen projection: entries N(0, 1/textDim), so a unit vector stays unit-norm on average.
 * Stored textDim x encoderDim. The checksum lets a checkpoint detect that a different projection
 * would be drawn from the same seed.
 */
function makeTextFeatures(cfg: PctrConfig, encoderDim: number): TextFeatures {
  if (cfg.textDim === null) return { projection: null, checksum: null, cache: new Map() };
  const T = cfg.textDim;
  const E = encoderDim;
  const rng = Rng.derive(cfg.seed, 'pctr/projection', E, T);
  const p = new Float64Array(E * T);
  const scale = 1 / Math.sqrt(T);
  let checksum = 0;
  // Drawn input-major and rounded to float32: the matrix (and the checksum in checkpoints) of
  // the first version of this file, which stored it that way, so its checkpoints still load.
  for (let i = 0; i < E; i++) {
    for (let j = 0; j < T; j++) {
      const k = i * T + j;
      const v = Math.fround(gaussian(rng) * scale);
      p[j * E + i] = v;
      checksum += v * ((k % 7) + 1);
    }
  }
  return { projection: p, checksum, cache: new Map() };
}
