// Layout, Model Explorer's way: one flat dagre layout per expanded group, bottom up; a collapsed
// child is a fixed-size box, an expanded one the bounding box of its laid-out children plus
// padding. Only visible groups are laid out, and a group's layout is kept while its children's
// sizes stay the same, so expanding a group re-lays out that group and its ancestors only. The
// engine runs in the worker (./worker.ts), in time slices that a newer request can cut short;
// node tests run it directly.
import dagre from "@dagrejs/dagre";
import { GROUP_HEADER, GROUP_PAD, openWidths, ROOT_PAD } from "./geometry";
import { IN, liftEdges, OUT, visibleReps, type LayoutEdges, type Tree } from "./lift";
import type { GraphModel } from "./wire";

/** What the worker needs, as typed arrays (sent once per graph). */
export interface LayoutInput extends Tree {
  childStart: Int32Array; // children of g: childList[childStart[g] … childStart[g + 1]]
  childList: Int32Array;
  childIndex: Int32Array; // a node's position among its parent's children
  sizes: Float32Array; // collapsed width, height per node
  openWidth: Float32Array; // the least width of an open group (its title bar)
  edgeStart: Int32Array; // layout edges of g: edgeList pairs [edgeStart[g] … edgeStart[g + 1]) (in pairs)
  edgeList: Int32Array; // child display ids, or the group's ports IN / OUT
  inLocal: Int32Array; // per node: its IN → node edge in its parent, or -1
  outLocal: Int32Array; // per node: its node → OUT edge in its parent, or -1
  atomEdges: Int32Array; // the wire's edges (src, dst pairs)
  atomShapes: Int32Array;
  atomGroup: Int32Array;
  atomLocal: Int32Array;
}

export function layoutInput(model: GraphModel, edges: LayoutEdges, sizes: Float32Array): LayoutInput {
  const openWidth = openWidths(model);
  const { size } = model;
  const childStart = new Int32Array(size + 1);
  const edgeStart = new Int32Array(size + 1);
  for (let g = 0; g < size; g++) {
    childStart[g + 1] = childStart[g] + model.children[g].length;
    edgeStart[g + 1] = edgeStart[g] + (edges.byGroup.get(g)?.length ?? 0) / 2;
  }
  const childList = new Int32Array(childStart[size]);
  const childIndex = new Int32Array(size);
  const edgeList = new Int32Array(edgeStart[size] * 2);
  for (let g = 0; g < size; g++) {
    model.children[g].forEach((c, k) => {
      childList[childStart[g] + k] = c;
      childIndex[c] = k;
    });
    edgeList.set(edges.byGroup.get(g) ?? [], edgeStart[g] * 2);
  }
  return {
    size,
    root: model.root,
    parent: model.parent,
    order: model.order,
    childStart,
    childList,
    childIndex,
    sizes,
    openWidth,
    edgeStart,
    edgeList,
    atomEdges: Int32Array.from(model.wire.edges),
    atomShapes: Int32Array.from(model.wire.edge_shapes),
    inLocal: edges.inLocal,
    outLocal: edges.outLocal,
    atomGroup: edges.group,
    atomLocal: edges.local,
  };
}

export interface FlatLayout {
  x: Float32Array; // children's top-left corners, relative to the group's
  y: Float32Array;
  w: number; // the group's size
  h: number;
  routes: Float32Array; // x, y points of every layout edge …
  routeStart: Int32Array; // … edge k's points are [routeStart[k], routeStart[k + 1]) (in points)
}

export interface Padding {
  x: number;
  top: number;
  bottom: number;
  minWidth: number;
}

export const DAGRE_OPTIONS = { rankdir: "TB" as const, nodesep: 24, ranksep: 40, edgesep: 12, marginx: 0, marginy: 0 };
const GRID_GAP = 16;
const PORT_SIZE = 2; // a group's IN and OUT nodes: where its boundary edges enter and leave

/** One flat layout: `sizes` (w, h per child), `edges` (child index pairs). */
export function layoutFlat(sizes: Float32Array, edges: Int32Array, pad: Padding): FlatLayout {
  const n = sizes.length / 2;
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  const m = edges.length / 2;
  const routeStart = new Int32Array(m + 1);
  let routes = new Float32Array(0);
  if (m === 0) {
    gridLayout(sizes, x, y);
  } else {
    const g = new dagre.graphlib.Graph();
    g.setGraph({ ...DAGRE_OPTIONS });
    g.setDefaultEdgeLabel(() => ({}));
    for (let k = 0; k < n; k++) g.setNode(String(k), { width: sizes[2 * k], height: sizes[2 * k + 1] });
    for (let e = 0; e < m; e++) g.setEdge(String(edges[2 * e]), String(edges[2 * e + 1]));
    dagre.layout(g);
    for (let k = 0; k < n; k++) {
      const node = g.node(String(k));
      x[k] = (node.x ?? 0) - sizes[2 * k] / 2;
      y[k] = (node.y ?? 0) - sizes[2 * k + 1] / 2;
    }
    const points: number[] = [];
    for (let e = 0; e < m; e++) {
      const label = g.edge(String(edges[2 * e]), String(edges[2 * e + 1]));
      for (const p of label?.points ?? []) points.push(p.x, p.y);
      routeStart[e + 1] = points.length / 2;
    }
    routes = Float32Array.from(points);
  }
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (let k = 0; k < n; k++) {
    minX = Math.min(minX, x[k]);
    minY = Math.min(minY, y[k]);
    maxX = Math.max(maxX, x[k] + sizes[2 * k]);
    maxY = Math.max(maxY, y[k] + sizes[2 * k + 1]);
  }
  for (let k = 0; k < routes.length; k += 2) {
    minX = Math.min(minX, routes[k]);
    maxX = Math.max(maxX, routes[k]);
  }
  if (n === 0) minX = minY = maxX = maxY = 0;
  const width = Math.max(maxX - minX + 2 * pad.x, pad.minWidth);
  const dx = (width - (maxX - minX)) / 2 - minX; // centred when the title is wider than the children
  const dy = pad.top - minY;
  for (let k = 0; k < n; k++) {
    x[k] += dx;
    y[k] += dy;
  }
  for (let k = 0; k < routes.length; k += 2) {
    routes[k] += dx;
    routes[k + 1] += dy;
  }
  return { x, y, w: width, h: maxY - minY + pad.top + pad.bottom, routes, routeStart };
}

/** Children without any edge between them: rows in child order, a column for a few. */
function gridLayout(sizes: Float32Array, x: Float32Array, y: Float32Array): void {
  const n = sizes.length / 2;
  const columns = Math.max(1, Math.ceil(Math.sqrt(n / 4)));
  let rowTop = 0;
  for (let start = 0; start < n; start += columns) {
    let left = 0;
    let rowHeight = 0;
    for (let k = start; k < Math.min(n, start + columns); k++) {
      x[k] = left;
      y[k] = rowTop;
      left += sizes[2 * k] + GRID_GAP;
      rowHeight = Math.max(rowHeight, sizes[2 * k + 1]);
    }
    rowTop += rowHeight + GRID_GAP;
  }
}

/** What the view draws: every visible node's absolute box, and the lifted edges' routes. */
export interface Scene {
  ids: Int32Array; // visible display nodes, preorder (parents before children)
  boxes: Float32Array; // x, y, w, h per visible node
  open: Uint8Array; // 1 where the node is an expanded group
  edgeEnds: Int32Array; // src, dst display ids
  edgeShapes: Int32Array;
  edgeAtoms: Int32Array;
  points: Float32Array; // x, y of every edge's route …
  pointStart: Int32Array; // … edge k's are [pointStart[k], pointStart[k + 1]) (in points)
  width: number;
  height: number;
  groups: number; // visible expanded groups
  layouts: number; // how many of them were laid out afresh
  ms: number; // layout time
}

export interface RunHooks {
  /** True when a newer request makes this one moot. */
  stopped?: () => boolean;
  progress?: (done: number, total: number) => void;
  /** Gives the event loop a turn (messages in the worker); called every `sliceMs`. */
  pause?: () => Promise<void>;
  sliceMs?: number;
}

interface Cached extends FlatLayout {
  key: Float32Array; // the children's sizes it was made for
}

export class LayoutEngine {
  private cache = new Map<number, Cached>();

  constructor(readonly input: LayoutInput) {}

  /** The scene for `expanded` (1 per open group), or null when stopped on the way. */
  async run(expanded: Uint8Array, hooks: RunHooks = {}): Promise<Scene | null> {
    const started = now();
    const input = this.input;
    const { root, order, childStart, childList, sizes } = input;
    const rep = visibleReps(input, expanded);
    const isOpen = (i: number) => (i === root || expanded[i] === 1) && childStart[i + 1] > childStart[i];
    const groups: number[] = []; // visible open groups, children before parents
    for (let k = order.length - 1; k >= 0; k--) {
      const i = order[k];
      if (rep[i] === i && isOpen(i)) groups.push(i);
    }
    // an estimate for the progress bar: groups never laid out, and their ancestors
    const pending = new Set<number>();
    for (const g of groups) {
      if (this.cache.has(g)) continue;
      for (let p = g; p >= 0 && !pending.has(p); p = input.parent[p]) pending.add(p);
    }
    const total = Math.max(1, pending.size);
    let layouts = 0;
    let sliceStart = now();
    const slice = hooks.sliceMs ?? 30;
    const sizeOf = (c: number, out: Float32Array, k: number) => {
      const cached = isOpen(c) ? this.cache.get(c) : undefined;
      out[2 * k] = cached ? cached.w : sizes[2 * c];
      out[2 * k + 1] = cached ? cached.h : sizes[2 * c + 1];
    };
    for (const g of groups) {
      const n = childStart[g + 1] - childStart[g];
      const key = new Float32Array(2 * n);
      for (let k = 0; k < n; k++) sizeOf(childList[childStart[g] + k], key, k);
      const cached = this.cache.get(g);
      if (cached && sameSizes(cached.key, key)) continue;
      const edges = input.edgeList.subarray(2 * input.edgeStart[g], 2 * input.edgeStart[g + 1]);
      // the ports are two more (tiny) nodes of the flat layout, after the children
      const hasIn = edges.includes(IN);
      const inIndex = n;
      const outIndex = n + (hasIn ? 1 : 0);
      const ports = (hasIn ? 1 : 0) + (edges.includes(OUT) ? 1 : 0);
      const local = new Int32Array(edges.length);
      for (let k = 0; k < edges.length; k++) {
        local[k] = edges[k] === IN ? inIndex : edges[k] === OUT ? outIndex : input.childIndex[edges[k]];
      }
      const flatSizes = new Float32Array(2 * (n + ports));
      flatSizes.set(key);
      flatSizes.fill(PORT_SIZE, 2 * n);
      const pad: Padding =
        g === root
          ? { x: ROOT_PAD, top: ROOT_PAD, bottom: ROOT_PAD, minWidth: 0 }
          : { x: GROUP_PAD, top: GROUP_HEADER + 4, bottom: GROUP_PAD, minWidth: input.openWidth[g] };
      this.cache.set(g, { ...layoutFlat(flatSizes, local, pad), key });
      layouts++;
      if (now() - sliceStart > slice) {
        hooks.progress?.(Math.min(layouts, total), total);
        await hooks.pause?.();
        if (hooks.stopped?.()) return null;
        sliceStart = now();
      }
    }
    if (hooks.stopped?.()) return null;
    return this.compose(rep, isOpen, groups.length, layouts, now() - started);
  }

  private compose(rep: Int32Array, isOpen: (i: number) => boolean, groups: number, layouts: number, ms: number): Scene {
    const input = this.input;
    const { root, order, parent, sizes, childIndex } = input;
    const ax = new Float64Array(input.size);
    const ay = new Float64Array(input.size);
    const ids: number[] = [];
    for (let k = 1; k < order.length; k++) {
      const i = order[k];
      if (rep[i] === i) ids.push(i);
    }
    const boxes = new Float32Array(ids.length * 4);
    const open = new Uint8Array(ids.length);
    ids.forEach((i, k) => {
      const p = parent[i];
      const layout = this.cache.get(p)!;
      ax[i] = (p === root ? 0 : ax[p]) + layout.x[childIndex[i]];
      ay[i] = (p === root ? 0 : ay[p]) + layout.y[childIndex[i]];
      const own = isOpen(i) ? this.cache.get(i) : undefined;
      boxes.set([ax[i], ay[i], own ? own.w : sizes[2 * i], own ? own.h : sizes[2 * i + 1]], 4 * k);
      open[k] = own ? 1 : 0;
    });
    const lifted = liftEdges(input, rep, input.atomEdges, input.atomShapes, {
      group: input.atomGroup,
      local: input.atomLocal,
    });
    const m = lifted.shape.length;
    const pointStart = new Int32Array(m + 1);
    const points: number[] = [];
    const route = (g: number, k: number) => {
      const layout = this.cache.get(g)!;
      const gx = g === root ? 0 : ax[g];
      const gy = g === root ? 0 : ay[g];
      for (let p = layout.routeStart[k]; p < layout.routeStart[k + 1]; p++) {
        points.push(gx + layout.routes[2 * p], gy + layout.routes[2 * p + 1]);
      }
    };
    const down: number[] = [];
    for (let e = 0; e < m; e++) {
      const lca = lifted.group[e];
      // up and out of every open group around the source, across the common group, then in
      for (let x = lifted.ends[2 * e]; parent[x] !== lca; x = parent[x]) route(parent[x], input.outLocal[x]);
      route(lca, lifted.local[e]);
      down.length = 0;
      for (let y = lifted.ends[2 * e + 1]; parent[y] !== lca; y = parent[y]) down.push(y);
      for (let k = down.length - 1; k >= 0; k--) route(parent[down[k]], input.inLocal[down[k]]);
      pointStart[e + 1] = points.length / 2;
    }
    const top = this.cache.get(root)!;
    return {
      ids: Int32Array.from(ids),
      boxes,
      open,
      edgeEnds: lifted.ends,
      edgeShapes: lifted.shape,
      edgeAtoms: lifted.atoms,
      points: Float32Array.from(points),
      pointStart,
      width: top.w,
      height: top.h,
      groups,
      layouts,
      ms,
    };
  }
}

function sameSizes(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
}

function now(): number {
  return typeof performance !== "undefined" ? performance.now() : Date.now();
}

/** The buffers of a scene, to transfer it from the worker without a copy. */
export function sceneBuffers(scene: Scene): ArrayBuffer[] {
  const arrays = [scene.ids, scene.boxes, scene.open, scene.edgeEnds, scene.edgeShapes, scene.edgeAtoms];
  return [...arrays, scene.points, scene.pointStart].map((a) => a.buffer as ArrayBuffer);
}
