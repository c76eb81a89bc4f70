// The layout worker: its own esbuild entry (tb_plugin/static/graph_worker.js, a classic script).
// Holds one graph's LayoutEngine and answers layout requests with scenes, transferred.
import { LayoutEngine, sceneBuffers } from "./layout";
import type { FromWorker, ToWorker } from "./protocol";

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToWorker>) => void) | null;
  postMessage(message: FromWorker, transfer?: ArrayBuffer[]): void;
}

const scope = self as unknown as WorkerScope;
let engine: LayoutEngine | null = null;
let graph = -1;
let current = -1; // the job that may run; others stop at their next slice

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === "graph") {
    engine = new LayoutEngine(message.input);
    graph = message.graph;
  } else if (message.type === "cancel") {
    if (current === message.job) current = -1;
  } else if (message.type === "layout") {
    current = message.job;
    void run(message.job, message.graph, message.expanded);
  }
};

async function run(job: number, forGraph: number, expanded: Uint8Array): Promise<void> {
  const post = (message: FromWorker, transfer?: ArrayBuffer[]) => scope.postMessage(message, transfer);
  if (!engine || forGraph !== graph) {
    post({ type: "error", job, message: "the layout worker has no such graph" });
    return;
  }
  try {
    const scene = await engine.run(expanded, {
      stopped: () => current !== job,
      progress: (done, total) => post({ type: "progress", job, done, total }),
      pause: () => new Promise((resolve) => setTimeout(resolve, 0)),
    });
    if (!scene || current !== job) post({ type: "stopped", job });
    else post({ type: "scene", job, scene }, sceneBuffers(scene));
  } catch (error) {
    post({ type: "error", job, message: error instanceof Error ? error.message : String(error) });
  }
}
