// The head scores of a step (from `attention/step`): entropy and the mean attention to the
// previous token, the first token, the token itself and separators, one row per head, sortable
// by each score (undefined scores last); a click on a row opens that head.
import { SortableTable, type Column } from "../../core/table";
import {
  formatScore,
  sameRef,
  SCORE_HELP,
  SCORE_LABELS,
  scoreRows,
  visibleName,
  type MapRef,
  type ScoreRow,
  type StepData,
} from "./shape";

export class ScoreTable {
  private step: StepData | null = null;
  private names = "";
  private selected: MapRef | null = null;
  private table: SortableTable<ScoreRow>;

  constructor(onPick: (ref: MapRef) => void) {
    this.table = new SortableTable<ScoreRow>({
      ariaLabel: "head scores",
      columns: [],
      rows: (key, descending) => (this.step ? scoreRows(this.step, key, descending) : []),
      onPick: (row) => onPick({ layer: row.layer, head: row.head }),
      key: "layer",
      // low entropy (focused heads) first; the largest share of attention first
      descendingFirst: (key) => key !== "layer" && key !== "head" && key !== "entropy",
      isActive: (row) => sameRef(this.selected, { layer: row.layer, head: row.head }),
    });
  }

  get element(): HTMLElement {
    return this.table.element;
  }

  update(step: StepData, selected: MapRef | null): void {
    this.step = step;
    this.selected = selected;
    const names = JSON.stringify(step.score_names);
    if (names === this.names) {
      this.table.render();
      return;
    }
    this.names = names;
    const columns: Column<ScoreRow>[] = [
      { key: "layer", label: "layer", text: (row) => `${row.layer} ${visibleName(row.layerName)}` },
      { key: "head", label: "head", text: (row) => String(row.head) },
      ...step.score_names.map((name, s) => ({
        key: name,
        label: SCORE_LABELS[name] ?? name,
        help: SCORE_HELP[name],
        text: (row: ScoreRow) => formatScore(row.values[s]),
      })),
    ];
    this.table.setColumns(columns);
  }

  setSelected(selected: MapRef | null): void {
    this.selected = selected;
    this.table.render();
  }
}
