import assert from "node:assert/strict";
import { test } from "node:test";

import { Expansion } from "./expand";
import { IN, layoutEdges, liftEdges, OUT, visibleNodes, visibleReps } from "./lift";
import { smallEncoder } from "./testing";
import { decodeGraph, type GraphModel } from "./wire";

function named(model: GraphModel, pairs: ArrayLike<number>): string[] {
  const name = (i: number) => (i === IN ? "IN" : i === OUT ? "OUT" : model.paths[i]);
  const out: string[] = [];
  for (let k = 0; k < pairs.length; k += 2) out.push(`${name(pairs[k])}→${name(pairs[k + 1])}`);
  return out;
}

function lifted(model: GraphModel, expanded: Uint8Array) {
  const rep = visibleReps(model, expanded);
  const edges = liftEdges(model, rep, model.wire.edges, model.wire.edge_shapes, layoutEdges(model));
  return { rep, edges, names: named(model, edges.ends) };
}

test("layout edges belong to the lowest common group, between its children, once; ports in between", () => {
  const model = decodeGraph(smallEncoder());
  const layout = layoutEdges(model);
  const path = (p: string) => model.paths.indexOf(p);
  assert.deepEqual(named(model, layout.byGroup.get(model.root)!), ["x→enc", "enc→head", "head→out"]);
  assert.deepEqual(named(model, layout.byGroup.get(path("enc"))!), ["IN→enc.l0", "enc.l0→enc.l1", "enc.l1→OUT"]);
  assert.deepEqual(named(model, layout.byGroup.get(path("enc.l0"))!), [
    "IN→enc.l0.fc",
    "IN→enc.l0.add",
    "enc.l0.fc→enc.l0.add",
    "enc.l0.add→OUT",
  ]);
  assert.deepEqual(named(model, layout.byGroup.get(path("enc.l1"))!), [
    "IN→enc.l1.fc",
    "IN→enc.l1.add",
    "enc.l1.fc→enc.l1.add",
    "enc.l1.add→OUT",
  ]);
  assert.equal(layout.outLocal[path("enc.l0.add")], 3);
  assert.equal(layout.inLocal[path("enc.l0")], 0);
  assert.equal(layout.outLocal[path("enc.l0")], -1, "enc.l0 → enc.l1 stays inside enc");
  assert.equal(layout.inLocal[path("head")], -1);
  // x → enc.l0.fc and x → enc.l0.add are one layout edge of the root
  assert.equal(layout.group[0], model.root);
  assert.equal(layout.local[0], layout.local[1]);
});

test("collapsed, edges lift to the top-level nodes and inner edges vanish", () => {
  const model = decodeGraph(smallEncoder());
  const expansion = new Expansion(model);
  const { rep, edges, names } = lifted(model, expansion.expanded);
  assert.deepEqual(
    visibleNodes(model, rep).map((i) => model.paths[i]),
    ["x", "enc", "head", "unused", "out"],
  );
  assert.deepEqual(names, ["x→enc", "enc→head", "head→out"]);
  assert.deepEqual(Array.from(edges.atoms), [2, 1, 1]);
  assert.equal(model.wire.shapes[edges.shape[1]].slice(1).join(), "2,8");
});

test("expanding a group lifts its edges to the visible children", () => {
  const model = decodeGraph(smallEncoder());
  const expansion = new Expansion(model);
  const path = (p: string) => model.paths.indexOf(p);
  expansion.set(path("enc"), true);
  let result = lifted(model, expansion.expanded);
  assert.deepEqual(result.names, ["x→enc.l0", "enc.l0→enc.l1", "enc.l1→head", "head→out"]);
  assert.deepEqual(Array.from(result.edges.atoms), [2, 2, 1, 1]);
  assert.equal(model.paths[result.edges.group[0]], model.paths[model.root]);
  assert.equal(model.paths[result.edges.group[1]], "enc");
  expansion.set(path("enc.l0"), true);
  result = lifted(model, expansion.expanded);
  assert.deepEqual(result.names, [
    "x→enc.l0.fc",
    "x→enc.l0.add",
    "enc.l0.fc→enc.l0.add",
    "enc.l0.add→enc.l1",
    "enc.l1→head",
    "head→out",
  ]);
  // the edge into the expanded l0 is still routed by the root's layout edge x → enc
  assert.equal(result.edges.group[0], model.root);
  assert.equal(result.edges.group[1], model.root);
});

test("a node inside a collapsed group is represented by the group", () => {
  const model = decodeGraph(smallEncoder());
  const expansion = new Expansion(model);
  const path = (p: string) => model.paths.indexOf(p);
  expansion.set(path("enc.l0"), true); // enc itself stays collapsed
  const { rep } = lifted(model, expansion.expanded);
  assert.equal(rep[path("enc.l0.fc")], path("enc"));
  assert.equal(rep[path("head")], path("head"));
  assert.equal(rep[model.root], model.root);
});
