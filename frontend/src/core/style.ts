// The dashboard's stylesheet (TensorBoard's CSP allows inline styles), light and dark.

const CSS = `
:root { color-scheme: light; }
body { margin: 0; font: 13px Roboto, "Helvetica Neue", Arial, sans-serif;
  --ml-bg: #fff; --ml-fg: #212121; --ml-muted: #616161; --ml-border: #e0e0e0;
  --ml-panel: #f5f5f5; --ml-accent: #f57c00; --ml-highlight: #1565c0;
  background: var(--ml-bg); color: var(--ml-fg); }
body.ml-dark { color-scheme: dark; --ml-bg: #303030; --ml-fg: #e8e8e8; --ml-muted: #b0b0b0;
  --ml-border: #555; --ml-panel: #3a3a3a; --ml-accent: #ffa726; --ml-highlight: #64b5f6; }
.ml-app { display: flex; min-height: 100vh; }
.ml-sidebar { width: 250px; flex: none; padding: 12px; border-right: 1px solid var(--ml-border);
  background: var(--ml-panel); box-sizing: border-box; display: flex; flex-direction: column; gap: 10px; }
.ml-main { flex: 1; min-width: 0; padding: 12px; display: flex; flex-direction: column; gap: 12px; }
.ml-field { display: flex; flex-direction: column; gap: 3px; color: var(--ml-muted); font-size: 12px; }
.ml-field select, .ml-field input { font: inherit; color: var(--ml-fg); background: var(--ml-bg);
  border: 1px solid var(--ml-border); border-radius: 3px; padding: 3px; }
.ml-row { display: flex; gap: 6px; align-items: center; flex-wrap: wrap; }
button { font: inherit; color: var(--ml-fg); background: var(--ml-bg); border: 1px solid var(--ml-border);
  border-radius: 3px; padding: 3px 8px; cursor: pointer; }
button:hover { border-color: var(--ml-accent); }
h2 { font-size: 14px; margin: 0 0 6px; font-weight: 500; }
.ml-note { color: var(--ml-muted); }
.ml-error { color: #d32f2f; }
.ml-panels { display: flex; gap: 12px; align-items: flex-start; flex-wrap: wrap; }
[hidden] { display: none !important; }
.ml-heatmap-outer { flex: 1 1 600px; min-width: 380px; max-width: 920px; }
.ml-heatmap-wrap { position: relative; width: 100%; }
.ml-heatmap-wrap canvas { display: block; cursor: crosshair; touch-action: none; }
.ml-side { flex: 0 1 380px; min-width: 300px; display: flex; flex-direction: column; gap: 12px; }
.ml-tooltip { position: absolute; pointer-events: none; background: var(--ml-bg); color: var(--ml-fg);
  border: 1px solid var(--ml-border); border-radius: 4px; padding: 6px 8px; box-shadow: 0 2px 6px rgba(0,0,0,.25);
  white-space: pre; font-variant-numeric: tabular-nums; z-index: 10; }
.ml-table-wrap { max-height: 420px; overflow: auto; border: 1px solid var(--ml-border); }
table.ml-table { border-collapse: collapse; width: 100%; table-layout: fixed; font-variant-numeric: tabular-nums; }
.ml-table th:first-child { width: 32%; }
.ml-table th, .ml-table td { padding: 3px 4px; text-align: right; border-bottom: 1px solid var(--ml-border); }
.ml-table th { position: sticky; top: 0; background: var(--ml-panel); cursor: pointer; user-select: none; }
.ml-table th:first-child, .ml-table td:first-child { text-align: left; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.ml-pairs { list-style: none; margin: 0; padding: 0; display: flex; flex-direction: column; gap: 2px; }
.ml-pairs button { width: 100%; text-align: left; border: none; background: transparent; padding: 2px 4px; }
.ml-pairs button:hover, .ml-pairs button.ml-active { background: var(--ml-panel); }
.ml-chart text { fill: var(--ml-muted); font-size: 10px; }
.ml-chart .ml-axis { stroke: var(--ml-border); }
.ml-legend { display: flex; gap: 6px; align-items: center; color: var(--ml-muted); font-size: 11px; }
.ml-legend canvas { border: 1px solid var(--ml-border); }
.ml-tabs { display: flex; gap: 4px; }
.ml-tabs button.ml-active { border-color: var(--ml-accent); color: var(--ml-accent); }
.ml-tabs { flex-wrap: wrap; }
.ml-spacer { flex: 1; }
.ml-view-content { display: flex; flex-direction: column; gap: 12px; }
.ml-swatch-item { display: inline-flex; gap: 3px; align-items: center; margin-left: 8px; }
.ml-swatch { display: inline-block; width: 10px; height: 10px; border: 1px solid var(--ml-border); }
.ml-alerts { border: 1px solid var(--ml-border); border-radius: 4px; padding: 6px 8px; }
.ml-alerts h2 { margin: 0; }
.ml-alert-list { display: flex; flex-direction: column; gap: 4px; margin: 6px 0; }
.ml-alert { text-align: left; border-left-width: 4px; }
.ml-severity-error { border-left-color: #d32f2f; background: rgba(211, 47, 47, 0.08); }
.ml-severity-warning { border-left-color: #f9a825; background: rgba(249, 168, 37, 0.10); }
.ml-thresholds { gap: 10px; margin-top: 4px; }
.ml-thresholds input { width: 80px; }
.ml-invalid { outline: 2px solid #d32f2f; }
.ml-detail { display: flex; flex-direction: column; gap: 8px; }
.ml-detail select { max-width: 320px; }
.ml-detail h2 { margin: 0; font-family: monospace; }
.ml-detail-row { display: flex; gap: 12px; flex-wrap: wrap; align-items: flex-start; }
.ml-figure { margin: 0; display: flex; flex-direction: column; gap: 2px; }
.ml-figure figcaption { color: var(--ml-muted); font-size: 11px; }
.ml-band, .ml-histogram { position: relative; }
.ml-badge { background: #f9a825; color: #212121; border-radius: 3px; padding: 1px 6px; font-size: 11px; }
.ml-stats { max-width: 900px; }
.ml-stats .ml-table th:first-child { width: 18%; }
.ml-thresholds-details summary { cursor: pointer; color: var(--ml-muted); }
.ml-legend-title { color: var(--ml-fg); margin-right: 2px; }
.ml-legend { flex-wrap: wrap; min-height: 16px; }
.ml-progress { position: absolute; top: 10px; left: 50%; transform: translateX(-50%); z-index: 11;
  display: flex; gap: 8px; align-items: center; background: var(--ml-bg); color: var(--ml-fg);
  border: 1px solid var(--ml-border); border-radius: 4px; padding: 6px 10px; box-shadow: 0 2px 6px rgba(0,0,0,.25); }
.ml-progress progress { width: 160px; }
.ml-graph-panels { flex-wrap: nowrap; }
.ml-graph-wrap { position: relative; flex: 1 1 auto; min-width: 420px; border: 1px solid var(--ml-border); }
.ml-graph-wrap canvas { display: block; cursor: grab; touch-action: none; outline: none; }
.ml-graph-details { flex: 0 0 380px; width: 380px; display: flex; flex-direction: column; gap: 8px;
  max-height: 900px; overflow: auto; }
.ml-graph-details h2 { margin: 0; }
.ml-graph-path { font-family: monospace; word-break: break-all; }
.ml-props th { position: static; cursor: default; width: 36%; text-align: left; font-weight: normal;
  color: var(--ml-muted); background: transparent; }
.ml-props td, .ml-props th:first-child { white-space: normal; word-break: break-word; text-align: left; }
.ml-param-stats { font-size: 12px; }
.ml-param-stats th:first-child { width: 34%; }
.ml-param-stats td { white-space: nowrap; }
.ml-link { border: none; background: none; padding: 0; color: var(--ml-highlight); text-decoration: underline;
  font-family: monospace; text-align: left; max-width: 100%; overflow: hidden; text-overflow: ellipsis; }
.ml-token { unicode-bidi: isolate; }
.ml-attn-grid-panel { flex: 1 1 620px; min-width: 380px; max-width: 1100px; }
.ml-attn-grid canvas { cursor: default; }
.ml-attn-scores { flex: 1 1 420px; min-width: 360px; max-width: 640px; }
.ml-attn-scores .ml-table th:first-child { width: 26%; }
.ml-attn-scores .ml-table th:nth-child(2) { width: 8%; }
.ml-attn-scores .ml-table th { font-size: 11px; white-space: nowrap; padding: 3px 2px; }
.ml-attn-scores .ml-table tr { cursor: pointer; }
.ml-table tr.ml-active td { background: var(--ml-panel); font-weight: 500; }
.ml-attn-map { flex: 1 1 620px; min-width: 380px; max-width: 920px; display: flex; flex-direction: column; gap: 6px; }
.ml-attn-tokens { flex: 0 1 640px; min-width: 380px; display: flex; flex-direction: column; gap: 6px; }
.ml-attn-scroll { overflow-y: auto; overflow-x: hidden; border: 1px solid var(--ml-border); width: fit-content; max-width: 100%; }
.ml-attn-scroll canvas { position: sticky; top: 0; display: block; cursor: default; }
.ml-attn-heads label { gap: 3px; color: var(--ml-fg); }
.ml-attn-rowzoom .ml-table th:first-child { width: 18%; }
.ml-topk th, .ml-topk td { white-space: normal; text-align: left; word-break: break-word; }
.ml-topk .ml-topk-key { display: inline-block; margin-right: 10px; white-space: nowrap; }
.ml-attn-map .ml-heatmap-wrap canvas, .ml-attn-tokens canvas { unicode-bidi: isolate; }
.ml-xychart { position: relative; flex: none; }
.ml-xychart-raster { position: absolute; pointer-events: none; }
.ml-xychart-svg { position: relative; display: block; overflow: visible; }
.ml-xychart .ml-tooltip { white-space: pre-wrap; overflow-wrap: anywhere; max-width: 300px; }
.ml-field-group { display: flex; flex-direction: column; gap: 10px; }
.ml-check { gap: 6px; color: var(--ml-muted); font-size: 12px; }
.ml-curves-panel { flex: 0 1 290px; min-width: 260px; display: flex; flex-direction: column; gap: 6px; }
.ml-curves-panel h2 { margin: 0; }
.ml-curves-panel input[type=range] { width: 100%; margin: 0; }
.ml-curves-threshold { font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
.ml-curves-matrix { border-collapse: collapse; font-variant-numeric: tabular-nums; }
.ml-curves-matrix th, .ml-curves-matrix td { border: 1px solid var(--ml-border); padding: 6px 8px; }
.ml-curves-matrix th { font-weight: normal; color: var(--ml-muted); font-size: 11px; }
.ml-curves-matrix td { text-align: center; font-weight: 500; min-width: 76px; }
.ml-curves-matrix td[data-cell=tp], .ml-curves-matrix td[data-cell=tn] { background: rgba(25, 118, 210, 0.14); }
.ml-curves-matrix td[data-cell=fp], .ml-curves-matrix td[data-cell=fn] { background: rgba(229, 57, 53, 0.12); }
.ml-curves-metrics { display: flex; flex-wrap: wrap; gap: 2px 10px; font-variant-numeric: tabular-nums; }
.ml-curves-open { align-self: flex-start; }
.ml-curves-table { flex: 1 1 380px; min-width: 320px; max-width: 540px; }
.ml-curves-table .ml-table th:first-child { width: 30%; }
.ml-curves-table .ml-table tr, .ml-curves-chart .ml-xychart { cursor: pointer; }
.ml-pred-metrics-panel { flex: 0 1 560px; min-width: 320px; }
table.ml-pred-metrics { width: 100%; table-layout: auto; }
.ml-pred-metrics th:first-child { width: auto; }
.ml-pred-wrong .ml-table th:nth-child(3), .ml-pred-wrong .ml-table td:nth-child(3),
.ml-pred-wrong .ml-table th:nth-child(4), .ml-pred-wrong .ml-table td:nth-child(4) { text-align: left; }
.ml-pred-metrics td:first-child { white-space: nowrap; }
.ml-pred-scatter .ml-legend { margin-bottom: 4px; }
.ml-pred-wrong { max-width: 980px; }
.ml-pred-wrong .ml-table th:first-child { width: 24%; }
.ml-tensor-panel { display: flex; flex-direction: column; gap: 6px; max-width: 1180px; }
.ml-tensor-panel .ml-heatmap-wrap canvas { cursor: crosshair; }
.ml-summary { font-variant-numeric: tabular-nums; }
.ml-alerts-table { max-height: none; }
.ml-alerts-table table.ml-table th, .ml-alerts-table table.ml-table td { text-align: left; white-space: normal;
  overflow-wrap: anywhere; vertical-align: top; }
.ml-alerts-table .ml-table th:first-child { width: 86px; }
.ml-alerts-table .ml-table th:nth-child(2), .ml-alerts-table .ml-table th:nth-child(3) { width: 13%; }
.ml-alerts-table .ml-table th:nth-child(4) { width: 11%; }
.ml-alerts-table .ml-table th:nth-child(6), .ml-alerts-table .ml-table th:nth-child(7) { width: 58px; text-align: right; }
.ml-alerts-table .ml-table td:nth-child(6), .ml-alerts-table .ml-table td:nth-child(7) { text-align: right; }
.ml-alerts-table .ml-table th:last-child { width: 200px; cursor: default; }
.ml-alerts-table .ml-open-link { white-space: nowrap; }
.ml-alerts-table td { unicode-bidi: plaintext; }
.ml-alert-row-error td:first-child { box-shadow: inset 4px 0 #d32f2f; }
.ml-alert-row-warning td:first-child { box-shadow: inset 4px 0 #f9a825; }
.ml-severity-badge { white-space: nowrap; font-weight: 500; }
.ml-severity-badge-error { color: #d32f2f; }
body.ml-dark .ml-severity-badge-error { color: #ef5350; }
.ml-severity-badge-warning { color: #b26a00; }
body.ml-dark .ml-severity-badge-warning { color: #ffca28; }
.ml-open-link { display: inline-block; font: inherit; color: var(--ml-highlight); background: var(--ml-bg);
  border: 1px solid var(--ml-border); border-radius: 3px; padding: 2px 6px; text-decoration: none; cursor: pointer; }
.ml-open-link:hover { border-color: var(--ml-accent); }
.ml-alert-thresholds { display: grid; grid-template-columns: max-content auto; gap: 2px 12px; margin: 0;
  font-variant-numeric: tabular-nums; }
.ml-alert-thresholds dt { color: var(--ml-muted); }
.ml-alert-thresholds dd { margin: 0; }
`;

export function installStyle(): void {
  const style = document.createElement("style");
  style.textContent = CSS;
  document.head.appendChild(style);
}
