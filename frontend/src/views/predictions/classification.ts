// The classification panels: the reliability diagram (accuracy per confidence bin, the mean
// confidence points, y = x; a reference's curve dashed), the confidence histogram of right and
// wrong predictions (stacked), and the most confidently wrong samples (sortable; ids, class names
// as text).
import { el } from "../../core/dom";
import { formatExact, formatScore } from "../../core/format";
import { SortableTable } from "../../core/table";
import { XYChart, type XYSeries } from "../../core/xychart";
import {
  confidenceLines,
  maxOf,
  reliabilityBars,
  reliabilityLines,
  wrongRows,
  type ClassificationStep,
  type WrongKey,
  type WrongRow,
} from "./shape";

const OWN = "#1976d2";
const WRONG = "#e53935";
const REFERENCE = "#ef6c00";

export class ClassificationPanels {
  readonly reliability: XYChart;
  readonly confidence: XYChart;
  readonly element: HTMLElement;
  private table: SortableTable<WrongRow>;
  private step: ClassificationStep | null = null;
  private reference: ClassificationStep | null = null;
  private referenceLabel = "";
  private wrongNote = el("div", { className: "ml-note" });

  constructor() {
    this.reliability = new XYChart({
      ariaLabel: "reliability diagram",
      hover: (info) => {
        const step = this.step;
        if (!step) return null;
        const point = info.point;
        if (point && point.series === 1 && this.reference) {
          const bin = this.reference.reliability[point.index];
          return [this.referenceLabel, ...reliabilityLines(bin, point.index, this.reference.reliability.length)];
        }
        const i = point && point.series === 0 ? point.index : info.bins[0];
        if (i === undefined || i < 0) return null;
        return reliabilityLines(step.reliability[i], i, step.reliability.length);
      },
    });
    this.confidence = new XYChart({
      ariaLabel: "confidence histogram",
      hover: (info) => {
        const i = info.bins[0];
        return this.step && i !== undefined && i >= 0 ? confidenceLines(this.step, i) : null;
      },
    });
    const columns: Array<{ key: WrongKey; label: string; text: (row: WrongRow) => string; help?: string }> = [
      { key: "id", label: "id", text: (row) => row.id },
      { key: "index", label: "sample", text: (row) => String(row.index), help: "the sample's position in the batch" },
      { key: "true", label: "true", text: (row) => row.true },
      { key: "predicted", label: "predicted", text: (row) => row.predicted },
      { key: "confidence", label: "confidence", text: (row) => formatExact(row.confidence) },
      { key: "true_probability", label: "p(true)", text: (row) => formatExact(row.true_probability) },
    ];
    this.table = new SortableTable<WrongRow>({
      ariaLabel: "confidently wrong samples",
      columns,
      rows: (key, descending) => (this.step ? wrongRows(this.step, key as WrongKey, descending) : []),
      onPick: () => undefined,
      key: "confidence",
      descendingFirst: (key) => key === "confidence" || key === "true_probability",
    });
    this.table.sortBy("confidence"); // most confident first
    this.element = el("div", { className: "ml-view-content" }, [
      el("div", { className: "ml-panels" }, [
        el("section", { attrs: { "aria-label": "reliability" } }, [
          el("h2", { text: "reliability (accuracy per confidence bin)" }),
          this.reliability.element,
        ]),
        el("section", { attrs: { "aria-label": "confidence" } }, [
          el("h2", { text: "confidence of right and wrong predictions" }),
          this.confidence.element,
        ]),
      ]),
      el("section", { className: "ml-pred-wrong", attrs: { "aria-label": "confidently wrong" } }, [
        el("h2", { text: "most confidently wrong samples" }),
        this.wrongNote,
        this.table.element,
      ]),
    ]);
  }

  update(step: ClassificationStep, reference: ClassificationStep | null, referenceLabel: string): void {
    this.step = step;
    this.reference = reference;
    this.referenceLabel = referenceLabel;
    this.drawReliability(step, reference);
    this.drawConfidence(step);
    this.wrongNote.textContent = step.wrong.length
      ? `${step.wrong.length} shown, by confidence (of ${step.samples} samples, accuracy ${formatScore(step.accuracy)})`
      : "no wrong predictions at this step";
    this.table.render();
  }

  private drawReliability(step: ClassificationStep, reference: ClassificationStep | null): void {
    const own = reliabilityBars(step.reliability);
    const series: XYSeries[] = [
      { color: "--ml-fg", x: own.x, y: own.y, mode: "points", width: 3.2, legend: "mean confidence, accuracy" },
    ];
    if (reference) {
      const ref = reliabilityBars(reference.reliability);
      series.push({
        color: REFERENCE,
        x: ref.x,
        y: ref.y,
        mode: "line",
        dash: "5 3",
        legend: `${this.referenceLabel} (ECE ${formatScore(reference.ece)})`,
      });
    }
    this.reliability.update({
      width: 440,
      height: 420,
      xDomain: [0, 1],
      yDomain: [0, 1],
      xTitle: "confidence (top-class probability)",
      yTitle: "accuracy",
      bars: [
        {
          color: OWN,
          edges: own.edges,
          heights: own.heights,
          opacity: 0.55,
          legend: `accuracy (ECE ${formatScore(step.ece)})`,
        },
      ],
      series,
      guides: [{ x1: 0, y1: 0, x2: 1, y2: 1, color: "--ml-fg", dash: "5 3" }],
    });
  }

  private drawConfidence(step: ClassificationStep): void {
    const { edges, right, wrong } = step.confidence;
    this.confidence.update({
      width: 440,
      height: 300,
      xDomain: [edges[0] ?? 0, edges[edges.length - 1] ?? 1],
      yDomain: [
        0,
        maxOf(
          1,
          right.map((r, i) => r + wrong[i]),
        ),
      ],
      nice: true,
      xTitle: "confidence",
      bars: [
        { color: OWN, edges, heights: right, legend: "right" },
        { color: WRONG, edges, heights: wrong, base: right, legend: "wrong" },
      ],
    });
  }
}
