// The alerts route of the plugin (docs/http_api.md, "Alerts"): every run's verdicts and
// evaluation regressions with their links, and the thresholds used.
import { getJson } from "../../core/api";
import type { AlertList } from "./shape";

export function fetchAlerts(): Promise<AlertList> {
  return getJson<AlertList>("alerts");
}
