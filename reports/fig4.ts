/**
 * The data behind Figure 4 of the paper (section 5.4), computed from an IRPO run directory.
 *
 * (a) Monotonicity over training: N test queries, one candidate ad each (seeded), its bid set to
 *     each of {1, 10, …, 100} while the others keep the bids drawn for stage 'fig4a'. For every
 *     epoch's rule we compute the expected clicks on that ad exactly (itctr by enumerating the
 *     rule's responses and scoring them with the parametric user, exact-itctr.ts), and also draw
 *     one response and the user's clicks per (query, bid) so that counts with sampling noise are
 *     on record.
 * (b) Continuity: one test query and one ad, its bid swept 1..100; R sampled responses per bid
 *     and the clicks on the ad, for the trained rule and for pre-generation GSP over it, with a
 *     LOESS trend (loess.ts) that never smooths across a jump.
 */
import { DEFAULT_KAPPA } from '../properties/types.ts';
import { withBid } from '../properties/sampling.ts';
import { GspRule } from '../baselines/gsp.ts';
import { drawClicks, type ClickModel } from '../mechanism/click-model.ts';
import { ResponseParser } from '../mechanism/parser.ts';
import { gspAllocate } from '../mechanism/payment.ts';
import { deriveSeed, Rng } from '../lib/rng.ts';
import { spearman } from '../lib/stats.ts';
import type { AllocationRule, AuctionInput, ParsedResponse, Profile, Query } from '../mechanism/types.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { embeddedWorld, type World } from '../simulation/world.ts';
import { ExactItctr } from './exact-itctr.ts';
import { itctrFromResponses } from '../mechanism/itctr.ts';
import { UsageError } from '../lib/errors.ts';
import { LOESS_SPAN, segmentedLoess } from './loess.ts';
import { round } from '../lib/numbers.ts';

/** The paper's perturbed bids for Figure 4(a) (multiples of the DPO pair threshold 10, and 1). */
export const FIG4A_BIDS: readonly number[] = [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
/** Figure 4(b)'s sweep: every integer bid. */
export const FIG4B_BIDS: readonly number[] = Array.from({ length: 100 }, (_, k) => k + 1);

/** Numbers in the report's files: 6 decimals, so reruns and readers see the same digits. */
export const r6 = (x: number): number => round(x, 6);

/** Everything the figures need to know about the run. */
export interface FigureContext {
  /** `run:DIR` without the epoch, as written in the captions. */
  runSpec: string;
  epochs: number[];
  /** Resolved rules: `rules[t]` is run:DIR@t; `gsp` is GSP (k=1) over the last epoch. */
  rules: Map<number, AllocationRule>;
  gsp: AllocationRule;
  user: ClickModel;
  worldSeed: number;
  candidates: number;
  seed: number;
  /**
   * Responses sampled per (query, bid, epoch) to estimate itctr for a rule that cannot enumerate
   * its responses (a served LLM); 0: such a rule is an error (exact figures only).
   */
  itctrSamples?: number;
  onProgress?: (label: string, done: number, total: number) => void;
}

function testAuctions(world: World, seed: number, label: string): Query[] {
  const test = world.queries.filter((q) => q.split === 'test');
  return Rng.derive(seed, label).shuffle(test);
}

function profileMap(world: World): Map<string, Profile> {
  return new Map(world.profiles.map((p) => [p.id, p]));
}

export interface Fig4aEpoch {
  epoch: number;
  mechanism: string;
  /** Sum over the N queries of the exact expected clicks on the perturbed ad, per bid level. */
  expected_clicks: number[];
  /** Sum over the N queries of the sampled clicks (one response per query and bid), per bid level. */
  sampled_clicks: number[];
  /** Spearman correlation of (bid, expected clicks) over the N x 11 per-query pairs. */
  spearman_expected: number;
  /** The same on the sampled 0/1 clicks. */
  spearman_sampled: number;
}

export interface Fig4aData {
  figure: '4a';
  run: string;
  seed: number;
  world_seed: number;
  candidates: number;
  stage: 'fig4a';
  queries: number;
  bids: number[];
  plotted: 'expected_clicks';
  /**
   * How expected clicks were computed: 'exact' (every rule enumerates its responses), or
   * 'sampled' (some rule cannot: its itctr is the mean of the user's click probability on the ad
   * over `itctr_samples` responses per query and bid, seeded per query, so the bids of a query
   * share their random numbers).
   */
  itctr: 'exact' | 'sampled';
  itctr_samples: number | null;
  epochs: Fig4aEpoch[];
  /** Per query: the perturbed ad, its drawn bid, and per epoch and bid the exact itctr and the sampled click. */
  per_query: { query_id: string; ad_id: string; drawn_bid: number; itctr: number[][]; clicked: number[][] }[];
}

/**
 * A 95% percentile interval of Spearman's rho of (bid, itctr) for each epoch, resampling the
 * queries with replacement (each query's 11 bids stay together): Figure 4(a)'s per-query data.
 */
export function spearmanBootstrap(perQuery: readonly { itctr: number[][] }[], bids: readonly number[], epoch: number, draws = 2000, seed = 0): [number, number] | null {
  if (perQuery.length < 2) return null;
  const rng = Rng.derive(seed, 'fig4a/bootstrap', epoch);
  const rhos: number[] = [];
  for (let d = 0; d < draws; d++) {
    const xs: number[] = [];
    const ys: number[] = [];
    for (let k = 0; k < perQuery.length; k++) {
      const q = perQuery[rng.int(0, perQuery.length - 1)]!;
      bids.forEach((b, i) => {
        xs.push(b);
        ys.push(q.itctr[epoch]![i]!);
      });
    }
    const r = spearman(xs, ys);
    if (Number.isFinite(r)) rhos.push(r);
  }
  if (rhos.length < draws / 2) return null;
  rhos.sort((x, y) => x - y);
  return [rhos[Math.floor(0.025 * (rhos.length - 1))]!, rhos[Math.ceil(0.975 * (rhos.length - 1))]!];
}

export async function figure4a(ctx: FigureContext, n: number): Promise<Fig4aData> {
  const world = embeddedWorld(ctx.worldSeed);
  const profiles = profileMap(world);
  const queries = testAuctions(world, ctx.seed, 'fig4a/queries').slice(0, n);
  const exact = new ExactItctr(ctx.user);
  const perQuery: Fig4aData['per_query'] = [];
  const B = FIG4A_BIDS.length;
  const K = ctx.itctrSamples ?? 0;
  // Exact where a rule enumerates its responses (the embedded rules do), sampled otherwise.
  const sampledAny = ctx.epochs.some((t) => ctx.rules.get(t)!.enumerate === undefined);
  for (let qi = 0; qi < queries.length; qi++) {
    const q = queries[qi]!;
    const input = auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: ctx.seed, stage: 'fig4a', epoch: 0, candidates: ctx.candidates });
    const index = Rng.derive(ctx.seed, 'fig4a/ad', q.id).int(0, input.ads.length - 1);
    const id = input.ads[index]!.id;
    const parser = new ResponseParser(input.ads);
    const itctr: number[][] = [];
    const clicked: number[][] = [];
    for (const t of ctx.epochs) {
      const rule = ctx.rules.get(t)!;
      const row: number[] = [];
      const hits: number[] = [];
      const exactRule = rule.enumerate !== undefined;
      if (!exactRule && !(K > 0)) throw new UsageError(`${rule.name}: cannot compute Figure 4(a) exactly: the rule does not enumerate its responses; pass --itctr-samples K to estimate its itctr from K sampled responses per query and bid`);
      // A served rule is asked for every bid's samples at once (its client bounds what is in
      // flight, a batching server serves them together); the seeds are per query, as one by one.
      const asked = exactRule ? [] : FIG4A_BIDS.map((bid) => rule.sample(withBid(input, index, bid), K, { seed: deriveSeed(ctx.seed, 'fig4a/response', q.id) }));
      for (const p of asked) p.catch(() => undefined); // awaited in order below; a failure surfaces there
      for (const [b, bid] of FIG4A_BIDS.entries()) {
        const arm = withBid(input, index, bid);
        // One response and one click draw per (query, bid). The seeds depend on the query only,
        // so every bid and epoch shares them (common random numbers): a change in the count comes
        // from the rule's response to the bid, not from a fresh draw.
        const rng = Rng.derive(ctx.seed, 'fig4a/clicks', q.id);
        let response: string;
        if (exactRule) {
          row.push(await exact.at(rule, input, index, bid));
          [response = ''] = await rule.sample(arm, 1, { seed: deriveSeed(ctx.seed, 'fig4a/response', q.id) });
        } else {
          // Sampled itctr: the mean click probability on the ad over K responses (zero where it
          // is not validly inserted); the first of them is also the one whose clicks are drawn.
          const texts = await asked[b]!;
          row.push((await itctrFromResponses(arm, texts, ctx.user)).find((e) => e.id === id)?.itctr ?? 0);
          response = texts[0] ?? '';
        }
        const parsed = parser.parse(response);
        const c = await drawClicks(ctx.user, { input: arm, response, parsed }, () => rng.uniform());
        hits.push(c.includes(id) ? 1 : 0);
      }
      itctr.push(row);
      clicked.push(hits);
    }
    perQuery.push({ query_id: q.id, ad_id: id, drawn_bid: input.ads[index]!.bid, itctr, clicked });
    if ((qi + 1) % 10 === 0 || qi + 1 === queries.length) ctx.onProgress?.('figure 4(a)', qi + 1, queries.length);
  }
  const epochs: Fig4aEpoch[] = ctx.epochs.map((t, e) => {
    const xs: number[] = [];
    const ys: number[] = [];
    const zs: number[] = [];
    const expected = new Array<number>(B).fill(0);
    const sampled = new Array<number>(B).fill(0);
    for (const pq of perQuery) {
      for (let b = 0; b < B; b++) {
        xs.push(FIG4A_BIDS[b]!);
        // The rank correlation is computed on the per-query itctr as published in fig4a.json
        // (6 decimals), so a reader recomputing it from the file gets the legend's value; below
        // 1e-6 the differences are floating-point noise, not an allocation.
        ys.push(r6(pq.itctr[e]![b]!));
        zs.push(pq.clicked[e]![b]!);
        expected[b]! += pq.itctr[e]![b]!;
        sampled[b]! += pq.clicked[e]![b]!;
      }
    }
    return {
      epoch: t,
      mechanism: `${ctx.runSpec}@${t}`,
      expected_clicks: expected.map(r6),
      sampled_clicks: sampled,
      spearman_expected: r6(spearman(xs, ys)),
      spearman_sampled: r6(spearman(xs, zs)),
    };
  });
  return {
    figure: '4a',
    run: ctx.runSpec,
    seed: ctx.seed,
    world_seed: ctx.worldSeed,
    candidates: ctx.candidates,
    stage: 'fig4a',
    queries: queries.length,
    bids: [...FIG4A_BIDS],
    plotted: 'expected_clicks',
    itctr: sampledAny ? 'sampled' : 'exact',
    itctr_samples: sampledAny ? K : null,
    epochs,
    per_query: perQuery.map((p) => ({ ...p, itctr: p.itctr.map((r) => r.map(r6)) })),
  };
}

/**
 * The jumps of a curve by the continuity check's own definition: steps larger than kappa times
 * the curve's scale (its values at both ends of the sweep).
 */
export function jumpsOf(ys: readonly number[], kappa = DEFAULT_KAPPA): number[] {
  const scale = ys[0]! + ys[ys.length - 1]!;
  const out: number[] = [];
  for (let k = 0; k + 1 < ys.length; k++) if (Math.abs(ys[k + 1]! - ys[k]!) > kappa * scale + 1e-12) out.push(k);
  return out;
}

/** Largest change between neighbouring points of a curve. */
export function maxStep(ys: readonly number[]): number {
  let m = 0;
  for (let k = 1; k < ys.length; k++) m = Math.max(m, Math.abs(ys[k]! - ys[k - 1]!));
  return m;
}

export interface Fig4bCurve {
  mechanism: string;
  label: string;
  /** Clicks on the ad out of `responses` sampled responses, per bid 1..100. */
  raw: number[];
  /** LOESS trend of `raw`, fitted separately between the jumps of the exact curve. */
  smoothed: number[];
  /** Indices k (bids k + 1 -> k + 2) where the exact curve jumps (continuity's definition). */
  jumps: number[];
  /** Exact expected clicks: responses x itctr. */
  expected: number[];
  max_step_raw: number;
  max_step_smoothed: number;
  max_step_expected: number;
}

export interface Fig4bData {
  figure: '4b';
  run: string;
  seed: number;
  world_seed: number;
  candidates: number;
  stage: 'fig4b';
  query_id: string;
  query: string;
  profile_id: string;
  ad_id: string;
  ad_title: string;
  other_bids: Record<string, number>;
  responses: number;
  bids: number[];
  smoothing: { method: 'loess'; degree: 1; kernel: 'tricube'; span: number; split_at: 'jumps of the exact curve (step > kappa x scale)'; kappa: number };
  selection: {
    /** 'criteria': the first ad meeting both criteria; otherwise one of the two fallbacks. */
    how: 'criteria' | 'best-score';
    queries_tried: number;
    rule: string;
    gsp_entry_bid: number | null;
    /** GSP's exact itctr change at the entry bid. */
    gsp_itctr_jump: number;
    /** Largest change of the trained rule's exact itctr between neighbouring bids. */
    trained_max_itctr_change: number;
    trained_itctr_at_100: number;
  };
  curves: Fig4bCurve[];
}

/** The bid at which the ad first wins GSP's slot (k slots), or null if it never does up to 100. */
function gspEntryBid(gsp: GspRule, input: AuctionInput, index: number): number | null {
  const quality = new Map(input.ads.map((a) => [a.id, gsp.quality(input, a)]));
  const id = input.ads[index]!.id;
  for (const bid of FIG4B_BIDS) {
    const slots = gspAllocate(withBid(input, index, bid).ads, (a) => quality.get(a.id) ?? 0, gsp.config.k);
    if (slots.some((s) => s.id === id)) return bid;
  }
  return null;
}

/** Selection thresholds of Figure 4(b), in itctr units (x responses = clicks). */
const MIN_ITCTR_AT_100 = 0.03;
const MIN_GSP_JUMP = 0.05;

/**
 * Choose the query and ad of Figure 4(b), so that the figure can show what it is meant to show.
 * Test queries and their ads are tried in a seeded order (at most 40 queries); the first ad is
 * taken for which
 *   - GSP's slot is won at an entry bid e in 10..90 (the step lies inside the sweep),
 *   - GSP's exact itctr jumps by at least 0.05 at e (a step of 10 clicks in 200 responses: the
 *     trained rule handed the ad alone inserts it) and by at least twice the largest change of
 *     the trained rule's own exact curve between neighbouring bids,
 *   - the trained rule gets it clicked at bid 100 with itctr >= 0.03 (its curve is not all zeros).
 * Without such an ad, the one with the largest margin jump - 2 x (trained max step) among those
 * tried is taken, and the caption says so.
 */
async function chooseFig4bAd(ctx: FigureContext, last: AllocationRule, exact: ExactItctr) {
  const world = embeddedWorld(ctx.worldSeed);
  const profiles = profileMap(world);
  const order = testAuctions(world, ctx.seed, 'fig4b/queries').slice(0, 40);
  const gsp = ctx.gsp instanceof GspRule ? ctx.gsp : undefined;
  type Pick = { q: Query; input: AuctionInput; index: number; itctr: number; entry: number | null; jump: number; trainedStep: number; score: number };
  let best: Pick | undefined;
  let tried = 0;
  for (const q of order) {
    tried++;
    const input = auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: ctx.seed, stage: 'fig4b', epoch: 0, candidates: ctx.candidates });
    for (const index of Rng.derive(ctx.seed, 'fig4b/ads', q.id).shuffle(input.ads.map((_, k) => k))) {
      // Cheapest test first: the entry bid needs ten quality scores, the rest exact itctr.
      const entry = gsp ? gspEntryBid(gsp, input, index) : null;
      const inRange = entry !== null && entry >= 10 && entry <= 90;
      if (gsp && !inRange && best) continue;
      const itctr = await exact.at(last, input, index, 100);
      const jump = gsp && entry !== null ? (await exact.at(gsp, input, index, entry)) - (entry > 1 ? await exact.at(gsp, input, index, entry - 1) : 0) : 0;
      let trainedStep = 0;
      let prev = await exact.at(last, input, index, FIG4B_BIDS[0]!);
      for (const bid of FIG4B_BIDS.slice(1)) {
        const v = await exact.at(last, input, index, bid);
        trainedStep = Math.max(trainedStep, Math.abs(v - prev));
        prev = v;
      }
      const score = (inRange ? 1 : 0) + (jump - 2 * trainedStep) + Math.min(itctr, MIN_ITCTR_AT_100);
      if (!best || score > best.score) best = { q, input, index, itctr, entry, jump, trainedStep, score };
      if (!gsp || (inRange && jump >= MIN_GSP_JUMP && jump >= 2 * trainedStep && itctr >= MIN_ITCTR_AT_100)) {
        return { ...best, how: 'criteria' as const, tried };
      }
    }
  }
  return { ...best!, how: 'best-score' as const, tried };
}

export async function figure4b(ctx: FigureContext, responses: number): Promise<Fig4bData> {
  const exact = new ExactItctr(ctx.user);
  const lastEpoch = ctx.epochs[ctx.epochs.length - 1]!;
  const last = ctx.rules.get(lastEpoch)!;
  const pick = await chooseFig4bAd(ctx, last, exact);
  const { q, input, index } = pick;
  const id = input.ads[index]!.id;
  const parser = new ResponseParser(input.ads);
  const parseMemo = new Map<string, ParsedResponse>();
  const parse = (text: string) => {
    let p = parseMemo.get(text);
    if (!p) parseMemo.set(text, (p = parser.parse(text)));
    return p;
  };
  const mechanisms: { rule: AllocationRule; spec: string; label: string }[] = [
    { rule: last, spec: `${ctx.runSpec}@${lastEpoch}`, label: `LLM-Auction (epoch ${lastEpoch})` },
    { rule: ctx.gsp, spec: `gsp:${ctx.runSpec}@${lastEpoch}?k=1`, label: `GSP (k=1) over epoch ${lastEpoch}` },
  ];
  const curves: Fig4bCurve[] = [];
  let done = 0;
  for (const m of mechanisms) {
    const raw: number[] = [];
    const expected: number[] = [];
    for (const bid of FIG4B_BIDS) {
      const arm = withBid(input, index, bid);
      // Independent draws per bid, as in the paper: the dashed curve carries the sampling noise of
      // `responses` responses; the exact expected curve is noise-free.
      const texts = await m.rule.sample(arm, responses, { seed: deriveSeed(ctx.seed, 'fig4b/response', bid) });
      const rng = Rng.derive(ctx.seed, 'fig4b/clicks', bid);
      let clicks = 0;
      for (const text of texts) {
        const c = await drawClicks(ctx.user, { input: arm, response: text, parsed: parse(text) }, () => rng.uniform());
        if (c.includes(id)) clicks++;
      }
      raw.push(clicks);
      expected.push(responses * (await exact.at(m.rule, input, index, bid)));
      if (++done % 10 === 0) ctx.onProgress?.('figure 4(b)', done, 2 * FIG4B_BIDS.length);
    }
    const jumps = jumpsOf(expected);
    const smoothed = segmentedLoess(FIG4B_BIDS, raw, jumps);
    curves.push({
      mechanism: m.spec,
      label: m.label,
      raw,
      smoothed: smoothed.map(r6),
      jumps,
      expected: expected.map(r6),
      max_step_raw: maxStep(raw),
      max_step_smoothed: r6(maxStep(smoothed)),
      max_step_expected: r6(maxStep(expected)),
    });
  }
  const profile = input.profile;
  return {
    figure: '4b',
    run: ctx.runSpec,
    seed: ctx.seed,
    world_seed: ctx.worldSeed,
    candidates: ctx.candidates,
    stage: 'fig4b',
    query_id: q.id,
    query: q.text,
    profile_id: profile.id,
    ad_id: id,
    ad_title: input.ads[index]!.title,
    other_bids: Object.fromEntries(input.ads.filter((_, k) => k !== index).map((a) => [a.id, a.bid])),
    responses,
    bids: [...FIG4B_BIDS],
    smoothing: { method: 'loess', degree: 1, kernel: 'tricube', span: LOESS_SPAN, split_at: 'jumps of the exact curve (step > kappa x scale)', kappa: DEFAULT_KAPPA },
    selection: {
      how: pick.how,
      queries_tried: pick.tried,
      rule:
        'first (query, ad) in seeded order with a GSP entry bid e in 10..90, a GSP itctr jump at e of at least 0.05 and at least twice the largest ' +
        'neighbouring change of the trained curve, and trained itctr at bid 100 >= 0.03; else the largest margin (jump - 2 x trained max change) tried',
      gsp_entry_bid: pick.entry,
      gsp_itctr_jump: r6(pick.jump),
      trained_max_itctr_change: r6(pick.trainedStep),
      trained_itctr_at_100: r6(pick.itctr),
    },
    curves,
  };
}
