/**
 * `report`'s work, as the command and the library call it: Table 2 and Figure 4(a)(b) of the paper
 * as files (table2.md/.csv/.json, fig4a.svg/.json, fig4b.svg/.json, the pCTR-quality figure where
 * the run has it) and one self-contained index.html with the property verdicts and the training
 * metrics, from a run directory. See reports/ for how each piece is made.
 *
 * The same run directory and options give byte-identical files: every draw is seeded from
 * `seed`, the world and auction sizes come from the run's manifest, numbers are written with
 * fixed decimals and nothing records the time.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../lib/errors.ts';
import type { AllocationRule } from '../mechanism/types.ts';
import { fig4aSvg, fig4bSvg } from '../reports/charts.ts';
import { figure4a, figure4b, type FigureContext } from '../reports/fig4.ts';
import { indexHtml } from '../reports/html.ts';
import { pctrQualitySvg, type PctrQualityData } from '../reports/pctr-quality.ts';
import { prettyJson } from '../reports/json.ts';
import { loadRunDir } from '../reports/run-dir.ts';
import { table2, table2Csv, table2Json, table2Markdown } from '../reports/tables.ts';
import { embeddedParts } from './embedded-parts.ts';
import { resolveRule } from './resolve.ts';

export interface ReportOptions {
  run: string;
  out: string;
  json?: string;
  seed: number;
  /** Test queries of Figure 4(a) (default 200). */
  queries?: number;
  /** Sampled responses per bid of Figure 4(b) (default 200, as in the paper). */
  responses?: number;
  /** Which figures to draw: '4a,4b' (default), '4a' or '4b'. */
  figures?: string;
  /** Responses per (query, bid) that estimate itctr in Figure 4(a) for a rule that cannot enumerate (0: exact only). */
  itctrSamples?: number;
}

export interface ReportSummary {
  out: string;
  files: string[];
  figures: {
    fig4a?: { run: string; queries: number; itctr: 'exact' | 'sampled'; itctr_samples: number | null; epochs: { epoch: number; spearman_expected: number; spearman_sampled: number }[] };
    fig4b?: { query_id: string; ad_id: string; responses: number; curves: { mechanism: string; max_step_expected: number; max_step_smoothed: number; max_step_raw: number }[] };
  };
}

export const REPORT_DEFAULTS = { queries: 200, responses: 200 } as const;

/** `--figures`: a comma list of 4a and 4b. */
export function parseFigures(v: string | undefined): Set<'4a' | '4b'> {
  const items = (v ?? '4a,4b').split(',').map((x) => x.trim().toLowerCase());
  const bad = items.filter((x) => x !== '4a' && x !== '4b');
  if (bad.length > 0 || items.length === 0) throw new UsageError(`--figures: expected a comma list of 4a and 4b, got ${JSON.stringify(v)}`);
  return new Set(items as ('4a' | '4b')[]);
}

function positive(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 1) throw new UsageError(`${name} must be a positive integer, got ${String(v)}`);
  return x;
}

/** Build the report; returns the summary that `--json` writes. */
export async function buildReport(
  opts: ReportOptions,
  hooks: { onProgress?: (label: string, done: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<ReportSummary> {
  if (!opts.run) throw new UsageError('--run DIR is required');
  if (!opts.out) throw new UsageError('--out DIR is required');
  if (!Number.isInteger(opts.seed)) throw new UsageError(`--seed must be an integer, got ${String(opts.seed)}`);
  const queries = positive('--queries', opts.queries, REPORT_DEFAULTS.queries);
  const responses = positive('--responses', opts.responses, REPORT_DEFAULTS.responses);
  const figures = parseFigures(opts.figures);
  const itctrSamples = opts.itctrSamples ?? 0;
  if (!Number.isInteger(itctrSamples) || itctrSamples < 0) throw new UsageError(`--itctr-samples must be a non-negative integer, got ${String(opts.itctrSamples)}`);
  const pieces = loadRunDir(opts.run);

  // ---- Figure 4 from the chosen IRPO run: run:DIR@0..T and GSP over run:DIR@T. ------------------
  const run = pieces.figureRun;
  const runSpec = `run:${run.dir}`;
  const epochs = Array.from({ length: run.lastEpoch + 1 }, (_, t) => t);
  const rules = new Map<number, AllocationRule>();
  for (const t of epochs) rules.set(t, await resolveRule({ kind: 'run', dir: run.dir, epoch: t }));
  const gsp = await resolveRule({ kind: 'gsp', k: 1, inner: { kind: 'run', dir: run.dir, epoch: run.lastEpoch } });
  const { signal } = hooks;
  signal?.throwIfAborted();
  const ctx: FigureContext = {
    runSpec,
    epochs,
    rules,
    gsp,
    user: embeddedParts(run.manifest.config.worldSeed).user,
    worldSeed: run.manifest.config.worldSeed,
    candidates: run.manifest.config.candidates,
    seed: opts.seed,
    itctrSamples,
    onProgress: (label, done, total) => {
      signal?.throwIfAborted();
      hooks.onProgress?.(label, done, total);
    },
  };
  let fig4a;
  let fig4b;
  if (figures.has('4a')) fig4a = await figure4a(ctx, queries);
  if (figures.has('4b')) fig4b = await figure4b(ctx, responses);

  // ---- Files. -------------------------------------------------------------------------------------
  mkdirSync(opts.out, { recursive: true });
  const files = new Map<string, string>();
  const t2 = pieces.bench ? table2(pieces.bench) : undefined;
  if (t2) {
    files.set('table2.md', table2Markdown(t2));
    files.set('table2.csv', table2Csv(t2));
    files.set('table2.json', table2Json(t2));
  }
  // The step check's record names a repeated Figure 4(a) curve ("step not kept").
  const a = fig4a ? fig4aSvg(fig4a, new Map(run.metrics.map((x) => [x.epoch, x.step_kept]))) : undefined;
  const b = fig4b ? fig4bSvg(fig4b) : undefined;
  if (fig4a) {
    files.set('fig4a.svg', a!);
    files.set('fig4a.json', `${prettyJson(fig4a)}\n`);
  }
  if (fig4b) {
    files.set('fig4b.svg', b!);
    files.set('fig4b.json', `${prettyJson(fig4b)}\n`);
  }
  // The pCTR-quality figure, when the run directory is a demo's that computed it.
  const qualityFile = join(opts.run, 'pctr-quality.json');
  const quality = existsSync(qualityFile) ? (JSON.parse(readFileSync(qualityFile, 'utf8')) as PctrQualityData) : undefined;
  if (quality) {
    files.set('pctr-quality.svg', pctrQualitySvg(quality));
    files.set('pctr-quality.json', `${prettyJson(quality)}\n`);
  }
  const names = ['index.html', ...files.keys()].sort();
  files.set(
    'index.html',
    indexHtml({ pieces, seed: opts.seed, ...(t2 ? { table2: t2 } : {}), ...(fig4a ? { fig4a, fig4aSvg: a! } : {}), ...(fig4b ? { fig4b, fig4bSvg: b! } : {}), ...(quality ? { pctrQuality: { svg: files.get('pctr-quality.svg')!, data: quality } } : {}), files: names.filter((n) => n !== 'index.html') }),
  );
  for (const [name, text] of files) writeFileSync(join(opts.out, name), text);

  return {
    out: opts.out,
    files: names,
    figures: {
      ...(fig4a ? { fig4a: { run: fig4a.run, queries: fig4a.queries, itctr: fig4a.itctr, itctr_samples: fig4a.itctr_samples, epochs: fig4a.epochs.map((e) => ({ epoch: e.epoch, spearman_expected: e.spearman_expected, spearman_sampled: e.spearman_sampled })) } } : {}),
      ...(fig4b
        ? {
            fig4b: {
              query_id: fig4b.query_id,
              ad_id: fig4b.ad_id,
              responses: fig4b.responses,
              curves: fig4b.curves.map((c) => ({ mechanism: c.mechanism, max_step_expected: c.max_step_expected, max_step_smoothed: c.max_step_smoothed, max_step_raw: c.max_step_raw })),
            },
          }
        : {}),
    },
  };
}
