// The Structure dashboard: run, tag and graph-step pickers, the sidebar controls (./controls),
// the graph canvas (./canvas, drawn by ./render) laid out in a worker (./client → ./worker), the
// details panel (./details) and Training health colouring (./healthdata). Wiring only.
import { el } from "../../core/dom";
import { downloadPng, downloadSvg, fileStem } from "../../core/export";
import { Staleness } from "../../core/guard";
import { Legend } from "../../core/legend";
import { RunTagPicker } from "../../core/picker";
import { StepSlider } from "../../core/slider";
import { fetchGraph, fetchSeries, fetchTags, type GraphStepSummary } from "./api";
import type { Hit } from "./canvas";
import { Controls } from "./controls";
import { NodeDetails } from "./details";
import { sceneSvg } from "./exporting";
import { paramOwners } from "./health";
import { HealthSource } from "./healthdata";
import { paint, type Paint } from "./paint";
import { matchMarks, searchNodes, stepMatch } from "./search";
import { GraphStage } from "./stage";
import { summaryText } from "./text";
import { decodeGraph, isGroup, type GraphModel } from "./wire";

const EMPTY_NOTE =
  "No structure graphs yet. Log one with modellens.Writer(logdir).graph(model, inputs), or watch a " +
  "torch model with modellens.torch.watch(model, writer).";

export class GraphView {
  readonly sidebar = el("div", { className: "ml-sidebar-section" });
  readonly main = el("div", { className: "ml-view" });
  private picker = new RunTagPicker({
    load: fetchTags,
    first: "run",
    onSelect: (keepPosition) => this.loadSeries(keepPosition),
    onEmpty: () => this.note(EMPTY_NOTE),
    onError: (error) => this.fail(error),
  });
  private graphSlider = new StepSlider(() => void this.loadGraph(), "graph step");
  private healthSlider = new StepSlider(() => this.repaint(true), "health step");
  private controls = new Controls(
    {
      search: (query) => this.search(query),
      step: (direction) => void this.goToMatch(direction),
      expandAll: () => this.stage.change((e) => e.expandAll(), { fit: true, label: "expand all", delayMs: 0 }),
      collapseAll: () => this.stage.change((e) => e.reset(), { fit: true }),
      expandToDepth: (depth) => this.stage.change((e) => e.expandToDepth(depth), { fit: true }),
      colorBy: () => this.repaint(true),
      zoom: (factor) => (factor === "fit" ? this.canvas.fit() : this.canvas.zoomBy(factor)),
      exportPng: () => downloadPng(this.canvas.canvas, this.stem()),
      exportSvg: () => this.exportSvg(),
    },
    this.healthSlider.element,
  );
  private status = el("div", { className: "ml-note", attrs: { role: "status" } });
  private summary = el("div", { className: "ml-summary" });
  private legend = new Legend();
  private stage = new GraphStage(
    (hit) => this.click(hit),
    (error) => this.fail(error),
  );
  private canvas = this.stage.canvas;
  private details = new NodeDetails({
    toggle: (node) => this.stage.change((e) => e.toggle(node), { anchor: node }),
    centre: (node) => this.canvas.centerOn(node),
    openTensor: (tensor) => this.openTensor(tensor),
  });
  private health = new HealthSource();
  private model: GraphModel | null = null;
  private owners = new Map<string, number>();
  private series: GraphStepSummary[] = [];
  private seriesKey = "";
  private loaded = ""; // run, tag, step and wall time of the graph shown
  private graphToken = new Staleness();
  private healthToken = new Staleness();
  private matches: number[] = [];
  private matchIndex = -1;
  private content = el("div", { className: "ml-view-content" });

  constructor() {
    this.sidebar.append(...this.picker.fields, this.graphSlider.element, ...this.controls.elements);
    this.graphSlider.element.hidden = this.healthSlider.element.hidden = true;
    this.content.append(
      this.summary,
      this.legend.element,
      el("div", { className: "ml-panels ml-graph-panels" }, [this.stage.element, this.details.element]),
    );
    this.content.hidden = true;
    this.main.append(this.status, this.content);
    window.addEventListener("modellens-theme", () => {
      this.canvas.readTheme();
      this.repaint(false);
    });
  }

  async start(): Promise<void> {
    await this.picker.start();
  }

  private async loadSeries(keepPosition: boolean): Promise<void> {
    const { run, tag } = this.picker;
    if (!run || !tag) return;
    let series: GraphStepSummary[];
    try {
      series = await fetchSeries(run, tag);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (run !== this.picker.run || tag !== this.picker.tag) return; // the selection moved on
    const same = JSON.stringify([run, tag]) === this.seriesKey;
    this.seriesKey = JSON.stringify([run, tag]);
    this.series = series;
    this.graphSlider.setSteps(
      series.map((s) => s.step),
      keepPosition && same,
    );
    this.graphSlider.element.hidden = series.length <= 1;
    await Promise.all([this.loadGraph(), this.loadHealth(run, tag, keepPosition && same)]);
  }

  private async loadGraph(): Promise<void> {
    const { run, tag } = this.picker;
    const step = this.graphSlider.step;
    if (step === null) return;
    const wallTime = this.series[this.graphSlider.index]?.wall_time;
    const key = JSON.stringify([run, tag, step, wallTime]);
    if (key === this.loaded) return;
    const token = this.graphToken.next();
    try {
      const data = await fetchGraph(run, tag, step, wallTime);
      if (!this.graphToken.isCurrent(token)) return;
      const model = decodeGraph(data.graph);
      this.loaded = key;
      Object.assign(this.canvas.canvas.dataset, { run, tag, step: String(step) });
      this.model = model;
      this.owners = paramOwners(model);
      this.details.clear();
      this.showSummary(model);
      const painted = this.repaint(false);
      const loading = this.stage.load(model, painted!);
      this.search(this.controls.searchInput.value);
      await loading;
    } catch (error) {
      if (this.graphToken.isCurrent(token)) this.fail(error);
    }
  }

  private async loadHealth(run: string, tag: string, keepPosition: boolean): Promise<void> {
    const token = this.healthToken.next();
    const found = await this.health.load(run, tag);
    if (!this.healthToken.isCurrent(token)) return;
    this.healthSlider.setSteps(this.health.steps, keepPosition);
    this.healthSlider.element.hidden = !found;
    this.controls.setColorModes(this.health.modes(), this.controls.colorBy);
    this.repaint(true);
  }

  private repaint(refreshDetails: boolean): Paint | null {
    const model = this.model;
    if (!model) return null;
    const mode = this.controls.colorBy;
    const step = this.health.available ? this.healthSlider.step : null;
    const extra = step !== null ? this.health.values(model, this.owners, mode, step) : {};
    const painted = paint({ model, mode, theme: this.canvas.colors, step, ...extra });
    const legend = painted.legend;
    if (legend.kind === "scale")
      this.legend.update(legend.map, legend.scale, legend.format, legend.swatches, legend.title);
    else this.legend.categories(legend.items, legend.title);
    this.stage.setPaint(painted, model);
    if (refreshDetails && this.details.node >= 0) void this.select(this.details.node);
    return painted;
  }

  private click(hit: Hit | null): void {
    const { model, expansion } = this.stage;
    if (!hit || !model || !expansion) return;
    void this.select(hit.node);
    if (!isGroup(model, hit.node)) return;
    if (!expansion.isExpanded(hit.node)) this.stage.change((e) => e.set(hit.node, true), { anchor: hit.node });
    else if (hit.header) this.stage.change((e) => e.set(hit.node, false), { anchor: hit.node });
  }

  private async select(node: number): Promise<void> {
    const model = this.model;
    if (!model) return;
    this.canvas.selected = node;
    this.canvas.requestDraw();
    const colour = this.stage.painted?.describe(node) ?? "";
    const step = this.healthSlider.step;
    if (!this.health.available || step === null) {
      const note = "No Training health data for this run: log it with modellens.torch.watch(model, writer).";
      this.details.show(model, node, colour, null, note);
      return;
    }
    this.details.show(model, node, colour, null, "loading parameter statistics…");
    const detail = await this.health.detail(model, node, step);
    if (this.details.node === node && this.model === model) this.details.show(model, node, colour, detail, "");
  }

  private search(query: string): void {
    const model = this.model;
    this.matches = model ? searchNodes(model, query) : [];
    this.matchIndex = -1;
    this.canvas.current = -1;
    this.canvas.marks = model && this.matches.length ? matchMarks(model, this.matches) : null;
    this.controls.showMatches(this.matches.length, -1, query);
    this.canvas.requestDraw();
  }

  /** The next or previous match: its path opened, the view centred on it, its details shown. */
  private async goToMatch(direction: 1 | -1): Promise<void> {
    const { expansion } = this.stage;
    if (!expansion || !this.matches.length) return;
    this.matchIndex = stepMatch(this.matches.length, this.matchIndex, direction);
    const node = this.matches[this.matchIndex];
    this.canvas.current = node;
    this.controls.showMatches(this.matches.length, this.matchIndex, this.controls.searchInput.value);
    if (expansion.reveal(node) && !(await this.stage.relayout())) return;
    if (this.matches[this.matchIndex] !== node) return;
    this.canvas.centerOn(node);
    await this.select(node);
  }

  private openTensor(tensor: string): void {
    const detail = { view: "distributions", run: this.picker.run, tag: this.health.linkTag(), tensor };
    window.dispatchEvent(
      new CustomEvent("modellens-navigate", { detail: { ...detail, step: this.healthSlider.step } }),
    );
  }

  private showSummary(model: GraphModel): void {
    this.summary.textContent = summaryText(model);
    this.status.textContent = "";
    this.status.classList.remove("ml-error");
    this.content.hidden = false;
  }

  private stem(): string {
    return fileStem(this.picker.run, this.picker.tag, `step${this.graphSlider.step ?? 0}`);
  }

  private exportSvg(): void {
    const scene = this.canvas.currentScene;
    const painted = this.stage.painted;
    if (!this.model || !scene || !painted) return;
    const title = `${this.picker.tag} · ${this.picker.run} · step ${this.graphSlider.step ?? 0}`;
    downloadSvg(sceneSvg(this.model, scene, painted, this.canvas.colors, title), this.stem());
  }

  private note(text: string): void {
    this.status.textContent = text;
    this.status.classList.remove("ml-error");
    this.content.hidden = true;
  }

  private fail(error: unknown): void {
    this.status.textContent = `Could not load data: ${error instanceof Error ? error.message : String(error)}`;
    this.status.classList.add("ml-error");
  }
}
