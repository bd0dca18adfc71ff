/**
 * The interval the real-LLM summary gives Figure 4(a)'s Spearman rho (reports/fig4.ts, shown by benchmarks/real-llm-summary.ts):
 * a bootstrap over queries. A rule whose expected clicks rise with the bid on every query gets an
 * interval above zero; the control, the same numbers with each query's bids shuffled, gets one
 * that covers zero; a single query gets none.
 */
import { describe, expect, it } from 'vitest';
import { spearmanBootstrap } from '../reports/fig4.ts';
import { Rng } from '../lib/rng.ts';

const BIDS = [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];

/** Per query, one epoch's itctr per bid: a rise of `slope` per bid plus noise. */
function queries(n: number, slope: number, seed: number, shuffle = false): { itctr: number[][] }[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, () => {
    const base = rng.uniform() * 0.2;
    let row = BIDS.map((b) => Math.max(0, base + slope * b + (rng.uniform() - 0.5) * 0.1));
    if (shuffle) row = rng.shuffle(row);
    return { itctr: [row] };
  });
}

describe('spearmanBootstrap', () => {
  it('puts the interval above zero when itctr rises with the bid on each query', () => {
    const ci = spearmanBootstrap(queries(8, 0.004, 1), BIDS, 0, 500);
    expect(ci).not.toBeNull();
    expect(ci![0]).toBeGreaterThan(0);
    expect(ci![1]).toBeLessThanOrEqual(1);
  });

  it('control: the same values with the bids shuffled within each query give an interval covering zero', () => {
    const ci = spearmanBootstrap(queries(8, 0.004, 1, true), BIDS, 0, 500);
    expect(ci).not.toBeNull();
    expect(ci![0]).toBeLessThan(0);
    expect(ci![1]).toBeGreaterThan(0);
  });

  it('gives no interval for a single query', () => {
    expect(spearmanBootstrap(queries(1, 0.004, 1), BIDS, 0, 100)).toBeNull();
  });
});
