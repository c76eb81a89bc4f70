// One drawn matrix: its cells as RGBA pixels in display order, and the hover text of a cell.
import { lookupTable, packRgba, type ColorScale } from "../../core/colors";
import { cellDetail, formatPercent, formatValue, size, type Normalization, type StepData } from "./shape";

export interface Rendered {
  data: StepData;
  order: number[];
  values: Float64Array; // display value per cell, class-index space
  reference: StepData | null;
  normalization: Normalization;
  rgba: Uint8ClampedArray;
}

/** One RGBA pixel per cell, rows and columns in `order`; NaN cells in the no-data grey. */
export function cellPixels(
  values: Float64Array,
  order: number[],
  scale: ColorScale,
  delta: boolean,
): Uint8ClampedArray {
  const n = order.length;
  const index = scale.index;
  const table = new Uint32Array(lookupTable(delta ? "diverging" : "blues").buffer);
  const noData = packRgba(128, 128, 128, 60);
  const rgba = new Uint8ClampedArray(n * n * 4);
  const pixels = new Uint32Array(rgba.buffer); // one RGBA pixel per cell, in display order
  for (let r = 0; r < n; r++) {
    const row = order[r] * n;
    for (let c = 0; c < n; c++) {
      const k = index(values[row + order[c]]);
      pixels[r * n + c] = k < 0 ? noData : table[k];
    }
  }
  return rgba;
}

/** The tooltip of the cell at display `row` and `column`; `deltaLabel` names the reference. */
export function cellLines(rendered: Rendered, row: number, column: number, deltaLabel: string): string[] {
  const n = size(rendered.data);
  const i = rendered.order[row];
  const j = rendered.order[column];
  const cell = cellDetail(rendered.data, i, j);
  const lines = [
    `true: ${cell.trueName}`,
    `predicted: ${cell.predictedName}`,
    `count: ${cell.count}`,
    `row %: ${formatPercent(cell.rowFraction)} of true ${cell.trueName}`,
    `column %: ${formatPercent(cell.columnFraction)} of predicted ${cell.predictedName}`,
  ];
  const value = rendered.values[i * n + j];
  if (rendered.reference) {
    lines.push(`delta: ${formatValue(value, rendered.normalization, true)} vs ${deltaLabel}`);
  } else if (rendered.normalization !== "none") {
    const label = rendered.normalization === "true" ? "by true class" : "by predicted class";
    lines.splice(3, 0, `shown (${label}): ${formatValue(value, rendered.normalization)}`);
  }
  return lines;
}
