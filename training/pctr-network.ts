/**
 * The network of Eq. 3, MLP([phi(x); phi(y); e_h; e_{a_i}]) -> logit, with its learnable user-id
 * and ad-id embedding tables, and its backward pass for the binary cross-entropy of Eq. 4. The
 * text features come in already computed (pctr-features.ts); this holds every learnable tensor.
 */
import { Rng } from '../lib/rng.ts';
import { bceWithLogit, Dense, gaussian, Param, sigmoid } from './nn.ts';

/** Examples turned into what the network reads: cached text features and embedding rows. */
export interface Prepared {
  n: number;
  query: Float32Array[];
  response: Float32Array[];
  user: Int32Array;
  ad: Int32Array;
  label: Float64Array | null;
  /** n x contextDim exposure-context features (empty without them). */
  context: Float64Array;
  encodeSeconds: number;
}

export interface PctrNetworkShape {
  textDim: number;
  contextDim: number;
  userDim: number;
  adDim: number;
  hidden: readonly number[];
  /** Seeds the first value of each new embedding row. */
  seed: number;
  /** Mini-batch size: the batch buffers hold this many rows, and at least 256. */
  batchSize: number;
  /** Training-time probability of reading an id as unknown. */
  idDropout: number;
}

/** Row 0 of each table: the shared "unknown" id. */
const UNKNOWN = 0;

export class PctrNetwork {
  /** Width of the MLP input [phi(x); phi(y); e_h; e_a; context]. */
  readonly inputDim: number;

  private readonly shape: PctrNetworkShape;
  private readonly userRows = new Map<string, number>();
  private readonly adRows = new Map<string, number>();
  private readonly userIds: string[] = [];
  private readonly adIds: string[] = [];
  private readonly userEmb: Param;
  private readonly adEmb: Param;
  private readonly layers: Dense[];

  // Batch buffers, sized for `bufferRows` rows and reused by every forward and backward pass.
  private bufferRows = 0;
  private acts: Float64Array[] = [];
  private deltas: Float64Array[] = [];
  private dx0 = new Float64Array(0);
  private batchUser = new Int32Array(0);
  private batchAd = new Int32Array(0);

  constructor(shape: PctrNetworkShape) {
    this.shape = shape;
    this.inputDim = 2 * shape.textDim + shape.userDim + shape.adDim + shape.contextDim;
    // Row 0 is the unknown row; it starts at zero, a neutral input, and moves only under idDropout.
    this.userEmb = new Param('user_embedding', shape.userDim);
    this.adEmb = new Param('ad_embedding', shape.adDim);
    const widths = [this.inputDim, ...shape.hidden, 1];
    this.layers = [];
    for (let l = 0; l + 1 < widths.length; l++) {
      const name = l + 2 === widths.length ? 'out' : `fc${l + 1}`;
      this.layers.push(new Dense(name, widths[l]!, widths[l + 1]!));
    }
  }

  /** Random MLP weights; the embedding rows get theirs as their ids arrive. */
  initWeights(rng: Rng): void {
    for (const layer of this.layers) layer.initUniform(rng);
  }

  /** Known ids, in row order (row k+1 holds id k). */
  get users(): readonly string[] {
    return this.userIds;
  }

  get ads(): readonly string[] {
    return this.adIds;
  }

  /** The embedding row of a user, the unknown row for an id never seen. */
  userRow(id: string): number {
    return this.userRows.get(id) ?? UNKNOWN;
  }

  adRow(id: string): number {
    return this.adRows.get(id) ?? UNKNOWN;
  }

  /** Every learnable tensor: the two embedding tables, then each layer's weight and bias. */
  parameters(): Param[] {
    const out = [this.userEmb, this.adEmb];
    for (const l of this.layers) out.push(l.W, l.b);
    return out;
  }

  addVocabulary(userIds: Iterable<string>, adIds: Iterable<string>): void {
    this.growTable(this.userEmb, this.userRows, this.userIds, this.shape.userDim, 'user', userIds);
    this.growTable(this.adEmb, this.adRows, this.adIds, this.shape.adDim, 'ad', adIds);
  }

  /** Takes `src`'s vocabularies, weights and Adam moments (same shape assumed). */
  copyFrom(src: PctrNetwork): void {
    this.addVocabulary(src.userIds, src.adIds);
    const theirs = src.parameters();
    this.parameters().forEach((p, k) => {
      const q = theirs[k]!;
      p.value = q.value.slice();
      p.m = q.m.slice();
      p.v = q.v.slice();
    });
  }

  /** The click probability of each prepared example. */
  predict(data: Prepared): Float64Array {
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
   * Starts the output bias at the log-odds of the click rate of the first data seen, so the first
   * steps learn which examples differ from the average instead of the average itself (click
   * rates are a few percent, far from the 0.5 a zero bias predicts).
   */
  initOutputBias(label: Float64Array): void {
    let pos = 0;
    for (let k = 0; k < label.length; k++) pos += label[k]!;
    const rate = Math.min(1 - 1e-4, Math.max(1e-4, pos / label.length));
    this.layers[this.layers.length - 1]!.b.value[0] = Math.log(rate / (1 - rate));
  }

  /** Allocates the batch buffers once (or again after a batch-size change); returns their row count. */
  ensureBuffers(): number {
    const rows = Math.max(this.shape.batchSize, 256);
    if (rows === this.bufferRows) return rows;
    this.bufferRows = rows;
    this.acts = [new Float64Array(rows * this.inputDim), ...this.layers.map((l) => new Float64Array(rows * l.outDim))];
    this.deltas = this.layers.map((l) => new Float64Array(rows * l.outDim));
    this.dx0 = new Float64Array(rows * this.inputDim);
    this.batchUser = new Int32Array(rows);
    this.batchAd = new Int32Array(rows);
    return rows;
  }

  /**
   * Forward and backward for one batch (rows `idx[start..start+count)`, or `start..` without
   * idx); adds scale x dBCE/dparam to the gradients and returns the batch's summed (unscaled) BCE.
   * `dropRng` draws the id dropout; null trains without it.
   */
  accumulate(data: Prepared, idx: Int32Array | null, start: number, count: number, scale: number, dropRng: Rng | null): number {
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
        layer.backward(this.acts[0]!, this.deltas[0]!, count, this.dx0, 2 * this.shape.textDim);
      }
    }
    // Scatter the input gradient of the embedding columns into the rows the batch used.
    const T2 = 2 * this.shape.textDim;
    const U = this.shape.userDim;
    const A = this.shape.adDim;
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

  /** Fills the input rows of a batch and runs the MLP; logits end up in the last activation buffer. */
  private forward(data: Prepared, idx: Int32Array | null, start: number, count: number, dropRng: Rng | null): void {
    const T = this.shape.textDim;
    const U = this.shape.userDim;
    const A = this.shape.adDim;
    const D = this.inputDim;
    const x = this.acts[0]!;
    const ue = this.userEmb.value;
    const ae = this.adEmb.value;
    const drop = this.shape.idDropout;
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
      const C = this.shape.contextDim;
      for (let i = 0; i < C; i++) x[o + i] = data.context[k * C + i]!;
    }
    const L = this.layers.length;
    for (let l = 0; l < L; l++) this.layers[l]!.forward(this.acts[l]!, count, this.acts[l + 1]!, l + 1 < L);
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
      const rng = Rng.derive(this.shape.seed, `pctr/${kind}`, id);
      const o = (first + k) * dim;
      for (let i = 0; i < dim; i++) table.value[o + i] = gaussian(rng) * scale;
    });
    // A loop, not push(...fresh): spreading a very large list would overflow the call stack.
    for (const id of fresh) ids.push(id);
  }
}
