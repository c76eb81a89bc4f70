// The Tensors dashboard: run and tag pickers, step slider with play, the block colour (mean, min,
// max of a reduced step) and the compare control in the sidebar; the summary line and the tensor
// image (./panel) in the main area. Fetches through ./api, shapes through ./shape.
import { ApiError } from "../../core/api";
import { CompareControl } from "../../core/compare";
import { el, labelled, select } from "../../core/dom";
import { Staleness } from "../../core/guard";
import { RunTagPicker } from "../../core/picker";
import { StepSlider } from "../../core/slider";
import { fetchSeries, fetchStep, fetchTags } from "./api";
import { exportField } from "./exporting";
import { TensorPanel } from "./panel";
import { difference, mismatch, summaryText, type SeriesPoint, type Stat, type TensorStep } from "./shape";

const EMPTY_NOTE =
  "No tensor heatmaps yet. Log some with modellens.Writer(...).tensor_heatmap(tag, tensor, step=...) " +
  'or modellens.torch.watch(model, writer, heatmaps=["fc1.weight", …]).';

export class HeatmapView {
  readonly sidebar = el("div", { className: "ml-sidebar-section" });
  readonly main = el("div", { className: "ml-view" });
  private series: SeriesPoint[] = [];
  private seriesKey = "";
  private staleness = new Staleness();
  private starting: Promise<void> | null = null;
  private pendingStep: number | null = null; // from open()

  private picker = new RunTagPicker({
    load: fetchTags,
    first: "run",
    onSelect: (keepPosition) => this.loadSeries(keepPosition),
    onEmpty: () => {
      this.status.textContent = EMPTY_NOTE;
      this.content.hidden = true;
    },
    onError: (error) => this.fail(error),
    onOptions: () => this.compare.setRuns(this.picker.runsWithTag().filter((r) => r !== this.picker.run)),
  });
  private slider = new StepSlider(() => void this.renderStep(true));
  private stat = select([
    ["mean", "block mean"],
    ["min", "block min"],
    ["max", "block max"],
  ]);
  private statField = labelled("block colour", this.stat);
  private compare = new CompareControl(
    "compare",
    { off: "off", step: "difference against another step", run: "difference against another run (same step)" },
    () => void this.renderStep(true),
  );
  private status = el("div", { className: "ml-note", attrs: { role: "status" } });
  private summary = el("div", { className: "ml-summary", attrs: { "aria-label": "tensor summary" } });
  private panel = new TensorPanel();
  private content = el("div", { className: "ml-view-content" }, [this.summary, this.panel.element]);

  constructor() {
    this.sidebar.append(
      ...this.picker.fields,
      this.slider.element,
      this.statField,
      ...this.compare.fields,
      exportField({ canvas: this.panel.heatmap.canvas, drawn: () => this.panel.drawn }),
    );
    this.statField.title = "what colours a block of a block-reduced tensor";
    this.statField.hidden = true; // shown for block-reduced steps only
    this.main.append(this.status, this.content);
    this.stat.addEventListener("change", () => void this.renderStep(true));
  }

  async start(): Promise<void> {
    this.starting ??= this.picker.start();
    await this.starting;
  }

  /** Shows a run's tag at `step` (else the latest), as another view asks. */
  async open(state: { run?: string; tag?: string; step?: number | null }): Promise<void> {
    await this.start();
    if (!state.run || !state.tag) return;
    if (!this.picker.choose(state.run, state.tag)) {
      this.fail(new Error(`run ${state.run} has no tensor heatmap ${state.tag}`));
      return;
    }
    this.pendingStep = state.step ?? null;
    this.seriesKey = ""; // load even when the same run and tag are shown, to go to the step
    await this.loadSeries(false);
  }

  private async loadSeries(keepPosition: boolean): Promise<void> {
    const { run, tag } = this.picker;
    if (!run || !tag) return;
    const key = JSON.stringify([run, tag]);
    if (!keepPosition && key === this.seriesKey) return; // a "change" to the same value
    const sameSelection = key === this.seriesKey;
    this.seriesKey = key;
    if (!keepPosition) this.staleness.invalidate();
    let series: SeriesPoint[];
    try {
      series = await fetchSeries(run, tag);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (JSON.stringify([this.picker.run, this.picker.tag]) !== key) return; // the selection moved on
    this.series = series;
    this.content.hidden = !series.length; // never the previous tag's image under this one's name
    this.slider.setSteps(
      series.map((p) => p.step),
      keepPosition && sameSelection,
    );
    this.compare.setSteps(series.map((p) => p.step));
    this.status.textContent = series.length ? "" : `No steps in ${tag} of ${run} yet.`;
    this.status.classList.remove("ml-error");
    const pending = this.pendingStep;
    this.pendingStep = null;
    if (pending !== null && series.length) {
      this.slider.goTo(pending); // renders the step
      return;
    }
    await this.renderStep(keepPosition && sameSelection);
  }

  private wallTime(step: number): number | undefined {
    return this.series.find((p) => p.step === step)?.wall_time;
  }

  private async renderStep(keepView: boolean): Promise<void> {
    const token = this.staleness.next();
    const step = this.slider.step;
    const { run, tag } = this.picker;
    this.compare.sync();
    if (step === null || !run || !tag) return;
    const wanted = this.compare.reference(run, step);
    let arrived: number | null = null;
    let data: TensorStep;
    let reference: TensorStep | null = null;
    let note = "";
    this.panel.setState("loading");
    try {
      data = await fetchStep(run, tag, step, this.wallTime(step), () => (arrived = performance.now()));
      if (wanted) {
        try {
          const version = wanted.run === run ? this.wallTime(wanted.step) : undefined;
          reference = await fetchStep(wanted.run, tag, wanted.step, version);
          const why = mismatch(data, reference);
          if (why) {
            note = `${wanted.label} cannot be subtracted (${why}); showing the values.`;
            reference = null;
          }
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) throw error;
          note = `${wanted.label} has no step of this tag; showing the values.`;
        }
      }
    } catch (error) {
      if (this.staleness.isCurrent(token)) {
        this.fail(error);
        this.panel.setState("error");
      }
      return;
    }
    if (!this.staleness.isCurrent(token)) return; // a newer request superseded this one
    this.status.textContent = note;
    this.status.classList.remove("ml-error");
    this.draw(run, tag, data, reference && wanted ? { step: reference, label: wanted.label } : null, keepView, arrived);
  }

  private draw(
    run: string,
    tag: string,
    data: TensorStep,
    reference: { step: TensorStep; label: string } | null,
    keepView: boolean,
    arrived: number | null,
  ): void {
    const started = performance.now();
    this.statField.hidden = !data.meta.reduced;
    const stat: Stat = data.meta.reduced ? (this.stat.value as Stat) : "mean";
    const shown = {
      step: data,
      stat,
      reference: reference ? { ...reference, diff: difference(data, reference.step, stat) } : null,
    };
    this.panel.show(run, tag, shown, keepView);
    this.summary.textContent = summaryText(data.meta) + (reference ? ` · difference against ${reference.label}` : "");
    const end = performance.now();
    const cells = data.meta.stored_rows * data.meta.stored_cols;
    this.panel.heatmap.canvas.dataset.drawMs = (end - started).toFixed(1);
    // data arrival → drawn, shaping included (from the parsed JSON; a cached step from the draw's
    // start); read by the e2e test and bench/
    performance.measure("modellens:draw-heatmap", {
      start: arrived ?? started,
      end,
      detail: {
        cells,
        reduced: data.meta.reduced,
        cached: arrived === null,
        shape_ms: arrived === null ? 0 : (data.shapeMs ?? 0),
        draw_ms: end - started,
      },
    });
  }

  private fail(error: unknown): void {
    this.status.textContent = `Could not load data: ${error instanceof Error ? error.message : String(error)}`;
    this.status.classList.add("ml-error");
  }
}
