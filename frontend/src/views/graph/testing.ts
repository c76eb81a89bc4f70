// Builds wire graphs for the node tests, the way writer/graph/wire.py's GraphBuilder does:
// nodes by full path (parents first), edges between paths. Not part of the bundle.
import type { WireGraph } from "./wire";

export interface NodeSpec {
  path: string;
  type?: string;
  kind?: number; // 0 module (default), 1 op, 2 input, 3 output
  params?: number; // own
  frozen?: number;
  call?: number;
  block?: number;
  outputs?: Array<[string, number[]]>;
  paramNames?: string[];
}

export function wireOf(specs: NodeSpec[], edges: Array<[string, string, [string, number[]]?]> = []): WireGraph {
  const strings: string[] = [];
  const text = (s: string) => {
    const k = strings.indexOf(s);
    return k >= 0 ? k : strings.push(s) - 1;
  };
  const shapes: number[][] = [];
  const shape = ([dtype, dims]: [string, number[]]) => {
    const entry = [text(dtype), ...dims];
    const k = shapes.findIndex((s) => s.join() === entry.join());
    return k >= 0 ? k : shapes.push(entry) - 1;
  };
  const index = new Map<string, number>();
  const nodes = {
    parent: [] as number[],
    name: [] as number[],
    type: [] as number[],
    kind: [] as number[],
    call: [] as number[],
    calls: [] as number[],
    inputs: [] as number[][],
    outputs: [] as number[][],
    params: [] as number[],
    frozen: [] as number[],
    total_params: [] as number[],
    total_frozen: [] as number[],
    tied: [] as number[],
    attrs: [] as number[],
    param_names: [] as number[][],
    block: [] as number[],
  };
  specs.forEach((spec, i) => {
    const dot = spec.path.lastIndexOf(".");
    const parent = dot < 0 ? -1 : index.get(spec.path.slice(0, dot))!;
    if (parent === undefined) throw new Error(`no parent for ${spec.path}`);
    index.set(spec.path, i);
    nodes.parent.push(parent);
    nodes.name.push(text(spec.path.slice(dot + 1)));
    nodes.type.push(text(spec.type ?? "Module"));
    nodes.kind.push(spec.kind ?? 0);
    nodes.call.push(spec.call ?? 0);
    nodes.calls.push(spec.call === -1 ? 0 : 1);
    nodes.inputs.push([]);
    nodes.outputs.push((spec.outputs ?? []).map(shape));
    nodes.params.push(spec.params ?? 0);
    nodes.frozen.push(spec.frozen ?? 0);
    nodes.total_params.push(0);
    nodes.total_frozen.push(0);
    nodes.tied.push(0);
    nodes.attrs.push(text(""));
    nodes.param_names.push((spec.paramNames ?? []).map(text));
    nodes.block.push(spec.block ?? -1);
  });
  for (let i = specs.length - 1; i >= 0; i--) {
    nodes.total_params[i] += nodes.params[i];
    nodes.total_frozen[i] += nodes.frozen[i];
    const p = nodes.parent[i];
    if (p >= 0) {
      nodes.total_params[p] += nodes.total_params[i];
      nodes.total_frozen[p] += nodes.total_frozen[i];
    }
  }
  const flat: number[] = [];
  const edgeShapes: number[] = [];
  for (const [a, b, s] of edges) {
    flat.push(index.get(a)!, index.get(b)!);
    edgeShapes.push(s ? shape(s) : -1);
  }
  const params = nodes.parent.reduce((sum, p, i) => (p < 0 ? sum + nodes.total_params[i] : sum), 0);
  return {
    format: "modellens.graph",
    framework: "torch",
    model: "Test",
    capture: "calls",
    strings,
    shapes,
    nodes,
    edges: flat,
    edge_shapes: edgeShapes,
    totals: { params, trainable: params, frozen: 0 },
    notes: [],
  };
}

/** A small encoder: input → enc (two layers, each fc → add with a residual) → head → output. */
export function smallEncoder(): WireGraph {
  const f = (dims: number[]): [string, number[]] => ["float32", dims];
  return wireOf(
    [
      { path: "x", kind: 2, type: "input", outputs: [f([2, 8])] },
      { path: "enc", type: "Encoder" },
      { path: "enc.l0", type: "Layer", block: 0 },
      {
        path: "enc.l0.fc",
        type: "Linear",
        params: 72,
        outputs: [f([2, 8])],
        paramNames: ["enc.l0.fc.weight", "enc.l0.fc.bias"],
      },
      { path: "enc.l0.add", type: "add", kind: 1, outputs: [f([2, 8])] },
      { path: "enc.l1", type: "Layer", block: 0 },
      {
        path: "enc.l1.fc",
        type: "Linear",
        params: 72,
        outputs: [f([2, 8])],
        paramNames: ["enc.l1.fc.weight", "enc.l1.fc.bias"],
      },
      { path: "enc.l1.add", type: "add", kind: 1, outputs: [f([2, 8])] },
      { path: "head", type: "Linear", params: 27, outputs: [f([2, 3])], paramNames: ["head.weight", "head.bias"] },
      { path: "unused", type: "Dropout", call: -1 },
      { path: "out", kind: 3, type: "output", outputs: [f([2, 3])] },
    ],
    [
      ["x", "enc.l0.fc", f([2, 8])],
      ["x", "enc.l0.add", f([2, 8])],
      ["enc.l0.fc", "enc.l0.add", f([2, 8])],
      ["enc.l0.add", "enc.l1.fc", f([2, 8])],
      ["enc.l0.add", "enc.l1.add", f([2, 8])],
      ["enc.l1.fc", "enc.l1.add", f([2, 8])],
      ["enc.l1.add", "head", f([2, 8])],
      ["head", "out", f([2, 3])],
    ],
  );
}
