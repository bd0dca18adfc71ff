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
 * This file is the model as IRPO uses it: fitting, evaluation and checkpoints. Its configuration
 * and checkpoint format are in pctr-checkpoint.ts, phi and the exposure examples in
 * pctr-features.ts, the network and its gradient in pctr-network.ts, the quality measures in
 * pctr-metrics.ts, the Platt scaling in pctr-calibration.ts.
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
import { Rng } from '../lib/rng.ts';
import type { TextEncoder } from '../simulation/text-encoder.ts';
import { adamStep, base64ToF64, f64ToBase64, type Param } from './nn.ts';
import { CONTEXT_DIM, exposureContext, TextFeatures, type PctrExample } from './pctr-features.ts';
import { auc, expectedCalibrationError, logLoss, type PctrEvaluation } from './pctr-metrics.ts';
import { applyPlatt, fitPlatt, type PctrCalibration } from './pctr-calibration.ts';
import { Checkpoint, PCTR_FORMAT, PCTR_VERSION, PctrConfig, type PctrCheckpoint, type PctrConfigInput, type PctrTrainingOverrides } from './pctr-checkpoint.ts';
import { PctrNetwork, type Prepared } from './pctr-network.ts';

export { PCTR_FORMAT, PCTR_VERSION, PctrConfig, type PctrCalibration, type PctrCheckpoint, type PctrConfigInput, type PctrTrainingOverrides };



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
  /**
   * Labelled examples kept out of the fit (early stopping). Their log loss is measured before the
   * first pass and after each one; the weights (and Adam's state) of the best point are restored
   * at the end, and fitting stops after `patience` passes without improvement. With few examples
   * a fixed number of passes is either too few (the predictions stay near the mean click rate, so
   * b * pCTR never clears an ad's cost) or too many (it memorizes users and ads).
   */
  validation?: readonly PctrExample[];
  /** Passes without a better validation log loss before fitting stops (default 3). */
  patience?: number;
  /** At least this many Adam steps: more passes when there are few examples (default 0). */
  minSteps?: number;
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
  /** Validation log loss before the first pass and after each pass (empty without validation). */
  validationLosses: number[];
  /** Passes whose weights were kept: all of them without validation, else the best point (0: none). */
  keptEpochs: number;
}



export class PctrModel {
  readonly config: PctrConfig;
  readonly encoder: TextEncoder;
  /** Width of one text feature block: textDim, or the encoder's dim without projection. */
  readonly textDim: number;
  /** Width of the MLP input [phi(x); phi(y); e_h; e_a]. */
  readonly inputDim: number;
  readonly contextDim: number;

  private readonly text: TextFeatures;
  private readonly net: PctrNetwork;
  private steps = 0;
  /** Adam's step count t; restarts at 0 when a checkpoint without optimizer state is loaded. */
  private adamT = 0;
  private fits = 0;
  private examplesSeen = 0;
  private platt: PctrCalibration | null = null;

  private constructor(config: PctrConfig, text: TextFeatures) {
    this.config = config;
    this.encoder = text.encoder;
    this.text = text;
    this.textDim = text.dim;
    this.contextDim = config.contextFeatures ? CONTEXT_DIM : 0;
    this.net = new PctrNetwork({ ...config, textDim: this.textDim, contextDim: this.contextDim });
    this.inputDim = this.net.inputDim;
  }

  /** A fresh model: random MLP weights, empty vocabularies, projection drawn from the seed. */
  static create(config: PctrConfigInput, encoder: TextEncoder): PctrModel {
    const cfg = PctrConfig.parse(config ?? {});
    const model = new PctrModel(cfg, new TextFeatures(encoder, { seed: cfg.seed, textDim: cfg.textDim, cacheMB: cfg.textCacheMB }));
    model.net.initWeights(Rng.derive(cfg.seed, 'pctr/init'));
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
    const model = new PctrModel(cfg, previous.text);
    model.copyStateFrom(previous);
    return model;
  }

  clone(): PctrModel {
    return PctrModel.initFrom(this);
  }

  /** Known ids, in row order (row k+1 holds id k). */
  get users(): readonly string[] {
    return this.net.users;
  }

  get ads(): readonly string[] {
    return this.net.ads;
  }

  /** Adam steps taken so far. */
  get stepCount(): number {
    return this.steps;
  }

  /** Every learnable tensor: the two embedding tables, then each layer's weight and bias. */
  parameters(): Param[] {
    return this.net.parameters();
  }

  /** Gives rows to ids not seen yet (fit does this by itself for the ids of its examples). */
  addVocabulary(userIds: Iterable<string>, adIds: Iterable<string>): void {
    this.net.addVocabulary(userIds, adIds);
  }

  /** Caps the text-feature cache at `mb` from the next call on (see TextFeatures.capCache). */
  capTextCache(mb: number): void {
    this.text.capCache(mb);
  }

  /**
   * Computes and caches the text features of the examples through the encoder's asynchronous
   * `encode`. Needed before predict/fit/evaluate/lossAndGradients with an encoder whose
   * `encodeSync` cannot serve these texts (OnnxEncoder before it has embedded them) or that has
   * none; harmless otherwise. Prepare the examples of each call just before it: the feature cache
   * is emptied when it would pass `textCacheMB`, which can drop features prepared much earlier.
   */
  async prepare(examples: readonly PctrExample[]): Promise<void> {
    await this.text.prepare(examples);
  }

  /**
   * p_hat for each example (Eq. 3), after the Platt scaling if the model has one (see
   * `calibrate`); unknown users and ads use the shared unknown rows.
   */
  predict(examples: readonly PctrExample[]): Float64Array {
    const raw = this.net.predict(this.prepareSync(examples, false, false));
    const cal = this.platt;
    return cal ? applyPlatt(raw, cal) : raw;
  }

  /** The Platt scaling in use, or null. */
  get calibration(): PctrCalibration | null {
    return this.platt;
  }

  /**
   * Fits the Platt scaling (pctr-calibration.ts) on labelled held-out examples and applies it to
   * every later prediction; null, and no scaling, without a click or without a non-click. `fit`
   * drops the scaling, since it was fitted to the old weights.
   */
  calibrate(examples: readonly PctrExample[], prior = 2): PctrCalibration | null {
    this.platt = null;
    const raw = this.net.predict(this.prepareSync(examples, false, true));
    this.platt = fitPlatt(raw, examples.map((e) => e.click!), prior);
    return this.platt;
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
    const validationLosses: number[] = [];
    if (n === 0 || epochs === 0) {
      const seconds = (performance.now() - t0) / 1000;
      return { losses, seconds, encodeSeconds: data.encodeSeconds, examplesPerSecond: 0, steps: 0, validationLosses, keptEpochs: 0 };
    }
    this.platt = null; // fitted to the old weights
    if (this.steps === 0) this.net.initOutputBias(label);
    const fitIndex = this.fits++;
    const params = this.parameters();
    const adam = { lr: this.config.lr, weightDecay: this.config.weightDecay };
    const bs = Math.min(this.config.batchSize, n);
    this.net.ensureBuffers();
    const perm = new Int32Array(n);
    let steps = 0;
    // Early stopping: more passes for few examples, the best point on the validation set kept.
    const stepsPerPass = Math.ceil(n / bs);
    const passes = Math.max(epochs, Math.ceil((opts.minSteps ?? 0) / stepsPerPass));
    const val = opts.validation && opts.validation.length > 0 ? this.prepareSync(opts.validation, false, true) : null;
    const valLoss = () => logLoss(this.net.predict(val!), val!.label!);
    const snapshot = () => ({ values: params.map((p) => [p.value.slice(), p.m.slice(), p.v.slice()] as const), adamT: this.adamT, pass: losses.length });
    let best = val ? { loss: valLoss(), at: snapshot() } : null;
    if (best) validationLosses.push(best.loss);
    for (let e = 0; e < passes; e++) {
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
        lossSum += this.net.accumulate(data, perm, start, count, 1 / count, this.config.idDropout > 0 ? rng : null);
        this.steps++;
        this.adamT++;
        steps++;
        // Dense Adam over whole tables, as torch.optim.Adam treats an nn.Embedding without sparse
        // gradients: rows absent from the batch still move with their momentum.
        adamStep(params, this.adamT, adam);
      }
      losses.push(lossSum / n);
      opts.onEpoch?.(e, lossSum / n);
      if (best) {
        const loss = valLoss();
        validationLosses.push(loss);
        if (loss < best.loss) best = { loss, at: snapshot() };
        else if (losses.length - best.at.pass >= (opts.patience ?? 3)) break;
      }
    }
    this.examplesSeen += n * losses.length;
    let keptEpochs = losses.length;
    if (best && best.at.pass < losses.length) {
      best.at.values.forEach(([value, m, v], k) => {
        params[k]!.value = value;
        params[k]!.m = m;
        params[k]!.v = v;
      });
      this.adamT = best.at.adamT;
      keptEpochs = best.at.pass;
    }
    const seconds = (performance.now() - t0) / 1000;
    return { losses, seconds, encodeSeconds: data.encodeSeconds, examplesPerSecond: (n * losses.length) / seconds, steps, validationLosses, keptEpochs };
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
    const rows = this.net.ensureBuffers();
    let lossSum = 0;
    for (let start = 0; start < data.n; start += rows) {
      const count = Math.min(rows, data.n - start);
      lossSum += this.net.accumulate(data, null, start, count, 1 / data.n, null);
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
    model.platt = ck.calibration ? { ...ck.calibration } : null;
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
      users: [...this.net.users],
      ads: [...this.net.ads],
      params,
      state: { steps: this.steps, fits: this.fits, examplesSeen: this.examplesSeen },
    };
    if (this.platt) out.calibration = { ...this.platt };
    if (withOptimizer) out.optimizer = { t: this.adamT, m, v };
    return out;
  }

  private copyStateFrom(src: PctrModel): void {
    this.net.copyFrom(src.net);
    this.steps = src.steps;
    this.adamT = src.adamT;
    this.fits = src.fits;
    this.examplesSeen = src.examplesSeen;
    this.platt = src.platt ? { ...src.platt } : null;
  }

  private prepareSync(examples: readonly PctrExample[], grow: boolean, needLabels: boolean): Prepared {
    const t0 = performance.now();
    this.text.ensure(examples);
    const encodeSeconds = (performance.now() - t0) / 1000;
    if (grow) {
      this.addVocabulary(
        examples.map((e) => e.userId),
        examples.map((e) => e.adId),
      );
    }
    const n = examples.length;
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
      query[k] = this.text.get(ex.query);
      response[k] = this.text.get(ex.response);
      user[k] = this.net.userRow(ex.userId);
      ad[k] = this.net.adRow(ex.adId);
      if (label) {
        if (ex.click !== 0 && ex.click !== 1) throw new Error(`example ${k} has no click label (0 or 1): fit needs labelled examples`);
        label[k] = ex.click;
      }
    }
    return { n, query, response, user, ad, label, context, encodeSeconds };
  }
}
