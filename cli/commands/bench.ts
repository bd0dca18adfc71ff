/**
 * `llm-auction bench`: the paper's Table 2. Every mechanism answers the same test queries with the
 * same bids (stage 'bench' of the run's seed), one response per query; the simulated user clicks;
 * revenue per query is what the ledger charged and reward per query is R (Eq. 8) under the user's
 * true click probabilities, each with a 95% interval over queries. Costs: Ad-LLM generations per
 * query (MOSAIC draws n) and generated tokens per query.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mean, sampleStandardDeviation } from 'simple-statistics';
import { formatSpec, parseSpecList } from '../../mechanism/spec.ts';
import type { AllocationRule } from '../../mechanism/types.ts';
import { auctionInput } from '../../simulation/auctions.ts';
import { runAuction, type Episode } from '../../simulation/episode.ts';
import { fmt, table, writeJsonResult } from '../output.ts';
import { progressBar } from '../progress.ts';
import { resolveRule, resolveUser } from '../resolve.ts';
import { selectWorld } from './simulate.ts';

export interface BenchOptions {
  mechanism: string;
  queries: string;
  limit?: number;
  user: string;
  candidates: number;
  worldSeed: number;
  out?: string;
  json?: string;
  seed: number;
}

export interface BenchRow {
  mechanism: string;
  name: string;
  queries: number;
  revenue_per_query: number;
  revenue_ci95: [number, number];
  reward_per_query: number;
  reward_ci95: [number, number];
  generations_per_query: number;
  tokens_per_query: number;
  ads_per_response: number;
  format_errors_per_response: number;
  /** Share of the reward gap between embedded:pretrained and embedded:optimal this row closes. */
  gap_closed?: number;
}

/** Student-t 97.5% quantile, close enough for interval reporting at any n. */
function t975(df: number): number {
  if (df >= 120) return 1.96;
  const table: [number, number][] = [[1, 12.706], [2, 4.303], [3, 3.182], [4, 2.776], [5, 2.571], [10, 2.228], [20, 2.086], [30, 2.042], [60, 2.0], [120, 1.98]];
  for (const [d, q] of table) if (df <= d) return q;
  return 1.96;
}

export function meanCi(xs: readonly number[]): { mean: number; ci: [number, number] } {
  if (xs.length === 0) return { mean: 0, ci: [0, 0] };
  const m = mean(xs as number[]);
  if (xs.length < 2) return { mean: m, ci: [m, m] };
  const half = (t975(xs.length - 1) * sampleStandardDeviation(xs as number[])) / Math.sqrt(xs.length);
  return { mean: m, ci: [m - half, m + half] };
}

/** Rough token count of a text for backends that do not report usage (about 4 characters a token). */
const approxTokens = (text: string) => Math.ceil(text.length / 4);

interface CostedRule extends AllocationRule {
  generationsPerResponse?: number;
  stats?: unknown;
}

export async function benchMechanisms(opts: BenchOptions, onProgress?: (label: string, done: number, total: number) => void): Promise<{ rows: BenchRow[]; episodes: Map<string, Episode[]> }> {
  const world = selectWorld(opts);
  const user = await resolveUser(opts.user);
  const specs = parseSpecList(opts.mechanism).map(formatSpec);
  const items = world.queries.map((q) => ({
    queryId: q.id,
    input: auctionInput(q, world.profiles.get(q.profile_id)!, world.catalog, { seed: opts.seed, stage: 'bench', epoch: 0, candidates: opts.candidates }),
  }));
  const rows: BenchRow[] = [];
  const episodes = new Map<string, Episode[]>();
  for (const spec of specs) {
    const rule = (await resolveRule(spec, { user })) as CostedRule;
    const eps: Episode[] = [];
    let k = 0;
    for (const it of items) {
      eps.push(...(await runAuction({ queryId: it.queryId, input: it.input, rule, clicks: user, seed: opts.seed, samples: 1, stage: 'bench', epoch: 0 })));
      if (++k % 50 === 0 || k === items.length) onProgress?.(spec, k, items.length);
    }
    episodes.set(spec, eps);
    const rev = meanCi(eps.map((e) => e.revenue));
    const rew = meanCi(eps.map((e) => e.reward));
    const gens = rule.generationsPerResponse ?? 1;
    // Endpoint backends report token usage through stats(); others are estimated from the text.
    const stats = typeof rule.stats === 'function' ? (rule.stats as () => { completionTokens?: number; cachedCompletionTokens?: number })() : undefined;
    const tokens =
      stats && typeof stats.completionTokens === 'number'
        ? (stats.completionTokens + (stats.cachedCompletionTokens ?? 0)) / Math.max(1, items.length)
        : (gens * eps.reduce((s, e) => s + approxTokens(e.response), 0)) / Math.max(1, eps.length);
    rows.push({
      mechanism: spec,
      name: rule.name,
      queries: items.length,
      revenue_per_query: rev.mean,
      revenue_ci95: rev.ci,
      reward_per_query: rew.mean,
      reward_ci95: rew.ci,
      generations_per_query: gens,
      tokens_per_query: tokens,
      ads_per_response: eps.reduce((s, e) => s + e.exposures.length, 0) / Math.max(1, eps.length),
      format_errors_per_response: eps.reduce((s, e) => s + e.format_errors.length, 0) / Math.max(1, eps.length),
    });
  }
  const pre = rows.find((r) => r.mechanism === 'embedded:pretrained');
  const opt = rows.find((r) => r.mechanism === 'embedded:optimal');
  if (pre && opt && opt.reward_per_query > pre.reward_per_query) {
    for (const r of rows) r.gap_closed = (r.reward_per_query - pre.reward_per_query) / (opt.reward_per_query - pre.reward_per_query);
  }
  return { rows, episodes };
}

export function benchTable(rows: readonly BenchRow[]): string {
  const gap = rows.some((r) => r.gap_closed !== undefined);
  const header = ['mechanism', 'revenue/query', '95% CI', 'reward/query', '95% CI', 'gens/query', 'tokens/query', ...(gap ? ['gap closed'] : [])];
  const ci = (c: [number, number]) => `[${fmt(c[0])}, ${fmt(c[1])}]`;
  return table(
    header,
    rows.map((r) => [
      r.mechanism,
      r.revenue_per_query,
      ci(r.revenue_ci95),
      r.reward_per_query,
      ci(r.reward_ci95),
      r.generations_per_query,
      Math.round(r.tokens_per_query),
      ...(gap ? [r.gap_closed === undefined ? '' : `${(100 * r.gap_closed).toFixed(0)}%`] : []),
    ]),
  );
}

export async function runBench(opts: BenchOptions): Promise<number> {
  const bar = progressBar('bench');
  const { rows, episodes } = await benchMechanisms(opts, (_l, d, n) => bar.update(d, n));
  bar.stop();
  process.stdout.write(`${benchTable(rows)}\n${rows[0]?.queries ?? 0} queries, seed ${opts.seed}; reward is Eq. 8 under the user model's click probabilities\n`);
  if (opts.out) {
    mkdirSync(opts.out, { recursive: true });
    writeFileSync(join(opts.out, 'bench.json'), `${JSON.stringify({ seed: opts.seed, queries: opts.queries, limit: opts.limit ?? null, rows }, null, 2)}\n`);
    for (const [spec, eps] of episodes) {
      const dir = join(opts.out, 'bench-episodes');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${spec.replace(/[^A-Za-z0-9._-]+/g, '_')}.jsonl`), eps.map((e) => JSON.stringify(e)).join('\n') + '\n');
    }
  }
  writeJsonResult(opts.json, { rows });
  return 0;
}
