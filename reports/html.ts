/**
 * index.html: one self-contained page (inline CSS, the SVGs inlined) with Table 2, Figure 4(a)(b),
 * the property verdicts and the training metrics, each captioned with what exactly was run.
 * Nothing on it depends on the clock or the machine, so the same run directory gives the same page.
 */
import { basename } from 'node:path';
import { sameCurveAs } from './charts.ts';
import type { Fig4aData, Fig4bData } from './fig4.ts';
import type { PctrQualityData } from './pctr-quality.ts';
import type { VerdictRead } from './formats.ts';
import type { RunPieces, TrainRun } from './run-dir.ts';
import { ci, f2, fixed, gens, pct, table2Caption, type Table2 } from './tables.ts';

export interface ReportModel {
  pieces: RunPieces;
  seed: number;
  table2?: Table2;
  /** Absent when the report was asked not to draw it (`--figures`). */
  fig4a?: Fig4aData;
  fig4b?: Fig4bData;
  fig4aSvg?: string;
  fig4bSvg?: string;
  /** The pCTR-quality figure (demo directories): reward after training against pCTR AUC. */
  pctrQuality?: { svg: string; data: PctrQualityData };
  /** Files written next to index.html (relative names). */
  files: string[];
}

export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Escaped text with `backquoted` spans as code (the notes about missing pieces name commands). */
function escCode(text: string): string {
  return esc(text).replace(/`([^`]+)`/g, '<code>$1</code>');
}

const CSS = `
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; color: #222; background: #fafafa; margin: 0; }
main { max-width: 980px; margin: 0 auto; padding: 24px 28px 48px; background: #fff; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
h3 { font-size: 16px; margin: 20px 0 6px; }
p, li { line-height: 1.5; font-size: 15px; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 13px; }
code { background: #f2f2f2; padding: 1px 4px; border-radius: 3px; word-break: break-all; }
pre { background: #f5f5f5; padding: 10px 12px; overflow-x: auto; border-radius: 4px; }
.lead { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 8px 0 6px; font-size: 14px; }
th, td { padding: 5px 10px; border-bottom: 1px solid #e3e3e3; text-align: left; vertical-align: top; }
th { background: #f3f5f8; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num { white-space: nowrap; }
th { font-size: 13px; }
.sub { font-size: 12px; color: #666; font-weight: normal; }
span.spec { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 11px; color: #666; word-break: break-all; }
tbody tr:nth-child(even) { background: #fbfbfb; }
.wide { overflow-x: auto; }
figure { margin: 12px 0 8px; }
figure svg { max-width: 100%; height: auto; display: block; border: 1px solid #e5e5e5; }
figcaption, .caption { font-size: 14px; color: #444; line-height: 1.5; margin: 6px 0 10px; }
.badge { display: inline-block; min-width: 92px; text-align: center; padding: 2px 8px; border-radius: 10px; font-weight: 700; font-size: 13px; text-transform: uppercase; letter-spacing: .03em; }
.badge.pass { background: #d8f3dc; color: #1b5e20; border: 1px solid #9bd1a5; }
.badge.fail { background: #fde2e1; color: #a4161a; border: 1px solid #f1a7a4; }
.badge.inconclusive { background: #fff3cd; color: #7a5a00; border: 1px solid #f0d58a; }
.badge.holds-by-construction { background: #eef1f4; color: #3d4b5c; border: 1px solid #c9d2dc; }
.missing { background: #fff8e6; border-left: 4px solid #e0a800; padding: 8px 12px; }
.muted { color: #777; }
details summary { cursor: pointer; color: #0b5cad; }
ul.files { columns: 2; }
`;

function htmlTable(header: string[], rows: string[][], numeric: boolean[]): string {
  const th = header.map((h, j) => `<th${numeric[j] ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${r.map((c, j) => `<td${numeric[j] ? ' class="num"' : ''}>${esc(c)}</td>`).join('')}</tr>`)
    .join('\n');
  return `<div class="wide"><table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table></div>`;
}

/** The name a run goes by on the page: Table 2's row label (evaluation/kinds/run.ts gives bench's the same words). */
export function runTitle(r: TrainRun): string {
  const c = r.manifest.config;
  if (r.role === 'pctr') return 'LLM-Auction (pCTR)';
  if (r.role === 'oracle') return 'LLM-Auction (Oracle)';
  if (c.reward === 'shuffled') return 'LLM-Auction (pCTR, shuffled clicks)';
  if (c.reward === 'pctr' && c.pctrDataShare !== undefined && c.pctrDataShare < 1) return `LLM-Auction (pCTR on ${Math.round(100 * c.pctrDataShare)}% of logs)`;
  return `IRPO run ${basename(r.dir)}`;
}

function runSentence(r: TrainRun): string {
  const c = r.manifest.config;
  return (
    `<strong>${esc(runTitle(r))}</strong>, <code>${esc(r.dir)}</code>: IRPO with the ${c.reward === 'pctr' ? `pCTR${c.pctrDataShare !== undefined && c.pctrDataShare < 1 ? ` (fitted on ${Math.round(100 * c.pctrDataShare)}% of the online logs)` : ''}` : c.reward === 'shuffled' ? 'pCTR (fitted on clicks shuffled across exposures: the control)' : 'Oracle (true click probability)'} reward model, training seed ${r.manifest.seed}, ` +
    `${r.lastEpoch} of ${c.epochs} epochs finished, ${c.trainQueries} training queries per epoch, ${c.rmSamples} reward-model samples and ` +
    `${c.dpoSamples} DPO samples per query, ${c.candidates} candidate ads per auction, world seed ${c.worldSeed}` +
    `${r.manifest.status ? ` (manifest status: ${esc(r.manifest.status)})` : ''}.`
  );
}

function pctrQualitySection(m: ReportModel): string {
  if (!m.pctrQuality) return '';
  const d = m.pctrQuality.data;
  const pts = d.points
    .map((p) => `${esc(p.label)}: AUC ${p.auc === null || !Number.isFinite(p.auc) ? 'undefined (no clicks to fit, not plotted)' : fixed(p.auc, 3)}, E[R] ${f2(p.reward)} ${ci(p.reward_ci95)}`)
    .join('; ');
  const caption =
    `Each point is one IRPO run of the demo (tiny preset, same seed and world) whose pCTR model was fitted on the share of each epoch's online logs shown, ` +
    `or on clicks shuffled across exposures (the control). x: the final pCTR model's AUC ${d.auc_on ? `on ${esc(d.auc_on)} (the common held-out logs; the training tables and the demo's console also give each run's AUC on its own held-out logs, a different measure)` : 'on held-out online queries (each run on its own last epoch)'}; y: the trained rule's exact E[R] on ` +
    `${d.queries} test queries (Table 2's row), 95% interval over queries. ${pts}. References: Oracle ${d.oracle === undefined ? '?' : f2(d.oracle)}, ` +
    `best-in-class ${d.bestInClass === undefined ? '?' : f2(d.bestInClass)}, Pretrained ${d.pretrained === undefined ? '?' : f2(d.pretrained)}. ` +
    `Data: <a href="pctr-quality.json">pctr-quality.json</a>, picture: <a href="pctr-quality.svg">pctr-quality.svg</a>.`;
  return section('Reward after training against pCTR quality', 'pctr-quality', `<figure>\n${m.pctrQuality.svg.trim()}\n<figcaption>${caption}</figcaption>\n</figure>`);
}

function section(title: string, id: string, body: string): string {
  return `<section id="${id}">\n<h2>${esc(title)}</h2>\n${body}\n</section>`;
}

function table2Section(m: ReportModel): string {
  if (!m.table2) return section('Table 2: main results', 'table2', `<p class="missing">${escCode(m.pieces.missing.find((s) => s.startsWith('Table 2')) ?? 'There is no bench.json.')}</p>`);
  const t = m.table2;
  const gap = t.rows.some((r) => r.gap_closed !== undefined);
  // Value and interval share a cell (interval on a second line) so the table fits the page.
  const head =
    '<th>Method</th><th class="num">Revenue / query<br><span class="sub">95% CI</span></th><th class="num">Reward / query<br><span class="sub">95% CI</span></th>' +
    `<th class="num">Generations / query</th><th class="num">Tokens / query</th><th class="num">Queries</th>${gap ? '<th class="num">Gap closed</th>' : ''}`;
  const body = t.rows
    .map(
      (r) =>
        `<tr><td>${esc(r.label)}<br><span class="spec">${esc(r.mechanism)}</span></td>` +
        `<td class="num">${f2(r.revenue_per_query)}<br><span class="sub">${ci(r.revenue_ci95)}</span></td>` +
        `<td class="num">${f2(r.reward_per_query)}<br><span class="sub">${ci(r.reward_ci95)}</span></td>` +
        `<td class="num">${gens(r.generations_per_query)}</td><td class="num">${fixed(r.tokens_per_query, 0)}</td><td class="num">${r.queries}</td>` +
        `${gap ? `<td class="num">${pct(r.gap_closed)}</td>` : ''}</tr>`,
    )
    .join('\n');
  return section(
    'Table 2: main results',
    'table2',
    `<div class="wide"><table>\n<thead><tr>${head}</tr></thead>\n<tbody>\n${body}\n</tbody>\n</table></div>\n` +
      `<p class="caption"><strong>Table 2.</strong> ${esc(table2Caption(t))} Source: <code>${esc(t.source)}</code>. ` +
      `Also as <a href="table2.md">table2.md</a>, <a href="table2.csv">table2.csv</a>, <a href="table2.json">table2.json</a>.</p>`,
  );
}

function fig4aSection(m: ReportModel): string {
  const d = m.fig4a;
  if (!d) return '';
  const last = d.epochs[d.epochs.length - 1]!;
  const first = d.epochs[0]!;
  const header = ['Epoch', 'ρ (expected clicks)', 'ρ (sampled clicks)', 'Expected clicks at bid 1', 'Expected clicks at bid 100', 'Sampled clicks at bid 1', 'Sampled clicks at bid 100'];
  const rows = d.epochs.map((e) => [
    String(e.epoch),
    fixed(e.spearman_expected, 3),
    fixed(e.spearman_sampled, 3),
    f2(e.expected_clicks[0]!),
    f2(e.expected_clicks[e.expected_clicks.length - 1]!),
    String(e.sampled_clicks[0]),
    String(e.sampled_clicks[e.sampled_clicks.length - 1]),
  ]);
  const caption =
    `<strong>Figure 4(a).</strong> Allocation monotonicity over training, for ${esc(d.run)} (${esc(m.pieces.figureRunReason)}). ` +
    `${d.queries} queries of the test split of the embedded world (world seed ${d.world_seed}), drawn with report seed ${d.seed}; for each, one of its ` +
    `${d.candidates} candidate ads chosen at random had its bid set to each of ${d.bids.join(', ')}, while the other candidates kept the bids drawn for stage ` +
    `'${d.stage}'. One line per epoch t = ${first.epoch}..${last.epoch}, the rule <code>${esc(d.run)}@t</code> (epoch 0 is the pretrained Ad-LLM). ` +
    (d.itctr === 'sampled'
      ? `<em>Plotted: expected clicks</em> on the perturbed ad summed over the ${d.queries} queries, estimated: a rule here cannot enumerate its responses ` +
        `(a served LLM), so its itctr is the mean of the parametric user's click probability on the ad over ${d.itctr_samples} sampled responses per ` +
        `(query, bid, epoch), with the same seed for every bid of a query; the curve carries that sampling noise. `
      : `<em>Plotted: expected clicks</em> on the perturbed ad summed over the ${d.queries} queries, computed exactly: the ad's itctr from the rule's whole ` +
        `response distribution and the parametric user's click probabilities — the paper's click counts without sampling noise. `) +
    `ρ in the legend: Spearman rank correlation of bid and expected clicks over the ${d.queries} × ${d.bids.length} (query, bid) pairs ` +
    `(not the training table's bid–click ρ, which ranks bids against sampled clicks in the online training data). ` +
    repeats(m) +
    `The table also gives sampled counts: one response and one click draw per (query, bid), with the same random numbers for every bid and epoch of a query. ` +
    `Data: <a href="fig4a.json">fig4a.json</a>, picture: <a href="fig4a.svg">fig4a.svg</a>.`;
  return section(
    'Figure 4(a): allocation monotonicity',
    'fig4a',
    `<figure>\n${m.fig4aSvg!.trim()}\n<figcaption>${caption}</figcaption>\n</figure>\n${htmlTable(header, rows, header.map(() => true))}`,
  );
}

/** Epochs whose Figure 4(a) curve repeats an earlier one, said in words (with the step check's record when there is one). */
function repeats(m: ReportModel): string {
  const d = m.fig4a!;
  const same = sameCurveAs(d);
  const kept = new Map(m.pieces.figureRun.metrics.map((x) => [x.epoch, x.step_kept]));
  const said = d.epochs
    .map((e, k) => (same[k] === null ? '' : `epoch ${e.epoch}'s curve is epoch ${same[k]}'s${kept.get(e.epoch) === 0 ? ` (its DPO step was not kept, so its rule is epoch ${e.epoch - 1}'s)` : ''}`))
    .filter(Boolean);
  return said.length ? `Repeated curves, drawn dashed over the one they repeat: ${said.join('; ')}. ` : '';
}

function fig4bSection(m: ReportModel): string {
  const d = m.fig4b;
  if (!d) return '';
  const [llm, gsp] = d.curves;
  const steps = d.curves
    .map((c) => `${esc(c.label)}: ${fixed(c.max_step_expected, 2)} expected clicks (exact curve), ${fixed(c.max_step_smoothed, 2)} (trend of the counts), ${c.max_step_raw} (raw counts)${c.jumps.length ? `, a jump at bid ${c.jumps.map((k) => d.bids[k + 1]).join(', ')}` : ''}`)
    .join('; ');
  const sel = d.selection;
  const caption =
    `<strong>Figure 4(b).</strong> Allocation continuity. One test query, <code>${esc(d.query_id)}</code> (“${esc(d.query)}”, user ${esc(d.profile_id)}), and one ` +
    `candidate ad, <code>${esc(d.ad_id)}</code> (“${esc(d.ad_title)}”); the other ${Object.keys(d.other_bids).length} candidates keep the bids drawn for stage '${d.stage}' ` +
    `(report seed ${d.seed}, world seed ${d.world_seed}). The ad's bid is swept from 1 to 100 in steps of 1; at each bid ${d.responses} responses are sampled ` +
    `(independent seeds per bid) and the user's clicks on the ad counted. Bold solid: the exact expected clicks (${d.responses} × itctr), what the allocation does. ` +
    `Thin: the raw counts. Dashed: a LOESS trend of the raw counts (local linear fit, tricube weights, ${Math.ceil(d.smoothing.span * d.bids.length)} nearest bids) fitted ` +
    `separately on each stretch between the exact curve's jumps (a step larger than ${d.smoothing.kappa} × its values at bids 1 and 100, the continuity check's definition), ` +
    `so smoothing removes sampling noise and never turns a step into a ramp; it is also held within the range of the counts each local fit uses, so it never overshoots the data at the ends of a stretch. ` +
    `${llm ? `Blue: ${esc(llm.label)}, <code>${esc(llm.mechanism)}</code>. ` : ''}` +
    `${gsp ? `Orange: pre-generation GSP with one slot over the same rule, <code>${esc(gsp.mechanism)}</code>: the ad reaches the Ad-LLM only when its bid × quality ranks first` +
      `${sel.gsp_entry_bid !== null ? ` (here from bid ${sel.gsp_entry_bid} on)` : ''}, so its curve steps. ` : ''}` +
    `Largest change between neighbouring bids — ${steps}. ` +
    (sel.how === 'criteria'
      ? `The query and ad are the first, in a seeded order of the test queries, for which GSP's slot is won at a bid in 10..90, GSP's exact itctr jumps there by ` +
        `at least 0.05 and by at least twice the largest change of the trained rule's own curve, and the trained rule gets the ad clicked at bid 100 with itctr ≥ 0.03 ` +
        `(here: jump ${fixed(sel.gsp_itctr_jump, 3)}, trained largest change ${fixed(sel.trained_max_itctr_change, 3)}, itctr at 100 ${fixed(sel.trained_itctr_at_100, 3)}; ` +
        `found after ${sel.queries_tried} ${sel.queries_tried === 1 ? 'query' : 'queries'}). `
      : `<strong>No ad of the first ${sel.queries_tried} test queries (seeded order) meets the selection criteria</strong> (GSP entry bid in 10..90, GSP itctr jump there ≥ 0.05 and ≥ twice the ` +
        `trained rule's largest change, trained itctr at bid 100 ≥ 0.03), so this is the ad with the largest margin, jump − 2 × largest change: ` +
        `jump ${fixed(sel.gsp_itctr_jump, 3)}, trained largest change ${fixed(sel.trained_max_itctr_change, 3)}, itctr at 100 ${fixed(sel.trained_itctr_at_100, 4)}. `) +
    `Data: <a href="fig4b.json">fig4b.json</a>, picture: <a href="fig4b.svg">fig4b.svg</a>.`;
  return section('Figure 4(b): allocation continuity', 'fig4b', `<figure>\n${m.fig4bSvg!.trim()}\n<figcaption>${caption}</figcaption>\n</figure>`);
}

function pValue(v: VerdictRead): string {
  if (v.p_value === null) return 'exact (no sampling)';
  if (v.p_value === 0) return '0';
  return v.p_value < 1e-4 ? v.p_value.toExponential(1) : fixed(v.p_value, 4);
}

function verifySection(m: ReportModel): string {
  const v = m.pieces.verify;
  if (!v) return section('Verification of the mechanism properties', 'verify', `<p class="missing">${escCode(m.pieces.missing.find((s) => s.startsWith('The property verdicts')) ?? 'There is no verify.json.')}</p>`);
  const d = v.data;
  const rows = Object.entries(d.properties)
    .map(([name, x]) => {
      const mode = x.details?.mode ?? (x.p_value === null ? 'exact' : 'sampled');
      const cx = x.counterexample
        ? `<details><summary>counterexample</summary><pre>${esc(JSON.stringify(x.counterexample, null, 2))}</pre></details>`
        : x.reason
          ? `<span class="muted">${esc(x.reason)}</span>`
          : '<span class="muted">none</span>';
      const shown = x.verdict === 'holds-by-construction' ? 'holds by construction' : x.verdict;
      return (
        `<tr><td>${esc(name)}</td><td><span class="badge ${x.verdict}">${shown}</span></td><td class="num">${x.samples}</td>` +
        `<td class="num">${esc(pValue(x))}</td><td>${esc(mode)}</td><td>${cx}</td></tr>`
      );
    })
    .join('\n');
  const table =
    `<div class="wide"><table>\n<thead><tr><th>Property</th><th>Verdict</th><th class="num">Samples</th><th class="num">p-value</th><th>Mode</th><th>Counterexample</th></tr></thead>\n` +
    `<tbody>\n${rows}\n</tbody>\n</table></div>`;
  const caption =
    `<strong>Verdicts</strong> of <code>llm-auction verify</code> for <code>${esc(d.mechanism)}</code>: family-wise false-alarm rate alpha = ${d.alpha}` +
    `${d.tested && d.alpha_per_property !== undefined ? ` across the ${d.tested.length} tested properties (${fixed(d.alpha_per_property, 4)} each)` : ''}` +
    `${d.budget !== undefined ? `, budget ${d.budget} responses per property` : d.budgets ? `, budget per property ${Object.entries(d.budgets).map(([p, n]) => `${esc(p)} ${n}`).join(', ')} responses` : ''}${d.seed !== undefined ? `, seed ${d.seed}` : ''}. ` +
    `Each property is judged on the ad's own scale (monotonicity: a relative dip above rho; continuity: a step above kappa times itctr(1) + itctr(100)). ` +
    `Pass: every planned comparison ruled out a violation beyond the margin; fail: a violation is significant; inconclusive: the budget ran out first; ` +
    `holds by construction: the payment rule makes the property true for every allocation, so nothing was tested and it is not evidence. ` +
    `Samples: responses drawn (sampled mode) or scored by enumeration (exact mode, where no p-value applies). Source: <code>${esc(v.file)}</code>.`;
  return section('Verification of the mechanism properties', 'verify', `${table}\n<p class="caption">${caption}</p>`);
}

function metricsSection(m: ReportModel): string {
  const parts = m.pieces.runs.map((r) => {
    const title = runTitle(r);
    if (r.metrics.length === 0) return `<h3>${esc(title)}</h3>\n<p class="missing">No metrics.jsonl lines in <code>${esc(r.dir)}</code>: no epoch has finished.</p>`;
    const checked = r.metrics.some((x) => typeof x.step_kept === 'number');
    const header = [
      'Epoch',
      'Revenue / query',
      'Reward / query',
      'Ads / response',
      'Format errors / response',
      'pCTR AUC (own held-out logs)',
      'Pairs',
      'DPO loss before → after',
      ...(checked ? ['Step kept'] : []),
      'Bid–click ρ (sampled clicks)',
    ];
    const rows = r.metrics.map((x) => [
      String(x.epoch),
      f2(x.revenue_per_query),
      f2(x.reward_per_query),
      f2(x.ads_per_response),
      f2(x.format_errors_per_response),
      x.pctr_auc === null ? '—' : fixed(x.pctr_auc, 3),
      String(x.pairs),
      x.dpo_loss_before === null || x.dpo_loss_after === null
        ? '— (no pairs)'
        : `${fixed(x.dpo_loss_before, 3)} → ${fixed(x.dpo_loss_after, 3)}${x.step_kept === 0 ? ' (not kept)' : ''}`,
      ...(checked ? [typeof x.step_kept === 'number' ? (x.step_kept === 0 ? 'none: θ unchanged' : x.step_kept === 1 ? 'all' : `${x.step_kept}`) : '—'] : []),
      fixed(x.bid_click_rank_correlation, 3),
    ]);
    const c = r.manifest.config;
    const caption =
      `${runSentence(r)} Row t is epoch t of Algorithm 1. Revenue, reward, ads, format errors and the bid–click ρ are measured on that epoch's ` +
      `online data (phase 1: the responses of the policy of epoch t−1 to the training queries, ${c.rmSamples} per query, fresh bids, the user's clicks); so row 1 describes the pretrained model. ` +
      `Bid–click ρ: Spearman rank correlation of each candidate ad's bid and its sampled 0/1 clicks in that data — not Figure 4(a)'s ρ, which ranks bids against exact expected clicks on test queries. ` +
      `pCTR AUC: the reward model fitted in that epoch, on the held-out share of that run's own online data` +
      `${c.reward === 'oracle' ? ' (—: the Oracle run scores with the true click probabilities and fits no pCTR model)' : r.metrics.some((x) => x.pctr_auc === null) ? ' (—: the held-out data had no exposures, or only clicks or only non-clicks, to measure it on)' : ''}` +
      `${m.pctrQuality ? '; the pCTR-quality figure instead scores every run\'s final model on the same held-out logs, so its AUCs differ from these' : ''}. ` +
      `Pairs: preference pairs (phase 2: the best of a query's sampled responses against each one scoring at least the threshold below it); DPO loss: before and after that epoch's DPO update (the policy step on those pairs)` +
      `${checked ? '; step kept: the share of the update the step check kept on the training queries (none: the epoch keeps the previous θ, so its loss drop was discarded and its rule is the epoch before\'s)' : ''}. ` +
      `Source: <code>${esc(r.dir)}/metrics.jsonl</code>.`;
    return `<h3>${esc(title)}</h3>\n${htmlTable(header, rows, header.map(() => true))}\n<p class="caption">${caption}</p>`;
  });
  return section('Training metrics per epoch', 'training', parts.join('\n'));
}

function whatWasRun(m: ReportModel): string {
  const p = m.pieces;
  const items = p.runs.map((r) => `<li>${runSentence(r)}</li>`);
  if (p.bench) items.push(`<li>Table 2: <code>${esc(p.bench.file)}</code> (${p.bench.data.rows.length} mechanisms, bench seed ${p.bench.data.seed ?? '?'}).</li>`);
  if (p.verify) items.push(`<li>Verdicts: <code>${esc(p.verify.file)}</code> (${esc(p.verify.data.mechanism)}).</li>`);
  const drawn = [
    ...(m.fig4a ? [`${m.fig4a.queries} queries × ${m.fig4a.bids.length} bids × ${m.fig4a.epochs.length} epochs for 4(a)${m.fig4a.itctr === 'sampled' ? ` (itctr from ${m.fig4a.itctr_samples} sampled responses each)` : ''}`] : []),
    ...(m.fig4b ? [`${m.fig4b.responses} responses × ${m.fig4b.bids.length} bids × ${m.fig4b.curves.length} mechanisms for 4(b)`] : []),
  ];
  const run = m.fig4a?.run ?? m.fig4b?.run;
  if (run !== undefined) items.push(`<li>Figure 4: drawn by this report from <code>${esc(run)}</code> (${esc(p.figureRunReason)}), report seed ${m.seed}: ${drawn.join('; ')}.</li>`);
  else items.push('<li>Figure 4: not drawn (<code>--figures</code>).</li>');
  let demo = '';
  if (p.demo) {
    // demo.json is written by another command and may grow: show its settings generically
    // (commands as a listing, other fields as key: value), the whole record on request.
    const { commands, versions: _versions, ...rest } = p.demo.data;
    const list = Array.isArray(commands) && commands.every((c) => typeof c === 'string') ? `<pre>${esc((commands as string[]).join('\n'))}</pre>\n` : '';
    const flat = (v: unknown): string =>
      v !== null && typeof v === 'object' && !Array.isArray(v)
        ? Object.entries(v)
            .map(([k, x]) => `${k} ${flat(x)}`)
            .join(', ')
        : typeof v === 'string'
          ? v
          : JSON.stringify(v);
    const settings = Object.entries(rest).map(([k, v]) => `<li><strong>${esc(k)}</strong>: ${esc(flat(v))}</li>`);
    demo =
      `<h3>The demo's settings (demo.json)</h3>\n${list}${settings.length ? `<ul>\n${settings.join('\n')}\n</ul>\n` : ''}` +
      `<details><summary>the whole record (<code>${esc(p.demo.file)}</code>)</summary><pre>${esc(JSON.stringify(p.demo.data, null, 2))}</pre></details>`;
  }
  return section('What was run', 'run', `<ul>\n${items.join('\n')}\n</ul>\n${demo}`);
}

export function indexHtml(m: ReportModel): string {
  const p = m.pieces;
  const missing = p.missing.length ? section('Not in this report', 'missing', `<ul class="missing">\n${p.missing.map((s) => `<li>${escCode(s)}</li>`).join('\n')}\n</ul>`) : '';
  const files = `<ul class="files">\n${m.files.map((f) => `<li><a href="${esc(f)}">${esc(f)}</a></li>`).join('\n')}\n</ul>`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>LLM-Auction report: ${esc(basename(p.dir) || p.dir)}</title>
<style>${CSS}</style>
</head>
<body>
<main>
<h1>LLM-Auction report</h1>
<p class="lead">From <code>${esc(p.dir)}</code> (${p.layout === 'demo' ? 'a demo directory' : 'an IRPO run directory'}): Table 2 and Figure 4 of the LLM-Auction paper (sections 5.3–5.4), the property verdicts and the training metrics.</p>
${whatWasRun(m)}
${table2Section(m)}
${fig4aSection(m)}
${fig4bSection(m)}
${pctrQualitySection(m)}
${verifySection(m)}
${metricsSection(m)}
${missing}
${section('Files', 'files', files)}
</main>
</body>
</html>
`;
}
