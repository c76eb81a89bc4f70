// Pure data shaping for the Attention view: no DOM, unit-tested under node. Tokens are the most
// hostile strings the product shows: `visibleToken` makes whitespace and invisible characters
// visible, `isolate` keeps right-to-left text from reordering what surrounds it.
import type { ColorScale } from "../../core/colors";
import type { AttentionMap, Thumbnails } from "./wire";

export interface SeriesPoint {
  step: number;
  wall_time: number;
  layers: number;
  heads: number;
  queries: number;
  keys: number;
}

export interface StepData {
  step: number;
  wall_time: number;
  layers: number;
  heads: number;
  queries: number;
  keys: number;
  tokens: string[];
  query_tokens: string[];
  self_attention: boolean;
  layer_names: string[];
  rows: number;
  cols: number;
  row_block: number;
  col_block: number;
  top_k: number;
  quantization: string;
  max_error: number;
  score_names: string[];
  scores: Array<Array<Array<number | null>>>; // [layer][head][score]
  rollout: boolean;
  rollout_exact: boolean; // false: multiplied per block (over 2,048 tokens)
  thumbnail: { rows: number; cols: number };
}

/** One map of a step: a layer's head, its head mean, or the rollout. */
export interface MapRef {
  layer: number | "rollout";
  head: number | "mean";
}

export const ROLLOUT: MapRef = { layer: "rollout", head: "mean" };

export function sameRef(a: MapRef | null, b: MapRef | null): boolean {
  return !!a && !!b && a.layer === b.layer && (a.layer === "rollout" || a.head === b.head);
}

/** The map's index in the step's map order: per layer its heads then the head mean; the rollout
 * after all layers. */
export function mapIndex(ref: MapRef, layers: number, heads: number): number {
  if (ref.layer === "rollout") return layers * (heads + 1);
  return ref.layer * (heads + 1) + (ref.head === "mean" ? heads : ref.head);
}

/** The `layer` and `head` parameters of `attention/map`. */
export function mapParams(ref: MapRef): { layer: string; head: string } {
  return ref.layer === "rollout"
    ? { layer: "rollout", head: "mean" }
    : { layer: String(ref.layer), head: String(ref.head) };
}

/** "encoder.0 · head 3", "encoder.0 · head mean", "rollout"; layer names made visible. */
export function mapTitle(step: Pick<StepData, "layer_names">, ref: MapRef): string {
  if (ref.layer === "rollout") return "rollout (all layers)";
  const name = isolate(visibleName(step.layer_names[ref.layer] ?? `layer ${ref.layer}`));
  return `${name} · ${ref.head === "mean" ? "head mean" : `head ${ref.head}`}`;
}

/** Whether the step has this map. */
export function hasMap(step: Pick<StepData, "layers" | "heads" | "rollout">, ref: MapRef): boolean {
  if (ref.layer === "rollout") return step.rollout;
  return ref.layer < step.layers && (ref.head === "mean" || ref.head < step.heads);
}

// --- tokens as text ---

const NAMED: Record<string, string> = { " ": "␣", "\n": "⏎", "\t": "⇥", "\r": "␍" };
// control, format (zero-width, bidi controls), separators (NBSP, U+2028 …), private use
const INVISIBLE = /^[\p{Cc}\p{Cf}\p{Z}\p{Co}]$/u;
// letters and symbols that draw nothing: Hangul fillers, braille blank, combining grapheme joiner
const BLANK = new Set([0x115f, 0x1160, 0x3164, 0xffa0, 0x2800, 0x034f]);

function codePoint(cp: number): string {
  return `⟨U+${cp.toString(16).toUpperCase().padStart(4, "0")}⟩`;
}

/** A token as visible text: space → "␣", "\n" → "⏎", tab → "⇥", "\r" → "␍", every other
 * invisible character (zero-width, bidi controls, NBSP, control characters, lone surrogates)
 * → "⟨U+200B⟩", empty → "∅"; a leading combining mark gets a dotted circle. Emoji sequences
 * (zero-width joiners and tag characters between pictographs) stay as they are. */
export function visibleToken(text: string): string {
  if (text === "") return "∅";
  const chars = Array.from(text);
  const pictographic = /\p{Extended_Pictographic}/u.test(text);
  let out = "";
  chars.forEach((c, k) => {
    const named = NAMED[c];
    if (named !== undefined) {
      out += named;
      return;
    }
    const cp = c.codePointAt(0)!;
    const emojiJoiner = cp === 0x200d && pictographic && k > 0 && k < chars.length - 1;
    const emojiTag = cp >= 0xe0020 && cp <= 0xe007f && pictographic;
    if (emojiJoiner || emojiTag) out += c;
    else if ((cp >= 0xd800 && cp <= 0xdfff) || BLANK.has(cp) || INVISIBLE.test(c)) out += codePoint(cp);
    else out += c;
  });
  return /^\p{M}/u.test(out) ? `◌${out}` : out;
}

/** A name (layer, run) as visible text: like `visibleToken`, but single inner spaces stay
 * spaces ("layer 0"); leading, trailing and repeated spaces are still shown. */
export function visibleName(text: string): string {
  return text
    .split(/(?<=\S) (?=\S)/u)
    .map((part) => visibleToken(part))
    .join(" ");
}

/** Text wrapped in first-strong isolates, so right-to-left tokens do not reorder their
 * surroundings (for canvas text and tooltips; DOM labels use `unicode-bidi: isolate`). */
export function isolate(text: string): string {
  return `\u2068${text}\u2069`;
}

/** A token ready to draw: visible and isolated. */
export function tokenText(text: string): string {
  return isolate(visibleToken(text));
}

/** The original token range [first, last] of stored row/column `i` in blocks of `block`. */
export function blockRange(i: number, block: number, total: number): [number, number] {
  return [i * block, Math.min(total, (i + 1) * block) - 1];
}

/** Labels of a map's stored rows or columns: the token, or per block its token range. */
export function axisLabels(tokens: string[], block: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    if (block <= 1) return tokenText(tokens[i] ?? "");
    const [a, b] = blockRange(i, block, tokens.length);
    return `${a}–${b} ${tokenText(tokens[a] ?? "")}…${tokenText(tokens[b] ?? "")}`;
  });
}

/** "#12 ⁨token⁩": a token with its index, for lists. */
export function indexedToken(tokens: string[], i: number): string {
  return `#${i} ${tokenText(tokens[i] ?? "")}`;
}

// --- numbers ---

/** A weight with 6 significant digits, no trailing zeros. */
export function formatWeight(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  if (value === 0) return "0";
  return String(Number(value.toPrecision(6)));
}

export function formatSigned(value: number): string {
  return `${value >= 0 ? "+" : ""}${formatWeight(value)}`;
}

export function formatScore(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? "–" : value.toFixed(3);
}

// --- colours ---

/** 0 … `max` onto 0..255 (a map's weights). */
export function weightScale(max: number): ColorScale {
  const top = max > 0 ? max : 1;
  return {
    kind: "linear",
    low: 0,
    high: max,
    index: (v) => (Number.isNaN(v) ? -1 : Math.round(Math.min(1, Math.max(0, v / top)) * 255)),
  };
}

/** −`bound` … +`bound` around zero (a difference). */
export function differenceScale(bound: number): ColorScale {
  const b = bound > 0 ? bound : 1;
  return {
    kind: "diverging",
    low: -bound,
    high: bound,
    index: (v) => (Number.isNaN(v) ? -1 : Math.round(((Math.min(b, Math.max(-b, v)) / b + 1) / 2) * 255)),
  };
}

export function maxAbs(values: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < values.length; k++) if (Math.abs(values[k]) > m) m = Math.abs(values[k]);
  return m;
}

/** current − reference. */
export function difference(current: Float32Array, reference: Float32Array): Float32Array {
  const out = new Float32Array(current.length);
  for (let k = 0; k < current.length; k++) out[k] = current[k] - reference[k];
  return out;
}

/** One RGBA pixel per value through a 256-entry table (packed Uint32 pixels); NaN → `noData`. */
export function valuePixels(
  values: ArrayLike<number>,
  scale: ColorScale,
  table: Uint32Array,
  noData = 0,
): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(values.length * 4);
  const pixels = new Uint32Array(rgba.buffer);
  for (let k = 0; k < values.length; k++) {
    const i = scale.index(values[k]);
    pixels[k] = i < 0 ? noData : table[i];
  }
  return rgba;
}

/** Why two maps cannot be subtracted cell by cell, or null when they can. */
export function mismatch(a: AttentionMap | Thumbnails, b: AttentionMap | Thumbnails): string | null {
  if (a.rows !== b.rows || a.cols !== b.cols) return `${a.rows} × ${a.cols} against ${b.rows} × ${b.cols} cells`;
  if ("count" in a && "count" in b && a.count !== b.count) return `${a.count} maps against ${b.count}`;
  if ("queries" in a && "queries" in b && (a.queries !== b.queries || a.keys !== b.keys)) {
    return `${a.queries} × ${a.keys} tokens against ${b.queries} × ${b.keys}`;
  }
  return null;
}

// --- the grid of thumbnails ---

export type GridScale = "own" | "shared";

export interface Atlas {
  rgba: Uint8ClampedArray; // width * height * 4
  width: number;
  height: number;
  perRow: number; // maps per atlas row
  bounds: Float64Array; // per map: the value at the top of its colour scale
  diverging: boolean;
}

/** Where map `m` sits in the atlas, in atlas pixels. */
export function atlasOrigin(atlas: Pick<Atlas, "perRow">, thumbs: Pick<Thumbnails, "rows" | "cols">, m: number) {
  return { x: (m % atlas.perRow) * thumbs.cols, y: Math.floor(m / atlas.perRow) * thumbs.rows };
}

/** Every thumbnail coloured into one atlas image (maps side by side, ⌈√count⌉ per row): each
 * map on its own 0 … max scale or one shared scale; with a reference, the difference on a
 * diverging scale centred at 0. */
export function thumbnailAtlas(
  thumbs: Thumbnails,
  scale: GridScale,
  tables: { weights: Uint32Array; diverging: Uint32Array },
  reference: Thumbnails | null = null,
): Atlas {
  const { count, rows, cols } = thumbs;
  const perRow = Math.max(1, Math.ceil(Math.sqrt(count)));
  const width = perRow * cols;
  const height = Math.max(1, Math.ceil(count / perRow)) * rows;
  const rgba = new Uint8ClampedArray(width * height * 4);
  const pixels = new Uint32Array(rgba.buffer);
  const size = rows * cols;
  const bounds = new Float64Array(count);
  const diverging = reference !== null;
  const shared = (per: Float64Array) => per.reduce((a, b) => Math.max(a, b), 0);
  // per-map values and bounds first: a shared scale needs all of them
  const perMap: Float64Array[] = [];
  for (let m = 0; m < count; m++) {
    const out = new Float64Array(size);
    const s = thumbs.max[m] / 255;
    const r = reference ? reference.max[m] / 255 : 0;
    let bound = 0;
    for (let k = 0; k < size; k++) {
      const v = thumbs.values[m * size + k] * s - (reference ? reference.values[m * size + k] * r : 0);
      out[k] = v;
      if (Math.abs(v) > bound) bound = Math.abs(v);
    }
    bounds[m] = diverging ? bound : thumbs.max[m];
    perMap.push(out);
  }
  if (scale === "shared") bounds.fill(shared(bounds));
  for (let m = 0; m < count; m++) {
    const values = perMap[m];
    const b = bounds[m] > 0 ? bounds[m] : 1;
    const { x, y } = atlasOrigin({ perRow }, thumbs, m);
    for (let i = 0; i < rows; i++) {
      for (let j = 0; j < cols; j++) {
        const v = values[i * cols + j];
        const index = diverging
          ? Math.round(((Math.max(-b, Math.min(b, v)) / b + 1) / 2) * 255)
          : Math.round(Math.min(1, Math.max(0, v / b)) * 255);
        pixels[(y + i) * width + x + j] = (diverging ? tables.diverging : tables.weights)[index];
      }
    }
  }
  return { rgba, width, height, perRow, bounds, diverging };
}

/** One thumbnail's RGBA pixels, cut from the atlas (for the SVG export). */
export function atlasTile(atlas: Atlas, thumbs: Pick<Thumbnails, "rows" | "cols">, m: number): Uint8ClampedArray {
  const { x, y } = atlasOrigin(atlas, thumbs, m);
  const out = new Uint8ClampedArray(thumbs.rows * thumbs.cols * 4);
  for (let i = 0; i < thumbs.rows; i++) {
    const start = ((y + i) * atlas.width + x) * 4;
    out.set(atlas.rgba.subarray(start, start + thumbs.cols * 4), i * thumbs.cols * 4);
  }
  return out;
}

export interface GridLayout {
  left: number; // room for layer names, CSS pixels
  top: number; // room for head numbers
  tile: number;
  gap: number;
  columns: number; // heads + the head mean
  rows: number; // layers (+ the rollout)
  layers: number;
  heads: number;
  rollout: boolean;
  width: number;
  height: number;
}

/** Tiles as large as fit `available` CSS pixels (18 … 96 px). */
export function gridLayout(layers: number, heads: number, rollout: boolean, available: number): GridLayout {
  const left = 130;
  const top = 34;
  const columns = heads + 1;
  const rows = layers + (rollout ? 1 : 0);
  const gap = 4;
  const tile = Math.max(18, Math.min(96, Math.floor((available - left - 8) / columns) - gap));
  return {
    left,
    top,
    tile,
    gap,
    columns,
    rows,
    layers,
    heads,
    rollout,
    width: left + columns * (tile + gap) + 8,
    height: top + rows * (tile + gap) + 8,
  };
}

/** A map's grid position: its layer's row and head's column; the rollout in the last row, first column. */
export function gridPosition(layout: GridLayout, ref: MapRef): [number, number] {
  if (ref.layer === "rollout") return [layout.layers, 0];
  return [ref.layer, ref.head === "mean" ? layout.heads : ref.head];
}

export function tileOrigin(layout: GridLayout, row: number, column: number): { x: number; y: number } {
  return { x: layout.left + column * (layout.tile + layout.gap), y: layout.top + row * (layout.tile + layout.gap) };
}

/** The map under a point (CSS pixels of the grid canvas), or null between tiles. */
export function gridRefAt(layout: GridLayout, x: number, y: number): MapRef | null {
  const pitch = layout.tile + layout.gap;
  const column = Math.floor((x - layout.left) / pitch);
  const row = Math.floor((y - layout.top) / pitch);
  if (x < layout.left || y < layout.top || column >= layout.columns || row >= layout.rows) return null;
  if ((x - layout.left) % pitch > layout.tile || (y - layout.top) % pitch > layout.tile) return null;
  if (row === layout.layers) return column === 0 && layout.rollout ? ROLLOUT : null;
  return { layer: row, head: column === layout.heads ? "mean" : column };
}

// --- head scores ---

export interface ScoreRow {
  layer: number;
  head: number;
  layerName: string;
  values: Array<number | null>; // in score_names order
}

/** Every head's scores, sorted by `key` ("head": by layer then head, else a score name); null
 * scores sink to the bottom either way. */
export function scoreRows(step: StepData, key: string, descending: boolean): ScoreRow[] {
  const rows: ScoreRow[] = [];
  for (let l = 0; l < step.layers; l++) {
    for (let h = 0; h < step.heads; h++) {
      const values = step.score_names.map((_, s) => {
        const v = step.scores[l]?.[h]?.[s];
        return typeof v === "number" && Number.isFinite(v) ? v : null;
      });
      rows.push({ layer: l, head: h, layerName: step.layer_names[l] ?? `layer ${l}`, values });
    }
  }
  const s = step.score_names.indexOf(key);
  const order = (a: ScoreRow, b: ScoreRow) => a.layer - b.layer || a.head - b.head;
  if (key === "head") rows.sort((a, b) => a.head - b.head || a.layer - b.layer);
  if (s < 0) return descending ? rows.reverse() : rows;
  const sign = descending ? -1 : 1;
  return rows.sort((a, b) => {
    const x = a.values[s];
    const y = b.values[s];
    if (x === null && y === null) return order(a, b);
    if (x === null) return 1;
    if (y === null) return -1;
    return sign * (x - y) || order(a, b);
  });
}

export const SCORE_LABELS: Record<string, string> = {
  entropy: "entropy",
  previous: "prev.",
  first: "first",
  self: "self",
  separator: "sep.",
};

/** What each score is, for the headers' tooltips. */
export const SCORE_HELP: Record<string, string> = {
  entropy: "entropy of the attention rows, in nats (low: a focused head)",
  previous: "mean attention to the previous token",
  first: "mean attention to the first token",
  self: "mean attention to the token itself (the diagonal)",
  separator: "mean attention to separator tokens ([SEP], </s>)",
};

// --- the enlarged map ---

export interface CellContext {
  map: AttentionMap;
  queryTokens: string[];
  keyTokens: string[];
  title: string;
  values: Float32Array; // dequantized, row major
  reference: { label: string; values: Float32Array } | null;
}

/** The tooltip of stored cell (i, j): query and key token (or token ranges), the stored weight
 * and its row's quantization bound, and against a reference its value and the difference. */
export function cellLines(context: CellContext, i: number, j: number): string[] {
  const { map } = context;
  const lines = [context.title];
  const blocked = map.rowBlock > 1 || map.colBlock > 1;
  const [qa, qb] = blockRange(i, map.rowBlock, map.queries);
  const [ka, kb] = blockRange(j, map.colBlock, map.keys);
  const token = (tokens: string[], a: number, b: number, what: string) =>
    a === b
      ? `${what} ${a}: ${tokenText(tokens[a] ?? "")}`
      : `${what} ${a}–${b}: ${tokenText(tokens[a] ?? "")} … ${tokenText(tokens[b] ?? "")}`;
  lines.push(token(context.queryTokens, qa, qb, qa === qb ? "query" : "queries"));
  lines.push(token(context.keyTokens, ka, kb, ka === kb ? "key" : "keys"));
  const value = context.values[i * map.cols + j];
  lines.push(`weight: ${formatWeight(value)}${blocked ? " (block: sum over its keys, mean over its queries)" : ""}`);
  lines.push(`row bound: ± ${formatWeight(map.scale[i] / 510)} (uint8, row max / 510)`);
  if (context.reference) {
    const before = context.reference.values[i * map.cols + j];
    lines.push(`${context.reference.label}: ${formatWeight(before)}`);
    lines.push(`difference: ${formatSigned(value - before)}`);
  }
  return lines;
}

// --- the token view ---

export type Direction = "query" | "key";

/** Attention from stored query row `index` to every key (direction "query"), or to stored key
 * column `index` from every query ("key"). */
export function tokenWeights(
  values: Float32Array,
  rows: number,
  cols: number,
  direction: Direction,
  index: number,
): Float32Array {
  if (direction === "query") return values.slice(index * cols, index * cols + cols);
  const out = new Float32Array(rows);
  for (let i = 0; i < rows; i++) out[i] = values[i * cols + index];
  return out;
}

/** A line's opacity: its weight against the largest of the lines drawn (bertviz draws raw
 * weights, which vanish at 512 tokens); weights under 1 % of the largest are not drawn. */
export function lineAlphas(weights: Float32Array[]): Float32Array[] {
  let top = 0;
  for (const w of weights) top = Math.max(top, maxAbs(w));
  return weights.map((w) => w.map((v) => (top > 0 && v / top >= 0.01 ? v / top : 0)));
}

/** The first and last index of rows `rowHeight` apart visible in `[scroll, scroll + height)`. */
export function visibleRows(count: number, rowHeight: number, scroll: number, height: number): [number, number] {
  const first = Math.max(0, Math.floor(scroll / rowHeight));
  return [first, Math.min(count - 1, Math.ceil((scroll + height) / rowHeight))];
}
