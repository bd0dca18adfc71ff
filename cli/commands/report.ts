/**
 * `llm-auction report --run DIR --out DIR`: Table 2 and Figure 4(a)(b) of the paper as files
 * (table2.md/.csv/.json, fig4a.svg/.json, fig4b.svg/.json) and one self-contained index.html
 * with the property verdicts and the training metrics. See reports/ for how each piece is made.
 *
 * evaluation/report.ts builds them; this command shows its progress and prints what it wrote.
 */
import { join } from 'node:path';
import { fixed } from '../../reports/tables.ts';
import { writeJsonResult } from '../output.ts';
import { progressBar } from '../progress.ts';
import { buildReport as buildReportFiles, type ReportOptions, type ReportSummary } from '../../evaluation/report.ts';

export { parseFigures, REPORT_DEFAULTS, type ReportOptions, type ReportSummary } from '../../evaluation/report.ts';

/** The report, built with a progress bar per figure on stderr; returns the summary that `--json` writes. */
export async function buildReport(opts: ReportOptions): Promise<ReportSummary> {
  let bar: ReturnType<typeof progressBar> | undefined;
  let current = '';
  try {
    return await buildReportFiles(opts, {
      onProgress: (label, done, total) => {
        if (label !== current) {
          bar?.stop();
          bar = progressBar(label);
          current = label;
        }
        bar!.update(done, total);
      },
    });
  } finally {
    bar?.stop();
  }
}

export async function runReport(opts: ReportOptions): Promise<number> {
  const s = await buildReport(opts);
  if (opts.json === '-') {
    // The JSON alone on stdout, so it can be piped.
    writeJsonResult('-', s);
    return 0;
  }
  const parts: string[] = [];
  const f4a = s.figures.fig4a;
  // The figures' own names for what they measure: Figure 4(a)'s rho ranks bids against expected
  // clicks on test queries (not training's bid-click rank correlation on sampled clicks).
  if (f4a) parts.push(`Fig 4(a) Spearman rho of bid and expected clicks (${f4a.queries} test queries), by epoch ${f4a.epochs.map((e) => `${e.epoch}: ${fixed(e.spearman_expected, 2)}`).join(', ')}${f4a.itctr === 'sampled' ? ` (itctr from ${f4a.itctr_samples} sampled responses per bid)` : ''}`);
  const f4b = s.figures.fig4b;
  if (f4b) parts.push(`Fig 4(b) largest step between neighbouring bids, in expected clicks of ${f4b.responses} responses: ${f4b.curves.map((c) => `${c.mechanism} ${fixed(c.max_step_expected, 1)} clicks`).join(' vs ')}`);
  if (!s.files.includes('table2.md')) parts.push('no Table 2 (no bench.json)');
  process.stdout.write(`report written to ${join(s.out, 'index.html')} (${s.files.length} files)\n${parts.join('; ')}\n`);
  writeJsonResult(opts.json, s);
  return 0;
}
