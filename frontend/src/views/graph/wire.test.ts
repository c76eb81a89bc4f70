import assert from "node:assert/strict";
import { test } from "node:test";

import { smallEncoder, wireOf } from "./testing";
import {
  ancestors,
  decodeGraph,
  formatCount,
  formatShape,
  innerOp,
  isGroup,
  neverRan,
  nodeName,
  nodeType,
  outputLabel,
  SECTION,
  totalParams,
  ROOT,
} from "./wire";

test("decoding builds the tree with paths, levels, a root and preorder", () => {
  const model = decodeGraph(smallEncoder());
  assert.equal(model.count, 11);
  assert.equal(model.size, 12);
  assert.equal(model.root, 11);
  assert.equal(model.kind[model.root], ROOT);
  const path = (p: string) => model.paths.indexOf(p);
  assert.deepEqual(
    model.children[model.root].map((i) => model.paths[i]),
    ["x", "enc", "head", "unused", "out"],
  );
  assert.deepEqual(
    model.children[path("enc.l0")].map((i) => nodeName(model, i)),
    ["fc", "add"],
  );
  assert.equal(model.level[path("enc")], 0);
  assert.equal(model.level[path("enc.l1.fc")], 2);
  assert.deepEqual(
    ancestors(model, path("enc.l1.fc")).map((i) => model.paths[i]),
    ["enc.l1", "enc"],
  );
  assert.equal(model.order[0], model.root);
  const seen = new Set<number>();
  for (const i of model.order) {
    if (i !== model.root) assert.ok(seen.has(model.parent[i]) || model.parent[i] === model.root);
    seen.add(i);
  }
  assert.equal(nodeType(model, path("enc.l0.fc")), "Linear");
  assert.equal(totalParams(model, path("enc")), 144);
  assert.equal(outputLabel(model, path("head")), "[2, 3]");
  assert.equal(formatShape(model.wire, model.wire.nodes.outputs[path("head")][0]), "[2, 3] float32");
});

test("identical blocks among siblings are counted", () => {
  const model = decodeGraph(smallEncoder());
  const path = (p: string) => model.paths.indexOf(p);
  assert.equal(model.identical[path("enc.l0")], 2);
  assert.equal(model.identical[path("enc.l1")], 2);
  assert.equal(model.identical[path("enc")], 0);
  assert.equal(model.identical[path("head")], 0);
});

test("identical block ids in different parents are not siblings", () => {
  const wire = wireOf([
    { path: "a", block: 3 },
    { path: "a.x" },
    { path: "b" },
    { path: "b.y", block: 3 },
    { path: "b.y.z" },
  ]);
  const model = decodeGraph(wire);
  assert.equal(model.identical[0], 0);
  assert.equal(model.identical[3], 0);
});

test("a group with more children than the limit is split into sections in child order", () => {
  const specs = [{ path: "seq", type: "Sequential" }];
  for (let k = 0; k < 25; k++) specs.push({ path: `seq.${k}`, type: "Linear" });
  const model = decodeGraph(wireOf(specs), 10);
  const seq = 0;
  const sections = model.children[seq];
  assert.equal(sections.length, 3);
  for (const s of sections) assert.equal(model.kind[s], SECTION);
  assert.deepEqual(
    sections.map((s) => nodeName(model, s)),
    ["section 1 of 3", "section 2 of 3", "section 3 of 3"],
  );
  assert.deepEqual(
    sections.map((s) => model.children[s].length),
    [9, 9, 7],
  );
  const flat = sections.flatMap((s) => model.children[s].map((c) => nodeName(model, c)));
  assert.deepEqual(
    flat,
    Array.from({ length: 25 }, (_, k) => String(k)),
  );
  assert.equal(model.sections.get(sections[1])!.first, 10); // seq is node 0: seq.9 is node 10
  assert.equal(model.level[sections[0]], 1); // the level of the nodes it holds
  assert.equal(model.level[model.children[sections[0]][0]], 1);
  assert.equal(model.paths[sections[2]], "seq › section 3 of 3");
  assert.equal(model.parent[model.children[sections[2]][0]], sections[2]);
});

test("sections nest when even the sections are too many, and the top level splits too", () => {
  const specs = [];
  for (let k = 0; k < 250; k++) specs.push({ path: `m${k}` });
  const model = decodeGraph(wireOf(specs), 10);
  const top = model.children[model.root];
  assert.equal(top.length, 3); // 84, 84 and 82 nodes, each in 9 sections of ≤ 10
  for (const s of top) {
    assert.equal(model.kind[s], SECTION);
    assert.ok(model.children[s].length <= 10);
    for (const inner of model.children[s]) {
      assert.equal(model.kind[inner], SECTION);
      assert.ok(model.children[inner].length <= 10);
    }
  }
  const leaves = model.order.filter((i) => i < model.count);
  assert.deepEqual(
    Array.from(leaves),
    Array.from({ length: 250 }, (_, k) => k),
  );
  assert.equal(model.size, 250 + 3 + 27 + 1);
});

test("a node before its parent is refused", () => {
  const wire = smallEncoder();
  wire.nodes.parent[1] = 5;
  assert.throws(() => decodeGraph(wire), /before its parent/);
});

test("counts read as 1.2M, 16.5K, 512", () => {
  assert.equal(formatCount(1_234_567), "1.2M");
  assert.equal(formatCount(16_512), "16.5K");
  assert.equal(formatCount(110_000_000), "110M");
  assert.equal(formatCount(512), "512");
  assert.equal(formatCount(2000), "2K");
});

test("a module whose only child is one op is sealed: a leaf that does not open", () => {
  const model = decodeGraph(
    wireOf([
      { path: "fc", type: "Linear" },
      { path: "fc.linear", type: "linear", kind: 1 },
      { path: "attn", type: "Attention" },
      { path: "attn.matmul", type: "matmul", kind: 1 },
      { path: "attn.softmax", type: "softmax", kind: 1 },
    ]),
  );
  assert.equal(model.sealed[0], 1);
  assert.equal(isGroup(model, 0), false);
  assert.equal(nodeType(model, innerOp(model, 0)), "linear");
  assert.equal(model.sealed[2], 0);
  assert.equal(isGroup(model, 2), true);
  assert.equal(innerOp(model, 2), -1);
});

test("a container that was not called itself still ran when its children did", () => {
  const model = decodeGraph(
    wireOf([
      { path: "layers", type: "ModuleList", call: -1 },
      { path: "layers.0", type: "Linear" },
      { path: "spare", type: "ModuleList", call: -1 },
      { path: "spare.0", type: "Linear", call: -1 },
    ]),
  );
  assert.deepEqual(Array.from(neverRan(model)), [0, 0, 1, 1, 0]);
});
