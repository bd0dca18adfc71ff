/**
 * A deliberately small neural-network toolkit for the pCTR model: parameters with their gradient
 * and Adam moments, fully connected layers with hand-written forward and backward passes over a
 * batch stored row-major in one Float64Array, and Adam.
 *
 * Everything is float64. The networks here are tiny (tens of thousands of weights), so the cost is
 * in the loops, not in memory traffic, and float64 lets the gradient checks use finite differences
 * with a tight tolerance. Callers own every buffer: nothing here allocates per example or per
 * batch, so a training loop runs without garbage-collection pauses.
 */
import type { Rng } from '../lib/rng.ts';

/** A named parameter tensor (flat), its gradient and Adam's first and second moments. */
export class Param {
  value: Float64Array;
  grad: Float64Array;
  m: Float64Array;
  v: Float64Array;

  constructor(
    readonly name: string,
    size: number,
  ) {
    this.value = new Float64Array(size);
    this.grad = new Float64Array(size);
    this.m = new Float64Array(size);
    this.v = new Float64Array(size);
  }

  get size(): number {
    return this.value.length;
  }

  /**
   * Grows to `size` entries, keeping the existing ones; new entries (value, gradient, moments) are
   * zero. Embedding tables grow when new users or ads show up between fits; the model grows them
   * once per call with all the new ids together, so exact sizing costs one copy per call.
   */
  grow(size: number): void {
    if (size <= this.value.length) return;
    const copy = (a: Float64Array) => {
      const b = new Float64Array(size);
      b.set(a);
      return b;
    };
    this.value = copy(this.value);
    this.grad = copy(this.grad);
    this.m = copy(this.m);
    this.v = copy(this.v);
  }

  zeroGrad(): void {
    this.grad.fill(0);
  }
}

/** Adam's constants (PyTorch's defaults). */
export interface AdamOptions {
  lr: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** Decoupled weight decay (AdamW): p -= lr * weightDecay * p, applied before the Adam step. */
  weightDecay?: number;
}

/**
 * One Adam step over every parameter, as torch.optim.Adam computes it (bias-corrected moments,
 * eps added to the corrected root of the second moment). `t` is the 1-based step count.
 */
export function adamStep(params: readonly Param[], t: number, opts: AdamOptions): void {
  const { lr, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weightDecay = 0 } = opts;
  const bc1 = 1 - beta1 ** t;
  const sqrtBc2 = Math.sqrt(1 - beta2 ** t);
  const stepSize = lr / bc1;
  const decay = 1 - lr * weightDecay;
  const c1 = 1 - beta1;
  const c2 = 1 - beta2;
  for (const p of params) {
    const { value, grad, m, v } = p;
    const n = value.length;
    for (let k = 0; k < n; k++) {
      const g = grad[k]!;
      const mk = beta1 * m[k]! + c1 * g;
      const vk = beta2 * v[k]! + c2 * g * g;
      m[k] = mk;
      v[k] = vk;
      value[k] = value[k]! * decay - (stepSize * mk) / (Math.sqrt(vk) / sqrtBc2 + eps);
    }
  }
}

/** A standard normal draw (Box-Muller; the second value is dropped to keep streams simple). */
export function gaussian(rng: Rng): number {
  let u = rng.uniform();
  while (u <= 0) u = rng.uniform();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng.uniform());
}

/**
 * A fully connected layer y = W x + b (W is outDim x inDim, row-major), optionally followed by a
 * ReLU. Batches are row-major: row r of x starts at r * inDim.
 */
export class Dense {
  readonly W: Param;
  readonly b: Param;

  constructor(
    readonly name: string,
    readonly inDim: number,
    readonly outDim: number,
  ) {
    this.W = new Param(`${name}.weight`, inDim * outDim);
    this.b = new Param(`${name}.bias`, outDim);
  }

  /**
   * PyTorch's default for nn.Linear: weights and biases uniform in +-1/sqrt(fanIn). The paper
   * trains with PyTorch and names no initialization, so this is the closest reading of it.
   */
  initUniform(rng: Rng): void {
    const bound = 1 / Math.sqrt(this.inDim);
    const { value: w } = this.W;
    for (let k = 0; k < w.length; k++) w[k] = (2 * rng.uniform() - 1) * bound;
    const { value: b } = this.b;
    for (let k = 0; k < b.length; k++) b[k] = (2 * rng.uniform() - 1) * bound;
  }

  /** y[r] = W x[r] + b for rows 0..rows-1, clamped at 0 when `relu` (see denseForward). */
  forward(x: Float64Array, rows: number, y: Float64Array, relu: boolean): void {
    denseForward(this.W.value, this.b.value, this.inDim, this.outDim, x, rows, y, relu);
  }

  /**
   * Backward pass for rows 0..rows-1 given dy = dL/d(pre-activation output). Adds to W.grad and
   * b.grad. When `dx` is given, writes dL/dx into its columns dxFrom..inDim-1 (overwriting them):
   * the first layer needs no gradient for the frozen text features, only for the embeddings that
   * follow them, so it skips most of that work.
   */
  backward(x: Float64Array, dy: Float64Array, rows: number, dx: Float64Array | null, dxFrom = 0): void {
    const { inDim: I, outDim: O } = this;
    const w = this.W.value;
    const gw = this.W.grad;
    const gb = this.b.grad;
    for (let r = 0; r < rows; r++) {
      const yo = r * O;
      for (let o = 0; o < O; o++) gb[o]! += dy[yo + o]!;
    }
    // dW += dy^T x, in blocks of 2 outputs x 4 rows: each gradient entry is loaded and stored once
    // for 8 multiply-adds instead of once per multiply-add.
    const rows4 = rows - (rows % 4);
    for (let o = 0; o < O; o += 2) {
      const hasO1 = o + 1 < O;
      const w0 = o * I;
      const w1 = hasO1 ? w0 + I : w0;
      for (let r = 0; r < rows4; r += 4) {
        const xa = r * I;
        const xb = xa + I;
        const xc = xb + I;
        const xd = xc + I;
        const ya = r * O + o;
        const a0 = dy[ya]!;
        const b0 = dy[ya + O]!;
        const c0 = dy[ya + 2 * O]!;
        const d0 = dy[ya + 3 * O]!;
        if (hasO1) {
          const a1 = dy[ya + 1]!;
          const b1 = dy[ya + O + 1]!;
          const c1 = dy[ya + 2 * O + 1]!;
          const d1 = dy[ya + 3 * O + 1]!;
          // ReLU zeroes many deltas: a block with nothing to add is skipped.
          if (a0 === 0 && b0 === 0 && c0 === 0 && d0 === 0 && a1 === 0 && b1 === 0 && c1 === 0 && d1 === 0) continue;
          for (let i = 0; i < I; i++) {
            const p = x[xa + i]!;
            const q = x[xb + i]!;
            const s = x[xc + i]!;
            const t = x[xd + i]!;
            gw[w0 + i]! += a0 * p + b0 * q + c0 * s + d0 * t;
            gw[w1 + i]! += a1 * p + b1 * q + c1 * s + d1 * t;
          }
        } else {
          if (a0 === 0 && b0 === 0 && c0 === 0 && d0 === 0) continue;
          for (let i = 0; i < I; i++) gw[w0 + i]! += a0 * x[xa + i]! + b0 * x[xb + i]! + c0 * x[xc + i]! + d0 * x[xd + i]!;
        }
      }
      for (let r = rows4; r < rows; r++) {
        const xa = r * I;
        const g0 = dy[r * O + o]!;
        const g1 = hasO1 ? dy[r * O + o + 1]! : 0;
        for (let i = 0; i < I; i++) {
          const p = x[xa + i]!;
          gw[w0 + i]! += g0 * p;
          if (hasO1) gw[w1 + i]! += g1 * p;
        }
      }
    }
    if (!dx) return;
    // dx = dy W over columns dxFrom.., 4 outputs at a time.
    for (let r = 0; r < rows; r++) {
      const xa = r * I;
      const ya = r * O;
      dx.fill(0, xa + dxFrom, xa + I);
      let o = 0;
      for (; o + 3 < O; o += 4) {
        const g0 = dy[ya + o]!;
        const g1 = dy[ya + o + 1]!;
        const g2 = dy[ya + o + 2]!;
        const g3 = dy[ya + o + 3]!;
        if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0) continue;
        const w0 = o * I;
        const w1 = w0 + I;
        const w2 = w1 + I;
        const w3 = w2 + I;
        for (let i = dxFrom; i < I; i++) dx[xa + i]! += g0 * w[w0 + i]! + g1 * w[w1 + i]! + g2 * w[w2 + i]! + g3 * w[w3 + i]!;
      }
      for (; o < O; o++) {
        const g = dy[ya + o]!;
        if (g === 0) continue;
        const wo = o * I;
        for (let i = dxFrom; i < I; i++) dx[xa + i]! += g * w[wo + i]!;
      }
    }
  }
}

/**
 * y[r] = w x[r] + bias for rows 0..rows-1 (w is O x I, row-major), clamped at 0 when `relu`.
 *
 * The kernel computes a block of 2 rows x 4 outputs per pass over the inputs: each loaded x is
 * used 4 times and each loaded weight twice, and the 8 independent sums keep the CPU's
 * floating-point units busy. In V8 this runs about 2.5x faster than one dot product at a time.
 * Shared by the layers and by the pCTR model's frozen text projection.
 */
export function denseForward(w: Float64Array, bias: Float64Array, I: number, O: number, x: Float64Array, rows: number, y: Float64Array, relu: boolean): void {
  for (let r = 0; r < rows; r += 2) {
    // An odd last row is computed twice in the pair and written once.
    const hasB = r + 1 < rows;
    const xa = r * I;
    const xb = hasB ? xa + I : xa;
    const ya = r * O;
    const yb = ya + O;
    let o = 0;
    for (; o + 3 < O; o += 4) {
      const w0 = o * I;
      const w1 = w0 + I;
      const w2 = w1 + I;
      const w3 = w2 + I;
      let a0 = bias[o]!;
      let a1 = bias[o + 1]!;
      let a2 = bias[o + 2]!;
      let a3 = bias[o + 3]!;
      let b0 = a0;
      let b1 = a1;
      let b2 = a2;
      let b3 = a3;
      for (let i = 0; i < I; i++) {
        const p = x[xa + i]!;
        const q = x[xb + i]!;
        const u0 = w[w0 + i]!;
        const u1 = w[w1 + i]!;
        const u2 = w[w2 + i]!;
        const u3 = w[w3 + i]!;
        a0 += u0 * p;
        a1 += u1 * p;
        a2 += u2 * p;
        a3 += u3 * p;
        b0 += u0 * q;
        b1 += u1 * q;
        b2 += u2 * q;
        b3 += u3 * q;
      }
      if (relu) {
        y[ya + o] = a0 > 0 ? a0 : 0;
        y[ya + o + 1] = a1 > 0 ? a1 : 0;
        y[ya + o + 2] = a2 > 0 ? a2 : 0;
        y[ya + o + 3] = a3 > 0 ? a3 : 0;
        if (hasB) {
          y[yb + o] = b0 > 0 ? b0 : 0;
          y[yb + o + 1] = b1 > 0 ? b1 : 0;
          y[yb + o + 2] = b2 > 0 ? b2 : 0;
          y[yb + o + 3] = b3 > 0 ? b3 : 0;
        }
      } else {
        y[ya + o] = a0;
        y[ya + o + 1] = a1;
        y[ya + o + 2] = a2;
        y[ya + o + 3] = a3;
        if (hasB) {
          y[yb + o] = b0;
          y[yb + o + 1] = b1;
          y[yb + o + 2] = b2;
          y[yb + o + 3] = b3;
        }
      }
    }
    // Outputs left over when outDim is not a multiple of 4 (the final 1-unit layer).
    for (; o < O; o++) {
      const wo = o * I;
      let a = bias[o]!;
      let b = a;
      for (let i = 0; i < I; i++) {
        const u = w[wo + i]!;
        a += u * x[xa + i]!;
        b += u * x[xb + i]!;
      }
      y[ya + o] = relu && a < 0 ? 0 : a;
      if (hasB) y[yb + o] = relu && b < 0 ? 0 : b;
    }
  }
  }

/** Numerically stable logistic function. */
export function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}

/** Binary cross-entropy of a logit against a 0/1 label, without computing log(sigmoid) directly. */
export function bceWithLogit(z: number, y: number): number {
  return Math.max(z, 0) - z * y + Math.log1p(Math.exp(-Math.abs(z)));
}

/**
 * Float64Array <-> base64 of its bytes: exact (decimal JSON would need 17 digits a number to be),
 * and about half the size. Bytes are in the platform's order, little-endian on every platform
 * Node supports in practice.
 */
export function f64ToBase64(a: Float64Array, length = a.length): string {
  return Buffer.from(a.buffer, a.byteOffset, length * 8).toString('base64');
}

export function base64ToF64(text: string, length: number, what: string): Float64Array {
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length !== length * 8) {
    throw new Error(`${what}: expected ${length} float64 values, found ${bytes.length / 8}`);
  }
  // Copy into a fresh, aligned buffer: Buffer.from may return a slice of a shared pool.
  const out = new Float64Array(length);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}
