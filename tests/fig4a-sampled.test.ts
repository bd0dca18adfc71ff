/**
 * Figure 4(a) for a rule that cannot enumerate its responses (a served LLM): itctr estimated from
 * K sampled responses per (query, bid). The estimate must agree with the exact figure of the same
 * allocation (an estimator of exposure instead of click probability, or one that ignored the
 * focal ad, would not), must say it is sampled, and such a rule without K is one clear error.
 */
import { describe, expect, it } from 'vitest';
import { UsageError } from '../lib/errors.ts';
import type { AllocationRule } from '../mechanism/types.ts';
import { figure4a, type FigureContext } from '../reports/fig4.ts';
import { parseFigures } from '../cli/commands/report.ts';
import { embeddedParts } from '../evaluation/embedded-parts.ts';
import { EmbeddedRule, NUM_FEATURES } from '../simulation/embedded-policy.ts';

const { policy, user } = embeddedParts(0);
const theta = new Float64Array(NUM_FEATURES);
const exactRule = new EmbeddedRule(policy, theta, 'embedded@0');
/** The same allocation seen only through `sample`, as an endpoint is. */
const sampledOnly: AllocationRule = { name: 'served', payment: 'first-price-click', sample: (input, n, opts) => exactRule.sample(input, n, opts) };

function ctx(rule: AllocationRule, itctrSamples?: number): FigureContext {
  return {
    runSpec: 'run:test',
    epochs: [0],
    rules: new Map([[0, rule]]),
    gsp: rule,
    user,
    worldSeed: 0,
    candidates: 3,
    seed: 5,
    ...(itctrSamples === undefined ? {} : { itctrSamples }),
  };
}

describe('Figure 4(a) with sampled itctr', () => {
  it('agrees with the exact figure of the same allocation, and says it is sampled', async () => {
    const N = 6;
    const K = 1000;
    const exact = await figure4a(ctx(exactRule), N);
    const sampled = await figure4a(ctx(sampledOnly, K), N);
    expect(exact.itctr).toBe('exact');
    expect(exact.itctr_samples).toBeNull();
    expect(sampled.itctr).toBe('sampled');
    expect(sampled.itctr_samples).toBe(K);
    const e = exact.epochs[0]!.expected_clicks;
    const s = sampled.epochs[0]!.expected_clicks;
    const total = e.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0.05); // the ads do get clicked: the comparison has something to lose
    // Each (query, bid) estimate is a mean of K values in [0, 1]: its sd is at most 0.5/sqrt(K);
    // a bid's sum over N queries at most sqrt(N) times that. Allow 4 of those per bid.
    const tol = 4 * Math.sqrt(N) * (0.5 / Math.sqrt(K));
    for (let b = 0; b < e.length; b++) expect(Math.abs(s[b]! - e[b]!), `bid index ${b}`).toBeLessThan(tol);
    // Summed over bids the estimate sits within its noise of the exact total, not at the exposure rate.
    expect(Math.abs(s.reduce((a, b) => a + b, 0) - total)).toBeLessThan(4 * Math.sqrt(N * e.length) * (0.5 / Math.sqrt(K)));
  }, 120_000);

  it('is reproducible for a seed', async () => {
    const a = await figure4a(ctx(sampledOnly, 8), 3);
    const b = await figure4a(ctx(sampledOnly, 8), 3);
    expect(b).toEqual(a);
  });

  it('refuses a rule that cannot enumerate without --itctr-samples, with one clear error', async () => {
    await expect(figure4a(ctx(sampledOnly), 2)).rejects.toThrow(UsageError);
    await expect(figure4a(ctx(sampledOnly), 2)).rejects.toThrow(/--itctr-samples/);
  });

  it('--figures takes 4a, 4b or both, and nothing else', () => {
    expect([...parseFigures(undefined)].sort()).toEqual(['4a', '4b']);
    expect([...parseFigures('4a')]).toEqual(['4a']);
    expect(() => parseFigures('4c')).toThrow(UsageError);
    expect(() => parseFigures('')).toThrow(UsageError);
  });
});
