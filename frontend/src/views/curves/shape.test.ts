import assert from "node:assert/strict";
import { test } from "node:test";

import {
  aucLines,
  classRows,
  confusionAt,
  defaultSelection,
  deriveCurve,
  matchCurve,
  pointAtThreshold,
  pointLines,
  pointOfPosition,
  positionOfPoint,
  searchClasses,
  selectedCurves,
  summaryText,
  worstClasses,
  type CurveData,
  type StepData,
} from "./shape";

// y = [0, 0, 1, 1], scores = [0.1, 0.4, 0.35, 0.8]: scikit-learn's _binary_clf_curve gives
// thresholds [0.8, 0.4, 0.35, 0.1], tps [1, 1, 2, 2], fps [0, 1, 1, 2]
const SMALL: CurveData = {
  class: 0,
  name: "1",
  positives: 2,
  negatives: 2,
  auc: 0.75,
  ap: 0.8333333333333333,
  thresholds: [0.8, 0.4, 0.35, 0.1],
  tp: [1, 1, 2, 2],
  fp: [0, 1, 1, 2],
};

function step(names: string[], auc: Array<number | null>, binary = false): StepData {
  return {
    step: 3,
    wall_time: 0,
    binary,
    samples: 100,
    class_names: names,
    auc,
    ap: auc.map((a) => (a === null ? null : a - 0.1)),
    positives: names.map((_, i) => 10 + i),
    negatives: names.map((_, i) => 90 - i),
    points: names.map(() => 5),
    distinct: names.map(() => 5),
    micro_auc: 0.9,
    micro_ap: 0.8,
    macro_auc: 0.85,
    macro_ap: 0.75,
    micro_exact: true,
    max_points: 2000,
  };
}

test("a curve starts at threshold +Inf with ROC (0, 0) and PR (recall 0, precision 1), as scikit-learn", () => {
  const c = deriveCurve(SMALL);
  assert.deepEqual(Array.from(c.threshold), [Infinity, 0.8, 0.4, 0.35, 0.1]);
  // roc_curve(y, s, drop_intermediate=False)
  assert.deepEqual(Array.from(c.fpr), [0, 0, 0.5, 0.5, 1]);
  assert.deepEqual(Array.from(c.tpr), [0, 0.5, 0.5, 1, 1]);
  // precision_recall_curve(y, s), reversed: precision 1 at recall 0, then tp / (tp + fp)
  assert.deepEqual(Array.from(c.precision), [1, 1, 0.5, 2 / 3, 0.5]);
});

test("rates with no positives or no negatives are undefined, not 0", () => {
  const noPositives = deriveCurve({ ...SMALL, positives: 0, tp: [0, 0, 0, 0], fp: [1, 2, 3, 4], negatives: 4 });
  assert.ok(noPositives.tpr.every(Number.isNaN), "tp / P with P = 0");
  assert.deepEqual(Array.from(noPositives.fpr), [0, 0.25, 0.5, 0.75, 1]);
  assert.deepEqual(Array.from(noPositives.precision), [1, 0, 0, 0, 0]);
  const noNegatives = deriveCurve({ ...SMALL, negatives: 0, fp: [0, 0, 0, 0], tp: [1, 2, 3, 4], positives: 4 });
  assert.ok(noNegatives.fpr.every(Number.isNaN), "fp / N with N = 0");
  const c = confusionAt(noPositives, 0);
  assert.deepEqual([c.tp, c.fp, c.fn, c.tn], [0, 0, 0, 4]);
  assert.ok(Number.isNaN(c.precision) && Number.isNaN(c.recall) && Number.isNaN(c.f1), "0 / 0 is undefined");
  assert.equal(c.accuracy, 1);
});

test("the 2 × 2 matrix at a threshold: TP = tp, FP = fp, FN = P − tp, TN = N − fp", () => {
  const c = deriveCurve(SMALL);
  const at = confusionAt(c, 2); // score ≥ 0.4
  assert.deepEqual([at.threshold, at.tp, at.fp, at.fn, at.tn], [0.4, 1, 1, 1, 1]);
  assert.equal(at.precision, 0.5);
  assert.equal(at.recall, 0.5);
  assert.equal(at.f1, 0.5);
  assert.equal(at.fpr, 0.5);
  const all = confusionAt(c, 4); // the lowest threshold: everything positive
  assert.deepEqual([all.tp, all.fp, all.fn, all.tn], [2, 2, 0, 0]);
  assert.equal(all.f1, 2 / 3);
  const none = confusionAt(c, 0);
  assert.deepEqual([none.tp, none.fp, none.fn, none.tn], [0, 0, 2, 2]);
  assert.ok(Number.isNaN(none.precision));
  assert.equal(none.f1, 0);
});

test("the threshold slider runs from the lowest threshold to +Inf, and a threshold finds its point", () => {
  const c = deriveCurve(SMALL);
  assert.equal(pointOfPosition(c, 0), 4, "left: the lowest threshold");
  assert.equal(pointOfPosition(c, 4), 0, "right: +Inf, nothing positive");
  for (let i = 0; i < 5; i++) assert.equal(pointOfPosition(c, positionOfPoint(c, i)), i);
  assert.equal(pointAtThreshold(c, 0.5), 1, "score ≥ 0.5 is the point of threshold 0.8");
  assert.equal(pointAtThreshold(c, 0.4), 2, "a stored threshold is its own point");
  assert.equal(pointAtThreshold(c, 0.05), 4);
  assert.equal(pointAtThreshold(c, 0.9), 0);
  assert.equal(pointAtThreshold(c, Infinity), 0);
});

test("hover lines give the exact threshold and rates of a stored point", () => {
  const c = deriveCurve(SMALL);
  assert.deepEqual(pointLines(c, 3, "run b, step 1"), [
    "1 · run b, step 1",
    "threshold: 0.35",
    "TPR: 1",
    "FPR: 0.5",
    "precision: 0.6666666666666666",
    "recall: 1",
    "TP 2 · FP 1 · FN 0 · TN 1",
  ]);
  assert.equal(pointLines(c, 0)[1], "threshold: +Inf (nothing predicted positive)");
  const undefinedRates = deriveCurve({ ...SMALL, positives: 0, tp: [0, 0, 0, 0] });
  assert.equal(pointLines(undefinedRates, 2)[2], "TPR: undefined");
});

test("worst k by AUC leaves undefined AUCs out and breaks ties by index", () => {
  assert.deepEqual(worstClasses([0.9, null, 0.5, 0.7, 0.5, NaN], 3), [2, 4, 3]);
  assert.deepEqual(worstClasses([0.9, null], 5), [0]);
  assert.deepEqual(worstClasses([0.9], 0), []);
});

test("search is case-insensitive, in index order, capped", () => {
  const names = ["Cat", "dog", "concat", "<img src=x>", "CATERPILLAR"];
  assert.deepEqual(searchClasses(names, "cat", 10), [0, 2, 4]);
  assert.deepEqual(searchClasses(names, "cat", 2), [0, 2]);
  assert.deepEqual(searchClasses(names, "  ", 10), []);
  assert.deepEqual(searchClasses(names, "<IMG", 10), [3]);
});

test("the selection: all up to 10, worst k, search, picked names, micro average", () => {
  const few = step(["a", "b", "c"], [0.9, 0.6, null]);
  const input = { mode: "all" as const, k: 2, query: "", picked: [], micro: false };
  assert.deepEqual(selectedCurves(few, input), [0, 1, 2]);
  assert.deepEqual(selectedCurves(few, { ...input, micro: true }), [0, 1, 2, "micro"]);
  assert.deepEqual(selectedCurves(few, { ...input, mode: "worst", k: 1 }), [1]);
  assert.deepEqual(selectedCurves(few, { ...input, mode: "search", query: "B" }), [1]);
  assert.deepEqual(selectedCurves(few, { ...input, mode: "picked", picked: ["c", "gone", "a"] }), [2, 0]);
  assert.deepEqual(selectedCurves(few, { ...input, mode: "micro" }), ["micro"]);
  const many = step(
    Array.from({ length: 12 }, (_, i) => `c${i}`),
    Array.from({ length: 12 }, (_, i) => 1 - i / 100),
  );
  assert.deepEqual(selectedCurves(many, input), [11, 10, 9, 8, 7, 6, 5, 4, 3, 2], "over 10: the 10 worst");
  assert.deepEqual(defaultSelection(many), { mode: "worst", micro: true });
  assert.deepEqual(defaultSelection(few), { mode: "all", micro: false });
  const binary = step(["spam"], [0.8], true);
  assert.deepEqual(selectedCurves(binary, { ...input, mode: "micro", micro: true }), [0], "binary: its one curve");
});

test("a reference's curve is the class of the same name, or the micro average", () => {
  const now = step(["a", "b"], [0.9, 0.8]);
  const other = step(["b", "z"], [0.7, 0.6]);
  assert.equal(matchCurve(1, now.class_names, other), 0);
  assert.equal(matchCurve(0, now.class_names, other), null);
  assert.equal(matchCurve("micro", now.class_names, other), "micro");
  assert.equal(matchCurve("micro", now.class_names, step(["x"], [0.5], true)), null);
});

test("table rows sort by a score with undefined ones last either way", () => {
  const data = step(["class10", "class2", "class1"], [0.7, null, 0.9]);
  assert.deepEqual(
    classRows(data, "auc", false).map((r) => r.name),
    ["class10", "class1", "class2"],
  );
  assert.deepEqual(
    classRows(data, "auc", true).map((r) => r.name),
    ["class1", "class10", "class2"],
  );
  assert.deepEqual(
    classRows(data, "name", false).map((r) => r.name),
    ["class1", "class2", "class10"],
  );
  assert.deepEqual(
    classRows(data, "positives", true).map((r) => r.positives),
    [12, 11, 10],
  );
});

test("AUC by step: binary its class, else the averages and the followed class; the summary", () => {
  const series = [0, 1].map((s) => ({
    step: s,
    wall_time: 0,
    binary: false,
    num_classes: 2,
    samples: 10,
    micro_auc: 0.8 + s / 10,
    macro_auc: 0.7,
    micro_ap: null,
    macro_ap: null,
    auc: [0.5, s ? null : 0.6],
    ap: [null, null],
  }));
  const data = step(["a", "b"], [0.5, null]);
  const focus = deriveCurve({ ...SMALL, class: 1, name: "b" });
  const lines = aucLines(series, data, focus);
  assert.deepEqual(
    lines.map((l) => [l.label, l.values]),
    [
      ["macro AUC", [0.7, 0.7]],
      ["micro AUC", [0.8, 0.9]],
      ["AUC of b", [0.6, null]],
    ],
  );
  assert.equal(aucLines(series, data, deriveCurve({ ...SMALL, class: "micro", name: "m" })).length, 2);
  assert.deepEqual(
    aucLines(series, step(["spam"], [0.5], true), null).map((l) => l.label),
    ["AUC of spam"],
  );
  const text = summaryText(data, 2, "run b, step 1");
  assert.ok(text.includes("2 classes, one-vs-rest") && text.includes("macro AUC 0.8500"));
  assert.ok(text.endsWith("dashed: run b, step 1"));
});
