// The histogram of one tensor at one step: SVG bars (aria-label "tensor histogram"); hover shows
// the bin's range and count. A second run's histogram can be drawn as an outline over it.
import { scaleLinear } from "d3-scale";

import { el, svgEl } from "../../core/dom";
import { axisElements } from "../../core/linechart";
import { Tooltip } from "../../core/tooltip";
import { formatNumber, formatTick, type Bin } from "./shape";

const WIDTH = 380;
const HEIGHT = 170;
const MARGIN = { left: 44, right: 10, top: 14, bottom: 22 };

export class HistogramChart {
  readonly element: HTMLElement;
  private svg = svgEl("svg", { width: WIDTH, height: HEIGHT, class: "ml-chart", role: "img" });
  private tooltip = new Tooltip(() => this.element);
  private bins: Bin[] = [];
  private compare: Bin[] = [];
  private compareLabel = "";
  private x = scaleLinear();

  constructor(label: string) {
    this.svg.setAttribute("aria-label", "tensor histogram");
    this.svg.dataset.tensor = label;
    this.element = el("div", { className: "ml-histogram" }, [this.svg, this.tooltip.element]);
    this.svg.addEventListener("mousemove", (e) => this.hover(e));
    this.svg.addEventListener("mouseleave", () => this.tooltip.hide());
  }

  /** Draws `bins` (and a second run's as an outline); an empty list shows `note` instead. */
  update(bins: Bin[], note: string, compare: Bin[] = [], compareLabel = ""): void {
    this.bins = bins;
    this.compare = compare;
    this.compareLabel = compareLabel;
    this.svg.dataset.bins = String(bins.length);
    this.svg.dataset.total = String(bins.reduce((a, b) => a + b.count, 0));
    const children: SVGElement[] = [];
    if (!bins.length) {
      const text = svgEl("text", { x: WIDTH / 2, y: HEIGHT / 2, "text-anchor": "middle" });
      text.textContent = note || "no histogram at this step";
      this.svg.replaceChildren(text);
      return;
    }
    const all = [...bins, ...compare];
    let lo = Math.min(...all.map((b) => b.low));
    let hi = Math.max(...all.map((b) => b.high));
    if (lo === hi) [lo, hi] = [lo - 0.5, hi + 0.5];
    this.x = scaleLinear()
      .domain([lo, hi])
      .range([MARGIN.left, WIDTH - MARGIN.right]);
    const top = Math.max(1, ...all.map((b) => b.count));
    const y = scaleLinear()
      .domain([0, top])
      .range([HEIGHT - MARGIN.bottom, MARGIN.top])
      .nice(3);
    children.push(
      ...axisElements(this.x, y, this.x.ticks(4), {
        width: WIDTH,
        height: HEIGHT,
        margin: MARGIN,
        yTicks: 3,
        formatX: formatTick,
        formatY: formatTick,
      }),
    );
    const constant = bins.length && bins[0].low === bins[bins.length - 1].high;
    for (const bin of bins) {
      const x0 = constant ? this.x(bin.low) - 2 : this.x(bin.low);
      const x1 = constant ? this.x(bin.low) + 2 : this.x(bin.high);
      children.push(
        svgEl("rect", {
          x: x0,
          y: y(bin.count),
          width: Math.max(0.5, x1 - x0 - 0.5),
          height: Math.max(0, y(0) - y(bin.count)),
          fill: "#1976d2",
          "fill-opacity": 0.75,
        }),
      );
    }
    if (compare.length) {
      const path = compare.map((b) => `M${this.x(b.low)},${y(b.count)}H${this.x(b.high)}`).join("");
      children.push(svgEl("path", { d: path, fill: "none", stroke: "#ef6c00", "stroke-width": 2 }));
    }
    this.svg.replaceChildren(...children);
  }

  private binAt(bins: Bin[], value: number): Bin | undefined {
    // a constant tensor: every bin is [min, min] and all its values are in the one non-empty bin
    if (bins.length && bins[0].low === bins[bins.length - 1].high) return bins.find((b) => b.count > 0) ?? bins[0];
    return bins.find((b, i) => value >= b.low && (value < b.high || (i === bins.length - 1 && value <= b.high)));
  }

  private hover(e: MouseEvent): void {
    if (!this.bins.length) return;
    const box = this.svg.getBoundingClientRect();
    const value = this.x.invert(e.clientX - box.left);
    const bin = this.binAt(this.bins, value);
    if (!bin) {
      this.tooltip.hide();
      return;
    }
    const last = bin === this.bins[this.bins.length - 1];
    const lines = [
      `bin [${formatNumber(bin.low)}, ${formatNumber(bin.high)}${last ? "]" : ")"}`,
      `count: ${bin.count}`,
    ];
    const other = this.binAt(this.compare, value);
    if (other)
      lines.push(`${this.compareLabel}: ${other.count} in [${formatNumber(other.low)}, ${formatNumber(other.high)})`);
    this.tooltip.show(lines, e.clientX - box.left, e.clientY - box.top, 220);
  }
}
