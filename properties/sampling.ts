/**
 * Drawing and scoring responses for the checks.
 *
 * An "arm" is the auction with the focal ad's bid set to one value. The sampled path draws all
 * arms of a case in lockstep batches, and every arm of one batch gets the same seed: where the
 * backend honours seeds this is common random numbers (response j at bid b and response j at bid
 * b' share their randomness), so the paired difference x_j(b) - x_j(b') is zero unless the bid
 * change itself changed the outcome. Its variance is then about |itctr(b) - itctr(b')| instead
 * of 2 itctr (1 - itctr), which is where most of the saving over independent samples comes from.
 * A backend that ignores seeds loses the saving, not the validity: pairs are then independent.
 *
 * Each response is scored with the mechanism's parser and click model into, per ad, x (one draw
 * of itctr, in [0, 1]) and e = 1(a_i in y), the exposure. What x is depends on the observable:
 * - `click-probability`: x = ctr_i(y) 1(a_i in y), the click model's own probability, where the
 *   model gives one (the parametric user);
 * - `clicks`: x = 1 if the user clicked a_i, as a judge or a real user reports it. For a model
 *   that gives probabilities the click is drawn here, with a uniform that depends only on the
 *   batch's seed, the response index and the ad: common random numbers for clicks too, so two
 *   arms whose response j is the same text get the same click. A judge that returns 0/1 itself
 *   is used as it is.
 */
import { estimateItctr } from '../mechanism/itctr.ts';
import { ResponseParser } from '../mechanism/parser.ts';
import { deriveSeed, Rng } from '../lib/rng.ts';
import { wilson } from '../lib/stats.ts';
import { auctionPrices } from '../mechanism/settlement.ts';
import type { AuctionInput } from '../mechanism/types.ts';
import type { MechanismUnderTest, Observable } from './types.ts';
import { round } from '../lib/numbers.ts';

/**
 * The observable a sampled check uses: the one asked for, except that a click model that only
 * gives clicks (a judge) cannot give probabilities, so it always yields `clicks`.
 */
export function observableOf(m: MechanismUnderTest, asked: Observable | undefined): Observable {
  if (m.clicks.observable === 'clicks') return 'clicks';
  return asked ?? 'click-probability';
}

/**
 * The price per click ad `index` is actually charged in this auction, when the rule allocates
 * slots before generation (GSP): the slot's price, or 0 without a slot. Undefined for rules that
 * charge their bid (the payment rule needs no price).
 */
export function chargedPrice(m: MechanismUnderTest, input: AuctionInput, index: number): number | undefined {
  const slots = auctionPrices(m.rule, input);
  if (!slots) return undefined;
  const id = input.ads[index]?.id;
  return slots.find((s) => s.id === id)?.price ?? 0;
}

/** The auction with ad `index` bidding `bid` (others unchanged). */
export function withBid(input: AuctionInput, index: number, bid: number): AuctionInput {
  return { ...input, ads: input.ads.map((a, k) => (k === index ? { ...a, bid } : a)) };
}

/** Per-response scores of one arm: x[k][j], e[k][j] for ad k and response j. */
export interface ArmData {
  bid: number;
  x: number[][];
  e: number[][];
}

export function armLength(a: ArmData): number {
  return a.x[0]?.length ?? 0;
}

function mean(xs: readonly number[], from = 0, to = xs.length): number {
  if (to <= from) return Number.NaN;
  let s = 0;
  for (let j = from; j < to; j++) s += xs[j]!;
  return s / (to - from);
}

/** Itctr estimate of ad k in an arm, with its 95% Wilson interval, for counterexamples. */
export function armSummary(a: ArmData, k: number): { bid: number; itctr: number; ci95: [number, number]; exposure: number; samples: number } {
  const n = armLength(a);
  const m = n > 0 ? mean(a.x[k]!) : 0;
  return { bid: a.bid, itctr: round(m), ci95: wilson(m, n).map((v) => round(v)) as [number, number], exposure: round(n > 0 ? mean(a.e[k]!) : 0), samples: n };
}


/** Run async jobs with at most `limit` in flight; results in input order. */
export async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const k = next++;
      out[k] = await fn(items[k]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * The arms of one case, sampled in batches with common random numbers.
 * `focal` is the index of the ad whose bid varies.
 */
export class CaseSampler {
  private readonly parser: ResponseParser;
  private readonly arms = new Map<number, ArmData>();
  private batches = 0;
  /** Responses requested so far (what the budget counts). */
  samples = 0;
  private scored = 0;

  constructor(
    private readonly m: MechanismUnderTest,
    readonly input: AuctionInput,
    readonly focal: number,
    private readonly seedBase: number,
    private readonly concurrency: number,
    readonly observable: Observable = 'click-probability',
    /** `fresh`: every click drawn independently (a judge that ignores seeds). */
    readonly clickSeeds: 'shared' | 'fresh' = 'shared',
  ) {
    this.parser = new ResponseParser(input.ads);
  }

  arm(bid: number): ArmData {
    let a = this.arms.get(bid);
    if (!a) {
      const k = this.input.ads.length;
      a = { bid, x: Array.from({ length: k }, () => []), e: Array.from({ length: k }, () => []) };
      this.arms.set(bid, a);
    }
    return a;
  }

  /**
   * Draw n more responses at each of `bids` with one shared seed, and return this batch's scores
   * (also appended to each arm's history). When a backend returns fewer responses than asked for
   * some arm, every arm keeps only the common prefix of this batch, so index j of a batch always
   * pairs responses drawn with the same randomness. Pairs are only ever formed within a batch.
   */
  async draw(bids: readonly number[], n: number): Promise<Map<number, ArmData>> {
    const batch = new Map<number, ArmData>();
    if (n <= 0 || bids.length === 0) return batch;
    const seed = deriveSeed(this.seedBase, 'batch', this.batches++);
    this.samples += n * bids.length;
    const scored = await pool(bids, this.concurrency, async (bid) => {
      const input = withBid(this.input, this.focal, bid);
      const responses = await this.m.rule.sample(input, n, { seed });
      return Promise.all(responses.slice(0, n).map((r, j) => this.score(input, r, seed, j)));
    });
    const keep = Math.min(...scored.map((s) => s.length));
    const k = this.input.ads.length;
    bids.forEach((bid, b) => {
      const a = this.arm(bid);
      const fresh: ArmData = { bid, x: Array.from({ length: k }, () => []), e: Array.from({ length: k }, () => []) };
      for (let j = 0; j < keep; j++) {
        const s = scored[b]![j]!;
        for (let i = 0; i < k; i++) {
          a.x[i]!.push(s.x[i]!);
          a.e[i]!.push(s.e[i]!);
          fresh.x[i]!.push(s.x[i]!);
          fresh.e[i]!.push(s.e[i]!);
        }
      }
      batch.set(bid, fresh);
    });
    return batch;
  }

  private score(input: AuctionInput, response: string, seed: number, j: number): Promise<{ x: number[]; e: number[] }> {
    // Shared: the uniform depends on the batch's seed and the response index only (common random
    // numbers); fresh: on a running count too, so no two draws share it.
    const key = this.clickSeeds === 'shared' ? [j] : [j, 'fresh', this.scored++];
    return scoreResponse(this.m, this.parser, this.observable, input, response, seed, key);
  }
}

/**
 * Score one response: per ad, x (one draw of itctr: the click probability, or a 0/1 click drawn
 * with a uniform from (seed, 'click', ...key)) and e (exposed or not).
 */
export async function scoreResponse(
  m: MechanismUnderTest,
  parser: ResponseParser,
  observable: Observable,
  input: AuctionInput,
  response: string,
  seed: number,
  key: readonly (string | number)[],
): Promise<{ x: number[]; e: number[] }> {
    const parsed = parser.parse(response);
    const ctx = { input, response, parsed };
    const clicks = m.clicks;
    let ctr: Record<string, number>;
    if (observable === 'clicks' && clicks.observable !== 'clicks') {
      // Draw one user's clicks with uniforms shared across arms (see the module comment).
      if (clicks.sampleClicks) {
        const rng = Rng.derive(seed, 'click', ...key);
        ctr = Object.fromEntries((await clicks.sampleClicks(ctx, () => rng.uniform())).map((id) => [id, 1]));
      } else {
        const p = await clicks.clickProbabilities(ctx);
        ctr = {};
        for (const exp of parsed.exposures) ctr[exp.id] = Rng.derive(seed, 'click', ...key, exp.id).uniform() < (p[exp.id] ?? 0) ? 1 : 0;
      }
    } else {
      ctr = await clicks.clickProbabilities(ctx);
    }
    const x = new Array<number>(input.ads.length).fill(0);
    const e = new Array<number>(input.ads.length).fill(0);
    for (const exp of parsed.exposures) {
      const k = input.ads.findIndex((a) => a.id === exp.id);
      if (k < 0) continue;
      const p = ctr[exp.id] ?? 0;
      x[k] = Number.isFinite(p) ? Math.min(1, Math.max(0, p)) : 0;
      e[k] = 1;
    }
    return { x, e };
}

/** How a case grows its batches: the first one, and the least any later one may be. */
export interface BatchPlan {
  first: number;
  floor: number;
}

export const DEFAULT_BATCHES: BatchPlan = { first: 16, floor: 16 };

/**
 * Batch sizes for sequential sampling: `first`, then half of what each arm has, at least
 * `floor`: the overshoot past the point where a test decides stays under about 50%, and the
 * number of rounds (requests, for a remote endpoint) grows only logarithmically.
 */
export function nextBatch(have: number, plan: BatchPlan = DEFAULT_BATCHES): number {
  return have === 0 ? plan.first : Math.max(plan.floor, Math.ceil(have / 2));
}

/** Exact itctr and exposure of every ad, with the number of enumerated responses scored. */
export interface ExactPoint {
  itctr: number[];
  exposure: number[];
  responses: number;
}

/** Exact evaluations of one case, cached by the focal bid. */
export class ExactEvaluator {
  private readonly cache = new Map<number, Promise<ExactPoint>>();
  responses = 0;

  constructor(
    private readonly m: MechanismUnderTest,
    readonly input: AuctionInput,
    readonly focal: number,
  ) {}

  at(bid: number): Promise<ExactPoint> {
    let p = this.cache.get(bid);
    if (!p) {
      p = estimateItctr(this.m.rule, withBid(this.input, this.focal, bid), this.m.clicks, { exact: true }).then((est) => {
        const responses = est[0]?.samples ?? 0;
        this.responses += responses;
        return { itctr: est.map((e) => e.itctr), exposure: est.map((e) => e.exposure), responses };
      });
      this.cache.set(bid, p);
    }
    return p;
  }

  async sweep(bids: readonly number[]): Promise<ExactPoint[]> {
    const out: ExactPoint[] = [];
    // In order, not in parallel: enumerate may be heavy and the results are cached anyway.
    for (const b of bids) out.push(await this.at(b));
    return out;
  }
}

/** The focal ad's exact itctr and exposure at every bid of `bids`, and the responses scored. */
export async function exactCurve(m: MechanismUnderTest, input: AuctionInput, focal: number, bids: readonly number[]): Promise<{ itctr: number[]; exposure: number[]; responses: number }> {
  const ev = new ExactEvaluator(m, input, focal);
  const points = await ev.sweep(bids);
  return { itctr: points.map((p) => p.itctr[focal]!), exposure: points.map((p) => p.exposure[focal]!), responses: ev.responses };
}

/** A short, JSON-friendly description of an auction for counterexamples. */
export function describeInstance(input: AuctionInput): Record<string, unknown> {
  return {
    query: input.query,
    profile: input.profile.id,
    ads: input.ads.map((a) => ({ id: a.id, title: a.title, bid: a.bid })),
  };
}
