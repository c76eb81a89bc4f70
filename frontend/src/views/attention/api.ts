// The attention routes of the plugin: tags, series and step (JSON), one map and a step's
// thumbnails (binary, parsed once by ./wire). Steps, maps and thumbnails are cached; a step's
// wall time (from the series) tells a rewritten step from the cached copy.
import { KindClient, type TagListing } from "../../core/api";
import { mapParams, type MapRef, type SeriesPoint, type StepData } from "./shape";
import { parseMap, parseThumbnails, type AttentionMap, type Thumbnails } from "./wire";

const steps = new KindClient("attention", 64);
const maps = new KindClient("attention", 64);
const thumbnails = new KindClient("attention", 16);

export function fetchTags(): Promise<TagListing> {
  return steps.tags();
}

export async function fetchSeries(run: string, tag: string): Promise<SeriesPoint[]> {
  return (await steps.get<{ steps: SeriesPoint[] }>("series", { run, tag })).steps;
}

export function fetchStep(run: string, tag: string, step: number, wallTime?: number): Promise<StepData> {
  return steps.cached<StepData>("step", { run, tag, step }, wallTime);
}

/** One map, cached by run, tag, step, layer and head. */
export function fetchMap(
  run: string,
  tag: string,
  step: number,
  ref: MapRef,
  wallTime?: number,
): Promise<AttentionMap> {
  return maps.cachedBytes("map", { run, tag, step, ...mapParams(ref) }, parseMap, wallTime);
}

/** Every map's thumbnail of a step, in map order: one request. */
export function fetchThumbnails(run: string, tag: string, step: number, wallTime?: number): Promise<Thumbnails> {
  return thumbnails.cachedBytes("thumbnails", { run, tag, step }, parseThumbnails, wallTime);
}
