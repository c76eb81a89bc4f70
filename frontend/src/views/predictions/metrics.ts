// The metrics of the step (MAE, RMSE, R² … or accuracy, ECE, MCE), beside a reference's and the
// difference when comparing; exact values in each cell's tooltip.
import { el } from "../../core/dom";
import { formatExact, formatShort } from "../../core/format";
import { formatDelta, metricRows, type StepData } from "./shape";

export class MetricsTable {
  readonly element = el("table", { className: "ml-table ml-pred-metrics", attrs: { "aria-label": "metrics" } });

  update(step: StepData, reference: StepData | null, referenceLabel: string): void {
    const rows = metricRows(step, reference);
    const compare = reference !== null && reference.task === step.task;
    const cell = (value: number | null) =>
      el("td", { text: formatShort(value, 6), title: formatExact(value), attrs: { "data-value": formatExact(value) } });
    const head = el("tr", {}, [
      el("th", { text: "metric" }),
      el("th", { text: `step ${step.step}` }),
      ...(compare ? [el("th", { text: referenceLabel, title: referenceLabel }), el("th", { text: "difference" })] : []),
    ]);
    const body = rows.map((row) =>
      el("tr", { attrs: { "data-metric": row.name } }, [
        el("td", { text: row.name }),
        cell(row.value),
        ...(compare ? [cell(row.reference), el("td", { text: formatDelta(row.value, row.reference) })] : []),
      ]),
    );
    this.element.replaceChildren(el("thead", {}, [head]), el("tbody", {}, body));
  }
}
