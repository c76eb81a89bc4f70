// Edges between atoms, lifted. For the layout, each edge a → b belongs to the lowest common
// group L of a and b, between the children of L that hold a and b (static, deduplicated: Model
// Explorer's layoutGraphEdges); inside every group between a and L it leaves through the group's
// OUT port (child → OUT), and inside every group between L and b it enters through the IN port
// (IN → child), so that an open group routes its boundary edges around its own children. For
// drawing, each edge goes between the deepest *visible* ancestors of a and b, deduplicated, and is
// dropped when both lift to the same node; its route chains the layout edges from one to the
// other. Pure: no DOM, unit-tested under node.
import type { GraphModel } from "./wire";

/** The tree as the worker has it too: display ids, the root last, preorder with the root first. */
export interface Tree {
  size: number;
  root: number;
  parent: Int32Array;
  order: Int32Array;
}

/** The ports of a group, in layout edge lists. */
export const IN = -2;
export const OUT = -3;

export interface LayoutEdges {
  /** Per atom edge: the lowest common group of its ends (-1: dropped, a self or ancestor edge) … */
  group: Int32Array;
  /** … and the index of its layout edge among that group's. */
  local: Int32Array;
  /** Per group: [from, to, from, to, …]: children's display ids, or IN / OUT; each pair once. */
  byGroup: Map<number, number[]>;
  /** Per node: the index of IN → node among its parent's layout edges, or -1. */
  inLocal: Int32Array;
  /** Per node: the index of node → OUT among its parent's layout edges, or -1. */
  outLocal: Int32Array;
}

export function displayDepth(model: Tree): Int32Array {
  const depth = new Int32Array(model.size);
  for (const i of model.order) if (i !== model.root) depth[i] = depth[model.parent[i]] + 1;
  return depth;
}

export function layoutEdges(model: GraphModel): LayoutEdges {
  const edges = model.wire.edges;
  const n = edges.length / 2;
  const depth = displayDepth(model);
  const parent = model.parent;
  const group = new Int32Array(n).fill(-1);
  const local = new Int32Array(n).fill(-1);
  const byGroup = new Map<number, number[]>();
  const seen = new Map<number, number>(); // childA * size + childB → local index
  const inLocal = new Int32Array(model.size).fill(-1);
  const outLocal = new Int32Array(model.size).fill(-1);
  const push = (g: number, from: number, to: number) => {
    let list = byGroup.get(g);
    if (!list) byGroup.set(g, (list = []));
    list.push(from, to);
    return list.length / 2 - 1;
  };
  for (let e = 0; e < n; e++) {
    let a = edges[2 * e];
    let b = edges[2 * e + 1];
    if (a === b) continue;
    while (depth[a] > depth[b]) a = parent[a];
    while (depth[b] > depth[a]) b = parent[b];
    if (a === b) continue; // one end is an ancestor of the other
    while (parent[a] !== parent[b]) {
      a = parent[a];
      b = parent[b];
    }
    const g = parent[a];
    const key = a * model.size + b;
    let k = seen.get(key);
    if (k === undefined) {
      k = push(g, a, b);
      seen.set(key, k);
    }
    group[e] = g;
    local[e] = k;
    for (let x = edges[2 * e]; x !== a; x = parent[x]) if (outLocal[x] < 0) outLocal[x] = push(parent[x], x, OUT);
    for (let y = edges[2 * e + 1]; y !== b; y = parent[y]) if (inLocal[y] < 0) inLocal[y] = push(parent[y], IN, y);
  }
  return { group, local, byGroup, inLocal, outLocal };
}

/** The deepest visible ancestor-or-self of every display node (the root for the root). A node is
 * visible when every ancestor is expanded. */
export function visibleReps(model: Tree, expanded: Uint8Array): Int32Array {
  const rep = new Int32Array(model.size);
  const root = model.root;
  rep[root] = root;
  for (let k = 1; k < model.size; k++) {
    const i = model.order[k];
    const p = model.parent[i];
    rep[i] = rep[p] === p && (p === root || expanded[p]) ? i : rep[p];
  }
  return rep;
}

/** The visible nodes in preorder (parents before children), the root excluded. */
export function visibleNodes(model: Tree, rep: Int32Array): number[] {
  const out: number[] = [];
  for (let k = 1; k < model.size; k++) {
    const i = model.order[k];
    if (rep[i] === i) out.push(i);
  }
  return out;
}

export interface LiftedEdges {
  ends: Int32Array; // src, dst, … (display ids of visible nodes)
  shape: Int32Array; // the first atom edge's shape, or -1
  group: Int32Array; // the group whose layout routes it
  local: Int32Array; // its layout edge in that group
  atoms: Int32Array; // how many atom edges it stands for
}

export function liftEdges(
  model: Tree,
  rep: Int32Array,
  edges: ArrayLike<number>,
  shapes: ArrayLike<number>,
  layout: Pick<LayoutEdges, "group" | "local">,
): LiftedEdges {
  const index = new Map<number, number>();
  const ends: number[] = [];
  const shape: number[] = [];
  const group: number[] = [];
  const local: number[] = [];
  const atoms: number[] = [];
  for (let e = 0; e < shapes.length; e++) {
    if (layout.group[e] < 0) continue;
    const a = rep[edges[2 * e]];
    const b = rep[edges[2 * e + 1]];
    if (a === b) continue;
    const key = a * model.size + b;
    const k = index.get(key);
    if (k !== undefined) {
      atoms[k]++;
      continue;
    }
    index.set(key, atoms.length);
    ends.push(a, b);
    shape.push(shapes[e]);
    group.push(layout.group[e]);
    local.push(layout.local[e]);
    atoms.push(1);
  }
  return {
    ends: Int32Array.from(ends),
    shape: Int32Array.from(shape),
    group: Int32Array.from(group),
    local: Int32Array.from(local),
    atoms: Int32Array.from(atoms),
  };
}
