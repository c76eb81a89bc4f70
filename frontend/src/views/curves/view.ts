// The ROC / PR dashboard: run and tag pickers, step slider, the class selection (all, worst k by
// AUC, search, picked in the table; the micro average) and the compare control in the sidebar;
// the ROC and PR charts (./charts), the threshold panel with its 2 × 2 matrix (./threshold), the
// per-class table (./table) and AUC by step. Fetches through ./api (one request per curve),
// shapes through ./shape, exports through ./exporting.
import { SeriesLoader } from "../../core/series";
import { ApiError } from "../../core/api";
import { CompareControl } from "../../core/compare";
import { el } from "../../core/dom";
import { Staleness } from "../../core/guard";
import { RunTagPicker } from "../../core/picker";
import { StepSlider } from "../../core/slider";
import { StepLinesChart } from "../../core/stepchart";
import { fetchCurve, fetchSeries, fetchStep, fetchTags } from "./api";
import { CurveCharts, curveColor, type Shown } from "./charts";
import { exportFields } from "./exporting";
import { ClassSelection } from "./selection";
import { ClassTable } from "./table";
import { ThresholdPanel } from "./threshold";
import {
  aucLines,
  deriveCurve,
  matchCurve,
  selectedCurves,
  summaryText,
  type ClassKey,
  type Curve,
  type SeriesPoint,
  type StepData,
} from "./shape";

const EMPTY_NOTE = "No ROC / PR curves yet. Log some with modellens.Writer(...).roc_pr(tag, y_true, scores, step=...).";

interface Drawn {
  run: string;
  tag: string;
  step: StepData;
  curves: Curve[];
  references: Curve[];
  referenceLabel: string;
}

export class CurvesView {
  readonly sidebar = el("div", { className: "ml-sidebar-section" });
  readonly main = el("div", { className: "ml-view" });
  private staleness = new Staleness();
  private starting: Promise<void> | null = null;
  private drawn: Drawn | null = null;
  private focusName: string | null = null; // the class the threshold panel should follow next

  private picker = new RunTagPicker({
    load: fetchTags,
    first: "tag",
    onSelect: (keepPosition) => this.loader.load(keepPosition),
    onEmpty: () => {
      this.status.textContent = EMPTY_NOTE;
      this.content.hidden = true;
    },
    onError: (error) => this.fail(error),
    onOptions: () => {
      const runs = this.picker.runsWithTag().filter((r) => r !== this.picker.run);
      this.compare.setRuns(runs);
    },
  });
  private slider = new StepSlider(() => void this.renderStep());
  private selection = new ClassSelection(() => void this.renderStep());
  private compare = new CompareControl(
    "compare",
    { off: "off", step: "with another step (dashed)", run: "with another run, same step (dashed)" },
    () => void this.renderStep(),
  );
  private status = el("div", { className: "ml-note", attrs: { role: "status" } });
  private summary = el("div", { className: "ml-summary" });
  private charts = new CurveCharts((shown, index) => this.pickPoint(shown, index));
  private threshold = new ThresholdPanel(
    () => this.drawOperating(),
    () => this.openConfusion(),
  );
  private table = new ClassTable((row) => this.pickClass(row.name));
  private stepChart = new StepLinesChart("AUC by step", (step) => this.slider.goTo(step));
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
    this.sidebar.append(
      ...this.picker.fields,
      this.slider.element,
      this.selection.element,
      ...this.compare.fields,
      ...exportFields({
        roc: this.charts.roc,
        pr: this.charts.pr,
        run: () => this.drawn?.run ?? this.picker.run,
        tag: () => this.drawn?.tag ?? this.picker.tag,
        step: () => this.drawn?.step.step ?? null,
        note: () => (this.drawn?.referenceLabel ? `dashed: ${this.drawn.referenceLabel}` : ""),
      }),
    );
    this.content.append(
      this.summary,
      el("div", { className: "ml-panels" }, [
        el("section", { className: "ml-curves-chart", attrs: { "aria-label": "ROC" } }, [
          el("h2", { text: "ROC (hover: exact point, click: threshold there)" }),
          this.charts.roc.element,
        ]),
        el("section", { className: "ml-curves-chart", attrs: { "aria-label": "precision-recall" } }, [
          el("h2", { text: "precision-recall" }),
          this.charts.pr.element,
        ]),
      ]),
      el("div", { className: "ml-panels" }, [
        this.threshold.element,
        el("section", { className: "ml-curves-table", attrs: { "aria-label": "per class" } }, [
          el("h2", { text: "per class (click a header to sort, a row to show it)" }),
          this.table.element,
        ]),
        el("section", { className: "ml-curves-steps", attrs: { "aria-label": "AUC by step" } }, [
          el("h2", { text: "AUC by step (click: go to the step)" }),
          this.stepChart.element,
        ]),
      ]),
    );
    this.main.append(this.status, this.content);
  }

  async start(): Promise<void> {
    this.starting = this.picker.start();
    await this.starting;
  }

  /** Shows a run's tag (at `step`, else the latest) with the class named `tensor`, as another
   * view (Alerts) asks. */
  async open(state: { run?: string; tag?: string; tensor?: string; step?: number | null }): Promise<void> {
    await (this.starting ?? this.start());
    if (!state.run || !state.tag || !this.picker.choose(state.run, state.tag)) {
      this.fail(new Error(`run ${state.run ?? ""} has no ROC / PR tag ${state.tag ?? ""}`));
      return;
    }
    if (state.tensor) {
      this.selection.only(state.tag, state.tensor);
      this.focusName = state.tensor;
    }
    await this.loader.load(false, state.step ?? null);
  }

  private async renderStep(): Promise<void> {
    const token = this.staleness.next();
    const step = this.slider.step;
    const { run, tag } = this.picker;
    if (step === null || !run || !tag) return;
    const wanted = this.compare.reference(run, step);
    let data: StepData;
    let curves: Curve[];
    let references: Curve[] = [];
    let note = "";
    try {
      data = await fetchStep(run, tag, step, this.loader.wallTime(step));
      if (!this.staleness.isCurrent(token)) return;
      this.selection.applyDefaults(tag, data);
      const keys = selectedCurves(data, this.selection.input());
      curves = (await Promise.all(keys.map((k) => fetchCurve(run, tag, step, k, this.loader.wallTime(step))))).map(
        deriveCurve,
      );
      if (wanted) {
        try {
          const version = wanted.run === run ? this.loader.wallTime(wanted.step) : undefined;
          const reference = await fetchStep(wanted.run, tag, wanted.step, version);
          const matched = keys
            .map((k) => matchCurve(k, data.class_names, reference))
            .filter((k): k is ClassKey => k !== null);
          references = (
            await Promise.all(matched.map((k) => fetchCurve(wanted.run, tag, wanted.step, k, version)))
          ).map(deriveCurve);
          if (matched.length < keys.length) note = `${wanted.label} lacks some of the shown classes.`;
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
    const referenceLabel = references.length && wanted ? wanted.label : "";
    this.draw({ run, tag, step: data, curves, references, referenceLabel });
  }

  private draw(drawn: Drawn): void {
    const started = performance.now();
    this.drawn = drawn;
    const { step, curves } = drawn;
    const wanted = curves.find((c) => c.key !== "micro" && c.name === this.focusName);
    this.focusName = null;
    this.threshold.setOptions(
      curves.map((c) => [String(c.key), c.name]),
      String(wanted?.key ?? curves[0]?.key ?? ""),
      wanted !== undefined,
    );
    this.drawOperating();
    const shown = curves.filter((c) => c.key !== "micro").map((c) => c.key as number);
    this.table.update(step, shown);
    this.summary.textContent = summaryText(step, curves.length, drawn.referenceLabel);
    const dataset = this.charts.roc.element.dataset;
    Object.assign(dataset, { run: drawn.run, tag: drawn.tag, step: String(step.step), curves: String(curves.length) });
    Object.assign(this.charts.pr.element.dataset, { run: drawn.run, tag: drawn.tag, step: String(step.step) });
    if (!curves.length) this.status.textContent = "No class matches the selection.";
    // data arrival → everything drawn; read by the e2e test and bench/
    performance.measure("modellens:draw-curves", {
      start: started,
      end: performance.now(),
      detail: {
        classes: step.class_names.length,
        curves: curves.length,
        points: curves.reduce((a, c) => a + c.tp.length, 0),
      },
    });
  }

  /** AUC by step: the macro and micro averages and the followed class (binary: its AUC). */
  private drawSteps(step: StepData): void {
    const lines = aucLines(this.loader.series, step, this.focusCurve());
    this.stepChart.update(
      this.loader.series.map((p) => p.step),
      lines,
      step.step,
      { clamp: [0, 1] },
    );
  }

  private focusCurve(): Curve | null {
    const curves = this.drawn?.curves ?? [];
    return curves.find((c) => String(c.key) === this.threshold.focusKey) ?? curves[0] ?? null;
  }

  /** The threshold panel and the operating point on both charts. */
  private drawOperating(): void {
    const drawn = this.drawn;
    if (!drawn) return;
    const focus = this.focusCurve();
    this.threshold.show(focus);
    const color = (c: Curve, k: number) => curveColor(c.key, k);
    // a reference's curve takes the colour of the shown curve it matches (same class name)
    const id = (c: Curve) => (c.key === "micro" ? "\u0000micro" : c.name);
    const position = new Map(drawn.curves.map((c, k) => [id(c), k]));
    const shown: Shown[] = [
      ...drawn.curves.map((curve, k) => ({ curve, color: color(curve, k), reference: false })),
      ...drawn.references.map((curve) => ({
        curve,
        color: color(curve, position.get(id(curve)) ?? 0),
        reference: true,
      })),
    ];
    const operating = focus ? { curve: focus, index: this.threshold.index, color: "--ml-accent" } : null;
    this.charts.update(shown, operating, drawn.referenceLabel);
    this.drawSteps(drawn.step);
  }

  private pickPoint(shown: Shown, index: number): void {
    if (shown.reference) return;
    this.threshold.focus.value = String(shown.curve.key);
    this.threshold.show(shown.curve);
    this.threshold.setPoint(index);
    this.drawOperating();
  }

  /** A table row: shows that class (alone, or added to / removed from the picked ones). */
  private pickClass(name: string): void {
    if (this.selection.toggle(name)) this.focusName = name;
    void this.renderStep();
  }

  private openConfusion(): void {
    const drawn = this.drawn;
    if (!drawn) return;
    const focus = this.focusCurve();
    const detail = {
      view: "confusion",
      run: drawn.run,
      step: drawn.step.step,
      ...(focus && focus.key !== "micro" && !drawn.step.binary ? { tensor: focus.name } : {}),
    };
    window.dispatchEvent(new CustomEvent("modellens-navigate", { detail }));
  }

  private fail(error: unknown): void {
    this.status.textContent = `Could not load data: ${error instanceof Error ? error.message : String(error)}`;
    this.status.classList.add("ml-error");
  }
}
