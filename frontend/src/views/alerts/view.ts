// The Alerts page: every run's training-health verdicts and evaluation regressions from
// `GET alerts` in one sortable table (severity, run, tag, subject, message, first and last step),
// filtered by severity, run and text, each row with a link to the view that shows it (Time
// Series: TensorBoard's own tab, in the top window); the thresholds used; CSV and JSON download
// of the rows shown. Polled like the other views. Every name is set as text.
import { el, labelled, replaceOptions, select } from "../../core/dom";
import { Staleness } from "../../core/guard";
import { POLL_INTERVAL_MS } from "../../core/picker";
import { SortableTable, type Column } from "../../core/table";
import { fetchAlerts } from "./api";
import { downloadField } from "./exporting";
import {
  filterAlerts,
  navigation,
  severityCounts,
  sortAlerts,
  thresholdItems,
  timeSeriesUrl,
  viewTitle,
  type Alert,
  type AlertFilter,
  type AlertList,
  type SortKey,
} from "./shape";

export class AlertsView {
  readonly sidebar = el("div", { className: "ml-sidebar-section" });
  readonly main = el("div", { className: "ml-view" });
  private list: AlertList = { alerts: [], thresholds: {}, runs: [] };
  private loaded = false;
  private staleness = new Staleness();
  private timer: number | undefined;
  private active: Alert | null = null;
  private sorted: { key: SortKey; descending: boolean } = { key: "severity", descending: false };

  private severity = select([
    ["all", "all"],
    ["error", "errors"],
    ["warning", "warnings"],
  ]);
  private run = select([["", "all runs"]]);
  private search = el("input", {
    attrs: { type: "search", placeholder: "tag, subject, message…", "aria-label": "search alerts" },
  });
  private status = el("div", { className: "ml-note", attrs: { role: "status" } });
  private thresholds = el("dl", { className: "ml-alert-thresholds" });
  private table: SortableTable<Alert>;

  /** `titles`: the dashboard's view names by id, for the link buttons. */
  constructor(private readonly titles: Record<string, string> = {}) {
    const text = (value: (a: Alert) => string | number | null) => (a: Alert) => String(value(a) ?? "");
    const columns: Column<Alert>[] = [
      { key: "severity", label: "severity", text: text((a) => a.severity), node: (a) => this.badge(a) },
      { key: "run", label: "run", text: text((a) => a.run) },
      { key: "tag", label: "tag", text: text((a) => a.tag) },
      { key: "subject", label: "subject", text: text((a) => a.subject ?? "—") },
      { key: "message", label: "message", text: text((a) => a.message) },
      { key: "first_step", label: "first step", text: text((a) => a.first_step) },
      { key: "last_step", label: "last step", text: text((a) => a.last_step) },
      {
        key: "link",
        label: "open",
        text: (a) => `open in ${viewTitle(a.view, this.titles)}`,
        node: (a) => this.link(a),
        fixed: true,
        help: "the view that shows it",
      },
    ];
    this.table = new SortableTable<Alert>({
      ariaLabel: "alerts",
      columns,
      key: "severity",
      rows: (key, descending) => {
        this.sorted = { key: key as SortKey, descending };
        return this.shownRows();
      },
      onPick: (alert) => {
        this.active = alert;
        this.table.render();
      },
      isActive: (alert) => alert === this.active,
      rowClass: (alert) => `ml-alert-row-${alert.severity === "error" ? "error" : "warning"}`,
    });
    this.table.element.classList.add("ml-alerts-table");
    this.sidebar.append(
      labelled("severity", this.severity),
      labelled("run", this.run),
      labelled("search", this.search),
      downloadField(
        () => this.shownRows(),
        () => this.list,
      ),
    );
    this.main.append(
      el("h2", { text: "Alerts across all runs" }),
      this.status,
      this.table.element,
      el("section", { className: "ml-alert-thresholds-box", attrs: { "aria-label": "thresholds" } }, [
        el("h2", { text: "thresholds used" }),
        this.thresholds,
      ]),
    );
    for (const control of [this.severity, this.run]) control.addEventListener("change", () => this.refresh());
    this.search.addEventListener("input", () => this.refresh());
  }

  async start(): Promise<void> {
    if (this.timer === undefined) this.timer = window.setInterval(() => void this.load(), POLL_INTERVAL_MS);
    await this.load();
  }

  /** The rows that pass the filter, in the table's order. */
  shownRows(): Alert[] {
    return sortAlerts(filterAlerts(this.list.alerts, this.filter()), this.sorted.key, this.sorted.descending);
  }

  private filter(): AlertFilter {
    return {
      severity: this.severity.value as AlertFilter["severity"],
      run: this.run.value,
      text: this.search.value,
    };
  }

  private async load(): Promise<void> {
    const token = this.staleness.next();
    let list: AlertList;
    try {
      list = await fetchAlerts();
    } catch (error) {
      if (!this.staleness.isCurrent(token)) return;
      this.status.textContent = `Could not load alerts: ${error instanceof Error ? error.message : String(error)}`;
      this.status.classList.add("ml-error");
      return;
    }
    if (!this.staleness.isCurrent(token)) return;
    this.list = list;
    this.loaded = true;
    this.status.classList.remove("ml-error");
    const runs = [...list.runs].sort();
    replaceOptions(this.run, [["", "all runs"], ...runs.map((r): [string, string] => [r, r])], this.run.value);
    this.thresholds.replaceChildren(
      ...thresholdItems(list.thresholds).flatMap(([name, value]) => [
        el("dt", { text: name }),
        el("dd", { text: value }),
      ]),
    );
    this.refresh();
  }

  private refresh(): void {
    this.table.render();
    if (!this.loaded) return;
    const all = this.list.alerts;
    const shown = this.shownRows();
    const { errors, warnings } = severityCounts(all);
    const runs = this.list.runs.length;
    this.status.textContent = all.length
      ? `${plural(all.length, "alert")} (${plural(errors, "error")}, ${plural(warnings, "warning")}) ` +
        `in ${plural(runs, "run")}` +
        (shown.length === all.length ? "" : ` · showing ${shown.length}`)
      : "No alerts with these thresholds. This page gathers the Training health verdicts and the " +
        "evaluation regressions (recall and AUC drops, validation accuracy falling while training " +
        "accuracy rises) of every run.";
    this.main.dataset.alerts = String(all.length);
    this.main.dataset.shown = String(shown.length);
  }

  private badge(alert: Alert): HTMLElement {
    const error = alert.severity === "error";
    return el("span", {
      className: `ml-severity-badge ml-severity-badge-${error ? "error" : "warning"}`,
      text: `${error ? "✖" : "⚠"} ${alert.severity}`,
    });
  }

  /** A row's link: TensorBoard's Time Series tab in the top window, or another ModelLens view. */
  private link(alert: Alert): HTMLElement {
    const text = `open in ${viewTitle(alert.view, this.titles)}`;
    if (alert.view === "timeseries") {
      return el("a", {
        className: "ml-open-link",
        text,
        attrs: { href: timeSeriesUrl(document.baseURI, alert), target: "_top" },
      });
    }
    const button = el("button", { className: "ml-open-link", text, attrs: { "data-view": alert.view } });
    button.addEventListener("click", () => {
      this.active = alert;
      window.dispatchEvent(new CustomEvent("modellens-navigate", { detail: navigation(alert) }));
    });
    return button;
  }
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
