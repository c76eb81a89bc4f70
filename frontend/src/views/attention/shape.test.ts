import assert from "node:assert/strict";
import { test } from "node:test";

import { gridSvg, mapSvg } from "./exporting";
import {
  atlasTile,
  axisLabels,
  blockRange,
  cellLines,
  differenceScale,
  formatWeight,
  gridLayout,
  gridPosition,
  gridRefAt,
  isolate,
  lineAlphas,
  mapIndex,
  mapTitle,
  mismatch,
  ROLLOUT,
  scoreRows,
  thumbnailAtlas,
  tileOrigin,
  tokenText,
  tokenWeights,
  valuePixels,
  visibleRows,
  visibleName,
  visibleToken,
  weightScale,
  type StepData,
} from "./shape";
import { encodeMap, encodeThumbnails, mapFloats, parseMap, parseThumbnails } from "./wire";

const FSI = "\u2068";
const PDI = "\u2069";

test("visibleToken makes whitespace and invisible characters visible", () => {
  assert.equal(visibleToken(""), "∅");
  assert.equal(visibleToken(" "), "␣");
  assert.equal(visibleToken("   "), "␣␣␣");
  assert.equal(visibleToken(" the"), "␣the");
  assert.equal(visibleToken("\n"), "⏎");
  assert.equal(visibleToken("\t"), "⇥");
  assert.equal(visibleToken("a\r\nb"), "a␍⏎b");
  assert.equal(visibleToken("\u200b"), "⟨U+200B⟩");
  assert.equal(visibleToken("a\u200cb\u2060\ufeff"), "a⟨U+200C⟩b⟨U+2060⟩⟨U+FEFF⟩");
  assert.equal(visibleToken("\u00a0"), "⟨U+00A0⟩");
  assert.equal(visibleToken("\u0000\u007f"), "⟨U+0000⟩⟨U+007F⟩");
  assert.equal(visibleToken("\u202eevil"), "⟨U+202E⟩evil", "a bidi override is shown, not obeyed");
  assert.equal(visibleToken("\u2066x\u2069"), "⟨U+2066⟩x⟨U+2069⟩");
  assert.equal(visibleToken("\u3164"), "⟨U+3164⟩", "a Hangul filler draws nothing");
  assert.equal(visibleToken("\ud800"), "⟨U+D800⟩", "a lone surrogate");
  assert.equal(visibleToken("\u0301"), "◌\u0301", "a leading combining mark gets a base");
});

test("visibleToken leaves ordinary tokens, markup, right-to-left text and emoji as they are", () => {
  for (const token of ["##ing", "Ġthe", "▁the", "[CLS]", "<script>alert(1)</script>", "שלום", "مرحبا", "😀", "é"]) {
    assert.equal(visibleToken(token), token);
  }
  assert.equal(visibleToken("<img src=x onerror=alert(1)>"), "<img␣src=x␣onerror=alert(1)>");
  const family = "👨\u200d👩\u200d👧"; // zero-width joiners inside an emoji sequence stay
  assert.equal(visibleToken(family), family);
  const england = "🏴\u{e0067}\u{e0062}\u{e0065}\u{e006e}\u{e0067}\u{e007f}"; // a tag sequence stays
  assert.equal(visibleToken(england), england);
  assert.equal(visibleToken("😀\u200d"), "😀⟨U+200D⟩", "a trailing joiner joins nothing");
});

test("visibleName keeps single inner spaces of a name, shows the rest", () => {
  assert.equal(visibleName("layer 0"), "layer 0");
  assert.equal(visibleName("encoder layer  1 "), "encoder layer␣␣1␣");
  assert.equal(visibleName(" "), "␣");
  assert.equal(visibleName(""), "∅");
  assert.equal(visibleName("a\u200b b"), "a⟨U+200B⟩ b");
});

test("labels are isolated for bidi; blocked axes show token ranges", () => {
  assert.equal(isolate("שלום"), `${FSI}שלום${PDI}`);
  assert.equal(tokenText(""), `${FSI}∅${PDI}`);
  const tokens = ["a", "b", "c", "d", "e"];
  assert.deepEqual(axisLabels(tokens, 1, 5), tokens.map(tokenText));
  assert.deepEqual(blockRange(2, 2, 5), [4, 4], "the last block is clipped to the tokens");
  assert.deepEqual(axisLabels(tokens, 2, 3), [
    `0–1 ${tokenText("a")}…${tokenText("b")}`,
    `2–3 ${tokenText("c")}…${tokenText("d")}`,
    `4–4 ${tokenText("e")}…${tokenText("e")}`,
  ]);
});

test("map order: per layer its heads then the mean, the rollout last", () => {
  assert.equal(mapIndex({ layer: 0, head: 0 }, 2, 4), 0);
  assert.equal(mapIndex({ layer: 0, head: "mean" }, 2, 4), 4);
  assert.equal(mapIndex({ layer: 1, head: 2 }, 2, 4), 7);
  assert.equal(mapIndex({ layer: 1, head: "mean" }, 2, 4), 9);
  assert.equal(mapIndex(ROLLOUT, 2, 4), 10);
  assert.equal(
    mapTitle({ layer_names: ["enc\u200b.0"] }, { layer: 0, head: "mean" }),
    `${tokenText("enc\u200b.0")} · head mean`,
  );
});

test("the grid layout: tiles, the mean column and the rollout row, nothing between tiles", () => {
  const layout = gridLayout(12, 12, true, 900);
  assert.equal(layout.columns, 13);
  assert.equal(layout.rows, 13);
  assert.ok(layout.tile >= 18 && layout.tile <= 96);
  assert.ok(layout.width <= 900);
  const centre = (r: number, c: number) => {
    const { x, y } = tileOrigin(layout, r, c);
    return gridRefAt(layout, x + layout.tile / 2, y + layout.tile / 2);
  };
  assert.deepEqual(centre(3, 5), { layer: 3, head: 5 });
  assert.deepEqual(centre(3, 12), { layer: 3, head: "mean" });
  assert.deepEqual(centre(12, 0), ROLLOUT);
  assert.equal(centre(12, 1), null, "the rollout row has one map");
  assert.deepEqual(gridPosition(layout, ROLLOUT), [12, 0]);
  assert.deepEqual(gridPosition(layout, { layer: 2, head: "mean" }), [2, 12]);
  const { x, y } = tileOrigin(layout, 0, 1);
  assert.equal(gridRefAt(layout, x - layout.gap / 2, y + 5), null, "in the gap");
  assert.equal(gridRefAt(layout, 5, y + 5), null, "on the labels");
  assert.equal(gridLayout(1, 1, false, 100).tile, 18, "never smaller than 18 px");
});

const identity = Uint32Array.from({ length: 256 }, (_, i) => i);

test("thumbnail atlas: each map on its own scale, a shared scale, or a difference centred at 0", () => {
  // two 1 × 2 maps: [255, 0] with max 0.5 and [255, 128] with max 1
  const thumbs = parseThumbnails(encodeThumbnails(1, 2, [0.5, 1], [255, 0, 255, 128]));
  const tables = { weights: identity, diverging: identity };
  const own = thumbnailAtlas(thumbs, "own", tables);
  assert.equal(own.perRow, 2);
  assert.deepEqual([own.width, own.height], [4, 1]);
  assert.deepEqual(Array.from(new Uint32Array(own.rgba.buffer)), [255, 0, 255, 128]);
  assert.deepEqual(Array.from(own.bounds), [0.5, 1]);
  const shared = thumbnailAtlas(thumbs, "shared", tables);
  assert.deepEqual(Array.from(new Uint32Array(shared.rgba.buffer)), [128, 0, 255, 128]);
  const reference = parseThumbnails(encodeThumbnails(1, 2, [0.5, 1], [255, 0, 0, 255]));
  const diff = thumbnailAtlas(thumbs, "own", tables, reference);
  assert.ok(diff.diverging);
  // map 0 unchanged: the centre; map 1: +1 and −(1 − 128/255) against its own bound 1
  const pixels = Array.from(new Uint32Array(diff.rgba.buffer));
  assert.deepEqual(pixels.slice(0, 2), [128, 128]);
  assert.equal(pixels[2], 255);
  assert.equal(pixels[3], Math.round(((128 / 255 - 1 + 1) / 2) * 255));
  assert.deepEqual(Array.from(new Uint32Array(atlasTile(own, thumbs, 1).buffer)), [255, 128]);
  assert.equal(
    mismatch(thumbs, parseThumbnails(encodeThumbnails(2, 1, [1, 1], [0, 0, 0, 0]))),
    "1 × 2 against 2 × 1 cells",
  );
  assert.equal(mismatch(thumbs, reference), null);
});

test("colour scales and pixels", () => {
  assert.equal(weightScale(0.5).index(0.5), 255);
  assert.equal(weightScale(0.5).index(0.25), 128);
  assert.equal(weightScale(0).index(0), 0, "an all-zero map does not divide by zero");
  assert.equal(differenceScale(2).index(0), 128);
  assert.equal(differenceScale(2).index(-2), 0);
  assert.equal(differenceScale(2).index(5), 255);
  const rgba = valuePixels([0, 1, NaN], weightScale(1), identity, 7);
  assert.deepEqual(Array.from(new Uint32Array(rgba.buffer)), [0, 255, 7]);
});

function step(overrides: Partial<StepData> = {}): StepData {
  return {
    step: 3,
    wall_time: 1,
    layers: 2,
    heads: 2,
    queries: 3,
    keys: 3,
    tokens: ["[CLS]", "<img src=x onerror=alert(1)>", " "],
    query_tokens: ["[CLS]", "<img src=x onerror=alert(1)>", " "],
    self_attention: true,
    layer_names: ["layer 0", "<b>layer</b> 1"],
    rows: 3,
    cols: 3,
    row_block: 1,
    col_block: 1,
    top_k: 0,
    quantization: "uint8",
    max_error: 0.001,
    score_names: ["entropy", "previous", "first", "self", "separator"],
    scores: [
      [
        [1.0, 0.1, 0.5, 0.2, null],
        [0.2, 0.9, 0.1, 0.3, null],
      ],
      [
        [0.6, null, 0.7, 0.1, null],
        [0.4, 0.3, 0.2, 0.9, null],
      ],
    ],
    rollout: true,
    rollout_exact: true,
    thumbnail: { rows: 3, cols: 3 },
    ...overrides,
  };
}

test("head scores sort by each score, undefined last either way", () => {
  const data = step();
  const order = (key: string, descending: boolean) =>
    scoreRows(data, key, descending).map((r) => `${r.layer}.${r.head}`);
  assert.deepEqual(order("layer", false), ["0.0", "0.1", "1.0", "1.1"]);
  assert.deepEqual(order("entropy", false), ["0.1", "1.1", "1.0", "0.0"]);
  assert.deepEqual(order("previous", true), ["0.1", "1.1", "0.0", "1.0"]);
  assert.deepEqual(order("previous", false), ["0.0", "1.1", "0.1", "1.0"]);
  assert.deepEqual(order("separator", true), ["0.0", "0.1", "1.0", "1.1"], "all undefined: model order");
  assert.equal(scoreRows(data, "layer", false)[3].layerName, "<b>layer</b> 1");
});

test("a cell's tooltip: tokens as text, the stored weight and the row's bound; a difference", () => {
  const map = parseMap(
    encodeMap({ rows: 3, cols: 3, scale: [0.51, 1, 1], values: [255, 100, 0, 0, 255, 0, 0, 0, 255] }),
  );
  const values = mapFloats(map);
  const context = {
    map,
    queryTokens: step().query_tokens,
    keyTokens: step().tokens,
    title: "layer 0 · head 1",
    values,
    reference: null,
  };
  const lines = cellLines(context, 0, 1);
  assert.equal(lines[0], "layer 0 · head 1");
  assert.equal(lines[1], `query 0: ${tokenText("[CLS]")}`);
  assert.equal(lines[2], `key 1: ${FSI}<img␣src=x␣onerror=alert(1)>${PDI}`);
  assert.equal(lines[3], `weight: ${formatWeight(values[1])}`);
  assert.ok(Math.abs(Number(formatWeight(values[1])) - (100 / 255) * 0.51) < 1e-6);
  assert.equal(lines[4], "row bound: ± 0.001 (uint8, row max / 510)");
  const withReference = cellLines({ ...context, reference: { label: "step 1", values: new Float32Array(9) } }, 0, 0);
  assert.equal(withReference[5], `step 1: 0`);
  assert.equal(withReference[6], `difference: +${formatWeight(values[0])}`);
  const blocked = parseMap(
    encodeMap({ rows: 1, cols: 2, queries: 2, keys: 3, rowBlock: 2, colBlock: 2, scale: [1], values: [255, 0] }),
  );
  const blockLines = cellLines({ ...context, map: blocked, values: mapFloats(blocked) }, 0, 1);
  assert.equal(blockLines[1], `queries 0–1: ${tokenText("[CLS]")} … ${tokenText("<img src=x onerror=alert(1)>")}`);
  assert.equal(blockLines[2], `key 2: ${tokenText(" ")}`, "a one-token block");
  assert.match(blockLines[3], /^weight: 0 \(block: sum over its keys, mean over its queries\)$/);
});

test("token view: a query's row, a key's column, opacities against the largest line", () => {
  const values = Float32Array.from([0.5, 0.5, 0, 0.1, 0.8, 0.1]); // 2 × 3
  assert.deepEqual(Array.from(tokenWeights(values, 2, 3, "query", 1)), [0.1, 0.8, 0.1].map(Math.fround));
  assert.deepEqual(Array.from(tokenWeights(values, 2, 3, "key", 1)), [0.5, 0.8].map(Math.fround));
  const [a, b] = lineAlphas([Float32Array.from([0.4, 0.001]), Float32Array.from([0.8, 0])]);
  assert.deepEqual(Array.from(a), [0.5, 0]);
  assert.deepEqual(Array.from(b), [1, 0]);
  assert.deepEqual(visibleRows(100, 16, 0, 160), [0, 10]);
  assert.deepEqual(visibleRows(100, 16, 1584, 160), [99, 99]);
});

test("formatWeight: six significant digits, no trailing zeros", () => {
  assert.equal(formatWeight(0), "0");
  assert.equal(formatWeight(0.5), "0.5");
  assert.equal(formatWeight(1 / 3), "0.333333");
  assert.equal(formatWeight(1.2345e-7), "1.2345e-7");
  assert.equal(formatWeight(NaN), "n/a");
});

test("SVG exports keep hostile names as text", () => {
  const data = step({ layers: 1, heads: 1, rollout: false, layer_names: ['<img src=x onerror="alert(1)">'] });
  const thumbs = parseThumbnails(encodeThumbnails(1, 1, [1, 1], [255, 0]));
  const atlas = thumbnailAtlas(thumbs, "own", { weights: identity, diverging: identity });
  const svg = gridSvg(
    { run: "r<1>", tag: "t&", step: data, thumbs, atlas, compare: "" },
    () => "data:image/png;base64,AA==",
  );
  assert.ok(svg.startsWith("<svg"));
  assert.equal(svg.match(/<image /g)?.length, 2, "a head and its mean");
  assert.ok(svg.includes("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;") && !svg.includes("<img"));
  assert.ok(svg.includes("t&amp; · r&lt;1&gt; · step 3"));

  const map = parseMap(encodeMap({ rows: 3, cols: 3, scale: [1, 1, 1], values: [255, 0, 0, 0, 255, 0, 0, 0, 255] }));
  const values = mapFloats(map);
  const text = mapSvg({
    request: { run: "r", tag: "t", step: step(), ref: { layer: 0, head: 1 }, reference: null },
    map,
    values,
    shown: values,
    rgba: valuePixels(values, weightScale(1), identity),
    rowNames: axisLabels(step().query_tokens, 1, 3),
    columnNames: axisLabels(step().tokens, 1, 3),
    title: "layer 0 · head 1 · step 3",
    scaleNote: "weight 0 … 1",
    reference: null,
  });
  assert.equal(text.match(/<rect /g)?.length, 9);
  assert.ok(text.includes("&lt;img␣src=x␣onerror=alert(1)&gt;") && !text.includes("<img"));
});
