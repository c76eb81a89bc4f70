// The tensor-heatmap routes of the plugin (docs/http_api.md, "Tensor heatmaps"). A step is
// shaped once into typed arrays and kept in a small cache (a 1024 × 1024 step is ~10 MB shaped),
// keyed by its wall time from the series so that a rewritten step is fetched again.
import { KindClient, RequestCache, type TagListing } from "../../core/api";
import { shapeStep, type SeriesPoint, type StepJson, type TensorStep } from "./shape";

const client = new KindClient("heatmap", 4);
const steps = new RequestCache<TensorStep>(8);

export function fetchTags(): Promise<TagListing> {
  return client.tags();
}

export async function fetchSeries(run: string, tag: string): Promise<SeriesPoint[]> {
  return (await client.get<{ steps: SeriesPoint[] }>("series", { run, tag })).steps;
}

/** One step, shaped; `onArrival` runs when its JSON is parsed, before shaping (draw timing);
 * the shaped step's `shapeMs` says how long shaping took. */
export function fetchStep(
  run: string,
  tag: string,
  step: number,
  wallTime?: number,
  onArrival?: () => void,
): Promise<TensorStep> {
  const key = JSON.stringify([run, tag, step, wallTime ?? null]);
  return steps.get(key, async () => {
    const json = await client.get<StepJson>("step", { run, tag, step });
    onArrival?.();
    const started = performance.now();
    const shaped = shapeStep(json);
    shaped.shapeMs = performance.now() - started;
    return shaped;
  });
}
