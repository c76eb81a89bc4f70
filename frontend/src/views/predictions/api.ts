// The Predictions routes of the plugin: tags, series and step (JSON), steps cached; a step's
// wall time (from the series) tells a rewritten step from the cached copy.
import { KindClient, type TagListing } from "../../core/api";
import type { SeriesPoint, StepData } from "./shape";

const client = new KindClient("predictions", 32);

export function fetchTags(): Promise<TagListing> {
  return client.tags();
}

export async function fetchSeries(run: string, tag: string): Promise<SeriesPoint[]> {
  return (await client.get<{ steps: SeriesPoint[] }>("series", { run, tag })).steps;
}

export function fetchStep(run: string, tag: string, step: number, wallTime?: number): Promise<StepData> {
  return client.cached<StepData>("step", { run, tag, step }, wallTime);
}
