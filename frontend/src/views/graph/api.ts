// The Structure routes of the plugin (graph/tags, graph/series, graph/step) and the Training
// health routes of the same run that colour the graph and fill the details panel.
import { KindClient, type TagListing } from "../../core/api";
import type { HealthSeries } from "./health";
import type { WireGraph } from "./wire";

const graphs = new KindClient("graph", 8);
const health = new KindClient("distributions", 64);

export interface GraphStepSummary {
  step: number;
  wall_time: number;
  nodes: number;
  edges: number;
  params: number;
}

export interface GraphStep {
  step: number;
  wall_time: number;
  graph: WireGraph;
}

export function fetchTags(): Promise<TagListing> {
  return graphs.tags();
}

export async function fetchSeries(run: string, tag: string): Promise<GraphStepSummary[]> {
  return (await graphs.get<{ steps: GraphStepSummary[] }>("series", { run, tag })).steps;
}

/** One graph, cached; `wallTime` tells a rewritten step from the cached one. */
export function fetchGraph(run: string, tag: string, step: number, wallTime?: number): Promise<GraphStep> {
  return graphs.cached<GraphStep>("step", { run, tag, step }, wallTime);
}

export function fetchHealthTags(): Promise<TagListing> {
  return health.tags();
}

export interface HealthSeriesAnswer extends HealthSeries {
  run: string;
  wall_times: number[];
}

export function fetchHealthSeries(run: string, tag: string, metric: string): Promise<HealthSeriesAnswer> {
  return health.get<HealthSeriesAnswer>("series", { run, tag, metric });
}

/** One tensor's statistics at a step, as `distributions/step` gives them. */
export interface TensorStats {
  name: string;
  norm: number | null;
  nan: number | null;
  posinf: number | null;
  neginf: number | null;
  mean: number | null;
  std: number | null;
  extras: Record<string, number | null>;
}

export interface HealthStep {
  step: number;
  tensors: TensorStats[];
}

export function fetchHealthStep(run: string, tag: string, step: number, version: string): Promise<HealthStep> {
  return health.cached<HealthStep>("step", { run, tag, step }, version);
}
