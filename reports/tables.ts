/**
 * Table 2 of the paper from bench.json: one row per mechanism, as Markdown, CSV and JSON. Numbers
 * are formatted with fixed decimals so the files are byte-identical from one run to the next.
 */
import { r6 } from './fig4.ts';
import type { BenchFileRead, BenchRowRead } from './formats.ts';

export interface Table2Row extends BenchRowRead {
  /** The method's name as the paper writes it. */
  label: string;
}

export interface Table2 {
  source: string;
  seed: number | null;
  query_set: string | null;
  limit: number | null;
  rows: Table2Row[];
}

/**
 * Table 2 from bench.json. Bench labels each row when it runs (it knows the mechanisms and their
 * runs then); a row from a bench.json without labels is shown by its spec.
 */
export function table2(bench: { file: string; data: BenchFileRead }): Table2 {
  return {
    source: bench.file,
    seed: bench.data.seed ?? null,
    query_set: bench.data.queries ?? null,
    limit: bench.data.limit ?? null,
    rows: bench.data.rows.map((r) => ({ label: r.label ?? r.mechanism, ...r })),
  };
}

export const f2 = (x: number) => fixed(x, 2);
/** Fixed decimals without "-0.00". */
export function fixed(x: number, digits: number): string {
  if (!Number.isFinite(x)) return String(x);
  const s = x.toFixed(digits);
  return /^-0\.?0*$/.test(s) ? s.slice(1) : s;
}
export const ci = (c: readonly [number, number]) => `[${f2(c[0])}, ${f2(c[1])}]`;
export const gens = (x: number) => (Number.isInteger(x) ? String(x) : f2(x));
export const pct = (x: number | undefined) => (x === undefined ? '' : `${fixed(100 * x, 0)}%`);

export const TABLE2_HEADER = ['Method', 'Mechanism', 'Revenue / query', '95% CI', 'Reward / query', '95% CI', 'Generations / query', 'Tokens / query', 'Queries'];

export function table2Cells(t: Table2): { header: string[]; rows: string[][] } {
  const gap = t.rows.some((r) => r.gap_closed !== undefined);
  return {
    header: [...TABLE2_HEADER, ...(gap ? ['Gap closed'] : [])],
    rows: t.rows.map((r) => [
      r.label,
      r.mechanism,
      f2(r.revenue_per_query),
      ci(r.revenue_ci95),
      f2(r.reward_per_query),
      ci(r.reward_ci95),
      gens(r.generations_per_query),
      fixed(r.tokens_per_query, 0),
      String(r.queries),
      ...(gap ? [pct(r.gap_closed)] : []),
    ]),
  };
}

export function table2Caption(t: Table2): string {
  const n = t.rows[0]?.queries;
  return (
    `Revenue and reward per query of each mechanism on ${n ?? '?'} ${t.query_set ?? 'test'} queries of the embedded world` +
    `${t.limit !== null ? ` (the first ${t.limit})` : ''}, bench seed ${t.seed ?? '?'}: every mechanism answers the same queries with the same bids ` +
    `(stage 'bench'). Rows whose rule enumerates its responses (${t.rows.filter((r) => (r as { exact?: boolean }).exact === true).map((r) => r.label).join(', ') || 'none'}) are exact expectations ` +
    `per query: reward is E[R] (Eq. 8) under the user model's true click probabilities and revenue is the sum of price × click probability; ` +
    `the others (${t.rows.filter((r) => (r as { exact?: boolean }).exact !== true).map((r) => r.label).join(', ') || 'none'}) are one sampled response per query, ` +
    `${t.rows.some((r) => (r as { exact?: boolean; clicks?: string }).exact !== true && (r as { clicks?: string }).clicks !== 'expected') ? "the user's clicks drawn and revenue what the payment rule charged" : "scored in expectation over the user's clicks on it (revenue is price × click probability)"}. 95% intervals: Student t over queries; bench.json also holds paired differences against Pretrained and MOSAIC. ` +
    `Cost: Ad-LLM generations and generated tokens per query (tokens estimated at 4 characters each when the backend reports none).` +
    (t.rows.some((r) => r.gap_closed !== undefined)
      ? ` Gap closed: share of the reward gap between ${t.rows.find((r) => r.gap_from !== undefined)?.gap_from ?? 'the pretrained LLM'}${t.rows.some((r) => r.gap_from !== undefined) ? ' (the strongest row that reads only the prompt; 0% is no better than it, below 0% worse)' : ''} and ${String((t.rows.find((r) => (r as { gap_reference?: string }).gap_reference) as { gap_reference?: string } | undefined)?.gap_reference ?? 'the exact optimum')} that a mechanism closes.`
      : '')
  );
}

const mdCell = (s: string) => s.replace(/\|/g, '\\|');

export function table2Markdown(t: Table2): string {
  const { header, rows } = table2Cells(t);
  const numeric = header.map((_, j) => j >= 2);
  const lines = [
    '# Table 2: main results',
    '',
    table2Caption(t),
    '',
    `| ${header.map(mdCell).join(' | ')} |`,
    `|${numeric.map((n) => (n ? '---:' : ':---')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`),
    '',
    `Source: ${t.source}`,
    '',
  ];
  return lines.join('\n');
}

const csvCell = (v: string | number | undefined | null) => {
  if (v === undefined || v === null) return '';
  const s = typeof v === 'number' ? String(r6(v)) : v;
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function table2Csv(t: Table2): string {
  const header = [
    'label',
    'mechanism',
    'name',
    'queries',
    'revenue_per_query',
    'revenue_ci95_lo',
    'revenue_ci95_hi',
    'reward_per_query',
    'reward_ci95_lo',
    'reward_ci95_hi',
    'generations_per_query',
    'tokens_per_query',
    'ads_per_response',
    'format_errors_per_response',
    'gap_closed',
  ];
  const rows = t.rows.map((r) =>
    [
      r.label,
      r.mechanism,
      r.name,
      r.queries,
      r.revenue_per_query,
      r.revenue_ci95[0],
      r.revenue_ci95[1],
      r.reward_per_query,
      r.reward_ci95[0],
      r.reward_ci95[1],
      r.generations_per_query,
      r.tokens_per_query,
      r.ads_per_response,
      r.format_errors_per_response,
      r.gap_closed,
    ]
      .map(csvCell)
      .join(','),
  );
  return `${[header.join(','), ...rows].join('\n')}\n`;
}

/** table2.json: the rows as bench wrote them (numbers to 6 decimals), with the paper's labels. */
export function table2Json(t: Table2): string {
  const round = (v: unknown): unknown =>
    typeof v === 'number' ? r6(v) : Array.isArray(v) ? v.map(round) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, round(x)])) : v;
  return `${JSON.stringify(round(t), null, 2)}\n`;
}
