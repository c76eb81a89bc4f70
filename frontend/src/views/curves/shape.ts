// Pure data shaping for the ROC / PR view: no DOM, unit-tested under node.
// A stored curve holds, per distinct threshold (descending), the cumulative true and false
// positives at score ≥ threshold. The view derives the rates from them (division by zero is
// "undefined", NaN here) and prepends the start point: threshold +Inf, nothing predicted
// positive, ROC at (0, 0), PR at (recall 0, precision 1) as scikit-learn does.

import { formatExact, formatScore } from "../../core/format";

export type ClassKey = number | "micro";

export interface SeriesPoint {
  step: number;
  wall_time: number;
  binary: boolean;
  num_classes: number;
  samples: number;
  micro_auc: number | null;
  macro_auc: number | null;
  micro_ap: number | null;
  macro_ap: number | null;
  auc: Array<number | null>;
  ap: Array<number | null>;
}

export interface StepData {
  step: number;
  wall_time: number;
  binary: boolean;
  samples: number;
  class_names: string[];
  auc: Array<number | null>;
  ap: Array<number | null>;
  positives: number[];
  negatives: number[];
  points: number[];
  distinct: number[];
  micro_auc: number | null;
  micro_ap: number | null;
  macro_auc: number | null;
  macro_ap: number | null;
  micro_exact: boolean;
  max_points: number;
}

export interface CurveData {
  class: ClassKey;
  name: string;
  positives: number;
  negatives: number;
  auc: number | null;
  ap: number | null;
  thresholds: number[]; // descending
  tp: number[];
  fp: number[];
}

/** A curve with its rates; index 0 is the start point (threshold +Inf). */
export interface Curve {
  key: ClassKey;
  name: string;
  positives: number;
  negatives: number;
  auc: number | null;
  ap: number | null;
  threshold: Float64Array;
  tp: Float64Array;
  fp: Float64Array;
  fpr: Float64Array; // fp / N
  tpr: Float64Array; // tp / P (= recall)
  precision: Float64Array; // tp / (tp + fp); 1 at the start point
}

const ratio = (a: number, b: number) => (b > 0 ? a / b : NaN);

export function deriveCurve(data: CurveData): Curve {
  const m = data.thresholds.length;
  const n = m + 1;
  const threshold = new Float64Array(n);
  const tp = new Float64Array(n);
  const fp = new Float64Array(n);
  const fpr = new Float64Array(n);
  const tpr = new Float64Array(n);
  const precision = new Float64Array(n);
  const P = data.positives;
  const N = data.negatives;
  threshold[0] = Infinity;
  fpr[0] = N > 0 ? 0 : NaN;
  tpr[0] = P > 0 ? 0 : NaN;
  precision[0] = 1; // nothing predicted positive: precision 1 by convention (scikit-learn)
  for (let i = 0; i < m; i++) {
    const k = i + 1;
    threshold[k] = data.thresholds[i];
    tp[k] = data.tp[i];
    fp[k] = data.fp[i];
    fpr[k] = ratio(fp[k], N);
    tpr[k] = ratio(tp[k], P);
    precision[k] = ratio(tp[k], tp[k] + fp[k]);
  }
  return {
    key: data.class,
    name: data.name,
    positives: P,
    negatives: N,
    auc: data.auc,
    ap: data.ap,
    threshold,
    tp,
    fp,
    fpr,
    tpr,
    precision,
  };
}

export interface Confusion {
  threshold: number;
  tp: number;
  fp: number;
  fn: number;
  tn: number;
  precision: number; // NaN: undefined
  recall: number;
  f1: number;
  fpr: number;
  accuracy: number;
}

/** The 2 × 2 confusion matrix of a curve at its point `index` (score ≥ threshold is positive). */
export function confusionAt(curve: Curve, index: number): Confusion {
  const tp = curve.tp[index];
  const fp = curve.fp[index];
  const fn = curve.positives - tp;
  const tn = curve.negatives - fp;
  return {
    threshold: curve.threshold[index],
    tp,
    fp,
    fn,
    tn,
    precision: ratio(tp, tp + fp),
    recall: ratio(tp, tp + fn),
    f1: ratio(2 * tp, 2 * tp + fp + fn),
    fpr: ratio(fp, fp + tn),
    accuracy: ratio(tp + tn, tp + fp + fn + tn),
  };
}

/** The threshold slider runs from the lowest threshold (left) to +Inf (right): position p of a
 * curve of n points is its point n − 1 − p, and back. */
export function pointOfPosition(curve: Curve, position: number): number {
  const n = curve.threshold.length;
  return Math.min(n - 1, Math.max(0, n - 1 - position));
}

export function positionOfPoint(curve: Curve, index: number): number {
  return curve.threshold.length - 1 - index;
}

/** The point whose threshold is the smallest one ≥ `threshold` (the operating point of a
 * classifier that predicts positive at score ≥ `threshold`). */
export function pointAtThreshold(curve: Curve, threshold: number): number {
  // thresholds descend from +Inf: the last index with threshold ≥ the asked one
  let lo = 0;
  let hi = curve.threshold.length - 1;
  if (curve.threshold[hi] >= threshold) return hi;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (curve.threshold[mid] >= threshold) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** The `k` classes of lowest defined AUC (ties: by index); undefined AUCs are left out. */
export function worstClasses(auc: Array<number | null>, k: number): number[] {
  return auc
    .map((value, index) => ({ value, index }))
    .filter((c): c is { value: number; index: number } => c.value !== null && Number.isFinite(c.value))
    .sort((a, b) => a.value - b.value || a.index - b.index)
    .slice(0, Math.max(0, k))
    .map((c) => c.index);
}

/** Classes whose name contains `query` (case-insensitive), in index order, at most `limit`. */
export function searchClasses(names: string[], query: string, limit: number): number[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const found: number[] = [];
  for (let i = 0; i < names.length && found.length < limit; i++) {
    if (names[i].toLowerCase().includes(q)) found.push(i);
  }
  return found;
}

export type Selection = "all" | "worst" | "search" | "picked" | "micro";

export const ALL_LIMIT = 10;
export const SEARCH_LIMIT = 20;

export interface SelectionInput {
  mode: Selection;
  k: number;
  query: string;
  picked: string[]; // class names
  micro: boolean; // add the micro average
}

/** The curves to show at a step: classes by index, "micro" for the micro average. */
export function selectedCurves(step: StepData, input: SelectionInput): ClassKey[] {
  if (step.binary) return [0];
  const names = step.class_names;
  let classes: number[];
  switch (input.mode) {
    case "all":
      classes = names.length <= ALL_LIMIT ? names.map((_, i) => i) : worstClasses(step.auc, ALL_LIMIT);
      break;
    case "worst":
      classes = worstClasses(step.auc, input.k);
      break;
    case "search":
      classes = searchClasses(names, input.query, SEARCH_LIMIT);
      break;
    case "picked":
      classes = input.picked.map((name) => names.indexOf(name)).filter((i) => i >= 0);
      break;
    case "micro":
      classes = [];
      break;
  }
  return input.micro || input.mode === "micro" ? [...classes, "micro"] : classes;
}

/** The default selection of a step: every class up to 10, else the 5 worst with the micro average. */
export function defaultSelection(step: StepData): Pick<SelectionInput, "mode" | "micro"> {
  if (step.binary) return { mode: "all", micro: false };
  return step.class_names.length <= ALL_LIMIT ? { mode: "all", micro: false } : { mode: "worst", micro: true };
}

/** The key of the same curve in another step (classes matched by name), or null. */
export function matchCurve(key: ClassKey, names: string[], reference: StepData): ClassKey | null {
  if (key === "micro") return reference.binary ? null : "micro";
  if (reference.binary) return names.length === 1 && key === 0 ? 0 : null;
  const index = reference.class_names.indexOf(names[key]);
  return index >= 0 ? index : null;
}

export function curveName(step: StepData, key: ClassKey): string {
  return key === "micro" ? "micro-average" : (step.class_names[key] ?? `class ${key}`);
}

export type SortKey = "name" | "auc" | "ap" | "positives" | "negatives" | "points";

export interface ClassRow {
  index: number;
  name: string;
  auc: number | null;
  ap: number | null;
  positives: number;
  negatives: number;
  points: number;
  distinct: number;
}

/** One row per class, sorted by `key` (undefined scores last either way, ties by index). */
export function classRows(step: StepData, key: SortKey, descending: boolean): ClassRow[] {
  const rows: ClassRow[] = step.class_names.map((name, index) => ({
    index,
    name,
    auc: step.auc[index] ?? null,
    ap: step.ap[index] ?? null,
    positives: step.positives[index],
    negatives: step.negatives[index],
    points: step.points[index],
    distinct: step.distinct[index],
  }));
  const collator = new Intl.Collator(undefined, { numeric: true });
  const sign = descending ? -1 : 1;
  rows.sort((a, b) => {
    if (key === "name") return sign * collator.compare(a.name, b.name) || a.index - b.index;
    const x = a[key];
    const y = b[key];
    const xDefined = x !== null && Number.isFinite(x);
    const yDefined = y !== null && Number.isFinite(y);
    if (!xDefined && !yDefined) return a.index - b.index;
    if (!xDefined) return 1;
    if (!yDefined) return -1;
    return sign * ((x as number) - (y as number)) || a.index - b.index;
  });
  return rows;
}

/** The stored points of the curve nearest to the hovered ROC point in another view of it. */
export function rocPoint(curve: Curve, index: number): [number, number] {
  return [curve.fpr[index], curve.tpr[index]];
}

export function prPoint(curve: Curve, index: number): [number, number] {
  return [curve.tpr[index], curve.precision[index]];
}

/** The hover text of a curve's point: its threshold and rates exactly, and its four counts. */
export function pointLines(curve: Curve, index: number, source = ""): string[] {
  const c = confusionAt(curve, index);
  const start = index === 0;
  return [
    source ? `${curve.name} · ${source}` : curve.name,
    start ? "threshold: +Inf (nothing predicted positive)" : `threshold: ${formatExact(c.threshold)}`,
    `TPR: ${formatExact(curve.tpr[index])}`,
    `FPR: ${formatExact(curve.fpr[index])}`,
    `precision: ${formatExact(curve.precision[index])}${start ? " (by convention)" : ""}`,
    `recall: ${formatExact(curve.tpr[index])}`,
    `TP ${c.tp} · FP ${c.fp} · FN ${c.fn} · TN ${c.tn}`,
  ];
}

/** The lines of the AUC-by-step chart: binary its class's AUC; else the macro and micro averages
 * and the followed class's AUC. */
export function aucLines(
  series: SeriesPoint[],
  step: StepData,
  focus: Curve | null,
): Array<{ label: string; values: Array<number | null>; color: string }> {
  if (step.binary) {
    return [{ label: `AUC of ${curveName(step, 0)}`, values: series.map((p) => p.auc[0] ?? null), color: "#1976d2" }];
  }
  const lines = [
    { label: "macro AUC", values: series.map((p) => p.macro_auc), color: "#1976d2" },
    { label: "micro AUC", values: series.map((p) => p.micro_auc), color: "--ml-fg" },
  ];
  if (focus && focus.key !== "micro") {
    const index = focus.key;
    lines.push({ label: `AUC of ${focus.name}`, values: series.map((p) => p.auc[index] ?? null), color: "#f57c00" });
  }
  return lines;
}

export function summaryText(step: StepData, shown: number, referenceLabel: string): string {
  const n = step.class_names.length;
  return [
    `step ${step.step}`,
    `${step.samples} samples`,
    step.binary ? `binary (positive: ${curveName(step, 0)})` : `${n} classes, one-vs-rest`,
    step.binary
      ? `AUC ${formatScore(step.auc[0])} · AP ${formatScore(step.ap[0])}`
      : `macro AUC ${formatScore(step.macro_auc)} · micro AUC ${formatScore(step.micro_auc)}${step.micro_exact ? "" : " (micro from a 2²⁰-bin histogram)"} · macro AP ${formatScore(step.macro_ap)} · micro AP ${formatScore(step.micro_ap)}`,
    `${shown} curve${shown === 1 ? "" : "s"} shown`,
    `curves keep ≤ ${step.max_points} points each (AUC/AP from every threshold)`,
    ...(referenceLabel ? [`dashed: ${referenceLabel}`] : []),
  ].join(" · ");
}
