// The graph canvas: camera (drag pans, wheel zooms about the pointer, buttons zoom about the
// centre, fit), hit testing, and frames drawn on requestAnimationFrame, device-pixel-ratio aware.
// State for tests and benchmarks sits on `canvas.dataset`: state ("layout" | "ready"), visible
// (nodes in the scene), drawn (in view), frameMs (the last frame), layoutMs, scale; and
// `canvas.locate(path)` gives a visible node's box in CSS pixels of the canvas.
import { cssVar } from "../../core/theme";
import { GROUP_HEADER } from "./geometry";
import type { Scene } from "./layout";
import type { Paint } from "./paint";
import { drawFrame, edgeBounds, type Camera, type RenderTheme } from "./render";
import type { GraphModel } from "./wire";

export interface Hit {
  node: number;
  slot: number;
  header: boolean; // on an open group's title bar
}

export interface LocatedBox {
  x: number;
  y: number;
  w: number;
  h: number;
  fill: string;
}

export interface GraphCanvasElement extends HTMLCanvasElement {
  locate?: (path: string) => LocatedBox | null;
}

const MIN_SCALE = 0.0002;
const MAX_SCALE = 4;

export class GraphCanvas {
  readonly canvas = document.createElement("canvas") as GraphCanvasElement;
  camera: Camera = { scale: 1, x: 0, y: 0 };
  selected = -1;
  current = -1;
  marks: Uint8Array | null = null;
  private hovered = -1;
  private model: GraphModel | null = null;
  private scene: Scene | null = null;
  private edgeBoxes: Float32Array = new Float32Array(0);
  private slot = new Int32Array(0);
  private paint: Paint | null = null;
  private theme: RenderTheme | null = null;
  private width = 800;
  private height = 600;
  private frame = 0;
  private drag: { x: number; y: number; cx: number; cy: number; moved: boolean } | null = null;

  constructor(
    private readonly onClick: (hit: Hit | null) => void,
    private readonly onHover: (hit: Hit | null, x: number, y: number) => void,
  ) {
    const c = this.canvas;
    c.setAttribute("aria-label", "model structure graph");
    c.setAttribute("role", "img");
    c.dataset.state = "empty";
    c.tabIndex = 0;
    c.addEventListener("wheel", (e) => this.wheel(e), { passive: false });
    c.addEventListener("pointerdown", (e) => {
      this.drag = { x: e.offsetX, y: e.offsetY, cx: this.camera.x, cy: this.camera.y, moved: false };
      c.setPointerCapture(e.pointerId);
    });
    c.addEventListener("pointermove", (e) => this.pointerMove(e));
    c.addEventListener("pointerup", (e) => {
      const drag = this.drag;
      this.drag = null;
      if (drag && !drag.moved) this.onClick(this.hitAt(e.offsetX, e.offsetY));
    });
    c.addEventListener("pointerleave", () => {
      if (this.hovered >= 0) {
        this.hovered = -1;
        this.requestDraw();
      }
      this.onHover(null, 0, 0);
    });
    c.locate = (path) => this.locate(path);
    this.readTheme();
  }

  get currentScene(): Scene | null {
    return this.scene;
  }

  readTheme(): void {
    const v = (name: string, fallback: string) => cssVar(name) || fallback;
    this.theme = {
      bg: v("--ml-bg", "#fff"),
      fg: v("--ml-fg", "#212121"),
      muted: v("--ml-muted", "#616161"),
      panel: v("--ml-panel", "#f5f5f5"),
      border: v("--ml-border", "#e0e0e0"),
      accent: v("--ml-accent", "#f57c00"),
      highlight: v("--ml-highlight", "#1565c0"),
    };
    this.requestDraw();
  }

  get colors(): RenderTheme {
    return this.theme!;
  }

  resize(width: number, height: number): void {
    this.width = Math.max(200, Math.floor(width));
    this.height = Math.max(200, Math.floor(height));
    const dpr = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(this.width * dpr);
    this.canvas.height = Math.round(this.height * dpr);
    this.canvas.style.width = `${this.width}px`;
    this.canvas.style.height = `${this.height}px`;
    this.requestDraw();
  }

  setState(state: "layout" | "ready" | "empty", layoutMs?: number): void {
    this.canvas.dataset.state = state;
    if (layoutMs !== undefined) this.canvas.dataset.layoutMs = layoutMs.toFixed(1);
  }

  /** A new scene; `anchor` (a node of both scenes) keeps its screen position, else `fit`. */
  setScene(model: GraphModel, scene: Scene, paint: Paint, anchor = -1): void {
    const before = anchor >= 0 ? this.screenBox(anchor) : null;
    this.model = model;
    this.scene = scene;
    this.paint = paint;
    this.edgeBoxes = edgeBounds(scene);
    this.slot = new Int32Array(model.size).fill(-1);
    scene.ids.forEach((id, k) => (this.slot[id] = k));
    this.canvas.dataset.visible = String(scene.ids.length);
    this.canvas.dataset.colorBy = paint.mode;
    this.canvas.dataset.edges = String(scene.edgeEnds.length / 2);
    const after = anchor >= 0 ? this.worldBox(anchor) : null;
    if (before && after) {
      this.camera.x = before.x - after[0] * this.camera.scale;
      this.camera.y = before.y - after[1] * this.camera.scale;
    }
    this.requestDraw();
  }

  setPaint(paint: Paint): void {
    this.paint = paint;
    this.canvas.dataset.colorBy = paint.mode;
    this.requestDraw();
  }

  fit(): void {
    const scene = this.scene;
    if (!scene) return;
    const scale = Math.min(1, (this.width - 20) / scene.width, (this.height - 20) / scene.height);
    this.camera.scale = Math.max(MIN_SCALE, scale);
    this.camera.x = (this.width - scene.width * this.camera.scale) / 2;
    this.camera.y = Math.max(10, (this.height - scene.height * this.camera.scale) / 2);
    this.requestDraw();
  }

  zoomBy(factor: number, cx = this.width / 2, cy = this.height / 2): void {
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.camera.scale * factor));
    const k = scale / this.camera.scale;
    this.camera.x = cx - (cx - this.camera.x) * k;
    this.camera.y = cy - (cy - this.camera.y) * k;
    this.camera.scale = scale;
    this.requestDraw();
  }

  /** Centres the view on a visible node, zooming in until its labels are readable. */
  centerOn(node: number): void {
    const box = this.worldBox(node);
    if (!box) return;
    const [x, y, w, h] = box;
    let scale = Math.max(this.camera.scale, 0.9);
    scale = Math.min(scale, (this.width - 40) / w, (this.height - 40) / h, MAX_SCALE);
    this.camera.scale = Math.max(MIN_SCALE, scale);
    this.camera.x = this.width / 2 - (x + w / 2) * this.camera.scale;
    this.camera.y = this.height / 2 - (y + h / 2) * this.camera.scale;
    this.requestDraw();
  }

  worldBox(node: number): [number, number, number, number] | null {
    const k = this.slot[node] ?? -1;
    if (!this.scene || k < 0) return null;
    return Array.from(this.scene.boxes.subarray(4 * k, 4 * k + 4)) as [number, number, number, number];
  }

  screenBox(node: number): { x: number; y: number; w: number; h: number } | null {
    const box = this.worldBox(node);
    if (!box) return null;
    const { scale, x, y } = this.camera;
    return { x: box[0] * scale + x, y: box[1] * scale + y, w: box[2] * scale, h: box[3] * scale };
  }

  requestDraw(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  draw(): void {
    const ctx = this.canvas.getContext("2d");
    if (!ctx || !this.theme) return;
    if (!this.scene || !this.model || !this.paint) {
      ctx.setTransform(1, 0, 0, 1, 0, 0);
      ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
      return;
    }
    const started = performance.now();
    const drawn = drawFrame(ctx, {
      model: this.model,
      scene: this.scene,
      edgeBoxes: this.edgeBoxes,
      paint: this.paint,
      theme: this.theme,
      camera: this.camera,
      width: this.width,
      height: this.height,
      dpr: window.devicePixelRatio || 1,
      selected: this.selected,
      hovered: this.hovered,
      current: this.current,
      marks: this.marks,
    });
    const ms = performance.now() - started;
    Object.assign(this.canvas.dataset, {
      drawn: String(drawn),
      frameMs: ms.toFixed(2),
      scale: this.camera.scale.toFixed(4),
    });
  }

  hitAt(x: number, y: number): Hit | null {
    const scene = this.scene;
    if (!scene) return null;
    const wx = (x - this.camera.x) / this.camera.scale;
    const wy = (y - this.camera.y) / this.camera.scale;
    const b = scene.boxes;
    // children come after their parents: the last box hit is the deepest
    for (let k = scene.ids.length - 1; k >= 0; k--) {
      const bx = b[4 * k];
      const by = b[4 * k + 1];
      if (wx < bx || wy < by || wx > bx + b[4 * k + 2] || wy > by + b[4 * k + 3]) continue;
      return { node: scene.ids[k], slot: k, header: scene.open[k] === 1 && wy <= by + GROUP_HEADER };
    }
    return null;
  }

  private locate(path: string): LocatedBox | null {
    const model = this.model;
    if (!model) return null;
    const node = model.paths.indexOf(path);
    const box = node >= 0 ? this.screenBox(node) : null;
    return box && { ...box, fill: this.paint?.fill[node] ?? "" };
  }

  private wheel(e: WheelEvent): void {
    e.preventDefault();
    const delta = e.deltaMode === 1 ? e.deltaY * 16 : e.deltaY;
    this.zoomBy(Math.exp(-delta * 0.0015), e.offsetX, e.offsetY);
  }

  private pointerMove(e: PointerEvent): void {
    const drag = this.drag;
    if (drag) {
      const dx = e.offsetX - drag.x;
      const dy = e.offsetY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 3) drag.moved = true;
      if (drag.moved) {
        this.camera.x = drag.cx + dx;
        this.camera.y = drag.cy + dy;
        this.requestDraw();
      }
      return;
    }
    const hit = this.hitAt(e.offsetX, e.offsetY);
    const node = hit?.node ?? -1;
    if (node !== this.hovered) {
      this.hovered = node;
      this.requestDraw();
    }
    this.onHover(hit, e.offsetX, e.offsetY);
  }
}
