// SVG export of the matrix: vector cells and labels for matrices up to 150 classes, the
// raster heatmap embedded as an image (with vector labels omitted) beyond that.
import { escapeXml } from "./shape";

export interface SvgInput {
  n: number;
  rgba: Uint8ClampedArray;
  rowNames: string[];
  columnNames: string[];
  title: string;
  pngDataUrl?: () => string; // used above the vector limit
}

const VECTOR_LIMIT = 150;

export function matrixSvg(input: SvgInput): string {
  const cell = Math.max(4, Math.min(28, Math.floor(720 / input.n)));
  const left = input.n <= VECTOR_LIMIT ? 140 : 10;
  const top = input.n <= VECTOR_LIMIT ? 140 : 30;
  const size = cell * input.n;
  const width = left + size + 10;
  const height = top + size + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${escapeXml(input.title)}</title>`,
    `<text x="${left}" y="16" font-size="12">${escapeXml(input.title)}</text>`,
  ];
  if (input.n > VECTOR_LIMIT && input.pngDataUrl) {
    parts.push(`<image x="${left}" y="${top}" width="${size}" height="${size}" image-rendering="pixelated" href="${input.pngDataUrl()}"/>`);
  } else {
    for (let r = 0; r < input.n; r++) {
      for (let c = 0; c < input.n; c++) {
        const i = (r * input.n + c) * 4;
        const [red, green, blue] = [input.rgba[i], input.rgba[i + 1], input.rgba[i + 2]];
        parts.push(`<rect x="${left + c * cell}" y="${top + r * cell}" width="${cell}" height="${cell}" fill="rgb(${red},${green},${blue})"/>`);
      }
    }
    const font = Math.min(11, cell - 1);
    input.rowNames.forEach((name, r) => {
      parts.push(`<text x="${left - 4}" y="${top + (r + 0.5) * cell}" font-size="${font}" text-anchor="end" dominant-baseline="middle">${escapeXml(name)}</text>`);
    });
    input.columnNames.forEach((name, c) => {
      const x = left + (c + 0.5) * cell;
      parts.push(`<text transform="translate(${x},${top - 4}) rotate(-90)" font-size="${font}" dominant-baseline="middle">${escapeXml(name)}</text>`);
    });
  }
  parts.push("</svg>");
  return parts.join("\n");
}
