// The grid of a step's maps: layers × heads as thumbnails on one canvas, the head mean per layer
// as an extra column and the rollout as an extra row; layer names and head numbers as labels.
// All thumbnails are coloured into one offscreen atlas (./shape thumbnailAtlas) and each tile is
// drawn from it, so a 12 × 12 grid draws in a few milliseconds. Hover tells the map and its
// scores; a click enlarges it. Geometry on `canvas.dataset` (left, top, tile, gap: CSS pixels).
import { el } from "../../core/dom";
import { fitText } from "../../core/text";
import { cssVar } from "../../core/theme";
import { Tooltip } from "../../core/tooltip";
import {
  atlasOrigin,
  formatScore,
  formatWeight,
  gridLayout,
  gridPosition,
  gridRefAt,
  mapIndex,
  mapTitle,
  sameRef,
  tileOrigin,
  isolate,
  visibleName,
  type Atlas,
  type GridLayout,
  type MapRef,
  type StepData,
} from "./shape";
import type { Thumbnails } from "./wire";

export interface GridData {
  run: string;
  tag: string;
  step: StepData;
  thumbs: Thumbnails;
  atlas: Atlas;
  compare: string; // "" or what the difference is against
}

export class Grid {
  readonly canvas = el("canvas", { attrs: { "aria-label": "attention grid" } });
  private tooltip = new Tooltip(() => this.wrap);
  readonly wrap: HTMLElement = el("div", { className: "ml-heatmap-wrap ml-attn-grid" }, [
    this.canvas,
    this.tooltip.element,
  ]);
  private offscreen = document.createElement("canvas");
  private data: GridData | null = null;
  private layout: GridLayout | null = null;
  private available = 800;
  private hovered: MapRef | null = null;
  private selected: MapRef | null = null;

  constructor(private readonly onPick: (ref: MapRef) => void) {
    this.canvas.dataset.state = "empty";
    this.canvas.addEventListener("pointermove", (e) => this.hover(e.offsetX, e.offsetY));
    this.canvas.addEventListener("pointerleave", () => {
      this.hovered = null;
      this.tooltip.hide();
      this.draw();
    });
    this.canvas.addEventListener("click", (e) => {
      const ref = this.layout && gridRefAt(this.layout, e.offsetX, e.offsetY);
      if (ref) this.onPick(ref);
    });
    window.addEventListener("modellens-theme", () => this.draw());
    new ResizeObserver(() => this.resize(this.wrap.clientWidth || 800)).observe(this.wrap);
  }

  get drawn(): GridData | null {
    return this.data;
  }

  get geometry(): GridLayout | null {
    return this.layout;
  }

  update(data: GridData): void {
    this.data = data;
    this.offscreen.width = data.atlas.width;
    this.offscreen.height = data.atlas.height;
    const image = new ImageData(data.atlas.rgba as Uint8ClampedArray<ArrayBuffer>, data.atlas.width, data.atlas.height);
    this.offscreen.getContext("2d")!.putImageData(image, 0, 0);
    this.resize(this.available);
    Object.assign(this.canvas.dataset, {
      run: data.run,
      tag: data.tag,
      step: String(data.step.step),
      layers: String(data.step.layers),
      heads: String(data.step.heads),
      rollout: data.step.rollout ? "1" : "0",
      compare: data.compare,
      state: "ready",
    });
  }

  setSelected(ref: MapRef | null): void {
    this.selected = ref;
    this.draw();
  }

  resize(width: number): void {
    this.available = width;
    const data = this.data;
    if (!data) return;
    const layout = gridLayout(data.step.layers, data.step.heads, data.step.rollout, width);
    this.layout = layout;
    const dpr = window.devicePixelRatio || 1;
    this.canvas.style.width = `${layout.width}px`;
    this.canvas.style.height = `${layout.height}px`;
    this.canvas.width = Math.round(layout.width * dpr);
    this.canvas.height = Math.round(layout.height * dpr);
    Object.assign(this.canvas.dataset, {
      left: String(layout.left),
      top: String(layout.top),
      tile: String(layout.tile),
      gap: String(layout.gap),
    });
    this.draw();
  }

  draw(): void {
    const context = this.canvas.getContext("2d");
    const { data, layout } = this;
    if (!context || !data || !layout) return;
    const dpr = window.devicePixelRatio || 1;
    context.setTransform(dpr, 0, 0, dpr, 0, 0);
    context.fillStyle = cssVar("--ml-bg") || "#fff";
    context.fillRect(0, 0, layout.width, layout.height);
    const fg = cssVar("--ml-fg") || "#222";
    const muted = cssVar("--ml-muted") || "#666";
    const border = cssVar("--ml-border") || "#ccc";
    const { step, thumbs, atlas } = data;
    context.font = "11px sans-serif";
    context.fillStyle = muted;
    context.textAlign = "left";
    context.textBaseline = "alphabetic";
    context.fillText("layer ↓  head →", 4, 12);
    context.textAlign = "center";
    for (let c = 0; c < layout.columns; c++) {
      const { x } = tileOrigin(layout, 0, c);
      context.fillStyle = c === layout.heads ? fg : muted;
      context.fillText(c === layout.heads ? "mean" : String(c), x + layout.tile / 2, layout.top - 8);
    }
    context.textAlign = "right";
    context.textBaseline = "middle";
    context.fillStyle = fg;
    for (let r = 0; r < layout.rows; r++) {
      const { y } = tileOrigin(layout, r, 0);
      const name = r === layout.layers ? "rollout" : isolate(visibleName(step.layer_names[r] ?? `layer ${r}`));
      context.fillText(fitText(context, name, layout.left - 12, "start"), layout.left - 6, y + layout.tile / 2);
    }
    context.imageSmoothingEnabled = layout.tile < Math.max(thumbs.rows, thumbs.cols);
    const refs: MapRef[] = [];
    for (let l = 0; l < step.layers; l++) {
      for (let h = 0; h <= step.heads; h++) refs.push({ layer: l, head: h === step.heads ? "mean" : h });
    }
    if (step.rollout) refs.push({ layer: "rollout", head: "mean" });
    context.lineWidth = 1;
    context.strokeStyle = border;
    for (const ref of refs) {
      const m = mapIndex(ref, step.layers, step.heads);
      if (m >= thumbs.count) continue;
      const [r, c] = gridPosition(layout, ref);
      const { x, y } = tileOrigin(layout, r, c);
      const source = atlasOrigin(atlas, thumbs, m);
      context.drawImage(this.offscreen, source.x, source.y, thumbs.cols, thumbs.rows, x, y, layout.tile, layout.tile);
      context.strokeRect(x - 0.5, y - 0.5, layout.tile + 1, layout.tile + 1);
    }
    this.outline(context, this.selected, cssVar("--ml-accent") || "#f57c00", 3);
    if (!sameRef(this.hovered, this.selected)) this.outline(context, this.hovered, fg, 1.5);
  }

  private outline(context: CanvasRenderingContext2D, ref: MapRef | null, color: string, width: number): void {
    if (!ref || !this.layout) return;
    const [r, c] = gridPosition(this.layout, ref);
    const { x, y } = tileOrigin(this.layout, r, c);
    context.strokeStyle = color;
    context.lineWidth = width;
    context.strokeRect(
      x - width / 2 - 1,
      y - width / 2 - 1,
      this.layout.tile + width + 2,
      this.layout.tile + width + 2,
    );
  }

  private hover(x: number, y: number): void {
    const { data, layout } = this;
    if (!data || !layout) return;
    const ref = gridRefAt(layout, x, y);
    if (!sameRef(ref, this.hovered)) {
      this.hovered = ref;
      this.draw();
    }
    this.canvas.style.cursor = ref ? "pointer" : "";
    if (!ref) {
      this.tooltip.hide();
      return;
    }
    const { step, atlas } = data;
    const m = mapIndex(ref, step.layers, step.heads);
    const lines = [mapTitle(step, ref)];
    if (ref.layer !== "rollout" && ref.head !== "mean") {
      const scores = step.scores[ref.layer]?.[ref.head] ?? [];
      step.score_names.forEach((name, s) => lines.push(`${name}: ${formatScore(scores[s])}`));
    }
    lines.push(
      data.compare
        ? `difference against ${data.compare}; colour bound ± ${formatWeight(atlas.bounds[m] ?? NaN)}`
        : `largest thumbnail weight: ${formatWeight(data.thumbs.max[m] ?? NaN)}`,
      "click to enlarge",
    );
    this.tooltip.show(lines, x, y, 280);
  }
}
