/** Figure 4(a) and 4(b) as SVG, from the data in reports/fig4.ts. */
import { FIG4A_BIDS, type Fig4aData, type Fig4bData } from './fig4.ts';
import { GREY, lineChart, PALETTE, type LegendGroup, type Series } from './svg.ts';
import { fixed } from './tables.ts';

/** Epoch 0 (the pretrained model) is grey; trained epochs take the palette in order. */
export function epochColor(k: number): string {
  return k === 0 ? GREY : PALETTE[(k - 1) % PALETTE.length]!;
}

export function fig4aSvg(d: Fig4aData): string {
  const series: Series[] = d.epochs.map((e, k) => ({
    label: `Epoch ${e.epoch}`,
    color: epochColor(k),
    points: d.bids.map((b, j) => [b, e.expected_clicks[j]!] as [number, number]),
    markers: true,
    width: 2.5,
  }));
  const legend: LegendGroup[] = [
    {
      title: 'Epoch',
      valueTitle: 'Spearman ρ',
      items: d.epochs.map((e, k) => ({
        label: `Epoch ${e.epoch}${e.epoch === 0 ? ' (pretrained)' : ''}`,
        value: fixed(e.spearman_expected, 2),
        color: epochColor(k),
        marker: true,
      })),
    },
  ];
  return lineChart({
    title: 'Figure 4(a): allocation monotonicity over IRPO training',
    subtitle:
      d.itctr === 'sampled'
        ? `${d.queries} test queries, one ad each with its bid set to 1, 10, …, 100; expected clicks on that ad, from ${d.itctr_samples} sampled responses per bid.`
        : `${d.queries} test queries, one ad each with its bid set to 1, 10, …, 100; expected clicks on that ad, exact (no sampling noise).`,
    xLabel: 'Bid of the perturbed ad (per click)',
    yLabel: `Expected clicks (sum over ${d.queries} queries)`,
    xDomain: [0, 100],
    xTicks: [...FIG4A_BIDS],
    yDomain: [0, 0],
    series,
    legend,
    description: `Expected clicks on the perturbed ad per bid level, one line per epoch of ${d.run}.`,
  });
}

export function fig4bSvg(d: Fig4bData): string {
  const colors = [PALETTE[0]!, PALETTE[1]!];
  const series: Series[] = [];
  d.curves.forEach((c, k) => {
    const color = colors[k % colors.length]!;
    const pts = (ys: number[]) => d.bids.map((b, j) => [b, ys[j]!] as [number, number]);
    // The exact curve is the figure: drawn last, boldest, solid. The raw counts carry the sampling
    // noise; the trend smooths that noise within each stretch between jumps, never across one.
    series.push({ label: `${c.label}: sampled clicks`, color, points: pts(c.raw), width: 1, opacity: 0.45 });
    series.push({ label: `${c.label}: trend of the counts (split at jumps)`, color, points: pts(c.smoothed), dash: '6 4', width: 1.6, opacity: 0.8 });
    series.push({ label: `${c.label}: expected (exact)`, color, points: pts(c.expected), width: 3 });
  });
  const legend: LegendGroup[] = [
    { title: 'Mechanism', items: d.curves.map((c, k) => ({ label: c.label, color: colors[k % colors.length]!, width: 3 })) },
    {
      title: 'Line',
      items: [
        { label: `exact expected clicks (${d.responses}\u00a0×\u00a0itctr)`, color: '#444', width: 3 },
        { label: `raw counts: clicks in ${d.responses} sampled responses`, color: '#444', width: 1 },
        { label: 'trend of the counts (LOESS between jumps)', color: '#444', dash: '6 4', width: 1.6 },
      ],
    },
  ];
  return lineChart({
    title: 'Figure 4(b): allocation continuity',
    subtitle: `Query ${d.query_id}, ad ${d.ad_id}: its bid swept 1..100, the other bids fixed; ${d.responses} responses per bid.`,
    xLabel: `Bid of ad ${d.ad_id} (per click)`,
    yLabel: `Clicks on the ad (of ${d.responses} responses)`,
    xDomain: [1, 100],
    xTicks: [1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100],
    yDomain: [0, 0],
    series,
    legend,
    description: `Clicks on ${d.ad_id} as its bid goes from 1 to 100, for ${d.curves.map((c) => c.mechanism).join(' and ')}.`,
  });
}
