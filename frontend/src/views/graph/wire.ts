// The graph's wire form (writer/graph/wire.py: a string table, a shapes table, node columns with
// parents before children, a flat edge list between atoms) decoded into the display tree the view
// works on: the wire's nodes keep their indices, groups with more than MAX_CHILDREN children get
// artificial sections ("section k of n", in child order), and one root holds the top level.
// Pure: no DOM, unit-tested under node.

export const MODULE = 0;
export const OP = 1;
export const INPUT = 2;
export const OUTPUT = 3;
export const SECTION = 4;
export const ROOT = 5;

export const KIND_NAMES = ["module", "op", "input", "output", "section", "graph"];

/** dagre overflows its stack on ~5k-node chains, and a flat layout of n nodes costs ~n². */
export const MAX_CHILDREN = 1000;

export interface WireNodes {
  parent: number[];
  name: number[];
  type: number[];
  kind: number[];
  call: number[];
  calls: number[];
  inputs: number[][];
  outputs: number[][];
  params: number[];
  frozen: number[];
  total_params: number[];
  total_frozen: number[];
  tied: number[];
  attrs: number[];
  param_names: number[][];
  block: number[];
}

export interface WireGraph {
  format: string;
  framework: string;
  model: string;
  capture: string;
  strings: string[];
  shapes: number[][]; // [dtype string index, d0, d1, …]; -1 an unknown dimension
  nodes: WireNodes;
  edges: number[]; // src, dst, src, dst, … between atoms
  edge_shapes: number[]; // shape index or -1, one per edge
  totals: { params: number; trainable: number; frozen: number };
  notes: string[];
}

export interface Section {
  owner: number; // the group (or enclosing section) the section splits
  index: number; // 1-based
  of: number;
  first: number; // the wire indices of its first and last descendant child in child order
  last: number;
  members: number; // how many of the owner's children it holds (all levels)
}

export interface GraphModel {
  wire: WireGraph;
  count: number; // wire nodes: display ids 0 … count-1
  size: number; // display nodes: the wire's, then sections, then the root
  root: number; // size - 1
  parent: Int32Array; // display parent; -1 for the root
  children: number[][]; // display children, in order
  kind: Uint8Array; // MODULE … ROOT
  level: Int32Array; // how many wire ancestors (the top level is 0; a section has its children's)
  order: Int32Array; // display preorder, the root first
  identical: Int32Array; // siblings sharing this group's block id, itself included (0: none)
  /** Modules whose only child is one op (a Linear and its `linear`): drawn as a leaf, never
   * opened; the op's edges are the module's (Model Explorer hides such layers too). */
  sealed: Uint8Array;
  sections: Map<number, Section>;
  paths: string[]; // full paths of wire nodes ("encoder.layer.0"); sections: "owner › section k of n"
}

/** Decodes the wire JSON into the display tree; throws on a malformed graph. */
export function decodeGraph(wire: WireGraph, maxChildren = MAX_CHILDREN): GraphModel {
  const nodes = wire.nodes;
  const count = nodes.parent.length;
  const wireChildren: number[][] = Array.from({ length: count }, () => []);
  const top: number[] = [];
  for (let i = 0; i < count; i++) {
    const p = nodes.parent[i];
    if (!(p >= -1 && p < i)) throw new Error(`graph node ${i} comes before its parent ${p}`);
    (p < 0 ? top : wireChildren[p]).push(i);
  }
  const sectionList: Section[] = [];
  const sectionChildren: number[][] = [];
  // split(owner, list) gives the owner's display children: the list, or sections of it
  const split = (owner: number, list: number[]): number[] => {
    if (list.length <= maxChildren) return list;
    let chunk = maxChildren;
    while (Math.ceil(list.length / chunk) > maxChildren) chunk *= maxChildren;
    const n = Math.ceil(list.length / chunk);
    const per = Math.ceil(list.length / n);
    const ids: number[] = [];
    for (let k = 0; k < n; k++) {
      const part = list.slice(k * per, (k + 1) * per);
      const id = count + sectionList.length;
      sectionList.push({
        owner,
        index: k + 1,
        of: n,
        first: part[0],
        last: part[part.length - 1],
        members: part.length,
      });
      sectionChildren.push([]);
      ids.push(id);
      sectionChildren[id - count] = split(id, part);
    }
    return ids;
  };
  const wireDisplay = wireChildren.map((list, i) => split(i, list));
  const topDisplay = split(-1, top);
  const root = count + sectionList.length;
  const size = root + 1;
  for (const s of sectionList) if (s.owner === -1) s.owner = root;
  const children: number[][] = [...wireDisplay, ...sectionChildren, topDisplay];
  const sections = new Map<number, Section>();
  sectionList.forEach((s, k) => sections.set(count + k, s));

  const parent = new Int32Array(size).fill(-1);
  const kind = new Uint8Array(size);
  for (let i = 0; i < size; i++) for (const c of children[i]) parent[c] = i;
  for (let i = 0; i < count; i++) kind[i] = nodes.kind[i];
  for (let i = count; i < root; i++) kind[i] = SECTION;
  kind[root] = ROOT;

  const order = new Int32Array(size);
  const level = new Int32Array(size);
  let n = 0;
  const stack = [root];
  while (stack.length) {
    const i = stack.pop()!;
    order[n++] = i;
    if (i !== root) {
      const p = parent[i];
      level[i] = p === root ? 0 : kind[p] === SECTION ? level[p] : level[p] + 1;
    }
    for (let k = children[i].length - 1; k >= 0; k--) stack.push(children[i][k]);
  }
  if (n !== size) throw new Error("graph tree is not connected");

  const paths: string[] = new Array(size);
  for (let i = 0; i < count; i++) {
    const p = nodes.parent[i];
    const name = wire.strings[nodes.name[i]];
    paths[i] = p < 0 ? name : `${paths[p]}.${name}`;
  }
  for (const [id, s] of sections) {
    paths[id] = `${s.owner === root ? wire.model || "graph" : paths[s.owner]} › section ${s.index} of ${s.of}`;
  }
  paths[root] = wire.model || "graph";

  const identical = new Int32Array(size);
  for (let g = 0; g < size; g++) {
    const byBlock = new Map<number, number[]>();
    for (const c of children[g]) {
      const b = c < count ? nodes.block[c] : -1;
      if (b >= 0) byBlock.set(b, [...(byBlock.get(b) ?? []), c]);
    }
    for (const members of byBlock.values())
      if (members.length >= 2) for (const c of members) identical[c] = members.length;
  }
  const sealed = new Uint8Array(size);
  for (let i = 0; i < count; i++) {
    const only = wireChildren[i].length === 1 ? wireChildren[i][0] : -1;
    if (kind[i] === MODULE && only >= 0 && kind[only] === OP && !wireChildren[only].length) sealed[i] = 1;
  }
  return { wire, count, size, root, parent, children, kind, level, order, identical, sealed, sections, paths };
}

/** A node that opens: one with children, unless sealed. */
export function isGroup(model: GraphModel, i: number): boolean {
  return model.children[i].length > 0 && !model.sealed[i];
}

/** Per display node: 1 where neither the node nor anything inside it ran (a module never
 * called; a ModuleList whose layers ran is not one). */
export function neverRan(model: GraphModel): Uint8Array {
  let idle = idleCache.get(model);
  if (!idle) idleCache.set(model, (idle = computeNeverRan(model)));
  return idle;
}

const idleCache = new WeakMap<GraphModel, Uint8Array>();

function computeNeverRan(model: GraphModel): Uint8Array {
  const ran = new Uint8Array(model.size);
  for (let k = model.order.length - 1; k > 0; k--) {
    const i = model.order[k];
    if (i < model.count && model.wire.nodes.call[i] >= 0) ran[i] = 1;
    if (ran[i]) ran[model.parent[i]] = 1;
  }
  return ran.map((r, i) => (i < model.count && !r ? 1 : 0));
}

/** The op inside a sealed module, or -1. */
export function innerOp(model: GraphModel, i: number): number {
  return model.sealed[i] ? model.children[i][0] : -1;
}

/** The display ancestors of `i`, nearest first, the root excluded. */
export function ancestors(model: GraphModel, i: number): number[] {
  const out: number[] = [];
  for (let p = model.parent[i]; p >= 0 && p !== model.root; p = model.parent[p]) out.push(p);
  return out;
}

export function nodeName(model: GraphModel, i: number): string {
  if (i < model.count) return model.wire.strings[model.wire.nodes.name[i]];
  const s = model.sections.get(i);
  return s ? `section ${s.index} of ${s.of}` : model.paths[i];
}

export function nodeType(model: GraphModel, i: number): string {
  if (i < model.count) return model.wire.strings[model.wire.nodes.type[i]];
  return i === model.root ? model.wire.model : "section";
}

/** Total parameters of a node (sections: the sum of their children). */
export function totalParams(model: GraphModel, i: number): number {
  if (i < model.count) return model.wire.nodes.total_params[i];
  return model.children[i].reduce((sum, c) => sum + totalParams(model, c), 0);
}

/** "1.2M", "16.5K", "512"; exact counts belong in the details panel. */
export function formatCount(n: number): string {
  if (!Number.isFinite(n)) return "–";
  const units: Array<[number, string]> = [
    [1e12, "T"],
    [1e9, "B"],
    [1e6, "M"],
    [1e3, "K"],
  ];
  for (const [size, suffix] of units) {
    if (Math.abs(n) >= size) {
      const v = n / size;
      return `${v < 100 ? String(Number(v.toFixed(1))) : v.toFixed(0)}${suffix}`;
    }
  }
  return String(n);
}

/** "1,234,567" */
export function formatExact(n: number): string {
  return n.toLocaleString("en-US");
}

/** `[2, 128, 768]`, with the dtype after it unless `dims` only; unknown dimensions as "?". */
export function formatShape(wire: WireGraph, shape: number, dims = false): string {
  const entry = wire.shapes[shape];
  if (!entry) return "";
  const text = `[${entry
    .slice(1)
    .map((d) => (d < 0 ? "?" : String(d)))
    .join(", ")}]`;
  return dims ? text : `${text} ${wire.strings[entry[0]] ?? ""}`.trim();
}

/** A node's first output shape as on its box ("[2, 8]", "[2, 8] +1" with more outputs). */
export function outputLabel(model: GraphModel, i: number, column: "outputs" | "inputs" = "outputs"): string {
  if (i >= model.count) return "";
  const outputs = model.wire.nodes[column][i];
  if (!outputs.length) return "";
  const first = formatShape(model.wire, outputs[0], true);
  return outputs.length > 1 ? `${first} +${outputs.length - 1}` : first;
}
