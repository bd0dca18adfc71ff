/**
 * `llm-auction bench`: the paper's Table 2 as a command. It parses the flags, hands them to
 * evaluation/table2.ts (which computes every row, exact or sampled, with intervals and paired
 * differences), prints the table and writes bench.json and the episodes where asked.
 */
import { fmt, table, writeJsonResult } from '../output.ts';
import { formatSpec, parseSpecList } from '../../evaluation/kinds/index.ts';
import { progressBar } from '../progress.ts';
import { benchMechanisms, type BenchOptions, type BenchRow } from '../../evaluation/table2.ts';
import { benchEpisodeWriter, writeBenchFiles } from '../../evaluation/bench-files.ts';
import { UsageError } from '../../lib/errors.ts';

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
  if (opts.pairedWith !== undefined) {
    const rows = new Set(parseSpecList(opts.mechanism).map(formatSpec));
    const against = parseSpecList(opts.pairedWith).map(formatSpec);
    const missing = against.filter((s) => !rows.has(s));
    if (missing.length > 0) throw new UsageError(`--paired-with ${missing.join(', ')}: not among the -m rows (${[...rows].join(', ')})`);
    opts = { ...opts, pairAgainst: [...(opts.pairAgainst ?? []), ...against] };
  }
  const bar = progressBar('bench');
  // Episodes go to OUT/bench-episodes as each query finishes (none are kept in memory); without --out they are dropped.
  const onEpisodes = opts.out ? benchEpisodeWriter(opts.out) : () => {};
  const { rows } = await benchMechanisms({ ...opts, ...(opts.out ? { progressDir: opts.out } : {}), onEpisodes }, (_l, d, n) => bar.update(d, n));
  bar.stop();
  process.stdout.write(
    `${benchTable(rows)}\n${rows[0]?.queries ?? 0} queries, seed ${opts.seed}, world seed ${opts.worldSeed}; reward is Eq. 8 under the user model's click probabilities; exact rows are expectations over every response the rule can give, sampled rows one response per query with its clicks in expectation; intervals are over queries\n`,
  );
  if (opts.out) writeBenchFiles(opts.out, opts, rows);
  writeJsonResult(opts.json, { rows });
  return 0;
}
