import assert from "node:assert/strict";
import { test } from "node:test";

import { encodeMap, encodeThumbnails, mapFloats, mapValue, parseMap, parseThumbnails, rowBound, topKeys } from "./wire";

test("a map round-trips: header, per-row scale, bytes; an odd cell count is padded", () => {
  const buffer = encodeMap({ rows: 3, cols: 3, scale: [0.5, 1, 0], values: [255, 0, 51, 10, 255, 20, 0, 0, 0] });
  assert.equal(buffer.byteLength % 4, 0);
  const map = parseMap(buffer);
  assert.deepEqual(
    [map.rows, map.cols, map.queries, map.keys, map.topK, map.rowBlock, map.colBlock],
    [3, 3, 3, 3, 0, 1, 1],
  );
  assert.equal(mapValue(map, 0, 0), 0.5);
  assert.ok(Math.abs(mapValue(map, 0, 2) - (51 / 255) * 0.5) < 1e-7);
  assert.equal(mapValue(map, 1, 1), 1);
  assert.equal(mapValue(map, 2, 1), 0, "a padded row stays exactly zero");
  assert.equal(rowBound(map, 1), 1 / 510);
  const floats = mapFloats(map);
  assert.equal(floats.length, 9);
  assert.ok(Math.abs(floats[3] - (10 / 255) * 1) < 1e-7);
  assert.equal(map.topkIndex.length, 0);
});

test("a blocked map keeps each original query row's exact top-k keys", () => {
  // 5 queries × 6 keys in blocks of 2 × 2: 3 × 3 stored cells; top-2 per original query
  const topkIndex = [5, 0, 1, 2, 3, 4, 0, 0, 2, 1];
  const topkValue = [0.25, 0.75, 0.5, 0.5, 0.1, 0.9, 1, 0, 0.3, 0.7];
  const buffer = encodeMap({
    rows: 3,
    cols: 3,
    queries: 5,
    keys: 6,
    rowBlock: 2,
    colBlock: 2,
    scale: [1, 1, 1],
    values: [1, 2, 3, 4, 5, 6, 7, 8, 9],
    topK: 2,
    topkIndex,
    topkValue,
  });
  const map = parseMap(buffer);
  assert.equal(map.topK, 2);
  assert.deepEqual(Array.from(map.topkIndex), topkIndex);
  assert.deepEqual(Array.from(map.topkValue), topkValue.map(Math.fround));
  assert.deepEqual(topKeys(map, 0), [
    { key: 0, value: 0.75 },
    { key: 5, value: 0.25 },
  ]);
  assert.deepEqual(topKeys(map, 3), [{ key: 0, value: 1 }], "a zero-weight padding entry is dropped");
});

test("a short or inconsistent map is an error, never an out-of-bounds read", () => {
  assert.throws(() => parseMap(new ArrayBuffer(8)), /shorter than its header/);
  const good = encodeMap({ rows: 2, cols: 2, scale: [1, 1], values: [1, 2, 3, 4] });
  assert.throws(() => parseMap(good.slice(0, 40)), /bytes, \d+ needed/);
  const wrong = encodeMap({ rows: 2, cols: 2, queries: 9, scale: [1, 1], values: [1, 2, 3, 4] });
  assert.throws(() => parseMap(wrong), /do not match/);
  const blocked = encodeMap({
    rows: 1,
    cols: 1,
    queries: 2,
    keys: 2,
    rowBlock: 2,
    colBlock: 2,
    scale: [1],
    values: [1],
    topK: 1,
    topkIndex: [0, 1],
    topkValue: [1, 1],
  });
  assert.throws(() => parseMap(blocked.slice(0, blocked.byteLength - 4)), /needed/);
});

test("thumbnails: every map's bytes and max in map order", () => {
  const buffer = encodeThumbnails(2, 2, [0.5, 1], [255, 0, 0, 255, 128, 128, 0, 0]);
  const thumbs = parseThumbnails(buffer);
  assert.deepEqual([thumbs.count, thumbs.rows, thumbs.cols], [2, 2, 2]);
  assert.deepEqual(Array.from(thumbs.max), [0.5, 1]);
  assert.deepEqual(Array.from(thumbs.values.subarray(4)), [128, 128, 0, 0]);
  assert.throws(() => parseThumbnails(buffer.slice(0, buffer.byteLength - 1)), /needed/);
  assert.throws(() => parseThumbnails(new ArrayBuffer(4)), /shorter/);
});
