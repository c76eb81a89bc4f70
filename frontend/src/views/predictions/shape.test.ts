import assert from "node:assert/strict";
import { test } from "node:test";

import {
  cellAt,
  confidenceLines,
  decileBars,
  densityBin,
  densityScale,
  metricRows,
  paintOrder,
  pointColors,
  pointDensity,
  pointLines,
  POINT_COLOR_FLOOR,
  reliabilityBars,
  reliabilityLines,
  wrongRows,
  type ClassificationStep,
  type RegressionStep,
} from "./shape";

const HOSTILE = '<img src=x onerror="alert(1)">';

function regression(overrides: Partial<RegressionStep> = {}): RegressionStep {
  // a 4 × 4 density over [0, 4]: cell (row = true bin, column = predicted bin)
  const counts = new Array(16).fill(0);
  counts[0 * 4 + 0] = 1; // (0.5, 0.5)
  counts[1 * 4 + 2] = 5; // true in [1, 2), predicted in [2, 3)
  counts[3 * 4 + 3] = 2; // the top cell, edges included
  return {
    step: 1,
    wall_time: 0,
    task: "regression",
    samples: 4,
    mae: 0.5,
    rmse: 0.6,
    r2: 0.9,
    mean_error: 0.1,
    max_abs_error: 1.2,
    range: [0, 4],
    exact_points: true,
    points: { true: [0.5, 1.5, 4, 3.99], pred: [0.5, 2.5, 4, 3.2], ids: ["a", HOSTILE, "c", "d"] },
    density: { bins: 4, counts },
    residuals: { edges: [-1, 0, 1], counts: [1, 3] },
    by_quantile: [
      { lo: 0, hi: 1, count: 2, mae: 0.25, rmse: 0.3, mean_error: 0.1 },
      { lo: 1, hi: 4, count: 0, mae: null, rmse: null, mean_error: null },
    ],
    ...overrides,
  };
}

function classification(): ClassificationStep {
  return {
    step: 2,
    wall_time: 0,
    task: "classification",
    samples: 10,
    class_names: ["cat", HOSTILE, "dog"],
    accuracy: 0.7,
    ece: 0.05,
    mce: 0.2,
    reliability: [
      { lo: 0, hi: 0.5, count: 0, confidence: null, accuracy: null },
      null,
      { lo: 0.75, hi: 1, count: 10, confidence: 0.9, accuracy: 0.7 },
    ],
    confidence: { edges: [0, 0.5, 1], right: [0, 7], wrong: [1, 2] },
    wrong: [
      { index: 4, id: "s4", true: 1, predicted: 0, confidence: 0.8, true_probability: 0.1 },
      { index: 2, id: null, true: 0, predicted: 2, confidence: 0.95, true_probability: 0.01 },
      { index: 9, id: HOSTILE, true: 2, predicted: 1, confidence: 0.8, true_probability: 0.15 },
    ],
  };
}

test("density bins are equal parts of the range, the upper edge in the last", () => {
  assert.equal(densityBin(0, 0, 4, 4), 0);
  assert.equal(densityBin(0.999, 0, 4, 4), 0);
  assert.equal(densityBin(1, 0, 4, 4), 1);
  assert.equal(densityBin(4, 0, 4, 4), 3);
  assert.equal(densityBin(-1, 0, 4, 4), 0, "clamped");
  assert.equal(densityBin(7, 3, 3, 4), 0, "a constant range: one bin");
});

test("each point is coloured by the count of its density cell", () => {
  const step = regression();
  assert.deepEqual(Array.from(pointDensity(step)), [1, 5, 2, 2]);
  assert.equal(pointDensity(regression({ points: null })).length, 0);
  const scale = densityScale(step.density.counts);
  assert.equal(scale.high, 5);
  const colors = pointColors(pointDensity(step), scale);
  assert.equal(colors[1], 255, "the fullest cell: the top colour");
  assert.ok(colors[0] < colors[3] && colors[3] < colors[1], "log(1 + count) orders the colours");
  assert.ok(
    colors.every((c) => c >= POINT_COLOR_FLOOR),
    "never the darkest end of the map",
  );
  assert.equal(pointColors(new Float64Array([0]), scale)[0], POINT_COLOR_FLOOR);
});

test("paint order groups points by colour, sparse first", () => {
  const { order, starts } = paintOrder(new Uint8Array([255, 3, 3, 0]));
  assert.deepEqual(Array.from(order), [3, 1, 2, 0]);
  assert.equal(starts[0], 0);
  assert.equal(starts[3], 1);
  assert.equal(starts[4], 3);
  assert.equal(starts[256], 4);
});

test("hover on a point gives its id and exact values; elsewhere its cell", () => {
  const step = regression();
  assert.deepEqual(pointLines(step, 1, 5), [
    `id: ${HOSTILE}`,
    "true: 1.5",
    "predicted: 2.5",
    "error (pred − true): 1",
    "samples in its density cell: 5",
  ]);
  assert.equal(pointLines(regression({ points: { true: [1], pred: [2], ids: null } }), 0, 1)[0], "sample 0");
  assert.deepEqual(cellAt(step, 1.2, 2.9), { row: 1, column: 2, count: 5, trueRange: [1, 2], predRange: [2, 3] });
  assert.deepEqual(cellAt(step, 4, 4)?.trueRange, [3, 4]);
  assert.equal(cellAt(step, 4.5, 1), null);
});

test("deciles are bars by position; an empty decile has none", () => {
  const bars = decileBars(regression().by_quantile);
  assert.deepEqual(bars.edges, [0, 1, 2]);
  assert.equal(bars.heights[0], 0.25);
  assert.ok(Number.isNaN(bars.heights[1]));
});

test("reliability bars: accuracy per bin, the mean-confidence point; empty bins undefined", () => {
  const bins = classification().reliability;
  const bars = reliabilityBars(bins);
  assert.deepEqual(bars.edges, [0, 1 / 3, 0.75, 1]);
  assert.ok(Number.isNaN(bars.heights[0]) && Number.isNaN(bars.heights[1]));
  assert.equal(bars.heights[2], 0.7);
  assert.deepEqual([bars.x[2], bars.y[2]], [0.9, 0.7]);
  assert.deepEqual(reliabilityLines(bins[2], 2, 3), [
    "confidence [0.75, 1]",
    "samples: 10",
    "mean confidence: 0.9",
    "accuracy: 0.7",
    "gap (confidence − accuracy): 0.20000000000000007",
  ]);
  assert.deepEqual(reliabilityLines(null, 1, 3), [
    "confidence [0.3333333333333333, 0.6666666666666666)",
    "samples: 0",
    "accuracy: undefined",
  ]);
});

test("the confidence histogram's hover: right, wrong and the bin's accuracy", () => {
  assert.deepEqual(confidenceLines(classification(), 1), [
    "confidence [0.5, 1]",
    "right: 7",
    "wrong: 2",
    "accuracy: 0.7777777777777778",
  ]);
  assert.equal(confidenceLines(classification(), 0)[3], "accuracy: 0");
});

test("wrong samples: class names and ids as given, by confidence then index", () => {
  const rows = wrongRows(classification(), "confidence", true);
  assert.deepEqual(
    rows.map((r) => [r.index, r.id, r.true, r.predicted]),
    [
      [2, "2", "cat", "dog"],
      [4, "s4", HOSTILE, "cat"],
      [9, HOSTILE, "dog", HOSTILE],
    ],
  );
  assert.deepEqual(
    wrongRows(classification(), "true_probability", false).map((r) => r.index),
    [2, 4, 9],
  );
});

test("metrics beside a reference of the same task only", () => {
  const rows = metricRows(regression(), regression({ mae: 0.75 }));
  assert.deepEqual(rows[0], { name: "MAE", value: 0.5, reference: 0.75, better: "lower" });
  const across = metricRows(regression(), classification());
  assert.ok(across.every((r) => r.reference === null));
  assert.equal(metricRows(classification(), null)[1].name, "ECE (15 bins)");
});
