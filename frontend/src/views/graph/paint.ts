// "Colour by": a fill and a text colour per node, and the legend that explains them. Types are
// categorical; parameter counts, gradient norms and update ratios sequential on a log scale;
// NaN/Inf by the step where it first appeared (the earliest darkest, and outlined). Never-called
// modules are greyed whatever the mode. Pure: theme colours come in as strings.
import {
  CATEGORY_COLORS,
  colorScale,
  cssColor,
  mixColors,
  textColorOn,
  type ColorMap,
  type ColorScale,
} from "../../core/colors";
import type { Swatch } from "../../core/legend";
import { INPUT, MODULE, OUTPUT, formatCount, neverRan, nodeType, totalParams, type GraphModel } from "./wire";

export type ColorBy = "type" | "params" | "grad_norm" | "update_ratio" | "nonfinite";

export const COLOR_BY_LABELS: Record<ColorBy, string> = {
  type: "type",
  params: "parameter count",
  grad_norm: "gradient norm",
  update_ratio: "update ratio",
  nonfinite: "NaN/Inf",
};

export interface Theme {
  bg: string;
  fg: string;
  muted: string;
  panel: string;
  border: string;
}

export type LegendSpec =
  | {
      kind: "scale";
      title: string;
      map: ColorMap;
      scale: ColorScale;
      format: (v: number) => string;
      swatches: Swatch[];
    }
  | { kind: "categories"; title: string; items: Swatch[] };

export interface Paint {
  mode: ColorBy;
  fill: string[]; // per display node
  text: string[];
  greyed: Uint8Array; // never called
  emphasis: Uint8Array; // outlined: where NaN/Inf first appeared
  legend: LegendSpec;
  /** What the colour of node i stands for, for the tooltip ("" for nothing). */
  describe: (i: number) => string;
}

export interface PaintInput {
  model: GraphModel;
  mode: ColorBy;
  theme: Theme;
  values?: Float64Array; // grad_norm, update_ratio: per display node, NaN without data
  first?: Float64Array; // nonfinite: per display node, Infinity when finite, NaN without data
  step?: number | null; // the health step shown
}

export const INPUT_COLOR = "#26a69a";
export const OUTPUT_COLOR = "#ab47bc";
export const FINITE_COLOR = "#81c784";
const TINT = 0.3; // how far a colour is blended towards the background

export function formatStat(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return "0";
  const a = Math.abs(v);
  return a >= 1e4 || a < 1e-3 ? v.toExponential(2) : Number(v.toPrecision(3)).toString();
}

export function paint(input: PaintInput): Paint {
  const { model, mode, theme } = input;
  const n = model.size;
  const neutral = mixColors(theme.panel, theme.bg, 0.2);
  const fill = new Array<string>(n).fill(neutral);
  const text = new Array<string>(n).fill(theme.fg);
  const greyed = new Uint8Array(n);
  const emphasis = new Uint8Array(n);
  const tint = (color: string, amount = TINT) => mixColors(color, theme.bg, amount);
  const set = (i: number, color: string) => {
    fill[i] = color;
    text[i] = textColorOn(color);
  };
  for (let i = 0; i < model.count; i++) {
    if (model.kind[i] === INPUT) set(i, tint(INPUT_COLOR));
    if (model.kind[i] === OUTPUT) set(i, tint(OUTPUT_COLOR));
  }
  let legend: LegendSpec;
  let describe: (i: number) => string = () => "";
  const noData: Swatch = { label: "no data", color: neutral };
  if (mode === "type") {
    const order = new Map<string, number>();
    const counts = new Map<string, number>();
    for (let i = 0; i < model.count; i++) {
      if (model.kind[i] !== MODULE) continue;
      const type = nodeType(model, i);
      if (!order.has(type)) order.set(type, order.size);
      counts.set(type, (counts.get(type) ?? 0) + 1);
      set(i, tint(CATEGORY_COLORS[order.get(type)! % CATEGORY_COLORS.length]));
    }
    const top = [...counts.entries()].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, 12);
    const items = top.map(([type]) => ({
      label: type,
      color: tint(CATEGORY_COLORS[order.get(type)! % CATEGORY_COLORS.length]),
    }));
    if (counts.size > top.length) items.push({ label: `+${counts.size - top.length} more types`, color: neutral });
    legend = { kind: "categories", title: "type", items };
  } else if (mode === "params") {
    const values = new Float64Array(n).fill(NaN);
    for (let i = 0; i < n; i++) {
      const p = model.kind[i] === MODULE || i >= model.count ? totalParams(model, i) : 0;
      if (p > 0) values[i] = p;
    }
    const scale = colorScale(values, "log");
    for (let i = 0; i < n; i++)
      if (!Number.isNaN(values[i])) set(i, tint(cssColor("viridis", scale.index(values[i]) / 255)));
    legend = {
      kind: "scale",
      title: "parameters",
      map: "viridis",
      scale,
      format: formatCount,
      swatches: [{ label: "none", color: neutral }],
    };
    describe = (i) => (Number.isNaN(values[i]) ? "" : `parameters: ${formatCount(values[i])}`);
  } else if (mode === "grad_norm" || mode === "update_ratio") {
    const values = input.values ?? new Float64Array(n).fill(NaN);
    const scale = colorScale(values, "log");
    let nonfinite = false;
    for (let i = 0; i < n; i++) {
      const v = values[i];
      if (Number.isNaN(v)) continue;
      if (!Number.isFinite(v)) {
        set(i, "#d32f2f");
        nonfinite = true;
      } else set(i, tint(cssColor("viridis", scale.index(v) / 255)));
    }
    const label = COLOR_BY_LABELS[mode];
    const swatches = [noData];
    if (nonfinite) swatches.push({ label: "Inf/NaN", color: "#d32f2f" });
    legend = {
      kind: "scale",
      title: `${label}${input.step === undefined || input.step === null ? "" : ` at step ${input.step}`}`,
      map: "viridis",
      scale,
      format: formatStat,
      swatches,
    };
    describe = (i) => (Number.isNaN(values[i]) ? "" : `${label}: ${formatStat(values[i])}`);
  } else {
    const first = input.first ?? new Float64Array(n).fill(NaN);
    let earliest = Infinity;
    let latest = -Infinity;
    for (let i = 0; i < n; i++) {
      if (Number.isFinite(first[i])) {
        earliest = Math.min(earliest, first[i]);
        latest = Math.max(latest, first[i]);
      }
    }
    const span = latest - earliest;
    // pale for the latest first appearance, dark red for the earliest
    const scale: ColorScale = {
      kind: "linear",
      low: latest,
      high: earliest,
      index: (v) => (Number.isNaN(v) ? -1 : span > 0 ? Math.round(((latest - v) / span) * 200 + 55) : 255),
    };
    for (let i = 0; i < n; i++) {
      const v = first[i];
      if (Number.isNaN(v)) continue;
      if (v === Infinity) set(i, tint(FINITE_COLOR, 0.45));
      else set(i, cssColor("reds", scale.index(v) / 255));
    }
    // outline where it first appeared: the deepest nodes of the earliest step (not their groups)
    const origins: number[] = [];
    for (let i = 0; i < model.count; i++) {
      if (first[i] !== earliest || !Number.isFinite(earliest)) continue;
      if (model.children[i].some((c) => first[c] === earliest)) continue;
      emphasis[i] = 1;
      origins.push(i);
    }
    const where = origins.slice(0, 3).map((i) => model.paths[i]);
    if (origins.length > 3) where.push(`${origins.length - 3} more`);
    legend = Number.isFinite(earliest)
      ? {
          kind: "scale",
          title: "NaN/Inf since step",
          map: "reds",
          scale,
          format: (v) => `step ${v}`,
          swatches: [
            { label: "finite", color: tint(FINITE_COLOR, 0.45) },
            noData,
            { label: `first at step ${earliest}: ${where.join(", ")}`, color: cssColor("reds", 1) },
          ],
        }
      : {
          kind: "categories",
          title: `NaN/Inf${input.step === undefined || input.step === null ? "" : ` up to step ${input.step}`}`,
          items: [{ label: "finite", color: tint(FINITE_COLOR, 0.45) }, noData],
        };
    describe = (i) =>
      Number.isNaN(first[i]) ? "" : first[i] === Infinity ? "NaN/Inf: none" : `NaN/Inf since step ${first[i]}`;
  }
  const idle = neverRan(model);
  for (let i = 0; i < model.count; i++) {
    if (idle[i] && model.kind[i] === MODULE) {
      greyed[i] = 1;
      fill[i] = mixColors(theme.panel, theme.bg, 0.5);
      text[i] = theme.muted;
    }
  }
  return { mode, fill, text, greyed, emphasis, legend, describe };
}
