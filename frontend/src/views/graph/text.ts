// The texts about a graph and its nodes outside the boxes: the summary line and the hover
// tooltip. Pure.
import { formatCount, formatExact, MODULE, neverRan, nodeType, OP, outputLabel, type GraphModel } from "./wire";

export function summaryText(model: GraphModel): string {
  const w = model.wire;
  let modules = 0;
  let ops = 0;
  for (let i = 0; i < model.count; i++) {
    if (model.kind[i] === MODULE) modules++;
    if (model.kind[i] === OP) ops++;
  }
  const t = w.totals;
  return [
    `${w.model} (${w.framework})`,
    `${formatCount(t.params)} parameters: ${formatExact(t.trainable)} trainable, ${formatExact(t.frozen)} frozen`,
    `${formatExact(modules)} modules, ${formatExact(ops)} ops, ${formatExact(w.edge_shapes.length)} edges`,
    ...w.notes,
  ].join(" · ");
}

/** The tooltip of node `i`; `colour` says what its colour stands for. */
export function hoverLines(model: GraphModel, i: number, colour: string): string[] {
  const lines = [model.paths[i], `type: ${model.kind[i] === OP ? "op " : ""}${nodeType(model, i)}`];
  const n = model.wire.nodes;
  if (i < model.count && (model.kind[i] === MODULE || n.total_params[i])) {
    lines.push(`parameters: ${formatExact(n.total_params[i])}`);
  }
  const shape = outputLabel(model, i);
  if (shape) lines.push(`output: ${shape}`);
  if (i < model.count && n.call[i] < 0) lines.push(neverRan(model)[i] ? "never called" : "not called itself");
  if (colour) lines.push(colour);
  return lines;
}
