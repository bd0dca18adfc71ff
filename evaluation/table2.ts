/**
 * The paper's Table 2, computed: what `llm-auction bench`, the demo, the library and the benchmarks call. Every mechanism answers the same test queries with the
 * same bids (stage 'bench' of the run's seed). Where a rule enumerates its responses (the embedded
 * Ad-LLM, trained runs, GSP over them, the ceilings) and the user is the embedded one, each query's
 * revenue and reward are exact expectations: E[R] under the user's true click probabilities, and
 * the sum of price x click probability. Elsewhere (MOSAIC, endpoints) one response per query is
 * sampled and scored in expectation over the user's clicks on it (its reward uses the click
 * probabilities, its revenue is price x click probability: unbiased, with no click noise); rows
 * say which (`exact`). Intervals (95%) are over queries;
 * each row also carries paired differences, query by query, against Pretrained and MOSAIC. Costs:
 * Ad-LLM generations per query (MOSAIC draws n) and generated tokens per query.
 */
import { scoringModel, type ClickModel } from '../mechanism/click-model.ts';
import { reward } from '../mechanism/reward.ts';
import { auctionPrices, expectedRevenue, paymentOf } from '../mechanism/settlement.ts';
import type { AllocationRule, AuctionInput } from '../mechanism/types.ts';
import { generationsPerResponse } from '../baselines/index.ts';
import { EmbeddedRule } from '../simulation/embedded-policy.ts';
import { responseOutcome } from '../simulation/optimal.ts';
import { BenchProgress, type QueryOutcome } from './bench-progress.ts';
import { ParametricUser } from '../simulation/user-model.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { runAuction, type Episode } from '../simulation/episode.ts';
import { formatSpec, parseSpecList, specLabel, specPromptOnly } from './kinds/index.ts';
import { resolveRule, resolveUser } from './resolve.ts';
import { selectWorld } from './world-selection.ts';
import { embeddedParts } from './embedded-parts.ts';
import type { BenchRow } from '../reports/formats.ts';
import { benchRows, RowOutcomes, type RowMeta } from './bench-rows.ts';
import { formatShard, parseShard } from './shard.ts';

export interface BenchOptions {
  mechanism: string;
  queries: string;
  limit?: number;
  user: string;
  candidates: number;
  worldSeed: number;
  out?: string;
  /** With `out`: keep each query's outcomes in OUT/bench-progress.jsonl and continue them (./bench-progress.ts). */
  resume?: boolean;
  /** Where runBench keeps that progress (its --out); other callers leave it unset. */
  progressDir?: string;
  json?: string;
  seed: number;
  /** More rows to give paired differences against (beside Pretrained and MOSAIC), e.g. a control. */
  pairAgainst?: string[];
  /** The CLI's --paired-with: the same, as one comma-separated spec list. */
  pairedWith?: string;
  /** A user given as a model instead of `user`'s spec (the library; the tripwire test's guarded user). */
  clickModel?: ClickModel;
  /**
   * Each query's episodes of row m, as they finish. Given, they are handed over and not kept (the
   * returned map stays empty), so memory does not grow with the number of queries; absent, every
   * episode is kept and returned.
   */
  onEpisodes?: (m: number, spec: string, episodes: Episode[]) => void;
  /**
   * `i/n`: bench only the i-th of n contiguous blocks of the queries (evaluation/shard.ts); every
   * rule is still resolved on all of them (best-in-class is fitted on every scored auction), so a
   * shard's outcomes are the unsharded run's. `merge` joins the shards (./bench-shard.ts).
   */
  shard?: string;
}

export type { BenchRow } from '../reports/formats.ts';

/** One response to one bench auction, scored: shared by every exact row of that query. */
type Scored = { reward: number; ads: number; errors: number; firstPrice?: number };

/**
 * Expected revenue, reward, ads and errors of a rule that enumerates its responses, exactly. The
 * rows of one query score the same responses (every policy-class rule enumerates the same plans),
 * so each distinct response is scored once per query in `scored`; its revenue is shared too where
 * it depends on nothing but the response (first price per click, no posted prices).
 */
async function exactExpectation(
  rule: AllocationRule,
  input: AuctionInput,
  user: ClickModel,
  queryId: string,
  scored: Map<string, Scored>,
): Promise<{ revenue: number; reward: number; ads: number; errors: number }> {
  const payment = paymentOf(rule);
  const slots = auctionPrices(rule, input);
  const shared = slots === undefined && payment.name === 'first-price-click';
  const out = { revenue: 0, reward: 0, ads: 0, errors: 0 };
  for (const { response, prob } of await rule.enumerate!(input)) {
    if (!(prob > 0)) continue;
    let s = scored.get(response);
    let revenue = shared ? s?.firstPrice : undefined;
    if (s === undefined || revenue === undefined) {
      const { parsed, ctr } = await responseOutcome(user, input, response);
      if (s === undefined) scored.set(response, (s = { reward: reward(parsed, input.ads, ctr).reward, ads: parsed.exposures.length, errors: parsed.errors.length }));
      const priced = slots ? { response, slots } : { response };
      revenue = expectedRevenue(payment, { queryId, sample: 0, input, priced, exposures: parsed.exposures }, ctr);
      if (shared) s.firstPrice = revenue;
    }
    out.reward += prob * s.reward;
    out.revenue += prob * revenue;
    out.ads += prob * s.ads;
    out.errors += prob * s.errors;
  }
  return out;
}

export async function benchMechanisms(
  opts: BenchOptions,
  onProgress?: (label: string, done: number, total: number) => void,
): Promise<{ rows: BenchRow[]; episodes: Map<string, Episode[]>; meta: RowMeta[] }> {
  const world = selectWorld(opts);
  const user = opts.clickModel ?? (await resolveUser(opts.user, { worldSeed: opts.worldSeed }));
  // The judge's view of the user: what scores the episodes (the same model, unless a test wraps it).
  const judge = scoringModel(user);
  const parsed = parseSpecList(opts.mechanism);
  const specs = parsed.map(formatSpec);
  const items = world.queries.map((q) => ({
    queryId: q.id,
    input: auctionInput(q, world.profiles.get(q.profile_id)!, world.catalog, { seed: opts.seed, stage: 'bench', epoch: 0, candidates: opts.candidates }),
  }));
  // Rules are resolved in order; embedded:best-in-class is fitted on these very auctions and also
  // starts its ascent from the theta of every rule of the policy class benched before it (trained
  // runs), so it is the class's best on what is scored here.
  const rules: AllocationRule[] = [];
  const classAuctions = items.map((it) => it.input);
  for (const spec of parsed) {
    const classStarts = rules.filter((r): r is EmbeddedRule => r instanceof EmbeddedRule).map((r) => r.theta);
    rules.push(await resolveRule(spec, { user, worldSeed: opts.worldSeed, classStarts, classAuctions }));
  }
  // Exact wherever the rule enumerates and the user is the embedded one (a judging LLM would be
  // asked about every enumerated response); sampled otherwise.
  const exact = rules.map((r) => typeof r.enumerate === 'function' && judge instanceof ParametricUser);
  // Per row: each query's revenue, reward, ads, errors and tokens (./bench-rows.ts); episodes are
  // handed to onEpisodes as they finish, or kept when it is absent.
  const perQuery = rules.map(() => new RowOutcomes());
  const episodes = new Map<string, Episode[]>(specs.map((s) => [s, []]));
  const keep = (m: number, o: QueryOutcome) => {
    perQuery[m]!.add(o);
    if (opts.onEpisodes) opts.onEpisodes(m, specs[m]!, o.episodes);
    else episodes.get(specs[m]!)!.push(...o.episodes);
  };
  // bench --out: every finished query is on disk, and --resume continues after the last one.
  // A shard benches queries [lo, hi) and says so in its progress file (the merge removes it).
  const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
  const lo = shard ? Math.floor(((shard.index - 1) * items.length) / shard.count) : 0;
  const hi = shard ? Math.floor((shard.index * items.length) / shard.count) : items.length;
  const config = { mechanism: specs, seed: opts.seed, queries: opts.queries, limit: opts.limit ?? null, user: opts.user, candidates: opts.candidates, world_seed: opts.worldSeed, ...(shard ? { shard: formatShard(shard) } : {}) };
  const progress = opts.progressDir ? BenchProgress.open(opts.progressDir, config, opts.resume ?? false) : undefined;
  progress?.check(items.slice(lo, hi).map((it) => it.queryId), rules.length);
  const start = lo + (progress?.restored.length ?? 0);
  for (const r of progress?.restored ?? []) r.outcomes.forEach((o, m) => keep(m, o));
  progress?.restored.splice(0); // their episodes are counted (and handed over or kept): drop the copies
  // Query by query, every rule in turn, so the responses' outcomes are scored once and shared.
  for (let k = start; k < hi; k++) {
    const { queryId, input } = items[k]!;
    const outcomes: QueryOutcome[] = [];
    const scored = new Map<string, Scored>();
    // The sampled rows' auctions of a query are started together (a served model batches them);
    // each has its own seed, so the outcomes are those of one after the other.
    const auction = (m: number) => runAuction({ queryId, input, rule: rules[m]!, clicks: user, seed: opts.seed, samples: 1, stage: 'bench', epoch: 0 });
    const started = rules.map((_, m) => (exact[m] ? null : auction(m)));
    for (const p of started) p?.catch(() => undefined); // awaited in order below; a failure surfaces there
    for (let m = 0; m < rules.length; m++) {
      const rule = rules[m]!;
      const eps = await (started[m] ?? auction(m));
      const o: QueryOutcome = exact[m]
        ? { ...(await exactExpectation(rule, input, judge, queryId, scored)), episodes: eps }
        : { revenue: eps[0]!.expected_revenue, reward: eps[0]!.reward, ads: eps[0]!.exposures.length, errors: eps[0]!.format_errors.length, episodes: eps };
      keep(m, o);
      outcomes.push(o);
    }
    progress?.append(queryId, outcomes);
    // The embedded policy's plan tables of finished queries are not needed again (over a megabyte each).
    if ((k + 1) % 32 === 0) embeddedParts(opts.worldSeed).policy.clearTables();
    if ((k + 1 - lo) % 25 === 0 || k + 1 === hi) onProgress?.('bench', k + 1 - lo, hi - lo);
  }
  progress?.release();
  const meta: RowMeta[] = rules.map((rule, m) => {
    // Endpoint backends report token usage through stats(); others are estimated from the text.
    const stats = typeof rule.stats === 'function' ? rule.stats() : undefined;
    const tokens = stats && typeof stats.completionTokens === 'number' ? stats.completionTokens + (stats.cachedCompletionTokens ?? 0) : null;
    return { mechanism: specs[m]!, name: rule.name, label: specLabel(parsed[m]!), exact: exact[m]!, generations_per_query: generationsPerResponse(rule), prompt_only: specPromptOnly(parsed[m]!), endpoint_tokens: tokens };
  });
  // Paired differences against Pretrained, MOSAIC and the extra rows; gap closed from the strongest prompt-only row.
  const extra = new Set((opts.pairAgainst ?? []).map((x) => formatSpec(parseSpecList(x)[0]!)));
  const rows = benchRows(meta, perQuery, extra);
  return { rows, episodes, meta };
}
