// The tensor image: core's Heatmap (one pixel per stored cell, zoom and pan), kernel/channel
// grid lines drawn over it, the legend (diverging bar centred at 0, NaN / +Inf / −Inf swatches
// with their counts, padding), the block-reduction note and the hover tooltip.
import { lookupTable, packRgba, type ColorScale } from "../../core/colors";
import { el } from "../../core/dom";
import { Heatmap, type HoverEvent, type PlotView } from "../../core/heatmap";
import { Legend, type Swatch } from "../../core/legend";
import { cssVar } from "../../core/theme";
import { Tooltip } from "../../core/tooltip";
import {
  axisNames,
  cellLines,
  cellPixels,
  cssOf,
  divergingScale,
  formatShort,
  NAN,
  NEGINF,
  POSINF,
  reducedNote,
  statValues,
  stepBound,
  UNMATCHED,
  type Shown,
} from "./shape";

/** What is drawn, for the tooltip, tests and export. */
export interface Drawn {
  shown: Shown;
  run: string;
  tag: string;
  rgba: Uint8ClampedArray;
  scale: ColorScale;
  rowNames: string[];
  columnNames: string[];
  legendText: string;
}

export class TensorPanel {
  private legend = new Legend();
  private tooltip = new Tooltip(() => this.wrap);
  readonly note = el("div", { className: "ml-note ml-tensor-note", attrs: { "aria-label": "reduction note" } });
  readonly heatmap: Heatmap = new Heatmap({
    ariaLabel: "tensor heatmap",
    left: 62,
    top: 40,
    square: false,
    aspect: true,
    maxPlotHeight: 760,
    columnLabels: "ticks",
    onHover: (event) => this.hover(event),
    onClickCell: () => {},
    overlay: (context, view) => this.gridLines(context, view),
  });
  private wrap: HTMLElement = el("div", { className: "ml-heatmap-wrap" }, [this.heatmap.canvas, this.tooltip.element]);
  readonly element = el("section", { className: "ml-tensor-panel", attrs: { "aria-label": "tensor" } }, [
    this.legend.element,
    this.note,
    this.wrap,
  ]);
  private drawnImage: Drawn | null = null;

  constructor() {
    this.heatmap.canvas.dataset.state = "empty";
    window.addEventListener("modellens-theme", () => {
      if (this.drawnImage) this.updateLegend(this.drawnImage); // the padding swatch follows the theme
      this.heatmap.draw();
    });
    new ResizeObserver(() => this.heatmap.resize(Math.min(this.wrap.clientWidth || 800, 1100))).observe(this.wrap);
  }

  get drawn(): Drawn | null {
    return this.drawnImage;
  }

  setState(state: "loading" | "error"): void {
    this.heatmap.canvas.dataset.state = state;
  }

  show(run: string, tag: string, shown: Shown, keepView: boolean): void {
    const { step, reference } = shown;
    const meta = step.meta;
    const values = reference ? reference.diff.values : statValues(step, shown.stat);
    const kind = reference ? reference.diff.kind : step.kind;
    const scale = divergingScale(reference ? reference.diff.bound : stepBound(meta));
    const rgba = cellPixels(values, kind, scale, new Uint32Array(lookupTable("diverging").buffer), packRgba);
    const rowNames = axisNames(meta.stored_rows, meta.row_block);
    const columnNames = axisNames(meta.stored_cols, meta.col_block);
    const drawn: Drawn = { shown, run, tag, rgba, scale, rowNames, columnNames, legendText: "" };
    this.drawnImage = drawn;
    this.tooltip.hide(); // it described the previous image
    this.updateLegend(drawn);
    this.note.textContent = [
      reducedNote(meta, shown.stat),
      reference ? `colour = difference against ${reference.label}` : "",
      "scroll to zoom, drag to pan, double-click to fit",
    ]
      .filter(Boolean)
      .join(" · ");
    this.heatmap.setImage({ rows: meta.stored_rows, columns: meta.stored_cols, rgba, rowNames, columnNames }, keepView);
    Object.assign(this.heatmap.canvas.dataset, {
      run,
      tag,
      step: String(meta.step),
      reduced: String(meta.reduced),
      storedRows: String(meta.stored_rows),
      storedCols: String(meta.stored_cols),
      stat: shown.stat,
      compare: reference ? reference.label : "",
      state: "ready",
    });
  }

  private updateLegend(drawn: Drawn): void {
    const { step, reference } = drawn.shown;
    const meta = step.meta;
    const swatches: Swatch[] = [
      { label: `NaN (${meta.nan})`, color: cssOf(NAN) },
      { label: `+Inf (${meta.posinf})`, color: cssOf(POSINF) },
      { label: `−Inf (${meta.neginf})`, color: cssOf(NEGINF) },
    ];
    if (step.indexer.hasPadding)
      swatches.push({ label: "padding (no channel)", color: cssVar("--ml-panel") || "#eee" });
    if (reference) swatches.push({ label: "not comparable (NaN/Inf on a side)", color: cssOf(UNMATCHED) });
    const title = reference ? "difference" : meta.reduced ? `block ${drawn.shown.stat}` : "value";
    this.legend.update("diverging", drawn.scale, formatShort, swatches, title);
    drawn.legendText =
      `${title}: ${formatShort(drawn.scale.low)} … ${formatShort(drawn.scale.high)} (diverging, 0 = white) · ` +
      swatches.map((s) => s.label).join(" · ");
  }

  /** Lines between kernels (or channel maps) when a tile is at least 4 pixels on screen. */
  private gridLines(context: CanvasRenderingContext2D, view: PlotView): void {
    const drawn = this.drawnImage;
    const tile = drawn?.shown.step.indexer.tile;
    if (!drawn || !tile) return;
    const meta = drawn.shown.step.meta;
    const th = (tile[0] / meta.row_block) * view.sy; // a tile's size on screen
    const tw = (tile[1] / meta.col_block) * view.sx;
    const [gridRows, gridColumns] = drawn.shown.step.indexer.grid!;
    context.save();
    // mid-grey: seen against the white centre and the dark ends of the diverging map, both themes
    context.strokeStyle = "#8a8a8a";
    context.lineWidth = Math.min(th, tw) >= 10 ? 2 : 1;
    const crisp = context.lineWidth === 1 ? 0.5 : 0; // a 1 px line on a pixel, not across two
    context.beginPath();
    const bottom = Math.min(view.plotTop + view.height, view.top + gridRows * th);
    const right = Math.min(view.plotLeft + view.width, view.left + gridColumns * tw);
    if (th >= 4) {
      for (let k = 1; k < gridRows; k++) {
        const y = Math.round(view.top + k * th) + crisp;
        if (y < view.plotTop || y > bottom) continue;
        context.moveTo(Math.max(view.plotLeft, view.left), y);
        context.lineTo(right, y);
      }
    }
    if (tw >= 4) {
      // in the last grid row, no line between padding tiles (channel t ≥ C)
      const used = drawn.shown.step.indexer.tiles - (gridRows - 1) * gridColumns;
      const lastRowTop = Math.max(view.plotTop, Math.min(bottom, view.top + (gridRows - 1) * th));
      for (let k = 1; k < gridColumns; k++) {
        const x = Math.round(view.left + k * tw) + crisp;
        if (x < view.plotLeft || x > right) continue;
        context.moveTo(x, Math.max(view.plotTop, view.top));
        context.lineTo(x, drawn.shown.step.indexer.hasPadding && k > used ? lastRowTop : bottom);
      }
    }
    context.stroke();
    context.restore();
  }

  private hover(event: HoverEvent | null): void {
    const drawn = this.drawnImage;
    if (!event || !drawn) {
      this.tooltip.hide();
      return;
    }
    this.tooltip.show(cellLines(drawn.shown, event.row, event.column), event.x, event.y, 320);
  }
}
