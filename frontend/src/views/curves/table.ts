// Per-class ROC AUC, average precision, support and stored points, sortable by each (undefined
// scores last); a click on a row shows that class's curves.
import { formatScore } from "../../core/format";
import { SortableTable } from "../../core/table";
import { classRows, type ClassRow, type SortKey, type StepData } from "./shape";

export class ClassTable {
  private step: StepData | null = null;
  private shown = new Set<number>();
  private table: SortableTable<ClassRow>;

  constructor(onPick: (row: ClassRow) => void) {
    this.table = new SortableTable<ClassRow>({
      ariaLabel: "AUC per class",
      columns: [
        { key: "name", label: "class", text: (row) => row.name },
        { key: "auc", label: "AUC", text: (row) => formatScore(row.auc), help: "ROC AUC (sort: worst first)" },
        { key: "ap", label: "AP", text: (row) => formatScore(row.ap), help: "average precision (sort: worst first)" },
        { key: "positives", label: "P", text: (row) => String(row.positives), help: "positives (support)" },
        { key: "negatives", label: "N", text: (row) => String(row.negatives), help: "negatives" },
        {
          key: "points",
          label: "points",
          text: (row) => (row.points === row.distinct ? String(row.points) : `${row.points} of ${row.distinct}`),
          help: "stored curve points (of distinct thresholds)",
        },
      ],
      rows: (key, descending) => (this.step ? classRows(this.step, key as SortKey, descending) : []),
      onPick,
      key: "auc",
      descendingFirst: (key) => key === "positives" || key === "negatives" || key === "points",
      isActive: (row) => this.shown.has(row.index),
    });
  }

  get element(): HTMLElement {
    return this.table.element;
  }

  update(step: StepData, shown: number[]): void {
    this.step = step;
    this.shown = new Set(shown);
    this.table.render();
  }
}
