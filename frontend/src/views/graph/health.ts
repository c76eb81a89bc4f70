// Training health on the graph: a node's parameter tensors (its `param_names`, which are the
// tensor names `modellens.torch.watch` logs) and their statistics at a step, aggregated over the
// node and its descendants: the gradient norm as the root of the summed squares, the update
// ratio as the largest, NaN/Inf as the total count and the step where it first appeared. Pure.
import type { GraphModel } from "./wire";

/** The part of a `distributions/series` answer used here. */
export interface HealthSeries {
  tag: string;
  metric: string;
  steps: number[];
  tensors: Array<{ name: string }>;
  values: Array<Array<number | null>>; // [tensor][step]
}

export type Combine = "rss" | "max" | "sum";

/** Tensor name → the display node that owns it. */
export function paramOwners(model: GraphModel): Map<string, number> {
  const owners = new Map<string, number>();
  const { strings, nodes } = model.wire;
  for (let i = 0; i < model.count; i++) {
    for (const s of nodes.param_names[i]) if (!owners.has(strings[s])) owners.set(strings[s], i);
  }
  return owners;
}

/** The tensors of a node and of its descendants, in model order. */
export function subtreeTensors(model: GraphModel, node: number): string[] {
  const out: string[] = [];
  const stack = [node];
  const { strings, nodes } = model.wire;
  const found: number[] = [];
  while (stack.length) {
    const i = stack.pop()!;
    found.push(i);
    for (let k = model.children[i].length - 1; k >= 0; k--) stack.push(model.children[i][k]);
  }
  for (const i of found) if (i < model.count) for (const s of nodes.param_names[i]) out.push(strings[s]);
  return out;
}

/** The index of `step` in `steps`, or of the last step before it; -1 when all are later. */
export function indexAtStep(steps: number[], step: number): number {
  let found = -1;
  for (let k = 0; k < steps.length && steps[k] <= step; k++) found = k;
  return found;
}

/** One value per tensor of `series` at `step` (null-free: absent tensors are left out). */
export function valuesAt(series: HealthSeries, step: number): Map<string, number> {
  const out = new Map<string, number>();
  const k = indexAtStep(series.steps, step);
  if (k < 0 || series.steps[k] !== step) return out; // a series without this step shows nothing
  series.tensors.forEach((t, i) => {
    const v = series.values[i]?.[k];
    if (v !== null && v !== undefined) out.set(t.name, v);
  });
  return out;
}

/** Per display node, the combination of its subtree's tensor values; NaN where it has none. */
export function aggregate(
  model: GraphModel,
  owners: Map<string, number>,
  values: Map<string, number>,
  combine: Combine,
): Float64Array {
  const acc = new Float64Array(model.size).fill(NaN);
  const add = (i: number, v: number) => {
    const old = acc[i];
    if (combine === "max") acc[i] = Number.isNaN(old) ? v : Math.max(old, v);
    else acc[i] = (Number.isNaN(old) ? 0 : old) + (combine === "rss" ? v * v : v);
  };
  for (const [name, v] of values) {
    const i = owners.get(name);
    if (i !== undefined) add(i, v);
  }
  // children come after their parents in preorder: walk it backwards
  for (let k = model.order.length - 1; k > 0; k--) {
    const i = model.order[k];
    if (!Number.isNaN(acc[i])) add(model.parent[i], combine === "rss" ? Math.sqrt(acc[i]) : acc[i]);
  }
  if (combine === "rss") for (let i = 0; i < acc.length; i++) acc[i] = Math.sqrt(acc[i]);
  return acc;
}

/** Per display node, the first step (at most `upTo`) where any of its subtree's tensors held
 * NaN or Inf in any of the `nonfinite`-count series; Infinity where none did, NaN without data. */
export function firstNonfinite(
  model: GraphModel,
  owners: Map<string, number>,
  series: HealthSeries[],
  upTo: number,
): Float64Array {
  const first = new Map<string, number>();
  for (const s of series) {
    s.tensors.forEach((t, i) => {
      let found = first.get(t.name) ?? Infinity;
      s.values[i]?.forEach((v, k) => {
        if (v !== null && v > 0 && s.steps[k] <= upTo) found = Math.min(found, s.steps[k]);
      });
      first.set(t.name, found);
    });
  }
  const acc = new Float64Array(model.size).fill(NaN);
  const take = (i: number, v: number) => {
    acc[i] = Number.isNaN(acc[i]) ? v : Math.min(acc[i], v);
  };
  for (const [name, v] of first) {
    const i = owners.get(name);
    if (i !== undefined) take(i, v);
  }
  for (let k = model.order.length - 1; k > 0; k--) {
    const i = model.order[k];
    if (!Number.isNaN(acc[i])) take(model.parent[i], acc[i]);
  }
  return acc;
}

export const HEALTH_KINDS = ["weights", "gradients", "updates"] as const;

/** The watch() tag prefixes a run has ("" for `weights`, "encoder/" for `encoder/weights`):
 * "" first, then in order. */
export function healthPrefixes(tags: string[]): string[] {
  const found = new Set<string>();
  for (const tag of tags) {
    for (const kind of HEALTH_KINDS) if (tag.endsWith(kind)) found.add(tag.slice(0, tag.length - kind.length));
  }
  return [...found].sort((a, b) => (a === "" ? -1 : b === "" ? 1 : a < b ? -1 : a > b ? 1 : 0));
}

/** The prefix to show with a graph logged under `graphTag`: the graph's own ("encoder/" for a
 * graph tagged "encoder"), else the bare one, else the first. */
export function defaultPrefix(prefixes: string[], graphTag: string): string | null {
  if (!prefixes.length) return null;
  if (prefixes.includes(`${graphTag}/`)) return `${graphTag}/`;
  return prefixes.includes("") ? "" : prefixes[0];
}
