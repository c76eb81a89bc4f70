import assert from "node:assert/strict";
import { test } from "node:test";

import {
  aggregate,
  defaultPrefix,
  firstNonfinite,
  healthPrefixes,
  indexAtStep,
  paramOwners,
  subtreeTensors,
  valuesAt,
  type HealthSeries,
} from "./health";
import { smallEncoder } from "./testing";
import { decodeGraph } from "./wire";

const model = decodeGraph(smallEncoder());
const path = (p: string) => model.paths.indexOf(p);
const owners = paramOwners(model);

function series(metric: string, rows: Record<string, Array<number | null>>, steps = [0, 10, 20]): HealthSeries {
  return {
    tag: "gradients",
    metric,
    steps,
    tensors: Object.keys(rows).map((name) => ({ name })),
    values: Object.values(rows),
  };
}

test("tensors belong to the module that owns them, and groups hold their descendants'", () => {
  assert.equal(owners.get("enc.l0.fc.weight"), path("enc.l0.fc"));
  assert.equal(owners.get("head.bias"), path("head"));
  assert.deepEqual(subtreeTensors(model, path("enc")), [
    "enc.l0.fc.weight",
    "enc.l0.fc.bias",
    "enc.l1.fc.weight",
    "enc.l1.fc.bias",
  ]);
});

test("gradient norms combine as the root of summed squares up the tree", () => {
  const norms = series("norm", {
    "enc.l0.fc.weight": [3, 3, 3],
    "enc.l0.fc.bias": [4, 4, 4],
    "enc.l1.fc.weight": [null, 12, 12],
    "head.weight": [1, 1, 1],
  });
  const at10 = aggregate(model, owners, valuesAt(norms, 10), "rss");
  assert.equal(at10[path("enc.l0.fc")], 5);
  assert.equal(at10[path("enc.l0")], 5);
  assert.equal(at10[path("enc")], 13);
  assert.equal(at10[path("head")], 1);
  assert.ok(Number.isNaN(at10[path("unused")]), "no tensors: no data");
  assert.ok(Math.abs(at10[model.root] - Math.sqrt(170)) < 1e-12);
  const at0 = aggregate(model, owners, valuesAt(norms, 0), "rss");
  assert.equal(at0[path("enc")], 5, "an absent tensor is left out");
  assert.equal(valuesAt(norms, 15).size, 0, "a step the series lacks shows nothing");
});

test("update ratios combine as the largest, NaN/Inf counts as the sum", () => {
  const ratios = series("update_ratio", {
    "enc.l0.fc.weight": [1e-3, 2e-3, 1e-3],
    "enc.l1.fc.weight": [5e-3, 1e-4, 1e-4],
  });
  const max = aggregate(model, owners, valuesAt(ratios, 0), "max");
  assert.equal(max[path("enc")], 5e-3);
  assert.equal(max[path("enc.l0")], 1e-3);
  const counts = aggregate(
    model,
    owners,
    new Map([
      ["enc.l0.fc.weight", 2],
      ["head.weight", 3],
    ]),
    "sum",
  );
  assert.equal(counts[model.root], 5);
  assert.equal(counts[path("enc")], 2);
});

test("the first NaN/Inf step of each node, up to the shown step", () => {
  const grads = series("nonfinite", {
    "enc.l1.fc.weight": [0, 5, 5],
    "head.weight": [0, 0, 1],
    "enc.l0.fc.weight": [0, 0, 0],
  });
  const weights = series("nonfinite", { "enc.l0.fc.bias": [0, 0, 7] });
  const first = firstNonfinite(model, owners, [grads, weights], 20);
  assert.equal(first[path("enc.l1.fc")], 10);
  assert.equal(first[path("enc.l0.fc")], 20, "from the weights");
  assert.equal(first[path("enc")], 10);
  assert.equal(first[path("head")], 20);
  assert.equal(first[model.root], 10);
  assert.ok(Number.isNaN(first[path("unused")]));
  const early = firstNonfinite(model, owners, [grads, weights], 10);
  assert.equal(early[path("head")], Infinity, "finite up to step 10");
  assert.equal(early[path("enc.l1")], 10);
});

test("a step between logged steps reads the last one before it", () => {
  assert.equal(indexAtStep([0, 10, 20], 15), 1);
  assert.equal(indexAtStep([0, 10, 20], 20), 2);
  assert.equal(indexAtStep([5, 10], 0), -1);
});

test("watch() prefixes of a run, the graph's own first", () => {
  const tags = ["weights", "gradients", "encoder/weights", "encoder/updates", "loss", "activations"];
  const prefixes = healthPrefixes(tags);
  assert.deepEqual(prefixes, ["", "encoder/"]);
  assert.equal(defaultPrefix(prefixes, "model"), "");
  assert.equal(defaultPrefix(prefixes, "encoder"), "encoder/");
  assert.equal(defaultPrefix(healthPrefixes(["dec/gradients"]), "model"), "dec/");
  assert.equal(defaultPrefix(healthPrefixes(["loss"]), "model"), null);
});
