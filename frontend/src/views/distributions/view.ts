// The training-health dashboard: run, tag and metric pickers, the alerts banner, the layer × step
// heatmap (./overview), and the detail of one tensor (./detail) at the step of the slider.
import { el, labelled, replaceOptions, select } from "../../core/dom";
import { Staleness } from "../../core/guard";
import { RunTagPicker } from "../../core/picker";
import { StepSlider } from "../../core/slider";
import { Alerts } from "./alerts";
import { fetchSeries, fetchTags } from "./api";
import { Detail } from "./detail";
import { Overview } from "./overview";
import { detailTags, metricLabel, seriesVersion, type Series, type Verdict } from "./shape";

const EMPTY_NOTE =
  "No training-health data yet. Log some with modellens.torch.watch(model, writer) during training, " +
  "or with Writer.distributions(tag, {name: tensor, …}, step=…); standard TensorBoard histograms " +
  "(add_histogram, tf.summary.histogram) show up too.";

export class DistributionsView {
  readonly sidebar = el("div", { className: "ml-sidebar-section" });
  readonly main = el("div", { className: "ml-view" });
  private series: Series | null = null;
  private seriesKey = "";
  private staleness = new Staleness();
  private alertsRun = "";
  private pending: { tensor: string; step: number } | null = null; // from a clicked alert or open()
  private starting: Promise<void> | null = null;

  private picker = new RunTagPicker({
    load: fetchTags,
    first: "run",
    onSelect: (keepPosition) => this.loadSeries(keepPosition),
    onEmpty: () => this.showEmpty(),
    onError: (error) => this.fail(error),
  });
  private metricSelect = select([["norm", metricLabel("norm")]]);
  private scaleSelect = select([
    ["auto", "auto (log for norms)"],
    ["log", "log"],
    ["linear", "linear"],
  ]);
  private slider = new StepSlider(() => this.onStep());
  private status = el("div", { className: "ml-note", attrs: { role: "status" } });
  private alerts = new Alerts((verdict) => this.openVerdict(verdict));
  private overview = new Overview((tensor, stepIndex) => this.pickCell(tensor, stepIndex));
  private detail = new Detail(
    (step) => this.slider.goTo(step),
    () => void this.showDetail(),
  );
  private content = el("div", { className: "ml-view-content" });

  constructor() {
    const exportPng = el("button", { text: "PNG" });
    const exportSvg = el("button", { text: "SVG" });
    exportPng.addEventListener("click", () => this.overview.exportPng());
    exportSvg.addEventListener("click", () => this.overview.exportSvg());
    this.sidebar.append(
      ...this.picker.fields,
      labelled("metric", this.metricSelect),
      labelled("colour scale", this.scaleSelect),
      this.slider.element,
      el("div", { className: "ml-field" }, [
        el("span", { text: "export heatmap" }),
        el("div", { className: "ml-row" }, [exportPng, exportSvg]),
      ]),
    );
    this.content.append(this.alerts.element, this.overview.element, this.detail.element);
    this.main.append(this.status, this.content);
    this.metricSelect.addEventListener("change", () => void this.loadSeries(true, true));
    this.scaleSelect.addEventListener("change", () => this.redraw(true));
  }

  async start(): Promise<void> {
    this.starting = this.picker.start();
    await this.starting;
  }

  /** Shows a run's tensor in a tag (at `step`, else the latest), as another view asks. */
  async open(state: { run?: string; tag?: string; tensor?: string; step?: number | null }): Promise<void> {
    await (this.starting ?? this.start());
    if (!state.run || !state.tag) return;
    this.pending = { tensor: state.tensor ?? "", step: state.step ?? Number.MAX_SAFE_INTEGER };
    if (!this.picker.choose(state.run, state.tag)) {
      this.pending = null;
      this.fail(new Error(`run ${state.run} has no tag ${state.tag}`));
      return;
    }
    await this.loadSeries(false);
  }

  private showEmpty(): void {
    this.status.textContent = EMPTY_NOTE;
    this.status.classList.remove("ml-error");
    this.content.hidden = true;
  }

  /** Loads the selected run, tag and metric; `keepPosition` on a reload or a metric change. */
  private async loadSeries(keepPosition: boolean, metricChanged = false): Promise<void> {
    const { run, tag } = this.picker;
    if (!run || !tag) return;
    const key = JSON.stringify([run, tag]);
    if (!keepPosition && key === this.seriesKey && !this.pending) return; // a "change" to the same value
    const sameSelection = key === this.seriesKey;
    this.seriesKey = key;
    const token = this.staleness.next();
    if (run !== this.alertsRun || (keepPosition && !metricChanged)) {
      this.alertsRun = run;
      void this.alerts.load(run);
    }
    let series: Series;
    try {
      series = await fetchSeries(run, tag, this.metricSelect.value || "norm");
    } catch (error) {
      if (this.staleness.isCurrent(token)) this.fail(error);
      return;
    }
    if (!this.staleness.isCurrent(token)) return; // the selection moved on
    this.series = series;
    this.status.textContent = series.tensors.length ? "" : `No tensors in ${tag} of ${run} yet.`;
    this.status.classList.remove("ml-error");
    this.content.hidden = false;
    const metrics = series.metrics.length ? series.metrics : [series.metric];
    replaceOptions(
      this.metricSelect,
      metrics.map((m) => [m, metricLabel(m)]),
      series.metric,
    );
    this.slider.setSteps(series.steps, keepPosition && sameSelection);
    this.detail.setOptions(
      series.tensors.map((t) => t.name),
      Object.keys(this.picker.listing).sort(),
      run,
    );
    this.redraw(keepPosition && sameSelection);
    if (this.pending) {
      const { tensor, step } = this.pending;
      this.pending = null;
      if (series.tensors.some((t) => t.name === tensor)) this.detail.tensorSelect.value = tensor;
      this.slider.goTo(step);
    } else {
      this.onStep();
    }
    await this.showDetail();
  }

  private redraw(keepView: boolean): void {
    const series = this.series;
    if (!series) return;
    const started = performance.now();
    this.overview.update(series, this.scaleSelect.value, keepView);
    this.onStep();
    // data arrival → heatmap drawn; read by bench/browser_draw.py
    performance.measure("modellens:draw-distributions", {
      start: started,
      end: performance.now(),
      detail: { tensors: series.tensors.length, steps: series.steps.length },
    });
  }

  private onStep(): void {
    const step = this.slider.step;
    this.overview.setStep(step === null ? null : this.slider.index, step);
    this.highlightDetail();
    this.detail.setStep(step);
  }

  private highlightDetail(): void {
    const index = this.series?.tensors.findIndex((t) => t.name === this.detail.tensorSelect.value) ?? -1;
    this.overview.highlight(index >= 0 ? index : null, this.slider.step === null ? null : this.slider.index);
  }

  private pickCell(tensor: number, stepIndex: number): void {
    const series = this.series;
    if (!series) return;
    this.detail.tensorSelect.value = series.tensors[tensor].name;
    this.slider.goTo(series.steps[stepIndex]);
    void this.showDetail();
  }

  private async showDetail(): Promise<void> {
    const series = this.series;
    const name = this.detail.tensorSelect.value;
    if (!series || !name) return;
    this.highlightDetail();
    await this.detail.show({
      run: series.run,
      tags: detailTags(this.picker.listing[series.run] ?? [], series.tag),
      name,
      compareRun: this.detail.compareSelect.value,
      version: seriesVersion(series),
    });
  }

  private openVerdict(verdict: Verdict): void {
    const run = this.picker.run;
    this.pending = { tensor: verdict.tensors[0] ?? "", step: verdict.first_step };
    if (!this.picker.choose(run, verdict.tag)) {
      this.pending = null;
      this.fail(new Error(`run ${run} has no tag ${verdict.tag}`));
      return;
    }
    void this.loadSeries(false);
  }

  private fail(error: unknown): void {
    this.status.textContent = `Could not load data: ${error instanceof Error ? error.message : String(error)}`;
    this.status.classList.add("ml-error");
  }
}
