// Download of the Alerts page: the rows shown (filter and order applied) as CSV, or as JSON with
// the thresholds used. A table has no picture worth a PNG or SVG; CSV and JSON keep every name and
// step exactly and open in a spreadsheet or a script.
import { download, el } from "../../core/dom";
import { alertsCsv, type Alert, type AlertList } from "./shape";

export function downloadField(rows: () => Alert[], list: () => AlertList): HTMLElement {
  const csv = el("button", { text: "CSV", attrs: { "aria-label": "download CSV" } });
  const json = el("button", { text: "JSON", attrs: { "aria-label": "download JSON" } });
  csv.addEventListener("click", () =>
    download("modellens_alerts.csv", new Blob([alertsCsv(rows())], { type: "text/csv;charset=utf-8" })),
  );
  json.addEventListener("click", () => {
    const { thresholds, runs } = list();
    const text = JSON.stringify({ alerts: rows(), thresholds, runs }, null, 2);
    download("modellens_alerts.json", new Blob([text], { type: "application/json" }));
  });
  return el("div", { className: "ml-field" }, [
    el("span", { text: "download the rows shown" }),
    el("div", { className: "ml-row" }, [csv, json]),
  ]);
}
