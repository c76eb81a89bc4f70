// A table sortable by a click on a header (again: the other way round), whose rows come from
// the view's own pure sort; a click on a row picks it. Cells are text only.
import { el } from "./dom";

export interface Column<R> {
  key: string;
  label: string;
  text: (row: R) => string;
  help?: string; // the header's tooltip (default: "sort by <label>")
  /** The cell's content as a node (a button, a badge) instead of `text`, which stays its title;
   * a click inside it does not pick the row. */
  node?: (row: R) => Node;
  /** Not sortable (a column of buttons). */
  fixed?: boolean;
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
  /** A class name for a row (e.g. its severity). */
  rowClass?: (row: R) => string;
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
        if (column.fixed) th.title = column.help ?? "";
        else th.addEventListener("click", () => this.sortBy(column.key));
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
          if (!column.node) return el("td", { text, title: text, attrs: { dir: "auto" } });
          const content = column.node(row);
          content.addEventListener("click", (event) => event.stopPropagation());
          return el("td", { title: text, attrs: { dir: "auto" } }, [content]);
        }),
      );
      if (this.options.isActive?.(row)) tr.classList.add("ml-active");
      const rowClass = this.options.rowClass?.(row);
      if (rowClass) tr.classList.add(rowClass);
      tr.addEventListener("click", () => this.options.onPick(row));
      return tr;
    });
    this.body.replaceChildren(...rows);
  }
}
