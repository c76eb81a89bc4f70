// The matrix on a canvas: one offscreen pixel per cell, scaled without smoothing, so a
// 1000 × 1000 matrix draws in a few milliseconds. Wheel zooms about the pointer, drag pans,
// double-click fits the whole matrix again.

import { cssVar } from "../../core/theme";

export interface HeatmapImage {
  n: number;
  rgba: Uint8ClampedArray; // n*n*4, in display order
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

const LEFT = 130;
const TOP = 120;
const MIN_LABEL_PX = 9;
const MIN_TEXT_PX = 30;

export class Heatmap {
  readonly canvas: HTMLCanvasElement;
  private image: HeatmapImage | null = null;
  private offscreen = document.createElement("canvas");
  private plot = 400;
  private scale = 1;
  private ox = 0;
  private oy = 0;
  private hovered: [number, number] | null = null;
  private highlighted: [number, number] | null = null;
  private drag: { x: number; y: number; ox: number; oy: number; moved: boolean } | null = null;

  constructor(
    private readonly onHover: (event: HoverEvent | null) => void,
    private readonly onClickCell: (row: number, column: number) => void,
  ) {
    this.canvas = document.createElement("canvas");
    this.canvas.setAttribute("aria-label", "confusion matrix heatmap");
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
        if (cell) this.onClickCell(cell[0], cell[1]);
      }
    });
    this.canvas.addEventListener("pointerleave", () => {
      this.hovered = null;
      this.onHover(null);
      this.draw();
    });
    this.canvas.addEventListener("dblclick", () => this.resetZoom());
  }

  /** Sizes the canvas to `width` CSS pixels (the plot stays square). */
  resize(width: number): void {
    const zoom = this.image ? this.scale / this.fitScale() : 1; // relative to "fit", kept
    this.plot = Math.max(240, Math.min(width - LEFT - 8, 760));
    const dpr = window.devicePixelRatio || 1;
    const cssWidth = LEFT + this.plot + 8;
    const cssHeight = TOP + this.plot + 8;
    this.canvas.style.width = `${cssWidth}px`;
    this.canvas.style.height = `${cssHeight}px`;
    this.canvas.width = Math.round(cssWidth * dpr);
    this.canvas.height = Math.round(cssHeight * dpr);
    if (this.image) this.scale = this.fitScale() * Math.max(1, zoom);
    this.clampOffsets();
    this.draw();
  }

  setImage(image: HeatmapImage, keepView: boolean): void {
    const sameSize = this.image?.n === image.n;
    this.image = image;
    this.offscreen.width = image.n;
    this.offscreen.height = image.n;
    const context = this.offscreen.getContext("2d")!;
    context.putImageData(new ImageData(image.rgba as Uint8ClampedArray<ArrayBuffer>, image.n, image.n), 0, 0);
    if (!keepView || !sameSize) this.resetZoom();
    else this.draw();
  }

  /** Outlines a cell; with `reveal`, also zooms and pans so that it can be seen. */
  setHighlight(cell: [number, number] | null, reveal: boolean): void {
    this.highlighted = cell;
    if (cell && reveal) this.reveal(cell[0], cell[1]);
    this.draw();
  }

  resetZoom(): void {
    this.scale = this.fitScale();
    this.ox = 0;
    this.oy = 0;
    this.draw();
  }

  /** Zooms so that the cell is at least readable and centred, unless it is already visible. */
  private reveal(row: number, column: number): void {
    if (!this.image) return;
    if (this.scale < MIN_LABEL_PX) this.scale = Math.min(MIN_TEXT_PX, this.plot / 3);
    const x = this.ox + column * this.scale;
    const y = this.oy + row * this.scale;
    if (x < 0 || y < 0 || x + this.scale > this.plot || y + this.scale > this.plot) {
      this.ox = this.plot / 2 - (column + 0.5) * this.scale;
      this.oy = this.plot / 2 - (row + 0.5) * this.scale;
    }
    this.clampOffsets();
  }

  private fitScale(): number {
    return this.image ? this.plot / this.image.n : 1;
  }

  private clampOffsets(): void {
    if (!this.image) return;
    const extent = this.image.n * this.scale;
    this.ox = Math.min(0, Math.max(this.plot - extent, this.ox));
    this.oy = Math.min(0, Math.max(this.plot - extent, this.oy));
  }

  private cellAt(x: number, y: number): [number, number] | null {
    if (!this.image) return null;
    const px = x - LEFT - this.ox;
    const py = y - TOP - this.oy;
    if (x < LEFT || y < TOP || x > LEFT + this.plot || y > TOP + this.plot) return null;
    const column = Math.floor(px / this.scale);
    const row = Math.floor(py / this.scale);
    if (row < 0 || column < 0 || row >= this.image.n || column >= this.image.n) return null;
    return [row, column];
  }

  private wheel(e: WheelEvent): void {
    if (!this.image) return;
    e.preventDefault();
    const factor = Math.exp(-e.deltaY * 0.002);
    const fit = this.fitScale();
    const next = Math.min(Math.max(fit, 60), Math.max(fit, this.scale * factor));
    const px = e.offsetX - LEFT;
    const py = e.offsetY - TOP;
    this.ox = px - ((px - this.ox) * next) / this.scale;
    this.oy = py - ((py - this.oy) * next) / this.scale;
    this.scale = next;
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
    this.onHover(cell ? { row: cell[0], column: cell[1], x: e.offsetX, y: e.offsetY } : null);
    this.draw();
  }

  /** Where a cell's centre is, in CSS pixels of the canvas (for tests and tooltips). */
  cellCenter(row: number, column: number): { x: number; y: number } {
    return {
      x: LEFT + this.ox + (column + 0.5) * this.scale,
      y: TOP + this.oy + (row + 0.5) * this.scale,
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
    // the geometry, for tests and tools that point at cells
    this.canvas.dataset.left = String(LEFT + this.ox);
    this.canvas.dataset.top = String(TOP + this.oy);
    this.canvas.dataset.cell = String(this.scale);
    const fg = cssVar("--ml-fg") || "#222";
    const muted = cssVar("--ml-muted") || "#666";
    context.save();
    context.beginPath();
    context.rect(LEFT, TOP, this.plot, this.plot);
    context.clip();
    context.fillStyle = cssVar("--ml-panel") || "#eee";
    context.fillRect(LEFT, TOP, this.plot, this.plot);
    context.imageSmoothingEnabled = false;
    const extent = image.n * this.scale;
    context.drawImage(this.offscreen, LEFT + this.ox, TOP + this.oy, extent, extent);
    const [firstRow, lastRow] = this.visible(this.oy);
    const [firstColumn, lastColumn] = this.visible(this.ox);
    if (image.cellText && this.scale >= MIN_TEXT_PX) {
      context.font = `${Math.min(12, this.scale / 3)}px sans-serif`;
      context.textAlign = "center";
      context.textBaseline = "middle";
      for (let r = firstRow; r <= lastRow; r++) {
        for (let c = firstColumn; c <= lastColumn; c++) {
          const i = (r * image.n + c) * 4;
          const luminance = 0.299 * image.rgba[i] + 0.587 * image.rgba[i + 1] + 0.114 * image.rgba[i + 2];
          context.fillStyle = luminance > 140 ? "#111" : "#fff";
          const { x, y } = this.cellCenter(r, c);
          context.fillText(image.cellText(r, c), x, y);
        }
      }
    }
    this.outline(context, this.highlighted, cssVar("--ml-accent") || "#f57c00", 2.5);
    this.outline(context, this.hovered, fg, 1.5);
    context.restore();
    this.drawLabels(context, image, [firstRow, lastRow], [firstColumn, lastColumn], fg, muted);
  }

  /** First and last visible cell index along an axis with offset `offset`. */
  private visible(offset: number): [number, number] {
    const n = this.image?.n ?? 0;
    return [Math.max(0, Math.floor(-offset / this.scale)), Math.min(n - 1, Math.ceil((this.plot - offset) / this.scale))];
  }

  private outline(context: CanvasRenderingContext2D, cell: [number, number] | null, color: string, width: number): void {
    if (!cell) return;
    context.strokeStyle = color;
    context.lineWidth = width;
    context.strokeRect(LEFT + this.ox + cell[1] * this.scale, TOP + this.oy + cell[0] * this.scale, this.scale, this.scale);
  }

  private drawLabels(
    context: CanvasRenderingContext2D,
    image: HeatmapImage,
    rows: [number, number],
    columns: [number, number],
    fg: string,
    muted: string,
  ): void {
    context.fillStyle = muted;
    context.font = "11px sans-serif";
    context.textAlign = "left";
    context.textBaseline = "alphabetic";
    context.fillText("predicted →", LEFT, 12);
    context.save();
    context.translate(12, TOP + this.plot);
    context.rotate(-Math.PI / 2);
    context.fillText("true →", 0, 0);
    context.restore();
    if (this.scale < MIN_LABEL_PX) {
      context.fillText(`${image.n} classes · scroll to zoom, drag to pan`, LEFT + 80, 12);
      return;
    }
    context.fillStyle = fg;
    context.font = `${Math.min(12, Math.floor(this.scale) - 1)}px sans-serif`;
    context.textBaseline = "middle";
    context.textAlign = "right";
    for (let r = rows[0]; r <= rows[1]; r++) {
      const y = TOP + this.oy + (r + 0.5) * this.scale;
      if (y < TOP || y > TOP + this.plot) continue;
      context.fillText(fit(context, image.rowNames[r], LEFT - 24), LEFT - 4, y);
    }
    context.textAlign = "left";
    for (let c = columns[0]; c <= columns[1]; c++) {
      const x = LEFT + this.ox + (c + 0.5) * this.scale;
      if (x < LEFT || x > LEFT + this.plot) continue;
      context.save();
      context.translate(x, TOP - 4);
      context.rotate(-Math.PI / 2);
      context.fillText(fit(context, image.columnNames[c], TOP - 24), 0, 0);
      context.restore();
    }
  }
}

function fit(context: CanvasRenderingContext2D, text: string, width: number): string {
  if (context.measureText(text).width <= width) return text;
  let end = text.length;
  while (end > 1 && context.measureText(`${text.slice(0, end)}…`).width > width) end--;
  return `${text.slice(0, end)}…`;
}
