// The view's side of the layout worker: one request at a time (a newer one, or cancel(),
// resolves the running one with null). Without a worker (it failed to load) the same engine runs
// here, in the same time slices.
import { LayoutEngine, type LayoutInput, type Scene } from "./layout";
import { WORKER_URL, type FromWorker, type ToWorker } from "./protocol";

export type Progress = (done: number, total: number) => void;

interface Pending {
  job: number;
  expanded: Uint8Array;
  resolve: (scene: Scene | null) => void;
  reject: (error: Error) => void;
  progress?: Progress;
}

export class LayoutClient {
  private worker: Worker | null = null;
  private local: LayoutEngine | null = null;
  private input: LayoutInput | null = null;
  private graph = 0;
  private job = 0;
  private pending: Pending | null = null;
  /** "worker" or "main thread", for the page and its tests. */
  mode = "worker";

  constructor(url = WORKER_URL) {
    try {
      this.worker = new Worker(url);
      this.worker.onmessage = (event: MessageEvent<FromWorker>) => this.receive(event.data);
      this.worker.onerror = (event) => {
        event.preventDefault();
        this.fallBack();
      };
    } catch {
      this.fallBack();
    }
  }

  setGraph(input: LayoutInput): void {
    this.cancel();
    this.graph++;
    this.input = input;
    this.local = null;
    this.post({ type: "graph", graph: this.graph, input });
  }

  /** The scene of `expanded`; null when a newer request or cancel() came first. */
  layout(expanded: Uint8Array, progress?: Progress): Promise<Scene | null> {
    this.cancel();
    const job = ++this.job;
    return new Promise((resolve, reject) => {
      this.pending = { job, expanded: expanded.slice(), resolve, reject, progress };
      this.start(this.pending);
    });
  }

  cancel(): void {
    const pending = this.pending;
    if (!pending) return;
    this.pending = null;
    this.post({ type: "cancel", job: pending.job });
    this.job++; // stops a main-thread run at its next slice
    pending.resolve(null);
  }

  private start(pending: Pending): void {
    if (this.worker) {
      this.post({ type: "layout", job: pending.job, graph: this.graph, expanded: pending.expanded });
      return;
    }
    if (!this.input) return pending.reject(new Error("no graph to lay out"));
    this.local ??= new LayoutEngine(this.input);
    this.local
      .run(pending.expanded, {
        stopped: () => this.job !== pending.job,
        progress: (done, total) => pending.progress?.(done, total),
        pause: () => new Promise((resolve) => setTimeout(resolve, 0)),
      })
      .then((scene) => this.finish(pending.job, scene))
      .catch((error: Error) => this.fail(pending.job, error.message));
  }

  private receive(message: FromWorker): void {
    const pending = this.pending;
    if (!pending || message.job !== pending.job) return;
    if (message.type === "progress") pending.progress?.(message.done, message.total);
    else if (message.type === "scene") this.finish(message.job, message.scene);
    else if (message.type === "stopped") this.finish(message.job, null);
    else this.fail(message.job, message.message);
  }

  private finish(job: number, scene: Scene | null): void {
    if (this.pending?.job !== job) return;
    const { resolve } = this.pending;
    this.pending = null;
    resolve(scene);
  }

  private fail(job: number, message: string): void {
    if (this.pending?.job !== job) return;
    const { reject } = this.pending;
    this.pending = null;
    reject(new Error(`layout failed: ${message}`));
  }

  private post(message: ToWorker): void {
    this.worker?.postMessage(message);
  }

  /** The worker could not start: lay out on this thread from now on (and redo a pending job). */
  private fallBack(): void {
    this.worker?.terminate();
    this.worker = null;
    this.mode = "main thread";
    if (this.pending) this.start(this.pending);
  }
}
