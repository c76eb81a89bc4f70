// The confusion-matrix routes of the plugin, with a small cache of fetched steps.
import { getJson } from "../../core/api";
import type { SeriesPoint, StepData } from "./shape";

export type TagListing = Record<string, string[]>; // run → tags

export async function fetchTags(): Promise<TagListing> {
  return (await getJson<{ runs: TagListing }>("confusion/tags")).runs;
}

export async function fetchSeries(run: string, tag: string): Promise<SeriesPoint[]> {
  return (await getJson<{ steps: SeriesPoint[] }>("confusion/series", { run, tag })).steps;
}

const CACHE_LIMIT = 64;
const cache = new Map<string, Promise<StepData>>();

/** One step, cached; `wallTime` (from the series) tells a rewritten step from the cached one. */
export function fetchStep(run: string, tag: string, step: number, wallTime?: number): Promise<StepData> {
  const key = JSON.stringify([run, tag, step, wallTime ?? null]);
  let pending = cache.get(key);
  if (pending) {
    cache.delete(key); // re-insert: most recently used last
  } else {
    pending = getJson<StepData>("confusion/step", { run, tag, step });
    pending.catch(() => cache.delete(key));
  }
  cache.set(key, pending);
  if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  return pending;
}
