/**
 * The bids a sampled monotonicity or continuity check compares, chosen per case by a pilot.
 *
 * A pass on the full design must settle every one of 99 adjacent bid steps, and each step's
 * evidence arrives only with clicks: that is what made a smooth rule's pass cost 800k responses
 * at click rate 0.02. Most of those steps sit where the curve is flat. A pilot on its own seed
 * (never reused by the tests, so they stay valid) looks at the exposure curve, which every
 * response shows whether or not it is clicked, at PILOT_BIDS; the grid is then coarse where
 * the pilot saw the curve flat and fine (down to single bids) where it moves.
 *
 * What a pass on such a grid says: between any two adjacent grid bids the curve moves by less
 * than the margin (continuity), or no relative dip beyond rho between any two grid bids
 * (monotonicity). What it does not rule out: a dip or a bump narrower than a grid gap that
 * returns within it. The verdict states the grid of each case and that limit.
 *
 * A continuity fail stays sound on a coarse grid: if itctr moves by more than w kappa S across a
 * gap of w bids, some single step inside it moves by more than kappa S (the w steps sum to the
 * change). So a jump is never missed because of the grid, only located less precisely.
 */
import { deriveSeed } from '../lib/rng.ts';
import { CaseSampler } from './sampling.ts';
import type { Verdict } from './types.ts';
import type { CaseContext, CaseOutcome } from './verdict.ts';
import { type LogProbFn, logProbOf } from './weighted.ts';

/** Bids the pilot samples: every third bid, 1, 4, ..., 100. */
export const PILOT_BIDS: readonly number[] = Array.from({ length: 34 }, (_, k) => 1 + 3 * k);
/** Responses per pilot bid for continuity (exposure only: every response shows it, clicked or not). */
export const PILOT_PER_BID = 48;

export interface GridSpec {
  /** Largest move of the exposure curve allowed inside one gap, as a share of its scale e(1) + e(100). */
  tau: number;
  /** Widest gap. */
  maxGap: number;
  /** Most grid bids (tau grows until the grid fits). */
  maxPoints: number;
  /** Pilot responses per pilot bid. */
  perBid: number;
}

/** Continuity: gaps where the pilot saw at most 8% of the scale move; any move of 0.2 S or more is refined. */
export const CONTINUITY_GRID: GridSpec = { tau: 0.06, maxGap: 20, maxPoints: 40, perBid: PILOT_PER_BID };
/**
 * Monotonicity: a dip shows as a move, so the same rule with coarser gaps; at most 16 bids (120
 * pairs), and a smaller pilot (a pass has slack on every pair of a rising curve, so its grid need
 * not be exact).
 */
export const MONOTONICITY_GRID: GridSpec = { tau: 0.15, maxGap: 25, maxPoints: 16, perBid: 8 };

/** The pilot's exposure curve, linearly interpolated to every bid 1..100. */
export function interpolate(bids: readonly number[], values: readonly number[]): number[] {
  const out: number[] = [];
  let k = 0;
  for (let b = 1; b <= 100; b++) {
    while (k < bids.length - 2 && bids[k + 1]! < b) k++;
    const [b0, b1] = [bids[k]!, bids[k + 1]!];
    const t = b1 === b0 ? 0 : Math.min(1, Math.max(0, (b - b0) / (b1 - b0)));
    out.push(values[k]! + t * (values[k + 1]! - values[k]!));
  }
  return out;
}

/**
 * Grid bids from a curve on 1..100 (index b - 1): from each grid bid, the farthest bid within
 * `maxGap` such that the curve stays within tau x scale of its value at the gap's start; a
 * single bid when even the next one moves more. Always holds 1 and 100.
 */
export function buildGrid(curve: readonly number[], spec: GridSpec, slope?: readonly number[]): number[] {
  const top = Math.max(...curve);
  let scale = curve[0]! + curve[curve.length - 1]!;
  if (!(scale > 1e-9)) scale = top > 1e-9 ? top : 1;
  for (let tau = spec.tau; ; tau *= 1.25) {
    const grid = [1];
    let cur = 1;
    while (cur < 100) {
      let next = cur + 1;
      let moved = 0;
      for (let g = cur + 1; g <= Math.min(100, cur + spec.maxGap); g++) {
        moved += slope?.[g - 1] ?? 0;
        if (Math.abs(curve[g - 1]! - curve[cur - 1]!) > tau * scale || Math.abs(moved) > tau * scale) break;
        next = g;
      }
      grid.push(next);
      cur = next;
    }
    if (grid.length <= spec.maxPoints || tau > 4) return grid;
  }
}

/**
 * The curve's slope per bid at each of `bids` (least squares over the 9 nearest pilot bids):
 * steadier than differences of neighbours, and a real move widens into a region of steep slope,
 * which refines the grid around it.
 */
export function localSlopes(bids: readonly number[], values: readonly number[], half = 4): number[] {
  return bids.map((_, k) => {
    const lo = Math.max(0, k - half);
    const hi = Math.min(bids.length, k + half + 1);
    const xs = bids.slice(lo, hi);
    const ys = values.slice(lo, hi);
    const mx = xs.reduce((a, v) => a + v, 0) / xs.length;
    const my = ys.reduce((a, v) => a + v, 0) / ys.length;
    let sxy = 0;
    let sxx = 0;
    xs.forEach((x, j) => {
      sxy += (x - mx) * (ys[j]! - my);
      sxx += (x - mx) * (x - mx);
    });
    return sxx > 0 ? sxy / sxx : 0;
  });
}

export interface GridChoiceResult {
  bids: number[];
  /** Responses the pilot drew. */
  samples: number;
  /** The pilot's exposure curve at PILOT_BIDS (for the verdict's details). */
  pilot: { bids: readonly number[]; exposure: number[] };
}

/**
 * Run the pilot of one case on its own seed and build its grid. Affordable only when the case's
 * budget is at least twice the pilot's cost; otherwise the fallback grid is used.
 */
export async function chooseGrid(ctx: CaseContext, spec: GridSpec, fallback: readonly number[]): Promise<GridChoiceResult> {
  const cost = PILOT_BIDS.length * spec.perBid;
  if (ctx.budget < 2 * cost) return { bids: [...fallback], samples: 0, pilot: { bids: [], exposure: [] } };
  const focal = ctx.c.focal;
  const sampler = new CaseSampler(ctx.m, ctx.c.instance, focal, deriveSeed(ctx.seed, 'grid-pilot'), ctx.opts.concurrency, ctx.observable, ctx.opts.clickSeeds);
  // Independent draws per bid (a batch each, so a seed each): under common random numbers the
  // pilot's curve is a staircase whose flat stretches can hide a real move.
  const exposure: number[] = [];
  for (const b of PILOT_BIDS) {
    const e = (await sampler.draw([b], spec.perBid)).get(b)?.e[focal] ?? [];
    exposure.push(e.length ? e.reduce((a, v) => a + v, 0) / e.length : 0);
  }
  // Smoothed over neighbouring pilot bids (a local line through three, so the ends are not pulled
  // in): noise would otherwise split flat stretches.
  const smooth = exposure.map((_, k) => {
    const lo = Math.min(Math.max(0, k - 1), exposure.length - 3);
    const line = localSlopes(PILOT_BIDS.slice(lo, lo + 3), exposure.slice(lo, lo + 3), 2)[0]!;
    const mean = (exposure[lo]! + exposure[lo + 1]! + exposure[lo + 2]!) / 3;
    return mean + line * (PILOT_BIDS[k]! - PILOT_BIDS[lo + 1]!);
  });
  const slope = interpolate(PILOT_BIDS, localSlopes(PILOT_BIDS, exposure));
  return { bids: buildGrid(interpolate(PILOT_BIDS, smooth), spec, slope), samples: sampler.samples, pilot: { bids: PILOT_BIDS, exposure } };
}

/** "1, 30, 44-56, 70, 100": a grid with runs of consecutive bids shortened. */
export function describeGrid(bids: readonly number[]): string {
  const parts: string[] = [];
  for (let k = 0; k < bids.length; ) {
    let j = k;
    while (j + 1 < bids.length && bids[j + 1] === bids[j]! + 1) j++;
    parts.push(j - k >= 2 ? `${bids[k]}-${bids[j]}` : bids.slice(k, j + 1).join(', '));
    k = j + 1;
  }
  return parts.join(', ');
}

/** How one case runs on a grid: with common random numbers, or weighted (weighted.ts). */
export interface GridRunners {
  crn: (ctx: CaseContext, grid: readonly number[]) => Promise<CaseOutcome>;
  weighted: (ctx: CaseContext, grid: readonly number[], lp: LogProbFn) => Promise<CaseOutcome>;
}

/**
 * One sampled case of monotonicity or continuity: its grid (the pilot's, or `full` as given),
 * then the weighted design where the rule reports log-probabilities (and share is not off), else
 * common random numbers. The pilot's responses count towards the case's cost and budget.
 */
export async function runOnGrid(ctx: CaseContext, spec: GridSpec, full: readonly number[], run: GridRunners): Promise<CaseOutcome> {
  const lp = ctx.opts.share === 'auto' ? logProbOf(ctx.m.rule) : undefined;
  const chosen: GridChoiceResult = ctx.opts.bidGrid === 'full' ? { bids: [...full], samples: 0, pilot: { bids: [], exposure: [] } } : await chooseGrid(ctx, spec, full);
  const inner = { ...ctx, budget: ctx.budget - chosen.samples };
  const wrap = (o: CaseOutcome): CaseOutcome => ({
    ...o,
    samples: o.samples + chosen.samples,
    grid: chosen.bids,
    design: lp ? 'weighted' : 'crn',
    ...(typeof o.need === 'number' ? { need: o.need + chosen.samples } : {}),
    ...(o.resume ? { resume: (extra: number) => o.resume!(extra).then(wrap) } : {}),
  });
  return wrap(lp ? await run.weighted(inner, chosen.bids, lp) : await run.crn(inner, chosen.bids));
}

/** What a pass adds on verify's line: the grids it speaks about, and what they leave out. */
export function gridPassNote(v: Verdict): string {
  const grids = v.details?.case_grids as (number[] | null)[] | undefined;
  const sizes = (grids ?? []).flatMap((g) => (g ? [g.length] : []));
  if (!sizes.length || v.details?.bid_grid === 'full') return '';
  const [lo, hi] = [Math.min(...sizes), Math.max(...sizes)];
  return `; on grids of ${lo === hi ? lo : `${lo}-${hi}`} bids chosen by a pilot (a dip narrower than a grid gap is not ruled out)`;
}
