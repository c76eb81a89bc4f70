// The layer × step heatmap of one run, tag and metric: rows in model order grouped by module
// path (a group row aggregates its tensors; a click on its label collapses or expands it),
// non-finite cells and missing cells in their own colours, legend, hover and export.
import { colorScale, lookupTable, packRgba, type ColorMap, type ColorScale } from "../../core/colors";
import { el } from "../../core/dom";
import { downloadPng, downloadSvg, fileStem, heatmapSvg, rgbaDataUrl } from "../../core/export";
import { Heatmap, type HoverEvent } from "../../core/heatmap";
import { Legend } from "../../core/legend";
import { Tooltip } from "../../core/tooltip";
import {
  aggregateFor,
  chosenScale,
  defaultCollapsed,
  displayRows,
  formatNumber,
  matrixPixels,
  metricLabel,
  responsibleMember,
  rowMatrix,
  type Matrix,
  type Row,
  type Series,
} from "./shape";

const NONFINITE: [number, number, number] = [229, 57, 53];
const NO_DATA: [number, number, number, number] = [128, 128, 128, 50];

interface Drawn {
  series: Series;
  rows: Row[];
  matrix: Matrix;
  rgba: Uint8ClampedArray;
  scale: ColorScale;
  map: ColorMap;
}

export class Overview {
  readonly element: HTMLElement;
  private legend = new Legend();
  private tooltip = new Tooltip(() => this.wrap);
  private heatmap: Heatmap = new Heatmap({
    ariaLabel: "training health heatmap",
    left: 240,
    top: 30,
    square: false,
    columnLabels: "ticks",
    rowLabelAlign: "left",
    rowHeight: 15,
    maxPlotHeight: 900,
    onHover: (event) => this.showTooltip(event),
    onClickCell: (row, column) => this.pick(row, column),
    onClickRowLabel: (row) => this.toggleRow(row),
  });
  private wrap: HTMLElement = el("div", { className: "ml-heatmap-wrap" }, [this.heatmap.canvas, this.tooltip.element]);
  private summary = el("div", { className: "ml-note" });
  private collapsed = new Map<string, Set<string>>(); // per run and tag
  private drawn: Drawn | null = null;
  private scaleChoice = "auto";

  constructor(private readonly onPick: (tensor: number, stepIndex: number) => void) {
    const expand = el("button", { text: "expand all" });
    const collapse = el("button", { text: "collapse all" });
    expand.addEventListener("click", () => this.setAllCollapsed(false));
    collapse.addEventListener("click", () => this.setAllCollapsed(true));
    this.element = el("section", { className: "ml-overview" }, [
      el("div", { className: "ml-row" }, [
        this.legend.element,
        el("span", { className: "ml-spacer" }),
        expand,
        collapse,
      ]),
      this.summary,
      this.wrap,
    ]);
    window.addEventListener("modellens-theme", () => this.heatmap.draw());
    new ResizeObserver(() => this.heatmap.resize(this.wrap.clientWidth || 900)).observe(this.wrap);
  }

  get canvas(): HTMLCanvasElement {
    return this.heatmap.canvas;
  }

  /** Draws the series; returns the milliseconds it took. */
  update(series: Series, scaleChoice: string, keepView: boolean): number {
    const started = performance.now();
    this.scaleChoice = scaleChoice;
    const key = JSON.stringify([series.run, series.tag]);
    const names = series.tensors.map((t) => t.name);
    if (!this.collapsed.has(key)) this.collapsed.set(key, defaultCollapsed(names));
    const aggregate = aggregateFor(series.metric);
    const rows = displayRows(names, this.collapsed.get(key)!, aggregate);
    const matrix = rowMatrix(series, rows, aggregate);
    const kind = chosenScale(series.metric, scaleChoice);
    const scale = colorScale(matrix.values, kind);
    const map: ColorMap = kind === "diverging" ? "diverging" : "viridis";
    const table = new Uint32Array(lookupTable(map).buffer);
    const rgba = matrixPixels(matrix, scale.index, table, packRgba(...NO_DATA), packRgba(...NONFINITE));
    this.drawn = { series, rows, matrix, rgba, scale, map };
    this.heatmap.setImage(
      {
        rows: rows.length,
        columns: series.steps.length,
        rgba,
        rowNames: rows.map((r) => r.label),
        columnNames: series.steps.map(String),
      },
      keepView,
    );
    Object.assign(this.heatmap.canvas.dataset, {
      run: series.run,
      tag: series.tag,
      metric: series.metric,
      scale: kind,
      rows: JSON.stringify(rows.map((r) => r.key)),
      steps: String(series.steps.length),
    });
    this.legend.update(map, scale, (v) => formatNumber(v), [
      { label: "NaN/Inf", color: `rgb(${NONFINITE.join(",")})` },
      { label: "no data", color: `rgba(${NO_DATA.slice(0, 3).join(",")},${NO_DATA[3] / 255})` },
    ]);
    const groups = rows.filter((r) => r.kind === "group").length;
    this.summary.textContent =
      `${metricLabel(series.metric)} of ${series.tensors.length} tensors × ${series.steps.length} steps` +
      (groups
        ? ` · ${groups} module groups (click a ▾/▸ label to collapse or expand; a group row shows the ${aggregate} of its tensors)`
        : "") +
      (series.approximate ? " · approximate: estimated from histogram buckets" : "") +
      (series.downsampled ? " · too large to read whole: an even sample of its steps, the last one included" : "");
    return performance.now() - started;
  }

  /** Marks the selected step's column. */
  setStep(stepIndex: number | null, step: number | null): void {
    this.heatmap.setMarkedColumn(stepIndex);
    this.heatmap.canvas.dataset.step = step === null ? "" : String(step);
  }

  /** Outlines the cell of `tensor` (its row, or its collapsed group's) at `stepIndex`. */
  highlight(tensor: number | null, stepIndex: number | null): void {
    const drawn = this.drawn;
    if (!drawn || tensor === null || stepIndex === null) {
      this.heatmap.setHighlight(null, false);
      return;
    }
    const row = drawn.rows.findIndex((r) => r.kind === "tensor" && r.members[0] === tensor);
    const fallback = drawn.rows.findIndex((r) => r.collapsed && r.members.includes(tensor));
    const index = row >= 0 ? row : fallback;
    this.heatmap.setHighlight(index >= 0 ? [index, stepIndex] : null, false);
  }

  private setAllCollapsed(collapse: boolean): void {
    const drawn = this.drawn;
    if (!drawn) return;
    const key = JSON.stringify([drawn.series.run, drawn.series.tag]);
    const names = drawn.series.tensors.map((t) => t.name);
    const all = displayRows(names, new Set(), "max").filter((r) => r.kind === "group");
    this.collapsed.set(key, new Set(collapse ? all.map((r) => r.key) : []));
    this.update(drawn.series, this.scaleChoice, false);
  }

  private toggleRow(row: number): void {
    const drawn = this.drawn;
    const target = drawn?.rows[row];
    if (!drawn || !target || target.kind !== "group") return;
    const set = this.collapsed.get(JSON.stringify([drawn.series.run, drawn.series.tag]))!;
    if (set.has(target.key)) set.delete(target.key);
    else set.add(target.key);
    this.update(drawn.series, this.scaleChoice, false);
  }

  private pick(row: number, column: number): void {
    const drawn = this.drawn;
    const target = drawn?.rows[row];
    if (!drawn || !target) return;
    const aggregate = aggregateFor(drawn.series.metric);
    this.onPick(responsibleMember(drawn.series, target, column, aggregate), column);
  }

  private showTooltip(event: HoverEvent | null): void {
    const drawn = this.drawn;
    const row = drawn?.rows[event?.row ?? -1];
    if (!event || !drawn || !row) {
      this.tooltip.hide();
      return;
    }
    const { series, matrix } = drawn;
    const k = event.row * matrix.columns + event.column;
    const value = matrix.values[k];
    const aggregate = aggregateFor(series.metric);
    const lines =
      row.kind === "tensor"
        ? [`tensor: ${row.key}`, `shape: [${series.tensors[row.members[0]].shape.join(", ")}]`]
        : [`group: ${row.key} (${aggregate} of ${row.members.length} tensors)`];
    lines.push(`step: ${series.steps[event.column]}`);
    lines.push(`${metricLabel(series.metric)}: ${Number.isNaN(value) ? "no data" : String(value)}`);
    if (matrix.nonfinite[k]) lines.push("NaN/Inf present at this step");
    if (row.kind === "group" && !Number.isNaN(value)) {
      const t = responsibleMember(series, row, event.column, aggregate);
      lines.push(`from: ${series.tensors[t].name}`);
    }
    this.tooltip.show(lines, event.x, event.y, 320);
  }

  private stem(): string {
    const d = this.drawn;
    return d ? fileStem(d.series.run, d.series.tag, d.series.metric) : "training_health";
  }

  exportPng(): void {
    downloadPng(this.heatmap.canvas, this.stem());
  }

  exportSvg(): void {
    const d = this.drawn;
    if (!d) return;
    const { rows, columns } = d.matrix;
    const text = heatmapSvg({
      rows,
      columns,
      rgba: d.rgba,
      rowNames: d.rows.map((r) => r.label),
      columnNames: d.series.steps.map(String),
      title: `${d.series.tag} · ${d.series.run} · ${metricLabel(d.series.metric)}`,
      lines: [
        `colour: ${formatNumber(d.scale.low)} … ${formatNumber(d.scale.high)} (${d.scale.kind}); red: NaN/Inf; grey: no data`,
        `steps ${d.series.steps[0]} … ${d.series.steps[d.series.steps.length - 1]}`,
      ],
      cellWidth: Math.max(0.25, Math.min(28, 900 / columns)),
      cellHeight: Math.max(4, Math.min(16, 900 / rows)),
      pngDataUrl: () => rgbaDataUrl(d.rgba, columns, rows),
    });
    downloadSvg(text, this.stem());
  }
}
