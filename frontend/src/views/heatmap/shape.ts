// Pure data shaping for the Tensors view (no DOM, unit-tested under node): a `heatmap/step`
// answer as typed arrays with a kind per stored cell (finite, NaN, +Inf, −Inf, padding), the
// diverging colour scale centred at 0, the cells' pixels, differences against a reference step,
// exact value text and the hover lines of a cell or a reduced block.
import type { ColorScale } from "../../core/colors";
import { TensorIndexer, type LayoutInfo } from "./layout";

export interface SeriesPoint {
  step: number;
  wall_time: number;
  shape: number[];
  finite_min: number | null;
  finite_max: number | null;
  mean: number | null;
  std: number | null;
  nan: number;
  posinf: number;
  neginf: number;
  reduced: boolean;
}

/** Per listed stored cell, its counts of NaN, +Inf and −Inf (1 in its kind for an exact step). */
export interface NonFinite {
  cells: number[];
  nan: number[];
  posinf: number[];
  neginf: number[];
}

/** `heatmap/step` (docs/http_api.md): `values` row-major [stored_rows, stored_cols], null for
 * NaN/Inf/padding; a reduced step's `values` are block means and `min`/`max` block extremes. */
export interface StepJson extends LayoutInfo {
  step: number;
  wall_time: number;
  dtype: string;
  row_block: number;
  col_block: number;
  stored_rows: number;
  stored_cols: number;
  reduced: boolean;
  finite_min: number | null;
  finite_max: number | null;
  mean: number | null;
  std: number | null;
  count: number;
  nan: number;
  posinf: number;
  neginf: number;
  zeros: number;
  values: Array<number | null>;
  min: Array<number | null> | null;
  max: Array<number | null> | null;
  nonfinite: NonFinite;
}

// The kind of a stored cell (or block).
export const FINITE = 0;
export const NAN = 1;
export const POSINF = 2;
export const NEGINF = 3;
export const PADDING = 4; // a grid tile beyond the last channel: not data
export const EMPTY = 5; // no value and no count (not expected from the writer)
export const UNMATCHED = 6; // a difference where either side is not finite

export type Stat = "mean" | "min" | "max";

/** Stored values: float32 steps in a Float32Array (exact: they are float32), else float64. */
export type Floats = Float32Array | Float64Array;

/** One step, shaped: its metadata and typed arrays; `values` hold NaN where the JSON had null. */
export interface TensorStep {
  meta: Omit<StepJson, "values" | "min" | "max" | "nonfinite">;
  values: Floats; // exact values, or block means
  min: Floats | null;
  max: Floats | null;
  kind: Uint8Array; // per stored cell
  counts: Uint32Array | null; // reduced: per stored cell [nan, posinf, neginf] × 3, only where listed
  indexer: TensorIndexer;
  /** The stored values are float32 (shown by their shortest float32 text); else float64. */
  f32: boolean;
  shapeMs?: number; // how long shaping took (timing)
}

function floats(list: Array<number | null>, f32: boolean): Floats {
  const out = f32 ? new Float32Array(list.length) : new Float64Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    out[i] = v === null ? NaN : v;
  }
  return out;
}

/** Whether a dtype's values are stored in float64: as writer/heatmap.py's `_work_dtype`, for
 * float64 and 32/64-bit integers (exact up to 2**53); everything else is stored in float32. */
export function storedAsFloat64(dtype: string): boolean {
  return /^(float64|double|f8|u?int(32|64)|long)$/.test(dtype);
}

export function shapeStep(json: StepJson): TensorStep {
  const { values, min, max, nonfinite, ...meta } = json;
  const n = meta.stored_rows * meta.stored_cols;
  if (values.length !== n) throw new Error(`step ${meta.step}: ${values.length} values for ${n} cells`);
  const indexer = new TensorIndexer(meta);
  const kind = new Uint8Array(n);
  const f32 = !storedAsFloat64(meta.dtype);
  const shaped = floats(values, f32);
  const counts = meta.reduced && nonfinite.cells.length ? new Uint32Array(n * 3) : null;
  nonfinite.cells.forEach((cell, k) => {
    if (cell < 0 || cell >= n) return;
    const [nan, pos, neg] = [nonfinite.nan[k] ?? 0, nonfinite.posinf[k] ?? 0, nonfinite.neginf[k] ?? 0];
    // a block holding any NaN is drawn as NaN, else any +Inf as +Inf, else −Inf: never hidden
    kind[cell] = nan > 0 ? NAN : pos > 0 ? POSINF : neg > 0 ? NEGINF : FINITE;
    if (counts) counts.set([nan, pos, neg], cell * 3);
  });
  const padding = indexer.hasPadding;
  for (let i = 0; i < n; i++) {
    if (kind[i] !== FINITE) continue;
    if (padding && isPaddingCell(meta, indexer, i)) kind[i] = PADDING;
    else if (Number.isNaN(shaped[i])) kind[i] = meta.reduced ? EMPTY : PADDING;
  }
  return {
    meta,
    values: shaped,
    min: min ? floats(min, f32) : null,
    max: max ? floats(max, f32) : null,
    kind,
    counts,
    indexer,
    f32,
  };
}

/** The image rows r0 … r1 − 1 and columns c0 … c1 − 1 of stored cell `i` (one cell when exact). */
export function cellExtent(meta: TensorStep["meta"], i: number): [number, number, number, number] {
  const row = Math.floor(i / meta.stored_cols);
  const column = i % meta.stored_cols;
  const r0 = row * meta.row_block;
  const c0 = column * meta.col_block;
  return [r0, Math.min(meta.rows, r0 + meta.row_block), c0, Math.min(meta.cols, c0 + meta.col_block)];
}

function isPaddingCell(meta: TensorStep["meta"], indexer: TensorIndexer, i: number): boolean {
  const [r0, r1, c0, c1] = cellExtent(meta, i);
  if (r1 - r0 === 1 && c1 - c0 === 1) return indexer.isPadding(r0, c0);
  return indexer.blockCells(r0, r1, c0, c1) === 0;
}

/** The array a reduced step is coloured by (exact steps: always the values). */
export function statValues(step: TensorStep, stat: Stat): Floats {
  if (stat === "min" && step.min) return step.min;
  if (stat === "max" && step.max) return step.max;
  return step.values;
}

/** The diverging scale centred at 0: −b … +b with b = max(|finite min|, |finite max|) (or the
 * largest |difference|), 1 when there is no finite value. */
export function divergingScale(bound: number): ColorScale {
  const b = Number.isFinite(bound) && bound > 0 ? bound : 1;
  return {
    kind: "diverging",
    low: -b,
    high: b,
    index: (v) => (Number.isNaN(v) ? -1 : Math.round(((Math.max(-b, Math.min(b, v)) / b + 1) / 2) * 255)),
  };
}

export function stepBound(meta: TensorStep["meta"]): number {
  return Math.max(Math.abs(meta.finite_min ?? 0), Math.abs(meta.finite_max ?? 0));
}

/** A difference against a reference of the same stored geometry. */
export interface Difference {
  values: Float64Array; // current − reference where both are finite, else NaN
  kind: Uint8Array;
  bound: number; // the largest |difference|
}

/** Why two steps cannot be subtracted cell by cell, or "" when they can. */
export function mismatch(a: TensorStep, b: TensorStep): string {
  const same = (x: number[], y: number[]) => x.length === y.length && x.every((v, k) => v === y[k]);
  if (!same(a.meta.shape, b.meta.shape)) return `shape [${b.meta.shape.join(", ")}] ≠ [${a.meta.shape.join(", ")}]`;
  if (a.meta.layout !== b.meta.layout) return `layout ${b.meta.layout} ≠ ${a.meta.layout}`;
  if (a.meta.stored_rows !== b.meta.stored_rows || a.meta.stored_cols !== b.meta.stored_cols)
    return "a different block reduction";
  return "";
}

export function difference(current: TensorStep, reference: TensorStep, stat: Stat): Difference {
  const a = statValues(current, stat);
  const b = statValues(reference, stat);
  const values = new Float64Array(a.length);
  const kind = new Uint8Array(a.length);
  let bound = 0;
  for (let i = 0; i < a.length; i++) {
    if (current.kind[i] === PADDING) {
      kind[i] = PADDING;
      values[i] = NaN;
    } else if (current.kind[i] !== FINITE || reference.kind[i] !== FINITE) {
      kind[i] = UNMATCHED;
      values[i] = NaN;
    } else {
      const d = a[i] - b[i];
      values[i] = d;
      if (Number.isFinite(d)) bound = Math.max(bound, Math.abs(d));
      else kind[i] = UNMATCHED;
    }
  }
  return { values, kind, bound };
}

/** RGBA of the special kinds; padding is transparent (the plot's background shows). */
export const SPECIAL_RGBA: Record<number, [number, number, number, number]> = {
  [NAN]: [0, 200, 83, 255], // green: on no diverging colour
  [POSINF]: [255, 214, 0, 255], // yellow
  [NEGINF]: [170, 0, 255, 255], // violet
  [PADDING]: [200, 200, 200, 0],
  [EMPTY]: [200, 200, 200, 0],
  [UNMATCHED]: [128, 128, 128, 255],
};

export function cssOf(kind: number): string {
  const [r, g, b, a] = SPECIAL_RGBA[kind];
  return a ? `rgb(${r}, ${g}, ${b})` : "transparent";
}

/** One RGBA pixel per stored cell: finite ones on `table` (256 packed RGBA), the rest in their
 * kind's colour. `pack` packs one RGBA colour as the platform's Uint32 pixel. */
export function cellPixels(
  values: Floats,
  kind: Uint8Array,
  scale: ColorScale,
  table: Uint32Array,
  pack: (r: number, g: number, b: number, a: number) => number,
): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(values.length * 4);
  const pixels = new Uint32Array(rgba.buffer);
  const special = new Uint32Array(8);
  for (const [k, c] of Object.entries(SPECIAL_RGBA)) special[Number(k)] = pack(c[0], c[1], c[2], c[3]);
  // scale.index inlined for the diverging scale (a million cells): −b … +b onto 0 … 255
  const diverging = scale.kind === "diverging";
  const b = scale.high;
  const index = scale.index;
  for (let i = 0; i < values.length; i++) {
    const k = kind[i];
    if (k !== FINITE) {
      pixels[i] = special[k];
      continue;
    }
    const v = values[i];
    if (v !== v) {
      pixels[i] = special[EMPTY];
    } else if (diverging) {
      const t = Math.round(((v > b ? b : v < -b ? -b : v) / b + 1) * 127.5);
      pixels[i] = table[t];
    } else {
      const t = index(v);
      pixels[i] = t < 0 ? special[EMPTY] : table[t];
    }
  }
  return rgba;
}

/** A stored value as text: float32 values by their shortest float32 decimal (what numpy prints),
 * float64 by JavaScript's shortest round-trip decimal; both read back to the exact value. */
export function formatExact(value: number, f32: boolean): string {
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "−Inf";
  if (f32 && Math.fround(value) === value) {
    for (let digits = 1; digits <= 9; digits++) {
      const text = value.toPrecision(digits);
      if (Math.fround(Number(text)) === value) return String(Number(text));
    }
  }
  return String(value);
}

/** A bound or summary statistic, short: four significant digits. */
export function formatShort(value: number | null): string {
  if (value === null || Number.isNaN(value)) return "n/a";
  if (value === 0) return "0";
  const text = String(Number(value.toPrecision(4)));
  return value > 0 ? text : text.replace("-", "−");
}

function signed(value: number, f32: boolean): string {
  const text = formatExact(value, f32);
  return value > 0 ? `+${text}` : text;
}

export function countsText(meta: TensorStep["meta"]): string {
  return `NaN ${meta.nan} · +Inf ${meta.posinf} · −Inf ${meta.neginf}`;
}

/** The summary line: shape, dtype, layout, exact global statistics and counts. */
export function summaryText(meta: TensorStep["meta"]): string {
  return [
    `step ${meta.step}`,
    `shape [${meta.shape.join(", ")}]`,
    meta.dtype,
    `${meta.layout} layout${meta.channels_last ? " (channels last)" : ""}`,
    `min ${formatShort(meta.finite_min)}`,
    `max ${formatShort(meta.finite_max)}`,
    `mean ${formatShort(meta.mean)}`,
    `std ${formatShort(meta.std)}`,
    `${meta.count} values`,
    `zeros ${meta.zeros}`,
    countsText(meta),
  ].join(" · ");
}

/** The on-screen note of a block-reduced step, or "" for an exact one. */
export function reducedNote(meta: TensorStep["meta"], stat: Stat): string {
  if (!meta.reduced) return "";
  return (
    `block-reduced ${meta.rows}×${meta.cols} → ${meta.stored_rows}×${meta.stored_cols}, ` +
    `${meta.row_block}×${meta.col_block} blocks: colour = block ${stat}` +
    " (of the finite values; a block holding NaN or ±Inf takes that colour)"
  );
}

/** The shown reference: its step data and how to name it. */
export interface Shown {
  step: TensorStep;
  stat: Stat;
  reference: { step: TensorStep; label: string; diff: Difference } | null;
}

const KIND_TEXT: Record<number, string> = { [NAN]: "NaN", [POSINF]: "+Inf", [NEGINF]: "−Inf" };

/** The hover lines of stored cell (row, column). */
export function cellLines(shown: Shown, row: number, column: number): string[] {
  const { step, reference } = shown;
  const { meta, indexer, f32 } = step;
  const i = row * meta.stored_cols + column;
  const [r0, r1, c0, c1] = cellExtent(meta, i);
  const lines: string[] = [];
  if (step.kind[i] === PADDING) {
    return [`padding: no channel here (the grid holds ${indexer.tiles} channels)`];
  }
  if (!meta.reduced) {
    const index = indexer.index(r0, c0);
    lines.push(`index: ${index ? indexer.format(index) : "padding"}`);
    const v = step.values[i];
    lines.push(`value: ${step.kind[i] === FINITE ? formatExact(v, f32) : (KIND_TEXT[step.kind[i]] ?? "n/a")}`);
  } else {
    const ranges = indexer.blockRanges(r0, r1, c0, c1);
    lines.push(`block: rows ${r0}–${r1 - 1}, columns ${c0}–${c1 - 1} of ${meta.rows}×${meta.cols}`);
    lines.push(`index: ${ranges ? indexer.formatRanges(ranges) : "padding"}`);
    const cells = indexer.blockCells(r0, r1, c0, c1);
    const [nan, pos, neg] = step.counts ? Array.from(step.counts.subarray(i * 3, i * 3 + 3)) : [0, 0, 0];
    const finite = cells - nan - pos - neg;
    const stat = (a: Floats | null) => (a && !Number.isNaN(a[i]) ? formatExact(a[i], f32) : "n/a");
    lines.push(`mean: ${stat(step.values)}`, `min: ${stat(step.min)}`, `max: ${stat(step.max)}`);
    lines.push(`finite values: ${finite} of ${cells}`);
    lines.push(`NaN: ${nan} · +Inf: ${pos} · −Inf: ${neg}`);
  }
  if (reference) {
    const ref = reference.step;
    const which = meta.reduced ? `block ${shown.stat}` : "value";
    const own = statValues(step, shown.stat)[i];
    const theirs = statValues(ref, shown.stat)[i];
    const text = (s: TensorStep, v: number) =>
      s.kind[i] === FINITE ? formatExact(v, s.f32) : (KIND_TEXT[s.kind[i]] ?? "n/a");
    if (meta.reduced) lines.push(`this ${which}: ${text(step, own)}`);
    lines.push(`${reference.label} ${which}: ${text(ref, theirs)}`);
    const d = reference.diff;
    lines.push(
      d.kind[i] === FINITE ? `difference: ${signed(d.values[i], false)}` : "difference: n/a (NaN or ±Inf on a side)",
    );
  }
  return lines;
}

/** Tick labels: the first image row (column) of each stored row (column). */
export function axisNames(count: number, block: number): string[] {
  return Array.from({ length: count }, (_, k) => String(k * block));
}
