// The pure half of core's XY chart (./xychart): a chart spec (axes, lines, points, histogram
// bars, guides, legend) laid out as plain marks in CSS pixels, nearest-point and bin lookup for
// hover, and the SVG file of the marks (every text through escapeXml). No DOM: node-tested.
import { scaleLinear, type ScaleLinear } from "d3-scale";

import { escapeXml } from "./export";
import { formatTick } from "./format";

/** The theme's colours; a mark colour "--ml-fg" (any "--" name) is looked up here. */
export interface Palette {
  fg: string;
  muted: string;
  border: string;
  bg: string;
  panel: string;
  accent: string;
  highlight: string;
}

export const LIGHT_PALETTE: Palette = {
  fg: "#212121",
  muted: "#616161",
  border: "#e0e0e0",
  bg: "#ffffff",
  panel: "#f5f5f5",
  accent: "#f57c00",
  highlight: "#1565c0",
};

/** The palette of the page's current theme (CSS variables of core/style.ts). */

export function resolveColor(color: string, palette: Palette): string {
  if (!color.startsWith("--ml-")) return color;
  return (palette as unknown as Record<string, string>)[color.slice(5)] ?? palette.fg;
}

export type Mark =
  | { type: "line"; x1: number; y1: number; x2: number; y2: number; stroke: string; width?: number; dash?: string }
  | {
      type: "path";
      d: string;
      stroke: string;
      width?: number;
      dash?: string;
      fill?: string;
      opacity?: number;
      clip?: boolean;
    }
  | {
      type: "rect";
      x: number;
      y: number;
      width: number;
      height: number;
      fill: string;
      opacity?: number;
      stroke?: string;
    }
  | { type: "circle"; cx: number; cy: number; r: number; fill: string; stroke?: string; width?: number; clip?: boolean }
  | {
      type: "text";
      x: number;
      y: number;
      text: string;
      color: string;
      size?: number;
      anchor?: "start" | "middle" | "end";
      rotate?: number;
      weight?: string;
    }
  | { type: "image"; x: number; y: number; width: number; height: number; href: string };

export interface Margin {
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export interface XYSeries {
  color: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>; // NaN in x or y: a gap
  mode: "line" | "points" | "hidden"; // hidden: hover only (drawn on the canvas layer)
  dash?: string;
  width?: number; // line width, or the point radius
  legend?: string; // an entry in the legend
  hoverable?: boolean; // found by hover (default true)
}

export interface XYBars {
  color: string;
  edges: ArrayLike<number>; // n + 1, ascending
  heights: ArrayLike<number>; // n; NaN: no bar
  base?: ArrayLike<number>; // stacked bars: the bottom of each bar (default 0)
  opacity?: number;
  outline?: boolean; // a stepped outline (a reference), not filled bars
  dash?: string;
  legend?: string;
}

export interface XYGuide {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  color?: string;
  dash?: string;
  width?: number;
}

export interface XYMarker {
  x: number;
  y: number;
  color: string;
  radius?: number;
}

export interface XYChartSpec {
  width: number;
  height: number;
  margin?: Partial<Margin>;
  xDomain: [number, number];
  yDomain: [number, number];
  xTitle?: string;
  yTitle?: string;
  /** Tick values with labels (categories), or about how many numeric ticks (default 5). */
  xTicks?: number | Array<{ value: number; label: string }>;
  yTicks?: number;
  nice?: boolean; // round the y domain out to nice ticks
  formatX?: (value: number) => string;
  formatY?: (value: number) => string;
  series?: XYSeries[];
  bars?: XYBars[];
  guides?: XYGuide[];
  markers?: XYMarker[];
  /** Legend entries that are no series (e.g. "dashed: run b"). */
  notes?: Array<{ color: string; label: string; dash?: string }>;
}

export interface ChartLayout {
  marks: Mark[];
  x: ScaleLinear<number, number>;
  y: ScaleLinear<number, number>;
  plot: { left: number; top: number; width: number; height: number };
}

const DEFAULT_MARGIN: Margin = { left: 52, right: 14, top: 10, bottom: 38 };
const LEGEND_ROW = 15;
const LEGEND_LABEL_CHARS = 40;

type LegendEntry = { color: string; label: string; dash?: string; swatch: "line" | "bar" | "dot" };

function legendEntries(spec: XYChartSpec): LegendEntry[] {
  return [
    ...(spec.series ?? [])
      .filter((s) => s.legend)
      .map((s): LegendEntry => ({
        color: s.color,
        label: s.legend!,
        dash: s.dash,
        swatch: s.mode === "points" ? "dot" : "line",
      })),
    ...(spec.bars ?? [])
      .filter((b) => b.legend)
      .map((b): LegendEntry => ({
        color: b.color,
        label: b.legend!,
        dash: b.dash,
        swatch: b.outline ? "line" : "bar",
      })),
    ...(spec.notes ?? []).map((n): LegendEntry => ({ ...n, swatch: "line" })),
  ];
}

/** `label` cut to at most `limit` characters (code points), "…" marking the cut. */
export function cutText(label: string, limit: number): string {
  const chars = Array.from(label);
  return chars.length > limit ? `${chars.slice(0, limit - 1).join("")}…` : label;
}

const cut = (label: string) => cutText(label, LEGEND_LABEL_CHARS);

/** The legend laid out in rows across `width`: where each entry goes. */
function legendLayout(
  entries: Array<{ label: string }>,
  left: number,
  width: number,
): { rows: number; at: Array<{ x: number; row: number }> } {
  let x = left;
  let row = 0;
  const at = entries.map((entry) => {
    const w = 26 + cut(entry.label).length * 6.2 + 12;
    if (x + w > left + width && x > left) {
      row += 1;
      x = left;
    }
    const place = { x, row };
    x += w;
    return place;
  });
  return { rows: entries.length ? row + 1 : 0, at };
}

/** A polyline through the points, broken at NaN; a point within half a pixel of the last drawn
 * one is skipped (2,000-point curves draw as a few hundred vertices, the same to the eye). */
export function linePath(
  xs: ArrayLike<number>,
  ys: ArrayLike<number>,
  x: (v: number) => number,
  y: (v: number) => number,
): string {
  const parts: string[] = [];
  const round = (v: number) => Math.round(v * 100) / 100;
  let pen = false;
  let lastX = 0;
  let lastY = 0;
  let pending = ""; // a skipped point: drawn when the run ends there
  for (let i = 0; i < xs.length; i++) {
    const a = xs[i];
    const b = ys[i];
    if (!Number.isFinite(a) || !Number.isFinite(b)) {
      if (pending) parts.push(pending);
      pending = "";
      pen = false;
      continue;
    }
    const px = x(a);
    const py = y(b);
    if (pen && Math.abs(px - lastX) < 0.5 && Math.abs(py - lastY) < 0.5) {
      pending = `L${round(px)},${round(py)}`;
      continue;
    }
    if (pending) parts.push(pending);
    pending = "";
    parts.push(`${pen ? "L" : "M"}${round(px)},${round(py)}`);
    pen = true;
    lastX = px;
    lastY = py;
  }
  if (pending) parts.push(pending);
  return parts.join("");
}

/** Every mark of the chart, in drawing order, in CSS pixels of the chart. */
export function layoutChart(spec: XYChartSpec, palette: Palette = LIGHT_PALETTE): ChartLayout {
  const margin = { ...DEFAULT_MARGIN, ...spec.margin };
  const color = (c: string) => resolveColor(c, palette);
  const entries = legendEntries(spec);
  const legend = legendLayout(entries, margin.left, spec.width - margin.left - margin.right);
  const top = margin.top + legend.rows * LEGEND_ROW;
  const plot = {
    left: margin.left,
    top,
    width: Math.max(20, spec.width - margin.left - margin.right),
    height: Math.max(20, spec.height - top - margin.bottom),
  };
  const domain = (d: [number, number]): [number, number] => (d[0] === d[1] ? [d[0] - 0.5, d[1] + 0.5] : d);
  const x = scaleLinear()
    .domain(domain(spec.xDomain))
    .range([plot.left, plot.left + plot.width]);
  const y = scaleLinear()
    .domain(domain(spec.yDomain))
    .range([plot.top + plot.height, plot.top]);
  if (spec.nice) y.nice(spec.yTicks ?? 5);
  const marks: Mark[] = [];
  const bottom = plot.top + plot.height;
  const right = plot.left + plot.width;
  const formatX = spec.formatX ?? formatTick;
  const formatY = spec.formatY ?? formatTick;
  // grid and tick labels
  for (const tick of y.ticks(spec.yTicks ?? 5)) {
    marks.push({ type: "line", x1: plot.left, x2: right, y1: y(tick), y2: y(tick), stroke: palette.border });
    marks.push({
      type: "text",
      x: plot.left - 5,
      y: y(tick) + 3.5,
      text: formatY(tick),
      color: palette.muted,
      anchor: "end",
    });
  }
  const xTicks =
    typeof spec.xTicks === "object"
      ? spec.xTicks
      : x.ticks(spec.xTicks ?? 5).map((value) => ({ value, label: formatX(value) }));
  for (const tick of xTicks) {
    const px = x(tick.value);
    if (typeof spec.xTicks !== "object") {
      marks.push({ type: "line", x1: px, x2: px, y1: plot.top, y2: bottom, stroke: palette.border });
    }
    marks.push({ type: "line", x1: px, x2: px, y1: bottom, y2: bottom + 4, stroke: palette.muted });
    marks.push({ type: "text", x: px, y: bottom + 15, text: tick.label, color: palette.muted, anchor: "middle" });
  }
  marks.push({
    type: "path",
    d: `M${plot.left},${plot.top}H${right}V${bottom}H${plot.left}Z`,
    stroke: palette.muted,
    fill: "none",
    width: 1,
  });
  if (spec.xTitle) {
    marks.push({
      type: "text",
      x: plot.left + plot.width / 2,
      y: bottom + 31,
      text: spec.xTitle,
      color: palette.fg,
      anchor: "middle",
      size: 11,
    });
  }
  if (spec.yTitle) {
    marks.push({
      type: "text",
      x: 12,
      y: plot.top + plot.height / 2,
      text: spec.yTitle,
      color: palette.fg,
      anchor: "middle",
      size: 11,
      rotate: -90,
    });
  }
  for (const bars of spec.bars ?? []) marks.push(...barMarks(bars, x, y, color(bars.color)));
  for (const guide of spec.guides ?? []) {
    marks.push({
      type: "path",
      d: `M${x(guide.x1).toFixed(2)},${y(guide.y1).toFixed(2)}L${x(guide.x2).toFixed(2)},${y(guide.y2).toFixed(2)}`,
      stroke: color(guide.color ?? palette.muted),
      width: guide.width ?? 1,
      dash: guide.dash ?? "4 3",
      fill: "none",
      clip: true,
    });
  }
  for (const series of spec.series ?? []) {
    const stroke = color(series.color);
    if (series.mode === "line") {
      marks.push({
        type: "path",
        d: linePath(series.x, series.y, x, y),
        stroke,
        width: series.width ?? 1.8,
        dash: series.dash,
        fill: "none",
        clip: true,
      });
    } else if (series.mode === "points") {
      for (let i = 0; i < series.x.length; i++) {
        if (!Number.isFinite(series.x[i]) || !Number.isFinite(series.y[i])) continue;
        marks.push({
          type: "circle",
          cx: x(series.x[i]),
          cy: y(series.y[i]),
          r: series.width ?? 3,
          fill: series.dash ? "none" : stroke,
          stroke,
          width: 1,
          clip: true,
        });
      }
    }
  }
  for (const marker of spec.markers ?? []) {
    if (!Number.isFinite(marker.x) || !Number.isFinite(marker.y)) continue;
    marks.push({
      type: "circle",
      cx: x(marker.x),
      cy: y(marker.y),
      r: marker.radius ?? 5,
      fill: color(marker.color),
      stroke: palette.bg,
      width: 1.5,
    });
  }
  entries.forEach((entry, k) => {
    const { x: lx, row } = legend.at[k];
    const ly = margin.top + row * LEGEND_ROW + 8;
    const c = color(entry.color);
    if (entry.swatch === "bar")
      marks.push({ type: "rect", x: lx, y: ly - 5, width: 18, height: 9, fill: c, opacity: 0.75 });
    else if (entry.swatch === "dot") marks.push({ type: "circle", cx: lx + 9, cy: ly, r: 3.2, fill: c });
    else marks.push({ type: "line", x1: lx, x2: lx + 18, y1: ly, y2: ly, stroke: c, width: 2.2, dash: entry.dash });
    marks.push({ type: "text", x: lx + 23, y: ly + 3.5, text: cut(entry.label), color: palette.fg });
  });
  return { marks, x, y, plot };
}

function barMarks(bars: XYBars, x: ScaleLinear<number, number>, y: ScaleLinear<number, number>, color: string): Mark[] {
  const n = bars.heights.length;
  const base = (i: number) => bars.base?.[i] ?? 0;
  if (bars.outline) {
    // a stepped outline over the bins, dropping to the base around gaps
    const parts: string[] = [];
    let open = false;
    for (let i = 0; i < n; i++) {
      const h = bars.heights[i];
      const x0 = x(bars.edges[i]).toFixed(2);
      const x1 = x(bars.edges[i + 1]).toFixed(2);
      if (!Number.isFinite(h)) {
        if (open) parts.push(`V${y(base(i - 1)).toFixed(2)}`);
        open = false;
        continue;
      }
      const top = y(base(i) + h).toFixed(2);
      parts.push(open ? `V${top}H${x1}` : `M${x0},${y(base(i)).toFixed(2)}V${top}H${x1}`);
      open = true;
    }
    if (open) parts.push(`V${y(base(n - 1)).toFixed(2)}`);
    return [{ type: "path", d: parts.join(""), stroke: color, width: 1.8, dash: bars.dash, fill: "none", clip: true }];
  }
  const marks: Mark[] = [];
  for (let i = 0; i < n; i++) {
    const h = bars.heights[i];
    if (!Number.isFinite(h) || h === 0) continue;
    const x0 = x(bars.edges[i]);
    const x1 = x(bars.edges[i + 1]);
    const y0 = y(base(i));
    const y1 = y(base(i) + h);
    marks.push({
      type: "rect",
      x: Math.min(x0, x1),
      y: Math.min(y0, y1),
      width: Math.max(0.5, Math.abs(x1 - x0) - 0.6),
      height: Math.abs(y0 - y1),
      fill: color,
      opacity: bars.opacity ?? 0.8,
    });
  }
  return marks;
}

export interface PointHit {
  series: number;
  index: number;
  distance: number; // CSS pixels
}

/** The hoverable point nearest to (px, py) within `maxDistance` pixels, or null. */
export function nearestPoint(
  series: XYSeries[],
  x: (v: number) => number,
  y: (v: number) => number,
  px: number,
  py: number,
  maxDistance = 24,
): PointHit | null {
  let best: PointHit | null = null;
  let bestSquared = maxDistance * maxDistance;
  series.forEach((s, k) => {
    if (s.hoverable === false) return;
    for (let i = 0; i < s.x.length; i++) {
      const a = s.x[i];
      const b = s.y[i];
      if (!Number.isFinite(a) || !Number.isFinite(b)) continue;
      const dx = x(a) - px;
      const dy = y(b) - py;
      const d = dx * dx + dy * dy;
      if (d < bestSquared) {
        bestSquared = d;
        best = { series: k, index: i, distance: Math.sqrt(d) };
      }
    }
  });
  return best;
}

/** The bin of `value` among ascending `edges` (the last bin includes its upper edge), or -1. */
export function binIndex(edges: ArrayLike<number>, value: number): number {
  const n = edges.length - 1;
  if (n < 1 || !(value >= edges[0]) || !(value <= edges[n])) return -1;
  let lo = 0;
  let hi = n; // edges[lo] <= value < edges[hi]
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (edges[mid] <= value) lo = mid;
    else hi = mid;
  }
  return lo;
}

const num = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(2));

export function markAttributes(mark: Mark): Record<string, string | number> {
  switch (mark.type) {
    case "line":
      return {
        x1: num(mark.x1),
        y1: num(mark.y1),
        x2: num(mark.x2),
        y2: num(mark.y2),
        stroke: mark.stroke,
        "stroke-width": mark.width ?? 1,
        ...(mark.dash ? { "stroke-dasharray": mark.dash } : {}),
      };
    case "path":
      return {
        d: mark.d,
        stroke: mark.stroke,
        "stroke-width": mark.width ?? 1,
        fill: mark.fill ?? "none",
        ...(mark.dash ? { "stroke-dasharray": mark.dash } : {}),
        ...(mark.opacity !== undefined ? { "fill-opacity": mark.opacity } : {}),
        "stroke-linejoin": "round",
      };
    case "rect":
      return {
        x: num(mark.x),
        y: num(mark.y),
        width: num(mark.width),
        height: num(mark.height),
        fill: mark.fill,
        ...(mark.opacity !== undefined ? { "fill-opacity": mark.opacity } : {}),
        ...(mark.stroke ? { stroke: mark.stroke } : {}),
      };
    case "circle":
      return {
        cx: num(mark.cx),
        cy: num(mark.cy),
        r: mark.r,
        fill: mark.fill,
        ...(mark.stroke ? { stroke: mark.stroke, "stroke-width": mark.width ?? 1 } : {}),
      };
    case "text":
      return {
        x: num(mark.x),
        y: num(mark.y),
        fill: mark.color,
        "font-size": mark.size ?? 10,
        "text-anchor": mark.anchor ?? "start",
        ...(mark.rotate ? { transform: `rotate(${mark.rotate} ${num(mark.x)} ${num(mark.y)})` } : {}),
        ...(mark.weight ? { "font-weight": mark.weight } : {}),
      };
    case "image":
      return {
        x: num(mark.x),
        y: num(mark.y),
        width: num(mark.width),
        height: num(mark.height),
        preserveAspectRatio: "none",
        href: mark.href,
      };
  }
}

function clipRect(layout: ChartLayout): string {
  const { left, top, width, height } = layout.plot;
  return `<rect x="${left}" y="${top}" width="${width}" height="${height}"/>`;
}

/** The chart as an SVG file: every text through escapeXml; `raster` (a PNG data URL) under the marks. */
export function chartSvg(
  layout: ChartLayout,
  width: number,
  height: number,
  title: string,
  palette: Palette = LIGHT_PALETTE,
  raster?: string,
): string {
  const attrs = (values: Record<string, string | number>) =>
    Object.entries(values)
      .map(([k, v]) => `${k}="${escapeXml(String(v))}"`)
      .join(" ");
  const titleHeight = 18;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height + titleHeight}" viewBox="0 0 ${width} ${height + titleHeight}" font-family="sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<defs><clipPath id="plot">${clipRect(layout)}</clipPath></defs>`,
    `<rect x="0" y="0" width="${width}" height="${height + titleHeight}" fill="${escapeXml(palette.bg)}"/>`,
    `<text x="6" y="13" font-size="12" fill="${escapeXml(palette.fg)}">${escapeXml(title)}</text>`,
    `<g transform="translate(0,${titleHeight})">`,
  ];
  if (raster) {
    // the canvas lies under every mark in the page: so does its image here
    const { left, top, width: w, height: h } = layout.plot;
    parts.push(
      `<image ${attrs({ x: left, y: top, width: w, height: h, preserveAspectRatio: "none", href: raster })}/>`,
    );
  }
  for (const mark of layout.marks) {
    const clip = "clip" in mark && mark.clip ? ' clip-path="url(#plot)"' : "";
    if (mark.type === "text") parts.push(`<text ${attrs(markAttributes(mark))}>${escapeXml(mark.text)}</text>`);
    else parts.push(`<${mark.type} ${attrs(markAttributes(mark))}${clip}/>`);
  }
  parts.push("</g>", "</svg>");
  return parts.join("\n");
}
