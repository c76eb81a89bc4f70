// The two binary layouts of the attention routes (little-endian), parsed into typed arrays over
// the fetched buffer (no copy on a little-endian machine). Every size is checked: a short or
// inconsistent buffer is an Error naming what is wrong, never an out-of-bounds read.
//
// Map (`attention/map`):
//   u32 header[8] = [rows, cols, queries, keys, top_k, row_block, col_block, 0]
//   f32 scale[rows]; u8 value[rows*cols] (value / 255 * scale[row]); zero padding to 4 bytes
//   u16 topk_index[queries*top_k]; zero padding to 4 bytes; f32 topk_value[queries*top_k]
// Thumbnails (`attention/thumbnails`):
//   u32 header[4] = [count, rows, cols, 0]; f32 max[count]; u8 value[count*rows*cols]

export interface AttentionMap {
  rows: number; // stored query rows (blocks when rowBlock > 1)
  cols: number; // stored key columns
  queries: number; // original query count
  keys: number; // original key count
  topK: number; // exact top keys kept per original query row (0 when not blocked)
  rowBlock: number; // original queries per stored row
  colBlock: number; // original keys per stored column
  scale: Float32Array; // per stored row: value = byte / 255 * scale
  values: Uint8Array; // rows * cols, row major
  topkIndex: Uint16Array; // queries * topK original key indices
  topkValue: Float32Array; // queries * topK exact weights
}

export interface Thumbnails {
  count: number;
  rows: number;
  cols: number;
  max: Float32Array; // per map: value = byte / 255 * max
  values: Uint8Array; // count * rows * cols, map after map
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

const align4 = (n: number) => (n + 3) & ~3;

function u32s(buffer: ArrayBuffer, count: number): number[] {
  const view = new DataView(buffer);
  return Array.from({ length: count }, (_, i) => view.getUint32(4 * i, true));
}

function float32s(buffer: ArrayBuffer, offset: number, length: number): Float32Array {
  if (LITTLE_ENDIAN) return new Float32Array(buffer, offset, length);
  const view = new DataView(buffer);
  return Float32Array.from({ length }, (_, i) => view.getFloat32(offset + 4 * i, true));
}

function uint16s(buffer: ArrayBuffer, offset: number, length: number): Uint16Array {
  if (LITTLE_ENDIAN) return new Uint16Array(buffer, offset, length);
  const view = new DataView(buffer);
  return Uint16Array.from({ length }, (_, i) => view.getUint16(offset + 2 * i, true));
}

export function parseMap(buffer: ArrayBuffer): AttentionMap {
  if (buffer.byteLength < 32) throw new Error(`attention map: ${buffer.byteLength} bytes, shorter than its header`);
  const [rows, cols, queries, keys, topK, rowBlock, colBlock] = u32s(buffer, 8);
  if (!rows || !cols || !queries || !keys || !rowBlock || !colBlock) {
    throw new Error(`attention map: empty header [${[rows, cols, queries, keys, topK, rowBlock, colBlock]}]`);
  }
  if (Math.ceil(queries / rowBlock) !== rows || Math.ceil(keys / colBlock) !== cols) {
    throw new Error(
      `attention map: ${rows} × ${cols} stored cells do not match ${queries} × ${keys} tokens in blocks of ${rowBlock} × ${colBlock}`,
    );
  }
  if (topK > keys) throw new Error(`attention map: top-${topK} of ${keys} keys`);
  const valuesAt = 32 + 4 * rows;
  const indexAt = align4(valuesAt + rows * cols);
  const topValueAt = align4(indexAt + 2 * queries * topK);
  const needed = topK ? topValueAt + 4 * queries * topK : valuesAt + rows * cols;
  if (buffer.byteLength < needed) {
    throw new Error(`attention map: ${buffer.byteLength} bytes, ${needed} needed for ${rows} × ${cols} (top-${topK})`);
  }
  return {
    rows,
    cols,
    queries,
    keys,
    topK,
    rowBlock,
    colBlock,
    scale: float32s(buffer, 32, rows),
    values: new Uint8Array(buffer, valuesAt, rows * cols),
    topkIndex: topK ? uint16s(buffer, indexAt, queries * topK) : new Uint16Array(0),
    topkValue: topK ? float32s(buffer, topValueAt, queries * topK) : new Float32Array(0),
  };
}

export function parseThumbnails(buffer: ArrayBuffer): Thumbnails {
  if (buffer.byteLength < 16)
    throw new Error(`attention thumbnails: ${buffer.byteLength} bytes, shorter than the header`);
  const [count, rows, cols] = u32s(buffer, 3);
  const needed = 16 + 4 * count + count * rows * cols;
  if (buffer.byteLength < needed) {
    throw new Error(
      `attention thumbnails: ${buffer.byteLength} bytes, ${needed} needed for ${count} of ${rows} × ${cols}`,
    );
  }
  return {
    count,
    rows,
    cols,
    max: float32s(buffer, 16, count),
    values: new Uint8Array(buffer, 16 + 4 * count, count * rows * cols),
  };
}

/** A map's stored (dequantized) weight at stored row `i`, column `j`. */
export function mapValue(map: AttentionMap, i: number, j: number): number {
  return (map.values[i * map.cols + j] / 255) * map.scale[i];
}

/** Every stored weight, dequantized, row major. */
export function mapFloats(map: AttentionMap): Float32Array {
  const out = new Float32Array(map.rows * map.cols);
  for (let i = 0; i < map.rows; i++) {
    const s = map.scale[i] / 255;
    for (let j = 0; j < map.cols; j++) out[i * map.cols + j] = map.values[i * map.cols + j] * s;
  }
  return out;
}

/** The quantization bound of stored row `i`: |stored − true| ≤ scale / 510. */
export function rowBound(map: AttentionMap, i: number): number {
  return map.scale[i] / 510;
}

/** Original query row `q`'s exact top keys, largest first (zero-weight padding dropped). */
export function topKeys(map: AttentionMap, q: number): Array<{ key: number; value: number }> {
  const out: Array<{ key: number; value: number }> = [];
  for (let k = 0; k < map.topK; k++) {
    const value = map.topkValue[q * map.topK + k];
    if (value > 0) out.push({ key: map.topkIndex[q * map.topK + k], value });
  }
  return out.sort((a, b) => b.value - a.value || a.key - b.key);
}

// --- encoders, for tests (the inverse of the parsers above) ---

export interface MapInput {
  rows: number;
  cols: number;
  queries?: number;
  keys?: number;
  rowBlock?: number;
  colBlock?: number;
  scale: number[];
  values: number[];
  topK?: number;
  topkIndex?: number[];
  topkValue?: number[];
}

export function encodeMap(input: MapInput): ArrayBuffer {
  const queries = input.queries ?? input.rows;
  const keys = input.keys ?? input.cols;
  const topK = input.topK ?? 0;
  const valuesAt = 32 + 4 * input.rows;
  const indexAt = align4(valuesAt + input.rows * input.cols);
  const topValueAt = align4(indexAt + 2 * queries * topK);
  const size = topK ? topValueAt + 4 * queries * topK : indexAt;
  const buffer = new ArrayBuffer(size);
  const view = new DataView(buffer);
  const header = [input.rows, input.cols, queries, keys, topK, input.rowBlock ?? 1, input.colBlock ?? 1, 0];
  header.forEach((v, i) => view.setUint32(4 * i, v, true));
  input.scale.forEach((v, i) => view.setFloat32(32 + 4 * i, v, true));
  input.values.forEach((v, i) => view.setUint8(valuesAt + i, v));
  (input.topkIndex ?? []).forEach((v, i) => view.setUint16(indexAt + 2 * i, v, true));
  (input.topkValue ?? []).forEach((v, i) => view.setFloat32(topValueAt + 4 * i, v, true));
  return buffer;
}

export function encodeThumbnails(rows: number, cols: number, max: number[], values: number[]): ArrayBuffer {
  const count = max.length;
  const buffer = new ArrayBuffer(16 + 4 * count + values.length);
  const view = new DataView(buffer);
  [count, rows, cols, 0].forEach((v, i) => view.setUint32(4 * i, v, true));
  max.forEach((v, i) => view.setFloat32(16 + 4 * i, v, true));
  values.forEach((v, i) => view.setUint8(16 + 4 * count + i, v));
  return buffer;
}
