// Draws a scene on a 2D canvas: only what lies in the viewport (culling), boxes batched into one
// path per colour, edges into one path, and labels only where they are readable (level of
// detail). Open groups first (nested backgrounds), then edges, then the collapsed boxes on top.
import { boxText, FONT, GROUP_HEADER, NAME_PX, SMALL_PX, TEXT_PX, type BoxText } from "./geometry";
import type { Scene } from "./layout";
import type { Paint, Theme } from "./paint";
import { formatShape, INPUT, isGroup, OP, OUTPUT, type GraphModel } from "./wire";

export interface Camera {
  scale: number; // screen pixels per layout pixel
  x: number; // screen position of the layout origin, CSS pixels
  y: number;
}

export interface RenderTheme extends Theme {
  accent: string;
  highlight: string;
}

export interface Frame {
  model: GraphModel;
  scene: Scene;
  edgeBoxes: Float32Array; // per edge: min x, min y, max x, max y
  paint: Paint;
  theme: RenderTheme;
  camera: Camera;
  width: number; // CSS pixels
  height: number;
  dpr: number;
  selected: number; // display ids, -1 for none
  hovered: number;
  current: number; // the search match shown
  marks: Uint8Array | null; // search: 1 match, 2 holds a match
}

export const LABEL_SCALE = 0.4; // below this, no text at all
const DETAIL_SCALE = 0.62; // second and third lines
const EDGE_LABEL_SCALE = 0.8;
const ARROW_SCALE = 0.3;
const ROUND_SCALE = 0.25;

const textCache = new Map<number, BoxText>();
let textModel: GraphModel | null = null;

export function textOf(model: GraphModel, i: number): BoxText {
  if (textModel !== model) {
    textCache.clear();
    textModel = model;
  }
  let text = textCache.get(i);
  if (!text) textCache.set(i, (text = boxText(model, i)));
  return text;
}

/** Per edge, the bounding box of its route, for culling. */
export function edgeBounds(scene: Scene): Float32Array {
  const m = scene.pointStart.length - 1;
  const out = new Float32Array(4 * m);
  for (let e = 0; e < m; e++) {
    let x0 = Infinity;
    let y0 = Infinity;
    let x1 = -Infinity;
    let y1 = -Infinity;
    for (let p = scene.pointStart[e]; p < scene.pointStart[e + 1]; p++) {
      const x = scene.points[2 * p];
      const y = scene.points[2 * p + 1];
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
    out.set([x0, y0, x1, y1], 4 * e);
  }
  return out;
}

/** Draws the frame; returns how many nodes were in view. */
export function drawFrame(ctx: CanvasRenderingContext2D, f: Frame): number {
  const { scene, camera, theme, paint, model } = f;
  const s = camera.scale;
  ctx.setTransform(f.dpr, 0, 0, f.dpr, 0, 0);
  ctx.fillStyle = theme.bg;
  ctx.fillRect(0, 0, f.width, f.height);
  ctx.setTransform(f.dpr * s, 0, 0, f.dpr * s, f.dpr * camera.x, f.dpr * camera.y);
  const vx0 = -camera.x / s;
  const vy0 = -camera.y / s;
  const vx1 = vx0 + f.width / s;
  const vy1 = vy0 + f.height / s;
  const px = 1 / s; // one screen pixel in layout units
  const { boxes, ids, open } = scene;
  const inView: number[] = []; // slots of collapsed nodes in view
  const openInView: number[] = [];
  for (let k = 0; k < ids.length; k++) {
    const x = boxes[4 * k];
    const y = boxes[4 * k + 1];
    if (x > vx1 || y > vy1 || x + boxes[4 * k + 2] < vx0 || y + boxes[4 * k + 3] < vy0) continue;
    (open[k] ? openInView : inView).push(k);
  }
  const labels = s >= LABEL_SCALE;

  // open groups: tinted background, border, title bar
  for (const k of openInView) {
    const i = ids[k];
    const [x, y, w, h] = boxes.subarray(4 * k, 4 * k + 4);
    ctx.globalAlpha = 0.22;
    ctx.fillStyle = paint.fill[i];
    ctx.fillRect(x, y, w, h);
    ctx.globalAlpha = 1;
    ctx.fillStyle = paint.fill[i];
    ctx.fillRect(x, y, w, Math.min(h, GROUP_HEADER));
    ctx.lineWidth = px;
    ctx.strokeStyle = theme.border;
    ctx.setLineDash(paint.greyed[i] ? [4 * px, 3 * px] : []);
    ctx.strokeRect(x, y, w, h);
  }
  ctx.setLineDash([]);

  // edges: one path, then arrowheads
  const edges = scene.pointStart.length - 1;
  const eb = f.edgeBoxes;
  const visibleEdges: number[] = [];
  ctx.beginPath();
  for (let e = 0; e < edges; e++) {
    if (eb[4 * e] > vx1 || eb[4 * e + 1] > vy1 || eb[4 * e + 2] < vx0 || eb[4 * e + 3] < vy0) continue;
    visibleEdges.push(e);
    const p0 = scene.pointStart[e];
    ctx.moveTo(scene.points[2 * p0], scene.points[2 * p0 + 1]);
    for (let p = p0 + 1; p < scene.pointStart[e + 1]; p++) ctx.lineTo(scene.points[2 * p], scene.points[2 * p + 1]);
  }
  ctx.lineWidth = Math.max(px, 1.1);
  ctx.strokeStyle = theme.muted;
  ctx.globalAlpha = 0.8;
  ctx.stroke();
  if (s >= ARROW_SCALE) {
    ctx.beginPath();
    for (const e of visibleEdges) arrowHead(ctx, scene, e);
    ctx.fillStyle = theme.muted;
    ctx.fill();
  }
  ctx.globalAlpha = 1;
  const touching = f.selected >= 0 ? selectedEdges(scene, visibleEdges, f.selected) : [];
  if (touching.length) {
    ctx.beginPath();
    for (const e of touching) {
      const p0 = scene.pointStart[e];
      ctx.moveTo(scene.points[2 * p0], scene.points[2 * p0 + 1]);
      for (let p = p0 + 1; p < scene.pointStart[e + 1]; p++) ctx.lineTo(scene.points[2 * p], scene.points[2 * p + 1]);
    }
    ctx.lineWidth = Math.max(2 * px, 2);
    ctx.strokeStyle = theme.accent;
    ctx.stroke();
  }

  // collapsed boxes, one path per fill colour
  const round = s >= ROUND_SCALE;
  const byFill = new Map<string, number[]>();
  for (const k of inView) {
    const fill = paint.fill[ids[k]];
    let list = byFill.get(fill);
    if (!list) byFill.set(fill, (list = []));
    list.push(k);
  }
  for (const [fill, list] of byFill) {
    ctx.beginPath();
    for (const k of list) shapePath(ctx, model, ids[k], boxes, k, round);
    ctx.fillStyle = fill;
    ctx.fill();
  }
  if (s * 40 >= 6) {
    ctx.beginPath();
    const dashed: number[] = [];
    for (const k of inView) {
      if (paint.greyed[ids[k]]) dashed.push(k);
      else shapePath(ctx, model, ids[k], boxes, k, round);
    }
    ctx.lineWidth = px;
    ctx.strokeStyle = theme.border;
    ctx.stroke();
    if (dashed.length) {
      ctx.beginPath();
      for (const k of dashed) shapePath(ctx, model, ids[k], boxes, k, round);
      ctx.setLineDash([4 * px, 3 * px]);
      ctx.strokeStyle = theme.muted;
      ctx.stroke();
      ctx.setLineDash([]);
    }
  }

  // outlines: NaN/Inf first appearances, search marks, selection, hover
  const outline = (k: number, color: string, width: number, dash: number[] = []) => {
    ctx.beginPath();
    const [x, y, w, h] = boxes.subarray(4 * k, 4 * k + 4);
    const d = width * px * 0.5;
    ctx.rect(x - d, y - d, w + 2 * d, h + 2 * d);
    ctx.lineWidth = width * px;
    ctx.strokeStyle = color;
    ctx.setLineDash(dash.map((v) => v * px));
    ctx.stroke();
    ctx.setLineDash([]);
  };
  const all = [...openInView, ...inView];
  for (const k of all) if (paint.emphasis[ids[k]]) outline(k, "#b71c1c", 3);
  if (f.marks) {
    for (const k of all) {
      const mark = f.marks[ids[k]];
      if (mark === 1) outline(k, theme.highlight, 2.5);
      else if (mark === 2 && !open[k]) outline(k, theme.highlight, 2, [4, 3]);
    }
  }
  for (const k of all) {
    const i = ids[k];
    if (i === f.current && i !== f.selected) outline(k, theme.highlight, 4);
    if (i === f.selected) outline(k, theme.accent, 3);
    if (i === f.hovered && i !== f.selected) outline(k, theme.accent, 1.5);
  }

  if (labels) {
    drawLabels(ctx, f, inView, openInView, s);
    if (s >= EDGE_LABEL_SCALE) drawEdgeLabels(ctx, f, visibleEdges);
  }
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  return inView.length + openInView.length;
}

function selectedEdges(scene: Scene, visible: number[], node: number): number[] {
  return visible.filter((e) => scene.edgeEnds[2 * e] === node || scene.edgeEnds[2 * e + 1] === node);
}

function shapePath(
  ctx: CanvasRenderingContext2D,
  model: GraphModel,
  i: number,
  boxes: Float32Array,
  k: number,
  round: boolean,
): void {
  const x = boxes[4 * k];
  const y = boxes[4 * k + 1];
  const w = boxes[4 * k + 2];
  const h = boxes[4 * k + 3];
  const kind = model.kind[i];
  if (!round) {
    ctx.rect(x, y, w, h);
  } else if (kind === OP) {
    ctx.roundRect(x, y, w, h, h / 2);
  } else if (kind === INPUT || kind === OUTPUT) {
    const slant = 8; // a parallelogram, leaning like a data symbol
    ctx.moveTo(x + slant, y);
    ctx.lineTo(x + w, y);
    ctx.lineTo(x + w - slant, y + h);
    ctx.lineTo(x, y + h);
    ctx.closePath();
  } else {
    ctx.roundRect(x, y, w, h, 4);
  }
}

function arrowHead(ctx: CanvasRenderingContext2D, scene: Scene, e: number): void {
  const last = scene.pointStart[e + 1] - 1;
  if (last <= scene.pointStart[e]) return;
  const x = scene.points[2 * last];
  const y = scene.points[2 * last + 1];
  const dx = x - scene.points[2 * last - 2];
  const dy = y - scene.points[2 * last - 1];
  const len = Math.hypot(dx, dy) || 1;
  const ux = dx / len;
  const uy = dy / len;
  const size = 6;
  ctx.moveTo(x, y);
  ctx.lineTo(x - ux * size - uy * size * 0.5, y - uy * size + ux * size * 0.5);
  ctx.lineTo(x - ux * size + uy * size * 0.5, y - uy * size - ux * size * 0.5);
  ctx.closePath();
}

const fitCache = new Map<string, string>();

/** `text` cut with an ellipsis to `width` in the current font. */
function fit(ctx: CanvasRenderingContext2D, text: string, width: number): string {
  const key = `${ctx.font}|${width | 0}|${text}`;
  let out = fitCache.get(key);
  if (out !== undefined) return out;
  out = text;
  if (ctx.measureText(text).width > width) {
    let lo = 0;
    let hi = text.length;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (ctx.measureText(`${text.slice(0, mid)}…`).width <= width) lo = mid;
      else hi = mid - 1;
    }
    out = `${text.slice(0, lo)}…`;
  }
  if (fitCache.size > 20000) fitCache.clear();
  fitCache.set(key, out);
  return out;
}

function drawLabels(ctx: CanvasRenderingContext2D, f: Frame, inView: number[], openInView: number[], s: number): void {
  const { scene, model, paint } = f;
  const { boxes, ids } = scene;
  const detail = s >= DETAIL_SCALE;
  ctx.textBaseline = "middle";
  ctx.textAlign = "left";
  const badge = (text: BoxText, x: number, y: number, w: number, color: string) => {
    if (!text.badge || !detail) return 0;
    ctx.font = `${SMALL_PX}px ${FONT}`;
    const bw = ctx.measureText(text.badge).width;
    ctx.fillStyle = color;
    ctx.fillText(text.badge, x + w - bw - 6, y);
    return bw + 8;
  };
  for (const k of openInView) {
    const i = ids[k];
    const [x, y, w] = boxes.subarray(4 * k, 4 * k + 3);
    const text = textOf(model, i);
    const cy = y + GROUP_HEADER / 2;
    const room = w - 16 - badge(text, x, cy, w, paint.text[i]);
    ctx.font = `bold ${NAME_PX}px ${FONT}`;
    ctx.fillStyle = paint.text[i];
    const title = `− ${text.title}`;
    ctx.fillText(fit(ctx, title, room), x + 8, cy);
    if (detail && text.lines[0]) {
      const used = Math.min(room, ctx.measureText(title).width) + 14;
      ctx.font = `${TEXT_PX}px ${FONT}`;
      if (room - used > 30) ctx.fillText(fit(ctx, text.lines[0], room - used), x + 8 + used, cy);
    }
  }
  for (const k of inView) {
    const i = ids[k];
    const [x, y, w, h] = boxes.subarray(4 * k, 4 * k + 4);
    const text = textOf(model, i);
    const kind = model.kind[i];
    ctx.fillStyle = paint.text[i];
    if (kind === OP) {
      ctx.font = `${TEXT_PX}px ${FONT}`;
      ctx.textAlign = "center";
      ctx.fillText(fit(ctx, text.title, w - 12), x + w / 2, y + h / 2);
      ctx.textAlign = "left";
      continue;
    }
    const lines = detail ? text.lines.filter(Boolean) : [];
    const group = isGroup(model, i);
    const inset = kind === INPUT || kind === OUTPUT ? 12 : 8;
    const titleY = lines.length ? y + 14 : y + h / 2;
    const room = w - 2 * inset - badge(text, x, titleY, w, paint.text[i]);
    ctx.font = `bold ${NAME_PX}px ${FONT}`;
    ctx.fillStyle = paint.text[i];
    ctx.fillText(fit(ctx, group ? `+ ${text.title}` : text.title, room), x + inset, titleY);
    ctx.font = `${TEXT_PX}px ${FONT}`;
    lines.forEach((line, n) => {
      ctx.globalAlpha = n ? 0.8 : 1;
      ctx.fillText(fit(ctx, line, w - 2 * inset), x + inset, titleY + 14 * (n + 1));
    });
    ctx.globalAlpha = 1;
  }
}

function drawEdgeLabels(ctx: CanvasRenderingContext2D, f: Frame, visibleEdges: number[]): void {
  const { scene, theme, model } = f;
  ctx.font = `${SMALL_PX}px ${FONT}`;
  ctx.fillStyle = theme.muted;
  ctx.textAlign = "left";
  ctx.textBaseline = "middle";
  for (const e of visibleEdges) {
    const shape = scene.edgeShapes[e];
    if (shape < 0) continue;
    const p0 = scene.pointStart[e];
    const p1 = scene.pointStart[e + 1];
    if (p1 - p0 < 2) continue;
    // beside the middle of the route, between the ranks
    const mid = p0 + ((p1 - p0) >> 1);
    const a = mid - 1;
    const x = (scene.points[2 * a] + scene.points[2 * mid]) / 2;
    const y = (scene.points[2 * a + 1] + scene.points[2 * mid + 1]) / 2;
    ctx.fillText(formatShape(model.wire, shape, true), x + 4, y);
  }
}
