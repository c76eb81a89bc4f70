// Pure data shaping for the Predictions view: no DOM, unit-tested under node. Regression steps
// carry metrics, a 128 × 128 density histogram of (true, predicted) over one shared range, the
// residual histogram, error by true-value decile and, up to 50k samples, every point exactly.
// Classification steps carry accuracy, calibration (reliability bins, ECE), the confidence
// histograms of right and wrong predictions and the most confidently wrong samples.
import { colorScale, type ColorScale } from "../../core/colors";
import { formatExact, formatShort } from "../../core/format";

export interface RegressionSeriesPoint {
  step: number;
  wall_time: number;
  task: "regression";
  samples: number;
  mae: number | null;
  rmse: number | null;
  r2: number | null;
}

export interface ClassificationSeriesPoint {
  step: number;
  wall_time: number;
  task: "classification";
  samples: number;
  num_classes: number;
  accuracy: number | null;
  ece: number | null;
}

export type SeriesPoint = RegressionSeriesPoint | ClassificationSeriesPoint;

export interface Quantile {
  lo: number;
  hi: number;
  count: number;
  mae: number | null;
  rmse: number | null;
  mean_error: number | null;
}

export interface RegressionStep {
  step: number;
  wall_time: number;
  task: "regression";
  samples: number;
  mae: number | null;
  rmse: number | null;
  r2: number | null;
  mean_error: number | null;
  max_abs_error: number | null;
  range: [number, number];
  exact_points: boolean;
  points: { true: number[]; pred: number[]; ids: string[] | null } | null;
  density: { bins: number; counts: number[] }; // row = true bin (low → high), column = predicted bin
  residuals: { edges: number[]; counts: number[] };
  by_quantile: Quantile[];
}

export interface ReliabilityBin {
  lo: number;
  hi: number;
  count: number;
  confidence: number | null; // mean confidence; null when the bin is empty
  accuracy: number | null;
}

export interface WrongSample {
  index: number;
  id: string | null;
  true: number;
  predicted: number;
  confidence: number;
  true_probability: number;
}

export interface ClassificationStep {
  step: number;
  wall_time: number;
  task: "classification";
  samples: number;
  class_names: string[] | null;
  accuracy: number | null;
  ece: number | null;
  mce: number | null;
  reliability: Array<ReliabilityBin | null>;
  confidence: { edges: number[]; right: number[]; wrong: number[] };
  wrong: WrongSample[];
}

export type StepData = RegressionStep | ClassificationStep;

const toNumber = (v: number | null | undefined) => (v === null || v === undefined ? NaN : v);

/** The density bin of `value` on [lo, hi] in `bins` equal bins (hi falls in the last bin). */
export function densityBin(value: number, lo: number, hi: number, bins: number): number {
  if (!(hi > lo)) return 0;
  const k = Math.floor(((value - lo) / (hi - lo)) * bins);
  return Math.min(bins - 1, Math.max(0, k));
}

/** Each exact point's local density: the count of its (true, predicted) cell of the grid. */
export function pointDensity(step: RegressionStep): Float64Array {
  const points = step.points;
  if (!points) return new Float64Array(0);
  const { bins, counts } = step.density;
  const [lo, hi] = step.range;
  const out = new Float64Array(points.true.length);
  for (let i = 0; i < out.length; i++) {
    const row = densityBin(points.true[i], lo, hi, bins);
    const column = densityBin(points.pred[i], lo, hi, bins);
    out[i] = counts[row * bins + column];
  }
  return out;
}

/** The colour scale of densities: log(1 + count), 0 … the fullest cell. */
export function densityScale(counts: ArrayLike<number>): ColorScale {
  return colorScale(counts, "log1p");
}

/** Point indices ordered by colour index, sparse first (dense points are drawn on top), and
 * where each colour's run starts: one fill style per colour. */
export function paintOrder(colorIndex: Uint8Array): { order: Uint32Array; starts: Uint32Array } {
  const starts = new Uint32Array(257);
  for (let i = 0; i < colorIndex.length; i++) starts[colorIndex[i] + 1]++;
  for (let k = 1; k <= 256; k++) starts[k] += starts[k - 1];
  const next = starts.slice(0, 256);
  const order = new Uint32Array(colorIndex.length);
  for (let i = 0; i < colorIndex.length; i++) order[next[colorIndex[i]]++] = i;
  return { order, starts };
}

/** The lowest colour index of a point: the darkest end of viridis would vanish in dark mode. */
export const POINT_COLOR_FLOOR = 48;

/** The colour index of each point from its density: POINT_COLOR_FLOOR … 255. */
export function pointColors(density: Float64Array, scale: ColorScale): Uint8Array {
  const out = new Uint8Array(density.length);
  const span = (255 - POINT_COLOR_FLOOR) / 255;
  for (let i = 0; i < density.length; i++) {
    out[i] = POINT_COLOR_FLOOR + Math.round(Math.max(0, scale.index(density[i])) * span);
  }
  return out;
}

/** The shared axis range of the scatter, widened when constant. */
export function scatterDomain(step: RegressionStep): [number, number] {
  const [lo, hi] = step.range;
  return hi > lo ? [lo, hi] : [lo - 0.5, hi + 0.5];
}

/** A density cell's value ranges and count (hover where no exact points are stored). */
export function cellAt(step: RegressionStep, trueValue: number, predicted: number) {
  const { bins, counts } = step.density;
  const [lo, hi] = step.range;
  if (!(trueValue >= lo && trueValue <= hi && predicted >= lo && predicted <= hi)) return null;
  const row = densityBin(trueValue, lo, hi, bins);
  const column = densityBin(predicted, lo, hi, bins);
  const width = (hi - lo) / bins;
  return {
    row,
    column,
    count: counts[row * bins + column],
    trueRange: [lo + row * width, row === bins - 1 ? hi : lo + (row + 1) * width] as [number, number],
    predRange: [lo + column * width, column === bins - 1 ? hi : lo + (column + 1) * width] as [number, number],
  };
}

export function pointLines(step: RegressionStep, index: number, density: number): string[] {
  const p = step.points!;
  const t = p.true[index];
  const y = p.pred[index];
  return [
    ...(p.ids ? [`id: ${p.ids[index]}`] : [`sample ${index}`]),
    `true: ${formatExact(t)}`,
    `predicted: ${formatExact(y)}`,
    `error (pred − true): ${formatExact(y - t)}`,
    `samples in its density cell: ${density}`,
  ];
}

export interface Bars {
  edges: number[];
  heights: number[];
}

/** Error by true-value decile as bars over the decile's position (0 … 10): MAE per decile. */
export function decileBars(quantiles: Quantile[], metric: "mae" | "rmse" = "mae"): Bars {
  return {
    edges: quantiles.map((_, i) => i).concat(quantiles.length),
    heights: quantiles.map((q) => (q.count > 0 ? toNumber(q[metric]) : NaN)),
  };
}

export function decileLines(q: Quantile, index: number): string[] {
  return [
    `decile ${index + 1} of true values: [${formatExact(q.lo)}, ${formatExact(q.hi)}]`,
    `samples: ${q.count}`,
    `MAE: ${formatExact(q.mae)}`,
    `RMSE: ${formatExact(q.rmse)}`,
    `mean error: ${formatExact(q.mean_error)}`,
  ];
}

/** A bin's range as text, the last one closed. */
export function binRange(edges: number[], index: number): string {
  const last = index === edges.length - 2;
  return `[${formatExact(edges[index])}, ${formatExact(edges[index + 1])}${last ? "]" : ")"}`;
}

/** Reliability bars: accuracy per confidence bin (empty bins: none), and the (mean confidence,
 * accuracy) points. */
export function reliabilityBars(bins: Array<ReliabilityBin | null>): Bars & { x: number[]; y: number[] } {
  const edges: number[] = [];
  const heights: number[] = [];
  const x: number[] = [];
  const y: number[] = [];
  const n = bins.length;
  bins.forEach((bin, i) => {
    edges.push(bin ? bin.lo : i / n);
    const empty = !bin || bin.count === 0 || bin.accuracy === null || bin.confidence === null;
    heights.push(empty ? NaN : bin.accuracy!);
    x.push(empty ? NaN : bin.confidence!);
    y.push(empty ? NaN : bin.accuracy!);
  });
  edges.push(bins[n - 1]?.hi ?? 1);
  return { edges, heights, x, y };
}

export function reliabilityLines(bin: ReliabilityBin | null, index: number, n: number): string[] {
  const lo = bin?.lo ?? index / n;
  const hi = bin?.hi ?? (index + 1) / n;
  const range = `confidence [${formatExact(lo)}, ${formatExact(hi)}${index === n - 1 ? "]" : ")"}`;
  if (!bin || bin.count === 0 || bin.accuracy === null || bin.confidence === null)
    return [range, "samples: 0", "accuracy: undefined"];
  return [
    range,
    `samples: ${bin.count}`,
    `mean confidence: ${formatExact(bin.confidence)}`,
    `accuracy: ${formatExact(bin.accuracy)}`,
    `gap (confidence − accuracy): ${formatExact(bin.confidence - bin.accuracy)}`,
  ];
}

export function confidenceLines(step: ClassificationStep, index: number): string[] {
  const { edges, right, wrong } = step.confidence;
  const total = right[index] + wrong[index];
  return [
    `confidence ${binRange(edges, index)}`,
    `right: ${right[index]}`,
    `wrong: ${wrong[index]}`,
    `accuracy: ${total > 0 ? formatExact(right[index] / total) : "undefined"}`,
  ];
}

export function className(step: ClassificationStep, index: number): string {
  return step.class_names?.[index] ?? String(index);
}

export type WrongKey = "index" | "id" | "true" | "predicted" | "confidence" | "true_probability";

export interface WrongRow {
  index: number;
  id: string;
  true: string;
  predicted: string;
  confidence: number;
  true_probability: number;
}

/** The confidently wrong samples, sorted by `key` (ties: by sample index). */
export function wrongRows(step: ClassificationStep, key: WrongKey, descending: boolean): WrongRow[] {
  const rows = step.wrong.map((w) => ({
    index: w.index,
    id: w.id ?? String(w.index),
    true: className(step, w.true),
    predicted: className(step, w.predicted),
    confidence: w.confidence,
    true_probability: w.true_probability,
  }));
  const collator = new Intl.Collator(undefined, { numeric: true });
  const sign = descending ? -1 : 1;
  rows.sort((a, b) => {
    const x = a[key];
    const y = b[key];
    const order = typeof x === "number" ? x - (y as number) : collator.compare(x, y as string);
    return sign * order || a.index - b.index;
  });
  return rows;
}

export interface MetricRow {
  name: string;
  value: number | null;
  reference: number | null;
  better: "lower" | "higher";
}

/** The metrics of a step (and of a reference of the same task) as rows. */
export function metricRows(step: StepData, reference: StepData | null): MetricRow[] {
  const ref = reference && reference.task === step.task ? reference : null;
  if (step.task === "regression") {
    const r = ref as RegressionStep | null;
    return [
      { name: "MAE", value: step.mae, reference: r?.mae ?? null, better: "lower" },
      { name: "RMSE", value: step.rmse, reference: r?.rmse ?? null, better: "lower" },
      { name: "R²", value: step.r2, reference: r?.r2 ?? null, better: "higher" },
      { name: "mean error (pred − true)", value: step.mean_error, reference: r?.mean_error ?? null, better: "lower" },
      { name: "max |error|", value: step.max_abs_error, reference: r?.max_abs_error ?? null, better: "lower" },
      { name: "samples", value: step.samples, reference: r?.samples ?? null, better: "higher" },
    ];
  }
  const r = ref as ClassificationStep | null;
  return [
    { name: "accuracy", value: step.accuracy, reference: r?.accuracy ?? null, better: "higher" },
    { name: "ECE (15 bins)", value: step.ece, reference: r?.ece ?? null, better: "lower" },
    { name: "MCE", value: step.mce, reference: r?.mce ?? null, better: "lower" },
    { name: "samples", value: step.samples, reference: r?.samples ?? null, better: "higher" },
  ];
}

export function formatDelta(value: number | null, reference: number | null): string {
  if (value === null || reference === null) return "";
  const d = value - reference;
  return `${d >= 0 ? "+" : ""}${formatShort(d)}`;
}

/** The largest finite value of a few arrays (a bar chart's top), at least `floor`. */
export function maxOf(floor: number, ...arrays: ArrayLike<number>[]): number {
  let top = floor;
  for (const a of arrays) for (let i = 0; i < a.length; i++) if (Number.isFinite(a[i]) && a[i] > top) top = a[i];
  return top;
}
