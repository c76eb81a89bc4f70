// Colour maps as 256-entry RGBA lookup tables, from d3-scale-chromatic's interpolators, and the
// colour scales that map values onto them (shared with the legend, so both use one bound).
import {
  interpolateBlues,
  interpolateRdBu,
  interpolateViridis,
  interpolateYlOrRd,
  schemeSet3,
  schemeTableau10,
} from "d3-scale-chromatic";
import { rgb } from "d3-color";

export type ColorMap = "blues" | "diverging" | "viridis" | "reds";

const INTERPOLATORS: Record<ColorMap, (t: number) => string> = {
  blues: interpolateBlues,
  // red for negative, blue for positive, white at zero
  diverging: interpolateRdBu,
  viridis: interpolateViridis,
  // pale yellow to dark red: alarms (NaN/Inf), the strongest at 1
  reds: interpolateYlOrRd,
};

/** Distinct colours for categories (types, classes), in order; cycle past the end. */
export const CATEGORY_COLORS: readonly string[] = [...schemeTableau10, ...schemeSet3];

/** `a` blended towards `b` by `t` (0: a, 1: b), as a CSS rgb() colour. */
export function mixColors(a: string, b: string, t: number): string {
  const x = rgb(a);
  const y = rgb(b);
  const m = (u: number, v: number) => Math.round(u + (v - u) * t);
  return `rgb(${m(x.r, y.r)}, ${m(x.g, y.g)}, ${m(x.b, y.b)})`;
}

/** Black or white, whichever reads better on `background`. */
export function textColorOn(background: string): string {
  const c = rgb(background);
  const lum = (v: number) => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  const l = 0.2126 * lum(c.r) + 0.7152 * lum(c.g) + 0.0722 * lum(c.b);
  return l > 0.179 ? "#111" : "#f5f5f5";
}

const cache = new Map<ColorMap, Uint8ClampedArray>();

export function lookupTable(map: ColorMap): Uint8ClampedArray {
  let table = cache.get(map);
  if (!table) {
    table = new Uint8ClampedArray(256 * 4);
    for (let i = 0; i < 256; i++) {
      const c = rgb(INTERPOLATORS[map](i / 255));
      table.set([c.r, c.g, c.b, 255], i * 4);
    }
    cache.set(map, table);
  }
  return table;
}

export function cssColor(map: ColorMap, t: number): string {
  return INTERPOLATORS[map](Math.min(1, Math.max(0, t)));
}

/** One RGBA colour packed as the Uint32 a pixel buffer of this machine's byte order holds. */
export function packRgba(r: number, g: number, b: number, a = 255): number {
  return new Uint32Array(new Uint8ClampedArray([r, g, b, a]).buffer)[0];
}

/**
 * How values map to colours:
 * - `log1p`: 0 … max on log(1 + v) (counts);
 * - `log`: smallest positive … largest value on log(v), values ≤ 0 at the bottom (norms);
 * - `linear`: min … max;
 * - `unit`: 0 … 1 (fractions);
 * - `diverging`: −b … +b around zero, b the largest |v|.
 */
export type ScaleKind = "log1p" | "log" | "linear" | "unit" | "diverging";

export interface ColorScale {
  kind: ScaleKind;
  low: number; // the value at colour index 0 …
  high: number; // … and at 255: the legend's bound
  /** A value's 0..255 colour index; NaN gives -1 (drawn as "no data"). */
  index(value: number): number;
}

export function colorScale(values: ArrayLike<number>, kind: ScaleKind): ColorScale {
  let maxAbs = 0;
  let min = Infinity;
  let max = -Infinity;
  let minPositive = Infinity;
  for (let k = 0; k < values.length; k++) {
    const v = values[k];
    if (!Number.isFinite(v)) continue;
    maxAbs = Math.max(maxAbs, Math.abs(v));
    min = Math.min(min, v);
    max = Math.max(max, v);
    if (v > 0) minPositive = Math.min(minPositive, v);
  }
  const clamp = (t: number) => Math.round(Math.min(1, Math.max(0, t)) * 255);
  switch (kind) {
    case "diverging": {
      const bound = maxAbs || 1;
      return {
        kind,
        low: -bound,
        high: bound,
        index: (v) => (Number.isNaN(v) ? -1 : Math.round(((v / bound + 1) / 2) * 255)),
      };
    }
    case "log1p": {
      // counts span orders of magnitude (a dominant diagonal): a log scale keeps errors visible
      const top = Math.log1p(maxAbs) || 1;
      return {
        kind,
        low: 0,
        high: maxAbs,
        index: (v) => (Number.isNaN(v) ? -1 : Math.round((Math.log1p(v) / top) * 255)),
      };
    }
    case "unit":
      return { kind, low: 0, high: 1, index: (v) => (Number.isNaN(v) ? -1 : Math.round(Math.min(1, v) * 255)) };
    case "log": {
      if (!Number.isFinite(minPositive)) return colorScale(values, "linear");
      const lo = Math.log(minPositive);
      const span = Math.log(max) - lo || 1;
      return {
        kind,
        low: minPositive,
        high: max,
        index: (v) => (Number.isNaN(v) ? -1 : v <= 0 ? 0 : clamp((Math.log(v) - lo) / span)),
      };
    }
    case "linear": {
      if (!Number.isFinite(min)) return { kind, low: 0, high: 1, index: (v) => (Number.isNaN(v) ? -1 : 0) };
      const span = max - min || 1;
      return { kind, low: min, high: max, index: (v) => (Number.isNaN(v) ? -1 : clamp((v - min) / span)) };
    }
  }
}
