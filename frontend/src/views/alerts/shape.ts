// Pure shaping for the Alerts page (no DOM, unit-tested under node): sorting and filtering the
// rows of `GET alerts`, the navigation a row's link asks for, TensorBoard's Time Series URL for
// scalar alerts, and the CSV/JSON download.

export type Severity = "error" | "warning";

export interface AlertLink {
  view: string;
  run: string;
  tag: string;
  tensor?: string | null;
  step: number;
}

/** One row of `GET alerts` (docs/http_api.md, "Alerts"). */
export interface Alert {
  run: string;
  tag: string;
  source: "health" | "evaluation" | string;
  severity: Severity | string;
  code: string;
  subject: string | null;
  message: string;
  first_step: number;
  last_step: number;
  view: string;
  link: AlertLink;
}

export interface AlertList {
  alerts: Alert[];
  thresholds: Record<string, number>;
  runs: string[];
}

export type SortKey = "severity" | "run" | "tag" | "subject" | "message" | "first_step" | "last_step" | "code";

export function severityRank(severity: string): number {
  return severity === "error" ? 0 : severity === "warning" ? 1 : 2;
}

const compareText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The server's order, the default: errors first, then by run, tag, first step, code. */
export function defaultOrder(a: Alert, b: Alert): number {
  return (
    severityRank(a.severity) - severityRank(b.severity) ||
    compareText(a.run, b.run) ||
    compareText(a.tag, b.tag) ||
    a.first_step - b.first_step ||
    compareText(a.code, b.code) ||
    compareText(a.subject ?? "", b.subject ?? "")
  );
}

/** The rows sorted by `key` (ties in the default order); `descending` reverses the key only. */
export function sortAlerts(alerts: readonly Alert[], key: SortKey, descending = false): Alert[] {
  const by = (a: Alert, b: Alert): number => {
    switch (key) {
      case "severity":
        return severityRank(a.severity) - severityRank(b.severity);
      case "first_step":
      case "last_step":
        return a[key] - b[key];
      case "subject":
        // rows without a subject last, whichever the direction
        if ((a.subject === null) !== (b.subject === null))
          return a.subject === null ? (descending ? -1 : 1) : descending ? 1 : -1;
        return compareText(a.subject ?? "", b.subject ?? "");
      default:
        return compareText(a[key], b[key]);
    }
  };
  return [...alerts].sort((a, b) => (descending ? -by(a, b) : by(a, b)) || defaultOrder(a, b));
}

export interface AlertFilter {
  severity: "all" | Severity;
  run: string; // "" for every run
  text: string; // case-insensitive, in run, tag, subject, message, code or view
}

export function filterAlerts(alerts: readonly Alert[], filter: AlertFilter): Alert[] {
  const words = filter.text.toLowerCase().split(/\s+/).filter(Boolean);
  return alerts.filter((alert) => {
    if (filter.severity !== "all" && alert.severity !== filter.severity) return false;
    if (filter.run && alert.run !== filter.run) return false;
    if (!words.length) return true;
    const haystack = [alert.run, alert.tag, alert.subject ?? "", alert.message, alert.code, alert.view]
      .join("\n")
      .toLowerCase();
    return words.every((word) => haystack.includes(word));
  });
}

/** How many rows of each severity. */
export function severityCounts(alerts: readonly Alert[]): { errors: number; warnings: number } {
  let errors = 0;
  let warnings = 0;
  for (const alert of alerts) {
    if (alert.severity === "error") errors++;
    else warnings++;
  }
  return { errors, warnings };
}

/** What a row's link dispatches as `modellens-navigate` (views other than "timeseries"). */
export function navigation(alert: Alert): { view: string; run: string; tag: string; tensor?: string; step: number } {
  const { view, run, tag, tensor, step } = alert.link;
  return tensor === undefined || tensor === null ? { view, run, tag, step } : { view, run, tag, tensor, step };
}

/** TensorBoard's root URL from the plugin page's base (`<root>/data/plugin/modellens/`). */
export function tensorBoardRoot(baseURI: string): string {
  const url = new URL(baseURI);
  const suffix = "data/plugin/modellens/";
  const path = url.pathname.endsWith(suffix)
    ? url.pathname.slice(0, -suffix.length)
    : new URL("../../../", url).pathname; // base elsewhere: three levels up, as TensorBoard serves it
  return `${url.origin}${path}`;
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

/** The tags a Time Series link shows: the alert's tag and, for `overfitting`, its training
 * counterpart, named by the subject: a tag of the same run ("train/accuracy"), or
 * "<train run>/<tag>" across runs (Keras' train/validation runs), where every "/"-suffix is a
 * candidate tag. */
export function timeSeriesTags(alert: Alert): string[] {
  const tags = [alert.link.tag || alert.tag];
  if (alert.code === "overfitting" && alert.subject) {
    const parts = alert.subject.split("/");
    for (let k = 0; k < parts.length; k++) tags.push(parts.slice(k).join("/"));
  }
  return [...new Set(tags.filter(Boolean))];
}

/** TensorBoard's Time Series tab, filtered to the alert's tags (its deep links' `tagFilter`
 * query parameter, a regular expression) and, but for `overfitting` whose training series may
 * be in another run, to its run (`runFilter`). */
export function timeSeriesUrl(baseURI: string, alert: Alert): string {
  const tags = timeSeriesTags(alert).map(escapeRegExp);
  const query = new URLSearchParams({ tagFilter: tags.length > 1 ? `^(${tags.join("|")})$` : `^${tags[0]}$` });
  if (alert.code !== "overfitting") query.set("runFilter", `^${escapeRegExp(alert.link.run || alert.run)}$`);
  return `${tensorBoardRoot(baseURI)}?${query}#timeseries`;
}

export const CSV_COLUMNS: Array<keyof Alert> = [
  "severity",
  "run",
  "tag",
  "subject",
  "code",
  "message",
  "first_step",
  "last_step",
  "source",
  "view",
];

/** A CSV field: quoted when needed; text that a spreadsheet would run as a formula
 * (= + - @, tab, CR) gets a leading apostrophe. */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) || text !== text.trim() ? `"${text.replace(/"/g, '""')}"` : text;
}

export function alertsCsv(alerts: readonly Alert[]): string {
  const lines = [CSV_COLUMNS.join(",")];
  for (const alert of alerts) lines.push(CSV_COLUMNS.map((c) => csvField(alert[c])).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** The thresholds as "name value" lines, in name order. */
export function thresholdItems(thresholds: Record<string, number>): Array<[string, string]> {
  return Object.keys(thresholds)
    .sort()
    .map((name) => [name.replace(/_/g, " "), String(thresholds[name])]);
}

/** A human name of the view a row links to. */
export function viewTitle(view: string, titles: Record<string, string>): string {
  if (view === "timeseries") return "Time Series";
  return titles[view] ?? view;
}
