/**
 * The pCTR-quality figure: expected reward of the rule IRPO trains against the quality of the pCTR
 * reward model it trained with. The same tiny-preset IRPO run is repeated with the pCTR model fitted
 * on 10%, 30% and 100% of each epoch's online logs (`train --pctr-share`), and with the control
 * whose clicks are shuffled across exposures; quality is the final pCTR model's AUC on one common
 * set of held-out logged exposures (training/pctr-quality.ts), reward is Table 2's exact E[R] of the trained rule on the test
 * queries. Oracle (true click probabilities) and Pretrained are drawn as horizontal references.
 */
import { GREY, lineChart, PALETTE, type Series } from './svg.ts';

export interface PctrQualityPoint {
  label: string;
  /** Share of the online logs the pCTR model was fitted on (0 for the shuffled control). */
  share: number;
  /** null (NaN in memory) when the run had no clicks to fit the pCTR model on: not plotted. */
  auc: number | null;
  reward: number;
  reward_ci95: [number, number];
}

export interface PctrQualityData {
  queries: number;
  points: PctrQualityPoint[];
  /** What every point's AUC was measured on (one common set of logged exposures); absent in older files, whose AUCs are each run's own held-out epoch. */
  auc_on?: string;
  oracle?: number;
  pretrained?: number;
  bestInClass?: number;
}

/** A run whose pCTR model could not be fitted (no clicks) has no AUC to place it by. */
const placed = (p: PctrQualityPoint): p is PctrQualityPoint & { auc: number } => typeof p.auc === 'number' && Number.isFinite(p.auc);

export function pctrQualitySvg(d: PctrQualityData): string {
  const pts = d.points.filter(placed).sort((a, b) => a.auc - b.auc);
  const unplaced = d.points.filter((p) => !placed(p));
  const xs = pts.map((p) => p.auc);
  const lo = Math.min(0.45, ...xs);
  const hi = Math.max(0.75, ...xs);
  const ref = (label: string, y: number | undefined, color: string, dash: string): Series[] =>
    y === undefined ? [] : [{ label, color, dash, width: 1.5, points: [[lo, y], [hi, y]] }];
  const series: Series[] = [
    { label: 'IRPO with pCTR', color: PALETTE[0]!, markers: true, width: 2.5, points: pts.map((p) => [p.auc, p.reward] as [number, number]) },
    ...pts.flatMap((p) => [{ label: `${p.label} 95% CI`, color: PALETTE[0]!, width: 1, opacity: 0.6, points: [[p.auc, p.reward_ci95[0]], [p.auc, p.reward_ci95[1]]] as [number, number][] }]),
    ...ref('LLM-Auction (Oracle)', d.oracle, PALETTE[1]!, '6 4'),
    ...ref('embedded:best-in-class', d.bestInClass, PALETTE[2]!, '2 3'),
    ...ref('Pretrained', d.pretrained, GREY, '4 4'),
  ];
  const ys = [...pts.flatMap((p) => p.reward_ci95), d.oracle, d.pretrained, d.bestInClass].filter((y): y is number => y !== undefined);
  const ticks: number[] = [];
  for (let x = Math.ceil(lo * 20) / 20; x <= hi + 1e-9; x += 0.05) ticks.push(Math.round(x * 100) / 100);
  return lineChart({
    title: 'Reward after training against pCTR quality',
    subtitle: `pCTR fitted on ${pts.map((p) => p.label).join(', ')} of the online logs; exact E[R] on ${d.queries} test queries (95% CI over queries).`,
    xLabel: d.auc_on ? 'final pCTR model AUC, every run on the same held-out logs' : 'pCTR AUC on held-out online queries (final epoch)',
    yLabel: 'Expected reward per query (Eq. 8, true clicks)',
    xDomain: [lo, hi],
    xTicks: ticks,
    yDomain: [Math.floor(Math.min(...ys) - 2), Math.ceil(Math.max(...ys) + 2)],
    series,
    legend: [
      {
        title: 'Rule',
        valueTitle: 'E[R]',
        items: [
          ...pts.map((p) => ({ label: `IRPO, pCTR on ${p.label} (AUC ${p.auc.toFixed(3)})`, value: p.reward.toFixed(2), color: PALETTE[0]!, marker: true })),
          ...unplaced.map((p) => ({ label: `IRPO, pCTR on ${p.label} (no AUC: no clicks to fit; not plotted)`, value: p.reward.toFixed(2), color: GREY })),
          ...(d.oracle !== undefined ? [{ label: 'LLM-Auction (Oracle)', value: d.oracle.toFixed(2), color: PALETTE[1]!, dash: '6 4' }] : []),
          ...(d.bestInClass !== undefined ? [{ label: 'embedded:best-in-class', value: d.bestInClass.toFixed(2), color: PALETTE[2]!, dash: '2 3' }] : []),
          ...(d.pretrained !== undefined ? [{ label: 'Pretrained', value: d.pretrained.toFixed(2), color: GREY, dash: '4 4' }] : []),
        ],
      },
    ],
    description: 'Expected reward of the IRPO-trained rule against the held-out AUC of the pCTR model it was trained with.',
  });
}
