/**
 * The tables of properties/README.md and BENCHMARKS.md from the JSON that
 * benchmarks/verify-samples.ts writes.
 *
 *   npx tsx benchmarks/verify-samples-table.ts [FILE ...] [--merge OUT]
 *
 * Several files (runs over different click rates or rows, e.g. run in parallel) are read in
 * order; a row of a later file replaces the row of an earlier one with the same click rate, rule
 * and property (a re-run under a new default budget). `--merge OUT` writes them as one JSON with
 * every command that produced them.
 * Default FILE: benchmarks/results/verify-samples.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Verdicts of one rule over seeds (benchmarks/verify-samples.ts). */
export interface Runs {
  seeds: number;
  pass: number;
  fail: number;
  inconclusive: number;
  samples_median: number;
  samples_p90: number;
  seconds: number;
}
interface Row {
  click_rate: number;
  rule: string;
  property: string;
  role: 'violation' | 'smooth' | 'null';
  sampled: Runs;
  exact?: Runs;
  sampled_without_crn?: Runs;
  /** The cap the row ran under (nulls: a budget of their own; see verify-samples.ts). */
  budget?: number;
}
export interface VerifySamplesDoc {
  command: string | string[];
  config: Record<string, unknown>;
  rows: Row[];
  paper_protocol_on_clicks: Record<string, unknown>[];
}

type Protocol = {
  click_rate: number;
  property: string;
  violation: string;
  paper_literal: { per_point: number; per_case: number; power: number };
  paper_equal_power: { per_point: number; per_case: number };
  ours_to_fail_median: number | null;
};

const pct = (x: number) => `${Math.round(x * 100)}%`;
const k = (n: number) => (n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n));

/** Markdown: one row per click rate and rule, then the paper's protocol on clicks. */
export function verifySamplesTable(doc: VerifySamplesDoc): string[] {
  const rows = [...doc.rows].sort((a, b) => a.click_rate - b.click_rate);
  const protocol = [...(doc.paper_protocol_on_clicks as Protocol[])].sort((a, b) => a.click_rate - b.click_rate);
  const out: string[] = [];
  out.push('| click rate | property | rule | expected | sampled, on clicks: fail / pass | responses (median, p90) | exact: fail / pass | Ad-LLM ignores seeds: fail / pass |');
  out.push('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) {
    const expected = r.role === 'violation' ? 'fail' : r.role === 'smooth' ? 'pass' : 'no fail';
    out.push(
      `| ${r.click_rate} | ${r.property} | ${r.rule}${r.budget ? ` (budget ${k(r.budget)})` : ''} | ${expected} | ${pct(r.sampled.fail)} / ${pct(r.sampled.pass)} (${r.sampled.seeds} seeds) | ` +
        `${k(r.sampled.samples_median)}, ${k(r.sampled.samples_p90)} | ${r.exact ? `${pct(r.exact.fail)} / ${pct(r.exact.pass)}` : '–'} | ` +
        `${r.sampled_without_crn ? `${pct(r.sampled_without_crn.fail)} / ${pct(r.sampled_without_crn.pass)}` : '–'} |`,
    );
  }
  out.push('');
  out.push('| click rate | property | violation | paper protocol, 200 per point: power | paper protocol at 90% power: per point, per case | ours to fail (median, whole check) |');
  out.push('| --- | --- | --- | --- | --- | --- |');
  for (const p of protocol) {
    out.push(
      `| ${p.click_rate} | ${p.property} | ${p.violation} | ${pct(p.paper_literal.power)} | ${k(p.paper_equal_power.per_point)}, ${k(p.paper_equal_power.per_case)} | ${p.ours_to_fail_median === null ? '–' : k(p.ours_to_fail_median)} |`,
    );
  }
  return out;
}

interface CrnRuns {
  pass: number;
  fail: number;
  samples_median: number;
  seeds: number;
}
export interface VerifyCrnDoc {
  command: string;
  rows: { click_rate: number; rule: string; property: string; crn: CrnRuns; no_crn: CrnRuns; neither: CrnRuns; probability: CrnRuns }[];
}

/** Markdown of benchmarks/verify-crn.ts: common random numbers and the click probability. */
export function verifyCrnTable(doc: VerifyCrnDoc): string[] {
  const f = (x: CrnRuns) => `${pct(x.fail)} / ${pct(x.pass)}, ${k(x.samples_median)}`;
  return [
    '| click rate | property | rule | seeds honoured, clicks: fail / pass, responses | Ad-LLM ignores seeds | neither honours seeds | seeds honoured, click probability |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...doc.rows.map((r) => `| ${r.click_rate} | ${r.property} | ${r.rule} | ${f(r.crn)} | ${f(r.no_crn)} | ${f(r.neither)} | ${f(r.probability)} |`),
  ];
}

function main(): void {
  const args = process.argv.slice(2);
  const m = args.indexOf('--merge');
  const mergeOut = m >= 0 ? args[m + 1] : undefined;
  const files = args.filter((a, k) => a !== '--merge' && (m < 0 || k !== m + 1));
  const paths = files.length ? files : [join(dirname(fileURLToPath(import.meta.url)), 'results', 'verify-samples.json')];
  const docs = paths.map((p) => JSON.parse(readFileSync(p, 'utf8')) as VerifySamplesDoc);
  const byKey = new Map<string, Row>();
  for (const d of docs) {
    // Older runs record one budget for every row in their config.
    const cap = typeof d.config.budget === 'number' ? d.config.budget : undefined;
    for (const r of d.rows) byKey.set(`${r.click_rate}|${r.property}|${r.rule}`, { ...r, ...(r.budget === undefined && cap !== undefined ? { budget: cap } : {}) });
  }
  const rows = [...byKey.values()].sort((a, b) => a.click_rate - b.click_rate);
  const protoByKey = new Map<string, Protocol>();
  for (const p of docs.flatMap((d) => d.paper_protocol_on_clicks) as Protocol[]) {
    const old = protoByKey.get(`${p.click_rate}|${p.property}`);
    // A partial re-run may lack the violation this row compares with: keep the earlier figure.
    protoByKey.set(`${p.click_rate}|${p.property}`, p.ours_to_fail_median === null && old ? { ...p, ours_to_fail_median: old.ours_to_fail_median } : p);
  }
  const protocol = [...protoByKey.values()].sort((a, b) => a.click_rate - b.click_rate);

  const merged: VerifySamplesDoc = {
    command: docs.flatMap((d) => (Array.isArray(d.command) ? d.command : [d.command])),
    config: docs[docs.length - 1]!.config,
    rows,
    paper_protocol_on_clicks: protocol,
  };
  if (mergeOut) {
    writeFileSync(mergeOut, `${JSON.stringify({ generated: new Date().toISOString(), ...merged }, null, 2)}\n`);
  }
  console.log(verifySamplesTable(merged).join('\n'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
