/** Figure 4(a) and 4(b) as SVG, from the data in reports/fig4.ts. */
import { FIG4A_BIDS, type Fig4aData, type Fig4bData } from './fig4.ts';
import { GREY, lineChart, PALETTE, SHAPES, type LegendGroup, type Series } from './svg.ts';
import { fixed } from './tables.ts';

/** Epoch 0 (the pretrained model) is grey; trained epochs take the palette in order. */
export function epochColor(k: number): string {
  return k === 0 ? GREY : PALETTE[(k - 1) % PALETTE.length]!;
}

/** For each epoch, the earlier epoch whose curve it repeats exactly (same expected clicks at every bid), if any. */
export function sameCurveAs(d: Fig4aData): (number | null)[] {
  return d.epochs.map((e, k) => {
    for (let j = 0; j < k; j++) {
      const o = d.epochs[j]!;
      if (o.expected_clicks.every((v, b) => Math.abs(v - e.expected_clicks[b]!) <= 1e-9 * Math.max(1, Math.abs(v)))) return o.epoch;
    }
    return null;
  });
}

/**
 * `stepKept` (from the run's metrics): the share of each epoch's DPO step that was kept; an epoch
 * whose step was not kept has its predecessor's rule, and the legend says so.
 */
export function fig4aSvg(d: Fig4aData, stepKept?: ReadonlyMap<number, number | null | undefined>): string {
  const same = sameCurveAs(d);
  const why = (epoch: number) => (stepKept?.get(epoch) === 0 ? ': step not kept' : ': identical curve');
  // A curve that repeats an earlier one is drawn dashed on top of it, so both colours show, and
  // the legend names the repeat instead of listing a line nobody can find.
  const series: Series[] = d.epochs.map((e, k) => ({
    label: same[k] === null ? `Epoch ${e.epoch}` : `Epoch ${e.epoch} = Epoch ${same[k]}`,
    color: epochColor(k),
    points: d.bids.map((b, j) => [b, e.expected_clicks[j]!] as [number, number]),
    markers: true,
    shape: SHAPES[k % SHAPES.length]!,
    width: 2.5,
    ...(same[k] !== null ? { dash: '7 7' } : {}),
  }));
  const legend: LegendGroup[] = [
    {
      title: 'Epoch',
      valueTitle: 'Spearman ρ',
      items: d.epochs.map((e, k) => ({
        label: same[k] !== null ? `Epoch ${e.epoch} = Epoch ${same[k]}${why(e.epoch)}` : `Epoch ${e.epoch}${e.epoch === 0 ? ' (pretrained)' : ''}`,
        value: fixed(e.spearman_expected, 2),
        color: epochColor(k),
        marker: true,
        shape: SHAPES[k % SHAPES.length]!,
        ...(same[k] !== null ? { dash: '7 7' } : {}),
      })),
    },
  ];
  const what = d.itctr === 'sampled' ? `estimated from ${d.itctr_samples} sampled responses per bid` : 'exact (no sampling noise)';
  return lineChart({
    title: 'Figure 4(a): allocation monotonicity over IRPO training',
    subtitle:
      `${d.queries} test queries, one ad each with its bid set to 1, 10, …, 100; expected clicks on that ad, ${what}. ` +
      `Spearman ρ: rank correlation of bid and expected clicks over the ${d.queries}\u00a0×\u00a0${d.bids.length} (query, bid) pairs.`,
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
  // Where the exact curves coincide (typically 0 clicks while neither shows the ad) one line lies
  // on the other: say so rather than let a curve vanish.
  const [c0, c1] = d.curves;
  let shared = 0;
  if (c0 && c1) while (shared < d.bids.length && Math.abs(c0.expected[shared]! - c1.expected[shared]!) <= 1e-9) shared++;
  const overlap =
    c0 && c1 && shared >= 2
      ? ` The two exact curves coincide for bids ${d.bids[0]}–${d.bids[shared - 1]}${c0.expected.slice(0, shared).every((v) => v === 0) ? ' (0 clicks: the ad is not shown)' : ''}.`
      : '';
  return lineChart({
    title: 'Figure 4(b): allocation continuity',
    subtitle: `Query ${d.query_id}, ad ${d.ad_id}: its bid swept 1..100, the other bids fixed; ${d.responses} responses per bid.${overlap}`,
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
