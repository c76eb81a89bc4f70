// The "export view" field: PNG of the heatmap canvas as drawn, and SVG of the matrix in the shown
// class order, both named after the run, tag and step.
import { el } from "../../core/dom";
import { downloadPng, downloadSvg, fileStem, heatmapSvg, rgbaDataUrl } from "../../core/export";
import { size, type StepData } from "./shape";

/** What was drawn: the step, the class order and one RGBA pixel per cell in display order. */
export interface Drawn {
  data: StepData;
  order: number[];
  rgba: Uint8ClampedArray;
}

export interface ExportSource {
  canvas: HTMLCanvasElement;
  run(): string;
  tag(): string;
  drawn(): Drawn | null;
}

export function exportField(source: ExportSource): HTMLElement {
  const stem = () => fileStem(source.run(), source.tag(), `step${source.drawn()?.data.step ?? 0}`);
  const png = el("button", { text: "PNG" });
  const svg = el("button", { text: "SVG" });
  png.addEventListener("click", () => downloadPng(source.canvas, stem()));
  svg.addEventListener("click", () => {
    const drawn = source.drawn();
    if (drawn) downloadSvg(matrixSvg(drawn, `${source.tag()} · ${source.run()} · step ${drawn.data.step}`), stem());
  });
  return el("div", { className: "ml-field" }, [
    el("span", { text: "export view" }),
    el("div", { className: "ml-row" }, [png, svg]),
  ]);
}

function matrixSvg(drawn: Drawn, title: string): string {
  const n = size(drawn.data);
  const names = drawn.order.map((i) => drawn.data.class_names[i]);
  return heatmapSvg({
    rows: n,
    columns: n,
    rgba: drawn.rgba,
    rowNames: names,
    columnNames: names,
    title,
    pngDataUrl: () => rgbaDataUrl(drawn.rgba, n, n),
  });
}
