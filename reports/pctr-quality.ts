/**
 * The pCTR-quality figure: expected reward of the rule IRPO trains against the quality of the pCTR
 * reward model it trained with. The same tiny-preset IRPO run is repeated with the pCTR model fitted
 * on 10%, 30% and 100% of each epoch's online logs (`train --pctr-share`), and with the control
 * whose clicks are shuffled across exposures; quality is the final pCTR model's AUC on one common
 * set of held-out logged exposures (training/pctr-quality.ts), reward is Table 2's exact E[R] of the trained rule on the test
 * queries. Oracle (true click probabilities) and Pretrained are drawn as horizontal references.
 */
import { GREY, lineChart, niceTicks, PALETTE, SHAPES, type Series } from './svg.ts';

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

/** Run colours, apart from the reference lines' (orange, green, grey) and from each other. */
const POINT_COLORS = ['#0072B2', '#CC79A7', '#8c564b', '#E69F00', '#56B4E9', '#17becf'];

/**
 * The runs are separate points, not a curve: each has its own colour and marker and its 95%
 * interval as an error bar, and no line joins them. The x range is padded so that no point or
 * interval sits on the border; points closer than about 4 px apart are drawn side by side
 * (dodged), and the subtitle says so (the legend gives every exact AUC).
 */
export function pctrQualitySvg(d: PctrQualityData): string {
  const pts = d.points.filter(placed).sort((a, b) => a.auc - b.auc);
  const unplaced = d.points.filter((p) => !placed(p));
  const xs = pts.map((p) => p.auc);
  const dataLo = Math.min(...xs, 0.5);
  const dataHi = Math.max(...xs, 0.5);
  const pad = Math.max(0.02, 0.08 * (dataHi - dataLo));
  const lo = dataLo - pad;
  const hi = dataHi + pad;
  // Dodge: a point within 1% of the x range of the previous one moves right by that much.
  const gap = 0.012 * (hi - lo);
  const shown: number[] = [];
  let dodged = false;
  for (const p of pts) {
    const prev = shown[shown.length - 1];
    if (prev !== undefined && p.auc - prev < gap) {
      shown.push(prev + gap);
      dodged = true;
    } else shown.push(p.auc);
  }
  const color = (k: number) => POINT_COLORS[k % POINT_COLORS.length]!;
  const shape = (k: number) => SHAPES[k % SHAPES.length]!;
  const ref = (label: string, y: number | undefined, c: string, dash: string): Series[] =>
    y === undefined ? [] : [{ label, color: c, dash, width: 1.5, points: [[lo, y], [hi, y]] }];
  const series: Series[] = [
    ...ref('LLM-Auction (Oracle)', d.oracle, PALETTE[1]!, '6 4'),
    ...ref('embedded:best-in-class', d.bestInClass, PALETTE[2]!, '2 3'),
    ...ref('Pretrained', d.pretrained, GREY, '4 4'),
    ...pts.map((p, k) => ({
      label: `IRPO, pCTR on ${p.label}`,
      color: color(k),
      line: false,
      markers: true,
      shape: shape(k),
      points: [[shown[k]!, p.reward]] as [number, number][],
      errorBars: [p.reward_ci95],
    })),
  ];
  const ys = [...pts.flatMap((p) => p.reward_ci95), d.oracle, d.pretrained, d.bestInClass].filter((y): y is number => y !== undefined);
  const ticks = niceTicks(lo, hi, 6);
  return lineChart({
    title: 'Reward after training against pCTR quality',
    subtitle:
      `pCTR fitted on ${pts.map((p) => p.label).join(', ')} of the online logs; exact E[R] on ${d.queries} test queries (95% CI over queries).` +
      (dodged ? ' Points closer than the marker size are drawn side by side; their exact AUCs are in the legend.' : ''),
    xLabel: d.auc_on ? 'pCTR AUC of the final model, every run on the same held-out logs' : 'pCTR AUC on held-out online queries (final epoch)',
    yLabel: 'Expected reward per query (Eq. 8, true clicks)',
    xDomain: [lo, hi],
    xTicks: ticks,
    xPad: 0,
    yDomain: [Math.floor(Math.min(...ys) - 2), Math.ceil(Math.max(...ys) + 2)],
    series,
    legend: [
      {
        title: 'Rule',
        valueTitle: 'E[R]',
        items: [
          ...pts.map((p, k) => ({ label: `IRPO, pCTR on ${p.label} (AUC ${p.auc.toFixed(3)})`, value: p.reward.toFixed(2), color: color(k), shape: shape(k), noLine: true })),
          ...unplaced.map((p) => ({ label: `IRPO, pCTR on ${p.label} (no AUC: no clicks to fit; not plotted)`, value: p.reward.toFixed(2), color: GREY, noLine: true })),
          ...(d.oracle !== undefined ? [{ label: 'LLM-Auction (Oracle)', value: d.oracle.toFixed(2), color: PALETTE[1]!, dash: '6 4' }] : []),
          ...(d.bestInClass !== undefined ? [{ label: 'embedded:best-in-class', value: d.bestInClass.toFixed(2), color: PALETTE[2]!, dash: '2 3' }] : []),
          ...(d.pretrained !== undefined ? [{ label: 'Pretrained', value: d.pretrained.toFixed(2), color: GREY, dash: '4 4' }] : []),
        ],
      },
    ],
    description: 'Expected reward of each IRPO-trained rule against the held-out AUC of the pCTR model it was trained with; one point per run, not a curve.',
  });
}
