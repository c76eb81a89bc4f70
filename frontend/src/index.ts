// Entry module: TensorBoard's plugin_entry.html imports it and calls render().
import { el } from "./core/dom";
import { installStyle } from "./core/style";
import { followHostTheme } from "./core/theme";
import { AlertsView } from "./views/alerts/view";
import { AttentionView } from "./views/attention/view";
import { ConfusionView } from "./views/confusion/view";
import { CurvesView } from "./views/curves/view";
import { DistributionsView } from "./views/distributions/view";
import { GraphView } from "./views/graph/view";
import { HeatmapView } from "./views/heatmap/view";
import { PredictionsView } from "./views/predictions/view";

interface DashboardView {
  readonly sidebar: HTMLElement;
  readonly main: HTMLElement;
  start(): Promise<void>;
  /** Shows what another view asks for (a run, tag, tensor …). */
  open?(state: NavigateDetail): Promise<void>;
}

/** `modellens-navigate` events: one view asks for another, e.g. the Structure view for a
 * tensor in Training health. */
export interface NavigateDetail {
  view: string;
  run?: string;
  tag?: string;
  tensor?: string;
  step?: number | null;
}

const VIEWS: Array<{ id: string; title: string; create: () => DashboardView }> = [
  { id: "confusion", title: "Confusion matrices", create: () => new ConfusionView() },
  { id: "curves", title: "ROC / PR", create: () => new CurvesView() },
  { id: "predictions", title: "Predictions", create: () => new PredictionsView() },
  { id: "distributions", title: "Training health", create: () => new DistributionsView() },
  { id: "graph", title: "Structure", create: () => new GraphView() },
  { id: "attention", title: "Attention", create: () => new AttentionView() },
  { id: "heatmap", title: "Tensors", create: () => new HeatmapView() },
  // last: the default tab stays the first kind's view, and the all-runs evaluation runs only when asked
  {
    id: "alerts",
    title: "Alerts",
    create: () => new AlertsView(Object.fromEntries(VIEWS.map((v) => [v.id, v.title]))),
  },
];

export async function render(): Promise<void> {
  installStyle();
  const tabs = el("nav", { className: "ml-tabs", attrs: { "aria-label": "ModelLens views" } });
  const sidebar = el("aside", { className: "ml-sidebar" }, [tabs]);
  const main = el("main", { className: "ml-main" });
  document.body.replaceChildren(el("div", { className: "ml-app" }, [sidebar, main]));
  const views = VIEWS.map((spec) => ({ spec, view: spec.create(), started: false }));
  // Only the active view is in the document: the views reuse aria-labels ("tag", "run", "step").
  const show = (id: string) => {
    for (const entry of views) {
      if (entry.spec.id !== id) continue;
      sidebar.replaceChildren(tabs, entry.view.sidebar);
      main.replaceChildren(entry.view.main);
      if (!entry.started) {
        entry.started = true;
        void entry.view.start();
      }
    }
    for (const button of tabs.querySelectorAll("button"))
      button.classList.toggle("ml-active", button.dataset.view === id);
  };
  for (const { spec } of views) {
    const button = el("button", { text: spec.title, attrs: { "data-view": spec.id } });
    button.addEventListener("click", () => show(spec.id));
    tabs.appendChild(button);
  }
  window.addEventListener("modellens-navigate", (event) => {
    const detail = (event as CustomEvent<NavigateDetail>).detail;
    const entry = views.find((v) => v.spec.id === detail?.view);
    if (!entry) return;
    show(entry.spec.id);
    void entry.view.open?.(detail);
  });
  followHostTheme(() => {
    // canvases read colours from CSS variables: redraw them on a theme change
    window.dispatchEvent(new Event("modellens-theme"));
  });
  show(VIEWS[0].id);
}
