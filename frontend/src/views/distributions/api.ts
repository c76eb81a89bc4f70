// The training-health routes of the plugin (docs/http_api.md, "Training health"). Tensors are
// cached by the series' last step and wall time (seriesVersion), so a reload with new steps
// fetches them again and an unchanged one does not.
import { KindClient, type TagListing } from "../../core/api";
import type { Series, TensorSeries, VerdictList } from "./shape";

const client = new KindClient("distributions", 48);

export function fetchTags(): Promise<TagListing> {
  return client.tags();
}

export function fetchSeries(run: string, tag: string, metric: string): Promise<Series> {
  return client.get<Series>("series", { run, tag, metric });
}

export function fetchTensor(run: string, tag: string, name: string, version: string): Promise<TensorSeries> {
  return client.cached<TensorSeries>("tensor", { run, tag, name }, version);
}

export function fetchVerdicts(run: string, thresholds: Record<string, number>): Promise<VerdictList> {
  return client.get<VerdictList>("verdicts", { run, ...thresholds });
}
