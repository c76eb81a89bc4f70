// The graph panel: the canvas with its tooltip and progress note, the expansion it shows, and
// the layout worker behind it. A change of the expansion is laid out in the worker (a newer one
// supersedes it); cancelling puts back the expansion that is on screen.
import { el } from "../../core/dom";
import { ProgressNote } from "../../core/progress";
import { Tooltip } from "../../core/tooltip";
import { GraphCanvas, type Hit } from "./canvas";
import { LayoutClient } from "./client";
import { Expansion } from "./expand";
import { collapsedSizes } from "./geometry";
import { layoutInput } from "./layout";
import { layoutEdges } from "./lift";
import type { Paint } from "./paint";
import { hoverLines } from "./text";
import type { GraphModel } from "./wire";

export interface Relayout {
  anchor?: number; // keeps this node where it is on screen
  fit?: boolean;
  label?: string;
  delayMs?: number; // before the progress note shows
}

export class GraphStage {
  readonly element: HTMLElement = el("div", { className: "ml-graph-wrap" });
  readonly canvas = new GraphCanvas(
    (hit) => this.onClick(hit),
    (hit, x, y) => this.hover(hit, x, y),
  );
  model: GraphModel | null = null;
  expansion: Expansion | null = null;
  painted: Paint | null = null;
  private shown: Uint8Array | null = null; // the expansion on screen
  private progress = new ProgressNote();
  private tooltip = new Tooltip(() => this.element);
  private client = new LayoutClient();

  constructor(
    private readonly onClick: (hit: Hit | null) => void,
    private readonly onError: (error: unknown) => void,
  ) {
    this.element.append(this.canvas.canvas, this.tooltip.element, this.progress.element);
    new ResizeObserver(() => this.resize()).observe(this.element);
  }

  /** Shows a new graph, opened on its top level; resolves when it is drawn. */
  async load(model: GraphModel, painted: Paint): Promise<boolean> {
    const started = performance.now();
    this.client.setGraph(layoutInput(model, layoutEdges(model), collapsedSizes(model)));
    this.model = model;
    this.expansion = new Expansion(model);
    this.shown = null;
    this.painted = painted;
    this.canvas.selected = this.canvas.current = -1;
    if (!(await this.relayout({ fit: true }))) return false;
    this.canvas.draw();
    this.canvas.canvas.dataset.firstDrawMs = (performance.now() - started).toFixed(1);
    return true;
  }

  /** New colours for `model` (drawn once its scene is shown, if it is not yet). */
  setPaint(painted: Paint, model: GraphModel): void {
    this.painted = painted;
    if (model === this.model) this.canvas.setPaint(painted);
  }

  /** Changes the expansion and lays out the result. */
  change(apply: (expansion: Expansion) => void, options: Relayout = {}): void {
    if (!this.expansion) return;
    apply(this.expansion);
    void this.relayout(options);
  }

  /** Lays out the current expansion; false when superseded, cancelled or failed. */
  async relayout(options: Relayout = {}): Promise<boolean> {
    const { model, expansion } = this;
    if (!model || !expansion) return false;
    this.canvas.setState("layout");
    const started = performance.now();
    const label = options.label ?? "laying out";
    this.progress.start(label, () => this.cancel(), options.delayMs ?? 150);
    let scene;
    try {
      scene = await this.client.layout(expansion.expanded, (done, total) =>
        this.progress.update(done, total, `${label}: ${done} of ${total} groups`),
      );
    } catch (error) {
      this.progress.hide();
      this.onError(error);
      return false;
    }
    if (!scene || model !== this.model) return false;
    this.progress.hide();
    this.shown = expansion.snapshot();
    this.canvas.setScene(model, scene, this.painted!, options.anchor ?? -1);
    if (options.fit) this.canvas.fit();
    this.canvas.setState("ready", performance.now() - started);
    Object.assign(this.canvas.canvas.dataset, { layouts: String(scene.layouts), worker: this.client.mode });
    performance.measure("modellens:layout-graph", { start: started, end: performance.now() });
    return true;
  }

  cancel(): void {
    this.client.cancel();
    this.progress.hide();
    if (this.expansion && this.shown) this.expansion.restore(this.shown);
    this.canvas.setState(this.shown ? "ready" : "empty");
  }

  private resize(): void {
    const height = Math.max(420, Math.min(window.innerHeight - 150, 900));
    this.canvas.resize(this.element.clientWidth || 800, height);
  }

  private hover(hit: Hit | null, x: number, y: number): void {
    if (!hit || !this.model) return this.tooltip.hide();
    this.tooltip.show(hoverLines(this.model, hit.node, this.painted?.describe(hit.node) ?? ""), x, y, 300);
  }
}
