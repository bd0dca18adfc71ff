/**
 * Wall time of each IRPO phase (issue: IRPO training harness) at the tiny and paper presets, and
 * the cost of LLM-Auction against MOSAIC at inference (generations and time per query).
 * `--quick` runs the paper preset on a tenth of its queries and projects, saying so.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchMechanisms } from '../evaluation/table2.ts';
import { irpoConfig } from '../training/config.ts';
import { trainIrpo } from '../training/irpo.ts';
import { writeResult, type Target } from './lib.ts';

const quick = process.argv.includes('--quick');
const notes: string[] = [];
const extra: Record<string, unknown> = {};
const targets: Target[] = [];

for (const preset of ['tiny', 'paper'] as const) {
  const full = irpoConfig({ preset, epochs: 1 });
  const scale = preset === 'paper' && quick ? 0.1 : 1;
  const config = { ...full, trainQueries: Math.round(full.trainQueries * scale) };
  const out = mkdtempSync(join(tmpdir(), `llm-auction-bench-irpo-${preset}-`));
  const t0 = performance.now();
  const [m] = await trainIrpo({ out, config, seed: 0 });
  const total = (performance.now() - t0) / 1000;
  rmSync(out, { recursive: true, force: true });
  const s = m!.seconds;
  const k = 1 / scale;
  extra[preset] = { train_queries: config.trainQueries, projected_from: scale < 1 ? config.trainQueries : undefined, seconds_per_epoch: total * k, phases: { online: s.online * k, reward_model: s.reward_model * k, pairs: s.pairs * k, dpo: s.dpo * k } };
  notes.push(
    `${preset} preset (${full.trainQueries} training queries${scale < 1 ? `, timed on ${config.trainQueries} and scaled x${k}` : ''}): one epoch ${(total * k).toFixed(0)} s = online data ${(s.online * k).toFixed(1)} s + pCTR fit ${(s.reward_model * k).toFixed(1)} s + pairs ${(s.pairs * k).toFixed(1)} s + DPO ${(s.dpo * k).toFixed(2)} s`,
  );
}

// Inference cost: one response per query for LLM-Auction, n = 20 candidates for MOSAIC.
{
  const out = mkdtempSync(join(tmpdir(), 'llm-auction-bench-irpo-cost-'));
  await trainIrpo({ out, config: irpoConfig({ preset: 'tiny', epochs: 1, trainQueries: 300 }), seed: 0 });
  const limit = 200;
  const time = async (spec: string) => {
    const t0 = performance.now();
    const { rows } = await benchMechanisms({ mechanism: spec, queries: 'test', limit, user: 'embedded:parametric', candidates: 10, worldSeed: 0, seed: 0 });
    return { ms: (performance.now() - t0) / limit, row: rows[0]! };
  };
  const a = await time(`run:${out}`);
  const b = await time(`mosaic:embedded:pretrained?n=20&rm=${out}`);
  rmSync(out, { recursive: true, force: true });
  extra.cost = { llm_auction: { ms_per_query: a.ms, generations: a.row.generations_per_query }, mosaic: { ms_per_query: b.ms, generations: b.row.generations_per_query } };
  targets.push({
    what: 'LLM-Auction vs MOSAIC (n=20): Ad-LLM generations per query',
    target: '1 vs 20',
    measured: `${a.row.generations_per_query} vs ${b.row.generations_per_query} (${a.ms.toFixed(1)} ms vs ${b.ms.toFixed(1)} ms per query on the embedded Ad-LLM)`,
    met: a.row.generations_per_query === 1 && b.row.generations_per_query === 20,
  });
}

const result = writeResult({ suite: 'irpo', tasks: [], targets, notes, extra });
for (const n of result.notes ?? []) console.log(n);
for (const t of result.targets) console.log(`${t.met ? 'met ' : 'MISS'}  ${t.what}: ${t.measured}`);
