// Messages between the view and its layout worker (./worker.ts). A graph is sent once; each
// layout request names the open groups; a newer request or a cancel stops the running one at its
// next time slice.
import type { LayoutInput, Scene } from "./layout";

export type ToWorker =
  | { type: "graph"; graph: number; input: LayoutInput }
  | { type: "layout"; job: number; graph: number; expanded: Uint8Array }
  | { type: "cancel"; job: number };

export type FromWorker =
  | { type: "progress"; job: number; done: number; total: number }
  | { type: "scene"; job: number; scene: Scene }
  | { type: "stopped"; job: number }
  | { type: "error"; job: number; message: string };

/** The worker's script, next to index.js (relative URLs resolve under the page's
 * <base href="plugin/modellens/">; the CSP allows no blob: workers). */
export const WORKER_URL = "graph_worker.js";
