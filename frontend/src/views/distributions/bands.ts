// A tensor's distribution over steps (uPlot, canvas): percentile bands p1–p99, p5–p95 and
// p25–p75, the median, and the exact min and max as thin lines; optionally a second run's median
// and p5/p95 overlaid. A dashed marker shows the selected step; a click picks a step.
import uPlot from "uplot";
import uplotCss from "uplot/dist/uPlot.min.css";

import { el } from "../../core/dom";
import { cssVar } from "../../core/theme";
import { Tooltip } from "../../core/tooltip";
import { formatNumber, formatTick, PERCENTILE_KEYS, type Bands } from "./shape";

let cssInstalled = false;
function installCss(): void {
  if (cssInstalled) return;
  cssInstalled = true;
  const style = document.createElement("style");
  style.textContent = uplotCss;
  document.head.appendChild(style);
}

const BAND = "#1976d2";
const COMPARE = "#ef6c00";
const TRANSPARENT = "rgba(0,0,0,0)";
const AXIS_FONT = '12px system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';
const TICK_SIZE = 10; // uPlot's defaults
const TICK_GAP = 5;

let measurer: CanvasRenderingContext2D | null = null;

/** The y axis's width in CSS pixels: its longest tick label, the ticks, the gap and a margin. */
function yAxisSize(_u: uPlot, values: string[] | null): number {
  if (!values?.length) return 64; // the first layout pass, before any tick is formatted
  measurer ??= document.createElement("canvas").getContext("2d");
  if (!measurer) return 80;
  measurer.font = AXIS_FONT;
  const widest = Math.max(...values.map((v) => measurer?.measureText(v ?? "").width ?? 0));
  return Math.ceil(widest + TICK_SIZE + TICK_GAP + 4);
}

/** A y tick label: `formatTick`'s, with "1.0e6" shortened to "1e6" (so "1e-9", "2.5e19"). */
function yTick(value: number | null): string {
  return value === null ? "" : formatTick(value).replace(/\.0(?=e)/, "");
}

const SIGNED_LOG_SPACE = 24; // CSS pixels between two labels of the signed-log axis, at least

/**
 * The signed-log axis's ticks: 0 and the powers of ten of either sign within the range, thinned
 * from the outermost inwards so that labels keep their distance (uPlot's own asinh ticks subdivide
 * every decade, thousands of lines across the 30 decades of a diverging run).
 */
function signedLogSplits(u: uPlot, _axis: number, min: number, max: number): number[] {
  const threshold = u.scales.y.asinh ?? 1;
  const position = (v: number) => u.valToPos(v, "y");
  const zero = min <= 0 && max >= 0 ? [0] : [];
  const side = (sign: 1 | -1, limit: number): number[] => {
    const kept: number[] = [];
    if (limit <= 0) return kept;
    const lowest = Math.floor(Math.log10(threshold));
    for (let k = Math.floor(Math.log10(limit)); k >= lowest; k--) {
      const value = sign * Number(`1e${k}`); // exact powers of ten, not 10 ** k
      if (value < min || value > max) continue;
      const at = position(value);
      const near = (other: number) => Math.abs(position(other) - at) < SIGNED_LOG_SPACE;
      if (!kept.some(near) && !zero.some(near)) kept.push(value);
    }
    return kept;
  };
  return [...side(-1, -min), ...zero, ...side(1, max)].sort((a, b) => a - b);
}

/** The signed-log scale's linear range: a tenth of the typical interquartile spread. */
function linearThreshold(b: Bands): number {
  const spreads: number[] = [];
  b.steps.forEach((_, i) => {
    const hi = b.percentiles["75"][i];
    const lo = b.percentiles["25"][i];
    if (hi !== null && lo !== null && hi > lo) spreads.push(hi - lo);
  });
  spreads.sort((x, y) => x - y);
  return (spreads[Math.floor(spreads.length / 2)] ?? 1) / 10 || 1e-6;
}

export class BandChart {
  readonly element: HTMLElement;
  private plot: uPlot | null = null;
  private host = el("div", { className: "ml-band-host" });
  private tooltip = new Tooltip(() => this.element);
  private steps: number[] = [];
  private current: number | null = null;
  private lastArgs: [Bands, Bands | null, string, number, boolean] | null = null;

  constructor(
    label: string,
    private readonly onPick: (step: number) => void,
  ) {
    installCss();
    this.element = el("div", { className: "ml-band", attrs: { role: "img", "aria-label": label } }, [
      this.host,
      this.tooltip.element,
    ]);
  }

  /** Draws `primary` (and `compare`, already aligned to the same steps) at `width` CSS pixels. */
  update(primary: Bands, compare: Bands | null, compareLabel: string, width: number, signedLog = false): void {
    this.lastArgs = [primary, compare, compareLabel, width, signedLog];
    this.steps = primary.steps;
    const p = primary.percentiles;
    const data: uPlot.AlignedData = [
      primary.steps,
      ...PERCENTILE_KEYS.map((k) => p[k]),
      primary.min,
      primary.max,
      ...(compare ? [compare.percentiles["5"], compare.percentiles["50"], compare.percentiles["95"]] : []),
    ] as uPlot.AlignedData;
    const muted = cssVar("--ml-muted") || "#666";
    const border = cssVar("--ml-border") || "#ddd";
    const fg = cssVar("--ml-fg") || "#222";
    const line = (label: string, stroke: string, extra: Partial<uPlot.Series> = {}): uPlot.Series => ({
      label,
      stroke,
      width: 1,
      spanGaps: true,
      points: { show: primary.steps.length === 1 },
      ...extra,
    });
    const series: uPlot.Series[] = [
      { label: "step" },
      ...PERCENTILE_KEYS.map((k) =>
        k === "50" ? line("median", BAND, { width: 2 }) : line(`p${k}`, TRANSPARENT, { points: { show: false } }),
      ),
      line("min", muted, { dash: [4, 3] }),
      line("max", muted, { dash: [4, 3] }),
    ];
    if (compare) {
      series.push(
        line(`${compareLabel} p5`, COMPARE, { dash: [2, 3] }),
        line(`${compareLabel} median`, COMPARE, { width: 2 }),
        line(`${compareLabel} p95`, COMPARE, { dash: [2, 3] }),
      );
    }
    const options: uPlot.Options = {
      width,
      height: 220,
      scales: { x: { time: false }, y: signedLog ? { distr: 4, asinh: linearThreshold(primary) } : {} },
      series,
      bands: [
        { series: [7, 1], fill: "rgba(25,118,210,0.12)" },
        { series: [6, 2], fill: "rgba(25,118,210,0.18)" },
        { series: [5, 3], fill: "rgba(25,118,210,0.28)" },
      ],
      legend: { show: false },
      cursor: { drag: { x: true, y: false }, points: { show: false } },
      axes: [
        { stroke: muted, font: AXIS_FONT, grid: { stroke: border, width: 1 }, ticks: { stroke: border } },
        {
          stroke: muted,
          font: AXIS_FONT,
          grid: { stroke: border, width: 1 },
          ticks: { stroke: border, size: TICK_SIZE },
          gap: TICK_GAP,
          size: yAxisSize, // wide enough for the longest label, whatever the magnitude
          values: (_u, splits) => splits.map(yTick),
          ...(signedLog ? { splits: signedLogSplits, filter: (_u: uPlot, splits: number[]) => splits } : {}),
        },
      ],
      hooks: {
        draw: [(u) => this.drawMarker(u, fg)],
        setCursor: [(u) => this.hover(u, compareLabel, compare !== null)],
      },
    };
    this.plot?.destroy();
    this.plot = new uPlot(options, data, this.host);
    this.plot.over.addEventListener("click", () => {
      const idx = this.plot?.cursor.idx;
      if (idx !== null && idx !== undefined && this.steps[idx] !== undefined) this.onPick(this.steps[idx]);
    });
    this.plot.over.addEventListener("mouseleave", () => this.tooltip.hide());
  }

  /** Rebuilds with the current colours (after a theme change). */
  redraw(): void {
    if (this.lastArgs) this.update(...this.lastArgs);
  }

  setStep(step: number | null): void {
    this.current = step;
    this.plot?.redraw(false, false);
  }

  private drawMarker(u: uPlot, color: string): void {
    if (this.current === null) return;
    const x = u.valToPos(this.current, "x", true);
    if (!Number.isFinite(x)) return;
    const context = u.ctx;
    context.save();
    context.strokeStyle = color;
    context.setLineDash([3, 3]);
    context.lineWidth = window.devicePixelRatio || 1;
    context.beginPath();
    context.moveTo(x, u.bbox.top);
    context.lineTo(x, u.bbox.top + u.bbox.height);
    context.stroke();
    context.restore();
  }

  private hover(u: uPlot, compareLabel: string, compared: boolean): void {
    const idx = u.cursor.idx;
    if (idx === null || idx === undefined || u.cursor.left === undefined || u.cursor.left < 0) {
      this.tooltip.hide();
      return;
    }
    const v = (series: number) => formatNumber((u.data[series]?.[idx] as number | null | undefined) ?? null);
    const lines = [
      `step ${u.data[0][idx]}`,
      `max ${v(9)}`,
      `p99 ${v(7)} · p95 ${v(6)} · p75 ${v(5)}`,
      `median ${v(4)}`,
      `p25 ${v(3)} · p5 ${v(2)} · p1 ${v(1)}`,
      `min ${v(8)}`,
    ];
    if (compared) lines.push(`${compareLabel}: median ${v(11)} (p5 ${v(10)}, p95 ${v(12)})`);
    const box = this.host.getBoundingClientRect();
    const outer = this.element.getBoundingClientRect();
    this.tooltip.show(
      lines,
      u.cursor.left + u.bbox.left / (window.devicePixelRatio || 1) + box.left - outer.left,
      (u.cursor.top ?? 0) + 20,
      280,
    );
  }
}
