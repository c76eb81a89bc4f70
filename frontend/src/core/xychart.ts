// An XY chart shared by the chart views (ROC / PR, predictions): axes, lines, points, histogram
// bars and guides, laid out once as plain marks (./chartlayout, node-tested) that become either SVG
// elements (names through textContent) or an SVG file (names through escapeXml). An optional
// canvas under the plot paints what is too dense for SVG (50k points, density cells); the SVG
// export embeds it as an image. Hover finds the nearest point in pixels (or the bin under the
// pointer) and shows the view's exact lines in a tooltip.
//
// The plot's geometry is published on `element.dataset` (left, top, width, height in CSS pixels
// of the chart; xmin, xmax, ymin, ymax of its domains) for tests and tools that point at data.
import { el, svgEl } from "./dom";
import { download } from "./dom";
import {
  chartSvg,
  LIGHT_PALETTE,
  layoutChart,
  markAttributes,
  nearestPoint,
  binIndex,
  resolveColor,
  type ChartLayout,
  type Palette,
  type PointHit,
  type XYChartSpec,
} from "./chartlayout";
import { cssVar } from "./theme";
import { Tooltip } from "./tooltip";

export * from "./chartlayout";

export function themePalette(): Palette {
  const read = (name: string, fallback: string) => cssVar(name) || fallback;
  return {
    fg: read("--ml-fg", LIGHT_PALETTE.fg),
    muted: read("--ml-muted", LIGHT_PALETTE.muted),
    border: read("--ml-border", LIGHT_PALETTE.border),
    bg: read("--ml-bg", LIGHT_PALETTE.bg),
    panel: read("--ml-panel", LIGHT_PALETTE.panel),
    accent: read("--ml-accent", LIGHT_PALETTE.accent),
    highlight: read("--ml-highlight", LIGHT_PALETTE.highlight),
  };
}

let clipCounter = 0;

/** The marks as SVG elements (text through textContent only). */
export function renderMarks(svg: SVGSVGElement, layout: ChartLayout): void {
  const id = `ml-clip-${++clipCounter}`;
  const clip = svgEl("clipPath", { id });
  const { left, top, width, height } = layout.plot;
  clip.appendChild(svgEl("rect", { x: left, y: top, width, height }));
  const defs = svgEl("defs");
  defs.appendChild(clip);
  const nodes: SVGElement[] = [defs];
  for (const mark of layout.marks) {
    const node = svgEl(mark.type, markAttributes(mark));
    if ("clip" in mark && mark.clip) node.setAttribute("clip-path", `url(#${id})`);
    if (mark.type === "text") node.textContent = mark.text;
    nodes.push(node);
  }
  svg.replaceChildren(...nodes);
}

export interface HoverInfo {
  x: number; // data coordinates of the pointer
  y: number;
  px: number; // CSS pixels within the chart
  py: number;
  point: PointHit | null;
  /** The bin under the pointer of each bar set (-1: none). */
  bins: number[];
  inPlot: boolean;
}

export interface XYChartOptions {
  ariaLabel: string;
  /** The tooltip's lines for what is under the pointer, or null for none. */
  hover?: (info: HoverInfo) => string[] | null;
  /** Told the hovered point (or null) after each pointer move: link other charts. */
  onPoint?: (hit: PointHit | null) => void;
  click?: (info: HoverInfo) => void;
  /** A canvas under the plot for dense layers (painted by `update`'s `paint`). */
  raster?: boolean;
  maxHoverDistance?: number;
  tooltipWidth?: number;
}

export type Paint = (context: CanvasRenderingContext2D, layout: ChartLayout, palette: Palette) => void;

/** An XY chart in the page: SVG marks (over an optional canvas), tooltip, highlight rings. */
export class XYChart {
  readonly element: HTMLDivElement;
  readonly svg: SVGSVGElement;
  readonly canvas: HTMLCanvasElement | null;
  private highlights = svgEl("g", { "pointer-events": "none" });
  private tooltip = new Tooltip(() => this.element);
  private spec: XYChartSpec | null = null;
  private paint: Paint | undefined;
  layout: ChartLayout | null = null;

  constructor(private readonly options: XYChartOptions) {
    this.svg = svgEl("svg", { class: "ml-chart ml-xychart-svg", role: "img" });
    this.svg.setAttribute("aria-label", options.ariaLabel);
    this.canvas = options.raster ? el("canvas", { className: "ml-xychart-raster" }) : null;
    this.element = el("div", { className: "ml-xychart" }, [
      ...(this.canvas ? [this.canvas] : []),
      this.svg,
      this.tooltip.element,
    ]);
    this.element.addEventListener("pointermove", (e) => this.pointer(e));
    this.element.addEventListener("pointerleave", () => {
      this.tooltip.hide();
      this.setHighlights([]);
      this.options.onPoint?.(null);
    });
    this.element.addEventListener("click", (e) => {
      const info = this.infoAt(e);
      if (info) this.options.click?.(info);
    });
    window.addEventListener("modellens-theme", () => this.render());
  }

  /** Draws `spec`; `paint` paints the canvas layer (in chart coordinates, clipped to the plot). */
  update(spec: XYChartSpec, paint?: Paint): void {
    this.spec = spec;
    this.paint = paint;
    this.render();
  }

  get current(): XYChartSpec | null {
    return this.spec;
  }

  private render(): void {
    const spec = this.spec;
    if (!spec) return;
    const palette = themePalette();
    const layout = layoutChart(spec, palette);
    this.layout = layout;
    this.svg.setAttribute("width", String(spec.width));
    this.svg.setAttribute("height", String(spec.height));
    this.svg.setAttribute("viewBox", `0 0 ${spec.width} ${spec.height}`);
    this.element.style.width = `${spec.width}px`;
    this.element.style.height = `${spec.height}px`;
    renderMarks(this.svg, layout);
    this.svg.appendChild(this.highlights);
    this.highlights.replaceChildren();
    const { left, top, width, height } = layout.plot;
    Object.assign(this.element.dataset, {
      left: String(left),
      top: String(top),
      width: String(width),
      height: String(height),
      xmin: String(layout.x.domain()[0]),
      xmax: String(layout.x.domain()[1]),
      ymin: String(layout.y.domain()[0]),
      ymax: String(layout.y.domain()[1]),
    });
    if (this.canvas) {
      const dpr = window.devicePixelRatio || 1;
      Object.assign(this.canvas.style, {
        left: `${left}px`,
        top: `${top}px`,
        width: `${width}px`,
        height: `${height}px`,
      });
      this.canvas.width = Math.round(width * dpr);
      this.canvas.height = Math.round(height * dpr);
      const context = this.canvas.getContext("2d");
      if (context) {
        context.setTransform(dpr, 0, 0, dpr, -left * dpr, -top * dpr);
        context.clearRect(left, top, width, height);
        this.paint?.(context, layout, palette);
      }
    }
  }

  private infoAt(e: MouseEvent): HoverInfo | null {
    const layout = this.layout;
    const spec = this.spec;
    if (!layout || !spec) return null;
    const box = this.element.getBoundingClientRect();
    const px = e.clientX - box.left;
    const py = e.clientY - box.top;
    const { left, top, width, height } = layout.plot;
    const inPlot = px >= left && px <= left + width && py >= top && py <= top + height;
    const x = layout.x.invert(px);
    const y = layout.y.invert(py);
    const point = inPlot
      ? nearestPoint(spec.series ?? [], layout.x, layout.y, px, py, this.options.maxHoverDistance ?? 24)
      : null;
    const bins = (spec.bars ?? []).map((bars) => (inPlot ? binIndex(bars.edges, x) : -1));
    return { x, y, px, py, point, bins, inPlot };
  }

  private pointer(e: PointerEvent): void {
    const info = this.infoAt(e);
    if (!info || !this.layout || !this.spec) return;
    const lines = this.options.hover?.(info) ?? null;
    this.options.onPoint?.(info.point);
    const rings: Array<{ x: number; y: number; color: string }> = [];
    if (info.point) {
      const s = this.spec.series![info.point.series];
      rings.push({ x: s.x[info.point.index], y: s.y[info.point.index], color: s.color });
    }
    this.setHighlights(rings);
    if (!lines) {
      this.tooltip.hide();
      return;
    }
    this.tooltip.show(lines, info.px, info.py, this.options.tooltipWidth ?? 250);
  }

  /** Rings around points (data coordinates), e.g. the point hovered in a linked chart. */
  setHighlights(points: Array<{ x: number; y: number; color: string }>): void {
    const layout = this.layout;
    if (!layout) return;
    const palette = themePalette();
    this.highlights.replaceChildren(
      ...points
        .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y))
        .map((p) =>
          svgEl("circle", {
            cx: layout.x(p.x),
            cy: layout.y(p.y),
            r: 6,
            fill: "none",
            stroke: resolveColor(p.color, palette),
            "stroke-width": 2.2,
            class: "ml-hover-ring",
          }),
        ),
    );
  }

  /** The chart as an SVG file (the canvas layer embedded as a PNG image). */
  svgText(title: string): string {
    const spec = this.spec;
    if (!spec) return "";
    const palette = themePalette();
    const layout = layoutChart(spec, palette);
    const raster = this.canvas && this.paint ? this.canvas.toDataURL("image/png") : undefined;
    return chartSvg(layout, spec.width, spec.height, title, palette, raster);
  }

  /** Downloads the chart as `<stem>.svg`. */
  downloadSvg(title: string, stem: string): void {
    download(`${stem}.svg`, new Blob([this.svgText(title)], { type: "image/svg+xml" }));
  }

  /** Downloads the chart as `<stem>.png`: its SVG file rasterized at twice the size. */
  async downloadPng(title: string, stem: string): Promise<void> {
    const blob = await svgToPng(this.svgText(title));
    if (blob) download(`${stem}.png`, blob);
  }
}

/** An SVG file rasterized on a canvas (`scale` × its size) as a PNG blob; data: images are
 * allowed by TensorBoard's CSP and do not taint the canvas. */
export async function svgToPng(svg: string, scale = 2): Promise<Blob | null> {
  const size = /<svg[^>]*\swidth="([\d.]+)"[^>]*\sheight="([\d.]+)"/.exec(svg);
  const width = Number(size?.[1] ?? 400);
  const height = Number(size?.[2] ?? 300);
  const image = new Image();
  image.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
  await image.decode();
  const canvas = el("canvas", { attrs: { width: String(width * scale), height: String(height * scale) } });
  const context = canvas.getContext("2d")!;
  context.scale(scale, scale);
  context.drawImage(image, 0, 0, width, height);
  return new Promise((resolve) => canvas.toBlob((blob) => resolve(blob), "image/png"));
}
