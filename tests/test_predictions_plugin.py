"""Predictions routes over both TensorBoard data providers: exact numbers against scikit-learn
and numpy, points and ids, nulls for undefined numbers, and 400/404 (never 500) for bad
parameters and a damaged body."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax
from sklearn import metrics

import modellens
from harness import PROVIDERS, Served
from modellens import predictions

RNG = np.random.default_rng(11)
SMALL_TRUE = RNG.normal(10.0, 3.0, 400)
SMALL_PRED = (SMALL_TRUE + RNG.normal(0.0, 1.0, 400)).astype(np.float32)
SMALL_IDS = [f"house <{i}>" for i in range(400)]
LARGE_TRUE = RNG.gamma(2.0, 2.0, predictions.EXACT_POINTS + 10)
LARGE_PRED = LARGE_TRUE * 1.1 - 0.2
NAMES = ["cat", "<img src=x onerror=alert(1)>", "fish"]
LOGITS = RNG.normal(0.0, 2.0, (900, 3))
LABELS = RNG.integers(0, 3, 900)
PROBABILITIES = softmax(LOGITS, axis=1)


@pytest.fixture(params=PROVIDERS)
def served(request, tmp_path):
    with modellens.Writer(tmp_path / "run") as writer:
        writer.predictions("reg", SMALL_TRUE, SMALL_PRED, ids=SMALL_IDS, step=0)
        writer.predictions("reg", LARGE_TRUE, LARGE_PRED, step=3)
        writer.predictions("flat", [2.0, 2.0, 2.0], [1.0, 2.0, 3.0], step=0)
        writer.predictions("cls", LABELS, LOGITS, logits=True, class_names=NAMES, ids=np.arange(900) + 1000, step=1)
        writer.predictions("cls", LABELS, PROBABILITIES[:, [1, 0, 2]], step=2)
        broken = predictions.encode("broken", predictions.from_input(SMALL_TRUE, SMALL_PRED))
        broken.tensor.string_val[1] = broken.tensor.string_val[1][:-9]
        writer._write(broken, 0, None)
    served = Served(tmp_path, request.param)
    served.wait_for(
        lambda: set(served.json("/predictions/tags")["runs"].get("run", [])) == {"reg", "flat", "cls", "broken"}
    )
    yield served
    served.close()


def test_series_carry_the_headline_numbers_of_each_step(served):
    series = served.json("/predictions/series", run="run", tag="reg")
    assert series["downsampled"] is False and [s["step"] for s in series["steps"]] == [0, 3]
    for item, (y_true, y_pred) in zip(series["steps"], [(SMALL_TRUE, SMALL_PRED), (LARGE_TRUE, LARGE_PRED)]):
        assert set(item) == {"step", "wall_time", "task", "samples", "mae", "rmse", "r2"}
        assert item["task"] == "regression" and item["samples"] == y_true.size
        y_pred = y_pred.astype(np.float64)
        assert item["mae"] == pytest.approx(metrics.mean_absolute_error(y_true, y_pred), rel=1e-12)
        assert item["rmse"] == pytest.approx(np.sqrt(metrics.mean_squared_error(y_true, y_pred)), rel=1e-12)
        assert item["r2"] == pytest.approx(metrics.r2_score(y_true, y_pred), rel=1e-12)
    (flat,) = served.json("/predictions/series", run="run", tag="flat")["steps"]
    assert flat["r2"] is None and flat["mae"] == pytest.approx(2 / 3)
    steps = served.json("/predictions/series", run="run", tag="cls")["steps"]
    assert [s["step"] for s in steps] == [1, 2]
    assert set(steps[0]) == {"step", "wall_time", "task", "samples", "num_classes", "accuracy", "ece"}
    assert steps[0]["task"] == "classification" and steps[0]["num_classes"] == 3 and steps[0]["samples"] == 900
    assert steps[0]["accuracy"] == metrics.accuracy_score(LABELS, LOGITS.argmax(axis=1))
    assert steps[1]["accuracy"] == metrics.accuracy_score(LABELS, PROBABILITIES[:, [1, 0, 2]].argmax(axis=1))


def test_an_exact_regression_step_serves_every_point_and_histogram(served):
    body = served.json("/predictions/step", run="run", tag="reg", step=0)
    y_pred = SMALL_PRED.astype(np.float64)
    assert body["task"] == "regression" and body["samples"] == 400 and body["exact_points"] is True
    assert body["points"]["true"] == SMALL_TRUE.tolist() and body["points"]["pred"] == y_pred.tolist()
    assert body["points"]["ids"] == SMALL_IDS
    assert body["mean_error"] == pytest.approx(np.mean(y_pred - SMALL_TRUE), rel=1e-12)
    assert body["max_abs_error"] == metrics.max_error(SMALL_TRUE, y_pred)
    lo, hi = min(SMALL_TRUE.min(), y_pred.min()), max(SMALL_TRUE.max(), y_pred.max())
    assert body["range"] == [lo, hi]
    density, _, _ = np.histogram2d(SMALL_TRUE, y_pred, bins=128, range=[[lo, hi], [lo, hi]])
    assert body["density"] == {"bins": 128, "counts": density.astype(int).reshape(-1).tolist()}
    counts, edges = np.histogram(y_pred - SMALL_TRUE, bins=60)
    assert body["residuals"] == {"edges": edges.tolist(), "counts": counts.tolist()}
    deciles = np.quantile(SMALL_TRUE, np.arange(11) / 10)
    assert len(body["by_quantile"]) == 10
    for j, row in enumerate(body["by_quantile"]):
        inside = (SMALL_TRUE >= deciles[j]) & (SMALL_TRUE < deciles[j + 1] if j < 9 else SMALL_TRUE <= deciles[j + 1])
        error = (y_pred - SMALL_TRUE)[inside]
        assert (row["lo"], row["hi"], row["count"]) == (deciles[j], deciles[j + 1], int(inside.sum()))
        assert row["mae"] == pytest.approx(np.abs(error).mean(), rel=1e-12)
        assert row["rmse"] == pytest.approx(np.sqrt((error**2).mean()), rel=1e-12)
        assert row["mean_error"] == pytest.approx(error.mean(), rel=1e-12, abs=1e-15)


def test_a_large_regression_step_serves_the_density_only(served):
    body = served.json("/predictions/step", run="run", tag="reg", step=3)
    assert body["exact_points"] is False and body["points"] is None and body["samples"] == LARGE_TRUE.size
    lo, hi = body["range"]
    assert (lo, hi) == (min(LARGE_TRUE.min(), LARGE_PRED.min()), max(LARGE_TRUE.max(), LARGE_PRED.max()))
    density, _, _ = np.histogram2d(LARGE_TRUE, LARGE_PRED, bins=128, range=[[lo, hi], [lo, hi]])
    assert body["density"]["counts"] == density.astype(int).reshape(-1).tolist()
    flat = served.json("/predictions/step", run="run", tag="flat", step=0)
    assert flat["r2"] is None and flat["points"]["ids"] is None and flat["range"] == [1.0, 3.0]
    assert [row["count"] for row in flat["by_quantile"]] == [0] * 9 + [3]
    assert flat["by_quantile"][0]["mae"] is None and flat["by_quantile"][9]["mae"] == pytest.approx(2 / 3)


def test_a_classification_step_serves_calibration_and_the_wrong_samples(served):
    body = served.json("/predictions/step", run="run", tag="cls", step=1)
    assert body["task"] == "classification" and body["class_names"] == NAMES and body["samples"] == 900
    predicted, confidence = PROBABILITIES.argmax(axis=1), PROBABILITIES.max(axis=1)
    correct = predicted == LABELS
    assert body["accuracy"] == correct.mean()
    edges = np.linspace(0, 1, 16)
    ece, gaps = 0.0, []
    assert len(body["reliability"]) == 15
    for b, row in enumerate(body["reliability"]):
        inside = (confidence > edges[b]) & (confidence <= edges[b + 1])
        assert (row["lo"], row["hi"], row["count"]) == (edges[b], edges[b + 1], int(inside.sum()))
        if not inside.any():
            assert row["confidence"] is None and row["accuracy"] is None
            continue
        assert row["confidence"] == pytest.approx(confidence[inside].mean(), rel=1e-12)
        assert row["accuracy"] == pytest.approx(correct[inside].mean(), rel=1e-12)
        gaps.append(abs(correct[inside].mean() - confidence[inside].mean()))
        ece += inside.mean() * gaps[-1]
    assert body["reliability"][0]["count"] == 0  # confidence of 3 classes is at least 1/3
    assert body["ece"] == pytest.approx(ece, rel=1e-12) and body["mce"] == pytest.approx(max(gaps), rel=1e-12)
    right, hist_edges = np.histogram(confidence[correct], bins=20, range=(0, 1))
    wrong, _ = np.histogram(confidence[~correct], bins=20, range=(0, 1))
    assert body["confidence"] == {"edges": hist_edges.tolist(), "right": right.tolist(), "wrong": wrong.tolist()}
    order = sorted(np.flatnonzero(~correct).tolist(), key=lambda i: (-confidence[i], i))[:100]
    assert [w["index"] for w in body["wrong"]] == order
    first = body["wrong"][0]
    i = order[0]
    assert first == {
        "index": i,
        "id": str(1000 + i),
        "true": int(LABELS[i]),
        "predicted": int(predicted[i]),
        "confidence": pytest.approx(confidence[i], rel=1e-12),
        "true_probability": pytest.approx(PROBABILITIES[i, LABELS[i]], rel=1e-12),
    }
    plain = served.json("/predictions/step", run="run", tag="cls", step=2)
    assert plain["class_names"] == ["0", "1", "2"] and all(w["id"] is None for w in plain["wrong"])


def test_bad_parameters_get_400_and_absent_or_damaged_steps_404(served, caplog):
    cases = [
        ("series", {"run": "run"}, 400),
        ("series", {"tag": "reg"}, 400),
        ("step", {"run": "run", "tag": "reg"}, 400),
        ("step", {"run": "run", "tag": "reg", "step": "x"}, 400),
        ("step", {"run": "run", "tag": "reg", "step": "03"}, 400),
        ("step", {"run": "run", "tag": "reg", "step": "1.0"}, 400),
        ("step", {"run": "run", "tag": "reg", "step": 1}, 404),
        ("step", {"run": "run", "tag": "reg", "step": -3}, 404),
        ("step", {"run": "run", "tag": "nope", "step": 0}, 404),
        ("step", {"run": "nope", "tag": "reg", "step": 0}, 404),
        ("series", {"run": "run", "tag": "nope"}, 404),
        # a healthy header whose body is damaged: its series is served, its step a 404
        ("step", {"run": "run", "tag": "broken", "step": 0}, 404),
        ("series", {"run": "run", "tag": "broken"}, 200),
    ]
    with caplog.at_level("WARNING"):
        for route, params, status in cases:
            response = served.get(f"/predictions/{route}", **params)
            assert response.status_code == status, (route, params, response.get_data(as_text=True)[:200])
    assert any("body of step 0 of run/broken" in r.getMessage() for r in caplog.records)
    (item,) = served.json("/predictions/series", run="run", tag="broken")["steps"]
    assert item["samples"] == 400
