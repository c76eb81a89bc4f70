// The details of the clicked node: path, type, kind, shapes and dtypes in and out, own and total
// parameters (trainable, frozen, tied), attributes, call index and count; and where the run has
// Training health data, the statistics of the node's parameter tensors at the health step, each
// a link to that tensor in Training health. Every name is text.
import { el } from "../../core/dom";
import { formatStat } from "./paint";
import {
  formatExact,
  formatShape,
  innerOp,
  isGroup,
  KIND_NAMES,
  MODULE,
  neverRan,
  nodeType,
  totalParams,
  type GraphModel,
} from "./wire";
import type { TensorStats } from "./api";

export interface TensorRow {
  name: string;
  weights?: TensorStats;
  gradients?: TensorStats;
  updates?: TensorStats;
}

export interface HealthDetail {
  step: number;
  rows: TensorRow[];
  more: number; // tensors left out
}

export interface DetailActions {
  toggle(node: number): void;
  centre(node: number): void;
  openTensor(tensor: string): void;
}

export const MAX_TENSOR_ROWS = 60;

export class NodeDetails {
  readonly element = el("section", { className: "ml-graph-details", attrs: { "aria-label": "node details" } });
  node = -1;

  constructor(private readonly actions: DetailActions) {
    this.clear();
  }

  clear(): void {
    this.node = -1;
    this.element.replaceChildren(
      el("h2", { text: "details" }),
      el("p", { className: "ml-note", text: "Click a node to see its details; click a group to open or close it." }),
    );
  }

  show(model: GraphModel, node: number, colour: string, health: HealthDetail | null, healthNote: string): void {
    const prefix = node < model.count ? `${model.paths[node]}.` : "";
    this.node = node;
    const rows: Array<[string, string]> = [["type", nodeType(model, node)]];
    rows.push(["kind", KIND_NAMES[model.kind[node]]]);
    if (node < model.count) {
      const n = model.wire.nodes;
      const shapes = (list: number[]) => list.map((s) => formatShape(model.wire, s)).join("; ") || "–";
      if (model.kind[node] === MODULE) {
        const calls =
          n.call[node] >= 0
            ? `call ${n.call[node] + 1} of ${n.calls[node]}`
            : neverRan(model)[node]
              ? "never called"
              : "not called itself (its children were)";
        rows.push(["calls", calls]);
      }
      rows.push(["inputs", shapes(n.inputs[node])], ["outputs", shapes(n.outputs[node])]);
      const split = (all: number, frozen: number) =>
        `${formatExact(all)} (${formatExact(all - frozen)} trainable, ${formatExact(frozen)} frozen)`;
      rows.push(["own parameters", split(n.params[node], n.frozen[node])]);
      rows.push(["total parameters", split(n.total_params[node], n.total_frozen[node])]);
      if (n.tied[node]) rows.push(["tied", `${formatExact(n.tied[node])} counted under an earlier owner`]);
      const attrs = model.wire.strings[n.attrs[node]];
      if (attrs) rows.push(["attributes", attrs]);
    } else {
      rows.push(["total parameters", formatExact(totalParams(model, node))]);
    }
    if (isGroup(model, node)) rows.push(["children", formatExact(model.children[node].length)]);
    const op = innerOp(model, node);
    if (op >= 0) rows.push(["op", nodeType(model, op)]);
    if (model.identical[node] >= 2) rows.push(["repeated", `×${model.identical[node]} identical among its siblings`]);
    if (colour) rows.push(["colour", colour]);

    const buttons: HTMLElement[] = [];
    if (isGroup(model, node)) {
      const toggle = el("button", { text: "open / close" });
      toggle.addEventListener("click", () => this.actions.toggle(node));
      buttons.push(toggle);
    }
    const centre = el("button", { text: "centre" });
    centre.addEventListener("click", () => this.actions.centre(node));
    buttons.push(centre);

    const parts: HTMLElement[] = [
      el("h2", { className: "ml-graph-path", text: model.paths[node] }),
      el("div", { className: "ml-row" }, buttons),
      el("table", { className: "ml-table ml-props", attrs: { "aria-label": "node properties" } }, [
        el(
          "tbody",
          {},
          rows.map(([k, v]) => el("tr", {}, [el("th", { text: k, attrs: { scope: "row" } }), el("td", { text: v })])),
        ),
      ]),
    ];
    if (health) parts.push(...this.healthTable(health, prefix));
    else if (healthNote) parts.push(el("p", { className: "ml-note", text: healthNote }));
    this.element.replaceChildren(...parts);
  }

  /** Tensor names are shown relative to the node (`query.weight` under `…attention.self`). */
  private healthTable(health: HealthDetail, prefix: string): HTMLElement[] {
    if (!health.rows.length) {
      return [el("p", { className: "ml-note", text: "No parameter tensors of this node in Training health." })];
    }
    const value = (v: number | null | undefined) => (v === null || v === undefined ? "–" : formatStat(v));
    const nonfinite = (t?: TensorStats) => (t ? (t.nan ?? 0) + (t.posinf ?? 0) + (t.neginf ?? 0) : 0);
    const body = health.rows.map((row) => {
      const short = prefix && row.name.startsWith(prefix) ? row.name.slice(prefix.length) : row.name;
      const link = el("button", {
        className: "ml-link",
        text: short,
        title: `${row.name}: open in Training health`,
        attrs: { "data-tensor": row.name },
      });
      link.addEventListener("click", () => this.actions.openTensor(row.name));
      const bad = nonfinite(row.weights) + nonfinite(row.gradients);
      const cells = [
        el("td", {}, [link]),
        el("td", { text: value(row.weights?.norm) }),
        el("td", { text: value(row.gradients?.norm) }),
        el("td", { text: value(row.updates?.extras?.update_ratio) }),
        el("td", { text: String(bad), className: bad ? "ml-error" : "" }),
      ];
      return el("tr", {}, cells);
    });
    const head: Array<[string, string]> = [
      ["tensor", "parameter tensor (opens it in Training health)"],
      ["weight", "norm of the weights"],
      ["grad", "norm of the gradient"],
      ["update", "update ratio"],
      ["NaN/Inf", "NaN and ±Inf values in the weights and gradient"],
    ];
    const parts: HTMLElement[] = [
      el("h2", { text: `parameters at step ${health.step}` }),
      el("div", { className: "ml-table-wrap" }, [
        el("table", { className: "ml-table ml-param-stats", attrs: { "aria-label": "parameter statistics" } }, [
          el("thead", {}, [
            el(
              "tr",
              {},
              head.map(([h, title]) => el("th", { text: h, title })),
            ),
          ]),
          el("tbody", {}, body),
        ]),
      ]),
    ];
    if (health.more > 0) parts.push(el("p", { className: "ml-note", text: `and ${health.more} more tensors` }));
    return parts;
  }
}
