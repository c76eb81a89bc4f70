// Export of the Predictions charts, each as SVG (core's chart SVG, names through escapeXml; the
// scatter's canvas embedded as an image) and PNG (that SVG rasterized on a canvas), named after
// the run, tag, step and chart.
import { el } from "../../core/dom";
import { fileStem } from "../../core/export";
import type { XYChart } from "../../core/xychart";

export interface ExportChart {
  name: string; // "scatter", "residuals" …
  title: string; // its heading
  chart: XYChart;
}

export interface ExportSource {
  charts(): ExportChart[]; // the charts of the shown task
  run(): string;
  tag(): string;
  step(): number | null;
}

/** The sidebar's export field: a chart picker (refreshed after each draw) and PNG / SVG buttons. */
export function exportField(source: ExportSource): { element: HTMLElement; refresh: () => void } {
  const picker = el("select", { attrs: { "aria-label": "chart to export" } });
  const refresh = () => {
    const charts = source.charts();
    const keep = picker.value;
    picker.replaceChildren(...charts.map((c) => el("option", { text: c.title, attrs: { value: c.name } })));
    if (charts.some((c) => c.name === keep)) picker.value = keep;
  };
  picker.addEventListener("focus", refresh);
  const chosen = () => {
    refresh();
    return source.charts().find((c) => c.name === picker.value) ?? source.charts()[0];
  };
  const stem = (c: ExportChart) => fileStem(source.run(), source.tag(), `step${source.step() ?? 0}`, c.name);
  const title = (c: ExportChart) => `${c.title} · ${source.tag()} · ${source.run()} · step ${source.step() ?? ""}`;
  const png = el("button", { text: "PNG", attrs: { "aria-label": "chart PNG" } });
  const svg = el("button", { text: "SVG", attrs: { "aria-label": "chart SVG" } });
  png.addEventListener("click", () => {
    const c = chosen();
    if (c) void c.chart.downloadPng(title(c), stem(c));
  });
  svg.addEventListener("click", () => {
    const c = chosen();
    if (c) c.chart.downloadSvg(title(c), stem(c));
  });
  const element = el("div", { className: "ml-field" }, [
    el("span", { text: "export chart" }),
    picker,
    el("div", { className: "ml-row" }, [png, svg]),
  ]);
  return { element, refresh };
}
