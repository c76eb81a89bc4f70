import assert from "node:assert/strict";
import { test } from "node:test";

import { matchMarks, searchNodes, stepMatch } from "./search";
import { smallEncoder } from "./testing";
import { decodeGraph } from "./wire";

const model = decodeGraph(smallEncoder());
const paths = (ids: number[]) => ids.map((i) => model.paths[i]);

test("matches a name or path substring, case-insensitively, in model order", () => {
  assert.deepEqual(paths(searchNodes(model, "FC")), ["enc.l0.fc", "enc.l1.fc"]);
  assert.deepEqual(paths(searchNodes(model, "l1.f")), ["enc.l1.fc"]);
  assert.deepEqual(paths(searchNodes(model, "  ")), []);
});

test("matches a type", () => {
  assert.deepEqual(paths(searchNodes(model, "linear")), ["enc.l0.fc", "enc.l1.fc", "head"]);
  assert.deepEqual(paths(searchNodes(model, "layer")), ["enc.l0", "enc.l1"]);
});

test("next and previous wrap around", () => {
  assert.equal(stepMatch(3, -1, 1), 0);
  assert.equal(stepMatch(3, -1, -1), 2);
  assert.equal(stepMatch(3, 2, 1), 0);
  assert.equal(stepMatch(3, 0, -1), 2);
  assert.equal(stepMatch(0, 0, 1), -1);
});

test("groups holding a match are marked for when they are collapsed", () => {
  const marks = matchMarks(model, searchNodes(model, "l1.fc"));
  assert.equal(marks[model.paths.indexOf("enc.l1.fc")], 1);
  assert.equal(marks[model.paths.indexOf("enc.l1")], 2);
  assert.equal(marks[model.paths.indexOf("enc")], 2);
  assert.equal(marks[model.paths.indexOf("head")], 0);
});
