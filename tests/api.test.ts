/**
 * The library's entry (api/index.ts) and its matchers (api/vitest.ts), from the sources: each call
 * returns data, writes files only when asked, reports progress and stops on its AbortSignal; the
 * matchers pass on correct rules and fail with the verdict's evidence on planted ones, and an
 * inconclusive verdict fails as such. scripts/consumer-test.sh runs the same from the packed
 * package in a scratch project.
 */
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { bench, loadWorld, resolveMechanism, simulate, specOf, train, verify, type Progress } from '../api/index.ts';
import '../api/vitest.ts';
import * as F from './fixtures/planted.ts';

const few = { cases: 3, seed: 1 };

async function failureOf(assertion: () => Promise<unknown> | unknown): Promise<string | undefined> {
  try {
    await assertion();
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

describe('the library API', () => {
  it('verify returns the verdicts with evidence, and the same rule object as a spec', async () => {
    const events: Progress[] = [];
    const ok = await verify(F.correctLogistic(), { properties: 'monotonicity', ...few, onProgress: (p) => events.push(p) });
    expect(ok.verdict).toBe('pass');
    expect(ok.code).toBe(0);
    expect(events.length).toBeGreaterThan(0);
    expect(events[0]!.stage).toBe('verify monotonicity');
    const bad = await verify(F.plantedDip(), { properties: ['monotonicity'], ...few });
    expect(bad.verdict).toBe('fail');
    expect(bad.result.properties.monotonicity!.counterexample).not.toBeNull();
    expect(bad.lines[0]!.evidence).toMatch(/bid \d+ -> \d+/);
    // A bare rule object is tested on the embedded world, as a spec would be.
    const rule = F.independentRule('tilt-up', (b) => 0.2 + 0.6 * (b / 100));
    expect(specOf(rule)).toBe(specOf(rule));
    expect((await verify(rule, { properties: 'monotonicity', ...few })).verdict).toBe('pass');
    expect(await resolveMechanism(rule)).toBe(rule);
  });

  it('stops on its AbortSignal, with the signal\'s reason', async () => {
    const stop = new AbortController();
    stop.abort(new Error('stopped by the caller'));
    await expect(verify(F.correctLogistic(), { properties: 'monotonicity', ...few, signal: stop.signal })).rejects.toThrow('stopped by the caller');
    const midway = new AbortController();
    const run = verify(F.correctSoftmax(), {
      properties: 'monotonicity',
      ...few,
      signal: midway.signal,
      onProgress: () => midway.abort(new Error('stopped midway')),
    });
    await expect(run).rejects.toThrow('stopped midway');
  });

  it('bench returns Table 2 rows with paired differences between every two rows, and writes nothing unless given out', async () => {
    const cwd = process.cwd();
    const scratch = mkdtempSync(join(tmpdir(), 'llm-auction-api-'));
    process.chdir(scratch);
    try {
      const rule = F.independentRule('tilt-up', (b) => 0.2 + 0.6 * (b / 100));
      const table = await bench({ mechanisms: [rule, 'embedded:pretrained'], limit: 12, seed: 1 });
      expect(table.rows.map((r) => r.label)).toEqual(['tilt-up', 'Pretrained LLM']);
      expect(table.rows[0]!.paired?.map((p) => p.against)).toEqual(['embedded:pretrained']);
      expect(table.rows[1]!.paired?.map((p) => p.against)).toEqual([specOf(rule)]);
      expect(table.files).toEqual([]);
      expect(readdirSync(scratch)).toEqual([]);
      const out = join(scratch, 'out');
      const written = await bench({ mechanisms: ['embedded:pretrained'], limit: 5, out });
      expect(written.files).toEqual([join(out, 'bench.json')]);
      expect(existsSync(join(out, 'bench-episodes'))).toBe(true);
    } finally {
      process.chdir(cwd);
    }
    expect(loadWorld({ limit: 3 }).queries).toHaveLength(3);
  });
});

describe('simulate and train', () => {
  it('simulate writes the run directory it is given and says what it wrote; train stops on its signal before any work', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'llm-auction-api-sim-')), 'run');
    const events: Progress[] = [];
    const rule = F.independentRule('tilt-up', (b) => 0.2 + 0.6 * (b / 100));
    const summary = await simulate({ mechanism: rule, out, limit: 4, samples: 2, onProgress: (p) => events.push(p) });
    expect(summary).toMatchObject({ queries: 4, samples: 2, episodes: 8, written: 8, resumed_from: 0 });
    expect(readdirSync(out).sort()).toEqual(['episodes.jsonl', 'manifest.json']);
    expect(events.at(-1)).toMatchObject({ stage: 'simulate', done: 8, total: 8 });
    const stop = new AbortController();
    stop.abort(new Error('not now'));
    const trainOut = join(tmpdir(), `llm-auction-api-train-${process.pid}`);
    await expect(train({ out: trainOut, signal: stop.signal })).rejects.toThrow('not now');
    expect(existsSync(trainOut)).toBe(false);
  });
});

describe('the vitest matchers', () => {
  it('pass on correct rules', async () => {
    await expect(F.correctLogistic()).toBeMonotone(few);
    await expect(F.correctLogistic()).toBeContinuous(few);
    await expect(F.correctLogistic()).toBeIndividuallyRational(few);
  });

  it('fail on planted violations, quoting the counterexample, the samples and the p-value', async () => {
    const dip = await failureOf(() => expect(F.plantedDip()).toBeMonotone(few));
    expect(dip).toMatch(/monotonicity fails/);
    expect(dip).toMatch(/counterexample: \{/);
    expect(dip).toMatch(/p-value/);
    expect(await failureOf(() => expect(F.plantedStep()).toBeContinuous(few))).toMatch(/continuity fails/);
    expect(await failureOf(() => expect(F.plantedImpression()).toBeIndividuallyRational(few))).toMatch(/ir fails/);
    await expect(F.plantedDip()).not.toBeMonotone(few);
    // the control: .not on a correct rule fails
    expect(await failureOf(() => expect(F.correctLogistic()).not.toBeMonotone(few))).toMatch(/expected monotonicity to fail/);
  });

  it('an inconclusive verdict fails either way, said to be inconclusive', async () => {
    const tiny = { ...few, exact: false, budget: 30 };
    const r = await verify(F.correctLogistic(), { properties: 'monotonicity', ...tiny });
    expect(r.verdict).toBe('inconclusive');
    expect(await failureOf(() => expect(F.correctLogistic()).toBeMonotone(tiny))).toMatch(/inconclusive, not a pass/);
    expect(await failureOf(() => expect(F.correctLogistic()).not.toBeMonotone(tiny))).toMatch(/inconclusive, not a pass/);
  });

  it('toRank passes on the order the paired differences establish and fails on the reverse', async () => {
    const up = F.independentRule('often', (b) => 0.5 + 0.4 * (b / 100));
    const table = await bench({ mechanisms: [up, 'embedded:pretrained'], limit: 20, seed: 2 });
    const [a, b] = [...table.rows].sort((x, y) => y.reward_per_query - x.reward_per_query);
    const d = a!.paired!.find((p) => p.against === b!.mechanism)!;
    const outcome = await failureOf(() => expect(table).toRank([a!.mechanism, b!.mechanism]));
    // Passes exactly when the paired interval lies above 0; otherwise fails as inconclusive.
    if (d.reward_diff_ci95[0] > 0) expect(outcome).toBeUndefined();
    else expect(outcome).toMatch(/inconclusive/);
    expect(await failureOf(() => expect(table).toRank([b!.mechanism, a!.mechanism], { significant: false }))).toMatch(/do not rank in this order/);
    expect(await failureOf(() => expect(table).toRank(['embedded:optimal']))).toMatch(/no row for embedded:optimal/);
  });
});
