import assert from "node:assert/strict";
import { test } from "node:test";

import {
  alertsCsv,
  csvField,
  escapeRegExp,
  filterAlerts,
  navigation,
  severityCounts,
  sortAlerts,
  tensorBoardRoot,
  thresholdItems,
  timeSeriesTags,
  timeSeriesUrl,
  viewTitle,
  type Alert,
} from "./shape";

function alert(partial: Partial<Alert>): Alert {
  const run = partial.run ?? "a";
  const tag = partial.tag ?? "gradients";
  return {
    run,
    tag,
    source: "health",
    severity: "warning",
    code: "vanishing_gradients",
    subject: null,
    message: "gradients vanish",
    first_step: 0,
    last_step: 10,
    view: "distributions",
    link: { view: partial.view ?? "distributions", run, tag, step: partial.first_step ?? 0 },
    ...partial,
  };
}

const ROWS: Alert[] = [
  alert({
    run: "b",
    tag: "val/confusion",
    severity: "warning",
    code: "recall_drop",
    subject: "cat",
    first_step: 5,
    view: "confusion",
    source: "evaluation",
    message: "recall of cat fell by 0.4",
  }),
  alert({
    run: "a",
    tag: "gradients",
    severity: "error",
    code: "nonfinite",
    subject: "fc.weight",
    first_step: 30,
    message: "NaN/Inf in fc.weight",
  }),
  alert({
    run: "b",
    tag: "weights",
    severity: "error",
    code: "nonfinite",
    first_step: 2,
    message: "NaN/Inf in 3 tensors",
  }),
  alert({
    run: "a",
    tag: "val/accuracy",
    severity: "warning",
    code: "overfitting",
    subject: "train/accuracy",
    first_step: 40,
    view: "timeseries",
    source: "evaluation",
    message: "validation accuracy falls",
  }),
];

const order = (rows: Alert[]) => rows.map((a) => `${a.run}:${a.tag}`);

test("the default order: errors first, then run, then tag", () => {
  assert.deepEqual(order(sortAlerts(ROWS, "severity")), [
    "a:gradients",
    "b:weights",
    "a:val/accuracy",
    "b:val/confusion",
  ]);
  // descending severity puts warnings first, ties still by run and tag
  assert.deepEqual(order(sortAlerts(ROWS, "severity", true)), [
    "a:val/accuracy",
    "b:val/confusion",
    "a:gradients",
    "b:weights",
  ]);
});

test("sorting by each column, both ways, ties in the default order", () => {
  assert.deepEqual(order(sortAlerts(ROWS, "first_step")), [
    "b:weights",
    "b:val/confusion",
    "a:gradients",
    "a:val/accuracy",
  ]);
  assert.deepEqual(order(sortAlerts(ROWS, "first_step", true)), [
    "a:val/accuracy",
    "a:gradients",
    "b:val/confusion",
    "b:weights",
  ]);
  assert.deepEqual(order(sortAlerts(ROWS, "run")), ["a:gradients", "a:val/accuracy", "b:weights", "b:val/confusion"]);
  assert.deepEqual(order(sortAlerts(ROWS, "tag")), ["a:gradients", "a:val/accuracy", "b:val/confusion", "b:weights"]);
  // rows without a subject last, whichever the direction
  assert.equal(sortAlerts(ROWS, "subject").at(-1)!.subject, null);
  assert.equal(sortAlerts(ROWS, "subject", true).at(-1)!.subject, null);
  assert.deepEqual(
    sortAlerts(ROWS, "subject").map((a) => a.subject),
    ["cat", "fc.weight", "train/accuracy", null],
  );
  assert.equal(ROWS[0].run, "b", "the input is not reordered");
});

test("filter by severity, run and text (every word, case-insensitive)", () => {
  const all = { severity: "all" as const, run: "", text: "" };
  assert.equal(filterAlerts(ROWS, all).length, 4);
  assert.deepEqual(order(filterAlerts(ROWS, { ...all, severity: "error" })), ["a:gradients", "b:weights"]);
  assert.deepEqual(order(filterAlerts(ROWS, { ...all, run: "b" })), ["b:val/confusion", "b:weights"]);
  assert.deepEqual(order(filterAlerts(ROWS, { ...all, text: "NAN/inf" })), ["a:gradients", "b:weights"]);
  assert.deepEqual(order(filterAlerts(ROWS, { ...all, text: "  fc.weight   nan " })), ["a:gradients"]);
  assert.deepEqual(order(filterAlerts(ROWS, { ...all, text: "recall_drop" })), ["b:val/confusion"]); // the code
  assert.deepEqual(order(filterAlerts(ROWS, { severity: "warning", run: "a", text: "accuracy" })), ["a:val/accuracy"]);
  assert.equal(filterAlerts(ROWS, { ...all, text: "nothing like it" }).length, 0);
  assert.deepEqual(severityCounts(ROWS), { errors: 2, warnings: 2 });
});

test("a link navigates with the link's view, run, tag, tensor and step", () => {
  const health = alert({
    run: "r",
    tag: "gradients",
    link: { view: "distributions", run: "r", tag: "gradients", tensor: "fc.weight", step: 30 },
  });
  assert.deepEqual(navigation(health), {
    view: "distributions",
    run: "r",
    tag: "gradients",
    tensor: "fc.weight",
    step: 30,
  });
  const confusion = alert({ link: { view: "confusion", run: "b", tag: "val/confusion", step: 5 } });
  assert.deepEqual(navigation(confusion), { view: "confusion", run: "b", tag: "val/confusion", step: 5 });
  const nullTensor = alert({ link: { view: "curves", run: "b", tag: "val/curves", tensor: null, step: 1 } });
  assert.equal("tensor" in navigation(nullTensor), false);
});

test("TensorBoard's root from the plugin page's base, with or without a path prefix", () => {
  assert.equal(tensorBoardRoot("http://127.0.0.1:6006/data/plugin/modellens/"), "http://127.0.0.1:6006/");
  assert.equal(tensorBoardRoot("https://host/tb/exp1/data/plugin/modellens/"), "https://host/tb/exp1/");
  assert.equal(tensorBoardRoot("http://h:1/x/data/plugin_entry.html?name=modellens"), "http://h:1/");
});

test("the Time Series link filters the tag and its training tag (overfitting), or the run and tag", () => {
  const base = "http://127.0.0.1:6006/data/plugin/modellens/";
  const scalar = ROWS[3]; // val/accuracy against train/accuracy of the same run
  const url = new URL(timeSeriesUrl(base, scalar));
  assert.equal(url.origin + url.pathname, "http://127.0.0.1:6006/");
  assert.equal(url.hash, "#timeseries");
  const filter = new RegExp(url.searchParams.get("tagFilter")!);
  for (const tag of ["val/accuracy", "train/accuracy", "accuracy"]) assert.ok(filter.test(tag), tag);
  assert.ok(!filter.test("val/accuracy_top5"));
  assert.equal(url.searchParams.get("runFilter"), null); // the training series may be in another run
  // Keras: runs "exp/train" and "exp/validation", one tag; the subject is "<train run>/<tag>"
  const keras = alert({
    run: "exp/validation",
    tag: "epoch_accuracy",
    code: "overfitting",
    view: "timeseries",
    subject: "exp/train/epoch_accuracy",
  });
  assert.deepEqual(timeSeriesTags(keras), ["epoch_accuracy", "exp/train/epoch_accuracy", "train/epoch_accuracy"]);
  const hostile = alert({ run: "r.1 (x)", tag: "loss[0]+", view: "timeseries", code: "other" });
  const hostileUrl = new URL(timeSeriesUrl(base, hostile));
  assert.equal(hostileUrl.searchParams.get("tagFilter"), "^loss\\[0\\]\\+$");
  assert.equal(hostileUrl.searchParams.get("runFilter"), "^r\\.1 \\(x\\)$");
  assert.ok(new RegExp(hostileUrl.searchParams.get("tagFilter")!).test("loss[0]+"));
  assert.equal(escapeRegExp("a.b*c"), "a\\.b\\*c");
});

test("CSV: quoted where needed, formulas neutralised, one line per row", () => {
  assert.equal(csvField('say "hi", then\nleave'), '"say ""hi"", then\nleave"');
  assert.equal(csvField("=HYPERLINK(1)"), "'=HYPERLINK(1)");
  assert.equal(csvField("-1 drop"), "'-1 drop");
  assert.equal(csvField(-1), "-1"); // numbers stay numbers
  assert.equal(csvField(null), "");
  const csv = alertsCsv([ROWS[1], alert({ run: "<img src=x>", message: "a, b" })]);
  const lines = csv.trimEnd().split("\r\n");
  assert.equal(lines[0], "severity,run,tag,subject,code,message,first_step,last_step,source,view");
  assert.equal(lines[1], "error,a,gradients,fc.weight,nonfinite,NaN/Inf in fc.weight,30,10,health,distributions");
  assert.equal(lines[2], 'warning,<img src=x>,gradients,,vanishing_gradients,"a, b",0,10,health,distributions');
});

test("thresholds in name order, view titles", () => {
  assert.deepEqual(thresholdItems({ recall_drop: 0.2, auc_drop: 0.05 }), [
    ["auc drop", "0.05"],
    ["recall drop", "0.2"],
  ]);
  assert.equal(viewTitle("timeseries", {}), "Time Series");
  assert.equal(viewTitle("distributions", { distributions: "Training health" }), "Training health");
  assert.equal(viewTitle("unknown", {}), "unknown");
});
