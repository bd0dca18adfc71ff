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
import { spearmanBootstrap } from '../reports/fig4.ts';

/** One backend's answers and characters per second over the same seeded simulate (real-llm.ts). */
interface Throughput { backend: string; spec: string; queries: number; samples: number; answers: number; chars: number; seconds: number; answers_per_s: number; chars_per_s: number; load_average: number[] }

interface RealLlmResult {
  /** The run directory (set by summarizeRealLlm). */
  out?: string;
  /** The serving backend of the run (absent: local, before vLLM). */
  backend?: 'vllm' | 'local';
  endpoint?: string;
  /** What the success criteria are judged at (stated before the run). */
  criteria?: { test_queries: number; verify_budget: number; fig4a_queries: number; fig4a_samples: number; dpo_samples: number; rm_samples: number; trainer_steps: string; batch_size: number };
  throughput?: Record<string, Throughput>;
  /** The benchmark's own command line. */
  command?: string;
  produced_by: string;
  timings_s: Record<string, number>;
  bench: BenchFile;
  metrics: EpochMetrics[];
  /** `verify --property monotonicity` of the trained model at the run's budget (absent: not run). */
  verify?: { mechanism: string; properties: Record<string, { verdict: string; samples: number; p_value?: number | null }> } | null;
  /** Figure 4(a) from the real model (report --figures 4a --itctr-samples K; absent: not drawn). */
  fig4a?: {
    queries: number;
    bids: number[];
    itctr: string;
    itctr_samples: number | null;
    epochs: { epoch: number; expected_clicks: number[]; sampled_clicks: number[]; spearman_expected: number; spearman_sampled: number }[];
    per_query?: { query_id: string; itctr: number[][] }[];
  } | null;
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

/** The external trainer's own record of an epoch's DPO run (steps taken, pairs given), if on disk. */
function dpoRun(trainDir: string, epoch: number): { steps: number; pairs: number } | null {
  const file = join(trainDir, `epoch-${epoch}`, 'adapter', 'metrics.json');
  if (!existsSync(file)) return null;
  const m = JSON.parse(readFileSync(file, 'utf8')) as { steps?: number; pairs?: number };
  return typeof m.steps === 'number' && typeof m.pairs === 'number' ? { steps: m.steps, pairs: m.pairs } : null;
}

/** The criteria stated before the run beyond the two reward intervals (issue #23, point 5). */
function criteriaTargets(r: RealLlmResult, rhoCi: ([number, number] | null)[]) {
  const c = r.criteria;
  if (!c) return [];
  const test = r.bench.rows[0]?.queries ?? 0;
  const last = r.fig4a?.epochs.length ? r.fig4a.epochs.length - 1 : -1;
  const rho = last >= 0 ? r.fig4a!.epochs[last]! : null;
  const rc = last >= 0 ? rhoCi[last] : null;
  const mono = r.verify?.properties?.monotonicity;
  const dpo = r.metrics.map((m) => ({ m, d: dpoRun(join(r.out ?? '', 'train'), m.epoch) }));
  return [
    { what: 'held-out test queries behind the reward intervals', target: `>= 60`, measured: String(test), met: test >= 60 },
    { what: 'M, samples per query for the DPO pairs', target: '5 (the paper)', measured: String(c.dpo_samples), met: c.dpo_samples === 5 },
    {
      what: 'DPO sees every pair (steps x batch >= pairs, each epoch)',
      target: 'every epoch',
      measured: dpo.map(({ m, d }) => `epoch ${m.epoch}: ${d ? `${d.steps} x ${c.batch_size} vs ${d.pairs}` : m.pairs === 0 ? 'no pairs' : 'no trainer record'}`).join('; '),
      met: dpo.every(({ m, d }) => m.pairs === 0 || (d !== null && d.steps * c.batch_size >= d.pairs)),
    },
    {
      what: `Figure 4(a) from the served model, last epoch: Spearman ρ (bid, expected clicks) with a bootstrap interval over ${r.fig4a?.queries ?? 0} queries x ${c.fig4a_samples} samples per bid, above zero`,
      target: 'interval above zero',
      measured: rho ? `${f(rho.spearman_expected, 3)} ${rc ? ci(rc) : '(no interval)'}` : 'not drawn',
      met: rc !== null && rc !== undefined && rc[0] > 0,
    },
    {
      what: `verify monotonicity of the final model at budget ${c.verify_budget} responses`,
      target: 'pass',
      measured: mono ? `${mono.verdict} after ${mono.samples} responses${mono.p_value !== undefined && mono.p_value !== null ? ` (p = ${f(mono.p_value, 3)})` : ''}` : 'not run',
      met: mono?.verdict === 'pass',
    },
  ];
}

/** Every phase's wall time: servers, throughput, warm start, each epoch's phases, bench, verify, figure. */
function phaseTable(r: RealLlmResult): string[] {
  const t = r.timings_s;
  const epochs = r.metrics.reduce((n, m) => n + Object.values(m.seconds ?? {}).reduce((a, b) => a + b, 0), 0);
  const lines = ['| phase | wall (s) |', '| --- | ---: |'];
  for (const [k, v] of Object.entries(t)) {
    if (k === 'train') {
      lines.push(`| train: warm start (sft) and setup (train's wall minus its epochs) | ${f(v - epochs, 0)} |`);
      for (const m of r.metrics) {
        const s = m.seconds ?? {};
        lines.push(`| train: epoch ${m.epoch}: online sampling ${f(s.online ?? NaN, 0)}, pCTR fit ${f(s.reward_model ?? NaN, 0)}, DPO-pair sampling ${f(s.pairs ?? NaN, 0)}, DPO ${f(s.dpo ?? NaN, 0)} | ${f(Object.values(s).reduce((a, b) => a + b, 0), 0)} |`);
      }
      lines.push(`| train (all) | ${f(v, 0)} |`);
    } else lines.push(`| ${k} | ${f(v, 0)} |`);
  }
  return ['Wall time of every phase, as this run measured it:', '', ...lines, ''];
}

/** Both backends' answers and characters per second, measured in this run. */
function throughputTable(t: Record<string, Throughput> | undefined): string[] {
  if (!t || Object.keys(t).length === 0) return [];
  const rows = Object.values(t);
  const v = t.vllm;
  const l = t.local;
  return [
    `Throughput, measured in this run: the same seeded \`simulate\` (${rows[0]!.queries} held-out queries x ${rows[0]!.samples} answers, the run's prompt and max_tokens) through each backend, one after the other, the other server stopped.`,
    '',
    '| backend | spec | answers | characters | wall (s) | answers / s | characters / s | load average (1/5/15 min) after |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | --- |',
    ...rows.map((x) => `| ${x.backend} | \`${x.spec.replace(/^openai:http:\/\/[^/]+/, 'openai:…')}\` | ${x.answers} | ${x.chars} | ${f(x.seconds, 1)} | ${f(x.answers_per_s, 3)} | ${f(x.chars_per_s, 0)} | ${x.load_average.map((y) => y.toFixed(1)).join(' / ')} |`),
    '',
    ...(v && l ? [`vLLM over the local backend: ${f(v.answers_per_s / l.answers_per_s)}x answers per second, ${f(v.chars_per_s / l.chars_per_s)}x characters per second.`, ''] : []),
  ];
}

export function summarizeRealLlm(dir: string): void {
  const r = { ...(JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as RealLlmResult), out: dir };
  const rows = r.bench.rows;
  const rhoCi = (r.fig4a?.epochs ?? []).map((_, k) => (r.fig4a?.per_query ? spearmanBootstrap(r.fig4a.per_query, r.fig4a.bids, k) : null));
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
    '| epoch | reward / query | valid ads / response | format errors / response | exposures / clicks in the online data | pCTR fit on (exposures / clicks), validated on | pCTR AUC (held out) | preference pairs | DPO steps x batch | DPO loss before -> after |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    ...r.metrics.map((m) => {
      const d = onlineData(join(dir, 'train'), m.epoch);
      const p = m.pctr_fit;
      const fitSaw = p && p.fit_exposures !== undefined ? `${p.fit_exposures} / ${p.fit_clicks}, ${p.validation_exposures} / ${p.validation_clicks}` : '—';
      const dpo = dpoRun(join(dir, 'train'), m.epoch);
      const batch = r.criteria?.batch_size;
      return `| ${m.epoch} | ${f(m.reward_per_query)} | ${f(m.ads_per_response)} | ${f(m.format_errors_per_response)} | ${d ? `${d.exposures} / ${d.clicks}` : '—'} | ${fitSaw} | ${m.pctr_auc === null || m.pctr_auc === undefined ? '—' : f(m.pctr_auc, 3)} | ${m.pairs} | ${dpo && batch ? `${dpo.steps} x ${batch} = ${dpo.steps * batch}` : '—'} | ${f(m.dpo_loss_before, 3)} -> ${f(m.dpo_loss_after, 3)} |`;
    }),
    '',
    ...(r.fig4a
      ? [
          `Figure 4(a) from the real model (${rel(dir)}/report/fig4a.svg, copied to benchmarks/results/real-llm-fig4a.svg): ${r.fig4a.queries} held-out queries, one ad each with its bid set to ${r.fig4a.bids.join(', ')}; ` +
            `expected clicks on it summed over the queries, ${r.fig4a.itctr === 'sampled' ? `estimated from ${r.fig4a.itctr_samples} sampled responses per (query, bid, epoch)` : 'exact'}.`,
          '',
          `| epoch | expected clicks at bid ${r.fig4a.bids[0]} | at bid ${r.fig4a.bids.at(-1)} | Spearman ρ (bid, expected clicks) [95% bootstrap over queries] | sampled clicks at bid ${r.fig4a.bids[0]} -> ${r.fig4a.bids.at(-1)} |`,
          '| ---: | ---: | ---: | ---: | --- |',
          ...r.fig4a.epochs.map((e, k) => `| ${e.epoch} | ${f(e.expected_clicks[0]!)} | ${f(e.expected_clicks.at(-1)!)} | ${f(e.spearman_expected, 3)} ${rhoCi[k] ? `[${f(rhoCi[k]![0], 3)}, ${f(rhoCi[k]![1], 3)}]` : '(no interval)'} | ${e.sampled_clicks[0]} -> ${e.sampled_clicks.at(-1)} |`),
          '',
        ]
      : []),
    ...(r.verify
      ? Object.entries(r.verify.properties).map(
          ([p, v]) => `\`verify\` ${p} of the trained model (\`${rel(r.verify!.mechanism)}\`): **${v.verdict}** after ${v.samples} responses${v.p_value !== undefined && v.p_value !== null ? ` (p = ${f(v.p_value, 3)})` : ''}.\n`,
        )
      : []),
    ...phaseTable(r),
    ...throughputTable(r.throughput),
  );
  const up = paired ? paired.reward_diff_ci95[0]! > 0 : false;
  const aboveNull = trained ? trained.reward_ci95[0]! > 0 : false;
  writeResult({
    suite: 'real-llm',
    ...((r.backend ?? 'local') === 'vllm'
      ? { intro: 'The recorded run through vLLM (issue #23); the section above (real-llm-local) is the previous run through the local backend. Success criteria, written down before the run (README, commit df949ff): the rows marked with a goal below, on 60 held-out test queries. What was tried, and why the run is this size: see README (real LLM).' }
      : {}),
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
      ...criteriaTargets(r, rhoCi),
    ],
    notes: [
      ...(r.command ? [`Run: \`${r.command}\` (the table shows the rows that version of the script benched).`] : []),
      `Produced by these commands (benchmarks/real-llm.ts; ${rel(dir)}/commands.txt):\n${rel(r.produced_by.trim())}`,
    ],
    markdown: md,
    extra: {
      backend: r.backend ?? 'local',
      criteria: r.criteria ?? null,
      throughput: r.throughput ?? null,
      timings_s: r.timings_s,
      metrics: r.metrics,
      rows,
      ...(r.fig4a ? { fig4a: r.fig4a.epochs.map(({ epoch, expected_clicks, spearman_expected }, k) => ({ epoch, expected_clicks, spearman_expected, spearman_ci95: rhoCi[k] })) } : {}),
    },
  });
  console.log(md.join('\n'));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) summarizeRealLlm(resolve(process.argv[2] ?? 'runs/real-llm'));
