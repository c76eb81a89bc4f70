// Per-class precision, recall, F1 and support; a click on a header sorts by it.
import { el } from "../../core/dom";
import { classRows, formatScore, type SortKey, type StepData } from "./shape";

const COLUMNS: Array<[SortKey, string]> = [
  ["name", "class"],
  ["precision", "precision"],
  ["recall", "recall"],
  ["f1", "F1"],
  ["support", "support"],
];

export class ClassTable {
  readonly element: HTMLElement;
  private body = el("tbody");
  private headers = new Map<SortKey, HTMLTableCellElement>();
  private key: SortKey = "name";
  private descending = false;
  private data: StepData | null = null;

  constructor(private readonly onPick: (index: number) => void) {
    const row = el("tr");
    for (const [key, label] of COLUMNS) {
      const th = el("th", { text: label, attrs: { "data-key": key, title: `sort by ${label}` } });
      th.addEventListener("click", () => this.sortBy(key));
      this.headers.set(key, th);
      row.appendChild(th);
    }
    this.element = el("div", { className: "ml-table-wrap" }, [
      el("table", { className: "ml-table" }, [el("thead", {}, [row]), this.body]),
    ]);
  }

  sortBy(key: SortKey): void {
    this.descending = this.key === key ? !this.descending : key !== "name";
    this.key = key;
    this.render();
  }

  update(data: StepData): void {
    this.data = data;
    this.render();
  }

  private render(): void {
    for (const [key, th] of this.headers) {
      const label = COLUMNS.find(([k]) => k === key)![1];
      th.textContent = key === this.key ? `${label} ${this.descending ? "▼" : "▲"}` : label;
    }
    if (!this.data) return;
    const rows = classRows(this.data, this.key, this.descending).map((row) => {
      const tr = el("tr", {}, [
        el("td", { text: row.name, title: row.name }),
        el("td", { text: formatScore(row.precision) }),
        el("td", { text: formatScore(row.recall) }),
        el("td", { text: formatScore(row.f1) }),
        el("td", { text: String(row.support) }),
      ]);
      tr.addEventListener("click", () => this.onPick(row.index));
      return tr;
    });
    this.body.replaceChildren(...rows);
  }
}
