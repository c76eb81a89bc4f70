// Predicted vs true (core's XYChart with its canvas layer): every stored point exactly, coloured
// by its cell of the density grid (log scale, dense points drawn last); without stored points
// the density cells themselves. The y = x line; hover shows the nearest point's id and values,
// or the cell under the pointer and its count.
import { lookupTable } from "../../core/colors";
import { formatExact } from "../../core/format";
import { Legend } from "../../core/legend";
import { el } from "../../core/dom";
import { XYChart, type ChartLayout, type HoverInfo } from "../../core/xychart";
import {
  cellAt,
  densityScale,
  paintOrder,
  pointColors,
  pointDensity,
  pointLines,
  scatterDomain,
  type RegressionStep,
} from "./shape";

const POINT = 2.6; // CSS pixels per point

export class Scatter {
  readonly chart: XYChart;
  readonly legend = new Legend();
  readonly element: HTMLElement;
  private step: RegressionStep | null = null;
  private density: Float64Array = new Float64Array(0);

  constructor() {
    this.chart = new XYChart({
      ariaLabel: "predicted vs true",
      raster: true,
      maxHoverDistance: 10,
      hover: (info) => this.lines(info),
      tooltipWidth: 280,
    });
    this.element = el("div", { className: "ml-figure" }, [this.legend.element, this.chart.element]);
  }

  update(step: RegressionStep): void {
    const started = performance.now();
    this.step = step;
    this.density = pointDensity(step);
    const scale = densityScale(step.density.counts);
    const domain = scatterDomain(step);
    const points = step.points;
    this.chart.update(
      {
        width: 480,
        height: 470,
        xDomain: domain,
        yDomain: domain,
        xTitle: "true",
        yTitle: "predicted",
        guides: [
          { x1: domain[0], y1: domain[0], x2: domain[1], y2: domain[1], color: "--ml-fg", dash: "5 3", width: 1.2 },
        ],
        series: points ? [{ color: "--ml-fg", x: points.true, y: points.pred, mode: "hidden" }] : [],
        notes: [{ color: "--ml-fg", label: "y = x (perfect prediction)", dash: "5 3" }],
      },
      (context, layout) => {
        if (points) this.paintPoints(context, layout, scale);
        else this.paintCells(context, layout, scale);
      },
    );
    this.legend.update(
      "viridis",
      scale,
      (v) => String(Math.round(v)),
      [],
      points ? "samples in the point's cell" : "samples per cell",
    );
    Object.assign(this.chart.element.dataset, {
      points: String(points?.true.length ?? 0),
      drawMs: (performance.now() - started).toFixed(1),
    });
  }

  /** Every point as a small square written into the canvas's pixels (one pass, no per-point
   * canvas call: 50k points in a few milliseconds), sparse colours first, dense ones on top. */
  private paintPoints(
    context: CanvasRenderingContext2D,
    layout: ChartLayout,
    scale: ReturnType<typeof densityScale>,
  ): void {
    const points = this.step!.points!;
    const { width, height } = context.canvas;
    const image = context.createImageData(width, height);
    const pixels = new Uint32Array(image.data.buffer);
    const table = new Uint32Array(lookupTable("viridis").buffer);
    const colors = pointColors(this.density, scale);
    const { order } = paintOrder(colors);
    const dpr = width / layout.plot.width;
    const size = Math.max(2, Math.round(POINT * dpr));
    // the canvas covers the plot exactly: data → device pixels through the domains
    const [x0, x1] = layout.x.domain();
    const [y0, y1] = layout.y.domain();
    const ax = width / (x1 - x0);
    const ay = height / (y1 - y0);
    for (let k = 0; k < order.length; k++) {
      const i = order[k];
      const color = table[colors[i]];
      const left = Math.round((points.true[i] - x0) * ax - size / 2);
      const top = Math.round((y1 - points.pred[i]) * ay - size / 2);
      for (let r = Math.max(0, top); r < Math.min(height, top + size); r++) {
        const row = r * width;
        for (let c = Math.max(0, left); c < Math.min(width, left + size); c++) pixels[row + c] = color;
      }
    }
    context.putImageData(image, 0, 0);
  }

  private paintCells(
    context: CanvasRenderingContext2D,
    layout: ChartLayout,
    scale: ReturnType<typeof densityScale>,
  ): void {
    const { bins, counts } = this.step!.density;
    const table = lookupTable("viridis");
    const image = new ImageData(bins, bins);
    for (let row = 0; row < bins; row++) {
      for (let column = 0; column < bins; column++) {
        const count = counts[row * bins + column];
        if (!(count > 0)) continue;
        // x: the true bin (row), y: the predicted bin (column), high values at the top
        const k = Math.max(0, scale.index(count));
        const p = ((bins - 1 - column) * bins + row) * 4;
        image.data.set([table[k * 4], table[k * 4 + 1], table[k * 4 + 2], 255], p);
      }
    }
    const offscreen = el("canvas", { attrs: { width: String(bins), height: String(bins) } });
    offscreen.getContext("2d")!.putImageData(image, 0, 0);
    const [lo, hi] = this.step!.range;
    const left = layout.x(lo);
    const top = layout.y(hi);
    context.imageSmoothingEnabled = false;
    context.drawImage(offscreen, left, top, layout.x(hi) - left, layout.y(lo) - top);
  }

  private lines(info: HoverInfo): string[] | null {
    const step = this.step;
    if (!step || !info.inPlot) return null;
    if (info.point) return pointLines(step, info.point.index, this.density[info.point.index]);
    const cell = cellAt(step, info.x, info.y);
    if (!cell) return null;
    return [
      `true in [${formatExact(cell.trueRange[0])}, ${formatExact(cell.trueRange[1])}]`,
      `predicted in [${formatExact(cell.predRange[0])}, ${formatExact(cell.predRange[1])}]`,
      `samples in this cell: ${cell.count}`,
    ];
  }
}
