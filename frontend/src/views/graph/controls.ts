// The sidebar controls of the Structure view below the pickers: search with next/previous,
// expand all / collapse all / expand to depth, colour by, zoom and export.
import { el, labelled, replaceOptions, select } from "../../core/dom";
import { COLOR_BY_LABELS, type ColorBy } from "./paint";

export interface ControlActions {
  search(query: string): void;
  step(direction: 1 | -1): void;
  expandAll(): void;
  collapseAll(): void;
  expandToDepth(depth: number): void;
  colorBy(mode: ColorBy): void;
  zoom(factor: number | "fit"): void;
  exportPng(): void;
  exportSvg(): void;
}

export class Controls {
  readonly searchInput = el("input", {
    attrs: { type: "search", "aria-label": "search", placeholder: "name or type" },
  });
  readonly matchLabel = el("span", { className: "ml-note", attrs: { "aria-live": "polite" } });
  readonly colorSelect = select([]);
  readonly depthInput = el("input", {
    attrs: { type: "number", min: "0", max: "99", value: "1", "aria-label": "depth" },
  });
  readonly elements: HTMLElement[];

  /** `healthStep` (the health step slider) goes below "colour by". */
  constructor(actions: ControlActions, healthStep: HTMLElement) {
    const button = (text: string, run: () => void, label?: string) => {
      const b = el("button", { text, attrs: label ? { "aria-label": label } : {} });
      b.addEventListener("click", run);
      return b;
    };
    this.searchInput.addEventListener("input", () => actions.search(this.searchInput.value));
    this.searchInput.addEventListener("keydown", (e) => {
      if (e.key === "Enter") actions.step(e.shiftKey ? -1 : 1);
    });
    this.colorSelect.addEventListener("change", () => actions.colorBy(this.colorSelect.value as ColorBy));
    this.setColorModes(["type", "params"], "type");
    this.elements = [
      el("div", { className: "ml-field" }, [
        el("span", { text: "search" }),
        this.searchInput,
        el("div", { className: "ml-row" }, [
          button("◀", () => actions.step(-1), "previous match"),
          button("▶", () => actions.step(1), "next match"),
          this.matchLabel,
        ]),
      ]),
      el("div", { className: "ml-field" }, [
        el("span", { text: "expand" }),
        el("div", { className: "ml-row" }, [
          button("expand all", () => actions.expandAll()),
          button("collapse all", () => actions.collapseAll()),
        ]),
        el("div", { className: "ml-row" }, [
          button("expand to depth", () => actions.expandToDepth(Math.max(0, Number(this.depthInput.value) || 0))),
          this.depthInput,
        ]),
      ]),
      labelled("colour by", this.colorSelect),
      healthStep,
      el("div", { className: "ml-field" }, [
        el("span", { text: "zoom" }),
        el("div", { className: "ml-row" }, [
          button("+", () => actions.zoom(1.25), "zoom in"),
          button("−", () => actions.zoom(0.8), "zoom out"),
          button("fit", () => actions.zoom("fit")),
        ]),
      ]),
      el("div", { className: "ml-field" }, [
        el("span", { text: "export view" }),
        el("div", { className: "ml-row" }, [
          button("PNG", () => actions.exportPng()),
          button("SVG", () => actions.exportSvg()),
        ]),
      ]),
    ];
  }

  /** The colour modes the run offers (health modes only with Training health data). */
  setColorModes(modes: ColorBy[], value: ColorBy): void {
    replaceOptions(
      this.colorSelect,
      modes.map((m) => [m, COLOR_BY_LABELS[m]]),
      modes.includes(value) ? value : modes[0],
    );
  }

  get colorBy(): ColorBy {
    return this.colorSelect.value as ColorBy;
  }

  showMatches(count: number, current: number, query: string): void {
    this.matchLabel.textContent = !query.trim()
      ? ""
      : count === 0
        ? "no match"
        : current < 0
          ? `${count} matches`
          : `${current + 1} of ${count}`;
  }
}
