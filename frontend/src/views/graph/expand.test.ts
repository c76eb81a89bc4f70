import assert from "node:assert/strict";
import { test } from "node:test";

import { Expansion } from "./expand";
import { visibleNodes, visibleReps } from "./lift";
import { smallEncoder, wireOf, type NodeSpec } from "./testing";
import { decodeGraph, type GraphModel } from "./wire";

const shown = (model: GraphModel, e: Expansion) =>
  visibleNodes(model, visibleReps(model, e.expanded)).map((i) => model.paths[i]);

test("opens on the top level; toggling a group shows and hides its children", () => {
  const model = decodeGraph(smallEncoder());
  const e = new Expansion(model);
  const enc = model.paths.indexOf("enc");
  assert.deepEqual(e.initial, []);
  assert.equal(e.openCount, 0);
  assert.equal(e.toggle(enc), true);
  assert.deepEqual(shown(model, e), ["x", "enc", "enc.l0", "enc.l1", "head", "unused", "out"]);
  assert.equal(e.toggle(enc), true);
  assert.deepEqual(shown(model, e), ["x", "enc", "head", "unused", "out"]);
  assert.equal(e.set(model.paths.indexOf("head"), true), false, "a leaf does not open");
  assert.equal(e.set(model.root, false), false, "the root stays open");
});

test("a collapsed ancestor keeps its descendants' state for when it reopens", () => {
  const model = decodeGraph(smallEncoder());
  const e = new Expansion(model);
  const enc = model.paths.indexOf("enc");
  e.set(enc, true);
  e.set(model.paths.indexOf("enc.l1"), true);
  e.set(enc, false);
  assert.ok(!shown(model, e).includes("enc.l1.fc"));
  e.set(enc, true);
  assert.ok(shown(model, e).includes("enc.l1.fc"));
});

test("expand to depth, expand all, reveal, snapshot and restore", () => {
  const model = decodeGraph(smallEncoder());
  const e = new Expansion(model);
  e.expandToDepth(1);
  assert.deepEqual(shown(model, e), ["x", "enc", "enc.l0", "enc.l1", "head", "unused", "out"]);
  e.expandToDepth(2);
  assert.equal(shown(model, e).length, 11);
  e.expandToDepth(0);
  assert.equal(shown(model, e).length, 5);
  const before = e.snapshot();
  e.expandAll();
  assert.equal(e.openCount, 3);
  e.restore(before);
  assert.equal(e.openCount, 0);
  assert.equal(e.reveal(model.paths.indexOf("enc.l1.add")), true);
  assert.ok(shown(model, e).includes("enc.l1.add"));
  assert.equal(e.reveal(model.paths.indexOf("enc.l1.add")), false);
});

test("a lone top-level model opens by default, and sections open with their depth", () => {
  const specs: NodeSpec[] = [
    { path: "x", kind: 2 },
    { path: "model", type: "Net" },
  ];
  for (let k = 0; k < 25; k++) specs.push({ path: `model.${k}`, type: "Linear" }, { path: `model.${k}.inner` });
  specs.push({ path: "out", kind: 3 });
  const model = decodeGraph(wireOf(specs), 10);
  const e = new Expansion(model);
  const root = model.paths.indexOf("model");
  assert.deepEqual(e.initial, [root]);
  assert.equal(shown(model, e).length, 2 + 1 + 3); // x, model, out and its three sections
  e.expandToDepth(1);
  const visible = shown(model, e);
  assert.ok(visible.includes("model.24"), "depth 1 shows the model's children through open sections");
  assert.ok(!visible.includes("model.24.inner"));
  e.reset();
  assert.equal(shown(model, e).length, 6);
});

test("a sealed module never opens, not even to reveal its op", () => {
  const model = decodeGraph(
    wireOf([
      { path: "enc", type: "Encoder" },
      { path: "enc.fc", type: "Linear" },
      { path: "enc.fc.linear", type: "linear", kind: 1 },
    ]),
  );
  const e = new Expansion(model);
  assert.equal(e.set(1, true), false);
  e.expandAll();
  assert.deepEqual(shown(model, e), ["enc", "enc.fc"]);
  e.reset();
  e.reveal(2);
  assert.deepEqual(shown(model, e), ["enc", "enc.fc"]);
});

test("opening a group whose only child is a group opens that one too", () => {
  const model = decodeGraph(
    wireOf([
      { path: "x", kind: 2 },
      { path: "encoder", type: "Encoder" },
      { path: "encoder.layer", type: "ModuleList", call: -1 },
      { path: "encoder.layer.0", type: "Layer" },
      { path: "encoder.layer.0.fc", type: "Linear" },
      { path: "encoder.layer.1", type: "Layer" },
      { path: "pooler", type: "Linear" },
    ]),
  );
  const e = new Expansion(model);
  e.set(model.paths.indexOf("encoder"), true);
  assert.deepEqual(shown(model, e), ["x", "encoder", "encoder.layer", "encoder.layer.0", "encoder.layer.1", "pooler"]);
});
