/**
 * What `report` reads: a demo directory (IRPO runs in train-NAME directories, a bench, a verify result, demo.json) or a
 * single IRPO run directory. Every piece is optional except one IRPO run; what is absent is
 * recorded as a sentence for the report to print, so the report never shows something that was
 * not run. Files that are present but malformed are input errors (exit 2) naming file and field.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { InputError, UsageError } from '../lib/errors.ts';
import { fieldPath, readJsonl } from '../lib/jsonl.ts';
import { BenchFileRead, VerifyFileRead } from './formats.ts';

/** The part of an IRPO manifest the report needs; the rest is kept as is for the captions. */
const TrainManifest = z.looseObject({
  kind: z.literal('train'),
  seed: z.number(),
  status: z.string().optional(),
  config: z.looseObject({
    epochs: z.number().int(),
    trainQueries: z.number().int(),
    rmSamples: z.number().int(),
    dpoSamples: z.number().int(),
    reward: z.enum(['pctr', 'oracle', 'shuffled']),
    candidates: z.number().int(),
    worldSeed: z.number().int(),
    /** Share of the online logs the pCTR model was fitted on (absent in older manifests: all). */
    pctrDataShare: z.number().optional(),
  }),
});
export type TrainManifest = z.infer<typeof TrainManifest>;

/** One line of metrics.jsonl (training/irpo.ts EpochMetrics); only what the report shows. */
const MetricsLine = z.looseObject({
  epoch: z.number().int(),
  revenue_per_query: z.number(),
  reward_per_query: z.number(),
  ads_per_response: z.number(),
  format_errors_per_response: z.number(),
  bid_click_rank_correlation: z.number(),
  pctr_auc: z.number().nullable(),
  pairs: z.number(),
  // null: the epoch had no preference pairs, so no DPO update ran (NaN in training/irpo.ts,
  // which JSON writes as null)
  dpo_loss_before: z.number().nullable(),
  dpo_loss_after: z.number().nullable(),
  /** Share of the DPO step the step check kept (1, 1/2, 1/4 or 0); absent or null without the check. */
  step_kept: z.number().nullable().optional(),
});
export type MetricsLine = z.infer<typeof MetricsLine>;

// bench.json and verify.json are defined once, in formats.ts, for their writers and for us.
type BenchFile = BenchFileRead;
type VerifyFile = VerifyFileRead;

export interface TrainRun {
  /** 'pctr' / 'oracle' in a demo directory (train-pctr/, train-oracle/), 'run' for a single run. */
  role: 'pctr' | 'oracle' | 'run';
  dir: string;
  manifest: TrainManifest;
  metrics: MetricsLine[];
  /** The last epoch with a policy checkpoint (0 when training has not finished an epoch). */
  lastEpoch: number;
}

export interface RunPieces {
  layout: 'demo' | 'run';
  dir: string;
  runs: TrainRun[];
  /** The run Figure 4 is drawn from. */
  figureRun: TrainRun;
  /** Why that run (for the captions). */
  figureRunReason: string;
  bench?: { file: string; data: BenchFile };
  verify?: { file: string; data: VerifyFile };
  demo?: { file: string; data: Record<string, unknown> };
  /** Sentences about what is absent, for the report. */
  missing: string[];
}

function readJson(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new InputError(file, undefined, undefined, `cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    throw new InputError(file, undefined, undefined, `not valid JSON (${(e as Error).message})`);
  }
}

function validate<S extends z.ZodType>(schema: S, value: unknown, file: string): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw new InputError(file, undefined, fieldPath(issue.path), issue.message);
}

const isDir = (p: string) => existsSync(p) && statSync(p).isDirectory();

function lastEpochOf(dir: string): number {
  let e = 0;
  while (existsSync(join(dir, `epoch-${e + 1}`, 'policy.json'))) e++;
  return e;
}

/** An IRPO run directory, or an input error saying why it is not one. */
function loadTrainRun(dir: string, role: TrainRun['role']): TrainRun {
  const manifestFile = join(dir, 'manifest.json');
  const raw = readJson(manifestFile);
  const kind = (raw as { kind?: unknown } | null)?.kind;
  if (kind !== 'train') {
    throw new UsageError(`${dir}: not an IRPO run directory (its manifest.json has kind ${JSON.stringify(kind ?? null)}, expected "train"; write one with \`llm-auction train --out DIR\`)`);
  }
  const manifest = validate(TrainManifest, raw, manifestFile);
  if (!existsSync(join(dir, 'epoch-0', 'policy.json'))) throw new InputError(join(dir, 'epoch-0', 'policy.json'), undefined, undefined, 'no such file (the pretrained policy every IRPO run starts with)');
  const metricsFile = join(dir, 'metrics.jsonl');
  const metrics = existsSync(metricsFile) ? readJsonl(metricsFile, MetricsLine).map((r) => r.value) : [];
  metrics.sort((a, b) => a.epoch - b.epoch);
  return { role, dir, manifest, metrics, lastEpoch: lastEpochOf(dir) };
}

/** Read whatever of the report's inputs `dir` holds. */
export function loadRunDir(dir: string): RunPieces {
  if (!existsSync(dir)) throw new UsageError(`--run ${dir}: no such directory`);
  if (!isDir(dir)) throw new UsageError(`--run ${dir}: not a directory`);
  const missing: string[] = [];
  const runs: TrainRun[] = [];
  let layout: RunPieces['layout'];
  let benchFile: string;

  if (existsSync(join(dir, 'manifest.json'))) {
    layout = 'run';
    runs.push(loadTrainRun(dir, 'run'));
    benchFile = join(dir, 'bench.json');
  } else {
    const pctr = join(dir, 'train-pctr');
    const oracle = join(dir, 'train-oracle');
    benchFile = join(dir, 'bench', 'bench.json');
    if (!isDir(pctr) && !isDir(oracle) && !existsSync(benchFile)) {
      throw new UsageError(
        `--run ${dir}: not a run directory: expected manifest.json of an IRPO run (\`llm-auction train --out DIR\`), or a demo directory with train-pctr/, train-oracle/ and bench/bench.json`,
      );
    }
    layout = 'demo';
    if (isDir(pctr)) runs.push(loadTrainRun(pctr, 'pctr'));
    else missing.push('No pCTR-trained run (train-pctr/): the LLM-Auction (pCTR) training metrics are not shown.');
    if (isDir(oracle)) runs.push(loadTrainRun(oracle, 'oracle'));
    else missing.push('No Oracle-trained run (train-oracle/): the LLM-Auction (Oracle) training metrics are not shown.');
    // The demo's other runs (the shuffled-click control, pCTR on 30% and 10% of the logs): listed
    // and their metrics shown, so "What was run" names every run the directory holds.
    for (const name of readdirSync(dir).sort()) {
      const sub = join(dir, name);
      if (/^train-/.test(name) && sub !== pctr && sub !== oracle && isDir(sub) && existsSync(join(sub, 'manifest.json'))) runs.push(loadTrainRun(sub, 'run'));
    }
    if (runs.length === 0) throw new UsageError(`--run ${dir}: the demo directory holds no IRPO run (train-pctr/ or train-oracle/), so Figure 4 cannot be drawn`);
  }

  const out: RunPieces = { layout, dir, runs, figureRun: runs[0]!, figureRunReason: '', missing };
  if (existsSync(benchFile)) out.bench = { file: benchFile, data: validate(BenchFileRead, readJson(benchFile), benchFile) };
  else missing.push(`Table 2 is not shown: there is no ${layout === 'demo' ? 'bench/bench.json' : 'bench.json'} in ${dir} (write one with \`llm-auction bench -m SPECS --out ${layout === 'demo' ? `${dir}/bench` : dir}\`).`);
  const verifyFile = join(dir, 'verify.json');
  if (existsSync(verifyFile)) out.verify = { file: verifyFile, data: validate(VerifyFileRead, readJson(verifyFile), verifyFile) };
  else missing.push(`The property verdicts are not shown: there is no verify.json in ${dir} (write one with \`llm-auction verify -m run:DIR --json ${dir}/verify.json\`).`);
  const demoFile = join(dir, 'demo.json');
  if (existsSync(demoFile)) {
    const demo = readJson(demoFile);
    if (demo === null || typeof demo !== 'object' || Array.isArray(demo)) throw new InputError(demoFile, undefined, undefined, 'must be a JSON object');
    out.demo = { file: demoFile, data: demo as Record<string, unknown> };
  } else if (layout === 'demo') missing.push(`There is no demo.json in ${dir}: the commands that produced this directory are not recorded.`);

  // Figure 4 shows the rule whose properties were verified when verify.json names one of the
  // runs; otherwise the pCTR run, the paper's main LLM-Auction.
  const named = out.verify ? runs.find((r) => mentionsRun(out.verify!.data.mechanism, r.dir)) : undefined;
  if (named) {
    out.figureRun = named;
    out.figureRunReason = 'the run that verify.json checked';
  } else if (layout === 'demo') {
    out.figureRun = runs.find((r) => r.role === 'pctr') ?? runs[0]!;
    out.figureRunReason =
      out.figureRun.role === 'pctr' ? 'LLM-Auction (pCTR), the paper\'s main mechanism' : runs.length === 1 ? 'the only trained run present' : 'no pCTR-trained run present: the first of the runs listed';
  } else {
    out.figureRunReason = 'the run directory itself';
  }
  return out;
}

/** Whether a mechanism spec or rule name (`run:DIR@3`, `gsp:run:DIR`) refers to the run in `dir`. */
function mentionsRun(mechanism: string, dir: string): boolean {
  const m = /run:([^?@]+)/.exec(mechanism);
  if (!m) return false;
  const named = m[1]!.replace(/\/+$/, '');
  const target = dir.replace(/\/+$/, '');
  return named === target || basename(named) === basename(target);
}
