// Accuracy and macro-F1 over steps: a small SVG line chart; a click picks the nearest step.
import { scaleLinear } from "d3-scale";

import type { SeriesPoint } from "./shape";

const SVG = "http://www.w3.org/2000/svg";
const WIDTH = 360;
const HEIGHT = 150;
const MARGIN = { left: 34, right: 8, top: 18, bottom: 20 };
const LINES: Array<{ key: "accuracy" | "macro_f1"; label: string; color: string }> = [
  { key: "accuracy", label: "accuracy", color: "#1976d2" },
  { key: "macro_f1", label: "macro-F1", color: "#f57c00" },
];

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

export class MetricsChart {
  readonly element = svg("svg", { width: WIDTH, height: HEIGHT, class: "ml-chart", role: "img" });
  private points: SeriesPoint[] = [];
  private x = scaleLinear();
  private y = scaleLinear().domain([0, 1]).range([HEIGHT - MARGIN.bottom, MARGIN.top]);

  constructor(private readonly onPick: (step: number) => void) {
    this.element.setAttribute("aria-label", "accuracy and macro-F1 over steps");
    this.element.addEventListener("click", (e) => {
      if (!this.points.length) return;
      const box = this.element.getBoundingClientRect();
      const step = this.x.invert(e.clientX - box.left);
      let best = this.points[0];
      for (const p of this.points) if (Math.abs(p.step - step) < Math.abs(best.step - step)) best = p;
      this.onPick(best.step);
    });
  }

  update(points: SeriesPoint[], current: number): void {
    this.points = points;
    const steps = points.map((p) => p.step);
    const lo = Math.min(...steps);
    const hi = Math.max(...steps);
    this.x = scaleLinear()
      .domain(lo === hi ? [lo - 1, hi + 1] : [lo, hi])
      .range([MARGIN.left, WIDTH - MARGIN.right]);
    const children: SVGElement[] = [];
    for (const tick of this.y.ticks(4)) {
      children.push(svg("line", { class: "ml-axis", x1: MARGIN.left, x2: WIDTH - MARGIN.right, y1: this.y(tick), y2: this.y(tick) }));
      const label = svg("text", { x: MARGIN.left - 4, y: this.y(tick) + 3, "text-anchor": "end" });
      label.textContent = tick.toFixed(2);
      children.push(label);
    }
    for (const tick of this.x.ticks(5)) {
      const label = svg("text", { x: this.x(tick), y: HEIGHT - 6, "text-anchor": "middle" });
      label.textContent = String(tick);
      children.push(label);
    }
    LINES.forEach((line, k) => {
      const path = points
        .filter((p) => p[line.key] !== null)
        .map((p, i) => `${i ? "L" : "M"}${this.x(p.step).toFixed(1)},${this.y(p[line.key] as number).toFixed(1)}`)
        .join("");
      children.push(svg("path", { d: path, fill: "none", stroke: line.color, "stroke-width": 1.8 }));
      if (points.length === 1 && points[0][line.key] !== null) {
        // one step draws no line: mark the point
        const only = points[0];
        children.push(svg("circle", { cx: this.x(only.step), cy: this.y(only[line.key] as number), r: 3, fill: line.color }));
      }
      const legend = svg("text", { x: MARGIN.left + 6 + k * 80, y: 11, fill: line.color });
      legend.setAttribute("style", `fill:${line.color}`);
      legend.textContent = line.label;
      children.push(legend);
    });
    const marker = svg("line", {
      x1: this.x(current),
      x2: this.x(current),
      y1: MARGIN.top,
      y2: HEIGHT - MARGIN.bottom,
      stroke: "#888",
      "stroke-dasharray": "3 3",
    });
    children.push(marker);
    const now = points.find((p) => p.step === current);
    const title = svg("title", {});
    title.textContent = now
      ? `step ${now.step}: accuracy ${now.accuracy?.toFixed(4) ?? "n/a"}, macro-F1 ${now.macro_f1?.toFixed(4) ?? "n/a"}`
      : "";
    children.push(title);
    this.element.replaceChildren(...children);
  }
}
