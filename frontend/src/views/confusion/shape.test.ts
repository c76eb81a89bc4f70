import assert from "node:assert/strict";
import { test } from "node:test";

import { escapeXml, heatmapSvg } from "../../core/export";
import {
  alignByName,
  cellDetail,
  classOrder,
  classRows,
  colorIndexer,
  difference,
  formatValue,
  normalize,
  topConfused,
  type StepData,
} from "./shape";

function step(names: string[], counts: number[], recall: Array<number | null> = names.map(() => null)): StepData {
  const n = names.length;
  return {
    step: 0,
    wall_time: 0,
    class_names: names,
    counts,
    metrics: {
      total: counts.reduce((a, b) => a + b, 0),
      accuracy: null,
      macro_f1: null,
      precision: names.map(() => null),
      recall,
      f1: names.map((_, i) => (recall[i] === null ? null : 0.5 + i / (10 * n))),
      support: names.map((_, i) => counts.slice(i * n, i * n + n).reduce((a, b) => a + b, 0)),
      predicted: names.map(() => 0),
    },
  };
}

// true a: 8 right, 2 → b; true b: 1 → a, 4 right; true c: nothing
const ABC = step(["a", "b", "c"], [8, 2, 0, 1, 4, 0, 0, 0, 0], [0.8, 0.8, null]);

test("normalize by true class divides rows, by predicted class divides columns", () => {
  assert.deepEqual(Array.from(normalize(ABC.counts, 3, "true").slice(0, 3)), [0.8, 0.2, 0]);
  const byPredicted = normalize(ABC.counts, 3, "pred");
  assert.equal(byPredicted[0], 8 / 9);
  assert.equal(byPredicted[3], 1 / 9);
  assert.ok(Number.isNaN(byPredicted[2]), "an empty column is undefined, not 0");
  assert.ok(Number.isNaN(normalize(ABC.counts, 3, "true")[6]), "an empty row is undefined, not 0");
});

test("cell detail gives exact counts and both shares", () => {
  const cell = cellDetail(ABC, 0, 1);
  assert.deepEqual(cell, { trueName: "a", predictedName: "b", count: 2, rowFraction: 0.2, columnFraction: 2 / 6 });
});

test("top confused pairs skip the diagonal and sort by count", () => {
  const pairs = topConfused(ABC, 5);
  assert.deepEqual(
    pairs.map((p) => [p.trueIndex, p.predictedIndex, p.count]),
    [
      [0, 1, 2],
      [1, 0, 1],
    ],
  );
});

test("class order by name is natural and by error puts the worst recall first", () => {
  const data = step(["class10", "class2", "class1"], new Array(9).fill(0), [0.9, 0.2, 0.5]);
  assert.deepEqual(classOrder(data, "name"), [2, 1, 0]);
  assert.deepEqual(classOrder(data, "error"), [1, 2, 0]);
  assert.deepEqual(classOrder(data, "index"), [0, 1, 2]);
});

test("alignment matches classes by name across runs, after normalizing in each run's classes", () => {
  // the reference has classes b, a, q; the current step a, b, z
  const reference = step(["b", "a", "q"], [4, 1, 5, 2, 8, 0, 0, 0, 0]);
  const referenceValues = normalize(reference.counts, 3, "true");
  const aligned = alignByName(referenceValues, reference.class_names, ["a", "b", "z"]);
  assert.deepEqual(Array.from(aligned.slice(0, 2)), [0.8, 0.2]); // a→a, a→b: its row's shares
  assert.deepEqual(Array.from(aligned.slice(3, 5)), [0.1, 0.4]); // b's row total includes b→q
  assert.ok(Number.isNaN(aligned[2]) && Number.isNaN(aligned[8]), "a class the reference lacks is NaN");
  assert.deepEqual(Array.from(difference(new Float64Array([5, 1]), new Float64Array([3, 4]))), [2, -3]);
});

test("colour indices span the scale; NaN is marked", () => {
  const counts = new Float64Array([0, 9, 99]);
  const index = colorIndexer(counts, "none");
  assert.equal(index(0), 0);
  assert.equal(index(99), 255);
  assert.equal(index(NaN), -1);
  const delta = colorIndexer(new Float64Array([-2, 1]), "delta");
  assert.equal(delta(-2), 0);
  assert.equal(delta(0), 128);
  assert.equal(delta(2), 255);
});

test("values format as counts, percentages and signed deltas", () => {
  assert.equal(formatValue(12, "none"), "12");
  assert.equal(formatValue(0.1234, "true"), "12.3%");
  assert.equal(formatValue(3, "none", true), "+3");
  assert.equal(formatValue(-0.05, "pred", true), "-5.0 pp");
  assert.equal(formatValue(NaN, "true"), "n/a");
});

test("table rows sort by a metric with undefined scores last", () => {
  const rows = classRows(ABC, "f1", true);
  assert.deepEqual(
    rows.map((r) => r.name),
    ["b", "a", "c"],
  );
  assert.deepEqual(
    classRows(ABC, "support", false).map((r) => r.support),
    [0, 5, 10],
  );
});

test("SVG export escapes class names", () => {
  const hostile = '<img src=x onerror="alert(1)">';
  const svg = heatmapSvg({
    rows: 1,
    columns: 1,
    rgba: new Uint8ClampedArray([1, 2, 3, 255]),
    rowNames: [hostile],
    columnNames: [hostile],
    title: "t & u",
  });
  assert.ok(!svg.includes("<img"), "no raw markup from a class name");
  assert.ok(svg.includes(escapeXml(hostile)));
  assert.ok(svg.includes("t &amp; u"));
  assert.ok(svg.includes('fill="rgb(1,2,3)"'));
});
