// Which classes the charts show: all (up to 10), the worst k by AUC, a search by name, the ones
// picked in the table, or the micro average only; optionally with the micro average. A tag's
// first step picks the default (all up to 10 classes, else the 5 worst with the micro average).
import { el, labelled, select } from "../../core/dom";
import { ALL_LIMIT, defaultSelection, type Selection, type SelectionInput, type StepData } from "./shape";

export class ClassSelection {
  readonly mode = select([
    ["all", `all classes (up to ${ALL_LIMIT})`],
    ["worst", "worst k by AUC"],
    ["search", "search by name"],
    ["picked", "picked in the table"],
    ["micro", "micro average only"],
  ]);
  private k = el("input", { attrs: { type: "number", min: "1", max: "50", value: "5" } });
  private query = el("input", { attrs: { type: "search", placeholder: "part of a class name" } });
  private micro = el("input", { attrs: { type: "checkbox", "aria-label": "with micro average" } });
  private kField = labelled("k", this.k);
  private queryField = labelled("search classes", this.query);
  private microField = el("label", { className: "ml-row ml-check" }, [
    this.micro,
    el("span", { text: "with micro average" }),
  ]);
  readonly element = el("div", { className: "ml-field-group" }, [
    labelled("classes", this.mode),
    this.kField,
    this.queryField,
    this.microField,
  ]);
  private picked: string[] = [];
  private defaultsFor = ""; // the tag whose default selection was applied

  constructor(onChange: () => void) {
    this.mode.addEventListener("change", onChange);
    this.k.addEventListener("change", onChange);
    this.query.addEventListener("input", onChange);
    this.micro.addEventListener("change", onChange);
  }

  /** Before drawing a step of `tag`: its first step applies the default selection. */
  applyDefaults(tag: string, data: StepData): void {
    const many = !data.binary && data.class_names.length > ALL_LIMIT;
    (this.mode.querySelector("option[value='all']") as HTMLOptionElement).disabled = many;
    this.element.hidden = data.binary;
    if (this.defaultsFor === tag) return;
    this.defaultsFor = tag;
    const defaults = defaultSelection(data);
    this.mode.value = defaults.mode;
    this.micro.checked = defaults.micro;
  }

  /** Shows the fields that apply and returns the selection. */
  input(): SelectionInput {
    const mode = this.mode.value as Selection;
    this.kField.hidden = mode !== "worst";
    this.queryField.hidden = mode !== "search";
    this.microField.hidden = mode === "micro";
    const k = Math.max(1, Number(this.k.value) || 5);
    return { mode, k, query: this.query.value, picked: this.picked, micro: this.micro.checked };
  }

  /** One class of `tag` alone (another view asks for it). */
  only(tag: string, name: string): void {
    this.defaultsFor = tag;
    this.picked = [name];
    this.mode.value = "picked";
    this.micro.checked = false;
  }

  /** A table row: that class alone, or added to / removed from the picked ones. Returns whether
   * it is shown now. */
  toggle(name: string): boolean {
    if (this.mode.value === "picked") {
      this.picked = this.picked.includes(name) ? this.picked.filter((n) => n !== name) : [...this.picked, name];
    } else {
      this.picked = [name];
      this.mode.value = "picked";
    }
    return this.picked.includes(name);
  }
}
