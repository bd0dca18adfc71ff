/**
 * What a reader sees in a figure, checked in a real browser (Debian's Chromium, headless):
 *   - measureSvgs: one --dump-dom of a page that inlines the SVGs and measures them with the
 *     browser's own layout (text boxes, axis ticks, legend keys, plot-area marks);
 *   - screenshot + decodePng: the pixels, to see whether each legend series shows in the plot;
 *   - figureProblems / blankImage: the checks, each returning what is wrong in words.
 * Nothing here knows how the figures were drawn beyond d3's axis markup (g.tick, path.domain),
 * so the same checks run on the figures as they were before issue #26 (the control).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';

export function findChromium(): string | undefined {
  if (process.env.CHROMIUM && existsSync(process.env.CHROMIUM)) return process.env.CHROMIUM;
  for (const c of ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']) if (existsSync(c)) return c;
  return undefined;
}

function chromium(chrome: string, args: string[]): string {
  const profile = mkdtempSync(join(tmpdir(), 'llm-auction-chromium-'));
  try {
    const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars', '--force-device-scale-factor=1', `--user-data-dir=${profile}`];
    const r = spawnSync(chrome, [...flags, ...args], { encoding: 'utf8', timeout: 60_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.status !== 0 && !r.stdout) throw new Error(`chromium ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}

/** An SVG file's own width and height attributes. */
export function svgSize(svg: string): [number, number] {
  const w = /<svg[^>]*\swidth="(\d+)"/.exec(svg);
  const h = /<svg[^>]*\sheight="(\d+)"/.exec(svg);
  return [Number(w?.[1] ?? 720), Number(h?.[1] ?? 440)];
}

export function screenshot(chrome: string, file: string, out: string, width: number, height: number): void {
  chromium(chrome, [`--screenshot=${out}`, `--window-size=${width},${height}`, `file://${file}`]);
  if (!existsSync(out)) throw new Error(`chromium wrote no ${out}`);
}

export interface Image {
  width: number;
  height: number;
  /** RGBA, 4 bytes a pixel. */
  data: Uint8Array;
}

/** A minimal PNG reader: 8-bit RGB or RGBA, not interlaced (what Chromium writes). */
export function decodePng(buf: Buffer): Image {
  if (buf.subarray(1, 4).toString('latin1') !== 'PNG') throw new Error('not a PNG');
  let off = 8;
  let width = 0;
  let height = 0;
  let channels = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString('latin1');
    const body = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, color, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      if (depth !== 8 || (color !== 2 && color !== 6) || interlace !== 0) throw new Error(`unsupported PNG (depth ${depth}, colour type ${color}, interlace ${interlace})`);
      channels = color === 6 ? 4 : 3;
    } else if (type === 'IDAT') idat.push(body);
    else if (type === 'IEND') break;
    off += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const px = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? px[y * stride + i - channels]! : 0;
      const b = y > 0 ? px[(y - 1) * stride + i]! : 0;
      const c = y > 0 && i >= channels ? px[(y - 1) * stride + i - channels]! : 0;
      const p = a + b - c;
      const pred = filter === 0 ? 0 : filter === 1 ? a : filter === 2 ? b : filter === 3 ? (a + b) >> 1 : Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      px[y * stride + i] = (src[i]! + pred) & 255;
    }
  }
  const data = new Uint8Array(width * height * 4);
  for (let k = 0; k < width * height; k++) {
    for (let ch = 0; ch < 3; ch++) data[4 * k + ch] = px[k * channels + ch]!;
    data[4 * k + 3] = channels === 4 ? px[k * channels + 3]! : 255;
  }
  return { width, height, data };
}

/** An image with (almost) nothing on it: fewer than 0.2% of its pixels differ from its commonest colour. */
export function blankImage(img: Image): boolean {
  const counts = new Map<number, number>();
  for (let k = 0; k < img.width * img.height; k++) {
    const key = (img.data[4 * k]! << 16) | (img.data[4 * k + 1]! << 8) | img.data[4 * k + 2]!;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const top = Math.max(...counts.values());
  return img.width * img.height - top < 0.002 * img.width * img.height;
}

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}
export interface Measured {
  name: string;
  /** Where the SVG sits on the measuring page (and in its screenshot). */
  top: number;
  left: number;
  width: number;
  height: number;
  texts: { text: string; box: Box }[];
  axes: { orient: 'x' | 'y'; domain: Box; ticks: { label: string; at: number }[] }[];
  legend: Box | null;
  /** One entry per legend row that has a key (line and/or marker). */
  legendKeys: { label: string; signature: string; color: string; box: Box }[];
  /** Markers and error bars drawn in the plot (not in the legend, not the axes). */
  plotMarks: { tag: string; box: Box }[];
  /** Colours used by what is drawn in the plot. */
  plotColors: string[];
}

/** In the browser: measure every SVG on the page (runs inside Chromium, written as plain ES5-ish JS). */
const MEASURE = String.raw`
(function () {
  var out = [];
  function box(el, base) { var r = el.getBoundingClientRect(); return { x: r.left - base.left, y: r.top - base.top, w: r.width, h: r.height }; }
  function color(el) {
    var c = (el.getAttribute('stroke') && el.tagName === 'line') ? el.getAttribute('stroke') : (el.getAttribute('fill') || el.getAttribute('stroke'));
    var p = el.parentNode;
    while ((!c || c === 'none') && p && p.getAttribute) { c = p.getAttribute('fill') !== 'none' && p.getAttribute('fill') || p.getAttribute('stroke'); p = p.parentNode; }
    return (c || '').toLowerCase();
  }
  document.querySelectorAll('div.fig').forEach(function (div) {
    var svg = div.querySelector('svg');
    var base = svg.getBoundingClientRect();
    var m = { name: div.getAttribute('data-name'), top: base.top + window.scrollY, left: base.left, width: base.width, height: base.height, texts: [], axes: [], legend: null, legendKeys: [], plotMarks: [], plotColors: [] };
    svg.querySelectorAll('text').forEach(function (t) { if (t.textContent.trim()) m.texts.push({ text: t.textContent, box: box(t, base) }); });
    var axisGroups = Array.prototype.filter.call(svg.querySelectorAll('g'), function (g) { return g.querySelector(':scope > path.domain') && g.querySelector(':scope > g.tick'); });
    axisGroups.forEach(function (g) {
      var d = box(g.querySelector(':scope > path.domain'), base);
      var orient = d.w >= d.h ? 'x' : 'y';
      var ticks = Array.prototype.map.call(g.querySelectorAll(':scope > g.tick'), function (t) {
        var b = box(t.querySelector('line'), base);
        return { label: t.querySelector('text').textContent, at: orient === 'x' ? b.x + b.w / 2 : b.y + b.h / 2 };
      });
      m.axes.push({ orient: orient, domain: d, ticks: ticks });
    });
    var legend = svg.querySelector('g.legend') || Array.prototype.filter.call(svg.children, function (g) { return g.tagName === 'g' && g.getAttribute('font-size') === '12' && g.querySelector('text'); }).pop();
    if (legend) {
      m.legend = box(legend, base);
      var rows = [];
      legend.querySelectorAll('line, circle, rect, path').forEach(function (el) {
        var b = box(el, base);
        var cy = b.y + b.h / 2;
        var row = rows.filter(function (r) { return Math.abs(r.cy - cy) < 4; })[0];
        if (!row) { row = { cy: cy, parts: [], box: b, color: color(el) }; rows.push(row); }
        row.parts.push(el.tagName + ':' + color(el) + ':' + (el.getAttribute('stroke-dasharray') || '') + ':' + (el.getAttribute('stroke-width') || '') + ':' + (el.getAttribute('d') ? el.getAttribute('d').replace(/[-0-9.]+/g, '#') : ''));
      });
      var texts = Array.prototype.map.call(legend.querySelectorAll('text'), function (t) { var b = box(t, base); return { t: t.textContent, cy: b.y + b.h / 2, x: b.x }; });
      rows.forEach(function (r) {
        var same = texts.filter(function (t) { return Math.abs(t.cy - r.cy) < 8 && t.x > r.box.x + r.box.w; }).sort(function (a, b) { return a.x - b.x; });
        m.legendKeys.push({ label: same.length ? same[0].t : '', signature: r.parts.sort().join('|'), color: r.color, box: r.box });
      });
    }
    var inLegend = function (el) { return legend && legend.contains(el); };
    var inAxis = function (el) { return axisGroups.some(function (g) { return g.contains(el); }); };
    svg.querySelectorAll('circle, rect.marker, path.marker, g.error-bars path').forEach(function (el) {
      if (!inLegend(el) && !inAxis(el)) m.plotMarks.push({ tag: el.tagName, box: box(el, base) });
    });
    var colors = {};
    svg.querySelectorAll('path, circle, rect.marker, line').forEach(function (el) {
      if (inLegend(el) || inAxis(el) || el.parentNode === svg) return;
      var c = color(el);
      if (c && c !== 'none' && c !== '#fff' && c !== '#ffffff' && c !== '#e5e5e5') colors[c] = 1;
    });
    m.plotColors = Object.keys(colors);
    out.push(m);
  });
  var pre = document.createElement('pre');
  pre.id = 'measured';
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
`;

/**
 * Inline every SVG in one page, let Chromium measure them (--dump-dom) and photograph the page
 * (--screenshot): two browser starts for any number of figures. Each figure's pixels are then
 * `crop(image, measured)`.
 */
export function renderSvgs(chrome: string, svgs: { name: string; svg: string }[]): { measured: Measured[]; image: Image } {
  const dir = mkdtempSync(join(tmpdir(), 'llm-auction-measure-'));
  try {
    const gap = 20;
    const sizes = svgs.map((s) => svgSize(s.svg));
    const width = Math.max(...sizes.map(([w]) => w));
    const height = sizes.reduce((t, [, h]) => t + h + gap, 0);
    const body = svgs.map((s) => `<div class="fig" data-name="${s.name}" style="margin:0 0 ${gap}px">${s.svg.replace(/^<\?xml[^>]*>/, '')}</div>`).join('\n');
    const page = (script: string) =>
      `<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{margin:0;background:#fff}svg{display:block}</style></head><body>\n${body}\n${script}</body></html>`;
    writeFileSync(join(dir, 'measure.html'), page(`<script>${MEASURE}</script>`));
    writeFileSync(join(dir, 'show.html'), page(''));
    const dom = chromium(chrome, ['--dump-dom', `file://${join(dir, 'measure.html')}`]);
    const m = /<pre id="measured">([\s\S]*?)<\/pre>/.exec(dom);
    if (!m) throw new Error('the measuring page printed nothing');
    const json = m[1]!.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');
    screenshot(chrome, join(dir, 'show.html'), join(dir, 'show.png'), width, height);
    return { measured: JSON.parse(json) as Measured[], image: readPng(join(dir, 'show.png')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The part of the page's screenshot that shows one figure. */
export function crop(img: Image, m: Measured): Image {
  const [x0, y0] = [Math.round(m.left), Math.round(m.top)];
  const w = Math.min(Math.round(m.width), img.width - x0);
  const h = Math.min(Math.round(m.height), img.height - y0);
  const data = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++) data.set(img.data.subarray(4 * ((y0 + y) * img.width + x0), 4 * ((y0 + y) * img.width + x0 + w)), 4 * y * w);
  return { width: w, height: h, data };
}

const overlapArea = (a: Box, b: Box) => Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));

const hex = (c: string): [number, number, number] | null => {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/.exec(c);
  if (!m) return null;
  const h = m[1]!.length === 3 ? [...m[1]!].map((d) => d + d).join('') : m[1]!;
  return [0, 2, 4].map((k) => parseInt(h.slice(k, k + 2), 16)) as [number, number, number];
};

/** Pixels of the image within `box` (minus `except`) that are within `tol` of the colour. */
export function pixelsOfColor(img: Image, color: string, box: Box, except: Box | null, tol = 40): number {
  const rgb = hex(color);
  if (!rgb) return 0;
  let n = 0;
  for (let y = Math.max(0, Math.floor(box.y)); y < Math.min(img.height, Math.ceil(box.y + box.h)); y++) {
    for (let x = Math.max(0, Math.floor(box.x)); x < Math.min(img.width, Math.ceil(box.x + box.w)); x++) {
      if (except && x >= except.x && x <= except.x + except.w && y >= except.y && y <= except.y + except.h) continue;
      const k = 4 * (y * img.width + x);
      if (Math.hypot(img.data[k]! - rgb[0], img.data[k + 1]! - rgb[1], img.data[k + 2]! - rgb[2]) <= tol) n++;
    }
  }
  return n;
}

/**
 * Everything a reader would trip over in one figure, in words (empty: nothing found):
 * tick labels not distinct, not numbers, not in order or not evenly spaced for evenly spaced
 * values, or outside the axis; text on top of other text or outside the picture; a marker or
 * interval cut by the plot border; two legend keys that look the same; a legend series whose
 * colour shows nowhere in the plot (the image, when given, decides that).
 */
export function figureProblems(m: Measured, img?: Image): string[] {
  const out: string[] = [];
  const plot: Box | null = (() => {
    const x = m.axes.find((a) => a.orient === 'x');
    const y = m.axes.find((a) => a.orient === 'y');
    return x && y ? { x: x.domain.x, y: y.domain.y, w: x.domain.w, h: y.domain.h } : null;
  })();
  if (!plot) out.push(`${m.name}: no x and y axis found`);
  for (const a of m.axes) {
    const labels = a.ticks.map((t) => t.label);
    if (new Set(labels).size !== labels.length) out.push(`${m.name}: ${a.orient} tick labels repeat: ${labels.join(' ')}`);
    const values = labels.map((l) => Number(l.replace('−', '-')));
    if (values.some((v) => !Number.isFinite(v))) out.push(`${m.name}: ${a.orient} tick labels are not numbers: ${labels.join(' ')}`);
    const lo = a.orient === 'x' ? a.domain.x : a.domain.y;
    const len = a.orient === 'x' ? a.domain.w : a.domain.h;
    for (const t of a.ticks) if (t.at < lo - 1 || t.at > lo + len + 1) out.push(`${m.name}: ${a.orient} tick ${t.label} lies outside its axis`);
    // The labels must be a linear function of the tick positions (that is what an axis says).
    if (values.length >= 3 && values.every(Number.isFinite)) {
      const [p0, p1] = [a.ticks[0]!.at, a.ticks[a.ticks.length - 1]!.at];
      const [v0, v1] = [values[0]!, values[values.length - 1]!];
      const slope = (v1 - v0) / (p1 - p0);
      const spread = Math.abs(v1 - v0) || 1;
      const off = a.ticks.map((t, k) => Math.abs(v0 + slope * (t.at - p0) - values[k]!) / spread);
      if (Math.max(...off) > 0.02 || (a.orient === 'x' ? slope <= 0 : slope >= 0)) out.push(`${m.name}: ${a.orient} tick labels do not match their positions: ${labels.join(' ')}`);
    }
  }
  for (let i = 0; i < m.texts.length; i++) {
    const a = m.texts[i]!;
    if (a.box.x < -0.5 || a.box.y < -0.5 || a.box.x + a.box.w > m.width + 0.5 || a.box.y + a.box.h > m.height + 0.5) out.push(`${m.name}: text "${a.text}" runs outside the picture`);
    for (let j = i + 1; j < m.texts.length; j++) {
      const b = m.texts[j]!;
      if (overlapArea(a.box, b.box) > 2) out.push(`${m.name}: text "${a.text}" overlaps "${b.text}"`);
    }
  }
  if (plot) {
    for (const mk of m.plotMarks) {
      const b = mk.box;
      if (b.x < plot.x - 0.5 || b.y < plot.y - 0.5 || b.x + b.w > plot.x + plot.w + 0.5 || b.y + b.h > plot.y + plot.h + 0.5) out.push(`${m.name}: a ${mk.tag} at (${b.x.toFixed(0)}, ${b.y.toFixed(0)}) is cut by the plot border`);
    }
  }
  const seen = new Map<string, string>();
  for (const k of m.legendKeys) {
    const other = seen.get(k.signature);
    if (other !== undefined) out.push(`${m.name}: legend keys "${other}" and "${k.label}" look the same`);
    else seen.set(k.signature, k.label);
  }
  if (img && plot) {
    for (const k of m.legendKeys) {
      // A key whose colour no plotted element uses is a style key (e.g. "dashed: trend"): nothing to find.
      if (!m.plotColors.includes(k.color)) continue;
      const n = pixelsOfColor(img, k.color, plot, m.legend);
      if (n < 12) out.push(`${m.name}: legend series "${k.label}" (${k.color}) shows nowhere in the plot (${n} pixels of its colour)`);
    }
  }
  return out;
}

export const readPng = (file: string): Image => decodePng(readFileSync(file));
