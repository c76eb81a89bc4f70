// The ROC / PR routes of the plugin: tags, series and step (JSON), and one class's curve (or the
// micro average), cached; a step's wall time (from the series) tells a rewritten step from the
// cached copy.
import { KindClient, type TagListing } from "../../core/api";
import type { ClassKey, CurveData, SeriesPoint, StepData } from "./shape";

const steps = new KindClient("curves", 64);
const curves = new KindClient("curves", 256);

export function fetchTags(): Promise<TagListing> {
  return steps.tags();
}

export async function fetchSeries(run: string, tag: string): Promise<SeriesPoint[]> {
  return (await steps.get<{ steps: SeriesPoint[] }>("series", { run, tag })).steps;
}

export function fetchStep(run: string, tag: string, step: number, wallTime?: number): Promise<StepData> {
  return steps.cached<StepData>("step", { run, tag, step }, wallTime);
}

/** One class's curve (`"micro"`: the micro average of a multi-class step). */
export function fetchCurve(
  run: string,
  tag: string,
  step: number,
  key: ClassKey,
  wallTime?: number,
): Promise<CurveData> {
  return curves.cached<CurveData>("curve", { run, tag, step, class: key }, wallTime);
}
