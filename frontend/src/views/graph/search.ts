// Search by name or type: a case-insensitive substring of a node's full path or of its type.
// Matches in model order (the wire's preorder); sections, the root and ops hidden in sealed
// modules are never matches. Pure.
import type { GraphModel } from "./wire";

export function searchNodes(model: GraphModel, query: string): number[] {
  const q = query.trim().toLowerCase();
  if (!q) return [];
  const { strings, nodes } = model.wire;
  const types = strings.map((s) => s.toLowerCase());
  const out: number[] = [];
  for (let i = 0; i < model.count; i++) {
    if (model.parent[i] >= 0 && model.sealed[model.parent[i]]) continue; // hidden in its module
    if (model.paths[i].toLowerCase().includes(q) || types[nodes.type[i]].includes(q)) out.push(i);
  }
  return out;
}

/** The next match after (or, with `step` -1, before) `current`, wrapping around. */
export function stepMatch(count: number, current: number, step: 1 | -1): number {
  if (!count) return -1;
  if (current < 0) return step > 0 ? 0 : count - 1;
  return (current + step + count) % count;
}

/** Per display node: 1 for a match, 2 for a node containing one (for collapsed groups). */
export function matchMarks(model: GraphModel, matches: number[]): Uint8Array {
  const marks = new Uint8Array(model.size);
  for (const i of matches) {
    marks[i] = 1;
    for (let p = model.parent[i]; p >= 0 && marks[p] === 0; p = model.parent[p]) marks[p] = 2;
  }
  return marks;
}
