// A few values over steps on core's XYChart (AUC, MAE, accuracy …): the current step marked by a
// dashed line; hover shows a step's exact values, a click goes to the nearest step.
import { scaleLinear } from "d3-scale";

import { formatExact } from "./format";
import { XYChart, type XYSeries } from "./xychart";

export interface StepLine {
  label: string;
  values: Array<number | null>; // one per step; null: none at that step
  color: string;
}

export class StepLinesChart {
  readonly chart: XYChart;
  private steps: number[] = [];
  private lines: StepLine[] = [];

  constructor(ariaLabel: string, onPick: (step: number) => void) {
    this.chart = new XYChart({
      ariaLabel,
      maxHoverDistance: 40,
      hover: (info) => {
        const i = info.point?.index;
        if (i === undefined) return null;
        return [`step ${this.steps[i]}`, ...this.lines.map((l) => `${l.label}: ${formatExact(l.values[i])}`)];
      },
      click: (info) => {
        const i = info.point?.index;
        if (i !== undefined) onPick(this.steps[i]);
      },
    });
  }

  get element(): HTMLElement {
    return this.chart.element;
  }

  /** `yDomain`: by default the values' range, padded, within `clamp`. */
  update(
    steps: number[],
    lines: StepLine[],
    current: number | null,
    options: { width?: number; height?: number; clamp?: [number, number]; yDomain?: [number, number] } = {},
  ): void {
    this.steps = steps;
    this.lines = lines;
    const numeric = (v: number | null) => (v === null ? NaN : v);
    const single = steps.length === 1;
    const series: XYSeries[] = lines.map((line, k) => ({
      color: line.color,
      x: steps,
      y: line.values.map(numeric),
      mode: single ? "points" : "line",
      width: single ? 3 : 1.8,
      legend: line.label,
      hoverable: k === 0,
    }));
    const all = lines.flatMap((l) => l.values.map(numeric)).filter(Number.isFinite);
    let domain = options.yDomain;
    if (!domain) {
      const lo = all.length ? Math.min(...all) : 0;
      const hi = all.length ? Math.max(...all) : 1;
      const pad = Math.max(Math.abs(hi) * 1e-3, 1e-9, (hi - lo) * 0.1);
      const [floor, ceiling] = options.clamp ?? [-Infinity, Infinity];
      domain = [Math.max(floor, lo - pad), Math.min(ceiling, hi + pad)];
    }
    const first = steps[0] ?? 0;
    const last = steps[steps.length - 1] ?? 1;
    this.chart.update({
      width: options.width ?? 380,
      height: options.height ?? 240,
      xDomain: [first, last],
      yDomain: domain,
      xTitle: "step",
      series,
      guides: current === null ? [] : [{ x1: current, y1: domain[0], x2: current, y2: domain[1], dash: "3 3" }],
      xTicks: scaleLinear()
        .domain([first, last])
        .ticks(Math.min(5, Math.max(1, steps.length)))
        .filter(Number.isInteger)
        .map((v) => ({ value: v, label: String(v) })),
    });
    if (current !== null) this.chart.element.dataset.step = String(current);
  }
}
