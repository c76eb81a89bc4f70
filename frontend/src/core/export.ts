// Export: a file stem from the shown selection, PNG of a canvas, and SVG of a rows × columns
// heatmap (vector cells and labels up to 150 rows and columns, the raster embedded beyond that).
// Every name goes through escapeXml.

import { download, el } from "./dom";

const XML_ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" };

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]);
}

/** A file name stem from the parts of the selection, safe on every file system. */
export function fileStem(...parts: Array<string | number>): string {
  return parts.join("_").replace(/[^A-Za-z0-9_.-]+/g, "_");
}

export function downloadPng(canvas: HTMLCanvasElement, stem: string): void {
  canvas.toBlob((blob) => {
    if (blob) download(`${stem}.png`, blob);
  }, "image/png");
}

export function downloadSvg(text: string, stem: string): void {
  download(`${stem}.svg`, new Blob([text], { type: "image/svg+xml" }));
}

/** The RGBA cells as a PNG data URL, one pixel per cell. */
export function rgbaDataUrl(rgba: Uint8ClampedArray, columns: number, rows: number): string {
  const canvas = el("canvas", { attrs: { width: String(columns), height: String(rows) } });
  canvas.getContext("2d")!.putImageData(new ImageData(rgba as Uint8ClampedArray<ArrayBuffer>, columns, rows), 0, 0);
  return canvas.toDataURL("image/png");
}

export interface SvgInput {
  rows: number;
  columns: number;
  rgba: Uint8ClampedArray; // rows * columns * 4, row major
  rowNames: string[];
  columnNames: string[];
  title: string;
  pngDataUrl?: () => string; // used above the vector limit
  cellWidth?: number; // CSS pixels; by default 4 … 28 to fit 720
  cellHeight?: number;
  lines?: string[]; // extra text below the title (legend, notes)
}

export const VECTOR_LIMIT = 150;

export function heatmapSvg(input: SvgInput): string {
  const fitCell = (n: number) => Math.max(4, Math.min(28, Math.floor(720 / n)));
  const cellWidth = input.cellWidth ?? fitCell(input.columns);
  const cellHeight = input.cellHeight ?? fitCell(input.rows);
  const vector = (input.rows <= VECTOR_LIMIT && input.columns <= VECTOR_LIMIT) || !input.pngDataUrl;
  const rowLabels = input.rows <= VECTOR_LIMIT;
  const columnLabels = input.columns <= VECTOR_LIMIT;
  const extra = (input.lines?.length ?? 0) * 14;
  const left = rowLabels ? 140 : 10;
  const top = (columnLabels ? 140 : 30) + extra;
  const width = left + cellWidth * input.columns + 10;
  const height = top + cellHeight * input.rows + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${escapeXml(input.title)}</title>`,
    `<text x="${left}" y="16" font-size="12">${escapeXml(input.title)}</text>`,
  ];
  (input.lines ?? []).forEach((line, k) => {
    parts.push(`<text x="${left}" y="${30 + k * 14}" font-size="11">${escapeXml(line)}</text>`);
  });
  if (!vector) {
    parts.push(
      `<image x="${left}" y="${top}" width="${cellWidth * input.columns}" height="${cellHeight * input.rows}" image-rendering="pixelated" preserveAspectRatio="none" href="${input.pngDataUrl!()}"/>`,
    );
  } else {
    for (let r = 0; r < input.rows; r++) {
      for (let c = 0; c < input.columns; c++) {
        const i = (r * input.columns + c) * 4;
        const [red, green, blue] = [input.rgba[i], input.rgba[i + 1], input.rgba[i + 2]];
        parts.push(
          `<rect x="${left + c * cellWidth}" y="${top + r * cellHeight}" width="${cellWidth}" height="${cellHeight}" fill="rgb(${red},${green},${blue})"/>`,
        );
      }
    }
  }
  if (rowLabels) {
    const font = Math.min(11, cellHeight - 1);
    input.rowNames.forEach((name, r) => {
      parts.push(
        `<text x="${left - 4}" y="${top + (r + 0.5) * cellHeight}" font-size="${font}" text-anchor="end" dominant-baseline="middle">${escapeXml(name)}</text>`,
      );
    });
  }
  if (columnLabels) {
    const font = Math.min(11, cellWidth - 1);
    input.columnNames.forEach((name, c) => {
      const x = left + (c + 0.5) * cellWidth;
      parts.push(
        `<text transform="translate(${x},${top - 4}) rotate(-90)" font-size="${font}" dominant-baseline="middle">${escapeXml(name)}</text>`,
      );
    });
  }
  parts.push("</svg>");
  return parts.join("\n");
}
