/**
 * `llm-auction report`: from a tiny IRPO run (Oracle reward, 2 epochs) and a tiny bench, laid out
 * as a demo directory, build the report and check what a reader relies on: every file is there,
 * the SVGs are well-formed XML with axes and legends, the page shows the table, both figures,
 * the verdicts and the training metrics, a rerun is byte-identical, and the figures say what the
 * paper's Figure 4 says (epoch 0 ignores bids; GSP steps where LLM-Auction does not).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { D3Node } from 'd3-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { benchMechanisms } from '../evaluation/table2.ts';
import { buildReport, runReport } from '../cli/commands/report.ts';
import { verifyMechanism } from '../cli/commands/verify.ts';
import { embeddedParts } from '../evaluation/embedded-parts.ts';
import { resolveMechanismUnderTest, resolveRule } from '../evaluation/resolve.ts';
import { InputError, UsageError } from '../lib/errors.ts';
import { estimateItctr } from '../mechanism/itctr.ts';
import { Rng } from '../lib/rng.ts';
import { spearman } from '../lib/stats.ts';
import { withBid } from '../properties/sampling.ts';
import { ExactItctr } from '../reports/exact-itctr.ts';
import { FIG4A_BIDS, jumpsOf, maxStep, type Fig4aData, type Fig4bData } from '../reports/fig4.ts';
import { BenchFileRead, BenchFileSchema, VerifyFileRead, VerifyFileSchema, type BenchFile } from '../reports/formats.ts';
import { loess, segmentedLoess } from '../reports/loess.ts';
import { auctionInput } from '../simulation/auctions.ts';
import { embeddedWorld } from '../simulation/world.ts';
import { irpoConfig } from '../training/config.ts';
import { trainIrpo } from '../training/irpo.ts';

const root = mkdtempSync(join(tmpdir(), 'llm-auction-report-'));
const demo = join(root, 'demo');
const run = join(demo, 'train-oracle');
const small = { queries: 30, responses: 40 };

function parseXml(text: string) {
  const d3n = new D3Node();
  const doc = new d3n.window.DOMParser().parseFromString(text, 'image/svg+xml');
  return doc as { documentElement: { nodeName: string }; getElementsByTagName(n: string): { length: number; [k: number]: { textContent: string | null } } };
}

const texts = (doc: ReturnType<typeof parseXml>) => {
  const t = doc.getElementsByTagName('text');
  return Array.from({ length: t.length }, (_, k) => t[k]!.textContent ?? '');
};

const readDir = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f))]));

beforeAll(async () => {
  mkdirSync(demo, { recursive: true });
  await trainIrpo({ out: run, config: irpoConfig({ preset: 'tiny', trainQueries: 150, epochs: 2, rmSamples: 4, reward: 'oracle' }), seed: 5 });
  const { rows } = await benchMechanisms({
    mechanism: `embedded:pretrained,run:${run},gsp:run:${run},embedded:optimal`,
    queries: 'test',
    limit: 30,
    user: 'embedded:parametric',
    candidates: 10,
    worldSeed: 0,
    seed: 1,
  });
  mkdirSync(join(demo, 'bench'), { recursive: true });
  const benchFile: BenchFile = { seed: 1, queries: 'test', limit: 30, rows };
  writeFileSync(join(demo, 'bench', 'bench.json'), `${JSON.stringify(benchFile, null, 2)}\n`);
  // A verify result in the contract's shape, with one verdict of each kind.
  const verdict = (v: string, samples: number, p: number | null) => ({ verdict: v, samples, p_value: p, counterexample: v === 'fail' ? { focal: 'Ad-0001', bids: [40, 50], itctr: [0.3, 0.1] } : null });
  writeFileSync(
    join(demo, 'verify.json'),
    JSON.stringify({
      mechanism: `run:${run}@2`,
      alpha: 0.05,
      budget: 3000,
      seed: 1,
      properties: {
        monotonicity: verdict('pass', 2376, 0.047),
        continuity: verdict('inconclusive', 3000, 1),
        ir: verdict('fail', 48, 0.001),
        'vm-truthfulness': { ...verdict('holds-by-construction', 0, null), reason: 'a stand-in reason for the report' },
      },
    }),
  );
  writeFileSync(join(demo, 'demo.json'), JSON.stringify({ commands: [`llm-auction train --out ${run} --reward oracle`, 'llm-auction bench -m …'], seeds: { train: 5, bench: 1 } }));
}, 600_000); // IRPO, a bench and the logged-clicks pCTR fit behind GSP's default quality: minutes on 2 loaded cores

describe('report on a demo directory', () => {
  let out1: string;
  let summary: Awaited<ReturnType<typeof buildReport>>;

  beforeAll(async () => {
    out1 = join(root, 'out1');
    const json = join(root, 'summary.json');
    expect(await runReport({ run: demo, out: out1, seed: 0, json, ...small })).toBe(0);
    summary = JSON.parse(readFileSync(json, 'utf8')) as typeof summary;
  });

  it('writes every file and a --json summary', () => {
    const want = ['fig4a.json', 'fig4a.svg', 'fig4b.json', 'fig4b.svg', 'index.html', 'table2.csv', 'table2.json', 'table2.md'];
    expect(summary.files).toEqual(want);
    for (const f of want) expect(existsSync(join(out1, f)), f).toBe(true);
    expect(summary.out).toBe(out1);
    expect(summary.figures.fig4a!.epochs.map((e) => e.epoch)).toEqual([0, 1, 2]);
    expect(summary.figures.fig4b!.curves).toHaveLength(2);
  });

  it('draws SVGs that parse as XML, with axes, labels and legends', () => {
    for (const [file, must] of [
      ['fig4a.svg', ['Figure 4(a)', 'Bid of the perturbed ad (per click)', 'Expected clicks (sum over 30 queries)', 'Epoch 0 (pretrained)', 'Epoch 2', 'Spearman ρ']],
      ['fig4b.svg', ['Figure 4(b)', 'Clicks on the ad (of 40 responses)', 'LLM-Auction (epoch 2)', 'GSP (k=1) over epoch 2', 'trend of the counts', 'exact expected clicks']],
    ] as const) {
      const text = readFileSync(join(out1, file), 'utf8');
      const doc = parseXml(text);
      expect(doc.documentElement.nodeName, file).toBe('svg');
      expect(doc.getElementsByTagName('parsererror').length, file).toBe(0);
      expect(text).toContain('font-family="sans-serif"');
      expect(text).toMatch(/width="720"/);
      const all = texts(doc);
      for (const m of must) expect(all.some((t) => t.includes(m)), `${file}: ${m}`).toBe(true);
      // Tick labels of the bid axis.
      for (const tick of ['1', '50', '100']) expect(all, `${file}: tick ${tick}`).toContain(tick);
      expect(doc.getElementsByTagName('path').length).toBeGreaterThan(3);
    }
  });

  it('shows Table 2, both figures, the verdicts and the training metrics on one page', () => {
    const html = readFileSync(join(out1, 'index.html'), 'utf8');
    for (const label of ['Pretrained LLM', 'LLM-Auction (Oracle)', 'GSP (k=1, pCTR from logs) over LLM-Auction (Oracle)', 'Exact KL optimum (beta = 0.1) (oracle)']) expect(html, label).toContain(`<td>${label}<br>`);
    expect(html.match(/<svg /g)).toHaveLength(2);
    expect(html).toContain('Figure 4(a): allocation monotonicity over IRPO training');
    expect(html).toContain('Figure 4(b): allocation continuity');
    expect(html).toContain('<span class="badge pass">pass</span>');
    expect(html).toContain('<span class="badge fail">fail</span>');
    expect(html).toContain('<span class="badge inconclusive">inconclusive</span>');
    expect(html).toContain('<span class="badge holds-by-construction">holds by construction</span>');
    expect(html).toContain('a stand-in reason for the report');
    expect(html).toContain('0.0470'); // a p-value
    expect(html).toContain('Training metrics per epoch');
    expect(html).toContain('llm-auction train --out'); // demo.json's commands
    // The pCTR run is absent from this demo directory, and the report says so.
    expect(html).toContain('No pCTR-trained run');
    expect(html).not.toMatch(/NaN|undefined/);
    const md = readFileSync(join(out1, 'table2.md'), 'utf8');
    expect(md).toContain('| Pretrained LLM | embedded:pretrained |');
    const csv = readFileSync(join(out1, 'table2.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(5);
    expect(csv[0]!.split(',').slice(0, 5)).toEqual(['label', 'mechanism', 'name', 'queries', 'revenue_per_query']);
  });

  it('is byte-identical when run again', async () => {
    const out2 = join(root, 'out2');
    await buildReport({ run: demo, out: out2, seed: 0, ...small });
    const a = readDir(out1);
    const b = readDir(out2);
    expect(Object.keys(b)).toEqual(Object.keys(a));
    for (const f of Object.keys(a)) expect(b[f]!.equals(a[f]!), f).toBe(true);
  });

  it('Figure 4(a): the pretrained epoch ignores bids; the legend correlation is the per-query one', () => {
    const d = JSON.parse(readFileSync(join(out1, 'fig4a.json'), 'utf8')) as Fig4aData;
    expect(d.queries).toBe(30);
    expect(d.bids).toEqual(FIG4A_BIDS);
    const e0 = d.epochs[0]!;
    expect(Math.abs(e0.spearman_expected)).toBeLessThan(0.02);
    expect(Math.abs(e0.spearman_sampled)).toBeLessThan(0.02);
    // Flat: theta = 0 gives the same response distribution at every bid.
    for (const v of e0.expected_clicks) expect(v).toBeCloseTo(e0.expected_clicks[0]!, 9);
    const last = d.epochs[d.epochs.length - 1]!;
    const xs = d.per_query.flatMap(() => d.bids);
    const ys = d.per_query.flatMap((q) => q.itctr[d.epochs.length - 1]!);
    expect(spearman(xs, ys)).toBeCloseTo(last.spearman_expected, 4);
    expect(summary.figures.fig4a!.epochs[0]!.spearman_expected).toBe(e0.spearman_expected);
  });

  it('Figure 4(b): GSP over the trained rule steps, LLM-Auction moves smoothly', () => {
    const d = JSON.parse(readFileSync(join(out1, 'fig4b.json'), 'utf8')) as Fig4bData;
    const [llm, gsp] = d.curves;
    expect(d.bids).toHaveLength(100);
    expect(llm!.raw).toHaveLength(100);
    expect(llm!.mechanism).toBe(`run:${run}@2`);
    expect(gsp!.mechanism).toBe(`gsp:run:${run}@2?k=1`);
    expect(d.selection.how).toBe('criteria');
    expect(d.selection.gsp_entry_bid).not.toBeNull();
    expect(gsp!.max_step_expected).toBeGreaterThan(llm!.max_step_expected);
    expect(gsp!.max_step_expected).toBeGreaterThan(3 * llm!.max_step_expected);
    // GSP never shows the ad before it wins the slot.
    expect(gsp!.expected.slice(0, d.selection.gsp_entry_bid! - 1).every((v) => v === 0)).toBe(true);
    expect(summary.figures.fig4b!.curves.map((c) => c.max_step_expected)).toEqual([llm!.max_step_expected, gsp!.max_step_expected]);
  });

  const noChromium = !existsSync('/usr/bin/chromium');
  if (noChromium) console.warn('report.test.ts: /usr/bin/chromium is missing; the PNG rendering test is skipped (apt-get install chromium to run it)');
  it.skipIf(noChromium)(`renders to PNG with headless Chromium (scripts/render-report.sh)${noChromium ? ' [skipped: no /usr/bin/chromium]' : ''}`, () => {
    const script = new URL('../scripts/render-report.sh', import.meta.url).pathname;
    const r = spawnSync('bash', [script, out1], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status, r.stderr).toBe(0);
    for (const f of ['index.png', 'index-1.png', 'fig4a.png', 'fig4b.png']) {
      const png = readFileSync(join(out1, 'png', f));
      expect(png.subarray(1, 4).toString('latin1'), f).toBe('PNG');
    }
  });
});

describe('report on a single IRPO run directory', () => {
  it('draws Figure 4 and states that Table 2 and the verdicts are missing', async () => {
    const out = join(root, 'single');
    const s = await buildReport({ run, out, seed: 3, queries: 12, responses: 20 });
    expect(s.files).toEqual(['fig4a.json', 'fig4a.svg', 'fig4b.json', 'fig4b.svg', 'index.html']);
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('Table 2 is not shown: there is no bench.json');
    expect(html).toContain('The property verdicts are not shown: there is no verify.json');
    expect(html).not.toContain('class="badge');
    expect(existsSync(join(out, 'table2.md'))).toBe(false);
  });

  it('rejects what is not a run directory with a usage error', async () => {
    const opts = { out: join(root, 'never'), seed: 0 };
    await expect(buildReport({ ...opts, run: join(root, 'no-such-dir') })).rejects.toThrow(UsageError);
    await expect(buildReport({ ...opts, run: join(root, 'no-such-dir') })).rejects.toThrow(/no such directory/);
    const empty = join(root, 'empty');
    mkdirSync(empty);
    await expect(buildReport({ ...opts, run: empty })).rejects.toThrow(/not a run directory/);
    const sim = join(root, 'sim');
    mkdirSync(sim);
    writeFileSync(join(sim, 'manifest.json'), JSON.stringify({ kind: 'simulate', seed: 0 }));
    await expect(buildReport({ ...opts, run: sim })).rejects.toThrow(/not an IRPO run directory/);
    await expect(buildReport({ ...opts, run, queries: 0 })).rejects.toThrow(/--queries must be a positive integer/);
    expect(existsSync(opts.out)).toBe(false);
  });

  it('--figures 4a draws Figure 4(a) alone, and an epoch without pairs (no DPO loss) is shown as such', async () => {
    const copy = join(root, 'no-pairs');
    cpSync(run, copy, { recursive: true });
    const lines = readFileSync(join(copy, 'metrics.jsonl'), 'utf8').trim().split('\n');
    const last = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    // What irpo.ts writes for an epoch with no preference pairs: NaN losses, which JSON makes null.
    lines[lines.length - 1] = JSON.stringify({ ...last, pairs: 0, dpo_loss_before: Number.NaN, dpo_loss_after: Number.NaN });
    writeFileSync(join(copy, 'metrics.jsonl'), `${lines.join('\n')}\n`);
    const out = join(root, 'out-4a');
    const s = await buildReport({ run: copy, out, seed: 0, queries: 5, figures: '4a' });
    expect(s.files).toEqual(['fig4a.json', 'fig4a.svg', 'index.html']);
    expect(s.figures.fig4b).toBeUndefined();
    expect(s.figures.fig4a!.itctr).toBe('exact');
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    expect(html).toContain('— (no pairs)');
    expect(html).not.toContain('Figure 4(b)');
  });

  it('names the file and field of a malformed input', async () => {
    const bad = join(root, 'bad');
    mkdirSync(join(bad, 'bench'), { recursive: true });
    writeFileSync(join(bad, 'bench', 'bench.json'), JSON.stringify({ rows: [{ mechanism: 'embedded:pretrained', queries: 3 }] }));
    const err = await buildReport({ run: bad, out: join(root, 'never'), seed: 0 }).catch((e: unknown) => e);
    // A bench without a run has no Figure 4 to draw: a usage error comes first.
    expect(err).toBeInstanceOf(UsageError);
    mkdirSync(join(bad, 'train-oracle'));
    writeFileSync(join(bad, 'train-oracle', 'manifest.json'), readFileSync(join(run, 'manifest.json')));
    mkdirSync(join(bad, 'train-oracle', 'epoch-0'));
    writeFileSync(join(bad, 'train-oracle', 'epoch-0', 'policy.json'), readFileSync(join(run, 'epoch-0', 'policy.json')));
    const err2 = await buildReport({ run: bad, out: join(root, 'never'), seed: 0 }).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(InputError);
    expect((err2 as InputError).file).toBe(join(bad, 'bench', 'bench.json'));
    expect((err2 as InputError).field).toBe('rows[0].revenue_per_query');
  });
});

describe('bench.json and verify.json, defined once in reports/formats.ts', () => {
  it('what bench and verify write passes the schema as written, and the reader takes it', async () => {
    const bench: unknown = JSON.parse(readFileSync(join(demo, 'bench', 'bench.json'), 'utf8'));
    expect(BenchFileSchema.safeParse(bench).error).toBeUndefined();
    expect(BenchFileRead.safeParse(bench).success).toBe(true);

    const mechanism = await resolveMechanismUnderTest('embedded:optimal');
    const write = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    let verified: unknown;
    try {
      verified = JSON.parse(JSON.stringify((await verifyMechanism({ mechanism, properties: ['ir,monotonicity'], cases: 2, budget: 200, seed: 1 })).result));
    } finally {
      process.stdout.write = write;
    }
    expect(VerifyFileSchema.safeParse(verified).error).toBeUndefined();
    expect(VerifyFileRead.safeParse(verified).success).toBe(true);
  });
});

describe('the pieces of Figure 4', () => {
  it('exact itctr by plans equals estimateItctr over the enumerated responses', async () => {
    const world = embeddedWorld(0);
    const profiles = new Map(world.profiles.map((p) => [p.id, p]));
    const { user } = embeddedParts();
    const exact = new ExactItctr(user);
    const rules = [await resolveRule(`run:${run}@0`), await resolveRule(`run:${run}@2`), await resolveRule(`gsp:run:${run}@2`)];
    const rng = new Rng(11);
    const test = world.queries.filter((q) => q.split === 'test');
    for (let k = 0; k < 3; k++) {
      const q = rng.pick(test);
      const input = auctionInput(q, profiles.get(q.profile_id)!, world.catalog, { seed: 4, stage: 'check', epoch: 0, candidates: 10 });
      const index = rng.int(0, input.ads.length - 1);
      for (const rule of rules) {
        for (const bid of [1, 55, 100]) {
          const ref = (await estimateItctr(rule, withBid(input, index, bid), user)).find((e) => e.id === input.ads[index]!.id)!.itctr;
          expect(await exact.at(rule, input, index, bid)).toBeCloseTo(ref, 12);
        }
      }
    }
  });

  it('LOESS reproduces a straight line and smooths noise; maxStep finds the largest jump', () => {
    const xs = Array.from({ length: 100 }, (_, k) => k + 1);
    const line = loess(xs, xs.map((x) => 3 + 0.5 * x));
    line.forEach((v, k) => expect(v).toBeCloseTo(3 + 0.5 * xs[k]!, 9));
    const rng = new Rng(1);
    const noisy = xs.map((x) => x / 2 + (rng.uniform() - 0.5) * 20);
    expect(maxStep(loess(xs, noisy))).toBeLessThan(maxStep(noisy) / 3);
    expect(maxStep([0, 0, 5, 5, 6])).toBe(5);
  });

  it('the 4(b) trend keeps a step a step: smoothing stops at the jumps of the exact curve', () => {
    const xs = Array.from({ length: 100 }, (_, k) => k + 1);
    const exact = xs.map((x) => (x >= 90 ? 30 : 0)); // a slot won from bid 90 on
    const rng = new Rng(2);
    const raw = exact.map((y) => Math.max(0, y + Math.round((rng.uniform() - 0.5) * 8)));
    const breaks = jumpsOf(exact);
    expect(breaks).toEqual([88]); // between bids 89 and 90
    const split = segmentedLoess(xs, raw, breaks);
    expect(split[89]! - split[88]!).toBeGreaterThan(20); // the step survives
    expect(Math.max(...split.slice(0, 89))).toBeLessThan(6); // no ramp before it
    const across = loess(xs, raw); // the old way: one fit across the step turns it into a ramp
    expect(across[89]! - across[88]!).toBeLessThan(10);
    // A smooth curve has no jumps, so the trend is the plain LOESS.
    const smooth = xs.map((x) => 30 / (1 + Math.exp(-(x - 50) / 8)));
    expect(jumpsOf(smooth)).toEqual([]);
  });
});
