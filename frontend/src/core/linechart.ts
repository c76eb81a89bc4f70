// A small SVG line chart of a few values over steps, with a dashed marker at the current step;
// a click picks the nearest step. Gaps (null) are skipped; a single step is drawn as a dot.
import { scaleLinear } from "d3-scale";

import { svgEl } from "./dom";

export interface LineSpec {
  label: string;
  color: string;
}

export interface LinePoint {
  step: number;
  values: Array<number | null>; // one per line
}

export interface LineChartOptions {
  ariaLabel: string;
  lines: LineSpec[];
  width?: number;
  height?: number;
  yDomain?: [number, number]; // by default from the values
  yFormat?: (value: number) => string;
  title?: (point: LinePoint | undefined) => string; // the chart's <title> at the current step
}

const MARGIN = { left: 34, right: 8, top: 18, bottom: 20 };

export class LineChart {
  readonly element: SVGSVGElement;
  private points: LinePoint[] = [];
  private x = scaleLinear();
  private readonly width: number;
  private readonly height: number;

  constructor(
    private readonly options: LineChartOptions,
    private readonly onPick: (step: number) => void,
  ) {
    this.width = options.width ?? 360;
    this.height = options.height ?? 150;
    this.element = svgEl("svg", { width: this.width, height: this.height, class: "ml-chart", role: "img" });
    this.element.setAttribute("aria-label", options.ariaLabel);
    this.element.addEventListener("click", (e) => {
      if (!this.points.length) return;
      const box = this.element.getBoundingClientRect();
      const step = this.x.invert(e.clientX - box.left);
      let best = this.points[0];
      for (const p of this.points) if (Math.abs(p.step - step) < Math.abs(best.step - step)) best = p;
      this.onPick(best.step);
    });
  }

  update(points: LinePoint[], current: number): void {
    const { width, height, options } = this;
    this.points = points;
    const steps = points.map((p) => p.step);
    const lo = Math.min(...steps);
    const hi = Math.max(...steps);
    this.x = scaleLinear()
      .domain(lo === hi ? [lo - 1, hi + 1] : [lo, hi])
      .range([MARGIN.left, width - MARGIN.right]);
    let domain = options.yDomain;
    if (!domain) {
      const values = points.flatMap((p) => p.values).filter((v): v is number => v !== null && Number.isFinite(v));
      const [a, b] = values.length ? [Math.min(...values), Math.max(...values)] : [0, 1];
      domain = a === b ? [a - 1, b + 1] : [a, b];
    }
    const y = scaleLinear()
      .domain(domain)
      .range([height - MARGIN.bottom, MARGIN.top]);
    if (!options.yDomain) y.nice(4);
    const format = options.yFormat ?? ((v: number) => v.toFixed(2));
    const children: SVGElement[] = axisElements(this.x, y, this.x.ticks(5), {
      width,
      height,
      margin: MARGIN,
      yTicks: 4,
      formatX: String,
      formatY: format,
    });
    options.lines.forEach((line, k) => {
      const path = points
        .filter((p) => p.values[k] !== null)
        .map((p, i) => `${i ? "L" : "M"}${this.x(p.step).toFixed(1)},${y(p.values[k] as number).toFixed(1)}`)
        .join("");
      children.push(svgEl("path", { d: path, fill: "none", stroke: line.color, "stroke-width": 1.8 }));
      if (points.length === 1 && points[0].values[k] !== null) {
        // one step draws no line: mark the point
        const only = points[0];
        children.push(
          svgEl("circle", { cx: this.x(only.step), cy: y(only.values[k] as number), r: 3, fill: line.color }),
        );
      }
      const legend = svgEl("text", { x: MARGIN.left + 6 + k * 80, y: 11, fill: line.color });
      legend.setAttribute("style", `fill:${line.color}`);
      legend.textContent = line.label;
      children.push(legend);
    });
    const marker = svgEl("line", {
      x1: this.x(current),
      x2: this.x(current),
      y1: MARGIN.top,
      y2: height - MARGIN.bottom,
      stroke: "#888",
      "stroke-dasharray": "3 3",
    });
    children.push(marker);
    const title = svgEl("title", {});
    title.textContent = options.title?.(points.find((p) => p.step === current)) ?? "";
    children.push(title);
    this.element.replaceChildren(...children);
  }
}

export interface AxisOptions {
  width: number;
  height: number;
  margin: { left: number; right: number; top: number; bottom: number };
  yTicks: number;
  formatX: (value: number) => string;
  formatY: (value: number) => string;
}

/** Horizontal grid lines with y labels on the left, and x labels along the bottom. */
export function axisElements(
  x: (value: number) => number,
  y: { (value: number): number; ticks(count: number): number[] },
  xTickValues: number[],
  options: AxisOptions,
): SVGElement[] {
  const { width, height, margin } = options;
  const children: SVGElement[] = [];
  for (const tick of y.ticks(options.yTicks)) {
    children.push(
      svgEl("line", { class: "ml-axis", x1: margin.left, x2: width - margin.right, y1: y(tick), y2: y(tick) }),
    );
    const label = svgEl("text", { x: margin.left - 4, y: y(tick) + 3, "text-anchor": "end" });
    label.textContent = options.formatY(tick);
    children.push(label);
  }
  for (const tick of xTickValues) {
    const label = svgEl("text", { x: x(tick), y: height - 6, "text-anchor": "middle" });
    label.textContent = options.formatX(tick);
    children.push(label);
  }
  return children;
}
