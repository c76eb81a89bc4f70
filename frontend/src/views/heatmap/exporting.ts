// Export of the tensor image: PNG of the canvas as drawn; SVG through core's heatmapSvg (vector
// cells up to 150 per side, the raster embedded beyond), with the summary, the reduction note and
// the legend as text lines. Names go through escapeXml there.
import { el } from "../../core/dom";
import { downloadPng, downloadSvg, fileStem, heatmapSvg, rgbaDataUrl } from "../../core/export";
import type { Drawn } from "./panel";
import { reducedNote, summaryText } from "./shape";

export function tensorSvg(drawn: Drawn): string {
  const { step, reference, stat } = drawn.shown;
  const meta = step.meta;
  return heatmapSvg({
    rows: meta.stored_rows,
    columns: meta.stored_cols,
    rgba: drawn.rgba,
    rowNames: drawn.rowNames,
    columnNames: drawn.columnNames,
    title: `${drawn.tag} · ${drawn.run} · step ${meta.step}${reference ? ` · difference against ${reference.label}` : ""}`,
    lines: [summaryText(meta), reducedNote(meta, stat), drawn.legendText].filter(Boolean),
    pngDataUrl: () => rgbaDataUrl(drawn.rgba, meta.stored_cols, meta.stored_rows),
  });
}

export interface ExportSource {
  canvas: HTMLCanvasElement;
  drawn(): Drawn | null;
}

/** The sidebar's "export view" field: PNG and SVG, named after run, tag and step. */
export function exportField(source: ExportSource): HTMLElement {
  const stem = () => {
    const d = source.drawn();
    return fileStem(d?.run ?? "tensor", d?.tag ?? "", `step${d?.shown.step.meta.step ?? 0}`);
  };
  const png = el("button", { text: "PNG" });
  const svg = el("button", { text: "SVG" });
  png.addEventListener("click", () => downloadPng(source.canvas, stem()));
  svg.addEventListener("click", () => {
    const drawn = source.drawn();
    if (drawn) downloadSvg(tensorSvg(drawn), stem());
  });
  return el("div", { className: "ml-field" }, [
    el("span", { text: "export view" }),
    el("div", { className: "ml-row" }, [png, svg]),
  ]);
}
