/**
 * One verdict from the parts of a check split by case (issue #27: `verify --shard` over more
 * machines than properties). Each part ran planned cases [from, to) of the same check
 * (CheckOptions.caseRange): the same cases, seeds and Bonferroni family (alpha / (cases x
 * comparisons) per fail test, alpha per equivalence test), so the evidence of every case is valid
 * at the whole check's levels whichever machine produced it. The merged verdict is the whole
 * check's rule applied to the cases in order:
 *
 * - fail: the first part (in case order) with a failing case decides it, with its adjusted p-value
 *   and counterexample; the cases of later parts are dropped, as the unsharded check stops there;
 * - pass: every planned case passed (intersection-union: the largest pass p-value);
 * - inconclusive otherwise, with the smallest adjusted fail p-value and the closest comparison.
 *
 * On the exact path (no sampling) every case's outcome depends only on its index and seed, so the
 * merged verdict is the unsharded one to the byte. On the sampled path each part spends its share
 * of the budget (budget x its cases / all cases) where the unsharded check hands budget from case to
 * case, so responses and p-values differ while the error guarantees are the same.
 */
import type { Verdict, VerdictDetails } from './types.ts';

/** What a part adds to its details (verdict.ts, with caseRange). */
export interface ShardCases {
  from: number;
  to: number;
  budget: number;
  notes_base: string[];
  pilot_samples: number[];
  fail_p: number[];
  pass_p: number[];
  need: (number | null)[];
  closest: { index: number; fail_p: number } | null;
}

const partOf = (v: Verdict): ShardCases | undefined => v.details?.shard_cases as ShardCases | undefined;

/** Whether a verdict is one part of a check split by case. */
export const isCasePart = (v: Verdict): boolean => partOf(v) !== undefined;

const sum = (xs: readonly number[]) => xs.reduce((a, x) => a + x, 0);

/**
 * Join the parts (any order) into the whole check's verdict. Throws (RangeError, with `name`) when
 * they are not the parts of one check: different settings, or cases missing or given twice.
 */
export function mergeCaseVerdicts(parts: readonly Verdict[], name = 'property'): Verdict {
  const ps = parts
    .map((v) => ({ v, d: v.details!, s: partOf(v) }))
    .map((p) => {
      if (!p.s) throw new RangeError(`${name}: a verdict without shard_cases is not part of a split check`);
      return p as { v: Verdict; d: VerdictDetails; s: ShardCases };
    })
    .sort((a, b) => a.s.from - b.s.from);
  const d0 = ps[0]!.d;
  const C = d0.cases_planned;
  const same = (d: VerdictDetails) => JSON.stringify([d.property, d.mode, d.observable, d.alpha, d.effect, d.rho, d.kappa, d.budget, d.cases_planned, d.comparisons_planned]);
  let at = 0;
  for (const p of ps) {
    if (same(p.d) !== same(d0)) throw new RangeError(`${name}: parts of different checks (property, mode, alpha, budget or cases differ)`);
    if (p.s.from !== at) throw new RangeError(`${name}: cases ${at}..${p.s.from - 1} are ${p.s.from > at ? 'missing' : 'given twice'}`);
    at = p.s.to;
  }
  if (at !== C) throw new RangeError(`${name}: cases ${at}..${C - 1} of ${C} are missing`);

  // The parts up to the first that failed (its own cases end where it stopped).
  const failing = ps.findIndex((p) => p.v.verdict === 'fail');
  const kept = failing < 0 ? ps : ps.slice(0, failing + 1);
  const cat = <T>(f: (p: (typeof ps)[number]) => readonly T[]) => kept.flatMap((p) => [...f(p)]);
  const status = cat((p) => p.d.case_status);
  const samples = cat((p) => p.d.case_samples);
  const pilots = cat((p) => p.s.pilot_samples);
  const failP = cat((p) => p.s.fail_p);
  const passP = cat((p) => p.s.pass_p);
  const need = cat((p) => p.s.need);
  const strata = cat((p) => (p.d.case_strata as unknown[]) ?? []);
  const exact = d0.mode === 'exact';
  const planned = d0.comparisons_planned;
  const fail = failing >= 0 ? ps[failing]! : undefined;

  const shrinkUsed = fail?.d.samples_shrinking ?? 0;
  // Exact: what was scored, the failing part's shrink attempts included (its samples beyond its
  // cases'), as verdict.ts counts it; sampled: responses to the verdict (pilots too), then shrinking.
  const used = exact ? sum(samples) + (fail ? fail.v.samples - sum(fail.d.case_samples) : 0) : sum(samples) + sum(pilots);
  const total = exact ? used : used + shrinkUsed;
  const failed = status.filter((x) => x === 'fail').length;
  const passed = status.filter((x) => x === 'pass').length;
  let verdict: Verdict['verdict'];
  let pValue: number | null;
  if (fail) {
    verdict = 'fail';
    pValue = fail.v.p_value;
  } else if (passed === C) {
    verdict = 'pass';
    pValue = Math.max(0, ...passP);
  } else {
    verdict = 'inconclusive';
    pValue = status.length ? Math.min(1, Math.min(...failP) * planned) : 1;
  }
  if (exact) pValue = null;

  // The details in the order verdict.ts writes them: its settings first (every key before `cases`).
  const keys = Object.keys(d0);
  const base = Object.fromEntries(keys.slice(0, keys.indexOf('cases')).map((k) => [k, d0[k]]));
  const details = {
    ...base,
    cases: status.length,
    cases_planned: C,
    comparisons_planned: planned,
    alpha_per_comparison: d0.alpha_per_comparison,
    cases_failed: failed,
    cases_passed: passed,
    cases_open: status.length - failed - passed,
    samples_to_verdict: used,
    case_samples: samples,
    case_status: status,
    case_strata: strata,
    samples_shrinking: shrinkUsed,
    shrinks: fail?.d.shrinks ?? 0,
    notes: [...ps[0]!.s.notes_base],
  } as unknown as VerdictDetails;
  if (kept.some((p) => p.d.case_grids)) {
    details.case_grids = cat((p) => (p.d.case_grids as unknown[]) ?? p.d.case_status.map(() => null));
    details.case_designs = cat((p) => (p.d.case_designs as unknown[]) ?? p.d.case_status.map(() => null));
  }
  const rejected = kept.find((p) => p.d.weights_rejected);
  if (rejected) {
    details.weights_rejected = true;
    details.notes.push(rejected.d.notes[rejected.s.notes_base.length]!);
  }
  if (verdict === 'inconclusive' && !exact && !rejected) {
    const known = need.every((n): n is number => typeof n === 'number');
    const t = known ? sum(need as number[]) + (C - status.length) * Math.max(...(need as number[]), 0) : null;
    details.budget_needed = t === null ? null : Math.ceil((t * 1.2) / 1000) * 1000;
    details.notes.push(
      t === null
        ? `some comparison has no pass evidence yet: a pass needs well over ${d0.budget} responses`
        : `at this rate a verdict needs about ${details.budget_needed} responses (--budget ${details.budget_needed})`,
    );
  }
  if (verdict !== 'fail') {
    // The parts' closest comparisons; the whole check's is the first by (open first, smallest p-value, case order).
    const rank = (p: (typeof ps)[number]) => ((p.d.closest as { case_status?: string } | undefined)?.case_status === 'open' ? 0 : 1);
    const best = kept
      .filter((p) => p.s.closest && p.d.closest)
      .sort((a, b) => rank(a) - rank(b) || a.s.closest!.fail_p - b.s.closest!.fail_p || a.s.closest!.index - b.s.closest!.index)[0];
    if (best) details.closest = best.d.closest;
  }
  return { verdict, samples: total, p_value: pValue, counterexample: fail ? fail.v.counterexample : null, details };
}
