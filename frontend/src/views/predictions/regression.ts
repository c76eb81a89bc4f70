// The regression panels: predicted vs true (./scatter), the residual histogram and the error by
// true-value decile (core's XYChart bars), a reference's histogram and deciles as dashed
// outlines (its histogram scaled to this step's sample count; hover gives its own counts).
import { el } from "../../core/dom";
import { formatExact } from "../../core/format";
import { XYChart, type XYBars } from "../../core/xychart";
import { Scatter } from "./scatter";
import { binRange, decileBars, decileLines, maxOf, type RegressionStep } from "./shape";

const OWN = "#1976d2";
const REFERENCE = "#ef6c00";

export class RegressionPanels {
  readonly scatter = new Scatter();
  readonly residuals: XYChart;
  readonly deciles: XYChart;
  readonly element: HTMLElement;
  private step: RegressionStep | null = null;
  private reference: RegressionStep | null = null;
  private referenceLabel = "";

  constructor() {
    this.residuals = new XYChart({
      ariaLabel: "residual histogram",
      hover: (info) => {
        const step = this.step;
        const i = info.bins[0];
        if (!step || i === undefined || i < 0) return null;
        const lines = [
          `residual (pred − true) ${binRange(step.residuals.edges, i)}`,
          `samples: ${step.residuals.counts[i]}`,
        ];
        const ref = this.reference;
        if (ref) {
          const edges = ref.residuals.edges;
          const k = edges.findIndex((e, j) => j < edges.length - 1 && info.x >= e && info.x <= edges[j + 1]);
          if (k >= 0) lines.push(`${this.referenceLabel}: ${ref.residuals.counts[k]} in ${binRange(edges, k)}`);
        }
        return lines;
      },
    });
    this.deciles = new XYChart({
      ariaLabel: "error by decile",
      hover: (info) => {
        const step = this.step;
        const i = info.bins[0];
        if (!step || i === undefined || i < 0 || !step.by_quantile[i]) return null;
        const lines = decileLines(step.by_quantile[i], i);
        const q = this.reference?.by_quantile[i];
        if (q)
          lines.push(
            `${this.referenceLabel}: MAE ${formatExact(q.mae)} in [${formatExact(q.lo)}, ${formatExact(q.hi)}]`,
          );
        return lines;
      },
    });
    this.element = el("div", { className: "ml-panels" }, [
      el("section", { className: "ml-pred-scatter", attrs: { "aria-label": "predicted vs true" } }, [
        el("h2", { text: "predicted vs true (hover: exact values)" }),
        this.scatter.element,
      ]),
      el("div", { className: "ml-side" }, [
        el("section", { attrs: { "aria-label": "residuals" } }, [
          el("h2", { text: "residuals (pred − true)" }),
          this.residuals.element,
        ]),
        el("section", { attrs: { "aria-label": "error by decile" } }, [
          el("h2", { text: "mean absolute error by true-value decile" }),
          this.deciles.element,
        ]),
      ]),
    ]);
  }

  update(step: RegressionStep, reference: RegressionStep | null, referenceLabel: string): void {
    this.step = step;
    this.reference = reference;
    this.referenceLabel = referenceLabel;
    this.scatter.update(step);
    this.drawResiduals(step, reference);
    this.drawDeciles(step, reference);
  }

  private drawResiduals(step: RegressionStep, reference: RegressionStep | null): void {
    const { edges, counts } = step.residuals;
    const bars: XYBars[] = [{ color: OWN, edges, heights: counts, legend: `this step (${step.samples} samples)` }];
    if (reference) {
      const scale = reference.samples > 0 ? step.samples / reference.samples : 1;
      bars.push({
        color: REFERENCE,
        edges: reference.residuals.edges,
        heights: reference.residuals.counts.map((c) => c * scale),
        outline: true,
        dash: "5 3",
        legend: `${this.referenceLabel}${scale === 1 ? "" : " (scaled to this step's samples)"}`,
      });
    }
    const lo = Math.min(edges[0], reference?.residuals.edges[0] ?? Infinity);
    const hi = Math.max(edges[edges.length - 1], reference?.residuals.edges.at(-1) ?? -Infinity);
    this.residuals.update({
      width: 440,
      height: 220,
      xDomain: [lo, hi],
      yDomain: [0, maxOf(1, counts, bars[1]?.heights ?? [])],
      nice: true,
      xTitle: "predicted − true",
      bars,
      guides: lo < 0 && hi > 0 ? [{ x1: 0, y1: 0, x2: 0, y2: maxOf(1, counts), color: "--ml-fg", dash: "3 3" }] : [],
    });
  }

  private drawDeciles(step: RegressionStep, reference: RegressionStep | null): void {
    const own = decileBars(step.by_quantile);
    const bars: XYBars[] = [{ color: OWN, ...own, legend: "MAE" }];
    if (reference) {
      bars.push({
        color: REFERENCE,
        ...decileBars(reference.by_quantile),
        outline: true,
        dash: "5 3",
        legend: this.referenceLabel,
      });
    }
    this.deciles.update({
      width: 440,
      height: 220,
      xDomain: [0, own.heights.length || 10],
      yDomain: [0, maxOf(1e-12, own.heights, bars[1]?.heights ?? [])],
      nice: true,
      xTitle: "decile of true values (low → high)",
      xTicks: own.heights.map((_, i) => ({ value: i + 0.5, label: `D${i + 1}` })),
      bars,
    });
  }
}
