/**
 * The property checks of one mechanism, as `llm-auction verify`, the demo and the library run them:
 * which properties, at what alpha each, the verdicts with their evidence, and the exit code.
 *
 * Error control across properties: alpha is family-wise over the properties actually tested.
 * Each of the K chosen properties that the payment rule does not settle by construction runs at
 * alpha / K (Bonferroni), so the chance of any `fail` on a mechanism that has every property is
 * at most alpha. A property that holds by construction spends no alpha, is shown as "holds by
 * construction" with its reason, and is not counted as a pass.
 *
 * Code: 0 when every chosen property passes or holds by construction, 1 when any fails, 3
 * otherwise (some are inconclusive). Report-only properties (um-equilibrium) go under "reports",
 * never under "properties", and never change the code: the contract's verdict format does not fit
 * a measurement.
 */
import { UsageError } from '../lib/errors.ts';
import type { AllocationRule } from '../mechanism/types.ts';
import { num } from '../properties/evidence.ts';
import { defaultPropertyNames, getProperty } from '../properties/registry.ts';
import type { CheckOptions, MechanismUnderTest, ProgressEvent, PropertySpec, Verdict, VerdictProperty } from '../properties/types.ts';
import { DEFAULT_ALPHA } from '../properties/types.ts';
import type { VerifyResult } from '../reports/formats.ts';
import type { MechanismSpec } from './kinds/index.ts';
import { resolveMechanismUnderTest } from './resolve.ts';
import { formatShard, parseShard, shardSlice, type Shard } from './shard.ts';

/** The check options verify passes on to every property (see CheckOptions for their meaning and defaults). */
export type SharedCheckOptions = Pick<CheckOptions, 'alpha' | 'budget' | 'seed' | 'effect' | 'rho' | 'kappa' | 'observable' | 'cases' | 'exact' | 'bidGrid' | 'share'>;

export interface VerifyPropertiesOptions extends SharedCheckOptions {
  mechanism: MechanismUnderTest;
  /** Property names (a name may also be a comma-separated list); default: every verdict property. */
  properties?: string[];
  /** Each check's progress (cases and responses so far). */
  onProgress?: (e: ProgressEvent) => void;
  /** Stops the run at the next progress report or between properties, rejecting with its reason. */
  signal?: AbortSignal;
  /**
   * Resumable state (`verify --out DIR`, evaluation/verify-progress.ts): a property finished by an
   * earlier run is taken from it, not checked again; each one finished now is saved as it ends.
   */
  checkpoint?: {
    restored(property: string): { kind: 'verdict' | 'report'; value: unknown } | undefined;
    save(property: string, finished: { kind: 'verdict' | 'report'; value: unknown }): void;
  };
  /**
   * `i/n`: check only the i-th of n contiguous blocks of the work, each property at the alpha the
   * whole family gives it (evaluation/shard.ts); `merge` joins the shards' results into the
   * unsharded one. The work is every tested property's planned cases in turn (one unit for a
   * property settled by construction or report-only), so n shards split one property's cases too:
   * a shard holding part of a property's cases checks only those (CheckOptions.caseRange) and the
   * merge joins the parts into one verdict (properties/case-merge.ts).
   */
  shard?: string;
}

/** One line of verify's summary, as text: what the command prints and a matcher's message quotes. */
export interface VerifyLine {
  property: string;
  verdict: string;
  samples: number;
  p_value: string;
  mode: string;
  evidence: string;
}

export interface VerifyOutcome {
  /** 0 pass (or holds by construction), 1 fail, 3 inconclusive. */
  code: 0 | 1 | 3;
  result: VerifyResult;
  lines: VerifyLine[];
  /** One sentence: how many pass, or that one fails, or that it is undecided. */
  headline: string;
}

const VERIFY_EXIT = { pass: 0, fail: 1, inconclusive: 3 } as const;

/** How a verdict reads in text. */
export function verdictText(v: Verdict['verdict']): string {
  return v === 'holds-by-construction' ? 'holds by construction' : v;
}

/** Names asked for, split on commas, checked, without duplicates; unknown names are a usage error. */
export function resolveProperties(names: readonly string[] | undefined): PropertySpec[] {
  const list = (names && names.length ? names : defaultPropertyNames())
    .flatMap((n) => n.split(','))
    .map((n) => n.trim())
    .filter((n) => n.length > 0);
  if (list.length === 0) throw new UsageError('--property needs at least one property name');
  const seen = new Set<string>();
  const out: PropertySpec[] = [];
  for (const n of list) {
    const p = getProperty(n); // throws UsageError for an unknown name
    if (seen.has(p.name)) continue;
    seen.add(p.name);
    out.push(p);
  }
  return out;
}

/** What the summary says about a verdict: the counterexample, the undecided comparison, or the scope of a pass. */
export function evidenceText(p: VerdictProperty, v: Verdict): string {
  const describe = (ev: Record<string, unknown> | null | undefined, failing: boolean) => (ev ? p.evidence(ev, failing) : '');
  if (v.verdict === 'fail') return describe(v.counterexample, true);
  if (v.verdict === 'holds-by-construction') return v.reason ?? '';
  const d = v.details;
  if (v.verdict === 'inconclusive') {
    const what = describe(d?.closest as Record<string, unknown> | undefined, false);
    // Not a violation: the comparison nearest to one, still undecided.
    return `no violation shown; ${d?.cases_open ?? '?'} of ${d?.cases ?? '?'} cases undecided${what ? `, the nearest to a violation: ${what}` : ''}`;
  }
  return d ? `${d.cases} auctions, ${d.comparisons_planned} comparisons${d.observable ? `, on ${d.observable}` : ''}${p.passNote?.(v) ?? ''}` : '';
}

export function pValueText(p: number | null): string {
  return p === null ? 'exact' : p === 0 ? '0' : p < 1e-4 ? p.toExponential(1) : num(p, 4);
}

/** `x` as a JSON round trip gives it back, where it is saved; else `x` itself. */
function asSaved<T>(x: T, checkpoint: unknown): T {
  return checkpoint === undefined ? x : (JSON.parse(JSON.stringify(x)) as T);
}

/**
 * What a shard checks: the chosen properties, or with `shard` its contiguous block of the units
 * (each tested verdict property's planned cases, one unit for any other property), a property
 * whose cases the block holds only in part with that `range` of cases.
 */
function shardWork(chosen: readonly PropertySpec[], m: MechanismUnderTest, cases: number | undefined, shard: Shard | undefined): { p: PropertySpec; range?: { from: number; to: number } }[] {
  if (shard === undefined) return chosen.map((p) => ({ p }));
  const units = chosen.flatMap((p) => {
    const n = p.kind === 'verdict' && p.byConstruction(m) === null ? (cases ?? p.defaultCases) : 1;
    return Array.from({ length: n }, (_, k) => ({ p, k, n }));
  });
  const work: { p: PropertySpec; from: number; to: number; n: number }[] = [];
  for (const u of shardSlice(units, shard)) {
    const last = work[work.length - 1];
    if (last && last.p === u.p) last.to = u.k + 1;
    else work.push({ p: u.p, from: u.k, to: u.k + 1, n: u.n });
  }
  return work.map((w) => (w.from === 0 && w.to === w.n ? { p: w.p } : { p: w.p, range: { from: w.from, to: w.to } }));
}

/** Every chosen property checked on one mechanism: the verdicts with their evidence, and the exit code. */
export async function verifyProperties(opts: VerifyPropertiesOptions): Promise<VerifyOutcome> {
  const chosen = resolveProperties(opts.properties);
  const { mechanism: m, properties: _names, onProgress, signal, checkpoint, shard: shardText, ...shared } = opts;
  const shard = shardText === undefined ? undefined : parseShard(shardText);
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const budget = opts.budget;
  const seed = opts.seed ?? 0;
  if (!(alpha > 0 && alpha < 1)) throw new UsageError(`--alpha must be in (0, 1), got ${alpha}`);
  if (budget !== undefined && !(Number.isInteger(budget) && budget >= 1)) throw new UsageError(`--budget must be a positive integer, got ${budget}`);
  signal?.throwIfAborted();
  // Family-wise error control across properties: alpha is split over those that are tested.
  const tested = chosen.filter((p) => p.kind === 'verdict' && p.byConstruction(m) === null).map((p) => p.name);
  const alphaEach = alpha / Math.max(1, tested.length);
  const progress = onProgress || signal ? (e: ProgressEvent) => (signal?.throwIfAborted(), onProgress?.(e)) : undefined;
  const base: CheckOptions = { ...shared, alpha: alphaEach, seed, ...(progress ? { onProgress: progress } : {}) };

  const result: VerifyResult = {
    mechanism: m.name,
    alpha,
    alpha_per_property: alphaEach,
    tested,
    ...(budget !== undefined ? { budget } : {}),
    budgets: {},
    seed,
    properties: {},
    ...(shard === undefined ? {} : { shard: formatShard(shard) }),
  };
  const lines: VerifyLine[] = [];
  for (const { p, range } of shardWork(chosen, m, shared.cases, shard)) {
    signal?.throwIfAborted();
    const before = checkpoint?.restored(p.name);
    if (before !== undefined && before.kind !== p.kind) throw new UsageError(`${p.name}: the resumable state holds a ${before.kind}, but the property gives a ${p.kind}`);
    if (p.kind === 'verdict') {
      // With saved state, through JSON as the state gives it back, so a resumed run's result is the same to the byte.
      const v = (before?.value as Verdict | undefined) ?? asSaved(await p.check(m, range ? { ...base, caseRange: range } : base), checkpoint);
      if (!before) checkpoint?.save(p.name, { kind: 'verdict', value: v });
      result.properties[p.name] = v;
      if (v.verdict !== 'holds-by-construction' && typeof v.details?.budget === 'number') result.budgets[p.name] = v.details.budget;
      // A shard's part of a property says which cases it speaks for (merge gives the property's verdict).
      const label = range ? `${p.name} (cases ${range.from + 1}-${range.to} of ${v.details?.cases_planned ?? '?'})` : p.name;
      lines.push({ property: label, verdict: verdictText(v.verdict), samples: v.samples, p_value: pValueText(v.p_value), mode: v.details?.mode ?? '', evidence: evidenceText(p, v) });
    } else {
      type Report = Awaited<ReturnType<typeof p.run>>;
      const r = (before?.value as Report | undefined) ?? asSaved(await p.run(m, base), checkpoint);
      if (!before) checkpoint?.save(p.name, { kind: 'report', value: r });
      (result.reports ??= {})[p.name] = r;
      lines.push({ property: p.name, verdict: 'report', samples: r.samples, p_value: '', mode: r.mode, evidence: p.summary(r) });
    }
  }

  const verdicts = Object.values(result.properties).map((v) => v.verdict);
  const code = verdicts.includes('fail')
    ? VERIFY_EXIT.fail
    : verdicts.every((v) => v === 'pass' || v === 'holds-by-construction')
      ? VERIFY_EXIT.pass
      : VERIFY_EXIT.inconclusive;
  const byConstruction = verdicts.filter((v) => v === 'holds-by-construction').length;
  const passed = verdicts.filter((v) => v === 'pass').length;
  const headline =
    code === VERIFY_EXIT.pass
      ? `${passed} tested ${passed === 1 ? 'property passes' : 'properties pass'}${byConstruction ? `; ${byConstruction} hold${byConstruction === 1 ? 's' : ''} by construction (not evidence)` : ''}`
      : code === VERIFY_EXIT.fail
        ? 'a property fails'
        : `inconclusive: ${inconclusiveAdvice(result)}`;
  return { code, result, lines, headline };
}

/**
 * What an inconclusive run would need, from its own evidence: each undecided property's
 * extrapolated budget (details.budget_needed: every open case's need at the rate its evidence
 * grew) and the command that spends it. Without an estimate (a comparison with no pass evidence
 * yet), at least four times the budget spent, said as a lower bound.
 */
export function inconclusiveAdvice(result: VerifyResult): string {
  const open = Object.entries(result.properties).filter(([, v]) => v.verdict === 'inconclusive');
  if (open.length === 0) return '';
  const parts = open.map(([name, v]) => {
    const d = (v.details ?? {}) as { budget_needed?: unknown; budget?: unknown };
    const spent = typeof d.budget === 'number' ? d.budget : v.samples;
    return typeof d.budget_needed === 'number' && d.budget_needed > spent
      ? { name, budget: d.budget_needed, text: `${name} would need about ${d.budget_needed} responses (spent ${spent})` }
      : { name, budget: 4 * spent, text: `${name} needs more than ${spent} responses (no estimate yet: some comparison has no pass evidence)` };
  });
  const budget = Math.max(...parts.map((x) => x.budget));
  return `${parts.map((x) => x.text).join('; ')}; run: llm-auction verify -m '${result.mechanism}' --property ${parts.map((x) => x.name).join(',')} --budget ${budget} --seed ${result.seed}`;
}

/** Is this an allocation rule object (rather than a spec or a mechanism under test)? */
export function isAllocationRule(x: unknown): x is AllocationRule {
  return typeof x === 'object' && x !== null && typeof (x as { sample?: unknown }).sample === 'function' && !('rule' in x);
}

export function isMechanismUnderTest(x: unknown): x is MechanismUnderTest {
  return typeof x === 'object' && x !== null && typeof (x as { instances?: unknown }).instances === 'function' && 'rule' in x;
}

/**
 * A mechanism as the checks see it, from whatever the caller holds: a spec (`embedded:pretrained`,
 * `module:./rule.ts`), an allocation rule object, or a mechanism under test already assembled.
 * A rule object is tested on the same auctions as a spec: the embedded world's test queries, 2 to
 * 10 of a query's candidate ads, integer bids in 1..100, clicks from the given user model.
 */
export async function mechanismUnderTest(
  target: MechanismSpec | string | AllocationRule | MechanismUnderTest,
  opts: { user?: string; worldSeed?: number } = {},
): Promise<MechanismUnderTest> {
  if (isMechanismUnderTest(target)) return target;
  if (!isAllocationRule(target)) return resolveMechanismUnderTest(target, opts);
  const { paymentOf } = await import('../mechanism/settlement.ts');
  if (typeof target.name !== 'string' || target.name.trim() === '') throw new UsageError('an allocation rule needs a non-empty name');
  // The user and the auctions of the embedded world, as for a spec (the shell's own rule is not used).
  const shell = await resolveMechanismUnderTest('embedded:pretrained', opts);
  return { name: target.name, rule: target, clicks: shell.clicks, payment: paymentOf(target), instances: shell.instances };
}
