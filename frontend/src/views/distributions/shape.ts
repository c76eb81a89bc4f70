// Pure data shaping for the training-health view: no DOM, unit-tested under node.
import type { ScaleKind } from "../../core/colors";

export interface TensorInfo {
  name: string;
  shape: number[];
  dtype: string;
  elements: number;
}

/** `distributions/series`: one metric of every tensor at every step. */
export interface Series {
  run: string;
  tag: string;
  metric: string;
  approximate: boolean;
  downsampled?: boolean; // an even sample of the steps (the series was too large for one read)
  metrics: string[];
  steps: number[];
  wall_times: number[];
  tensors: TensorInfo[];
  values: Array<Array<number | null>>; // [tensor][step]
  nonfinite: Array<[number, number, number]>; // [tensor, first step index, last step index] of each run
}

/** One tensor at one step (an entry of `distributions/tensor`'s steps). */
export interface StepStats {
  step: number;
  wall_time: number;
  elements: number;
  zeros: number | null;
  nan: number | null;
  posinf: number | null;
  neginf: number | null;
  min: number | null;
  max: number | null;
  mean: number | null;
  std: number | null;
  norm: number | null;
  max_abs?: number | null;
  percentiles: Record<string, number | null>;
  histogram: number[];
  edges?: number[];
  extras: Record<string, number | null>;
}

export interface TensorSeries {
  run: string;
  tag: string;
  name: string;
  shape: number[];
  dtype: string;
  approximate: boolean;
  bins: number;
  edges?: number[];
  steps: StepStats[];
}

export interface Verdict {
  kind: string;
  severity: "error" | "warning" | string;
  tag: string;
  tensors: string[];
  first_step: number;
  last_step: number;
  message: string;
  evidence?: Record<string, unknown>;
}

export interface VerdictList {
  run: string;
  thresholds: Record<string, number>;
  verdicts: Verdict[];
}

export const METRIC_LABELS: Record<string, string> = {
  norm: "norm (L2)",
  std: "std",
  mean: "mean",
  max_abs: "max |x|",
  min: "min",
  max: "max",
  zero_fraction: "zero fraction",
  nonfinite: "NaN/Inf count",
  update_ratio: "update ratio",
  dead_fraction: "dead fraction",
};

export function metricLabel(metric: string): string {
  return METRIC_LABELS[metric] ?? metric.replace(/_/g, " ");
}

/** Log for magnitudes (they span orders of magnitude), 0 … 1 for fractions, symmetric for a mean. */
export function defaultScale(metric: string): ScaleKind {
  if (["norm", "std", "max_abs", "update_ratio"].includes(metric)) return "log";
  if (metric.endsWith("_fraction")) return "unit";
  if (metric === "mean") return "diverging";
  if (metric === "nonfinite") return "log1p";
  return "linear";
}

/** The scale shown for a metric under the user's choice: "auto", "log" or "linear". */
export function chosenScale(metric: string, choice: string): ScaleKind {
  const auto = defaultScale(metric);
  if (choice === "log") return auto === "log1p" ? "log1p" : "log";
  if (choice === "linear") return auto === "log" || auto === "log1p" ? "linear" : auto;
  return auto;
}

/** How a collapsed group combines its tensors' values at one step. */
export type Aggregate = "max" | "min" | "sum";

export function aggregateFor(metric: string): Aggregate {
  if (metric === "min") return "min";
  if (metric === "nonfinite") return "sum";
  return "max";
}

// ---- rows: tensors in model order, grouped by module path ----

export interface Row {
  kind: "tensor" | "group";
  key: string; // the tensor's name, or the group's module path
  label: string; // as drawn: indented, a group with ▾/▸ and "(max of N)"
  depth: number;
  members: number[]; // tensor indices (one for a tensor row)
  collapsed: boolean;
}

interface GroupNode {
  path: string;
  items: Array<GroupNode | number>; // subgroups and tensor indices, first-seen order
}

/** Module-path groups of a name: `layer1.0.conv1.weight` → `layer1`, `layer1.0` (the owning
 * module `layer1.0.conv1` and the parameter itself are not groups). Dots and slashes separate. */
export function groupPaths(name: string): string[] {
  const ends: number[] = [];
  for (let i = 0; i < name.length; i++) if (name[i] === "." || name[i] === "/") ends.push(i);
  // segments = ends.length + 1; groups are the prefixes of 1 … segments - 2 segments
  return ends.slice(0, Math.max(0, ends.length - 1)).map((end) => name.slice(0, end));
}

function buildTree(names: string[]): GroupNode {
  const root: GroupNode = { path: "", items: [] };
  const nodes = new Map<string, GroupNode>();
  names.forEach((name, t) => {
    let parent = root;
    for (const path of groupPaths(name)) {
      let node = nodes.get(path);
      if (!node) {
        node = { path, items: [] };
        nodes.set(path, node);
        parent.items.push(node);
      }
      parent = node;
    }
    parent.items.push(t);
  });
  return root;
}

function members(node: GroupNode): number[] {
  return node.items.flatMap((item) => (typeof item === "number" ? [item] : members(item)));
}

/** The groups that hold at least two tensors, outermost first (those a user can collapse). */
export function groupKeys(names: string[]): Array<{ path: string; depth: number }> {
  const rows = displayRows(names, new Set(), "max");
  return rows.filter((r) => r.kind === "group").map((r) => ({ path: r.key, depth: r.depth }));
}

/** The rows to draw: each group of two or more tensors as one aggregated row (its label says
 * how it aggregates) followed, unless collapsed, by its members one level deeper. A group whose
 * only item is another group is skipped in favour of that one. */
export function displayRows(names: string[], collapsed: ReadonlySet<string>, aggregate: Aggregate): Row[] {
  const rows: Row[] = [];
  const emit = (node: GroupNode, depth: number, parentPath: string) => {
    for (const item of node.items) {
      if (typeof item === "number") {
        const name = names[item];
        const relative = parentPath && name.startsWith(parentPath) ? name.slice(parentPath.length + 1) : name;
        rows.push({
          kind: "tensor",
          key: name,
          label: `${"  ".repeat(depth)}${relative}`,
          depth,
          members: [item],
          collapsed: false,
        });
        continue;
      }
      let group = item;
      while (group.items.length === 1 && typeof group.items[0] !== "number") group = group.items[0];
      const all = members(group);
      if (all.length < 2) {
        emit(group, depth, parentPath);
        continue;
      }
      const isCollapsed = collapsed.has(group.path);
      rows.push({
        kind: "group",
        key: group.path,
        label: `${"  ".repeat(depth)}${isCollapsed ? "▸" : "▾"} ${group.path} (${aggregate} of ${all.length})`,
        depth,
        members: all,
        collapsed: isCollapsed,
      });
      if (!isCollapsed) emit(group, depth + 1, group.path);
    }
  };
  emit(buildTree(names), 0, "");
  return rows;
}

/** Groups collapsed by default: none when at most `limit` rows show; otherwise the groups at
 * the deepest level that brings the rows within `limit` (the outermost ones when none does). */
export function defaultCollapsed(names: string[], limit = 64): Set<string> {
  if (names.length <= limit) return new Set();
  const groups = groupKeys(names);
  const deepest = Math.max(0, ...groups.map((g) => g.depth));
  for (let depth = deepest; depth >= 0; depth--) {
    const collapsed = new Set(groups.filter((g) => g.depth === depth).map((g) => g.path));
    if (depth === 0 || displayRows(names, collapsed, "max").length <= limit) return collapsed;
  }
  return new Set();
}

export interface Matrix {
  rows: number;
  columns: number;
  values: Float64Array; // rows * columns, NaN where there is no value
  nonfinite: Uint8Array; // 1 where a tensor of the row held NaN or ±Inf
}

/** The displayed rows × steps: a tensor row's own values, a group row aggregated over its members. */
export function rowMatrix(series: Series, rows: Row[], aggregate: Aggregate): Matrix {
  const columns = series.steps.length;
  const tensorNonfinite = new Uint8Array(series.tensors.length * columns);
  for (const [t, first, last] of series.nonfinite)
    if (t < series.tensors.length)
      for (let s = Math.max(0, first); s <= Math.min(last, columns - 1); s++) tensorNonfinite[t * columns + s] = 1;
  const values = new Float64Array(rows.length * columns).fill(NaN);
  const nonfinite = new Uint8Array(rows.length * columns);
  rows.forEach((row, r) => {
    const base = r * columns;
    for (const t of row.members) {
      const source = series.values[t] ?? [];
      for (let s = 0; s < columns; s++) {
        if (tensorNonfinite[t * columns + s]) nonfinite[base + s] = 1;
        const v = source[s];
        if (v === null || v === undefined || Number.isNaN(v)) continue;
        const current = values[base + s];
        if (Number.isNaN(current)) values[base + s] = v;
        else if (aggregate === "max") values[base + s] = Math.max(current, v);
        else if (aggregate === "min") values[base + s] = Math.min(current, v);
        else values[base + s] = current + v;
      }
    }
  });
  return { rows: rows.length, columns, values, nonfinite };
}

/** One RGBA pixel per cell: the scale's colour, or `nonfiniteColor` / `noDataColor` (packed). */
export function matrixPixels(
  matrix: Matrix,
  index: (v: number) => number,
  table: Uint32Array,
  noDataColor: number,
  nonfiniteColor: number,
): Uint8ClampedArray {
  const rgba = new Uint8ClampedArray(matrix.rows * matrix.columns * 4);
  const pixels = new Uint32Array(rgba.buffer);
  for (let k = 0; k < pixels.length; k++) {
    if (matrix.nonfinite[k]) {
      pixels[k] = nonfiniteColor;
      continue;
    }
    const i = index(matrix.values[k]);
    pixels[k] = i < 0 ? noDataColor : table[i];
  }
  return rgba;
}

/** The member that gives a group row its value at step column `s` (the one to open in detail). */
export function responsibleMember(series: Series, row: Row, s: number, aggregate: Aggregate): number {
  let best = row.members[0];
  let bestValue: number | null = null;
  for (const t of row.members) {
    const v = series.values[t]?.[s];
    if (v === null || v === undefined || Number.isNaN(v)) continue;
    if (bestValue === null || (aggregate === "min" ? v < bestValue : v > bestValue)) {
      best = t;
      bestValue = v;
    }
  }
  const nonfinite = series.nonfinite.find(([t, first, last]) => first <= s && s <= last && row.members.includes(t));
  return nonfinite ? nonfinite[0] : best;
}

// ---- detail ----

export const PERCENTILE_KEYS = ["1", "5", "25", "50", "75", "95", "99"];

/** The sorted union of two step lists. */
export function mergeSteps(a: readonly number[], b: readonly number[]): number[] {
  return [...new Set([...a, ...b])].sort((x, y) => x - y);
}

export interface Bands {
  steps: number[];
  min: Array<number | null>;
  max: Array<number | null>;
  percentiles: Record<string, Array<number | null>>; // "1" … "99"
}

/** A tensor's distribution over steps, aligned to `steps` (null where it has no value). */
export function bands(tensor: TensorSeries, steps: readonly number[] = tensor.steps.map((s) => s.step)): Bands {
  const at = new Map(tensor.steps.map((s) => [s.step, s]));
  const pick = (read: (s: StepStats) => number | null | undefined) =>
    steps.map((step) => {
      const s = at.get(step);
      const v = s ? read(s) : null;
      return v === undefined || v === null || !Number.isFinite(v) ? null : v;
    });
  const percentiles: Record<string, Array<number | null>> = {};
  for (const key of PERCENTILE_KEYS) percentiles[key] = pick((s) => s.percentiles?.[key]);
  return { steps: [...steps], min: pick((s) => s.min), max: pick((s) => s.max), percentiles };
}

/** The tensor's statistics at `step`, or null when it was not logged then. */
export function statsAt(tensor: TensorSeries | null, step: number | null): StepStats | null {
  if (!tensor || step === null) return null;
  return tensor.steps.find((s) => s.step === step) ?? null;
}

export interface Bin {
  low: number;
  high: number;
  count: number;
}

/** Histogram bins: equal bins from min to max, or the given edges (standard TensorBoard histograms). */
export function histogramBins(stats: StepStats, edges?: number[]): Bin[] {
  const counts = stats.histogram ?? [];
  const given = stats.edges ?? edges;
  if (given && given.length === counts.length + 1) {
    return counts.map((count, i) => ({ low: given[i], high: given[i + 1], count }));
  }
  const min = stats.min ?? 0;
  const max = stats.max ?? min;
  const width = (max - min) / Math.max(1, counts.length);
  return counts.map((count, i) => ({
    low: min + i * width,
    high: i === counts.length - 1 ? max : min + (i + 1) * width,
    count,
  }));
}

export function formatNumber(value: number | null | undefined): string {
  if (value === null || value === undefined) return "unknown";
  if (Number.isNaN(value)) return "NaN";
  if (!Number.isFinite(value)) return value > 0 ? "+Inf" : "−Inf";
  if (value === 0) return "0";
  const magnitude = Math.abs(value);
  if (Number.isInteger(value) && magnitude < 1e9) return String(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(3);
  return value.toPrecision(4);
}

/** A short axis tick: at most 4 significant digits, no trailing zeros. */
export function formatTick(value: number): string {
  if (value === 0 || !Number.isFinite(value)) return formatNumber(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1e5 || magnitude < 1e-3) return value.toExponential(1).replace("e+", "e");
  return String(Number(value.toPrecision(4)));
}

/** The statistics table: one row per statistic, one column per shown tensor. */
export function statRows(columns: Array<StepStats | null>): Array<[string, string[]]> {
  const field = (label: string, read: (s: StepStats) => number | null | undefined): [string, string[]] => [
    label,
    columns.map((s) => (s ? formatNumber(read(s)) : "–")),
  ];
  const rows: Array<[string, string[]]> = [
    field("elements", (s) => s.elements),
    field("zeros", (s) => s.zeros),
    field("NaN", (s) => s.nan),
    field("+Inf", (s) => s.posinf),
    field("−Inf", (s) => s.neginf),
    field("min", (s) => s.min),
    field("max", (s) => s.max),
    field("mean", (s) => s.mean),
    field("std", (s) => s.std),
    field("norm", (s) => s.norm),
  ];
  if (columns.some((s) => s && s.max_abs !== undefined)) rows.push(field("max |x|", (s) => s.max_abs));
  for (const key of PERCENTILE_KEYS) rows.push(field(`p${key}`, (s) => s.percentiles?.[key]));
  const extras = [...new Set(columns.flatMap((s) => Object.keys(s?.extras ?? {})))].sort();
  for (const key of extras) rows.push(field(key.replace(/_/g, " "), (s) => s.extras?.[key]));
  return rows;
}

/** The tags shown side by side in the detail: weights and gradients together when the run has
 * both, under the same prefix (`encoder/weights` with `encoder/gradients`). */
export function detailTags(runTags: readonly string[], tag: string): string[] {
  const slash = tag.lastIndexOf("/");
  const prefix = tag.slice(0, slash + 1);
  const role = tag.slice(slash + 1);
  const pair = [`${prefix}weights`, `${prefix}gradients`];
  if ((role === "weights" || role === "gradients") && pair.every((t) => runTags.includes(t))) return pair;
  return [tag];
}

/** What identifies the content of a series (its last step and wall time): cached tensors are
 * fetched again only when it changes. */
export function seriesVersion(series: Pick<Series, "steps" | "wall_times">): string {
  const last = series.steps.length - 1;
  return last < 0 ? "empty" : `${series.steps[last]}@${series.wall_times[last]}`;
}

/** Errors first, then by first step. */
export function sortVerdicts(verdicts: Verdict[]): Verdict[] {
  const rank = (v: Verdict) => (v.severity === "error" ? 0 : v.severity === "warning" ? 1 : 2);
  return [...verdicts].sort((a, b) => rank(a) - rank(b) || a.first_step - b.first_step);
}

/** A threshold typed by the user: a positive finite number, or null (refused). */
export function parseThreshold(text: string): number | null {
  if (!/^\s*[0-9]*\.?[0-9]+(e[-+]?[0-9]+)?\s*$/i.test(text)) return null;
  const value = Number(text);
  return Number.isFinite(value) && value > 0 ? value : null;
}
