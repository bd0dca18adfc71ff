/**
 * `llm-auction bench`: the paper's Table 2 as a command. It hands the flags to
 * evaluation/bench-run.ts (which checks --paired-with, computes every row in evaluation/table2.ts,
 * exact or sampled, with intervals and paired differences, and writes bench.json and the episodes
 * under --out), then prints the table and writes --json.
 */
import { fmt, table, writeJsonResult } from '../output.ts';
import { progressBar } from '../progress.ts';
import type { BenchOptions, BenchRow } from '../../evaluation/table2.ts';
import { benchRun } from '../../evaluation/bench-run.ts';

export function benchTable(rows: readonly BenchRow[]): string {
  const gapRef = rows.find((r) => r.gap_reference !== undefined)?.gap_reference;
  const gapFrom = rows.find((r) => r.gap_from !== undefined)?.gap_from;
  const header = ['mechanism', 'exact', 'revenue/query', '95% CI', 'reward/query', '95% CI', 'reward - pretrained [95% CI]', 'gens/query', 'tokens/query', ...(gapRef ? [`gap closed ${gapFrom ? `from ${gapFrom} ` : ''}to ${gapRef}`] : [])];
  const ci = (c: [number, number]) => `[${fmt(c[0])}, ${fmt(c[1])}]`;
  return table(
    header,
    rows.map((r) => {
      const d = r.paired?.find((p) => p.against === 'embedded:pretrained');
      return [
        r.label,
        r.exact ? 'yes' : 'sampled',
        r.revenue_per_query,
        ci(r.revenue_ci95),
        r.reward_per_query,
        ci(r.reward_ci95),
        d ? `${fmt(d.reward_diff)} ${ci(d.reward_diff_ci95)}` : '',
        r.generations_per_query,
        Math.round(r.tokens_per_query),
        ...(gapRef ? [r.gap_closed === undefined ? '' : `${(100 * r.gap_closed).toFixed(0)}%`] : []),
      ];
    }),
  );
}

export async function runBench(opts: BenchOptions): Promise<number> {
  const bar = progressBar('bench');
  let rows: BenchRow[];
  try {
    // Only the rows are printed: no episode is kept (memory flat in the number of queries).
    ({ rows } = await benchRun(opts, { onProgress: (_l, d, n) => bar.update(d, n), keepEpisodes: false }));
  } finally {
    bar.stop();
  }
  process.stdout.write(
    `${benchTable(rows)}\n${rows[0]?.queries ?? 0} queries, seed ${opts.seed}, world seed ${opts.worldSeed}; reward is Eq. 8 under the user model's click probabilities; exact rows are expectations over every response the rule can give, sampled rows one response per query with its clicks in expectation; intervals are over queries\n`,
  );
  writeJsonResult(opts.json, { rows });
  return 0;
}
