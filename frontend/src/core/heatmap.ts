// A rows × columns heatmap on a canvas: one offscreen pixel per cell, scaled without smoothing,
// so a million cells draw in a few milliseconds. Wheel zooms about the pointer, drag pans,
// double-click fits the whole matrix again. The geometry is published on `canvas.dataset`
// (left, top, cell = cellw, cellw, cellh: CSS pixels) for tests and tools that point at cells.

import { fitText as fit } from "./text";
import { cssVar } from "./theme";

export interface HeatmapImage {
  rows: number;
  columns: number;
  rgba: Uint8ClampedArray; // rows * columns * 4, in display order
  rowNames: string[]; // display order
  columnNames: string[];
  cellText?: (row: number, column: number) => string; // drawn when cells are large enough
}

export interface HoverEvent {
  row: number;
  column: number;
  x: number; // pointer position within the canvas, CSS pixels
  y: number;
}

export interface HeatmapOptions {
  ariaLabel: string;
  left?: number; // room for row labels, CSS pixels
  top?: number; // room for column labels
  xTitle?: string; // "predicted →"
  yTitle?: string; // "true →"
  /** "names": rotated column names when cells are wide enough; "ticks": sparse numeric ticks. */
  columnLabels?: "names" | "ticks";
  /** Row labels right-aligned against the plot (default) or left-aligned (indented trees). */
  rowLabelAlign?: "left" | "right";
  /** Square cells in a square plot (a confusion matrix), or the plot's height from the rows. */
  square?: boolean;
  rowHeight?: number; // preferred CSS pixels per row, when not square (the plot stays 60 … maxPlotHeight)
  maxPlotHeight?: number;
  /** Not square: keep the cells square instead (plot height = width × rows / columns, within
   * 40 … maxPlotHeight; a very tall image gets a narrower plot). */
  aspect?: boolean;
  /** Draws over the cells (inside the plot's clip), e.g. grid lines; `view` maps cells to pixels. */
  overlay?: (context: CanvasRenderingContext2D, view: PlotView) => void;
  /** What the heading says when cells are too small for labels. */
  overview?: (image: HeatmapImage) => string;
  onHover: (event: HoverEvent | null) => void;
  onClickCell: (row: number, column: number) => void;
  onClickRowLabel?: (row: number) => void;
}

/** Where the cells are drawn: cell (r, c) covers x = left + c·sx … and y = top + r·sy …, CSS
 * pixels; the plot area is `plotLeft`, `plotTop`, `width`, `height`. */
export interface PlotView {
  left: number;
  top: number;
  sx: number;
  sy: number;
  plotLeft: number;
  plotTop: number;
  width: number;
  height: number;
}

const MIN_LABEL_PX = 9;
const MIN_TEXT_PX = 30;

export class Heatmap {
  readonly canvas: HTMLCanvasElement;
  private image: HeatmapImage | null = null;
  private offscreen = document.createElement("canvas");
  private readonly left: number;
  private readonly top: number;
  private width = 400; // plot size, CSS pixels
  private height = 400;
  private availableWidth = 700;
  private zoom = 1; // relative to "fit"
  private ox = 0;
  private oy = 0;
  private hovered: [number, number] | null = null;
  private highlighted: [number, number] | null = null;
  private markedColumn: number | null = null;
  private drag: { x: number; y: number; ox: number; oy: number; moved: boolean } | null = null;

  constructor(private readonly options: HeatmapOptions) {
    this.left = options.left ?? 130;
    this.top = options.top ?? 120;
    this.canvas = document.createElement("canvas");
    this.canvas.setAttribute("aria-label", options.ariaLabel);
    this.canvas.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    this.canvas.addEventListener("pointerdown", (e) => {
      this.drag = { x: e.offsetX, y: e.offsetY, ox: this.ox, oy: this.oy, moved: false };
      this.canvas.setPointerCapture(e.pointerId);
    });
    this.canvas.addEventListener("pointermove", (e) => this.pointerMove(e));
    this.canvas.addEventListener("pointerup", (e) => {
      const drag = this.drag;
      this.drag = null;
      if (drag && !drag.moved) {
        const cell = this.cellAt(e.offsetX, e.offsetY);
        if (cell) this.options.onClickCell(cell[0], cell[1]);
        const row = this.rowLabelAt(e.offsetX, e.offsetY);
        if (row !== null) this.options.onClickRowLabel?.(row);
      }
    });
    this.canvas.addEventListener("pointerleave", () => {
      this.hovered = null;
      this.options.onHover(null);
      this.draw();
    });
    this.canvas.addEventListener("dblclick", () => this.resetZoom());
  }

  private get sx(): number {
    return this.image ? (this.width / this.image.columns) * this.zoom : 1;
  }

  private get sy(): number {
    return this.image ? (this.height / this.image.rows) * this.zoom : 1;
  }

  /** Sizes the canvas to `width` CSS pixels. */
  resize(width: number): void {
    this.availableWidth = width;
    const plot = Math.max(240, Math.min(width - this.left - 8, 760));
    if (this.options.square !== false) {
      this.width = plot;
      this.height = plot;
    } else if (this.options.aspect) {
      const widest = Math.max(240, width - this.left - 8);
      const tallest = this.options.maxPlotHeight ?? 900;
      const ratio = this.image ? this.image.rows / this.image.columns : 1;
      this.width = ratio * widest > tallest ? Math.max(120, tallest / ratio) : widest;
      this.height = Math.max(40, Math.min(tallest, this.width * ratio));
    } else {
      this.width = Math.max(240, width - this.left - 8);
      const rows = this.image?.rows ?? 1;
      this.height = Math.max(60, Math.min(this.options.maxPlotHeight ?? 900, rows * (this.options.rowHeight ?? 14)));
    }
    const dpr = window.devicePixelRatio || 1;
    const cssWidth = this.left + this.width + 8;
    const cssHeight = this.top + this.height + 8;
    this.canvas.style.width = `${cssWidth}px`;
    this.canvas.style.height = `${cssHeight}px`;
    this.canvas.width = Math.round(cssWidth * dpr);
    this.canvas.height = Math.round(cssHeight * dpr);
    this.clampOffsets();
    this.draw();
  }

  setImage(image: HeatmapImage, keepView: boolean): void {
    const sameSize = this.image?.rows === image.rows && this.image?.columns === image.columns;
    const sameRows = this.image?.rows === image.rows;
    if (!image.rows || !image.columns) {
      this.image = null; // nothing readable yet: an empty plot, not an ImageData error
      this.draw();
      return;
    }
    this.image = image;
    this.offscreen.width = image.columns;
    this.offscreen.height = image.rows;
    const context = this.offscreen.getContext("2d")!;
    context.putImageData(new ImageData(image.rgba as Uint8ClampedArray<ArrayBuffer>, image.columns, image.rows), 0, 0);
    if (this.options.square === false && !(this.options.aspect ? sameSize : sameRows)) this.resize(this.availableWidth);
    if (!keepView || !sameSize) this.resetZoom();
    else this.draw();
  }

  /** Outlines a cell; with `reveal`, also zooms and pans so that it can be seen. */
  setHighlight(cell: [number, number] | null, reveal: boolean): void {
    this.highlighted = cell;
    if (cell && reveal) this.reveal(cell[0], cell[1]);
    this.draw();
  }

  /** Marks one column (the selected step) with a thin outline. */
  setMarkedColumn(column: number | null): void {
    this.markedColumn = column;
    this.draw();
  }

  resetZoom(): void {
    this.zoom = 1;
    this.ox = 0;
    this.oy = 0;
    this.draw();
  }

  /** Zooms so that the cell is at least readable and centred, unless it is already visible. */
  private reveal(row: number, column: number): void {
    if (!this.image) return;
    if (Math.min(this.sx, this.sy) < MIN_LABEL_PX) {
      const target = Math.min(MIN_TEXT_PX, this.width / 3);
      this.zoom = Math.max(this.zoom, target / Math.min(this.sx / this.zoom, this.sy / this.zoom));
    }
    const x = this.ox + column * this.sx;
    const y = this.oy + row * this.sy;
    if (x < 0 || y < 0 || x + this.sx > this.width || y + this.sy > this.height) {
      this.ox = this.width / 2 - (column + 0.5) * this.sx;
      this.oy = this.height / 2 - (row + 0.5) * this.sy;
    }
    this.clampOffsets();
  }

  private clampOffsets(): void {
    if (!this.image) return;
    this.ox = Math.min(0, Math.max(this.width - this.image.columns * this.sx, this.ox));
    this.oy = Math.min(0, Math.max(this.height - this.image.rows * this.sy, this.oy));
  }

  private cellAt(x: number, y: number): [number, number] | null {
    if (!this.image) return null;
    const px = x - this.left - this.ox;
    const py = y - this.top - this.oy;
    if (x < this.left || y < this.top || x > this.left + this.width || y > this.top + this.height) return null;
    const column = Math.floor(px / this.sx);
    const row = Math.floor(py / this.sy);
    if (row < 0 || column < 0 || row >= this.image.rows || column >= this.image.columns) return null;
    return [row, column];
  }

  private rowLabelAt(x: number, y: number): number | null {
    if (!this.image || x >= this.left || y < this.top || y > this.top + this.height) return null;
    const row = Math.floor((y - this.top - this.oy) / this.sy);
    return row >= 0 && row < this.image.rows ? row : null;
  }

  private wheel(e: WheelEvent): void {
    if (!this.image) return;
    e.preventDefault();
    const factor = Math.exp(-e.deltaY * 0.002);
    const fitX = this.width / this.image.columns;
    const fitY = this.height / this.image.rows;
    // at most 60 px cells along the smaller side (never less than "fit")
    const largest = Math.max(1, 60 / Math.min(fitX, fitY));
    const next = Math.min(largest, Math.max(1, this.zoom * factor));
    const px = e.offsetX - this.left;
    const py = e.offsetY - this.top;
    this.ox = px - ((px - this.ox) * next) / this.zoom;
    this.oy = py - ((py - this.oy) * next) / this.zoom;
    this.zoom = next;
    this.clampOffsets();
    this.draw();
  }

  private pointerMove(e: PointerEvent): void {
    if (this.drag) {
      const dx = e.offsetX - this.drag.x;
      const dy = e.offsetY - this.drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) this.drag.moved = true;
      if (this.drag.moved) {
        this.ox = this.drag.ox + dx;
        this.oy = this.drag.oy + dy;
        this.clampOffsets();
      }
    }
    const cell = this.cellAt(e.offsetX, e.offsetY);
    this.hovered = cell;
    this.options.onHover(cell ? { row: cell[0], column: cell[1], x: e.offsetX, y: e.offsetY } : null);
    this.canvas.style.cursor =
      this.options.onClickRowLabel && this.rowLabelAt(e.offsetX, e.offsetY) !== null ? "pointer" : "";
    this.draw();
  }

  /** Where a cell's centre is, in CSS pixels of the canvas (for tests and tooltips). */
  cellCenter(row: number, column: number): { x: number; y: number } {
    return {
      x: this.left + this.ox + (column + 0.5) * this.sx,
      y: this.top + this.oy + (row + 0.5) * this.sy,
    };
  }

  draw(): void {
    const context = this.canvas.getContext("2d");
    if (!context) return;
    const dpr = window.devicePixelRatio || 1;
    context.setTransform(dpr, 0, 0, dpr, 0, 0);
    context.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const image = this.image;
    if (!image) return;
    const { sx, sy } = this;
    this.canvas.dataset.left = String(this.left + this.ox);
    this.canvas.dataset.top = String(this.top + this.oy);
    this.canvas.dataset.cell = String(sx);
    this.canvas.dataset.cellw = String(sx);
    this.canvas.dataset.cellh = String(sy);
    const fg = cssVar("--ml-fg") || "#222";
    const muted = cssVar("--ml-muted") || "#666";
    context.save();
    context.beginPath();
    context.rect(this.left, this.top, this.width, this.height);
    context.clip();
    context.fillStyle = cssVar("--ml-panel") || "#eee";
    context.fillRect(this.left, this.top, this.width, this.height);
    context.imageSmoothingEnabled = false;
    context.drawImage(this.offscreen, this.left + this.ox, this.top + this.oy, image.columns * sx, image.rows * sy);
    this.options.overlay?.(context, {
      left: this.left + this.ox,
      top: this.top + this.oy,
      sx,
      sy,
      plotLeft: this.left,
      plotTop: this.top,
      width: this.width,
      height: this.height,
    });
    const [firstRow, lastRow] = this.visible(this.oy, sy, this.height, image.rows);
    const [firstColumn, lastColumn] = this.visible(this.ox, sx, this.width, image.columns);
    if (image.cellText && Math.min(sx, sy) >= MIN_TEXT_PX) {
      context.font = `${Math.min(12, Math.min(sx, sy) / 3)}px sans-serif`;
      context.textAlign = "center";
      context.textBaseline = "middle";
      for (let r = firstRow; r <= lastRow; r++) {
        for (let c = firstColumn; c <= lastColumn; c++) {
          const i = (r * image.columns + c) * 4;
          const luminance = 0.299 * image.rgba[i] + 0.587 * image.rgba[i + 1] + 0.114 * image.rgba[i + 2];
          context.fillStyle = luminance > 140 ? "#111" : "#fff";
          const { x, y } = this.cellCenter(r, c);
          context.fillText(image.cellText(r, c), x, y);
        }
      }
    }
    if (this.markedColumn !== null) {
      context.strokeStyle = cssVar("--ml-accent") || "#f57c00";
      context.lineWidth = 1.5;
      const x = this.left + this.ox + this.markedColumn * sx;
      context.strokeRect(x, this.top, Math.max(sx, 1), this.height);
    }
    this.outline(context, this.highlighted, cssVar("--ml-accent") || "#f57c00", 2.5);
    this.outline(context, this.hovered, fg, 1.5);
    context.restore();
    this.drawLabels(context, image, [firstRow, lastRow], [firstColumn, lastColumn], fg, muted);
  }

  /** First and last visible cell index along an axis. */
  private visible(offset: number, scale: number, extent: number, n: number): [number, number] {
    return [Math.max(0, Math.floor(-offset / scale)), Math.min(n - 1, Math.ceil((extent - offset) / scale))];
  }

  private outline(
    context: CanvasRenderingContext2D,
    cell: [number, number] | null,
    color: string,
    width: number,
  ): void {
    if (!cell) return;
    context.strokeStyle = color;
    context.lineWidth = width;
    context.strokeRect(
      this.left + this.ox + cell[1] * this.sx,
      this.top + this.oy + cell[0] * this.sy,
      this.sx,
      this.sy,
    );
  }

  private drawLabels(
    context: CanvasRenderingContext2D,
    image: HeatmapImage,
    rows: [number, number],
    columns: [number, number],
    fg: string,
    muted: string,
  ): void {
    const { left, top, sx, sy } = this;
    context.fillStyle = muted;
    context.font = "11px sans-serif";
    context.textAlign = "left";
    context.textBaseline = "alphabetic";
    if (this.options.xTitle) context.fillText(this.options.xTitle, left, 12);
    if (this.options.yTitle) {
      context.save();
      context.translate(12, top + this.height);
      context.rotate(-Math.PI / 2);
      context.fillText(this.options.yTitle, 0, 0);
      context.restore();
    }
    const ticks = this.options.columnLabels === "ticks";
    if (ticks) this.drawTicks(context, image, columns, muted);
    if (!ticks && Math.min(sx, sy) < MIN_LABEL_PX) {
      const overview = this.options.overview?.(image) ?? `${image.rows} rows`;
      context.fillText(`${overview} · scroll to zoom, drag to pan`, left + 80, 12);
      return;
    }
    if (sy >= MIN_LABEL_PX) {
      context.fillStyle = fg;
      context.font = `${Math.min(12, Math.floor(ticks ? sy : Math.min(sx, sy)) - 1)}px sans-serif`;
      context.textBaseline = "middle";
      const alignLeft = this.options.rowLabelAlign === "left";
      context.textAlign = alignLeft ? "left" : "right";
      for (let r = rows[0]; r <= rows[1]; r++) {
        const y = top + this.oy + (r + 0.5) * sy;
        if (y < top || y > top + this.height) continue;
        if (alignLeft) context.fillText(fit(context, image.rowNames[r], left - 10), 4, y);
        else context.fillText(fit(context, image.rowNames[r], left - 24), left - 4, y);
      }
    } else if (ticks) {
      context.textAlign = "left";
      context.fillText(`${image.rows} rows · scroll to zoom`, 4, top - 18);
    }
    if (ticks) return;
    context.textAlign = "left";
    for (let c = columns[0]; c <= columns[1]; c++) {
      const x = left + this.ox + (c + 0.5) * sx;
      if (x < left || x > left + this.width) continue;
      context.save();
      context.translate(x, top - 4);
      context.rotate(-Math.PI / 2);
      context.fillText(fit(context, image.columnNames[c], top - 24), 0, 0);
      context.restore();
    }
  }

  /** Column names as horizontal ticks about 70 px apart (steps). */
  private drawTicks(
    context: CanvasRenderingContext2D,
    image: HeatmapImage,
    columns: [number, number],
    muted: string,
  ): void {
    const every = Math.max(1, Math.ceil(70 / this.sx));
    context.fillStyle = muted;
    context.strokeStyle = muted;
    context.font = "10px sans-serif";
    context.textAlign = "center";
    context.textBaseline = "alphabetic";
    for (let c = Math.ceil(columns[0] / every) * every; c <= columns[1]; c += every) {
      const x = this.left + this.ox + (c + 0.5) * this.sx;
      if (x < this.left || x > this.left + this.width) continue;
      context.fillText(image.columnNames[c], x, this.top - 6);
      context.beginPath();
      context.moveTo(x, this.top - 4);
      context.lineTo(x, this.top);
      context.stroke();
    }
  }
}
