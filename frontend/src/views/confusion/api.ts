// The confusion-matrix routes of the plugin, with a small cache of fetched steps.
import { KindClient, type TagListing } from "../../core/api";
import type { SeriesPoint, StepData } from "./shape";

const client = new KindClient("confusion", 64);

export function fetchTags(): Promise<TagListing> {
  return client.tags();
}

export async function fetchSeries(run: string, tag: string): Promise<SeriesPoint[]> {
  return (await client.get<{ steps: SeriesPoint[] }>("series", { run, tag })).steps;
}

/** One step, cached; `wallTime` (from the series) tells a rewritten step from the cached one. */
export function fetchStep(run: string, tag: string, step: number, wallTime?: number): Promise<StepData> {
  return client.cached<StepData>("step", { run, tag, step }, wallTime);
}
