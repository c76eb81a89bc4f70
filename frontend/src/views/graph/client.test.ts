import assert from "node:assert/strict";
import { test } from "node:test";

import { LayoutClient } from "./client";
import { Expansion } from "./expand";
import { collapsedSizes } from "./geometry";
import { layoutInput } from "./layout";
import { layoutEdges } from "./lift";
import { smallEncoder } from "./testing";
import { decodeGraph } from "./wire";

test("without a worker the client lays out on this thread; a newer request supersedes the running one", async () => {
  const model = decodeGraph(smallEncoder());
  const client = new LayoutClient();
  assert.equal(client.mode, "main thread"); // node has no Worker
  client.setGraph(layoutInput(model, layoutEdges(model), collapsedSizes(model)));
  const expansion = new Expansion(model);
  const first = client.layout(expansion.expanded);
  expansion.expandAll();
  const second = client.layout(expansion.expanded);
  assert.equal(await first, null);
  const scene = await second;
  assert.equal(scene?.ids.length, model.size - 1);
  const third = client.layout(expansion.expanded);
  client.cancel();
  assert.equal(await third, null);
});
