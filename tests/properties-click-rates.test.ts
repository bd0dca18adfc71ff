/**
 * Issue #24, item 4: the default budgets let a smooth correct rule pass monotonicity and
 * continuity at click rates from 0.05 up, and below that an inconclusive verdict names the budget
 * it would need.
 *
 * Thresholds come from the properties' own defaults (monotonicitySpec / continuitySpec
 * defaultBudget), not from hard-coded response counts. The rules are the logistic ramps of
 * tests/fixtures/logprob.ts (scale 15 bids, and scale 4: 10% to 90% over about 18 bids), sampled
 * only, on 0/1 clicks, reporting exact log-probabilities as the embedded world does (the default
 * design then shares samples across the pilot's grid). Each claim has a control that can lose:
 * the same check with a small share of what it used must not pass.
 *
 * Always run: click rates 0.3 and 0.8, and 0.05 on the dearer ramp (scale 4). With
 * LLM_AUCTION_SLOW_TESTS=1 also 0.05 on scale 15, 0.1, and 0.02 at the default budget (a pass, or
 * an inconclusive verdict whose named budget is then enough to pass). The full grid of rates,
 * seeds and designs is benchmarks/verify-samples-2.ts (BENCHMARKS.md, verify-samples-2).
 */
import { describe, expect, it } from 'vitest';
import { continuity, continuitySpec } from '../properties/continuity.ts';
import { monotonicity, monotonicitySpec } from '../properties/monotonicity.ts';
import type { PropertyCheck, Verdict } from '../properties/types.ts';
import * as L from './fixtures/logprob.ts';

const SLOW = process.env.LLM_AUCTION_SLOW_TESTS === '1';
const PROPS: [string, PropertyCheck, number][] = [
  ['monotonicity', monotonicity, monotonicitySpec.defaultBudget],
  ['continuity', continuity, continuitySpec.defaultBudget],
];
const used = (v: Verdict) => v.details?.samples_to_verdict ?? v.samples;
const ramp = (scale: number, ctr: number) => L.atClickRateWithLogProb(`logistic scale ${scale} @${ctr}`, L.logisticScale(scale), ctr);

describe('a smooth correct rule passes both properties within the default budget from click rate 0.05 up', () => {
  const cells: [number, number, boolean][] = [
    [0.8, 15, true],
    [0.8, 4, true],
    [0.3, 15, true],
    [0.3, 4, true],
    [0.1, 15, SLOW],
    [0.1, 4, SLOW],
    [0.05, 15, SLOW],
    [0.05, 4, true],
  ];
  for (const [ctr, scale, on] of cells) {
    for (const [name, check, budget] of PROPS) {
      it.skipIf(!on)(`logistic scale ${scale} at click rate ${ctr}: ${name} passes at default settings (seed 1)`, async () => {
        const v = await check(ramp(scale, ctr), { seed: 1, shrink: false, observable: 'clicks' });
        console.log(`[click-rates] ${name}, scale ${scale}, click rate ${ctr}: ${v.verdict} after ${used(v)} of ${budget}`);
        expect(v.details?.budget).toBe(budget); // the default cap, not one the test chose
        expect(v.verdict).toBe('pass');
        expect(used(v)).toBeLessThanOrEqual(budget);
        if (ctr >= 0.3) {
          // Control: a quarter of what the pass used cannot pass (the budget is what binds).
          const short = await check(ramp(scale, ctr), { seed: 1, shrink: false, observable: 'clicks', budget: Math.floor(used(v) / 4) });
          expect(short.verdict).toBe('inconclusive');
        }
      }, 300_000); // about 100k responses at click rate 0.05: allow for a loaded machine
    }
  }
});

describe('below click rate 0.05 an inconclusive verdict names the budget it needs', () => {
  it('click rate 0.02, scale 4, monotonicity with a tenth of the default: inconclusive, naming more than it had', async () => {
    const budget = Math.floor(monotonicitySpec.defaultBudget / 10);
    const v = await monotonicity(ramp(4, 0.02), { seed: 1, shrink: false, observable: 'clicks', budget });
    expect(v.verdict).toBe('inconclusive');
    const need = v.details?.budget_needed;
    expect(typeof need).toBe('number');
    expect(need as number).toBeGreaterThan(budget);
    expect(v.details?.notes.join(' ')).toContain(`--budget ${need}`);
  });

  for (const scale of [15, 4]) {
    for (const [name, check, budget] of PROPS) {
      it.skipIf(!SLOW)(`click rate 0.02, scale ${scale}, ${name} at the default budget: a pass, or the budget it names suffices`, async () => {
        const v = await check(ramp(scale, 0.02), { seed: 1, shrink: false, observable: 'clicks' });
        console.log(`[click-rates] ${name}, scale ${scale}, click rate 0.02: ${v.verdict} after ${used(v)} of ${budget}, names ${String(v.details?.budget_needed)}`);
        expect(v.verdict).not.toBe('fail');
        if (v.verdict === 'pass') return;
        const need = v.details?.budget_needed;
        expect(typeof need).toBe('number');
        expect(need as number).toBeGreaterThan(budget);
        const again = await check(ramp(scale, 0.02), { seed: 1, shrink: false, observable: 'clicks', budget: need as number });
        expect(again.verdict).toBe('pass');
      }, 600_000);
    }
  }
});
