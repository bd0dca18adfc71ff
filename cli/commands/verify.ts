/**
 * `llm-auction verify -m SPEC [--property …] [--alpha A] [--budget N] [--seed N] [--json FILE]`:
 * run the statistical property checks on one mechanism.
 *
 * Error control across properties: alpha is family-wise over the properties actually tested.
 * Each of the K chosen properties that the payment rule does not settle by construction runs at
 * alpha / K (Bonferroni), so the chance that `verify` reports any `fail` on a mechanism that has
 * every property is at most alpha. A property that holds by construction spends no alpha, is
 * shown as "holds by construction" with its reason, and is not counted as a pass.
 *
 * Exit code: 0 when every chosen property passes or holds by construction, 1 when any fails, 3
 * otherwise (some are inconclusive). Report-only properties (um-equilibrium) are printed and
 * written to the JSON under "reports", never under "properties", and never change the exit code:
 * the contract's verdict format does not fit a measurement.
 */
import cliProgress from 'cli-progress';
import { UsageError } from '../../lib/errors.ts';
import { num } from '../../properties/evidence.ts';
import { defaultPropertyNames, getProperty } from '../../properties/registry.ts';
import type { CheckOptions, MechanismUnderTest, ProgressEvent, PropertyReport, PropertySpec, Verdict, VerdictProperty } from '../../properties/types.ts';
import { DEFAULT_ALPHA } from '../../properties/types.ts';
import { table, writeJsonResult } from '../output.ts';
import type { VerifyResult } from '../../reports/formats.ts';

/** The check options verify passes on to every property (see CheckOptions for their meaning and defaults). */
type SharedCheckOptions = Pick<CheckOptions, 'alpha' | 'budget' | 'seed' | 'effect' | 'rho' | 'kappa' | 'observable' | 'cases' | 'exact'>;

export interface VerifyOptions extends SharedCheckOptions {
  mechanism: MechanismUnderTest;
  /** Property names (a name may also be a comma-separated list); default: every verdict property. */
  properties?: string[];
  /** `--json FILE`; "-" writes the JSON alone to stdout. */
  json?: string;
}

const VERIFY_EXIT = { pass: 0, fail: 1, inconclusive: 3 } as const;

/** How a verdict reads in text. */
export function verdictText(v: Verdict['verdict']): string {
  return v === 'holds-by-construction' ? 'holds by construction' : v;
}

/** Names asked for, split on commas, checked, without duplicates; unknown names are a usage error. */
function resolveProperties(names: readonly string[] | undefined): PropertySpec[] {
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

function progressBar(): { onProgress: (e: ProgressEvent) => void; stop: () => void } | undefined {
  if (!process.stderr.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: '{property} [{bar}] {value}/{total} cases | {samples} responses{phase}',
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let current: string | undefined;
  return {
    onProgress(e) {
      const payload = { property: e.property.padEnd(15), samples: e.samples, phase: e.phase === 'shrinking' ? ' | shrinking' : '' };
      if (current !== e.property) {
        if (current !== undefined) bar.stop();
        current = e.property;
        bar.start(e.casesPlanned, Math.min(e.cases, e.casesPlanned), payload);
      } else {
        bar.update(Math.min(e.cases, e.casesPlanned), payload);
      }
    },
    stop() {
      if (current !== undefined) bar.stop();
      current = undefined;
    },
  };
}

/** What the summary says about a verdict: the counterexample, the undecided comparison, or the scope of a pass. */
function evidenceColumn(p: VerdictProperty, v: Verdict): string {
  const describe = (ev: Record<string, unknown> | null | undefined, failing: boolean) => (ev ? p.evidence(ev, failing) : '');
  if (v.verdict === 'fail') return describe(v.counterexample, true);
  if (v.verdict === 'holds-by-construction') return v.reason ?? '';
  const d = v.details;
  if (v.verdict === 'inconclusive') {
    const what = describe(d?.closest as Record<string, unknown> | undefined, false);
    return `undecided${what ? `: ${what}` : ''} (${d?.cases_open ?? '?'} of ${d?.cases ?? '?'} cases open)`;
  }
  return d ? `${d.cases} auctions, ${d.comparisons_planned} comparisons${d.observable ? `, on ${d.observable}` : ''}${p.passNote?.(v) ?? ''}` : '';
}

/** "budget N responses per property", or each property's own cap when they differ. */
function budgetLine(given: number | undefined, budgets: Record<string, number>): string {
  if (given !== undefined) return `budget ${given} responses per property`;
  const caps = Object.entries(budgets);
  if (caps.length === 0) return 'budget: none spent';
  if (new Set(caps.map(([, n]) => n)).size === 1) return `budget ${caps[0]![1]} responses per property`;
  return `budget per property ${caps.map(([p, n]) => `${p} ${n}`).join(', ')} responses`;
}

export async function runVerify(opts: VerifyOptions): Promise<number> {
  return (await verifyMechanism(opts)).code;
}

/** verify's whole run: the verdicts, printed and written as `--json` says, and handed back to callers such as demo. */
export async function verifyMechanism(opts: VerifyOptions): Promise<{ code: number; result: VerifyResult }> {
  const chosen = resolveProperties(opts.properties);
  const { mechanism: m, properties: _names, json: _json, ...shared } = opts;
  const alpha = opts.alpha ?? DEFAULT_ALPHA;
  const budget = opts.budget;
  const seed = opts.seed ?? 0;
  if (!(alpha > 0 && alpha < 1)) throw new UsageError(`--alpha must be in (0, 1), got ${alpha}`);
  if (budget !== undefined && !(Number.isInteger(budget) && budget >= 1)) throw new UsageError(`--budget must be a positive integer, got ${budget}`);
  const bar = progressBar();
  // Family-wise error control across properties: alpha is split over those that are tested.
  const tested = chosen.filter((p) => p.kind === 'verdict' && p.byConstruction(m) === null).map((p) => p.name);
  const alphaEach = alpha / Math.max(1, tested.length);
  const base: CheckOptions = { ...shared, alpha: alphaEach, seed, ...(bar ? { onProgress: bar.onProgress } : {}) };

  const result: VerifyResult = {
    mechanism: m.name,
    alpha,
    alpha_per_property: alphaEach,
    tested,
    ...(budget !== undefined ? { budget } : {}),
    budgets: {},
    seed,
    properties: {},
  };
  const rows: (string | number)[][] = [];
  try {
    for (const p of chosen) {
      if (p.kind === 'verdict') {
        const v = await p.check(m, base);
        result.properties[p.name] = v;
        if (v.verdict !== 'holds-by-construction' && typeof v.details?.budget === 'number') result.budgets[p.name] = v.details.budget;
        rows.push([
          p.name,
          verdictText(v.verdict),
          v.samples,
          v.p_value === null ? 'exact' : v.p_value === 0 ? '0' : v.p_value < 1e-4 ? v.p_value.toExponential(1) : num(v.p_value, 4),
          v.details?.mode ?? '',
          evidenceColumn(p, v),
        ]);
      } else {
        const r = await p.run(m, base);
        (result.reports ??= {})[p.name] = r;
        rows.push([
          p.name,
          'report',
          r.samples,
          '',
          r.mode,
          p.summary(r),
        ]);
      }
    }
  } finally {
    bar?.stop();
  }

  const verdicts = Object.values(result.properties).map((v) => v.verdict);
  const code = verdicts.includes('fail')
    ? VERIFY_EXIT.fail
    : verdicts.every((v) => v === 'pass' || v === 'holds-by-construction')
      ? VERIFY_EXIT.pass
      : VERIFY_EXIT.inconclusive;

  if (opts.json === '-') {
    writeJsonResult('-', result);
    return { code, result };
  }
  const byConstruction = verdicts.filter((v) => v === 'holds-by-construction').length;
  const passed = verdicts.filter((v) => v === 'pass').length;
  const headline =
    code === VERIFY_EXIT.pass
      ? `${passed} tested ${passed === 1 ? 'property passes' : 'properties pass'}${byConstruction ? `; ${byConstruction} hold${byConstruction === 1 ? 's' : ''} by construction (not evidence)` : ''}`
      : code === VERIFY_EXIT.fail
        ? 'a property fails'
        : 'inconclusive (raise --budget)';
  const alphaLine =
    tested.length > 1
      ? `alpha ${alpha} family-wise over ${tested.length} tested properties (${num(alphaEach, 4)} each)`
      : `alpha ${alpha}`;
  process.stdout.write(
    `verify ${m.name}: ${alphaLine}, ${budgetLine(budget, result.budgets)}, seed ${seed}\n\n` +
      `${table(['property', 'verdict', 'samples', 'p-value', 'mode', 'evidence'], rows)}\n\n${headline}\n`,
  );
  writeJsonResult(opts.json, result);
  return { code, result };
}
