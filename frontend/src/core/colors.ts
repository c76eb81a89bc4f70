// Colour maps as 256-entry RGBA lookup tables, from d3-scale-chromatic's interpolators.
import { interpolateBlues, interpolateRdBu } from "d3-scale-chromatic";
import { rgb } from "d3-color";

export type ColorMap = "blues" | "diverging";

const INTERPOLATORS: Record<ColorMap, (t: number) => string> = {
  blues: interpolateBlues,
  // red for negative, blue for positive, white at zero
  diverging: interpolateRdBu,
};

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
