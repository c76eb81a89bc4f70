// The Training health data of the graph's run: which watch() tags it has (and under which
// prefix), their series for colouring (gradient norm, update ratio, NaN/Inf counts) and, for the
// details panel, every tensor's statistics at one step.
import { fetchHealthSeries, fetchHealthStep, fetchHealthTags, type HealthSeriesAnswer, type TensorStats } from "./api";
import { MAX_TENSOR_ROWS, type HealthDetail, type TensorRow } from "./details";
import {
  aggregate,
  defaultPrefix,
  firstNonfinite,
  healthPrefixes,
  subtreeTensors,
  valuesAt,
  type HealthSeries,
} from "./health";
import type { ColorBy } from "./paint";
import type { GraphModel } from "./wire";

export class HealthSource {
  run = "";
  prefix: string | null = null;
  tags: string[] = [];
  gradNorm: HealthSeriesAnswer | null = null;
  updateRatio: HealthSeriesAnswer | null = null;
  nonfinite: HealthSeriesAnswer[] = [];
  steps: number[] = [];
  version = "";

  get available(): boolean {
    return this.prefix !== null && this.steps.length > 0;
  }

  /** Loads the run's health series (again on a poll); false when the run has none. */
  async load(run: string, graphTag: string): Promise<boolean> {
    let listing: Record<string, string[]>;
    try {
      listing = await fetchHealthTags();
    } catch {
      listing = {};
    }
    this.run = run;
    this.tags = listing[run] ?? [];
    this.prefix = defaultPrefix(healthPrefixes(this.tags), graphTag);
    this.gradNorm = this.updateRatio = null;
    this.nonfinite = [];
    this.steps = [];
    if (this.prefix === null) return false;
    const get = async (kind: string, metric: string) => {
      const tag = `${this.prefix}${kind}`;
      if (!this.tags.includes(tag)) return null;
      try {
        return await fetchHealthSeries(run, tag, metric);
      } catch {
        return null; // e.g. a tag without that metric
      }
    };
    const [gradNorm, updateRatio, gradBad, weightBad, weightNorm] = await Promise.all([
      get("gradients", "norm"),
      get("updates", "update_ratio"),
      get("gradients", "nonfinite"),
      get("weights", "nonfinite"),
      get("weights", "norm"),
    ]);
    this.gradNorm = gradNorm;
    this.updateRatio = updateRatio;
    this.nonfinite = [gradBad, weightBad].filter((s): s is HealthSeriesAnswer => s !== null);
    const reference = gradNorm ?? weightNorm ?? updateRatio;
    this.steps = reference?.steps ?? [];
    const last = (reference?.steps.length ?? 0) - 1;
    this.version = reference && last >= 0 ? `${reference.steps[last]}:${reference.wall_times[last]}` : "";
    return this.available;
  }

  modes(): ColorBy[] {
    const modes: ColorBy[] = ["type", "params"];
    if (this.gradNorm) modes.push("grad_norm");
    if (this.updateRatio) modes.push("update_ratio");
    if (this.nonfinite.length) modes.push("nonfinite");
    return modes;
  }

  /** Per display node, what `mode` colours by at `step`. */
  values(model: GraphModel, owners: Map<string, number>, mode: ColorBy, step: number) {
    const at = (series: HealthSeries | null, combine: "rss" | "max") =>
      series ? aggregate(model, owners, valuesAt(series, nearest(series.steps, step)), combine) : undefined;
    if (mode === "grad_norm") return { values: at(this.gradNorm, "rss") };
    if (mode === "update_ratio") return { values: at(this.updateRatio, "max") };
    if (mode === "nonfinite") return { first: firstNonfinite(model, owners, this.nonfinite, step) };
    return {};
  }

  /** The tag that a tensor link opens in Training health. */
  linkTag(): string {
    for (const kind of ["gradients", "weights", "updates"]) {
      if (this.tags.includes(`${this.prefix}${kind}`)) return `${this.prefix}${kind}`;
    }
    return "";
  }

  /** The node's tensors (its own and its descendants') at `step`, from every watch() tag. */
  async detail(model: GraphModel, node: number, step: number): Promise<HealthDetail> {
    const names = subtreeTensors(model, node);
    const shown = names.slice(0, MAX_TENSOR_ROWS);
    const byTag = new Map<string, Map<string, TensorStats>>();
    await Promise.all(
      ["weights", "gradients", "updates"].map(async (kind) => {
        const tag = `${this.prefix}${kind}`;
        if (!this.tags.includes(tag) || !shown.length) return;
        try {
          const answer = await fetchHealthStep(this.run, tag, step, this.version);
          byTag.set(kind, new Map(answer.tensors.map((t) => [t.name, t])));
        } catch {
          // this tag has no such step
        }
      }),
    );
    const rows: TensorRow[] = shown.map((name) => ({
      name,
      weights: byTag.get("weights")?.get(name),
      gradients: byTag.get("gradients")?.get(name),
      updates: byTag.get("updates")?.get(name),
    }));
    return { step, rows, more: names.length - shown.length };
  }
}

/** The logged step of `steps` at or before `step` (series of one run can differ in steps). */
function nearest(steps: number[], step: number): number {
  let found = steps[0] ?? step;
  for (const s of steps) if (s <= step) found = s;
  return found;
}
