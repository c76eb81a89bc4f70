// Pure data shaping for the confusion-matrix view: no DOM, unit-tested under node.
import { colorScale, type ColorScale } from "../../core/colors";

export type Normalization = "none" | "true" | "pred";
export type Ordering = "index" | "name" | "error";

export interface Metrics {
  total: number;
  accuracy: number | null;
  macro_f1: number | null;
  precision: Array<number | null>;
  recall: Array<number | null>;
  f1: Array<number | null>;
  support: number[];
  predicted: number[];
}

export interface StepData {
  step: number;
  wall_time: number;
  class_names: string[];
  counts: number[]; // row-major [true, predicted]
  metrics: Metrics;
}

export interface SeriesPoint {
  step: number;
  wall_time: number;
  num_classes: number;
  total: number;
  accuracy: number | null;
  macro_f1: number | null;
}

export function size(data: StepData): number {
  return data.class_names.length;
}

export function rowSums(counts: ArrayLike<number>, n: number): Float64Array {
  const sums = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += counts[i * n + j];
    sums[i] = s;
  }
  return sums;
}

export function columnSums(counts: ArrayLike<number>, n: number): Float64Array {
  const sums = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sums[j] += counts[i * n + j];
  return sums;
}

/** Cell values under a normalization: counts, fraction of the true class (row) or of the
 * predicted class (column). A row or column with no samples gives NaN (undefined), not 0. */
export function normalize(counts: ArrayLike<number>, n: number, mode: Normalization): Float64Array {
  const out = new Float64Array(n * n);
  if (mode === "none") {
    for (let k = 0; k < n * n; k++) out[k] = counts[k];
    return out;
  }
  const sums = mode === "true" ? rowSums(counts, n) : columnSums(counts, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const total = mode === "true" ? sums[i] : sums[j];
      out[i * n + j] = total > 0 ? counts[i * n + j] / total : NaN;
    }
  }
  return out;
}

export interface CellDetail {
  trueName: string;
  predictedName: string;
  count: number;
  rowFraction: number; // of the true class
  columnFraction: number; // of the predicted class
}

export function cellDetail(data: StepData, i: number, j: number): CellDetail {
  const n = size(data);
  let row = 0;
  let column = 0;
  for (let k = 0; k < n; k++) {
    row += data.counts[i * n + k];
    column += data.counts[k * n + j];
  }
  const count = data.counts[i * n + j];
  return {
    trueName: data.class_names[i],
    predictedName: data.class_names[j],
    count,
    rowFraction: row > 0 ? count / row : NaN,
    columnFraction: column > 0 ? count / column : NaN,
  };
}

/** Display order of the classes: by index, by name, or worst recall first. */
export function classOrder(data: StepData, ordering: Ordering): number[] {
  const indices = data.class_names.map((_, i) => i);
  if (ordering === "name") {
    const collator = new Intl.Collator(undefined, { numeric: true });
    indices.sort((a, b) => collator.compare(data.class_names[a], data.class_names[b]) || a - b);
  } else if (ordering === "error") {
    const error = (i: number) => {
      const recall = data.metrics.recall[i];
      return recall === null ? -1 : 1 - recall;
    };
    indices.sort((a, b) => error(b) - error(a) || a - b);
  }
  return indices;
}

export interface ConfusedPair {
  trueIndex: number;
  predictedIndex: number;
  count: number;
  rowFraction: number;
}

/** The k largest off-diagonal counts (ties: by true then predicted index). One pass with a
 * small sorted buffer: a 1000-class matrix has up to a million candidate pairs. */
export function topConfused(data: StepData, k: number): ConfusedPair[] {
  const n = size(data);
  const best: Array<[number, number, number]> = []; // [count, i, j], largest first
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const count = data.counts[i * n + j];
      if (i === j || count <= 0 || (best.length === k && count <= best[k - 1][0])) continue;
      let at = best.length;
      while (at > 0 && best[at - 1][0] < count) at--;
      best.splice(at, 0, [count, i, j]);
      if (best.length > k) best.pop();
    }
  }
  const rows = rowSums(data.counts, n);
  return best.map(([count, i, j]) => ({ trueIndex: i, predictedIndex: j, count, rowFraction: count / rows[i] }));
}

/** A reference's cell values (already normalized in its own class space) rearranged into the
 * current class order, matched by class name (runs or steps may name or order classes
 * differently); a class the reference lacks gives NaN. */
export function alignByName(
  referenceValues: Float64Array,
  referenceNames: string[],
  currentNames: string[],
): Float64Array {
  const n = currentNames.length;
  const m = referenceNames.length;
  const position = new Map(referenceNames.map((name, i) => [name, i]));
  const map = currentNames.map((name) => position.get(name) ?? -1);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const a = map[i];
      const b = map[j];
      out[i * n + j] = a < 0 || b < 0 ? NaN : referenceValues[a * m + b];
    }
  }
  return out;
}

/** current − reference, both already normalized the same way. */
export function difference(current: Float64Array, reference: Float64Array): Float64Array {
  const out = new Float64Array(current.length);
  for (let k = 0; k < current.length; k++) out[k] = current[k] - reference[k];
  return out;
}

/** The colour scale of the shown values: log counts, 0 … 100 % shares, or a symmetric delta. */
export function confusionScale(values: Float64Array, mode: Normalization | "delta"): ColorScale {
  return colorScale(values, mode === "delta" ? "diverging" : mode === "none" ? "log1p" : "unit");
}

/** Maps a value to a 0..255 colour index; NaN gives -1 (drawn as "no data"). */
export function colorIndexer(values: Float64Array, mode: Normalization | "delta"): (v: number) => number {
  return confusionScale(values, mode).index;
}

export function formatPercent(fraction: number): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(1)}%` : "n/a";
}

export function formatScore(value: number | null): string {
  return value === null ? "n/a" : value.toFixed(3);
}

/** A cell's value as shown: a count, a percentage, or (delta) a signed count or
 * percentage-point difference. */
export function formatValue(value: number, normalization: Normalization, delta = false): string {
  if (Number.isNaN(value)) return "n/a";
  const sign = delta && value >= 0 ? "+" : "";
  if (normalization === "none") return `${sign}${value}`;
  return delta ? `${sign}${(value * 100).toFixed(1)} pp` : formatPercent(value);
}

export type SortKey = "name" | "precision" | "recall" | "f1" | "support";

export interface ClassRow {
  index: number;
  name: string;
  precision: number | null;
  recall: number | null;
  f1: number | null;
  support: number;
}

export function classRows(data: StepData, key: SortKey, descending: boolean): ClassRow[] {
  const rows = data.class_names.map((name, index) => ({
    index,
    name,
    precision: data.metrics.precision[index],
    recall: data.metrics.recall[index],
    f1: data.metrics.f1[index],
    support: data.metrics.support[index],
  }));
  const collator = new Intl.Collator(undefined, { numeric: true });
  const sign = descending ? -1 : 1;
  rows.sort((a, b) => {
    if (key === "name") return sign * collator.compare(a.name, b.name) || a.index - b.index;
    const x = a[key];
    const y = b[key];
    if (x === null && y === null) return a.index - b.index;
    if (x === null) return 1; // undefined scores sink to the bottom either way
    if (y === null) return -1;
    return sign * (x - y) || a.index - b.index;
  });
  return rows;
}
