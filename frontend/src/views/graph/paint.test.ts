import assert from "node:assert/strict";
import { test } from "node:test";

import { firstNonfinite, paramOwners, type HealthSeries } from "./health";
import { paint, type Theme } from "./paint";
import { smallEncoder } from "./testing";
import { decodeGraph } from "./wire";

const model = decodeGraph(smallEncoder());
const path = (p: string) => model.paths.indexOf(p);
const theme: Theme = { bg: "#ffffff", fg: "#212121", muted: "#616161", panel: "#f5f5f5", border: "#e0e0e0" };

test("colour by type: one colour per module type, listed in the legend", () => {
  const p = paint({ model, mode: "type", theme });
  assert.equal(p.fill[path("enc.l0.fc")], p.fill[path("head")]);
  assert.notEqual(p.fill[path("enc.l0.fc")], p.fill[path("enc.l0")]);
  assert.equal(p.legend.kind, "categories");
  if (p.legend.kind === "categories")
    assert.deepEqual(p.legend.items.map((i) => i.label).slice(0, 2), ["Linear", "Layer"]);
  assert.equal(p.greyed[path("unused")], 1, "never called: greyed");
  assert.equal(p.greyed[path("enc")], 0);
  assert.notEqual(p.fill[path("x")], p.fill[path("out")], "inputs and outputs differ");
});

test("colour by parameter count: a log scale over modules with parameters", () => {
  const p = paint({ model, mode: "params", theme });
  assert.notEqual(p.fill[path("enc")], p.fill[path("head")]);
  assert.equal(p.fill[path("enc.l0.add")], p.fill[path("enc.l1.add")], "ops hold no parameters");
  assert.equal(p.legend.kind, "scale");
  if (p.legend.kind === "scale") {
    assert.equal(p.legend.scale.low, 27);
    assert.equal(p.legend.scale.high, 171);
  }
  assert.equal(p.describe(path("enc")), "parameters: 144");
});

test("NaN/Inf: the earliest first appearance is the darkest and outlined", () => {
  const grads: HealthSeries = {
    tag: "gradients",
    metric: "nonfinite",
    steps: [0, 10, 20],
    tensors: [{ name: "enc.l1.fc.weight" }, { name: "head.weight" }, { name: "enc.l0.fc.weight" }],
    values: [
      [0, 3, 3],
      [0, 0, 9],
      [0, 0, 0],
    ],
  };
  const first = firstNonfinite(model, paramOwners(model), [grads], 20);
  const p = paint({ model, mode: "nonfinite", theme, first, step: 20 });
  assert.equal(p.emphasis[path("enc.l1.fc")], 1);
  assert.equal(p.emphasis[path("enc.l1")], 0, "its groups are dark, not outlined");
  assert.equal(p.emphasis[path("head")], 0);
  assert.notEqual(p.fill[path("enc.l1.fc")], p.fill[path("head")]);
  assert.notEqual(p.fill[path("enc.l0.fc")], p.fill[path("enc.l1.fc")]);
  assert.equal(p.describe(path("enc.l0.fc")), "NaN/Inf: none");
  assert.equal(p.describe(path("enc")), "NaN/Inf since step 10");
  assert.equal(p.legend.kind, "scale");
  if (p.legend.kind === "scale") assert.equal(p.legend.swatches[2].label, "first at step 10: enc.l1.fc");
});

test("gradient norm: a non-finite value is red, no data neutral", () => {
  const values = new Float64Array(model.size).fill(NaN);
  values[path("head")] = Infinity;
  values[path("enc.l0.fc")] = 0.5;
  values[path("enc.l1.fc")] = 5;
  const p = paint({ model, mode: "grad_norm", theme, values, step: 3 });
  assert.equal(p.fill[path("head")], "#d32f2f");
  assert.notEqual(p.fill[path("enc.l0.fc")], p.fill[path("enc.l1.fc")]);
  assert.equal(p.fill[path("enc.l0.add")], p.fill[path("enc.l1.add")]);
  if (p.legend.kind === "scale") assert.equal(p.legend.title, "gradient norm at step 3");
});
