/** An inconclusive verify says what it would need, from its own evidence, and the command to run. */
import { describe, expect, it } from 'vitest';
import { inconclusiveAdvice, verifyProperties } from '../evaluation/verify.ts';
import type { VerifyResult } from '../reports/formats.ts';

const result = (properties: Record<string, unknown>): VerifyResult =>
  ({ mechanism: 'module:./rule.ts', alpha: 0.05, alpha_per_property: 0.025, tested: Object.keys(properties), budgets: {}, seed: 7, properties }) as unknown as VerifyResult;

describe('inconclusive advice', () => {
  it('names the budget the evidence extrapolates to, and the command that spends it', () => {
    const r = result({
      monotonicity: { verdict: 'inconclusive', samples: 200000, p_value: 1, counterexample: null, details: { budget: 200000, budget_needed: 359000 } },
      ir: { verdict: 'pass', samples: 10, p_value: 0.001, counterexample: null },
    });
    const text = inconclusiveAdvice(r);
    expect(text).toContain('monotonicity would need about 359000 responses (spent 200000)');
    expect(text).toContain("run: llm-auction verify -m 'module:./rule.ts' --property monotonicity --budget 359000 --seed 7");
  });

  it('without an estimate, gives a lower bound and four times the budget spent', () => {
    const r = result({ continuity: { verdict: 'inconclusive', samples: 5000, p_value: 1, counterexample: null, details: { budget: 5000, budget_needed: null } } });
    expect(inconclusiveAdvice(r)).toMatch(/continuity needs more than 5000 responses .*--budget 20000 --seed 7$/);
    // Nothing to advise when nothing is inconclusive (the control).
    expect(inconclusiveAdvice(result({ ir: { verdict: 'pass', samples: 1, p_value: 0, counterexample: null } }))).toBe('');
  });

  it('a real inconclusive run ends with that advice in its headline', async () => {
    const { resolveMechanismUnderTest } = await import('../evaluation/resolve.ts');
    const mechanism = await resolveMechanismUnderTest('embedded:pretrained');
    const out = await verifyProperties({ mechanism, properties: ['monotonicity'], cases: 2, budget: 40, seed: 1, exact: false });
    if (out.code === 3) {
      expect(out.headline).toMatch(/^inconclusive: monotonicity (would need about \d+|needs more than \d+) responses/);
      expect(out.headline).toMatch(/--property monotonicity --budget \d+ --seed 1$/);
      expect(out.lines[0]!.evidence).not.toMatch(/^undecided/);
    } else expect(out.code).toBe(0); // a pass within 40 responses has nothing to advise
  });
});

describe('monotonicity evidence wording', () => {
  it('a rising curve reads as a rise, a dip as a dip (the control), never both as a violation', async () => {
    const { monotonicitySpec } = await import('../properties/monotonicity.ts');
    const ev = (relative_dip: number) => ({ bids: [10, 20], itctr: [0.001, 0.0012], exposure: [0.7, 0.8], relative_dip, rho: 0.1 });
    const rise = monotonicitySpec.evidence(ev(-0.182), false);
    expect(rise).toContain('itctr rose by 0.182');
    expect(rise).not.toMatch(/relative dip -/);
    const dip = monotonicitySpec.evidence(ev(0.3), true);
    expect(dip).toContain('relative dip 0.3');
    expect(dip).toContain('a violation is a dip above rho 0.1');
  });
});
