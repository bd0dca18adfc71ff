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
import { gapFromPromptOnly } from './gap.ts';
import { resolveRule, resolveUser } from './resolve.ts';
import { selectWorld } from './world-selection.ts';
import { approxTokens } from '../lib/numbers.ts';
import { meanCi } from '../lib/stats.ts';
import type { BenchRow, PairedDifference } from '../reports/formats.ts';

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
}

export type { BenchRow } from '../reports/formats.ts';

/** Expected revenue, reward, ads and errors of a rule that enumerates its responses, exactly. */
async function exactExpectation(
  rule: AllocationRule,
  input: AuctionInput,
  user: ClickModel,
  queryId: string,
): Promise<{ revenue: number; reward: number; ads: number; errors: number }> {
  const payment = paymentOf(rule);
  const slots = auctionPrices(rule, input);
  const out = { revenue: 0, reward: 0, ads: 0, errors: 0 };
  for (const { response, prob } of await rule.enumerate!(input)) {
    if (!(prob > 0)) continue;
    const { parsed, ctr } = await responseOutcome(user, input, response);
    out.reward += prob * reward(parsed, input.ads, ctr).reward;
    const priced = slots ? { response, slots } : { response };
    out.revenue += prob * expectedRevenue(payment, { queryId, sample: 0, input, priced, exposures: parsed.exposures }, ctr);
    out.ads += prob * parsed.exposures.length;
    out.errors += prob * parsed.errors.length;
  }
  return out;
}

export async function benchMechanisms(opts: BenchOptions, onProgress?: (label: string, done: number, total: number) => void): Promise<{ rows: BenchRow[]; episodes: Map<string, Episode[]> }> {
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
  const perQuery = rules.map(() => ({ revenue: [] as number[], reward: [] as number[], ads: 0, errors: 0 }));
  const episodes = new Map<string, Episode[]>(specs.map((s) => [s, []]));
  const keep = (m: number, o: QueryOutcome) => {
    const acc = perQuery[m]!;
    acc.revenue.push(o.revenue);
    acc.reward.push(o.reward);
    acc.ads += o.ads;
    acc.errors += o.errors;
    episodes.get(specs[m]!)!.push(...o.episodes);
  };
  // bench --out: every finished query is on disk, and --resume continues after the last one.
  const config = { mechanism: specs, seed: opts.seed, queries: opts.queries, limit: opts.limit ?? null, user: opts.user, candidates: opts.candidates, world_seed: opts.worldSeed };
  const progress = opts.progressDir ? BenchProgress.open(opts.progressDir, config, opts.resume ?? false) : undefined;
  progress?.check(items.map((it) => it.queryId), rules.length);
  for (const r of progress?.restored ?? []) r.outcomes.forEach((o, m) => keep(m, o));
  // Query by query, every rule in turn, so the responses' outcomes are scored once and shared.
  for (let k = progress?.restored.length ?? 0; k < items.length; k++) {
    const { queryId, input } = items[k]!;
    const outcomes: QueryOutcome[] = [];
    for (let m = 0; m < rules.length; m++) {
      const rule = rules[m]!;
      const eps = await runAuction({ queryId, input, rule, clicks: user, seed: opts.seed, samples: 1, stage: 'bench', epoch: 0 });
      const o: QueryOutcome = exact[m]
        ? { ...(await exactExpectation(rule, input, judge, queryId)), episodes: eps }
        : { revenue: eps[0]!.expected_revenue, reward: eps[0]!.reward, ads: eps[0]!.exposures.length, errors: eps[0]!.format_errors.length, episodes: eps };
      keep(m, o);
      outcomes.push(o);
    }
    progress?.append(queryId, outcomes);
    if ((k + 1) % 25 === 0 || k + 1 === items.length) onProgress?.('bench', k + 1, items.length);
  }
  progress?.release();
  const rows: BenchRow[] = rules.map((rule, m) => {
    const acc = perQuery[m]!;
    const rev = meanCi(acc.revenue);
    const rew = meanCi(acc.reward);
    const gens = generationsPerResponse(rule);
    const eps = episodes.get(specs[m]!)!;
    // Endpoint backends report token usage through stats(); others are estimated from the text.
    const stats = typeof rule.stats === 'function' ? rule.stats() : undefined;
    const tokens =
      stats && typeof stats.completionTokens === 'number'
        ? (stats.completionTokens + (stats.cachedCompletionTokens ?? 0)) / Math.max(1, items.length)
        : (gens * eps.reduce((s, e) => s + approxTokens(e.response), 0)) / Math.max(1, eps.length);
    return {
      mechanism: specs[m]!,
      name: rule.name,
      label: specLabel(parsed[m]!),
      queries: items.length,
      exact: exact[m]!,
      ...(exact[m] ? {} : { clicks: 'expected' as const }),
      revenue_per_query: rev.mean,
      revenue_ci95: rev.ci,
      reward_per_query: rew.mean,
      reward_ci95: rew.ci,
      generations_per_query: gens,
      tokens_per_query: tokens,
      ads_per_response: acc.ads / Math.max(1, items.length),
      format_errors_per_response: acc.errors / Math.max(1, items.length),
    };
  });
  // Paired differences against Pretrained and MOSAIC: same queries, same bids, per-query values.
  const extra = new Set((opts.pairAgainst ?? []).map((x) => formatSpec(parseSpecList(x)[0]!)));
  const baselines = specs.map((s, m) => ({ s, m })).filter(({ s }) => s === 'embedded:pretrained' || s.startsWith('mosaic:') || extra.has(s));
  rows.forEach((row, m) => {
    const paired: PairedDifference[] = [];
    for (const b of baselines) {
      if (b.m === m) continue;
      const dr = meanCi(perQuery[m]!.reward.map((x, k) => x - perQuery[b.m]!.reward[k]!));
      const dv = meanCi(perQuery[m]!.revenue.map((x, k) => x - perQuery[b.m]!.revenue[k]!));
      paired.push({ against: b.s, reward_diff: dr.mean, reward_diff_ci95: dr.ci, revenue_diff: dv.mean, revenue_diff_ci95: dv.ci });
    }
    if (paired.length > 0) row.paired = paired;
  });
  // Gap closed from the strongest prompt-only row to the tightest ceiling, with paired intervals.
  gapFromPromptOnly(rows, parsed.map((spec, m) => ({ promptOnly: specPromptOnly(spec), reward: perQuery[m]!.reward, revenue: perQuery[m]!.revenue })));
  return { rows, episodes };
}
