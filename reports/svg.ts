/**
 * Line charts as standalone SVG, drawn with d3 on d3-node's jsdom (no browser, no canvas).
 *
 * jsdom cannot measure text, so everything that depends on text width (legend wrapping, subtitle
 * wrapping) uses Arial's character widths plus 12%: DejaVu Sans, what "sans-serif" often means on
 * Linux, is about that much wider, so labels wrap a little early rather than overflow. Coordinates are rounded to 2 decimals so the files stay
 * small and identical from one run to the next.
 */
import { D3Node } from 'd3-node';
import { round } from '../lib/numbers.ts';

/** Marker shapes, so series stay apart without colour (print, colour blindness). */
export type MarkerShape = 'circle' | 'square' | 'triangle' | 'diamond' | 'triangle-down';
export const SHAPES: readonly MarkerShape[] = ['circle', 'square', 'triangle', 'diamond', 'triangle-down'];

export interface Series {
  label: string;
  color: string;
  points: [number, number][];
  /** stroke-dasharray, e.g. '6 4'; solid when absent. */
  dash?: string;
  width?: number;
  opacity?: number;
  /** Draw a small marker at each point (a circle unless `shape` says otherwise). */
  markers?: boolean;
  shape?: MarkerShape;
  /** false: markers only, no line joining the points (points that are not a curve). */
  line?: boolean;
  /** Per point, a vertical interval [lo, hi] drawn as an error bar in the series' colour. */
  errorBars?: [number, number][];
}

export interface LegendItem {
  label: string;
  /** A number shown right-aligned after the label (e.g. a correlation). */
  value?: string;
  color: string;
  dash?: string;
  width?: number;
  marker?: boolean;
  shape?: MarkerShape;
  /** The swatch is the marker alone (for a series drawn without a line). */
  noLine?: boolean;
}

export interface LegendGroup {
  title?: string;
  /** Heading of the value column, right-aligned on the title's line. */
  valueTitle?: string;
  items: LegendItem[];
}

export interface ChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  xDomain: [number, number];
  xTicks: number[];
  /**
   * Share of the x range added on both sides so that nothing drawn at the ends of the domain sits
   * on (or is cut by) the plot border (default 0.03; 0 when the domain is already padded).
   */
  xPad?: number;
  /** Lower and upper y bound; the upper one is raised to fit the data. */
  yDomain?: [number, number];
  series: Series[];
  legend: LegendGroup[];
  width?: number;
  height?: number;
  /** Accessible description (the SVG's <desc>). */
  description?: string;
}

/** Colors that stay apart for most forms of color blindness (Okabe-Ito, then Tableau). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#8c564b', '#17becf'];
export const GREY = '#7f7f7f';

const FONT = 'sans-serif';
const round2 = (x: number) => round(x, 2);
/** Arial advance widths in 1/1000 em for printable ASCII (32..126); other characters count 600. */
const ARIAL = [
  278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
  1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
  333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
export function approxWidth(text: string, size: number): number {
  let units = 0;
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    units += c >= 32 && c <= 126 ? ARIAL[c - 32]! : 600;
  }
  return (units / 1000) * size * 1.12;
}

/** Greedy word wrap to a width in pixels, by the character-width estimate; breaks at plain spaces only (no-break spaces hold). */
export function wrap(text: string, maxWidth: number, size: number): string[] {
  const words = text.split(/[ \t\n]+/).filter(Boolean);
  const lines: string[] = [];
  let line = '';
  for (const w of words) {
    const next = line ? `${line} ${w}` : w;
    if (line && approxWidth(next, size) > maxWidth) {
      lines.push(line);
      line = w;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * The fewest decimals (0..6) that write every tick exactly: ticks 0.45, 0.5, … 0.75 read
 * "0.45 0.50 … 0.75", never "0 1 1 1" (what an integer format makes of them).
 */
export function tickDecimals(ticks: readonly number[]): number {
  for (let d = 0; d <= 6; d++) if (ticks.every((t) => Math.abs(Number(t.toFixed(d)) - t) <= 1e-9 * Math.max(1, Math.abs(t)))) return d;
  return 6;
}

/** Tick labels for one axis, all with the same number of decimals. */
export function tickFormatter(ticks: readonly number[]): (v: number) => string {
  const d = tickDecimals(ticks);
  return (v: number) => {
    const t = Number(v).toFixed(d);
    return /^-0(\.0*)?$/.test(t) ? t.slice(1) : t;
  };
}

/** Nice tick values (steps of 1, 2 or 5 times a power of ten) inside [lo, hi], about `count` of them. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  const raw = (hi - lo) / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw) ?? 10 * p;
  const out: number[] = [];
  for (let k = Math.ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step; k++) out.push(Number((k * step).toFixed(12)));
  return out;
}

type Selection = { append(tag: string): Selection; attr(name: string, value: string | number): Selection };

/** One marker of the given shape centred at (cx, cy), about 7 px across. */
function drawMarker(g: Selection, shape: MarkerShape, cx: number, cy: number, fill: string): void {
  const c = (a: number, b: number) => `${round2(cx + a)},${round2(cy + b)}`;
  const m =
    shape === 'circle'
      ? g.append('circle').attr('cx', round2(cx)).attr('cy', round2(cy)).attr('r', 4.2)
      : shape === 'square'
        ? g.append('rect').attr('x', round2(cx - 3.8)).attr('y', round2(cy - 3.8)).attr('width', 7.6).attr('height', 7.6)
        : g.append('path').attr(
            'd',
            shape === 'triangle'
              ? `M${c(0, -5.2)}L${c(4.8, 3.4)}L${c(-4.8, 3.4)}Z`
              : shape === 'triangle-down'
                ? `M${c(0, 5.2)}L${c(4.8, -3.4)}L${c(-4.8, -3.4)}Z`
                : `M${c(0, -5.3)}L${c(5.3, 0)}L${c(0, 5.3)}L${c(-5.3, 0)}Z`,
          );
  m.attr('class', 'marker').attr('fill', fill).attr('stroke', '#fff').attr('stroke-width', 1);
}

export function lineChart(spec: ChartSpec): string {
  const width = spec.width ?? 720;
  let height = spec.height ?? 440;
  const legendWidth = 212;
  const subtitleLines = spec.subtitle ? wrap(spec.subtitle, width - 32, 12) : [];
  const margin = { top: 40 + 16 * subtitleLines.length + 12, right: legendWidth + 16, bottom: 58, left: 74 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;

  const d3n = new D3Node();
  const d3 = d3n.d3;
  const svg = d3n.createSVG(width, height, {
    viewBox: `0 0 ${width} ${height}`,
    'font-family': FONT,
    role: 'img',
    'aria-label': spec.title,
  });
  svg.append('title').text(spec.title);
  if (spec.description) svg.append('desc').text(spec.description);
  const background = svg.append('rect').attr('width', width).attr('height', height).attr('fill', '#ffffff');

  svg.append('text').attr('x', 16).attr('y', 26).attr('font-size', 16).attr('font-weight', 'bold').attr('fill', '#222').text(spec.title);
  subtitleLines.forEach((l, k) => {
    svg.append('text').attr('x', 16).attr('y', 46 + 16 * k).attr('font-size', 12).attr('fill', '#444').text(l);
  });

  const ys = spec.series.flatMap((s) => [...s.points.map((p) => p[1]), ...(s.errorBars ?? []).flat()]).filter(Number.isFinite);
  const [y0, y1] = spec.yDomain ?? [0, 0];
  // Nice bounds first (the ticks), then a margin on every side, so that a curve at the bottom of
  // the range (zero clicks) is drawn above the axis line instead of hidden on it, and a marker or
  // interval at an end of the range is never cut by the border.
  const yNice = d3
    .scaleLinear()
    .domain([Math.min(y0, ...ys), Math.max(y1, ...ys.map((v) => v * 1.02), y0 + 1)])
    .nice(6);
  const yTicks: number[] = yNice.ticks(6);
  const [ya, yb] = yNice.domain() as [number, number];
  const yPad = 0.035 * (yb - ya);
  const y = d3
    .scaleLinear()
    .domain([ya - yPad, yb + yPad])
    .range([plotH, 0]);
  const [x0, x1] = spec.xDomain;
  const xPad = (spec.xPad ?? 0.03) * (x1 - x0);
  const x = d3
    .scaleLinear()
    .domain([x0 - xPad, x1 + xPad])
    .range([0, plotW]);

  const plot = svg.append('g').attr('class', 'plot').attr('transform', `translate(${margin.left},${margin.top})`);
  // Light horizontal grid lines at the y ticks help read values off the curves.
  plot
    .append('g')
    .attr('stroke', '#e5e5e5')
    .attr('stroke-width', 1)
    .selectAll('line')
    .data(yTicks)
    .enter()
    .append('line')
    .attr('x1', 0)
    .attr('x2', plotW)
    .attr('y1', (d: number) => round2(y(d)))
    .attr('y2', (d: number) => round2(y(d)));

  const xAxis = plot
    .append('g')
    .attr('class', 'axis x-axis')
    .attr('transform', `translate(0,${plotH})`)
    .call(d3.axisBottom(x).tickValues(spec.xTicks).tickFormat(tickFormatter(spec.xTicks)).tickSizeOuter(0));
  const yAxis = plot.append('g').attr('class', 'axis y-axis').call(d3.axisLeft(y).tickValues(yTicks).tickFormat(tickFormatter(yTicks)).tickSizeOuter(0));
  for (const axis of [xAxis, yAxis]) axis.attr('font-size', 12).attr('font-family', FONT).attr('color', '#333');

  plot
    .append('text')
    .attr('x', round2(plotW / 2))
    .attr('y', plotH + 44)
    .attr('text-anchor', 'middle')
    .attr('font-size', 13)
    .attr('fill', '#222')
    .text(spec.xLabel);
  plot
    .append('text')
    .attr('transform', `translate(${-56},${round2(plotH / 2)}) rotate(-90)`)
    .attr('text-anchor', 'middle')
    .attr('font-size', 13)
    .attr('fill', '#222')
    .text(spec.yLabel);

  const line = d3
    .line()
    .x((p: [number, number]) => x(p[0]))
    .y((p: [number, number]) => y(p[1]))
    .digits(2);
  const curves = plot.append('g').attr('fill', 'none');
  for (const s of spec.series) {
    if (s.line !== false) {
      const path = curves
        .append('path')
        .attr('d', line(s.points))
        .attr('stroke', s.color)
        .attr('stroke-width', s.width ?? 2)
        .attr('stroke-linejoin', 'round')
        .attr('stroke-linecap', 'round');
      if (s.dash) path.attr('stroke-dasharray', s.dash);
      if (s.opacity !== undefined) path.attr('stroke-opacity', s.opacity);
      path.append('title').text(s.label);
    }
    if (s.errorBars) {
      const g = plot.append('g').attr('class', 'error-bars').attr('stroke', s.color).attr('stroke-width', 1.5);
      s.errorBars.forEach(([lo, hi], k) => {
        const cx = round2(x(s.points[k]![0]));
        const [a, b] = [round2(y(lo)), round2(y(hi))];
        g.append('path').attr('d', `M${cx},${a}V${b}M${round2(cx - 4)},${a}H${round2(cx + 4)}M${round2(cx - 4)},${b}H${round2(cx + 4)}`);
      });
    }
    if (s.markers) {
      const g = plot.append('g').attr('class', 'markers');
      g.append('title').text(s.label);
      for (const p of s.points) drawMarker(g, s.shape ?? 'circle', x(p[0]), y(p[1]), s.color);
    }
  }

  // Legend, to the right of the plot so it never covers a curve.
  const legend = svg.append('g').attr('class', 'legend').attr('transform', `translate(${width - legendWidth},${margin.top})`).attr('font-size', 12).attr('fill', '#222');
  let ly = 4;
  const right = legendWidth - 10;
  for (const group of spec.legend) {
    const valueWidth = Math.max(0, ...group.items.map((i) => (i.value ? approxWidth(i.value, 12) : 0)));
    if (group.title) {
      const titleLines = wrap(group.title, legendWidth - 12 - (group.valueTitle ? approxWidth(group.valueTitle, 12) + 8 : 0), 12);
      if (group.valueTitle) legend.append('text').attr('x', right).attr('y', ly + 9).attr('text-anchor', 'end').attr('font-weight', 'bold').text(group.valueTitle);
      for (const l of titleLines) {
        legend.append('text').attr('x', 0).attr('y', ly + 9).attr('font-weight', 'bold').text(l);
        ly += 16;
      }
      ly += 2;
    }
    for (const item of group.items) {
      const key = legend.append('g').attr('class', 'legend-key');
      if (!item.noLine) {
        const sw = key.append('line').attr('x1', 0).attr('x2', 30).attr('y1', ly + 5).attr('y2', ly + 5).attr('stroke', item.color).attr('stroke-width', item.width ?? 2.5);
        if (item.dash) sw.attr('stroke-dasharray', item.dash);
      }
      if (item.marker || item.shape || item.noLine) drawMarker(key, item.shape ?? 'circle', 15, ly + 5, item.color);
      if (item.value) legend.append('text').attr('x', right).attr('y', ly + 9).attr('text-anchor', 'end').text(item.value);
      const lines = wrap(item.label, right - 38 - (item.value ? valueWidth + 8 : 0), 12);
      lines.forEach((l, k) => legend.append('text').attr('x', 38).attr('y', ly + 9 + 15 * k).text(l));
      ly += 15 * lines.length + 6;
    }
    ly += 10;
  }
  // A legend longer than the plot makes the picture taller rather than running off its bottom.
  if (margin.top + ly > height) {
    height = Math.ceil(margin.top + ly + 8);
    svg.attr('height', height).attr('viewBox', `0 0 ${width} ${height}`);
    background.attr('height', height);
  }

  // jsdom serializes as HTML: a no-break space comes out as `&nbsp;`, which XML does not define.
  return `${d3n.svgString().replace(/&nbsp;/g, '&#160;')}\n`;
}
