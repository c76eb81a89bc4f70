import assert from "node:assert/strict";
import { test } from "node:test";

import { formatExact, formatShort, formatTick } from "./format";
import { binIndex, chartSvg, layoutChart, linePath, nearestPoint, type XYChartSpec } from "./chartlayout";

const HOSTILE = '<img src=x onerror="alert(1)">';

const SPEC: XYChartSpec = {
  width: 300,
  height: 200,
  xDomain: [0, 1],
  yDomain: [0, 1],
  xTitle: "false positive rate",
  series: [
    { color: "#123456", x: [0, 0.5, 1], y: [0, 0.8, 1], mode: "line", legend: HOSTILE },
    { color: "--ml-accent", x: [0.2, NaN], y: [0.4, 0.1], mode: "points", dash: "3 3" },
  ],
  bars: [{ color: "#00ff00", edges: [0, 0.5, 1], heights: [0.25, NaN] }],
  guides: [{ x1: 0, y1: 0, x2: 1, y2: 1 }],
};

test("layout maps domains onto the plot, below the legend", () => {
  const layout = layoutChart(SPEC);
  const { left, top, width, height } = layout.plot;
  assert.equal(layout.x(0), left);
  assert.equal(layout.x(1), left + width);
  assert.equal(layout.y(0), top + height);
  assert.equal(layout.y(1), top);
  assert.ok(top >= 10 + 15, "one legend row above the plot");
  const texts = layout.marks.filter((m) => m.type === "text").map((m) => (m as { text: string }).text);
  assert.ok(texts.includes("false positive rate"));
  assert.ok(
    texts.some((t) => t.startsWith("<img")),
    "the legend keeps the name (cut to 28 characters)",
  );
  const circles = layout.marks.filter((m) => m.type === "circle");
  assert.equal(circles.length, 1, "a point with NaN is not drawn");
  const rects = layout.marks.filter((m) => m.type === "rect" && (m as { fill: string }).fill === "#00ff00");
  assert.equal(rects.length, 1, "a NaN bar is not drawn");
});

test("a line breaks at NaN", () => {
  const id = (v: number) => v;
  assert.equal(linePath([0, 1, NaN, 3, 4], [0, 1, 2, 3, 4], id, id), "M0,0L1,1M3,3L4,4");
  // sub-pixel steps are skipped, the end of a run is kept
  assert.equal(linePath([0, 0.1, 0.2, 0.3, 2], [0, 0, 0, 0.4, 2], id, id), "M0,0L0.3,0.4L2,2");
  assert.equal(linePath([0, 0.1, 0.2], [0, 0.1, 0.2], id, id), "M0,0L0.2,0.2");
});

test("hover finds the nearest point in pixels within the distance, skipping hidden series", () => {
  const layout = layoutChart(SPEC);
  const { x, y } = layout;
  const hit = nearestPoint(SPEC.series!, x, y, x(0.5) + 3, y(0.8) - 4);
  assert.deepEqual(hit, { series: 0, index: 1, distance: 5 });
  assert.equal(nearestPoint(SPEC.series!, x, y, x(0.5) + 30, y(0.8), 24), null);
  const hidden = [{ ...SPEC.series![0], hoverable: false }];
  assert.equal(nearestPoint(hidden, x, y, x(0.5), y(0.8)), null);
});

test("bins: the last includes its upper edge, outside is -1", () => {
  const edges = [0, 1, 2, 4];
  assert.equal(binIndex(edges, 0), 0);
  assert.equal(binIndex(edges, 0.999), 0);
  assert.equal(binIndex(edges, 1), 1);
  assert.equal(binIndex(edges, 3.5), 2);
  assert.equal(binIndex(edges, 4), 2);
  assert.equal(binIndex(edges, 4.01), -1);
  assert.equal(binIndex(edges, -1), -1);
  assert.equal(binIndex(edges, NaN), -1);
});

test("the SVG export escapes every text and embeds the raster under the marks", () => {
  const layout = layoutChart(SPEC);
  const svg = chartSvg(layout, 300, 200, `ROC · ${HOSTILE} & co`, undefined, "data:image/png;base64,AAAA");
  assert.ok(svg.startsWith("<svg"));
  assert.ok(!svg.includes("<img"), "no raw markup from a name");
  assert.ok(svg.includes("&lt;img src=x onerror=&quot;alert(1)&quot;&gt;"));
  assert.ok(svg.includes("&amp; co"));
  assert.ok(svg.indexOf("<image") < svg.indexOf("<path"), "the raster lies under the marks");
  assert.ok(svg.includes('stroke="#f57c00"'), "palette names resolve to colours");
  assert.ok(svg.includes('clip-path="url(#plot)"'));
});

test("numbers: exact for tooltips, short for ticks", () => {
  assert.equal(formatExact(0.1 + 0.2), "0.30000000000000004");
  assert.equal(formatExact(null), "undefined");
  assert.equal(formatExact(NaN), "undefined");
  assert.equal(formatExact(-Infinity), "−Inf");
  assert.equal(formatTick(0.30000000000000004), "0.3");
  assert.equal(formatTick(123456), "1.2e5");
  assert.equal(formatShort(2 / 3), "0.6667");
  assert.equal(formatShort(12), "12");
});
