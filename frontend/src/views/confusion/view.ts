// The confusion-matrix dashboard: sidebar controls, heatmap with tooltip, metrics chart,
// most-confused pairs and the per-class table. Fetches through ./api, shapes through ./shape.

import { ApiError } from "../../core/api";
import { cssColor, lookupTable } from "../../core/colors";
import { download, el, labelled, replaceOptions, select } from "../../core/dom";
import { fetchSeries, fetchStep, fetchTags, type TagListing } from "./api";
import { ClassTable } from "./table";
import { MetricsChart } from "./chart";
import { matrixSvg } from "./export";
import { Heatmap, type HoverEvent } from "./heatmap";
import {
  alignByName,
  cellDetail,
  classOrder,
  colorIndexer,
  difference,
  formatPercent,
  formatValue,
  normalize,
  size,
  topConfused,
  type Normalization,
  type Ordering,
  type SeriesPoint,
  type StepData,
} from "./shape";

type DeltaMode = "off" | "step" | "run";
const PLAY_INTERVAL_MS = 600;
const POLL_INTERVAL_MS = 30_000;

interface Rendered {
  data: StepData;
  order: number[];
  values: Float64Array; // display value per cell, class-index space
  reference: StepData | null;
  normalization: Normalization;
  rgba: Uint8ClampedArray;
}

export class ConfusionView {
  readonly sidebar = el("div", { className: "ml-sidebar-section" });
  readonly main = el("div", { className: "ml-view" });
  private tags: TagListing = {};
  private series: SeriesPoint[] = [];
  private rendered: Rendered | null = null;
  private highlight: [string, string] | null = null; // true and predicted class names
  private playTimer: number | undefined;
  private renderToken = 0;
  private seriesKey = ""; // the run and tag whose series is loaded

  private tagSelect = select([]);
  private runSelect = select([]);
  private slider = el("input", { attrs: { type: "range", min: "0", max: "0", value: "0", "aria-label": "step" } });
  private stepLabel = el("span", { className: "ml-step-label", text: "step –" });
  private playButton = el("button", { text: "▶ play", attrs: { "aria-label": "play" } });
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
  private deltaMode = select([
    ["off", "off"],
    ["step", "vs another step"],
    ["run", "vs another run (same step)"],
  ]);
  private referenceStep = select([]);
  private referenceRun = select([]);
  private referenceStepField = labelled("reference step", this.referenceStep);
  private referenceRunField = labelled("reference run", this.referenceRun);
  private status = el("div", { className: "ml-note", attrs: { role: "status" } });
  private summary = el("div", { className: "ml-summary" });
  private legend = el("div", { className: "ml-legend" });
  private tooltip = el("div", { className: "ml-tooltip", attrs: { role: "tooltip" } });
  private heatmap = new Heatmap(
    (event) => this.showTooltip(event),
    (row, column) => this.toggleHighlight(row, column),
  );
  private heatmapWrap = el("div", { className: "ml-heatmap-wrap" }, [this.heatmap.canvas, this.tooltip]);
  private chart = new MetricsChart((step) => this.goToStep(step));
  private pairs = el("ol", { className: "ml-pairs" });
  private table = new ClassTable((index) => this.toggleHighlightByIndex(index, index));

  constructor() {
    this.tooltip.hidden = true;
    const exportPng = el("button", { text: "PNG" });
    const exportSvg = el("button", { text: "SVG" });
    exportPng.addEventListener("click", () => this.exportPng());
    exportSvg.addEventListener("click", () => this.exportSvg());
    this.sidebar.append(
      labelled("tag", this.tagSelect),
      labelled("run", this.runSelect),
      el("div", { className: "ml-field" }, [
        el("span", { text: "step" }),
        this.slider,
        el("div", { className: "ml-row" }, [this.playButton, this.stepLabel]),
      ]),
      labelled("normalize", this.normalization),
      labelled("order classes by", this.ordering),
      labelled("delta", this.deltaMode),
      this.referenceStepField,
      this.referenceRunField,
      el("div", { className: "ml-field" }, [el("span", { text: "export view" }), el("div", { className: "ml-row" }, [exportPng, exportSvg])]),
    );
    this.main.append(
      this.status,
      this.summary,
      el("div", { className: "ml-panels" }, [
        el("div", { className: "ml-heatmap-outer" }, [this.legend, this.heatmapWrap]),
        el("div", { className: "ml-side" }, [
          el("section", {}, [el("h2", { text: "accuracy and macro-F1 by step" }), this.chart.element]),
          el("section", {}, [el("h2", { text: "most confused (true → predicted)" }), this.pairs]),
          el("section", {}, [el("h2", { text: "per class" }), this.table.element]),
        ]),
      ]),
    );
    this.tagSelect.addEventListener("change", () => this.onTagChange());
    this.runSelect.addEventListener("change", () => this.loadSeries(false));
    this.slider.addEventListener("input", () => this.renderStep(true));
    this.playButton.addEventListener("click", () => this.togglePlay());
    for (const control of [this.normalization, this.ordering, this.deltaMode, this.referenceStep, this.referenceRun]) {
      control.addEventListener("change", () => this.renderStep(true));
    }
    window.addEventListener("modellens-theme", () => this.heatmap.draw());
    new ResizeObserver(() => this.heatmap.resize(this.heatmapWrap.clientWidth || 700)).observe(this.heatmapWrap);
  }

  async start(): Promise<void> {
    await this.refresh();
    setInterval(() => void this.refresh(), POLL_INTERVAL_MS);
  }

  /** Reloads the tag list and the current series; follows new steps when at the last one. */
  async refresh(): Promise<void> {
    try {
      this.tags = await fetchTags();
    } catch (error) {
      this.fail(error);
      return;
    }
    const tags = [...new Set(Object.values(this.tags).flat())].sort();
    if (!tags.length) {
      this.status.textContent = "No confusion matrices yet. Write some with modellens.Writer(...).confusion_matrix(...).";
      return;
    }
    replaceOptions(this.tagSelect, tags.map((t) => [t, t]), this.tagSelect.value || tags[0]);
    this.updateRunOptions();
    await this.loadSeries(true);
  }

  private onTagChange(): void {
    this.updateRunOptions();
    void this.loadSeries(false);
  }

  private runsWithTag(): string[] {
    return Object.keys(this.tags).filter((run) => this.tags[run].includes(this.tagSelect.value));
  }

  private updateRunOptions(): void {
    const runs = this.runsWithTag();
    replaceOptions(this.runSelect, runs.map((r) => [r, r]), this.runSelect.value || runs[0]);
    replaceOptions(this.referenceRun, runs.map((r) => [r, r]), this.referenceRun.value || runs[1] || runs[0]);
  }

  private async loadSeries(keepPosition: boolean): Promise<void> {
    const run = this.runSelect.value;
    const tag = this.tagSelect.value;
    if (!run || !tag) return;
    const key = JSON.stringify([run, tag]);
    if (!keepPosition && key === this.seriesKey) return; // a "change" to the same value
    this.seriesKey = key;
    if (!keepPosition) this.renderToken++; // drop draws of the previous run or tag still in flight
    const atEnd = Number(this.slider.value) >= this.series.length - 1;
    const previousStep = this.currentStep();
    let series: SeriesPoint[];
    try {
      series = await fetchSeries(run, tag);
    } catch (error) {
      this.fail(error);
      return;
    }
    if (JSON.stringify([this.runSelect.value, this.tagSelect.value]) !== key) return; // the selection moved on
    this.series = series;
    this.slider.max = String(Math.max(0, this.series.length - 1));
    let index = this.series.length - 1;
    if (keepPosition && !atEnd && previousStep !== null) {
      const found = this.series.findIndex((p) => p.step === previousStep);
      if (found >= 0) index = found;
    }
    this.slider.value = String(Math.max(0, index));
    const steps = this.series.map((p) => [String(p.step), String(p.step)] as [string, string]);
    replaceOptions(this.referenceStep, steps, this.referenceStep.value || steps[0]?.[0]);
    await this.renderStep(keepPosition);
  }

  private currentStep(): number | null {
    return this.series[Number(this.slider.value)]?.step ?? null;
  }

  private goToStep(step: number): void {
    const index = this.series.findIndex((p) => p.step === step);
    if (index >= 0) {
      this.slider.value = String(index);
      void this.renderStep(true);
    }
  }

  private togglePlay(): void {
    if (this.playTimer !== undefined) {
      clearInterval(this.playTimer);
      this.playTimer = undefined;
      this.playButton.textContent = "▶ play";
      return;
    }
    if (Number(this.slider.value) >= this.series.length - 1) this.slider.value = "0";
    this.playButton.textContent = "❚❚ pause";
    this.playTimer = window.setInterval(() => {
      const next = Number(this.slider.value) + 1;
      if (next >= this.series.length) {
        this.togglePlay();
        return;
      }
      this.slider.value = String(next);
      void this.renderStep(true);
    }, PLAY_INTERVAL_MS);
  }

  private async renderStep(keepView: boolean): Promise<void> {
    const token = ++this.renderToken;
    const step = this.currentStep();
    const run = this.runSelect.value;
    const tag = this.tagSelect.value;
    const delta = this.deltaMode.value as DeltaMode;
    this.referenceStepField.hidden = delta !== "step";
    this.referenceRunField.hidden = delta !== "run";
    if (step === null) return;
    this.stepLabel.textContent = `step ${step} (${Number(this.slider.value) + 1} of ${this.series.length})`;
    let data: StepData;
    let reference: StepData | null = null;
    let note = "";
    try {
      data = await fetchStep(run, tag, step, this.series[Number(this.slider.value)]?.wall_time);
      try {
        if (delta === "step") {
          const referenceStep = Number(this.referenceStep.value);
          reference = await fetchStep(run, tag, referenceStep, this.series.find((p) => p.step === referenceStep)?.wall_time);
        }
        if (delta === "run") reference = await fetchStep(this.referenceRun.value, tag, step);
      } catch (error) {
        if (!(error instanceof ApiError && error.status === 404)) throw error;
        note = `The reference has no step ${delta === "run" ? step : this.referenceStep.value} for this tag; showing no delta.`;
      }
    } catch (error) {
      if (token === this.renderToken) this.fail(error);
      return;
    }
    if (token !== this.renderToken) return; // a newer request superseded this one
    this.status.textContent = note;
    this.status.classList.remove("ml-error");
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
    const index = colorIndexer(values, delta ? "delta" : normalization);
    const table = new Uint32Array(lookupTable(delta ? "diverging" : "blues").buffer);
    const noData = new Uint32Array(new Uint8ClampedArray([128, 128, 128, 60]).buffer)[0];
    const rgba = new Uint8ClampedArray(n * n * 4);
    const pixels = new Uint32Array(rgba.buffer); // one RGBA pixel per cell, in display order
    for (let r = 0; r < n; r++) {
      const row = order[r] * n;
      for (let c = 0; c < n; c++) {
        const k = index(values[row + order[c]]);
        pixels[r * n + c] = k < 0 ? noData : table[k];
      }
    }
    const names = order.map((i) => data.class_names[i]);
    this.rendered = { data, order, values, reference, normalization, rgba };
    this.heatmap.setImage(
      {
        n,
        rgba,
        rowNames: names,
        columnNames: names,
        cellText: (r, c) => formatValue(values[order[r] * n + order[c]], normalization, delta),
      },
      keepView,
    );
    Object.assign(this.heatmap.canvas.dataset, { run, tag, step: String(data.step) });
    this.heatmap.setHighlight(this.displayCell(this.highlight), false);
    this.drawLegend(normalization, delta, values);
    const m = data.metrics;
    this.summary.textContent =
      `step ${data.step} · ${m.total} samples · ${n} classes · accuracy ${m.accuracy === null ? "n/a" : formatPercent(m.accuracy)}` +
      ` · macro-F1 ${m.macro_f1 === null ? "n/a" : m.macro_f1.toFixed(3)}` +
      (reference ? ` · delta against ${this.deltaLabel(reference)}` : "");
    this.chart.update(this.series, data.step);
    this.table.update(data);
    this.drawPairs(data);
    // data arrival → everything drawn; read by bench/browser_draw.py
    performance.measure("modellens:draw", { start: started, end: performance.now(), detail: { classes: n } });
  }

  private deltaLabel(reference: StepData): string {
    return this.deltaMode.value === "run" ? `run ${this.referenceRun.value}, step ${reference.step}` : `step ${reference.step}`;
  }

  private drawLegend(normalization: Normalization, delta: boolean, values: Float64Array): void {
    const bar = el("canvas", { attrs: { width: "120", height: "10" } });
    const context = bar.getContext("2d");
    if (context) {
      for (let x = 0; x < 120; x++) {
        context.fillStyle = cssColor(delta ? "diverging" : "blues", x / 119);
        context.fillRect(x, 0, 1, 10);
      }
    }
    let max = 0;
    for (const v of values) if (Number.isFinite(v)) max = Math.max(max, Math.abs(v));
    const [low, high] = delta
      ? [formatValue(-max, normalization, true), formatValue(max, normalization, true)]
      : normalization === "none"
        ? ["0", `${max} (log scale)`]
        : ["0%", "100%"];
    this.legend.replaceChildren(el("span", { text: low }), bar, el("span", { text: high }));
  }

  private drawPairs(data: StepData): void {
    const items = topConfused(data, 10).map((pair) => {
      const button = el("button", {
        text: `${data.class_names[pair.trueIndex]} → ${data.class_names[pair.predictedIndex]}: ${pair.count} (${formatPercent(pair.rowFraction)} of true)`,
      });
      const names = [data.class_names[pair.trueIndex], data.class_names[pair.predictedIndex]];
      if (this.highlight?.[0] === names[0] && this.highlight?.[1] === names[1]) button.classList.add("ml-active");
      button.addEventListener("click", () => this.toggleHighlightByIndex(pair.trueIndex, pair.predictedIndex));
      return el("li", {}, [button]);
    });
    if (!items.length) items.push(el("li", { className: "ml-note", text: "no confusions at this step" }));
    this.pairs.replaceChildren(...items);
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
    this.drawPairs(this.rendered.data);
  }

  private showTooltip(event: HoverEvent | null): void {
    const rendered = this.rendered;
    if (!event || !rendered) {
      this.tooltip.hidden = true;
      return;
    }
    const n = size(rendered.data);
    const i = rendered.order[event.row];
    const j = rendered.order[event.column];
    const cell = cellDetail(rendered.data, i, j);
    const lines = [
      `true: ${cell.trueName}`,
      `predicted: ${cell.predictedName}`,
      `count: ${cell.count}`,
      `row %: ${formatPercent(cell.rowFraction)} of true ${cell.trueName}`,
      `column %: ${formatPercent(cell.columnFraction)} of predicted ${cell.predictedName}`,
    ];
    const value = rendered.values[i * n + j];
    if (rendered.reference) {
      lines.push(`delta: ${formatValue(value, rendered.normalization, true)} vs ${this.deltaLabel(rendered.reference)}`);
    } else if (rendered.normalization !== "none") {
      const label = rendered.normalization === "true" ? "by true class" : "by predicted class";
      lines.splice(3, 0, `shown (${label}): ${formatValue(value, rendered.normalization)}`);
    }
    this.tooltip.textContent = lines.join("\n");
    this.tooltip.hidden = false;
    const width = this.heatmapWrap.clientWidth;
    const left = event.x + 16 + 260 > width ? event.x - 270 : event.x + 16;
    this.tooltip.style.left = `${Math.max(0, left)}px`;
    this.tooltip.style.top = `${event.y + 16}px`;
  }

  private fileStem(): string {
    const step = this.rendered?.data.step ?? 0;
    return `${this.runSelect.value}_${this.tagSelect.value}_step${step}`.replace(/[^A-Za-z0-9_.-]+/g, "_");
  }

  private exportPng(): void {
    this.heatmap.canvas.toBlob((blob) => {
      if (blob) download(`${this.fileStem()}.png`, blob);
    }, "image/png");
  }

  private exportSvg(): void {
    const rendered = this.rendered;
    if (!rendered) return;
    const n = size(rendered.data);
    const names = rendered.order.map((i) => rendered.data.class_names[i]);
    const text = matrixSvg({
      n,
      rgba: rendered.rgba,
      rowNames: names,
      columnNames: names,
      title: `${this.tagSelect.value} · ${this.runSelect.value} · step ${rendered.data.step}`,
      pngDataUrl: () => {
        const canvas = el("canvas", { attrs: { width: String(n), height: String(n) } });
        canvas.getContext("2d")!.putImageData(new ImageData(rendered.rgba as Uint8ClampedArray<ArrayBuffer>, n, n), 0, 0);
        return canvas.toDataURL("image/png");
      },
    });
    download(`${this.fileStem()}.svg`, new Blob([text], { type: "image/svg+xml" }));
  }

  private fail(error: unknown): void {
    this.status.textContent = `Could not load data: ${error instanceof Error ? error.message : String(error)}`;
    this.status.classList.add("ml-error");
  }
}
