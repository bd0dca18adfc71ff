/**
 * Sampled monotonicity and continuity on a pilot's grid, and samples shared across bids by
 * importance weighting (properties/grid.ts, properties/weighted.ts).
 *
 * - Smooth logistic ramps (scale 15 bids and 4 bids) pass both properties at default settings
 *   within 100k responses, at the embedded world's click rate (about 0.1 per exposure), weighted
 *   and with common random numbers.
 * - Planted violations (slot step, step on half of the queries, relative dip over ten bids,
 *   inverse bid) still fail on the weighted design.
 * - Nulls at the boundary (a dip of exactly rho, a step of exactly kappa S): no false alarm over
 *   20 seeds at a small budget (always), and at a larger one with LLM_AUCTION_SLOW_TESTS=1.
 * - The weighted design gives the verdicts of the unweighted one with fewer generations on clicks.
 * - Wrong log-probabilities (bid-blind, or another model's) are caught by the weight diagnostic.
 */
import { describe, expect, it } from 'vitest';
import { buildGrid, describeGrid, interpolate, localSlopes, PILOT_BIDS } from '../properties/grid.ts';
import { continuity } from '../properties/continuity.ts';
import { monotonicity } from '../properties/monotonicity.ts';
import type { CheckOptions, MechanismUnderTest, PropertyCheck, Verdict } from '../properties/types.ts';
import { DEFAULT_ALPHA } from '../properties/types.ts';
import { logProbOf } from '../properties/weighted.ts';
import { resolveMechanismUnderTest } from '../evaluation/resolve.ts';
import * as F from './fixtures/planted.ts';
import * as L from './fixtures/logprob.ts';

const CHECKS: Record<'monotonicity' | 'continuity', PropertyCheck> = { monotonicity, continuity };
const SLOW = process.env.LLM_AUCTION_SLOW_TESTS === '1';
const EMBEDDED_CTR = 0.1;

const used = (v: Verdict) => v.details?.samples_to_verdict ?? v.samples;

describe('the pilot grid', () => {
  it('is coarse where the curve is flat and single bids where it jumps', () => {
    const step = Array.from({ length: 100 }, (_, k) => (k + 1 >= 60 ? 1 : 0));
    const g = buildGrid(step, { tau: 0.07, maxGap: 33, maxPoints: 40, perBid: 32 });
    expect(g[0]).toBe(1);
    expect(g.at(-1)).toBe(100);
    expect(g).toContain(59);
    expect(g).toContain(60);
    expect(g.length).toBeLessThan(12);
    // Control: a flat curve gets only the widest gaps.
    expect(buildGrid(new Array(100).fill(0.5), { tau: 0.07, maxGap: 33, maxPoints: 40, perBid: 32 })).toEqual([1, 34, 67, 100]);
  });

  it('refines a smooth ramp where it moves, from a pilot curve', () => {
    const q = L.logisticScale(4);
    const values = PILOT_BIDS.map((b) => q(b, undefined as never));
    const g = buildGrid(interpolate(PILOT_BIDS, values), { tau: 0.07, maxGap: 33, maxPoints: 40, perBid: 32 }, interpolate(PILOT_BIDS, localSlopes(PILOT_BIDS, values)));
    const inRamp = g.filter((b) => b >= 40 && b <= 60).length;
    expect(inRamp).toBeGreaterThanOrEqual(6);
    expect(g.filter((b) => b < 30).length).toBeLessThanOrEqual(2);
    expect(describeGrid([1, 30, 44, 45, 46, 47, 70, 100])).toBe('1, 30, 44-47, 70, 100');
  });
});

describe('smooth ramps pass at default settings within 100k responses (click rate 0.1)', () => {
  for (const [label, scale] of [['logistic scale 15', 15], ['logistic scale 4', 4]] as const) {
    for (const prop of ['monotonicity', 'continuity'] as const) {
      it(`${label} passes ${prop}, weighted (rule reports log-probabilities), seed 1`, async () => {
        const m = L.atClickRateWithLogProb(label, L.logisticScale(scale), EMBEDDED_CTR);
        const v = await CHECKS[prop](m, { seed: 1, shrink: false });
        console.log(`[weighted] ${prop} on ${label}: ${v.verdict}, ${used(v)} responses, grids ${JSON.stringify((v.details?.case_grids as number[][]).map((g) => g.length))}`);
        expect(v.verdict).toBe('pass');
        expect(used(v)).toBeLessThanOrEqual(100_000);
        expect(v.details?.case_designs).toEqual(new Array(v.details!.cases).fill('weighted'));
        expect(v.details?.notes.join(' ')).toMatch(/not ruled out: a (bump or )?dip narrower than a grid gap/);
      });
    }
  }
});

describe('planted violations still fail on the weighted design', () => {
  const violations: [string, 'monotonicity' | 'continuity', F.RateQ][] = [
    ['slot step', 'continuity', F.slotWinnerQ],
    ['step on half of the queries', 'continuity', F.partialStepQ],
    ['50% relative dip over ten bids', 'monotonicity', F.relativeDipQ],
    ['inverse bid', 'monotonicity', F.inverseQ],
  ];
  for (const [name, prop, q] of violations) {
    it(`${name} fails ${prop} (click rate 0.1, seeds 1-2)`, async () => {
      for (let seed = 1; seed <= 2; seed++) {
        const v = await CHECKS[prop](L.atClickRateWithLogProb(name, q, EMBEDDED_CTR), { seed, shrink: false });
        expect(v.verdict).toBe('fail');
        expect(v.p_value!).toBeLessThanOrEqual(DEFAULT_ALPHA);
        expect((v.counterexample as { weighted?: boolean }).weighted).toBe(true);
      }
    });
  }
});

describe('nulls at the boundary: no false alarm beyond alpha over 20 seeds', () => {
  const nulls: [string, 'monotonicity' | 'continuity', F.RateQ][] = [
    ['relative dip of exactly rho', 'monotonicity', F.boundaryDipQ(0.1)],
    ['step of exactly kappa S', 'continuity', F.boundaryStepQ(0.3)],
  ];
  const settings: [string, CheckOptions, boolean][] = [
    ['budget 4000, 1 case (always)', { budget: 4_000, cases: 1 }, true],
    ['budget 40000, default cases (slow)', { budget: 40_000 }, SLOW],
  ];
  for (const [name, prop, q] of nulls) {
    for (const [label, opts, on] of settings) {
      it.skipIf(!on)(`${prop} on a ${name}, weighted and with common random numbers, ${label}`, async () => {
        for (const weighted of [true, false]) {
          const m: MechanismUnderTest = weighted ? L.atClickRateWithLogProb(name, q, 0.3) : F.samplingOnly(F.atClickRate(name, q, 0.3));
          let fails = 0;
          for (let seed = 1; seed <= 20; seed++) if ((await CHECKS[prop](m, { seed, shrink: false, observable: 'clicks', ...opts })).verdict === 'fail') fails++;
          console.log(`[weighted] null ${name} (${prop}, ${weighted ? 'weighted' : 'crn'}, ${label}): ${fails} false alarms of 20`);
          expect(fails / 20).toBeLessThanOrEqual(DEFAULT_ALPHA);
        }
      });
    }
  }
});

describe('weighted and unweighted designs agree; weighting needs fewer generations on clicks', () => {
  it('same verdicts on a ramp and a step, fewer responses in all (continuity, clicks, click rate 0.1, 2 cases)', async () => {
    const rules: [string, F.RateQ, Verdict['verdict']][] = [
      ['logistic scale 4', L.logisticScale(4), 'pass'],
      ['slot step', F.slotWinnerQ, 'fail'],
    ];
    let [wTotal, uTotal] = [0, 0];
    for (const [name, q, want] of rules) {
      const opts: CheckOptions = { seed: 2, cases: 2, observable: 'clicks', shrink: false };
      const w = await continuity(L.atClickRateWithLogProb(name, q, EMBEDDED_CTR), opts);
      const u = await continuity(L.atClickRateWithLogProb(name, q, EMBEDDED_CTR), { ...opts, share: 'off' });
      console.log(`[weighted] ${name}: weighted ${w.verdict} ${used(w)}, unweighted ${u.verdict} ${used(u)}`);
      expect(w.verdict).toBe(want);
      expect(u.verdict).toBe(want);
      expect(u.details?.case_designs).toEqual(['crn', 'crn'].slice(0, u.details!.cases));
      wTotal += used(w);
      uTotal += used(u);
    }
    expect(wTotal).toBeLessThan(uTotal);
  });
});

describe('the weight diagnostic catches wrong log-probabilities', () => {
  for (const [truth, name, prop, q] of [
    ['bid-blind', 'inverse bid', 'monotonicity', F.inverseQ],
    ['flattened', 'logistic scale 4', 'continuity', L.logisticScale(4)],
  ] as const) {
    it(`${truth} log-probabilities on ${name} (${prop}): flagged, never a verdict on them`, async () => {
      const v = await CHECKS[prop](L.atClickRateWithLogProb(name, q, 0.3, truth), { seed: 1, shrink: false, cases: 2 });
      expect(v.details?.weights_rejected).toBe(true);
      expect(v.verdict).toBe('inconclusive');
      expect(v.details?.notes.join(' ')).toMatch(/log-probabilities disagree with its samples/);
      // Control: the same rule with exact log-probabilities is not flagged.
      const ok = await CHECKS[prop](L.atClickRateWithLogProb(name, q, 0.3), { seed: 1, shrink: false, cases: 2 });
      expect(ok.details?.weights_rejected).toBeUndefined();
      expect(ok.verdict).toBe(prop === 'monotonicity' ? 'fail' : 'pass');
    });
  }
});

describe('the embedded world: exact log-probabilities from enumerate', () => {
  it('embedded:pretrained, sampled, is weighted with mean weights 1 and passes monotonicity', async () => {
    const m = await resolveMechanismUnderTest('embedded:pretrained');
    const lp = logProbOf(m.rule)!;
    const input = m.instances((await import('../lib/rng.ts')).Rng.derive(1, 'x'));
    const [y] = await m.rule.sample(input, 1, { seed: 3 });
    expect(Number.isFinite(await lp(input, y!))).toBe(true);
    expect(await lp(input, 'a response it never writes')).toBe(Number.NEGATIVE_INFINITY);
    const v = await monotonicity(m, { seed: 1, exact: false, cases: 1, shrink: false });
    expect(v.details?.case_designs).toEqual(['weighted']);
    expect(v.verdict).not.toBe('fail');
    const means = (v.details?.closest as { weights?: { mean_weight: number[] } } | undefined)?.weights?.mean_weight ?? [];
    for (const w of means) expect(Math.abs(w - 1)).toBeLessThan(0.1);
  });
});

describe('an inconclusive verdict names the budget it would need', () => {
  it('a ramp at click rate 0.05 on clicks with a tenth of what it needs: inconclusive, with budget_needed above the budget', async () => {
    const m = F.samplingOnly(F.atClickRate('ramp scale 15', L.logisticScale(15), 0.05));
    const v = await continuity(m, { seed: 1, cases: 1, budget: 8_000, observable: 'clicks', shrink: false });
    expect(v.verdict).toBe('inconclusive');
    const need = v.details?.budget_needed;
    if (need === null) expect(v.details?.notes.join(' ')).toMatch(/no pass evidence yet/);
    else {
      expect(need).toBeGreaterThan(8_000);
      expect(v.details?.notes.join(' ')).toContain(`--budget ${need}`);
    }
  });
});
