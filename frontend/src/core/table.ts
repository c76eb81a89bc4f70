// A table sortable by a click on a header (again: the other way round), whose rows come from
// the view's own pure sort; a click on a row picks it. Cells are text only.
import { el } from "./dom";

export interface Column<R> {
  key: string;
  label: string;
  text: (row: R) => string;
  help?: string; // the header's tooltip (default: "sort by <label>")
}

export interface SortableTableOptions<R> {
  ariaLabel: string;
  columns: Column<R>[];
  /** The rows sorted by `key`. */
  rows: (key: string, descending: boolean) => R[];
  onPick: (row: R) => void;
  key: string;
  /** Whether a first click on `key` sorts largest first (scores) or not (names). */
  descendingFirst?: (key: string) => boolean;
  /** Marks a row (the one shown elsewhere). */
  isActive?: (row: R) => boolean;
}

export class SortableTable<R> {
  readonly element: HTMLElement;
  private head = el("tr");
  private body = el("tbody");
  private key: string;
  private descending = false;

  constructor(private readonly options: SortableTableOptions<R>) {
    this.key = options.key;
    this.element = el("div", { className: "ml-table-wrap" }, [
      el("table", { className: "ml-table", attrs: { "aria-label": options.ariaLabel } }, [
        el("thead", {}, [this.head]),
        this.body,
      ]),
    ]);
    this.setColumns(options.columns);
  }

  setColumns(columns: Column<R>[]): void {
    this.options.columns = columns;
    this.head.replaceChildren(
      ...columns.map((column) => {
        const th = el("th", {
          text: column.label,
          attrs: { "data-key": column.key, title: column.help ?? `sort by ${column.label}` },
        });
        th.addEventListener("click", () => this.sortBy(column.key));
        return th;
      }),
    );
    this.render();
  }

  sortBy(key: string): void {
    this.descending = this.key === key ? !this.descending : (this.options.descendingFirst?.(key) ?? false);
    this.key = key;
    this.render();
  }

  render(): void {
    const { columns } = this.options;
    this.head.querySelectorAll("th").forEach((th, k) => {
      const column = columns[k];
      th.textContent = column.key === this.key ? `${column.label} ${this.descending ? "▼" : "▲"}` : column.label;
    });
    const rows = this.options.rows(this.key, this.descending).map((row) => {
      const tr = el(
        "tr",
        {},
        columns.map((column) => {
          const text = column.text(row);
          return el("td", { text, title: text, attrs: { dir: "auto" } });
        }),
      );
      if (this.options.isActive?.(row)) tr.classList.add("ml-active");
      tr.addEventListener("click", () => this.options.onPick(row));
      return tr;
    });
    this.body.replaceChildren(...rows);
  }
}
