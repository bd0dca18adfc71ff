/**
 * Table 2's rows from per-query outcomes: what `bench` computes at the end of a run, and what
 * `merge` computes again from the outcomes of `bench --shard 1/n … n/n` (evaluation/bench-shard.ts).
 * One function for both, fed the same per-query numbers in the same order, so a merged bench.json
 * is the unsharded one byte for byte: means, intervals over queries, paired differences query by
 * query, gap closed. Sums run over the per-query values in query order (never over shard
 * subtotals), which keeps even their floating-point rounding the unsharded run's.
 */
import { approxTokens } from '../lib/numbers.ts';
import { meanCi } from '../lib/stats.ts';
import type { BenchRow, PairedDifference } from '../reports/formats.ts';
import type { QueryOutcome } from './bench-progress.ts';
import { gapFromPromptOnly } from './gap.ts';

/** What a row needs beside its per-query outcomes: the rule's identity and costs. */
export interface RowMeta {
  mechanism: string;
  name: string;
  label: string;
  exact: boolean;
  generations_per_query: number;
  prompt_only: boolean;
  /** Completion tokens the endpoint reported over the (shard's) queries; null: estimated from the text. */
  endpoint_tokens: number | null;
}

/** One row's per-query outcomes, in query order (16 bytes a query for each field kept). */
export class RowOutcomes {
  readonly revenue: number[] = [];
  readonly reward: number[] = [];
  readonly ads: number[] = [];
  readonly errors: number[] = [];
  /** Estimated tokens of the query's responses, and how many responses. */
  readonly tokens: number[] = [];
  readonly responses: number[] = [];

  add(o: QueryOutcome): void {
    this.revenue.push(o.revenue);
    this.reward.push(o.reward);
    this.ads.push(o.ads);
    this.errors.push(o.errors);
    let t = 0;
    for (const e of o.episodes) t += approxTokens(e.response);
    this.tokens.push(t);
    this.responses.push(o.episodes.length);
  }
}

const sum = (xs: readonly number[]) => {
  let s = 0;
  for (const x of xs) s += x;
  return s;
};

/**
 * The rows, with paired differences against Pretrained, MOSAIC and the `pairAgainst` rows (same
 * queries, same bids) and the gap closed from the strongest prompt-only row.
 */
export function benchRows(meta: readonly RowMeta[], perQuery: readonly RowOutcomes[], pairAgainst: ReadonlySet<string>): BenchRow[] {
  const rows: BenchRow[] = meta.map((r, m) => {
    const acc = perQuery[m]!;
    const n = acc.revenue.length;
    const rev = meanCi(acc.revenue);
    const rew = meanCi(acc.reward);
    // Endpoint backends report token usage; others are estimated from the text.
    const tokens = r.endpoint_tokens !== null ? r.endpoint_tokens / Math.max(1, n) : (r.generations_per_query * sum(acc.tokens)) / Math.max(1, sum(acc.responses));
    return {
      mechanism: r.mechanism,
      name: r.name,
      label: r.label,
      queries: n,
      exact: r.exact,
      ...(r.exact ? {} : { clicks: 'expected' as const }),
      revenue_per_query: rev.mean,
      revenue_ci95: rev.ci,
      reward_per_query: rew.mean,
      reward_ci95: rew.ci,
      generations_per_query: r.generations_per_query,
      tokens_per_query: tokens,
      ads_per_response: sum(acc.ads) / Math.max(1, n),
      format_errors_per_response: sum(acc.errors) / Math.max(1, n),
    };
  });
  const specs = meta.map((r) => r.mechanism);
  const baselines = specs.map((s, m) => ({ s, m })).filter(({ s }) => s === 'embedded:pretrained' || s.startsWith('mosaic:') || pairAgainst.has(s));
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
  gapFromPromptOnly(rows, meta.map((r, m) => ({ promptOnly: r.prompt_only, reward: perQuery[m]!.reward, revenue: perQuery[m]!.revenue })));
  return rows;
}
