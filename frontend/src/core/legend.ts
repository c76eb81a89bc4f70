// A colour legend: the scale's bar between its two bounds (read from the same ColorScale that
// coloured the cells), plus swatches for special colours (no data, NaN/Inf); or categories.

import { cssColor, type ColorMap, type ColorScale } from "./colors";
import { el } from "./dom";

export interface Swatch {
  label: string;
  color: string; // a CSS colour
}

function swatchItem(swatch: Swatch): HTMLElement {
  const box = el("span", { className: "ml-swatch" });
  box.style.background = swatch.color;
  return el("span", { className: "ml-swatch-item" }, [box, el("span", { text: swatch.label })]);
}

export class Legend {
  readonly element = el("div", { className: "ml-legend" });

  /** `format` writes a bound; a log scale's upper bound gets " (log scale)". */
  update(
    map: ColorMap,
    scale: ColorScale,
    format: (value: number) => string,
    swatches: Swatch[] = [],
    title = "",
  ): void {
    const bar = el("canvas", { attrs: { width: "120", height: "10" } });
    const context = bar.getContext("2d");
    if (context) {
      for (let x = 0; x < 120; x++) {
        context.fillStyle = cssColor(map, x / 119);
        context.fillRect(x, 0, 1, 10);
      }
    }
    const log = scale.kind === "log" || scale.kind === "log1p";
    const parts: Node[] = [
      ...(title ? [el("span", { className: "ml-legend-title", text: title })] : []),
      el("span", { text: format(scale.low) }),
      bar,
      el("span", { text: `${format(scale.high)}${log ? " (log scale)" : ""}` }),
    ];
    parts.push(...swatches.map(swatchItem));
    this.element.replaceChildren(...parts);
  }

  /** A categorical legend: one swatch per category, after an optional title. */
  categories(items: Swatch[], title = ""): void {
    const parts: Node[] = title ? [el("span", { className: "ml-legend-title", text: title })] : [];
    this.element.replaceChildren(...parts, ...items.map(swatchItem));
  }
}
