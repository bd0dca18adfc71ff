/**
 * Tables of benchmarks/verify-samples-2.ts: merges its part files (cells of different runs, by
 * key; a cell's runs by seed) into benchmarks/results/verify-samples-2.json, the form
 * benchmarks/summarize.ts puts into BENCHMARKS.md (targets, Markdown, notes).
 *
 *   npx tsx benchmarks/verify-samples-2-table.ts tmp/verify-samples-2/*.json [--out FILE]
 *
 * `analysis` lines (what the numbers say, written after reading them) are kept from the existing
 * output when it is rebuilt.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { machine, type Target } from './lib.ts';
import type { Cell, PaperCell, PartDoc, RunRecord } from './verify-samples-2.ts';

const args = process.argv.slice(2);
const o = args.indexOf('--out');
const OUT = o >= 0 ? args[o + 1]! : 'benchmarks/results/verify-samples-2.json';
const files = args.filter((a, k) => a !== '--out' && (o < 0 || k !== o + 1));

const cells = new Map<string, Cell>();
const paper = new Map<string, PaperCell>();
const commands: string[] = [];
let config: Record<string, unknown> = {};
for (const f of files) {
  const d = JSON.parse(readFileSync(f, 'utf8')) as PartDoc;
  commands.push(...d.commands);
  config = { ...config, ...d.config };
  for (const c of d.cells) {
    const old = cells.get(c.key);
    const runs = new Map<number, RunRecord>((old?.runs ?? []).map((r) => [r.seed, r]));
    for (const r of c.runs) runs.set(r.seed, r);
    cells.set(c.key, { ...c, runs: [...runs.values()].sort((a, b) => a.seed - b.seed) });
  }
  for (const p of d.paper) paper.set(p.key, p);
}

const k = (n: number | null | undefined) => (n === null || n === undefined ? '–' : n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 10_000 ? `${Math.round(n / 1000)}k` : n >= 1000 ? `${(n / 1000).toFixed(1)}k` : String(n));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : Number.NaN;
};
const share = (c: Cell, v: string) => c.runs.filter((r) => r.verdict === v).length;
const expected = (role: string) => (role === 'fail' ? 'fail' : role === 'pass' ? 'pass' : 'no fail');
const get = (design: string, obs: string, rate: number, prop: string, rule: string) => cells.get(`${design}|${obs}|${rate}|${prop}|${rule}`);

/** Responses our design took to its verdict, or its own estimate of the budget a pass needs. */
function ours(c: Cell | undefined): { n: number; estimate: boolean; text: string } | undefined {
  if (!c || !c.runs.length) return undefined;
  const want = c.role === 'fail' ? 'fail' : 'pass';
  const ok = share(c, want);
  const verdicts = c.runs.map((r) => r.verdict[0]).join('');
  if (ok * 2 > c.runs.length) {
    const m = median(c.runs.map((r) => r.responses));
    return { n: m, estimate: false, text: `${verdicts}, ${k(m)}` };
  }
  const named = c.runs.map((r) => r.named).filter((x): x is NonNullable<RunRecord['named']> => !!x);
  if (named.length && named.filter((x) => x.verdict === want).length * 2 > c.runs.length) {
    const m = median(named.map((x) => x.responses));
    return { n: m, estimate: false, text: `${verdicts} at ${k(c.budget)}; at the named ${k(median(named.map((x) => x.budget)))}: ${named.map((x) => x.verdict[0]).join('')}, ${k(m)}` };
  }
  const needs = c.runs.map((r) => r.budget_needed).filter((x): x is number => x !== null);
  if (needs.length) {
    const m = median(needs);
    return { n: m, estimate: true, text: `${verdicts} at ${k(c.budget)}, names ${k(m)}` };
  }
  return { n: Number.NaN, estimate: true, text: `${verdicts} at ${k(c.budget)}` };
}

const rates = [...new Set([...cells.values()].map((c) => c.click_rate).concat([...paper.values()].map((p) => p.click_rate)))].sort((a, b) => a - b);
const rows = [...new Map([...cells.values(), ...paper.values()].filter((c) => c.role !== 'null').map((c) => [`${c.property}|${c.rule}`, c])).values()].sort(
  (a, b) => (a.role === b.role ? 0 : a.role === 'pass' ? -1 : 1) || a.property.localeCompare(b.property),
);
const observables = ['clicks', 'click-probability'];

const md: string[] = [];
const targets: Target[] = [];
const shortfalls: string[] = [];
/** Paper ÷ current per row, grouped by click rate and observable (one target line each). */
const ratios = new Map<string, { rule: string; ratio: number; estimate: boolean }[]>();
md.push(
  '| click rate | observed | property | rule | expected | current (pilot grid + weights) | pilot grid, CRN (no log-probabilities) | old (--grid full --share off) | paper protocol, 90% of runs: n per point, responses | paper ÷ current | paper ÷ best of ours |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
);
for (const rate of rates) {
  for (const obs of observables) {
    for (const r of rows) {
      const cur = ours(get('current', obs, rate, r.property, r.rule));
      const old = ours(get('old', obs, rate, r.property, r.rule));
      const pil = ours(get('pilot', obs, rate, r.property, r.rule));
      const p = paper.get(`paper|${obs}|${rate}|${r.property}|${r.rule}`);
      if (!cur && !old && !pil && !p) continue;
      const ratio = (x?: { n: number; estimate: boolean }) => (x && p?.responses && Number.isFinite(x.n) ? p.responses / x.n : undefined);
      const rc = ratio(cur);
      // Best of ours: the cheapest design that reached the expected verdict (at the default budget, or at the one its inconclusive verdict named).
      const best = Math.max(...[cur, pil, old].filter((x) => x && !x.estimate).map((x) => ratio(x) ?? 0), 0) || undefined;
      const f = (x?: number, est?: boolean) => (x === undefined ? '–' : `${x.toFixed(1)}x${est ? ' (est.)' : ''}`);
      md.push(
        `| ${rate} | ${obs} | ${r.property} | ${r.rule} | ${expected(r.role)} | ${cur?.text ?? '–'} | ${pil?.text ?? '–'} | ${old?.text ?? '–'} | ${p ? `${k(p.n_per_point)}, ${k(p.responses)}` : '–'} | ${f(rc, cur?.estimate)} | ${f(best)} |`,
      );
      if (rc !== undefined) {
        const g = ratios.get(`${rate}|${obs}`) ?? [];
        g.push({ rule: `${r.property}, ${r.rule}`, ratio: rc, estimate: !!cur?.estimate });
        ratios.set(`${rate}|${obs}`, g);
        if (!(rc >= 10) || cur?.estimate) shortfalls.push(`${rate} ${obs} ${r.property} ${r.rule}: ${f(rc, cur?.estimate)}`);
      }
    }
  }
}

for (const [key, g] of ratios) {
  const [rate, obs] = key.split('|');
  const met = g.filter((x) => x.ratio >= 10 && !x.estimate);
  const worst = [...g].sort((a, b) => a.ratio - b.ratio)[0]!;
  targets.push({
    what: `click rate ${rate}, ${obs}: responses to a verdict (pass and fail rows), current design vs the paper's protocol`,
    target: '>= 10x fewer in every row',
    measured: `${met.length} of ${g.length} rows; least ${worst.ratio.toFixed(1)}x${worst.estimate ? ' (est.)' : ''} (${worst.rule})`,
    met: met.length === g.length,
  });
}

md.push('', '| violation | property | click rate | current, clicks: failed / seeds | current, click probability | old, clicks | old, click probability | paper at 200 per point (simulated), clicks / click probability |', '| --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows.filter((x) => x.role === 'fail')) {
  for (const rate of rates) {
    const cell = (d: string, obs: string) => {
      const c = get(d, obs, rate, r.property, r.rule);
      return c?.runs.length ? `${share(c, 'fail')}/${c.runs.length}` : '–';
    };
    const p = (obs: string) => paper.get(`paper|${obs}|${rate}|${r.property}|${r.rule}`)?.power_at_200;
    const pp = (x?: number) => (x === undefined ? '–' : `${Math.round(x * 100)}%`);
    md.push(`| ${r.rule} | ${r.property} | ${rate} | ${cell('current', 'clicks')} | ${cell('current', 'click-probability')} | ${cell('old', 'clicks')} | ${cell('old', 'click-probability')} | ${pp(p('clicks'))} / ${pp(p('click-probability'))} |`);
  }
}
for (const rate of rates) {
  for (const obs of observables) {
    const cs = rows.filter((x) => x.role === 'fail').map((r) => get('current', obs, rate, r.property, r.rule)).filter((c): c is Cell => !!c?.runs.length);
    if (!cs.length) continue;
    const worst = [...cs].sort((a, b) => share(a, 'fail') / a.runs.length - share(b, 'fail') / b.runs.length)[0]!;
    targets.push({
      what: `power of the current design, click rate ${rate}, ${obs}: ${cs.length} planted violations`,
      target: '>= 90% fail each',
      measured: `least ${share(worst, 'fail')}/${worst.runs.length} seeds (${worst.rule})`,
      met: cs.every((c) => share(c, 'fail') >= 0.9 * c.runs.length),
    });
  }
}

const alarms: { d: string; c: Cell }[] = [];
const nulls = [...new Set([...cells.values(), ...paper.values()].filter((c) => c.role === 'null').map((c) => `${c.property}|${c.rule}`))];
md.push('', '| null | property | click rate | observed | current: false alarms / seeds (budget) | old | paper protocol at its n (simulated runs) |', '| --- | --- | --- | --- | --- | --- | --- |');
for (const key of nulls) {
  const [prop, rule] = key.split('|') as [string, string];
  for (const rate of rates) {
    for (const obs of observables) {
      const cur = get('current', obs, rate, prop, rule);
      const old = get('old', obs, rate, prop, rule);
      const p = paper.get(`paper|${obs}|${rate}|${prop}|${rule}`);
      if (!cur && !old && !p) continue;
      const f = (c?: Cell) => (c?.runs.length ? `${share(c, 'fail')}/${c.runs.length} (${k(c.budget)})` : '–');
      md.push(`| ${rule} | ${prop} | ${rate} | ${obs} | ${f(cur)} | ${f(old)} | ${p?.false_alarms !== undefined ? `${(p.false_alarms * 100).toFixed(1)}% at n ${k(p.false_alarm_n)} (${p.trials * 2})` : '–'} |`);
      for (const [d, c] of [['current', cur], ['old', old]] as const) if (c?.runs.length) alarms.push({ d, c });
    }
  }
}

for (const d of ['current', 'old']) {
  const xs = alarms.filter((a) => a.d === d);
  if (!xs.length) continue;
  const fails = xs.reduce((t, a) => t + share(a.c, 'fail'), 0);
  const worst = Math.max(...xs.map((a) => share(a.c, 'fail') / a.c.runs.length));
  targets.push({
    what: `false alarms of the ${d} design on the moving and boundary nulls (${xs.length} cells, ${Math.min(...xs.map((a) => a.c.runs.length))}+ seeds each)`,
    target: '<= alpha 0.05 in every cell',
    measured: `${fails} false alarms in ${xs.reduce((t, a) => t + a.c.runs.length, 0)} runs; worst cell ${(worst * 100).toFixed(0)}%`,
    met: worst <= 0.05,
  });
}

const prev = existsSync(OUT) ? (JSON.parse(readFileSync(OUT, 'utf8')) as { analysis?: string[] }) : {};
const analysis = prev.analysis ?? [];
const ratioRows = [...ratios.values()].flat();
const notes = [
  `Produced by ${[...new Set(commands)].map((c) => `\`${c}\``).join(', ')}; merged by \`npx tsx benchmarks/verify-samples-2-table.ts\`. Config: ${JSON.stringify(config)}.`,
  'Ours: default settings, shrinking off, each cell\'s seeds listed by its verdict letters (f fail, p pass, i inconclusive); responses are the median over seeds, pilots included. An inconclusive pass names the budget it would need (`names`), and the ratio against the paper then uses that estimate (est.).',
  'Paper: the protocol of sections 5.4.1 and 5.4.2 (n fresh responses at each bid of {1, 10, ..., 100} or of 1..100), given z-tests at our alpha, rho, kappa and effect and our number of cases (Bonferroni over comparisons for a fail, intersection-union for a pass), simulated with exact binomial draws from each rule (benchmarks/paper-protocol.ts); n per point is the smallest on a ladder of ratio 1.15 reaching the expected verdict in 90% of 200 simulated runs. Its false alarms are simulated at the largest n it needs against that property\'s violations at that rate.',
  `10x below the paper (current design): met in ${ratioRows.filter((x) => x.ratio >= 10 && !x.estimate).length} of ${ratioRows.length} rows${shortfalls.length ? `; short of it: ${shortfalls.join('; ')}` : ''}.`,
  ...analysis,
];
const doc = { suite: 'verify-samples-2', date: new Date().toISOString(), machine: machine(), tasks: [], targets, markdown: md, notes, analysis, commands: [...new Set(commands)], extra: { config, cells: [...cells.values()], paper: [...paper.values()] } };
writeFileSync(OUT, `${JSON.stringify(doc, null, 1)}\n`);
console.log(md.join('\n'));
console.log(notes.join('\n'));
