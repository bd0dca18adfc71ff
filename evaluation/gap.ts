/**
 * Table 2's "gap closed", measured from the strongest row that reads only the prompt (issue #22):
 *
 *   gap_closed(row) = (R(row) - R(floor)) / (R(reference) - R(floor))
 *
 * where floor is the prompt-only row (as its kind declares: evaluation/kinds, `promptOnly`) with the
 * highest reward on this bench, and reference the tightest judge's ceiling benched
 * (`embedded:ceiling`, else `embedded:best-in-class`, else `embedded:optimal`). Measuring from
 * Pretrained would credit a mechanism for what inserting nothing already earns (Pretrained pays
 * for its format errors); from the strongest prompt-only row, 0% is "no better than a rule anyone
 * writes from the prompt" and a negative share says plainly that such a rule wins. Every row also
 * gets its paired difference against that floor, query by query, with a 95% interval.
 */
import { meanCi } from '../lib/stats.ts';
import type { BenchRow } from '../reports/formats.ts';

/** The ceiling gap closed is measured against: the first of these benched. */
export const GAP_REFERENCES = ['embedded:ceiling', 'embedded:best-in-class', 'embedded:optimal'] as const;

/** Per row of the bench, in row order: whether it is prompt-only, and its per-query reward and revenue. */
export interface GapInput {
  promptOnly: boolean;
  reward: readonly number[];
  revenue: readonly number[];
}

/**
 * Sets `prompt_only` on every row and, when a prompt-only row and a reference are benched (and the
 * reference is above the floor), `gap_closed`, `gap_from`, `gap_reference` and a paired difference
 * against the floor (added to `paired` unless it is there already). Returns the floor's spec.
 */
export function gapFromPromptOnly(rows: BenchRow[], perRow: readonly GapInput[]): string | undefined {
  rows.forEach((r, m) => (r.prompt_only = perRow[m]!.promptOnly));
  const candidates = rows.map((r, m) => ({ r, m })).filter(({ m }) => perRow[m]!.promptOnly);
  if (candidates.length === 0) return undefined;
  const floor = candidates.reduce((a, b) => (b.r.reward_per_query > a.r.reward_per_query ? b : a));
  const ref = GAP_REFERENCES.map((g) => rows.find((r) => r.mechanism === g)).find((r) => r !== undefined);
  rows.forEach((r, m) => {
    if (m === floor.m || r.paired?.some((p) => p.against === floor.r.mechanism)) return;
    const dr = meanCi(perRow[m]!.reward.map((x, k) => x - perRow[floor.m]!.reward[k]!));
    const dv = meanCi(perRow[m]!.revenue.map((x, k) => x - perRow[floor.m]!.revenue[k]!));
    (r.paired ??= []).push({ against: floor.r.mechanism, reward_diff: dr.mean, reward_diff_ci95: dr.ci, revenue_diff: dv.mean, revenue_diff_ci95: dv.ci });
  });
  if (ref && ref.reward_per_query > floor.r.reward_per_query) {
    const span = ref.reward_per_query - floor.r.reward_per_query;
    for (const r of rows) {
      r.gap_closed = (r.reward_per_query - floor.r.reward_per_query) / span;
      r.gap_from = floor.r.mechanism;
      r.gap_reference = ref.mechanism;
    }
  }
  return floor.r.mechanism;
}
