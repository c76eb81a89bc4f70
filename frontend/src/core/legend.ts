// A colour legend: the scale's bar between its two bounds (read from the same ColorScale that
// coloured the cells), plus swatches for special colours (no data, NaN/Inf).

import { cssColor, type ColorMap, type ColorScale } from "./colors";
import { el } from "./dom";

export interface Swatch {
  label: string;
  color: string; // a CSS colour
}

export class Legend {
  readonly element = el("div", { className: "ml-legend" });

  /** `format` writes a bound; a log scale's upper bound gets " (log scale)". */
  update(map: ColorMap, scale: ColorScale, format: (value: number) => string, swatches: Swatch[] = []): void {
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
      el("span", { text: format(scale.low) }),
      bar,
      el("span", { text: `${format(scale.high)}${log ? " (log scale)" : ""}` }),
    ];
    for (const swatch of swatches) {
      const box = el("span", { className: "ml-swatch" });
      box.style.background = swatch.color;
      parts.push(el("span", { className: "ml-swatch-item" }, [box, el("span", { text: swatch.label })]));
    }
    this.element.replaceChildren(...parts);
  }
}
