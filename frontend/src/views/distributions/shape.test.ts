import assert from "node:assert/strict";
import { test } from "node:test";

import { colorScale, packRgba } from "../../core/colors";
import {
  aggregateFor,
  bands,
  chosenScale,
  defaultCollapsed,
  defaultScale,
  detailTags,
  seriesVersion,
  displayRows,
  formatNumber,
  formatTick,
  groupPaths,
  histogramBins,
  matrixPixels,
  mergeSteps,
  parseThreshold,
  responsibleMember,
  rowMatrix,
  sortVerdicts,
  statRows,
  statsAt,
  type Series,
  type StepStats,
  type TensorSeries,
  type Verdict,
} from "./shape";

const RESNET = [
  "conv1.weight",
  "layer1.0.conv1.weight",
  "layer1.0.bn1.weight",
  "layer1.1.conv1.weight",
  "layer1.1.bn1.weight",
  "fc.weight",
  "fc.bias",
];

test("module-path groups stop above the owning module", () => {
  assert.deepEqual(groupPaths("layer1.0.conv1.weight"), ["layer1", "layer1.0"]);
  assert.deepEqual(groupPaths("fc.weight"), []);
  assert.deepEqual(groupPaths("weight"), []);
  assert.deepEqual(groupPaths("dense/kernel/histogram"), ["dense"]);
});

test("rows keep model order, nest groups and collapse them into one aggregated row", () => {
  const rows = displayRows(RESNET, new Set(), "max");
  assert.deepEqual(
    rows.map((r) => [r.kind, r.key, r.depth]),
    [
      ["tensor", "conv1.weight", 0],
      ["group", "layer1", 0],
      ["group", "layer1.0", 1],
      ["tensor", "layer1.0.conv1.weight", 2],
      ["tensor", "layer1.0.bn1.weight", 2],
      ["group", "layer1.1", 1],
      ["tensor", "layer1.1.conv1.weight", 2],
      ["tensor", "layer1.1.bn1.weight", 2],
      ["tensor", "fc.weight", 0],
      ["tensor", "fc.bias", 0],
    ],
  );
  assert.equal(rows[1].label, "▾ layer1 (max of 4)");
  assert.equal(rows[3].label, "    conv1.weight", "a member is named relative to its group, indented");
  const collapsed = displayRows(RESNET, new Set(["layer1"]), "max");
  assert.deepEqual(
    collapsed.map((r) => r.key),
    ["conv1.weight", "layer1", "fc.weight", "fc.bias"],
  );
  assert.equal(collapsed[1].label, "▸ layer1 (max of 4)");
  assert.deepEqual(collapsed[1].members, [1, 2, 3, 4]);
});

test("a group of one tensor is no group, and a chain of groups shows its innermost", () => {
  const rows = displayRows(["enc.block.0.w", "enc.block.0.b", "head.lin.w"], new Set(), "max");
  assert.deepEqual(
    rows.map((r) => [r.kind, r.key]),
    [
      ["group", "enc.block"],
      ["tensor", "enc.block.0.w"],
      ["tensor", "enc.block.0.b"],
      ["tensor", "head.lin.w"],
    ],
  );
});

test("many tensors collapse their outermost groups by default", () => {
  const names = Array.from({ length: 70 }, (_, i) => `blocks.${i}.fc.weight`);
  assert.deepEqual([...defaultCollapsed(names)], ["blocks"]);
  // 30 blocks of 4 tensors: collapsing each block leaves 1 + 30 rows
  const blocks = Array.from({ length: 120 }, (_, i) => `blocks.${i >> 2}.${["q", "k", "v", "o"][i % 4]}.weight`);
  const collapsed = defaultCollapsed(blocks);
  assert.equal(collapsed.size, 30);
  assert.equal(displayRows(blocks, collapsed, "max").length, 31);
  assert.equal(defaultCollapsed(RESNET).size, 0);
});

function series(values: Array<Array<number | null>>, nonfinite: Array<[number, number, number]> = []): Series {
  return {
    run: "r",
    tag: "gradients",
    metric: "norm",
    approximate: false,
    metrics: ["norm"],
    steps: values[0].map((_, i) => i * 10),
    wall_times: values[0].map(() => 0),
    tensors: values.map((_, i) => ({ name: `m.${i}.w`, shape: [2], dtype: "float32", elements: 2 })),
    values,
    nonfinite,
  };
}

test("the matrix aggregates a collapsed group, keeps null as NaN and flags non-finite cells", () => {
  const data = series(
    [
      [1, 2, null],
      [3, null, null],
    ],
    [[1, 1, 1]],
  );
  const rows = displayRows(
    data.tensors.map((t) => t.name),
    new Set(["m"]),
    "max",
  );
  // m.0.w and m.1.w share no module below "m": one group row
  assert.deepEqual(
    rows.map((r) => r.key),
    ["m"],
  );
  const matrix = rowMatrix(data, rows, "max");
  assert.deepEqual(Array.from(matrix.values.slice(0, 2)), [3, 2]);
  assert.ok(Number.isNaN(matrix.values[2]));
  assert.deepEqual(Array.from(matrix.nonfinite), [0, 1, 0]);
  assert.deepEqual(Array.from(rowMatrix(data, rows, "sum").values.slice(0, 2)), [4, 2]);
  assert.deepEqual(Array.from(rowMatrix(data, rows, "min").values.slice(0, 2)), [1, 2]);
  assert.equal(responsibleMember(data, rows[0], 0, "max"), 1);
  assert.equal(responsibleMember(data, rows[0], 1, "max"), 1, "the tensor with NaN/Inf is the one to look at");
  assert.equal(responsibleMember(data, rows[0], 0, "min"), 0);
});

test("pixels use the scale, the no-data colour and the non-finite colour", () => {
  const matrix = {
    rows: 1,
    columns: 3,
    values: new Float64Array([0.1, NaN, 10]),
    nonfinite: new Uint8Array([0, 0, 1]),
  };
  const table = new Uint32Array(256).map((_, i) => i);
  const scale = colorScale(matrix.values, "log");
  const noData = packRgba(1, 2, 3, 4);
  const bad = packRgba(255, 0, 255);
  const pixels = new Uint32Array(matrixPixels(matrix, scale.index, table, noData, bad).buffer);
  assert.deepEqual(Array.from(pixels), [0, noData, bad]);
});

test("scales: log for norms with the smallest positive value as the lower bound", () => {
  const scale = colorScale([0, 0.001, 0.1, 10, NaN], "log");
  assert.equal(scale.low, 0.001);
  assert.equal(scale.high, 10);
  assert.equal(scale.index(0.001), 0);
  assert.equal(scale.index(10), 255);
  assert.equal(scale.index(0.1), 128);
  assert.equal(scale.index(0), 0, "zero sits at the bottom of a log scale");
  assert.equal(scale.index(NaN), -1);
  assert.equal(defaultScale("norm"), "log");
  assert.equal(defaultScale("zero_fraction"), "unit");
  assert.equal(defaultScale("mean"), "diverging");
  assert.equal(defaultScale("nonfinite"), "log1p");
  assert.equal(chosenScale("norm", "linear"), "linear");
  assert.equal(chosenScale("zero_fraction", "log"), "log");
  assert.equal(aggregateFor("nonfinite"), "sum");
  const linear = colorScale([-2, 2], "linear");
  assert.equal(linear.index(0), 128);
});

function stats(step: number, extra: Partial<StepStats> = {}): StepStats {
  return {
    step,
    wall_time: 0,
    elements: 4,
    zeros: 1,
    nan: 0,
    posinf: 0,
    neginf: 0,
    min: -1,
    max: 1,
    mean: 0,
    std: 0.5,
    norm: 1.5,
    percentiles: { "1": -0.9, "5": -0.8, "25": -0.3, "50": 0, "75": 0.3, "95": 0.8, "99": 0.9 },
    histogram: [1, 2, 0, 1],
    extras: {},
    ...extra,
  };
}

const TENSOR: TensorSeries = {
  run: "r",
  tag: "weights",
  name: "fc.weight",
  shape: [2, 2],
  dtype: "float32",
  approximate: false,
  bins: 4,
  steps: [stats(0), stats(10, { min: null, extras: { update_ratio: 0.002 } })],
};

test("bands align a tensor to the given steps", () => {
  const b = bands(TENSOR, mergeSteps([0, 10], [5, 10]));
  assert.deepEqual(b.steps, [0, 5, 10]);
  assert.deepEqual(b.min, [-1, null, null]);
  assert.deepEqual(b.percentiles["50"], [0, null, 0]);
  assert.equal(statsAt(TENSOR, 10)?.step, 10);
  assert.equal(statsAt(TENSOR, 5), null);
});

test("histogram bins span min to max, or the given edges", () => {
  const bins = histogramBins(stats(0));
  assert.deepEqual(
    bins.map((b) => [b.low, b.high, b.count]),
    [
      [-1, -0.5, 1],
      [-0.5, 0, 2],
      [0, 0.5, 0],
      [0.5, 1, 1],
    ],
  );
  const edged = histogramBins(stats(0, { histogram: [3, 4], edges: [0, 1, 5] }));
  assert.deepEqual(
    edged.map((b) => [b.low, b.high, b.count]),
    [
      [0, 1, 3],
      [1, 5, 4],
    ],
  );
});

test("the statistics table lists counts, values, percentiles and extras; unknown stays unknown", () => {
  const rows = statRows([statsAt(TENSOR, 10), null]);
  const byLabel = new Map(rows);
  assert.deepEqual(byLabel.get("elements"), ["4", "–"]);
  assert.deepEqual(byLabel.get("min"), ["unknown", "–"]);
  assert.deepEqual(byLabel.get("p50"), ["0", "–"]);
  assert.deepEqual(byLabel.get("update ratio"), ["0.002000", "–"]);
  assert.equal(formatNumber(1.23456e-7), "1.235e-7");
  assert.equal(formatNumber(Infinity), "+Inf");
});

test("weights and gradients are shown together when the run has both", () => {
  assert.deepEqual(detailTags(["gradients", "weights", "updates"], "gradients"), ["weights", "gradients"]);
  assert.deepEqual(detailTags(["gradients"], "gradients"), ["gradients"]);
  assert.deepEqual(detailTags(["enc/gradients", "enc/weights", "weights"], "enc/weights"), [
    "enc/weights",
    "enc/gradients",
  ]);
  assert.deepEqual(detailTags(["enc/gradients", "weights"], "enc/gradients"), ["enc/gradients"]);
  assert.deepEqual(detailTags(["weights", "gradients", "updates"], "updates"), ["updates"]);
});

test("verdicts sort errors first; thresholds must be positive numbers", () => {
  const v = (severity: string, first: number): Verdict => ({
    kind: "k",
    severity,
    tag: "gradients",
    tensors: ["a"],
    first_step: first,
    last_step: first,
    message: "m",
  });
  assert.deepEqual(
    sortVerdicts([v("warning", 1), v("error", 5), v("error", 2)]).map((x) => [x.severity, x.first_step]),
    [
      ["error", 2],
      ["error", 5],
      ["warning", 1],
    ],
  );
  assert.equal(parseThreshold("0.5"), 0.5);
  assert.equal(parseThreshold("1e-3"), 0.001);
  assert.equal(parseThreshold("0"), null);
  assert.equal(parseThreshold("-1"), null);
  assert.equal(parseThreshold("abc"), null);
});

test("ticks are short", () => {
  assert.equal(formatTick(-0.2), "-0.2");
  assert.equal(formatTick(0.05), "0.05");
  assert.equal(formatTick(2e-5), "2.0e-5");
  assert.equal(formatTick(1500000), "1.5e6");
});

test("a series' version changes with its last step or wall time, and only then", () => {
  assert.equal(
    seriesVersion({ steps: [0, 10], wall_times: [1, 2] }),
    seriesVersion({ steps: [0, 10], wall_times: [1, 2] }),
  );
  assert.notEqual(
    seriesVersion({ steps: [0, 10], wall_times: [1, 2] }),
    seriesVersion({ steps: [0, 10, 20], wall_times: [1, 2, 3] }),
  );
  assert.notEqual(
    seriesVersion({ steps: [0, 10], wall_times: [1, 2] }),
    seriesVersion({ steps: [0, 10], wall_times: [1, 5] }),
  );
  assert.equal(seriesVersion({ steps: [], wall_times: [] }), "empty");
});

test("a run of non-finite cells flags every step from its first to its last", () => {
  const data = series(
    [
      [1, 2, 3, 4],
      [1, 2, 3, 4],
    ],
    [[0, 1, 3]],
  );
  const rows = displayRows(
    data.tensors.map((t) => t.name),
    new Set(),
    "max",
  );
  const matrix = rowMatrix(data, rows, "max");
  const own = rows.findIndex((r) => r.key === "m.0.w");
  const other = rows.findIndex((r) => r.key === "m.1.w");
  assert.deepEqual(Array.from(matrix.nonfinite.slice(own * 4, own * 4 + 4)), [0, 1, 1, 1]);
  assert.deepEqual(Array.from(matrix.nonfinite.slice(other * 4, other * 4 + 4)), [0, 0, 0, 0]);
});
