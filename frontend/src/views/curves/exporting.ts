// Export of the ROC and PR charts: SVG (core's chart SVG, names through escapeXml) and PNG (that
// SVG rasterized on a canvas), named after the run, tag and step.
import { el } from "../../core/dom";
import { fileStem } from "../../core/export";
import type { XYChart } from "../../core/xychart";

export interface ExportSource {
  roc: XYChart;
  pr: XYChart;
  run(): string;
  tag(): string;
  step(): number | null;
  note(): string; // e.g. "difference against run b, step 3"
}

export function exportFields(source: ExportSource): HTMLElement[] {
  const field = (which: "ROC" | "PR", chart: XYChart) => {
    const stem = () => fileStem(source.run(), source.tag(), `step${source.step() ?? 0}`, which.toLowerCase());
    const title = () =>
      [`${which} · ${source.tag()} · ${source.run()} · step ${source.step() ?? ""}`, source.note()]
        .filter(Boolean)
        .join(" · ");
    const png = el("button", { text: "PNG", attrs: { "aria-label": `${which} PNG` } });
    const svg = el("button", { text: "SVG", attrs: { "aria-label": `${which} SVG` } });
    png.addEventListener("click", () => void chart.downloadPng(title(), stem()));
    svg.addEventListener("click", () => chart.downloadSvg(title(), stem()));
    return el("div", { className: "ml-field" }, [
      el("span", { text: `export ${which}` }),
      el("div", { className: "ml-row" }, [png, svg]),
    ]);
  };
  return [field("ROC", source.roc), field("PR", source.pr)];
}
