/**
 * Seeded randomness. Every random choice in the suite comes from an `Rng` derived from the run's
 * seed and a label (the stage, the query id, the sample index), so a run is reproducible and any
 * part of it can be recomputed alone, in any order, after a crash or on another worker.
 */
import { xoroshiro128plus } from 'pure-rand/generator/xoroshiro128plus';
import { uniformFloat64 } from 'pure-rand/distribution/uniformFloat64';
import { uniformInt } from 'pure-rand/distribution/uniformInt';

/** 32-bit FNV-1a over a string, then a murmur finalizer: a stable seed for a label. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The seed of a named sub-stream: `deriveSeed(seed, 'bids', epoch, queryId)`. */
export function deriveSeed(seed: number, ...labels: (string | number)[]): number {
  return hash32(`${seed >>> 0}|${labels.join('|')}`);
}

export class Rng {
  private readonly gen;

  constructor(seed: number) {
    // Small seeds (0, 1, 2…) would start the generator in a poorly mixed state: hash them first
    // and drop the first outputs.
    this.gen = xoroshiro128plus(hash32(`seed:${seed}`) | 0);
    for (let k = 0; k < 4; k++) this.gen.next();
  }

  static derive(seed: number, ...labels: (string | number)[]): Rng {
    return new Rng(deriveSeed(seed, ...labels));
  }

  /** Uniform in [0, 1). */
  uniform(): number {
    return uniformFloat64(this.gen);
  }

  /** Uniform integer in [from, to], both included. */
  int(from: number, to: number): number {
    return uniformInt(this.gen, from, to);
  }

  bernoulli(p: number): boolean {
    return this.uniform() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(0, items.length - 1)]!;
  }

  /** Index drawn with probability proportional to `weights` (non-negative, not all zero). */
  categorical(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w;
    let u = this.uniform() * total;
    for (let k = 0; k < weights.length; k++) {
      u -= weights[k]!;
      if (u < 0) return k;
    }
    return weights.length - 1;
  }

  /** A new array with the items in random order (Fisher-Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let k = out.length - 1; k > 0; k--) {
      const j = this.int(0, k);
      [out[k], out[j]] = [out[j]!, out[k]!];
    }
    return out;
  }

  /** A seed for a child stream. */
  nextSeed(): number {
    return this.int(0, 0x7fffffff);
  }
}
