import assert from "node:assert/strict";
import { test } from "node:test";

import { Expansion } from "./expand";
import { collapsedSizes } from "./geometry";
import { LayoutEngine, layoutFlat, layoutInput, type Scene } from "./layout";
import { layoutEdges } from "./lift";
import { smallEncoder, wireOf, type NodeSpec } from "./testing";
import { decodeGraph, type GraphModel, type WireGraph } from "./wire";

function engineFor(wire: WireGraph, maxChildren?: number) {
  const model = decodeGraph(wire, maxChildren);
  const engine = new LayoutEngine(layoutInput(model, layoutEdges(model), collapsedSizes(model)));
  return { model, engine, expansion: new Expansion(model) };
}

function box(scene: Scene, model: GraphModel, path: string) {
  const k = Array.from(scene.ids).indexOf(model.paths.indexOf(path));
  assert.ok(k >= 0, `${path} is not visible`);
  const [x, y, w, h] = scene.boxes.subarray(4 * k, 4 * k + 4);
  return { x, y, w, h };
}

/** No two siblings overlap, every child lies inside its open parent. */
function assertNested(scene: Scene, model: GraphModel): void {
  const slot = new Map<number, number>();
  scene.ids.forEach((id, k) => slot.set(id, k));
  const b = (k: number) => Array.from(scene.boxes.subarray(4 * k, 4 * k + 4));
  for (let k = 0; k < scene.ids.length; k++) {
    const [x, y, w, h] = b(k);
    assert.ok(w > 0 && h > 0);
    const p = slot.get(model.parent[scene.ids[k]]);
    if (p !== undefined) {
      const [px, py, pw, ph] = b(p);
      assert.ok(x >= px && y >= py && x + w <= pw + px + 0.01 && y + h <= py + ph + 0.01, "inside its parent");
    }
    for (let j = k + 1; j < scene.ids.length; j++) {
      if (model.parent[scene.ids[j]] !== model.parent[scene.ids[k]]) continue;
      const [x2, y2, w2, h2] = b(j);
      const overlap = x < x2 + w2 && x2 < x + w && y < y2 + h2 && y2 < y + h;
      assert.ok(!overlap, `${model.paths[scene.ids[k]]} overlaps ${model.paths[scene.ids[j]]}`);
    }
  }
}

test("a flat layout gives non-overlapping boxes top to bottom and routes every edge", () => {
  const sizes = new Float32Array([100, 40, 120, 40, 80, 30, 100, 40]);
  const layout = layoutFlat(sizes, new Int32Array([0, 1, 1, 2, 0, 2, 2, 3]), {
    x: 10,
    top: 30,
    bottom: 10,
    minWidth: 0,
  });
  for (let a = 0; a < 4; a++) {
    for (let b = a + 1; b < 4; b++) {
      const apart =
        layout.x[a] + sizes[2 * a] <= layout.x[b] ||
        layout.x[b] + sizes[2 * b] <= layout.x[a] ||
        layout.y[a] + sizes[2 * a + 1] <= layout.y[b] ||
        layout.y[b] + sizes[2 * b + 1] <= layout.y[a];
      assert.ok(apart, `${a} and ${b} overlap`);
    }
  }
  assert.ok(layout.y[0] < layout.y[1] && layout.y[1] < layout.y[2] && layout.y[2] < layout.y[3]);
  assert.ok(Math.min(...layout.x) >= 10 && Math.min(...layout.y) >= 30);
  assert.equal(layout.routeStart.length, 5);
  for (let e = 0; e < 4; e++) assert.ok(layout.routeStart[e + 1] - layout.routeStart[e] >= 2);
});

test("children without edges are laid out in rows, in order", () => {
  const sizes = new Float32Array(Array.from({ length: 32 }, (_, k) => (k % 2 ? 40 : 100)));
  const layout = layoutFlat(sizes, new Int32Array(0), { x: 0, top: 0, bottom: 0, minWidth: 0 });
  assert.equal(layout.y[0], layout.y[1]); // 16 children: 2 columns
  assert.ok(layout.y[2] > layout.y[1]);
});

test("the engine lays out the collapsed top level, then re-lays out only the expanded group and its ancestors", async () => {
  const { model, engine, expansion } = engineFor(smallEncoder());
  let scene = (await engine.run(expansion.expanded))!;
  assert.equal(scene.layouts, 1);
  assert.deepEqual(
    Array.from(scene.ids).map((i) => model.paths[i]),
    ["x", "enc", "head", "unused", "out"],
  );
  assertNested(scene, model);
  assert.ok(box(scene, model, "x").y < box(scene, model, "enc").y);
  assert.ok(box(scene, model, "enc").y < box(scene, model, "head").y);
  assert.equal(scene.edgeEnds.length, 6);
  const collapsedEnc = box(scene, model, "enc");

  expansion.set(model.paths.indexOf("enc"), true);
  scene = (await engine.run(expansion.expanded))!;
  assert.equal(scene.layouts, 2, "enc and the root");
  assertNested(scene, model);
  const enc = box(scene, model, "enc");
  assert.ok(enc.h > collapsedEnc.h);
  const l0 = box(scene, model, "enc.l0");
  assert.ok(l0.y > enc.y && l0.x >= enc.x);

  expansion.set(model.paths.indexOf("enc.l1"), true);
  scene = (await engine.run(expansion.expanded))!;
  assert.equal(scene.layouts, 3, "enc.l1, enc and the root; enc.l0 is untouched");
  assertNested(scene, model);

  expansion.set(model.paths.indexOf("enc"), false);
  scene = (await engine.run(expansion.expanded))!;
  assert.equal(scene.layouts, 1, "only the root, whose child shrank");
  expansion.set(model.paths.indexOf("enc"), true);
  scene = (await engine.run(expansion.expanded))!;
  assert.equal(scene.layouts, 1, "enc's layout is kept");
});

test("edge routes start and end at the boxes they join", async () => {
  const { model, engine, expansion } = engineFor(smallEncoder());
  expansion.expandAll();
  const scene = (await engine.run(expansion.expanded))!;
  assertNested(scene, model);
  const ends = Array.from(scene.edgeEnds);
  for (let e = 0; e < ends.length / 2; e++) {
    const a = box(scene, model, model.paths[ends[2 * e]]);
    const b = box(scene, model, model.paths[ends[2 * e + 1]]);
    const first = scene.pointStart[e];
    const last = scene.pointStart[e + 1] - 1;
    assert.ok(last > first);
    const [x0, y0] = [scene.points[2 * first], scene.points[2 * first + 1]];
    const [x1, y1] = [scene.points[2 * last], scene.points[2 * last + 1]];
    assert.ok(x0 >= a.x - 1 && x0 <= a.x + a.w + 1 && y0 >= a.y - 1 && y0 <= a.y + a.h + 1, "starts at its source");
    assert.ok(x1 >= b.x - 1 && x1 <= b.x + b.w + 1 && y1 >= b.y - 1 && y1 <= b.y + b.h + 1, "ends at its target");
  }
});

function residualStack(blocks: number, groups: number): WireGraph {
  const specs: NodeSpec[] = [{ path: "x", kind: 2 }];
  const edges: Array<[string, string]> = [];
  let previous = "x";
  for (let g = 0; g < groups; g++) {
    specs.push({ path: `g${g}`, type: "Stage" });
    for (let b = 0; b < blocks; b++) {
      const p = `g${g}.b${b}`;
      specs.push({ path: p, type: "Block", block: 0 });
      specs.push({ path: `${p}.fc1`, type: "Linear", params: 72 });
      specs.push({ path: `${p}.act`, type: "ReLU" });
      specs.push({ path: `${p}.fc2`, type: "Linear", params: 72 });
      specs.push({ path: `${p}.add`, type: "add", kind: 1 });
      edges.push([previous, `${p}.fc1`], [`${p}.fc1`, `${p}.act`], [`${p}.act`, `${p}.fc2`]);
      edges.push([`${p}.fc2`, `${p}.add`], [previous, `${p}.add`]);
      previous = `${p}.add`;
    }
  }
  specs.push({ path: "out", kind: 3 });
  edges.push([previous, "out"]);
  return wireOf(specs, edges);
}

test("expand all on a stack of groups: nested, routed, and stoppable between groups", async () => {
  const { model, engine, expansion } = engineFor(residualStack(10, 6));
  expansion.expandAll();
  let calls = 0;
  const stopped = await engine.run(expansion.expanded, {
    sliceMs: 0,
    pause: async () => void calls++,
    stopped: () => calls >= 3,
  });
  assert.equal(stopped, null);
  const progress: Array<[number, number]> = [];
  const scene = (await engine.run(expansion.expanded, {
    sliceMs: 0,
    progress: (done, total) => progress.push([done, total]),
    pause: async () => {},
  }))!;
  assert.equal(scene.groups, 1 + 6 + 60);
  assert.ok(scene.layouts < 67, "what the stopped run laid out is kept");
  assert.ok(progress.length > 0 && progress.every(([d, t]) => d <= t));
  assert.equal(scene.ids.length, model.size - 1);
  assertNested(scene, model);
});

test("a chain longer than dagre's stack allows is laid out through sections", async () => {
  const specs: NodeSpec[] = [{ path: "seq", type: "Sequential" }];
  const edges: Array<[string, string]> = [];
  for (let k = 0; k < 3000; k++) {
    specs.push({ path: `seq.${k}`, type: "Linear" });
    if (k) edges.push([`seq.${k - 1}`, `seq.${k}`]);
  }
  const { model, engine, expansion } = engineFor(wireOf(specs, edges), 500);
  expansion.expandAll();
  const scene = (await engine.run(expansion.expanded))!;
  assert.equal(scene.ids.length, 3000 + 6 + 1);
  assert.equal(scene.edgeEnds.length / 2, 2999);
  const first = box(scene, model, "seq › section 1 of 6");
  const second = box(scene, model, "seq › section 2 of 6");
  assert.ok(second.y > first.y + first.h, "sections follow each other top to bottom");
});
