/**
 * Vitest matchers for a user's own tests (`import 'llm-auction/vitest'` registers them):
 *
 *   await expect(rule).toBeMonotone({ alpha: 0.05, budget: 20_000 });
 *   await expect('module:./my-rule.ts').toBeContinuous();
 *   await expect(rule).toBeIndividuallyRational();
 *   expect(await bench({ mechanisms: [mine, 'embedded:pretrained'] })).toRank([mine, 'embedded:pretrained']);
 *
 * The property matchers run one property through `verify` (the same test as the command) and
 * pass only on its `pass` verdict, or where the payment rule makes the property hold by
 * construction. A failure quotes the verdict's evidence: the counterexample's bids and itctr,
 * the samples drawn and the p-value. An inconclusive verdict fails, said to be inconclusive, with
 * or without `.not` (it is neither a pass nor a fail; raise `budget`).
 *
 * `toRank` reads a bench result: the named rows must be in that order by reward per query (or
 * revenue), each above the next by a paired difference whose 95% interval lies above zero. An
 * order that holds in the means but not beyond the interval is reported as not established.
 */
import { expect } from 'vitest';
import { specOf, verify, type BenchResult, type Mechanism, type VerifyOptions, type VerifyReport } from './index.ts';
import type { BenchRow, PairedDifference } from '../reports/formats.ts';
import type { MechanismUnderTest } from '../properties/types.ts';

/** A property matcher's options: verify's (alpha, budget, seed, cases, user, …) without the property list. */
export type PropertyMatcherOptions = Omit<VerifyOptions, 'properties' | 'json'>;

export interface RankOptions {
  /** The measure ranked: reward per query (default) or revenue per query. */
  by?: 'reward' | 'revenue';
  /** Require each step's paired 95% interval above zero (default true); false compares the means only. */
  significant?: boolean;
}

interface MatcherResult {
  pass: boolean;
  message: () => string;
}

interface MatcherContext {
  isNot: boolean;
}

function json(x: unknown): string {
  return JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? Number(v.toPrecision(4)) : v));
}

/** The verdict's evidence in words and numbers: what a failing matcher prints. */
export function describeVerdict(report: VerifyReport, property: string): string {
  const v = report.result.properties[property];
  const line = report.lines.find((l) => l.property === property);
  if (!v || !line) return `${property}: not run`;
  const parts = [
    `${property} on ${report.result.mechanism}: ${line.verdict}`,
    `  p-value ${line.p_value}, ${v.samples} samples${line.mode ? ` (${line.mode})` : ''}, alpha ${report.result.alpha_per_property}`,
  ];
  if (line.evidence) parts.push(`  evidence: ${line.evidence}`);
  if (v.counterexample) parts.push(`  counterexample: ${json(v.counterexample)}`);
  else if (v.verdict === 'inconclusive' && v.details?.closest) parts.push(`  closest to a violation: ${json(v.details.closest)}`);
  return parts.join('\n');
}

async function propertyMatcher(ctx: MatcherContext, property: string, matcher: string, received: unknown, opts: PropertyMatcherOptions = {}): Promise<MatcherResult> {
  const report = await verify(received as Mechanism | MechanismUnderTest, { ...opts, properties: [property] });
  const v = report.result.properties[property]!;
  const text = describeVerdict(report, property);
  if (v.verdict === 'inconclusive') {
    // Neither a pass nor a fail: the assertion fails whichever way it was asked.
    return { pass: ctx.isNot, message: () => `${matcher}: inconclusive, not a pass (the budget ran out before the test decided; raise budget)\n${text}` };
  }
  const pass = v.verdict === 'pass' || v.verdict === 'holds-by-construction';
  return {
    pass,
    message: () => (pass ? `expected ${property} to fail, but it ${v.verdict === 'pass' ? 'passes' : 'holds by construction'}\n${text}` : `${matcher}: ${property} fails\n${text}`),
  };
}

function findRow(rows: readonly BenchRow[], want: Mechanism): BenchRow | undefined {
  const spec = typeof want === 'string' ? want : specOf(want);
  return rows.find((r) => r.mechanism === spec || r.label === spec || r.name === spec) ?? (typeof want === 'string' ? undefined : rows.find((r) => r.name === want.name));
}

/** The paired difference of a over b on the measure, from either row's paired list. */
function pairedOf(a: BenchRow, b: BenchRow, by: 'reward' | 'revenue'): { diff: number; ci: [number, number] } | undefined {
  const pick = (p: PairedDifference) => (by === 'reward' ? { diff: p.reward_diff, ci: p.reward_diff_ci95 } : { diff: p.revenue_diff, ci: p.revenue_diff_ci95 });
  const ab = a.paired?.find((p) => p.against === b.mechanism);
  if (ab) return pick(ab);
  const ba = b.paired?.find((p) => p.against === a.mechanism);
  if (ba) {
    const x = pick(ba);
    return { diff: -x.diff, ci: [-x.ci[1], -x.ci[0]] };
  }
  return undefined;
}

function rankMatcher(ctx: MatcherContext, received: unknown, order: readonly Mechanism[], opts: RankOptions = {}): MatcherResult {
  const rows = (received as Partial<BenchResult> | null)?.rows;
  if (!Array.isArray(rows)) return { pass: false, message: () => 'toRank: expected a bench result ({ rows }) from bench()' };
  const by = opts.by ?? 'reward';
  const significant = opts.significant ?? true;
  const found = order.map((m) => ({ m, row: findRow(rows, m) }));
  const absent = found.filter((f) => !f.row).map((f) => (typeof f.m === 'string' ? f.m : f.m.name));
  if (absent.length > 0) return { pass: false, message: () => `toRank: no row for ${absent.join(', ')} among ${rows.map((r) => r.mechanism).join(', ')}` };
  const lines: string[] = [];
  let holds = true;
  let undecided = false;
  for (let k = 0; k + 1 < found.length; k++) {
    const a = found[k]!.row!;
    const b = found[k + 1]!.row!;
    const ma = by === 'reward' ? a.reward_per_query : a.revenue_per_query;
    const mb = by === 'reward' ? b.reward_per_query : b.revenue_per_query;
    const d = pairedOf(a, b, by);
    const diff = d ? `paired difference ${d.diff.toFixed(3)} [${d.ci[0].toFixed(3)}, ${d.ci[1].toFixed(3)}]` : 'no paired difference (bench them with pairWith)';
    let status: string;
    if (!significant) status = ma > mb ? 'above' : 'NOT above';
    else if (!d) status = 'undecided';
    else status = d.ci[0] > 0 ? 'above' : d.ci[1] < 0 ? 'NOT above (significantly below)' : 'undecided (the interval covers 0)';
    if (status !== 'above') holds = false;
    if (status.startsWith('undecided')) undecided = true;
    lines.push(`  ${a.label} (${ma.toFixed(3)}) ${status} ${b.label} (${mb.toFixed(3)}): ${diff}`);
  }
  const text = `${by} per query over ${rows[0]?.queries ?? '?'} queries:\n${lines.join('\n')}`;
  const against = lines.some((l) => l.includes(' NOT above '));
  // Undecided steps and none against: neither a pass nor a fail, so it fails whichever way it was asked.
  if (undecided && !against) return { pass: ctx.isNot, message: () => `toRank: inconclusive, not a pass (an order step is not established beyond its 95% interval)\n${text}` };
  return { pass: holds, message: () => (holds ? `expected the rows not to rank in this order, but they do\n${text}` : `toRank: the rows do not rank in this order\n${text}`) };
}

/** The matchers, for `expect.extend(matchers)` where the automatic registration below is not wanted. */
export const matchers = {
  toBeMonotone(this: MatcherContext, received: unknown, opts?: PropertyMatcherOptions) {
    return propertyMatcher(this, 'monotonicity', 'toBeMonotone', received, opts);
  },
  toBeContinuous(this: MatcherContext, received: unknown, opts?: PropertyMatcherOptions) {
    return propertyMatcher(this, 'continuity', 'toBeContinuous', received, opts);
  },
  toBeIndividuallyRational(this: MatcherContext, received: unknown, opts?: PropertyMatcherOptions) {
    return propertyMatcher(this, 'ir', 'toBeIndividuallyRational', received, opts);
  },
  toRank(this: MatcherContext, received: unknown, order: readonly Mechanism[], opts?: RankOptions) {
    return rankMatcher(this, received, order, opts);
  },
};

expect.extend(matchers);

export interface LlmAuctionMatchers<R = unknown> {
  /** Monotonicity (itctr does not fall as the bid rises), tested by verify; await it. */
  toBeMonotone(opts?: PropertyMatcherOptions): Promise<R>;
  /** Continuity (no jump in itctr at one bid step), tested by verify; await it. */
  toBeContinuous(opts?: PropertyMatcherOptions): Promise<R>;
  /** Individual rationality (no advertiser pays above its value in expectation), tested by verify; await it. */
  toBeIndividuallyRational(opts?: PropertyMatcherOptions): Promise<R>;
  /** A bench result's rows rank in this order (labels, specs or rule objects), each step significant. */
  toRank(order: readonly Mechanism[], opts?: RankOptions): R;
}

declare module 'vitest' {
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-explicit-any
  interface Matchers<T = any> extends LlmAuctionMatchers<T> {}
}
