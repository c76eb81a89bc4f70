// Box sizes and the text on them, shared by the layout (which needs the collapsed sizes before
// anything is drawn) and the renderer. Widths are estimated from character counts, so the worker
// and node tests need no canvas; the renderer truncates whatever does not fit.
import {
  INPUT,
  OP,
  OUTPUT,
  ROOT,
  SECTION,
  formatCount,
  formatExact,
  isGroup,
  nodeName,
  nodeType,
  outputLabel,
  totalParams,
  type GraphModel,
} from "./wire";

export const FONT = "sans-serif";
export const NAME_PX = 12;
export const TEXT_PX = 11;
export const SMALL_PX = 10;
export const MODULE_H = 52;
export const OP_H = 24;
export const IO_H = 38;
export const MIN_W = 96;
export const MAX_W = 280;
export const GROUP_PAD = 12; // around an expanded group's children
export const GROUP_HEADER = 28; // an expanded group's title bar
export const ROOT_PAD = 24;
const CHAR_W = 6.9; // average width of a 12 px sans-serif character, generous

export interface BoxText {
  title: string; // bold first line
  lines: string[]; // smaller lines below
  badge: string; // "×24 identical", drawn top right
}

export function boxText(model: GraphModel, i: number): BoxText {
  const kind = model.kind[i];
  const badge = model.identical[i] >= 2 ? `×${model.identical[i]} identical` : "";
  if (kind === OP) return { title: nodeType(model, i), lines: [], badge };
  if (kind === INPUT || kind === OUTPUT) {
    return { title: nodeName(model, i), lines: [outputLabel(model, i) || outputLabel(model, i, "inputs")], badge };
  }
  if (kind === SECTION) {
    const s = model.sections.get(i)!;
    const span = `${nodeName(model, s.first)} … ${nodeName(model, s.last)}`;
    return { title: nodeName(model, i), lines: [`${formatExact(s.members)} nodes`, span], badge };
  }
  const params = totalParams(model, i);
  const typeLine = params > 0 ? `${nodeType(model, i)} · ${formatCount(params)}` : nodeType(model, i);
  return { title: nodeName(model, i), lines: [typeLine, outputLabel(model, i)], badge };
}

/** The collapsed box of every display node: widths and heights, CSS pixels at zoom 1. */
export function collapsedSizes(model: GraphModel): Float32Array {
  const sizes = new Float32Array(model.size * 2);
  for (let i = 0; i < model.size; i++) {
    const [w, h] = collapsedSize(model, i);
    sizes[2 * i] = w;
    sizes[2 * i + 1] = h;
  }
  return sizes;
}

export function collapsedSize(model: GraphModel, i: number): [number, number] {
  const kind = model.kind[i];
  if (kind === ROOT) return [0, 0];
  const text = boxText(model, i);
  const marker = isGroup(model, i) ? 3 : 0; // the "+" before a group's name
  const chars = Math.max(text.title.length + marker, ...text.lines.map((l) => l.length * 0.92));
  const badge = text.badge ? text.badge.length * 0.8 + 1 : 0;
  if (kind === OP) return [clamp(20 + (chars + badge) * CHAR_W * 0.92, 44, 200), OP_H];
  const io = kind === INPUT || kind === OUTPUT;
  const w = clamp((io ? 34 : 18) + (chars + badge) * CHAR_W, MIN_W, MAX_W);
  return [w, io ? IO_H : MODULE_H];
}

function clamp(v: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, Math.round(v)));
}

/** The width an open group needs for its title bar ("− name  type · params  ×k identical"). */
export function openWidths(model: GraphModel): Float32Array {
  const widths = new Float32Array(model.size);
  for (let i = 0; i < model.size; i++) {
    if (!isGroup(model, i)) continue;
    const text = boxText(model, i);
    const chars = text.title.length + 3 + (text.lines[0]?.length ?? 0) * 0.92 + text.badge.length * 0.8;
    widths[i] = Math.round(40 + chars * CHAR_W);
  }
  return widths;
}
