// Export of the grid and of the enlarged map: PNG of each canvas as drawn; SVG of the grid (each
// thumbnail an embedded pixel image, names as vector text) and of the map (core's heatmap SVG:
// vector cells and token labels up to 150 per side, the raster embedded beyond). Every name
// goes through escapeXml.
import { el } from "../../core/dom";
import { downloadPng, downloadSvg, escapeXml, fileStem, heatmapSvg, rgbaDataUrl } from "../../core/export";
import type { GridData } from "./grid";
import type { DrawnMap } from "./mapview";
import {
  atlasTile,
  gridLayout,
  gridPosition,
  mapIndex,
  tileOrigin,
  visibleName,
  type MapRef,
  type StepData,
} from "./shape";

/** Every map of the step, in grid order. */
function gridRefs(step: StepData): MapRef[] {
  const refs: MapRef[] = [];
  for (let l = 0; l < step.layers; l++) {
    for (let h = 0; h <= step.heads; h++) refs.push({ layer: l, head: h === step.heads ? "mean" : h });
  }
  if (step.rollout) refs.push({ layer: "rollout", head: "mean" });
  return refs;
}

export function gridSvg(
  data: GridData,
  tileDataUrl: (rgba: Uint8ClampedArray, cols: number, rows: number) => string,
): string {
  const { step, thumbs, atlas } = data;
  const layout = gridLayout(step.layers, step.heads, step.rollout, 130 + (step.heads + 1) * 60);
  const extra = 20;
  const width = layout.width;
  const height = layout.height + extra;
  const title = `${data.tag} · ${data.run} · step ${step.step}${data.compare ? ` · difference against ${data.compare}` : ""}`;
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<text x="4" y="14" font-size="12">${escapeXml(title)}</text>`,
    `<g transform="translate(0,${extra})">`,
  ];
  for (let c = 0; c < layout.columns; c++) {
    const { x } = tileOrigin(layout, 0, c);
    const label = c === layout.heads ? "mean" : String(c);
    parts.push(
      `<text x="${x + layout.tile / 2}" y="${layout.top - 8}" font-size="11" text-anchor="middle">${label}</text>`,
    );
  }
  for (let r = 0; r < layout.rows; r++) {
    const { y } = tileOrigin(layout, r, 0);
    const name = r === layout.layers ? "rollout" : visibleName(step.layer_names[r] ?? `layer ${r}`);
    parts.push(
      `<text x="${layout.left - 6}" y="${y + layout.tile / 2}" font-size="11" text-anchor="end" dominant-baseline="middle">${escapeXml(name)}</text>`,
    );
  }
  for (const ref of gridRefs(step)) {
    const m = mapIndex(ref, step.layers, step.heads);
    if (m >= thumbs.count) continue;
    const [r, c] = gridPosition(layout, ref);
    const { x, y } = tileOrigin(layout, r, c);
    const href = tileDataUrl(atlasTile(atlas, thumbs, m), thumbs.cols, thumbs.rows);
    parts.push(
      `<image x="${x}" y="${y}" width="${layout.tile}" height="${layout.tile}" image-rendering="pixelated" preserveAspectRatio="none" href="${href}"/>`,
    );
  }
  parts.push("</g>", "</svg>");
  return parts.join("\n");
}

export function mapSvg(drawn: DrawnMap): string {
  const { map, request } = drawn;
  return heatmapSvg({
    rows: map.rows,
    columns: map.cols,
    rgba: drawn.rgba,
    rowNames: drawn.rowNames,
    columnNames: drawn.columnNames,
    title: `${request.tag} · ${request.run} · ${drawn.title}`,
    lines: [
      drawn.scaleNote,
      `${map.queries} × ${map.keys} tokens` +
        (map.rowBlock > 1 || map.colBlock > 1 ? ` in blocks of ${map.rowBlock} × ${map.colBlock}` : "") +
        " · stored as uint8 per row, |error| ≤ row max / 510",
    ],
    pngDataUrl: () => rgbaDataUrl(drawn.rgba, map.cols, map.rows),
  });
}

export interface ExportSources {
  gridCanvas: HTMLCanvasElement;
  mapCanvas: HTMLCanvasElement;
  grid(): GridData | null;
  map(): DrawnMap | null;
}

/** The sidebar's two export fields: the grid and the enlarged map, each as PNG and SVG. */
export function exportFields(sources: ExportSources): HTMLElement[] {
  const button = (text: string, label: string, run: () => void) => {
    const b = el("button", { text, attrs: { "aria-label": label } });
    b.addEventListener("click", run);
    return b;
  };
  const gridStem = () => {
    const d = sources.grid();
    return fileStem(d?.run ?? "attention", d?.tag ?? "", `step${d?.step.step ?? 0}`, "grid");
  };
  const mapStem = () => {
    const d = sources.map();
    const ref = d?.request.ref;
    const which = ref ? (ref.layer === "rollout" ? "rollout" : `layer${ref.layer}_head${ref.head}`) : "map";
    return fileStem(d?.request.run ?? "attention", d?.request.tag ?? "", `step${d?.request.step.step ?? 0}`, which);
  };
  const field = (title: string, buttons: HTMLElement[]) =>
    el("div", { className: "ml-field" }, [el("span", { text: title }), el("div", { className: "ml-row" }, buttons)]);
  return [
    field("export grid", [
      button("PNG", "grid PNG", () => downloadPng(sources.gridCanvas, gridStem())),
      button("SVG", "grid SVG", () => {
        const d = sources.grid();
        if (d) downloadSvg(gridSvg(d, rgbaDataUrl), gridStem());
      }),
    ]),
    field("export map", [
      button("PNG", "map PNG", () => downloadPng(sources.mapCanvas, mapStem())),
      button("SVG", "map SVG", () => {
        const d = sources.map();
        if (d) downloadSvg(mapSvg(d), mapStem());
      }),
    ]),
  ];
}
