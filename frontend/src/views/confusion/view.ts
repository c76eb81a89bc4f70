// The confusion-matrix dashboard: sidebar controls, heatmap with tooltip, metrics chart,
// most-confused pairs (./pairs) and the per-class table (./table); the cells' pixels and hover
// text in ./cells, export in ./exporting. Fetches through ./api, shapes through ./shape.

import { ApiError } from "../../core/api";
import { CompareControl } from "../../core/compare";
import { el, labelled, select } from "../../core/dom";
import { Staleness } from "../../core/guard";
import { Heatmap, type HoverEvent } from "../../core/heatmap";
import { Legend } from "../../core/legend";
import { LineChart } from "../../core/linechart";
import { RunTagPicker } from "../../core/picker";
import { StepSlider } from "../../core/slider";
import { Tooltip } from "../../core/tooltip";
import { fetchSeries, fetchStep, fetchTags } from "./api";
import { cellLines, cellPixels, type Rendered } from "./cells";
import { exportField } from "./exporting";
import { ConfusedPairs } from "./pairs";
import { ClassTable } from "./table";
import {
  alignByName,
  classOrder,
  confusionScale,
  difference,
  formatPercent,
  formatValue,
  normalize,
  size,
  type Normalization,
  type Ordering,
  type SeriesPoint,
  type StepData,
} from "./shape";

export class ConfusionView {
  readonly sidebar = el("div", { className: "ml-sidebar-section" });
  readonly main = el("div", { className: "ml-view" });
  private series: SeriesPoint[] = [];
  private rendered: Rendered | null = null;
  private highlight: [string, string] | null = null; // true and predicted class names
  private staleness = new Staleness();
  private seriesKey = ""; // the run and tag whose series is loaded
  private starting: Promise<void> | null = null;

  private picker = new RunTagPicker({
    load: fetchTags,
    first: "tag",
    onSelect: (keepPosition) => this.loadSeries(keepPosition),
    onEmpty: () => {
      this.status.textContent =
        "No confusion matrices yet. Write some with modellens.Writer(...).confusion_matrix(...).";
    },
    onError: (error) => this.fail(error),
    onOptions: () => {
      const runs = this.picker.runsWithTag();
      this.compare.setRuns(runs, runs[1]);
    },
  });
  private slider = new StepSlider(() => void this.renderStep(true));
  private normalization = select([
    ["none", "counts"],
    ["true", "by true class (recall)"],
    ["pred", "by predicted class (precision)"],
  ]);
  private ordering = select([
    ["index", "index"],
    ["name", "name"],
    ["error", "error rate (worst first)"],
  ]);
  private compare = new CompareControl(
    "delta",
    { off: "off", step: "vs another step", run: "vs another run (same step)" },
    () => void this.renderStep(true),
  );
  private referenceLabel = ""; // names the reference of the drawn delta
  private status = el("div", { className: "ml-note", attrs: { role: "status" } });
  private summary = el("div", { className: "ml-summary" });
  private legend = new Legend();
  private tooltip = new Tooltip(() => this.heatmapWrap);
  private heatmap = new Heatmap({
    ariaLabel: "confusion matrix heatmap",
    xTitle: "predicted →",
    yTitle: "true →",
    overview: (image) => `${image.rows} classes`,
    onHover: (event) => this.showTooltip(event),
    onClickCell: (row, column) => this.toggleHighlight(row, column),
  });
  private heatmapWrap: HTMLElement = el("div", { className: "ml-heatmap-wrap" }, [
    this.heatmap.canvas,
    this.tooltip.element,
  ]);
  private chart = new LineChart(
    {
      ariaLabel: "accuracy and macro-F1 over steps",
      lines: [
        { label: "accuracy", color: "#1976d2" },
        { label: "macro-F1", color: "#f57c00" },
      ],
      yDomain: [0, 1],
      title: (now) =>
        now
          ? `step ${now.step}: accuracy ${now.values[0]?.toFixed(4) ?? "n/a"}, macro-F1 ${now.values[1]?.toFixed(4) ?? "n/a"}`
          : "",
    },
    (step) => this.slider.goTo(step),
  );
  private pairs = new ConfusedPairs((trueIndex, predictedIndex) =>
    this.toggleHighlightByIndex(trueIndex, predictedIndex),
  );
  private table = new ClassTable((index) => this.toggleHighlightByIndex(index, index));

  constructor() {
    this.sidebar.append(
      ...this.picker.fields,
      this.slider.element,
      labelled("normalize", this.normalization),
      labelled("order classes by", this.ordering),
      ...this.compare.fields,
      exportField({
        canvas: this.heatmap.canvas,
        run: () => this.picker.run,
        tag: () => this.picker.tag,
        drawn: () => this.rendered,
      }),
    );
    this.main.append(
      this.status,
      this.summary,
      el("div", { className: "ml-panels" }, [
        el("div", { className: "ml-heatmap-outer" }, [this.legend.element, this.heatmapWrap]),
        el("div", { className: "ml-side" }, [
          el("section", {}, [el("h2", { text: "accuracy and macro-F1 by step" }), this.chart.element]),
          el("section", {}, [el("h2", { text: "most confused (true → predicted)" }), this.pairs.element]),
          el("section", {}, [el("h2", { text: "per class" }), this.table.element]),
        ]),
      ]),
    );
    for (const control of [this.normalization, this.ordering]) {
      control.addEventListener("change", () => this.renderStep(true));
    }
    window.addEventListener("modellens-theme", () => this.heatmap.draw());
    new ResizeObserver(() => this.heatmap.resize(this.heatmapWrap.clientWidth || 700)).observe(this.heatmapWrap);
  }

  async start(): Promise<void> {
    this.starting = this.picker.start();
    await this.starting;
  }

  /** Shows a run (its tag `tag`, else its first) at `step` (else the latest), highlighting the
   * diagonal cell of the class named `tensor`, as another view asks (Alerts, ROC / PR). */
  async open(state: { run?: string; tag?: string; tensor?: string; step?: number | null }): Promise<void> {
    await (this.starting ?? this.start());
    const tags = state.run ? (this.picker.listing[state.run] ?? []) : [];
    const tag = state.tag && tags.includes(state.tag) ? state.tag : [...tags].sort()[0];
    if (!state.run || !tag || !this.picker.choose(state.run, tag)) {
      this.fail(new Error(`run ${state.run ?? ""} has no confusion matrices`));
      return;
    }
    this.highlight = state.tensor ? [state.tensor, state.tensor] : null;
    const loaded = JSON.stringify([state.run, tag]) === this.seriesKey; // loadSeries will not redraw
    await this.loadSeries(false);
    if (state.step !== undefined && state.step !== null && state.step !== this.slider.step) {
      this.slider.goTo(state.step);
    } else if (loaded) {
      await this.renderStep(true);
    }
  }

  private async loadSeries(keepPosition: boolean): Promise<void> {
    const { run, tag } = this.picker;
    if (!run || !tag) return;
    const key = JSON.stringify([run, tag]);
    if (!keepPosition && key === this.seriesKey) return; // a "change" to the same value
    this.seriesKey = key;
    if (!keepPosition) this.staleness.invalidate(); // drop draws of the previous run or tag still in flight
    let series: SeriesPoint[];
    try {
      series = await fetchSeries(run, tag);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (JSON.stringify([this.picker.run, this.picker.tag]) !== key) return; // the selection moved on
    this.series = series;
    this.slider.setSteps(
      series.map((p) => p.step),
      keepPosition,
    );
    this.compare.setSteps(this.series.map((p) => p.step));
    await this.renderStep(keepPosition);
  }

  private async renderStep(keepView: boolean): Promise<void> {
    const token = this.staleness.next();
    const step = this.slider.step;
    const { run, tag } = this.picker;
    this.compare.sync();
    if (step === null) return;
    const wanted = this.compare.reference(run, step);
    let data: StepData;
    let reference: StepData | null = null;
    let note = "";
    try {
      data = await fetchStep(run, tag, step, this.series[this.slider.index]?.wall_time);
      try {
        if (wanted) {
          const wallTime = wanted.run === run ? this.series.find((p) => p.step === wanted.step)?.wall_time : undefined;
          reference = await fetchStep(wanted.run, tag, wanted.step, wallTime);
        }
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
        note = `The reference has no step ${wanted?.step} for this tag; showing no delta.`;
      }
    } catch (error) {
      if (this.staleness.isCurrent(token)) this.fail(error);
      return;
    }
    if (!this.staleness.isCurrent(token)) return; // a newer request superseded this one
    this.status.textContent = note;
    this.status.classList.remove("ml-error");
    this.referenceLabel = reference && wanted ? wanted.label : "";
    this.draw(run, tag, data, reference, keepView);
  }

  private draw(run: string, tag: string, data: StepData, reference: StepData | null, keepView: boolean): void {
    const started = performance.now();
    const n = size(data);
    const normalization = this.normalization.value as Normalization;
    const order = classOrder(data, this.ordering.value as Ordering);
    let values = normalize(data.counts, n, normalization);
    if (reference) {
      // normalize each matrix in its own classes, then match cells by class name
      const referenceValues = normalize(reference.counts, size(reference), normalization);
      values = difference(values, alignByName(referenceValues, reference.class_names, data.class_names));
    }
    const delta = reference !== null;
    const scale = confusionScale(values, delta ? "delta" : normalization);
    const rgba = cellPixels(values, order, scale, delta);
    const names = order.map((i) => data.class_names[i]);
    this.rendered = { data, order, values, reference, normalization, rgba };
    this.heatmap.setImage(
      {
        rows: n,
        columns: n,
        rgba,
        rowNames: names,
        columnNames: names,
        cellText: (r, c) => formatValue(values[order[r] * n + order[c]], normalization, delta),
      },
      keepView,
    );
    Object.assign(this.heatmap.canvas.dataset, { run, tag, step: String(data.step) });
    this.heatmap.setHighlight(this.displayCell(this.highlight), false);
    this.legend.update(delta ? "diverging" : "blues", scale, (v) =>
      delta ? formatValue(v, normalization, true) : normalization === "none" ? String(v) : `${v * 100}%`,
    );
    const m = data.metrics;
    this.summary.textContent =
      `step ${data.step} · ${m.total} samples · ${n} classes · accuracy ${m.accuracy === null ? "n/a" : formatPercent(m.accuracy)}` +
      ` · macro-F1 ${m.macro_f1 === null ? "n/a" : m.macro_f1.toFixed(3)}` +
      (reference ? ` · delta against ${this.referenceLabel}` : "");
    this.chart.update(
      this.series.map((p) => ({ step: p.step, values: [p.accuracy, p.macro_f1] })),
      data.step,
    );
    this.table.update(data);
    this.pairs.update(data, this.highlight);
    // data arrival → everything drawn; read by bench/browser_draw.py
    performance.measure("modellens:draw", { start: started, end: performance.now(), detail: { classes: n } });
  }

  /** The highlighted cell in display coordinates, or null when its classes are not shown. */
  private displayCell(cell: [string, string] | null): [number, number] | null {
    const rendered = this.rendered;
    if (!cell || !rendered) return null;
    const [row, column] = cell.map((name) => rendered.order.indexOf(rendered.data.class_names.indexOf(name)));
    return row < 0 || column < 0 ? null : [row, column];
  }

  private toggleHighlight(row: number, column: number): void {
    if (!this.rendered) return;
    this.toggleHighlightByIndex(this.rendered.order[row], this.rendered.order[column]);
  }

  private toggleHighlightByIndex(trueIndex: number, predictedIndex: number): void {
    if (!this.rendered) return;
    const names = this.rendered.data.class_names;
    const same = this.highlight?.[0] === names[trueIndex] && this.highlight?.[1] === names[predictedIndex];
    this.highlight = same ? null : [names[trueIndex], names[predictedIndex]];
    this.heatmap.setHighlight(this.displayCell(this.highlight), true);
    this.pairs.update(this.rendered.data, this.highlight);
  }

  private showTooltip(event: HoverEvent | null): void {
    const rendered = this.rendered;
    if (!event || !rendered) {
      this.tooltip.hide();
      return;
    }
    const label = rendered.reference ? this.referenceLabel : "";
    this.tooltip.show(cellLines(rendered, event.row, event.column, label), event.x, event.y);
  }

  private fail(error: unknown): void {
    this.status.textContent = `Could not load data: ${error instanceof Error ? error.message : String(error)}`;
    this.status.classList.add("ml-error");
  }
}
