// The Predictions dashboard: run and tag pickers, step slider and the compare control in the
// sidebar; the metrics (./metrics) and a metric by step; regression steps show predicted vs true,
// residuals and error by decile (./regression), classification steps calibration, confidence and
// the most confidently wrong samples (./classification). Fetches through ./api, shapes through
// ./shape, exports through ./exporting.
import { SeriesLoader } from "../../core/series";
import { ApiError } from "../../core/api";
import { CompareControl } from "../../core/compare";
import { el } from "../../core/dom";
import { formatScore, formatShort } from "../../core/format";
import { Staleness } from "../../core/guard";
import { RunTagPicker } from "../../core/picker";
import { StepSlider } from "../../core/slider";
import { StepLinesChart } from "../../core/stepchart";
import { fetchSeries, fetchStep, fetchTags } from "./api";
import { ClassificationPanels } from "./classification";
import { exportField, type ExportChart } from "./exporting";
import { MetricsTable } from "./metrics";
import { RegressionPanels } from "./regression";
import type { SeriesPoint, StepData } from "./shape";

const EMPTY_NOTE =
  "No predictions yet. Log some with modellens.Writer(...).predictions(tag, y_true, y_pred, step=...): " +
  "real values for regression, class probabilities for classification.";

export class PredictionsView {
  readonly sidebar = el("div", { className: "ml-sidebar-section" });
  readonly main = el("div", { className: "ml-view" });
  private staleness = new Staleness();
  private starting: Promise<void> | null = null;
  private shown: { run: string; tag: string; step: StepData } | null = null;

  private picker = new RunTagPicker({
    load: fetchTags,
    first: "tag",
    onSelect: (keepPosition) => this.loader.load(keepPosition),
    onEmpty: () => {
      this.status.textContent = EMPTY_NOTE;
      this.content.hidden = true;
    },
    onError: (error) => this.fail(error),
    onOptions: () => this.compare.setRuns(this.picker.runsWithTag().filter((r) => r !== this.picker.run)),
  });
  private slider = new StepSlider(() => void this.renderStep());
  private compare = new CompareControl(
    "compare",
    { off: "off", step: "with another step", run: "with another run (same step)" },
    () => void this.renderStep(),
  );
  private status = el("div", { className: "ml-note", attrs: { role: "status" } });
  private summary = el("div", { className: "ml-summary" });
  private metrics = new MetricsTable();
  private stepChart = new StepLinesChart("metrics by step", (step) => this.slider.goTo(step));
  private regression = new RegressionPanels();
  private classification = new ClassificationPanels();
  private exporter = exportField({
    charts: () => this.charts(),
    run: () => this.shown?.run ?? this.picker.run,
    tag: () => this.shown?.tag ?? this.picker.tag,
    step: () => this.shown?.step.step ?? null,
  });
  private content = el("div", { className: "ml-view-content" });

  private loader: SeriesLoader<SeriesPoint> = new SeriesLoader({
    picker: this.picker,
    slider: this.slider,
    compare: this.compare,
    staleness: this.staleness,
    fetch: fetchSeries,
    fail: (error) => this.fail(error),
    loaded: (series, run, tag) => {
      this.content.hidden = false;
      if (!series.length) this.status.textContent = `No steps in ${tag} of ${run} yet.`;
    },
    render: () => this.renderStep(),
  });

  constructor() {
    this.sidebar.append(...this.picker.fields, this.slider.element, ...this.compare.fields, this.exporter.element);
    this.content.append(
      this.summary,
      el("div", { className: "ml-panels" }, [
        el("section", { className: "ml-pred-metrics-panel", attrs: { "aria-label": "metrics" } }, [
          el("h2", { text: "metrics" }),
          this.metrics.element,
        ]),
        el("section", { attrs: { "aria-label": "by step" } }, [
          el("h2", { text: "by step (click: go to the step)" }),
          this.stepChart.element,
        ]),
      ]),
      this.regression.element,
      this.classification.element,
    );
    this.regression.element.hidden = true;
    this.classification.element.hidden = true;
    this.main.append(this.status, this.content);
  }

  async start(): Promise<void> {
    this.starting = this.picker.start();
    await this.starting;
  }

  /** Shows a run's tag at `step` (else the latest), as another view (Alerts) asks. */
  async open(state: { run?: string; tag?: string; step?: number | null }): Promise<void> {
    await (this.starting ?? this.start());
    if (!state.run || !state.tag || !this.picker.choose(state.run, state.tag)) {
      this.fail(new Error(`run ${state.run ?? ""} has no predictions tag ${state.tag ?? ""}`));
      return;
    }
    await this.loader.load(false, state.step ?? null);
  }

  private charts(): ExportChart[] {
    if (this.shown?.step.task === "classification") {
      return [
        { name: "reliability", title: "reliability diagram", chart: this.classification.reliability },
        { name: "confidence", title: "confidence histogram", chart: this.classification.confidence },
        { name: "by_step", title: "metrics by step", chart: this.stepChart.chart },
      ];
    }
    return [
      { name: "scatter", title: "predicted vs true", chart: this.regression.scatter.chart },
      { name: "residuals", title: "residual histogram", chart: this.regression.residuals },
      { name: "deciles", title: "error by decile", chart: this.regression.deciles },
      { name: "by_step", title: "metrics by step", chart: this.stepChart.chart },
    ];
  }

  private async renderStep(): Promise<void> {
    const token = this.staleness.next();
    const step = this.slider.step;
    const { run, tag } = this.picker;
    if (step === null || !run || !tag) return;
    const wanted = this.compare.reference(run, step);
    let data: StepData;
    let reference: StepData | null = null;
    let note = "";
    try {
      data = await fetchStep(run, tag, step, this.loader.wallTime(step));
      if (wanted) {
        try {
          const version = wanted.run === run ? this.loader.wallTime(wanted.step) : undefined;
          reference = await fetchStep(wanted.run, tag, wanted.step, version);
          if (reference.task !== data.task) {
            note = `${wanted.label} is ${reference.task}, not ${data.task}: showing no comparison.`;
            reference = null;
          }
        } catch (error) {
          if (!(error instanceof ApiError && error.status === 404)) throw error;
          note = `${wanted.label} has no step of this tag; showing no comparison.`;
        }
      }
    } catch (error) {
      if (this.staleness.isCurrent(token)) this.fail(error);
      return;
    }
    if (!this.staleness.isCurrent(token)) return; // a newer request superseded this one
    this.status.textContent = note;
    this.status.classList.remove("ml-error");
    this.draw(run, tag, data, reference, reference && wanted ? wanted.label : "");
  }

  private draw(run: string, tag: string, data: StepData, reference: StepData | null, referenceLabel: string): void {
    const started = performance.now();
    this.shown = { run, tag, step: data };
    this.metrics.update(data, reference, referenceLabel);
    const regression = data.task === "regression";
    this.regression.element.hidden = !regression;
    this.classification.element.hidden = regression;
    if (data.task === "regression") {
      this.regression.update(data, reference?.task === "regression" ? reference : null, referenceLabel);
    } else {
      this.classification.update(data, reference?.task === "classification" ? reference : null, referenceLabel);
    }
    this.drawSteps(data);
    this.summary.textContent = summaryText(data, referenceLabel);
    this.exporter.refresh();
    const target = regression ? this.regression.scatter.chart.element : this.classification.reliability.element;
    Object.assign(target.dataset, { run, tag, step: String(data.step) });
    Object.assign(this.main.dataset, { run, tag, step: String(data.step), task: data.task });
    // data arrival → everything drawn; read by the e2e test and bench/
    performance.measure("modellens:draw-predictions", {
      start: started,
      end: performance.now(),
      detail: {
        task: data.task,
        samples: data.samples,
        points: data.task === "regression" ? (data.points?.true.length ?? 0) : 0,
      },
    });
  }

  private drawSteps(data: StepData): void {
    const steps = this.loader.series.map((p) => p.step);
    const value = (p: SeriesPoint, key: string) => (p as unknown as Record<string, number | null>)[key] ?? null;
    const lines =
      data.task === "regression"
        ? [
            { label: "MAE", values: this.loader.series.map((p) => value(p, "mae")), color: "#1976d2" },
            { label: "RMSE", values: this.loader.series.map((p) => value(p, "rmse")), color: "#ef6c00" },
          ]
        : [
            { label: "accuracy", values: this.loader.series.map((p) => value(p, "accuracy")), color: "#1976d2" },
            { label: "ECE", values: this.loader.series.map((p) => value(p, "ece")), color: "#e53935" },
          ];
    this.stepChart.update(steps, lines, data.step, { width: 440, height: 220, clamp: [0, Infinity] });
  }

  private fail(error: unknown): void {
    this.status.textContent = `Could not load data: ${error instanceof Error ? error.message : String(error)}`;
    this.status.classList.add("ml-error");
  }
}

function summaryText(data: StepData, referenceLabel: string): string {
  const parts =
    data.task === "regression"
      ? [
          `step ${data.step}`,
          `regression, ${data.samples} samples`,
          `MAE ${formatShort(data.mae)} · RMSE ${formatShort(data.rmse)} · R² ${formatShort(data.r2)}`,
          data.points
            ? `every point shown exactly (${data.points.true.length})`
            : `density of ${data.density.bins} × ${data.density.bins} cells (points are stored up to 50,000 samples)`,
        ]
      : [
          `step ${data.step}`,
          `classification, ${data.samples} samples${data.class_names ? `, ${data.class_names.length} classes` : ""}`,
          `accuracy ${formatScore(data.accuracy)} · ECE ${formatScore(data.ece)} · MCE ${formatScore(data.mce)}`,
        ];
  if (referenceLabel) parts.push(`compared with ${referenceLabel}`);
  return parts.join(" · ");
}
