/**
 * What a user's own repository does with the installed package (scripts/consumer-test.sh copies
 * this folder into a scratch project outside the repository, installs the packed tarball there
 * and runs it): the API and the matchers against a module rule, a rule object and the embedded
 * default, passing on correct rules and failing, with the evidence, on a planted violation.
 */
import { describe, expect, it } from 'vitest';
import { bench, verify, type AllocationRule, type BenchRow } from 'llm-auction';
import 'llm-auction/vitest';
import good from './softmax-rule.mjs';
import bad from './dip-rule.mjs';

const rule: AllocationRule = good;
const few = { cases: 3, seed: 1 };

// The published declarations are real types, not `any`: a wrong option does not compile (tsc runs
// on this file first; were the types lost, the unused @ts-expect-error would fail it).
export const mistyped = () =>
  // @ts-expect-error alpha is a number
  verify(rule, { alpha: 'high' });

/** The error an assertion throws, or undefined when it passes. */
async function failureOf(assertion: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await assertion();
  } catch (e) {
    return (e as Error).message;
  }
  return undefined;
}

describe('llm-auction from the installed package', () => {
  it('verify returns verdicts with evidence, for a module rule and for the embedded default', async () => {
    const mod = await verify('module:./softmax-rule.mjs', { properties: ['monotonicity', 'continuity'], ...few });
    expect(mod.verdict).toBe('pass');
    expect(mod.result.properties.monotonicity?.verdict).toBe('pass');
    const embedded = await verify('embedded:pretrained', { properties: 'monotonicity', ...few });
    expect(embedded.result.properties.monotonicity?.verdict).toBe('pass');
    const failing = await verify(bad, { properties: 'monotonicity', ...few });
    expect(failing.verdict).toBe('fail');
    expect(failing.code).toBe(1);
    expect(failing.result.properties.monotonicity?.counterexample).not.toBeNull();
  });

  it('the matchers pass on a correct rule (object, JS and TS modules, and the embedded default)', async () => {
    await expect(rule).toBeMonotone(few);
    await expect(rule).toBeContinuous(few);
    await expect(rule).toBeIndividuallyRational(few);
    await expect('module:./softmax-rule.mjs').toBeMonotone(few);
    await expect('module:./typed-rule.ts').toBeContinuous(few);
    await expect('embedded:pretrained').toBeMonotone(few);
  });

  it('toBeMonotone fails on the planted violation, quoting the counterexample bids and the p-value', async () => {
    const message = await failureOf(() => expect(bad).toBeMonotone(few));
    expect(message).toMatch(/counterexample/);
    expect(message).toMatch(/bid \d+ -> \d+/);
    expect(message).toMatch(/p-value/);
    expect(await failureOf(() => expect('module:./dip-rule.mjs').toBeMonotone(few))).toMatch(/monotonicity fails/);
    // and .not reads the verdict the other way
    await expect(bad).not.toBeMonotone(few);
  });

  it('an inconclusive verdict fails as inconclusive, never as a pass', async () => {
    // A budget far too small to decide on the sampled path.
    const tiny = { ...few, exact: false, budget: 50 };
    const message = await failureOf(() => expect(rule).toBeMonotone(tiny));
    expect(message).toMatch(/inconclusive, not a pass/);
    expect(await failureOf(() => expect(rule).not.toBeMonotone(tiny))).toMatch(/inconclusive, not a pass/);
  });

  it('bench gives Table 2 rows with intervals and paired differences, and toRank reads them', async () => {
    const table = await bench({ mechanisms: [rule, 'embedded:pretrained'], limit: 30, seed: 1 });
    const rows: BenchRow[] = table.rows;
    expect(rows.map((r) => r.label)).toEqual(['softmax (module)', 'Pretrained LLM']);
    for (const r of rows) expect(r.reward_ci95[0]).toBeLessThanOrEqual(r.reward_per_query);
    expect(rows[0]!.paired?.[0]?.against).toBe('embedded:pretrained');
    // The order the numbers show is asserted; the reverse fails with the paired difference in the message.
    const [hi, lo] = rows[0]!.reward_per_query > rows[1]!.reward_per_query ? [rule, 'embedded:pretrained'] : ['embedded:pretrained', rule];
    expect(table).toRank([hi, lo], { significant: false });
    expect(await failureOf(async () => expect(table).toRank([lo, hi]))).toMatch(/paired difference -?\d/);
  });
});
