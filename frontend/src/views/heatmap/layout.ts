// From an image cell back to the tensor: the index of cell (r, c) in the tensor as it was
// logged, for each layout of writer/heatmap.py, and the index ranges a reduced block covers.
// Pure (no DOM), unit-tested under node.
//
// - row: 1-D [n] → 1 × n; index [c].
// - matrix: [d0, d1, …] → [d0, d1·d2·…]; index [r, unravel(c, [d1, …])].
// - kernels: conv weight [out, in, kh, kw] → image [out·kh, in·kw] (tile [kh, kw], grid
//   [out, in]); index [out=r div kh, in=c div kw, r mod kh, c mod kw]. channels_last (Keras/TF
//   [kh, kw, in, out]): the same image, index [r mod kh, c mod kw, in=…, out=…].
// - channels: activation [N, C, H, W] (or [C, H, W]) at sample `batch_index` → C maps of
//   [H, W] in a grid of gc columns, channel t = (r div H)·gc + (c div W); tiles with t ≥ C are
//   padding (no data). channels_last: [N, H, W, C] / [H, W, C].

/** What of a step says how its image was laid out (the fields of `heatmap/step`). */
export interface LayoutInfo {
  shape: number[];
  layout: string;
  rows: number; // the full image, before any block reduction
  cols: number;
  tile: [number, number] | null;
  grid: [number, number] | null;
  channels: number | null;
  channels_last?: boolean;
  batch_index?: number | null;
}

/** An inclusive range [lo, hi] of one tensor axis. */
export type Range = [number, number];

/** The values of one axis over the contiguous integers a … b (inclusive) taken mod d. */
function modRange(a: number, b: number, d: number): Range {
  if (b - a + 1 >= d || Math.floor(a / d) !== Math.floor(b / d)) return [0, d - 1];
  return [a % d, b % d];
}

/** Per axis of `dims` (row-major), the range its index takes over the flat positions
 * a … b − 1 (a < b). */
export function unravelRanges(a: number, b: number, dims: number[]): Range[] {
  const ranges: Range[] = new Array(dims.length);
  let stride = 1;
  for (let j = dims.length - 1; j >= 0; j--) {
    ranges[j] = modRange(Math.floor(a / stride), Math.floor((b - 1) / stride), dims[j]);
    stride *= dims[j];
  }
  return ranges;
}

/** The index of flat position `i` in `dims` (row-major). */
export function unravel(i: number, dims: number[]): number[] {
  const index = new Array<number>(dims.length);
  for (let j = dims.length - 1; j >= 0; j--) {
    index[j] = i % dims[j];
    i = Math.floor(i / dims[j]);
  }
  return index;
}

function product(dims: number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

export function formatIndex(index: number[], names: string[]): string {
  return `[${index.map((v, j) => (names[j] ? `${names[j]}=${v}` : String(v))).join(", ")}]`;
}

export function formatRanges(ranges: Range[], names: string[]): string {
  const part = ([lo, hi]: Range) => (lo === hi ? String(lo) : `${lo}–${hi}`);
  return `[${ranges.map((r, j) => (names[j] ? `${names[j]}=${part(r)}` : part(r))).join(", ")}]`;
}

/** Maps image cells of one step to tensor indices. */
export class TensorIndexer {
  /** Per tensor axis, its name in an index ("out", "in", "n", "c") or "" (spatial, plain). */
  readonly names: string[];
  /** The tile of a grid layout ([kh, kw] or [H, W]) for grid lines, else null. */
  readonly tile: [number, number] | null;
  /** The grid of tiles [rows, columns] of a grid layout, else null. */
  readonly grid: [number, number] | null;
  /** Number of real tiles (channels) of the channels layout; the rest of the grid is padding. */
  readonly tiles: number;
  readonly hasPadding: boolean;
  private readonly kind: "row" | "matrix" | "kernels" | "channels";
  private readonly last: boolean;
  private readonly batch: number | null;
  private readonly rest: number[]; // matrix: the column dims; row: the shape

  constructor(readonly info: LayoutInfo) {
    const { shape, layout } = info;
    const rank = shape.length;
    this.last = Boolean(info.channels_last);
    this.batch = info.batch_index ?? null;
    if (layout === "kernels" && rank === 4) {
      this.kind = "kernels";
      const [kh, kw] = info.tile ?? (this.last ? [shape[0], shape[1]] : [shape[2], shape[3]]);
      this.tile = [kh, kw];
      this.grid = info.grid ?? [info.rows / kh, info.cols / kw];
      this.tiles = this.grid[0] * this.grid[1];
      this.names = this.last ? ["", "", "in", "out"] : ["out", "in", "", ""];
    } else if (layout === "channels" && (rank === 3 || rank === 4)) {
      this.kind = "channels";
      const spatial = this.last ? shape.slice(rank - 3, rank - 1) : shape.slice(rank - 2);
      const [h, w] = info.tile ?? [spatial[0], spatial[1]];
      this.tile = [h, w];
      this.grid = info.grid ?? [info.rows / h, info.cols / w];
      this.tiles = info.channels ?? (this.last ? shape[rank - 1] : shape[rank - 3]);
      const spatialNames = ["", ""];
      this.names = this.last ? [...spatialNames, "c"] : ["c", ...spatialNames];
      if (rank === 4) this.names.unshift("n");
    } else {
      this.kind = layout === "row" || rank === 1 ? "row" : "matrix";
      this.tile = null;
      this.grid = null;
      this.tiles = 0;
      this.names = shape.map(() => "");
    }
    this.rest = this.kind === "row" ? shape : shape.slice(1);
    this.hasPadding = this.kind === "channels" && this.grid![0] * this.grid![1] > this.tiles;
  }

  /** Whether image cell (r, c) is padding (a grid tile beyond the last channel). */
  isPadding(r: number, c: number): boolean {
    if (this.kind !== "channels") return false;
    const [h, w] = this.tile!;
    return Math.floor(r / h) * this.grid![1] + Math.floor(c / w) >= this.tiles;
  }

  /** The tensor index of image cell (r, c), or null for padding. */
  index(r: number, c: number): number[] | null {
    const shape = this.info.shape;
    switch (this.kind) {
      case "row":
        return unravel(c, shape);
      case "matrix":
        return [r, ...unravel(c, this.rest)];
      case "kernels": {
        const [kh, kw] = this.tile!;
        const [out, y] = [Math.floor(r / kh), r % kh];
        const [inner, x] = [Math.floor(c / kw), c % kw];
        return this.last ? [y, x, inner, out] : [out, inner, y, x];
      }
      case "channels": {
        if (this.isPadding(r, c)) return null;
        const [h, w] = this.tile!;
        const t = Math.floor(r / h) * this.grid![1] + Math.floor(c / w);
        const spatial = [r % h, c % w];
        const index = this.last ? [...spatial, t] : [t, ...spatial];
        return shape.length === 4 ? [this.batch ?? -1, ...index] : index;
      }
    }
  }

  /** An index as text: "[out=3, in=1, 2, 0]"; an unknown sample number shows as "n=?". */
  format(index: number[]): string {
    const text = formatIndex(index, this.names);
    return this.batch === null && this.kind === "channels" ? text.replace("n=-1", "n=?") : text;
  }

  /** Per tensor axis, the range of its index over the image cells rows r0 … r1 − 1 × columns
   * c0 … c1 − 1 that are not padding; null when all of them are. */
  blockRanges(r0: number, r1: number, c0: number, c1: number): Range[] | null {
    const shape = this.info.shape;
    switch (this.kind) {
      case "row":
        return unravelRanges(c0, c1, shape);
      case "matrix":
        return [[r0, r1 - 1], ...unravelRanges(c0, c1, this.rest)];
      case "kernels": {
        const [kh, kw] = this.tile!;
        const [out, y] = unravelRanges(r0, r1, [this.grid![0], kh]);
        const [inner, x] = unravelRanges(c0, c1, [this.grid![1], kw]);
        return this.last ? [y, x, inner, out] : [out, inner, y, x];
      }
      case "channels":
        return this.channelRanges(r0, r1, c0, c1);
    }
  }

  /** The number of image cells of the block that are not padding. */
  blockCells(r0: number, r1: number, c0: number, c1: number): number {
    if (this.kind !== "channels") return (r1 - r0) * (c1 - c0);
    let cells = 0;
    this.eachTile(r0, r1, c0, c1, (_t, rows, cols) => (cells += (rows[1] - rows[0]) * (cols[1] - cols[0])));
    return cells;
  }

  /** Calls `visit(t, [y0, y1), [x0, x1))` for each real channel tile the block overlaps, with the
   * overlap in tile coordinates (end exclusive). */
  private eachTile(
    r0: number,
    r1: number,
    c0: number,
    c1: number,
    visit: (t: number, rows: [number, number], cols: [number, number]) => void,
  ): void {
    const [h, w] = this.tile!;
    const columns = this.grid![1];
    for (let tr = Math.floor(r0 / h); tr <= Math.floor((r1 - 1) / h); tr++) {
      for (let tc = Math.floor(c0 / w); tc <= Math.floor((c1 - 1) / w); tc++) {
        const t = tr * columns + tc;
        if (t >= this.tiles) continue;
        const rows: [number, number] = [Math.max(r0, tr * h) - tr * h, Math.min(r1, (tr + 1) * h) - tr * h];
        const cols: [number, number] = [Math.max(c0, tc * w) - tc * w, Math.min(c1, (tc + 1) * w) - tc * w];
        visit(t, rows, cols);
      }
    }
  }

  private channelRanges(r0: number, r1: number, c0: number, c1: number): Range[] | null {
    const found: { channel?: Range; ys?: Range; xs?: Range } = {};
    const widen = (range: Range | undefined, lo: number, hi: number): Range =>
      range ? [Math.min(range[0], lo), Math.max(range[1], hi)] : [lo, hi];
    this.eachTile(r0, r1, c0, c1, (t, rows, cols) => {
      found.channel = widen(found.channel, t, t);
      found.ys = widen(found.ys, rows[0], rows[1] - 1);
      found.xs = widen(found.xs, cols[0], cols[1] - 1);
    });
    const { channel, ys, xs } = found;
    if (!channel || !ys || !xs) return null;
    const spatial: Range[] = [ys, xs];
    const ranges = this.last ? [...spatial, channel] : [channel, ...spatial];
    if (this.info.shape.length === 4) ranges.unshift([this.batch ?? -1, this.batch ?? -1]);
    return ranges;
  }

  /** Ranges as text: "[out=0–1, in=0–3, 0–2, 0–2]". */
  formatRanges(ranges: Range[]): string {
    const text = formatRanges(ranges, this.names);
    return this.batch === null && this.kind === "channels" ? text.replace("n=-1", "n=?") : text;
  }

  /** The number of elements the image shows (the tensor's, or one sample's for 4-D channels). */
  get elements(): number {
    const shape = this.info.shape;
    return this.kind === "channels" && shape.length === 4 ? product(shape.slice(1)) : product(shape);
  }
}
