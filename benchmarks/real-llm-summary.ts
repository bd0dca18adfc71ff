/**
 * The recorded real-LLM experiment (benchmarks/real-llm.ts) as a benchmark result: Table 2's rows
 * on held-out queries, the paired difference of the trained model against the warm-started one,
 * what each IRPO epoch collected, and what each phase cost. Writes benchmarks/results/real-llm.json
 * (BENCHMARKS.md's "real-llm" section after `npm run bench`).
 *
 *   npx tsx benchmarks/real-llm-summary.ts [runs/real-llm]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchFile } from '../reports/formats.ts';
import type { EpochMetrics } from '../training/irpo.ts';
import { parseSpec, specLabel } from '../evaluation/kinds/index.ts';
import { writeResult } from './lib.ts';

interface RealLlmResult {
  /** The benchmark's own command line. */
  command?: string;
  produced_by: string;
  timings_s: Record<string, number>;
  bench: BenchFile;
  metrics: EpochMetrics[];
  /** `verify --property monotonicity` of the trained model at the run's budget (absent: not run). */
  verify?: { mechanism: string; properties: Record<string, { verdict: string; samples: number; p_value?: number | null }> } | null;
  /** Figure 4(a) from the real model (report --figures 4a --itctr-samples K; absent: not drawn). */
  fig4a?: { queries: number; bids: number[]; itctr: string; itctr_samples: number | null; epochs: { epoch: number; expected_clicks: number[]; sampled_clicks: number[]; spearman_expected: number; spearman_sampled: number }[] } | null;
}

/** The row's label as the suite names it today (a run's label reads its manifest). */
const label = (x: BenchFile['rows'][number]) => {
  try {
    return specLabel(parseSpec(x.mechanism));
  } catch {
    return x.label;
  }
};
const rel = (s: string) => s.split(`${process.cwd()}/`).join('');
const f = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const ci = (c: readonly number[]) => `[${f(c[0]!)}, ${f(c[1]!)}]`;

/** Valid exposures and clicks in an epoch's phase-1 online data (what its pCTR fit adds), if on disk. */
function onlineData(trainDir: string, epoch: number): { exposures: number; clicks: number } | null {
  const file = join(trainDir, `epoch-${epoch}`, 'online', 'episodes.jsonl');
  if (!existsSync(file)) return null;
  let exposures = 0;
  let clicks = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    const e = JSON.parse(line) as { exposures?: unknown[]; clicks?: unknown[] };
    exposures += e.exposures?.length ?? 0;
    clicks += e.clicks?.length ?? 0;
  }
  return { exposures, clicks };
}

export function summarizeRealLlm(dir: string): void {
  const r = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as RealLlmResult;
  const rows = r.bench.rows;
  const warm = rows.find((x) => /@0$/.test(x.mechanism));
  const trained = rows.find((x) => x.mechanism.startsWith('run:') && !/@\d+$/.test(x.mechanism));
  const md: string[] = [
    `Held-out test queries: ${rows[0]?.queries ?? 0} (each row sees the same queries and bids; one sampled response per query, scored in expectation over the embedded user's clicks).`,
    '',
    '| row | reward / query [95% CI] | revenue / query [95% CI] | valid ads / response | format errors / response |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rows.map((x) => `| ${label(x)} (\`${rel(x.mechanism.replace(/\?.*$/, ''))}\`) | ${f(x.reward_per_query)} ${ci(x.reward_ci95)} | ${f(x.revenue_per_query)} ${ci(x.revenue_ci95)} | ${f(x.ads_per_response)} | ${f(x.format_errors_per_response)} |`),
    '',
  ];
  const paired = trained?.paired?.find((p) => warm && p.against === warm.mechanism);
  if (paired) md.push(`Trained minus warm-started, paired over the same queries: reward ${f(paired.reward_diff)} ${ci(paired.reward_diff_ci95)}, revenue ${f(paired.revenue_diff)} ${ci(paired.revenue_diff_ci95)}.`, '');
  // Every row against the warm start, paired over the same queries (each IRPO epoch included).
  const vsWarm = rows.flatMap((x) => {
    const p = x.paired?.find((q) => warm && q.against === warm.mechanism);
    return p ? [{ x, p }] : [];
  });
  if (vsWarm.length > 1)
    md.push(
      'Each row minus the warm-started model, paired over the same queries:',
      '',
      '| row | reward difference [95% CI] | revenue difference [95% CI] |',
      '| --- | ---: | ---: |',
      ...vsWarm.map(({ x, p }) => `| ${label(x)} | ${f(p.reward_diff)} ${ci(p.reward_diff_ci95)} | ${f(p.revenue_diff)} ${ci(p.revenue_diff_ci95)} |`),
      '',
    );
  // The null any gain must beat: a rule that never inserts an ad scores reward 0 and revenue 0.
  if (trained)
    md.push(
      `Null (never insert an ad: reward 0, revenue 0 on every query): the trained model's reward ${f(trained.reward_per_query)} ${ci(trained.reward_ci95)} and revenue ${f(trained.revenue_per_query)} ${ci(trained.revenue_ci95)}${trained.ads_per_response === 0 ? `: it inserts no valid ad at all${paired && paired.reward_diff > 0 ? ', so its gain over the warm start is the null\'s, not an auction that learned' : ''}` : ''}.`,
      '',
    );
  md.push(
    'What each IRPO epoch collected under the policy it started from (epoch 1 samples the warm-started model):',
    '',
    '| epoch | reward / query | valid ads / response | format errors / response | exposures / clicks in the online data | pCTR AUC (held out) | preference pairs | DPO loss before -> after |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...r.metrics.map((m) => {
      const d = onlineData(join(dir, 'train'), m.epoch);
      return `| ${m.epoch} | ${f(m.reward_per_query)} | ${f(m.ads_per_response)} | ${f(m.format_errors_per_response)} | ${d ? `${d.exposures} / ${d.clicks}` : '—'} | ${m.pctr_auc === null || m.pctr_auc === undefined ? '—' : f(m.pctr_auc, 3)} | ${m.pairs} | ${f(m.dpo_loss_before, 3)} -> ${f(m.dpo_loss_after, 3)} |`;
    }),
    '',
    ...(r.fig4a
      ? [
          `Figure 4(a) from the real model (${rel(dir)}/report/fig4a.svg, copied to benchmarks/results/real-llm-fig4a.svg): ${r.fig4a.queries} held-out queries, one ad each with its bid set to ${r.fig4a.bids.join(', ')}; ` +
            `expected clicks on it summed over the queries, ${r.fig4a.itctr === 'sampled' ? `estimated from ${r.fig4a.itctr_samples} sampled responses per (query, bid, epoch)` : 'exact'}.`,
          '',
          `| epoch | expected clicks at bid ${r.fig4a.bids[0]} | at bid ${r.fig4a.bids.at(-1)} | Spearman ρ (bid, expected clicks) | sampled clicks at bid ${r.fig4a.bids[0]} -> ${r.fig4a.bids.at(-1)} |`,
          '| ---: | ---: | ---: | ---: | --- |',
          ...r.fig4a.epochs.map((e) => `| ${e.epoch} | ${f(e.expected_clicks[0]!)} | ${f(e.expected_clicks.at(-1)!)} | ${f(e.spearman_expected, 3)} | ${e.sampled_clicks[0]} -> ${e.sampled_clicks.at(-1)} |`),
          '',
        ]
      : []),
    ...(r.verify
      ? Object.entries(r.verify.properties).map(
          ([p, v]) => `\`verify\` ${p} of the trained model (\`${rel(r.verify!.mechanism)}\`): **${v.verdict}** after ${v.samples} responses${v.p_value !== undefined && v.p_value !== null ? ` (p = ${f(v.p_value, 3)})` : ''}.\n`,
        )
      : []),
    `Wall time per phase (s): ${Object.entries(r.timings_s).map(([k, v]) => `${k} ${f(v, 0)}`).join(', ')}.`,
    '',
  );
  const up = paired ? paired.reward_diff_ci95[0]! > 0 : false;
  const aboveNull = trained ? trained.reward_ci95[0]! > 0 : false;
  writeResult({
    suite: 'real-llm',
    tasks: [],
    targets: [
      {
        what: 'IRPO-trained SmolLM2 beats the warm-started SmolLM2 on reward per query (paired 95% interval above zero)',
        target: 'interval above zero',
        measured: paired ? `${f(paired.reward_diff)} ${ci(paired.reward_diff_ci95)}` : 'no paired row',
        met: up,
      },
      {
        what: 'IRPO-trained SmolLM2 beats the never-insert null (reward 0) on reward per query (95% interval above zero)',
        target: 'interval above zero',
        measured: trained ? `${f(trained.reward_per_query)} ${ci(trained.reward_ci95)}, ${f(trained.ads_per_response)} ads per response` : 'no trained row',
        met: aboveNull,
      },
    ],
    notes: [
      ...(r.command ? [`Run: \`${r.command}\` (the table shows the rows that version of the script benched).`] : []),
      `Produced by these commands (benchmarks/real-llm.ts; ${rel(dir)}/commands.txt):\n${rel(r.produced_by.trim())}`,
    ],
    markdown: md,
    extra: { timings_s: r.timings_s, metrics: r.metrics, rows, ...(r.fig4a ? { fig4a: r.fig4a.epochs.map(({ epoch, expected_clicks, spearman_expected }) => ({ epoch, expected_clicks, spearman_expected })) } : {}) },
  });
  console.log(md.join('\n'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) summarizeRealLlm(resolve(process.argv[2] ?? 'runs/real-llm'));
