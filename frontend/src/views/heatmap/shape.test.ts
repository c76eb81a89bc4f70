import assert from "node:assert/strict";
import { test } from "node:test";

import { lookupTable } from "../../core/colors";
import { tensorSvg } from "./exporting";
import { TensorIndexer, unravel, unravelRanges, type LayoutInfo } from "./layout";
import {
  cellLines,
  cellPixels,
  difference,
  divergingScale,
  EMPTY,
  FINITE,
  formatExact,
  formatShort,
  mismatch,
  NAN,
  NEGINF,
  PADDING,
  POSINF,
  reducedNote,
  shapeStep,
  SPECIAL_RGBA,
  stepBound,
  summaryText,
  UNMATCHED,
  type StepJson,
} from "./shape";

function info(partial: Partial<LayoutInfo> & Pick<LayoutInfo, "shape" | "layout" | "rows" | "cols">): LayoutInfo {
  return { tile: null, grid: null, channels: null, ...partial };
}

const pack = (r: number, g: number, b: number, a: number) =>
  new Uint32Array(new Uint8ClampedArray([r, g, b, a]).buffer)[0];

test("unravel and unravelRanges agree with a brute-force walk", () => {
  const dims = [3, 4, 5];
  assert.deepEqual(unravel(0, dims), [0, 0, 0]);
  assert.deepEqual(unravel(59, dims), [2, 3, 4]);
  assert.deepEqual(unravel(23, dims), [1, 0, 3]);
  for (const [a, b] of [
    [0, 1],
    [3, 7],
    [4, 6],
    [18, 22],
    [19, 41],
    [0, 60],
    [55, 60],
  ]) {
    const lo = dims.map(() => Infinity);
    const hi = dims.map(() => -Infinity);
    for (let i = a; i < b; i++) {
      unravel(i, dims).forEach((v, j) => {
        lo[j] = Math.min(lo[j], v);
        hi[j] = Math.max(hi[j], v);
      });
    }
    assert.deepEqual(
      unravelRanges(a, b, dims),
      dims.map((_, j) => [lo[j], hi[j]]),
      `${a}…${b}`,
    );
  }
});

test("row and matrix layouts: 1-D, 2-D as is, 3-D [a, b·c], 4-D [d0, d1·d2·d3]", () => {
  const row = new TensorIndexer(info({ shape: [10], layout: "row", rows: 1, cols: 10 }));
  assert.deepEqual(row.index(0, 7), [7]);
  assert.equal(row.format([7]), "[7]");
  const matrix = new TensorIndexer(info({ shape: [4, 6], layout: "matrix", rows: 4, cols: 6 }));
  assert.deepEqual(matrix.index(3, 5), [3, 5]);
  const three = new TensorIndexer(info({ shape: [2, 3, 4], layout: "matrix", rows: 2, cols: 12 }));
  assert.deepEqual(three.index(1, 7), [1, 1, 3]);
  const four = new TensorIndexer(info({ shape: [2, 3, 4, 5], layout: "matrix", rows: 2, cols: 60 }));
  assert.deepEqual(four.index(1, 59), [1, 2, 3, 4]);
  assert.deepEqual(four.index(0, 26), [0, 1, 1, 1]);
  assert.equal(four.hasPadding, false);
});

test("kernels: [out, in, kh, kw] as a grid of out × in kernels", () => {
  const [out, inner, kh, kw] = [4, 3, 3, 2];
  const k = new TensorIndexer(
    info({
      shape: [out, inner, kh, kw],
      layout: "kernels",
      rows: out * kh,
      cols: inner * kw,
      tile: [kh, kw],
      grid: [out, inner],
    }),
  );
  // the writer's image: image[o*kh + y, i*kw + x] = w[o, i, y, x]
  for (let o = 0; o < out; o++)
    for (let i = 0; i < inner; i++)
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++) assert.deepEqual(k.index(o * kh + y, i * kw + x), [o, i, y, x]);
  assert.equal(k.format(k.index(3 * kh + 2, 1 * kw)!), "[out=3, in=1, 2, 0]");
  assert.deepEqual(k.tile, [kh, kw]);
  assert.deepEqual(k.grid, [out, inner]);
});

test("kernels, channels_last: Keras [kh, kw, in, out] indices of the same image", () => {
  const [kh, kw, inner, out] = [3, 3, 2, 5];
  const k = new TensorIndexer(
    info({
      shape: [kh, kw, inner, out],
      layout: "kernels",
      rows: out * kh,
      cols: inner * kw,
      tile: [kh, kw],
      grid: [out, inner],
      channels_last: true,
    }),
  );
  assert.deepEqual(k.index(4 * kh + 1, 1 * kw + 2), [1, 2, 1, 4]);
  assert.equal(k.format([1, 2, 1, 4]), "[1, 2, in=1, out=4]");
  // without tile and grid in the answer they follow from the shape
  const derived = new TensorIndexer(
    info({ shape: [kh, kw, inner, out], layout: "kernels", rows: out * kh, cols: inner * kw, channels_last: true }),
  );
  assert.deepEqual(derived.index(4 * kh + 1, 1 * kw + 2), [1, 2, 1, 4]);
});

test("channels: C maps in a ceil(sqrt(C))-column grid, padding tiles beyond C", () => {
  const [n, c, h, w] = [2, 5, 3, 4]; // 5 channels: 3 columns, 2 rows, one padding tile
  const layout = info({
    shape: [n, c, h, w],
    layout: "channels",
    rows: 2 * h,
    cols: 3 * w,
    tile: [h, w],
    grid: [2, 3],
    channels: c,
    batch_index: 1,
  });
  const k = new TensorIndexer(layout);
  assert.equal(k.hasPadding, true);
  assert.deepEqual(k.index(0, 0), [1, 0, 0, 0]);
  assert.deepEqual(k.index(h + 2, w + 3), [1, 4, 2, 3]); // tile row 1, column 1: channel 4
  assert.equal(k.index(h, 2 * w), null); // tile 5: padding
  assert.equal(k.isPadding(h + 1, 2 * w + 1), true);
  assert.equal(k.format([1, 4, 2, 3]), "[n=1, c=4, 2, 3]");
  // channels_last: [N, H, W, C]
  const last = new TensorIndexer({ ...layout, shape: [n, h, w, c], channels_last: true });
  assert.deepEqual(last.index(h + 2, w + 3), [1, 2, 3, 4]);
  assert.equal(last.format([1, 2, 3, 4]), "[n=1, 2, 3, c=4]");
  // 3-D [C, H, W] and [H, W, C]
  const three = new TensorIndexer({ ...layout, shape: [c, h, w], batch_index: undefined });
  assert.deepEqual(three.index(h + 2, w + 3), [4, 2, 3]);
  const threeLast = new TensorIndexer({ ...layout, shape: [h, w, c], channels_last: true, batch_index: undefined });
  assert.deepEqual(threeLast.index(h + 2, w + 3), [2, 3, 4]);
  // an answer without the sample number says so instead of guessing
  const unknown = new TensorIndexer({ ...layout, batch_index: undefined });
  assert.equal(unknown.format(unknown.index(0, 0)!), "[n=?, c=0, 0, 0]");
});

test("block ranges: every axis's range over a block, padding excluded", () => {
  const kernels = new TensorIndexer(
    info({ shape: [8, 4, 3, 3], layout: "kernels", rows: 24, cols: 12, tile: [3, 3], grid: [8, 4] }),
  );
  // rows 0–3: out 0–1, y 0–2; columns 4–7: in 1–2, x 0–2
  assert.deepEqual(kernels.blockRanges(0, 4, 4, 8), [
    [0, 1],
    [1, 2],
    [0, 2],
    [0, 2],
  ]);
  assert.equal(kernels.formatRanges(kernels.blockRanges(0, 4, 4, 8)!), "[out=0–1, in=1–2, 0–2, 0–2]");
  assert.deepEqual(kernels.blockRanges(3, 5, 3, 4), [
    [1, 1],
    [1, 1],
    [0, 1],
    [0, 0],
  ]);
  const matrix = new TensorIndexer(info({ shape: [4096, 4096], layout: "matrix", rows: 4096, cols: 4096 }));
  assert.equal(matrix.formatRanges(matrix.blockRanges(8, 12, 4092, 4096)!), "[8–11, 4092–4095]");
  assert.equal(matrix.blockCells(8, 12, 4092, 4096), 16);
  const channels = new TensorIndexer(
    info({
      shape: [1, 5, 4, 4],
      layout: "channels",
      rows: 8,
      cols: 12,
      tile: [4, 4],
      grid: [2, 3],
      channels: 5,
      batch_index: 0,
    }),
  );
  // a block over channel 4 (tile 1,1) and the padding tile (1,2): only channel 4's part counts
  assert.deepEqual(channels.blockRanges(6, 8, 6, 10), [
    [0, 0],
    [4, 4],
    [2, 3],
    [2, 3],
  ]);
  assert.equal(channels.blockCells(6, 8, 6, 10), 4);
  assert.equal(channels.blockRanges(4, 8, 8, 12), null); // all padding
  assert.equal(channels.blockCells(4, 8, 8, 12), 0);
});

function exactStep(values: Array<number | null>, rows: number, cols: number, extra: Partial<StepJson> = {}): StepJson {
  const cells: number[] = [];
  const nan: number[] = [];
  const posinf: number[] = [];
  const neginf: number[] = [];
  return {
    step: 3,
    wall_time: 1,
    shape: [rows, cols],
    dtype: "float32",
    layout: "matrix",
    rows,
    cols,
    row_block: 1,
    col_block: 1,
    stored_rows: rows,
    stored_cols: cols,
    tile: null,
    grid: null,
    channels: null,
    reduced: false,
    finite_min: -2,
    finite_max: 1,
    mean: 0,
    std: 1,
    count: rows * cols,
    nan: 0,
    posinf: 0,
    neginf: 0,
    zeros: 0,
    values,
    min: null,
    max: null,
    nonfinite: { cells, nan, posinf, neginf },
    ...extra,
  };
}

test("an exact step: NaN, +Inf and −Inf cells get their own kind and colour, never a value colour", () => {
  const json = exactStep([0.5, null, -2, null, 1, null], 2, 3, {
    nan: 1,
    posinf: 1,
    neginf: 1,
    nonfinite: { cells: [1, 3, 5], nan: [1, 0, 0], posinf: [0, 1, 0], neginf: [0, 0, 1] },
  });
  const step = shapeStep(json);
  assert.deepEqual(Array.from(step.kind), [FINITE, NAN, FINITE, POSINF, FINITE, NEGINF]);
  assert.equal(stepBound(step.meta), 2);
  const scale = divergingScale(stepBound(step.meta));
  assert.equal(scale.low, -2);
  assert.equal(scale.high, 2);
  assert.equal(scale.index(0), 128); // the centre of the diverging map is 0
  assert.equal(scale.index(-2), 0);
  assert.equal(scale.index(2), 255);
  const table = new Uint32Array(lookupTable("diverging").buffer);
  const rgba = cellPixels(step.values, step.kind, scale, table, pack);
  const pixel = (i: number) => Array.from(rgba.subarray(i * 4, i * 4 + 4));
  assert.deepEqual(pixel(1), SPECIAL_RGBA[NAN]);
  assert.deepEqual(pixel(3), SPECIAL_RGBA[POSINF]);
  assert.deepEqual(pixel(5), SPECIAL_RGBA[NEGINF]);
  const colours = new Set([NAN, POSINF, NEGINF].map((k) => SPECIAL_RGBA[k].join()));
  assert.equal(colours.size, 3, "three distinct colours");
  for (let t = 0; t < 256; t++) {
    const value = Array.from(lookupTable("diverging").subarray(t * 4, t * 4 + 4)).join();
    assert.ok(!colours.has(value), "no non-finite colour is on the diverging scale");
  }
  assert.deepEqual(pixel(2), Array.from(lookupTable("diverging").subarray(0, 4))); // −2: the scale's end
  const lines = cellLines({ step, stat: "mean", reference: null }, 0, 1);
  assert.deepEqual(lines, ["index: [0, 1]", "value: NaN"]);
  assert.deepEqual(cellLines({ step, stat: "mean", reference: null }, 1, 0), ["index: [1, 0]", "value: +Inf"]);
});

test("formatExact: the shortest decimal that reads back to the stored float32 (or float64)", () => {
  const f = Math.fround;
  assert.equal(formatExact(f(0.1), true), "0.1");
  assert.equal(formatExact(f(1 / 3), true), "0.33333334");
  assert.equal(formatExact(f(-1.2345678e-7), true), "-1.2345679e-7"); // numpy: -1.2345679e-07
  assert.equal(formatExact(f(16777216), true), "16777216");
  for (const v of [0.1, 1e-30, 3.4e38, -7.25, 123456.789]) {
    const text = formatExact(f(v), true);
    assert.equal(f(Number(text)), f(v), text);
  }
  assert.equal(formatExact(f(0.1), false), "0.10000000149011612"); // stored as float64: every digit
  assert.equal(formatExact(0.1, true), "0.1"); // not a float32: JavaScript's shortest
  assert.equal(formatExact(NaN, true), "NaN");
  assert.equal(formatExact(-Infinity, true), "−Inf");
  assert.equal(formatShort(-0.000123456), "−0.0001235");
  assert.equal(formatShort(null), "n/a");
});

test("a reduced step: block means coloured, min/max selectable, hover shows ranges and counts", () => {
  // an 8 × 8 kernel image [2, 2, 4, 4] reduced in 2 × 2 blocks to 4 × 4
  const n = 16;
  const values = Array.from({ length: n }, (_, i) => i / 10);
  values[5] = null as unknown as number; // an all-NaN block
  const json: StepJson = {
    ...exactStep(values, 4, 4),
    shape: [2, 2, 4, 4],
    dtype: "float64",
    layout: "kernels",
    rows: 8,
    cols: 8,
    row_block: 2,
    col_block: 2,
    tile: [4, 4],
    grid: [2, 2],
    reduced: true,
    finite_min: -1,
    finite_max: 3,
    nan: 5,
    posinf: 1,
    min: values.map((v) => (v === null ? null : v - 1)),
    max: values.map((v) => (v === null ? null : v + 1)),
    nonfinite: { cells: [5, 6], nan: [4, 1], posinf: [0, 1], neginf: [0, 0] },
  };
  const step = shapeStep(json);
  assert.equal(step.kind[5], NAN);
  assert.equal(step.kind[6], NAN); // a NaN is never hidden by the mean of the others
  assert.equal(step.kind[7], FINITE);
  const lines = cellLines({ step, stat: "mean", reference: null }, 1, 2);
  assert.deepEqual(lines, [
    "block: rows 2–3, columns 4–5 of 8×8",
    "index: [out=0, in=1, 2–3, 0–1]",
    "mean: 0.6",
    "min: -0.4",
    "max: 1.6",
    "finite values: 2 of 4",
    "NaN: 1 · +Inf: 1 · −Inf: 0",
  ]);
  assert.equal(
    reducedNote(step.meta, "mean").split(" (")[0],
    "block-reduced 8×8 → 4×4, 2×2 blocks: colour = block mean",
  );
  assert.ok(reducedNote(step.meta, "max").includes("colour = block max"));
  assert.equal(reducedNote(shapeStep(exactStep([1], 1, 1)).meta, "mean"), "");
  assert.ok(summaryText(step.meta).includes("shape [2, 2, 4, 4] · float64 · kernels layout"));
});

test("a reduced 4096 × 4096 matrix: block ranges of the last block", () => {
  const stored = 1024;
  const json: StepJson = {
    ...exactStep(new Array(stored * stored).fill(0), stored, stored),
    shape: [4096, 4096],
    rows: 4096,
    cols: 4096,
    row_block: 4,
    col_block: 4,
    reduced: true,
    min: new Array(stored * stored).fill(0),
    max: new Array(stored * stored).fill(0),
  };
  const step = shapeStep(json);
  const lines = cellLines({ step, stat: "min", reference: null }, 1023, 1023);
  assert.equal(lines[0], "block: rows 4092–4095, columns 4092–4095 of 4096×4096");
  assert.equal(lines[1], "index: [4092–4095, 4092–4095]");
  assert.equal(
    reducedNote(step.meta, "mean").split(" (")[0],
    "block-reduced 4096×4096 → 1024×1024, 4×4 blocks: colour = block mean",
  );
});

test("channels padding tiles are drawn as background and say so on hover", () => {
  // [1, 3, 2, 2]: 3 channels in 2 columns × 2 rows, one padding tile; padding values are null
  const image = [1, 2, 5, 6, 3, 4, 7, 8, 9, 10, null, null, 11, 12, null, null]; // row-major 4 × 4
  const json: StepJson = {
    ...exactStep(image, 4, 4),
    shape: [1, 3, 2, 2],
    layout: "channels",
    tile: [2, 2],
    grid: [2, 2],
    channels: 3,
    batch_index: 0,
  };
  const step = shapeStep(json);
  assert.deepEqual(
    Array.from(step.kind).map((k) => (k === PADDING ? "p" : ".")),
    [".", ".", ".", ".", ".", ".", ".", ".", ".", ".", "p", "p", ".", ".", "p", "p"],
  );
  const rgba = cellPixels(
    step.values,
    step.kind,
    divergingScale(12),
    new Uint32Array(lookupTable("diverging").buffer),
    pack,
  );
  assert.equal(rgba[10 * 4 + 3], 0, "padding is transparent");
  assert.match(cellLines({ step, stat: "mean", reference: null }, 2, 3)[0], /^padding/);
  assert.deepEqual(cellLines({ step, stat: "mean", reference: null }, 3, 1), ["index: [n=0, c=2, 1, 1]", "value: 12"]);
});

test("an unlisted null in a reduced step is no data, not a value", () => {
  const json: StepJson = {
    ...exactStep([1, null], 1, 2),
    reduced: true,
    rows: 2,
    cols: 4,
    row_block: 2,
    col_block: 2,
    min: [1, null],
    max: [1, null],
  };
  assert.equal(shapeStep(json).kind[1], EMPTY);
});

test("difference against a reference: finite cells subtract, the rest are not comparable", () => {
  const a = shapeStep(
    exactStep([1, 2, null, 4], 2, 2, { nonfinite: { cells: [2], nan: [1], posinf: [0], neginf: [0] } }),
  );
  const b = shapeStep(
    exactStep([0.5, null, 3, 5], 2, 2, { nonfinite: { cells: [1], nan: [0], posinf: [1], neginf: [0] } }),
  );
  assert.equal(mismatch(a, b), "");
  const d = difference(a, b, "mean");
  assert.deepEqual(Array.from(d.kind), [FINITE, UNMATCHED, UNMATCHED, FINITE]);
  assert.deepEqual([d.values[0], d.values[3]], [0.5, -1]);
  assert.equal(d.bound, 1);
  const lines = cellLines({ step: a, stat: "mean", reference: { step: b, label: "step 1", diff: d } }, 1, 1);
  assert.deepEqual(lines, ["index: [1, 1]", "value: 4", "step 1 value: 5", "difference: -1"]);
  const other = shapeStep(exactStep([1, 2, 3], 1, 3));
  assert.match(mismatch(a, other), /shape/);
});

test("SVG export: vector cells for a small tensor, names escaped", () => {
  const step = shapeStep(exactStep([1, -1, 0, 0.5], 2, 2));
  const scale = divergingScale(2);
  const rgba = cellPixels(step.values, step.kind, scale, new Uint32Array(lookupTable("diverging").buffer), pack);
  const svg = tensorSvg({
    shown: { step, stat: "mean", reference: null },
    run: "<b>run</b>",
    tag: "fc1.weight",
    rgba,
    scale,
    rowNames: ["0", "1"],
    columnNames: ["0", "1"],
    legendText: "value: −2 … 2",
  });
  assert.equal((svg.match(/<rect/g) ?? []).length, 4);
  assert.ok(svg.includes("&lt;b&gt;run&lt;/b&gt;") && !svg.includes("<b>"));
  assert.ok(svg.includes("shape [2, 2]"));
});
