/**
 * Table 2's gap closed (issue #22): measured from the strongest row that reads only the prompt, as
 * the kinds declare it, to embedded:ceiling, with each row's paired difference against that row.
 */
import { describe, expect, it } from 'vitest';
import { gapFromPromptOnly } from '../evaluation/gap.ts';
import { parseSpec, specPromptOnly } from '../evaluation/kinds/index.ts';
import type { BenchRow } from '../reports/formats.ts';

const row = (mechanism: string, reward: number): BenchRow => ({
  mechanism,
  name: mechanism,
  label: mechanism,
  queries: 3,
  exact: true,
  revenue_per_query: 0,
  revenue_ci95: [0, 0],
  reward_per_query: reward,
  reward_ci95: [reward, reward],
  generations_per_query: 1,
  tokens_per_query: 1,
  ads_per_response: 0,
  format_errors_per_response: 0,
});

describe('gap closed from the strongest prompt-only row', () => {
  it('the kinds say which rows read only the prompt', () => {
    const po = (s: string) => specPromptOnly(parseSpec(s));
    expect(po('embedded:pretrained')).toBe(true);
    expect(po('embedded:never')).toBe(true);
    expect(po('inject:embedded:pretrained')).toBe(true);
    expect(po('token:embedded:never')).toBe(true);
    expect(po('inject:embedded:pretrained?rm=runs/x')).toBe(false); // a pCTR model fitted to clicks
    expect(po('inject:embedded:best-in-class')).toBe(false); // an inner rule that reads the user
    expect(po('embedded:best-in-class')).toBe(false);
    expect(po('embedded:ceiling')).toBe(false);
    expect(po('run:runs/x')).toBe(false);
    expect(po('mosaic:embedded:pretrained?n=4')).toBe(false);
  });

  it('measures from the best prompt-only row, not from Pretrained nor from a better learned row, and pairs every row with it', () => {
    const rows = [row('embedded:pretrained', -28), row('embedded:never', 0), row('inject:embedded:pretrained?inject=template', 10), row('run:r', 14), row('embedded:ceiling', 30)];
    const per = [
      [-28, -28, -28],
      [0, 0, 0],
      [9, 10, 11],
      [12, 14, 16],
      [30, 30, 30],
    ];
    const promptOnly = [true, true, true, false, false];
    const floor = gapFromPromptOnly(
      rows,
      per.map((reward, m) => ({ promptOnly: promptOnly[m]!, reward, revenue: reward.map(() => 0) })),
    );
    expect(floor).toBe('inject:embedded:pretrained?inject=template');
    expect(rows.map((r) => r.gap_closed)).toEqual([-38 / 20, -10 / 20, 0, 4 / 20, 1]);
    expect(rows.every((r) => r.gap_from === floor && r.gap_reference === 'embedded:ceiling')).toBe(true);
    expect(rows.map((r) => r.prompt_only)).toEqual(promptOnly);
    const d = rows[3]!.paired!.find((p) => p.against === floor)!;
    expect(d.reward_diff).toBeCloseTo(4, 12);
    expect(d.reward_diff_ci95[0]).toBeLessThan(4);
    expect(d.reward_diff_ci95[1]).toBeGreaterThan(4);
    expect(rows[2]!.paired?.some((p) => p.against === floor) ?? false).toBe(false);
  });

  it('leaves gap closed out when nothing prompt-only or no ceiling is benched', () => {
    const rows = [row('run:r', 14), row('embedded:ceiling', 30)];
    expect(gapFromPromptOnly(rows, [{ promptOnly: false, reward: [14], revenue: [0] }, { promptOnly: false, reward: [30], revenue: [0] }])).toBeUndefined();
    expect(rows.some((r) => r.gap_closed !== undefined)).toBe(false);
    const two = [row('embedded:never', 0), row('run:r', 14)];
    gapFromPromptOnly(two, [{ promptOnly: true, reward: [0], revenue: [0] }, { promptOnly: false, reward: [14], revenue: [0] }]);
    expect(two.some((r) => r.gap_closed !== undefined)).toBe(false);
    expect(two[1]!.paired?.[0]?.against).toBe('embedded:never');
  });
});
