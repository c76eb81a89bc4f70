"""Curves routes over both TensorBoard data providers: series, step and one curve per request,
exact numbers against scikit-learn, and 400/404 (never 500) for bad parameters and damaged blobs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import softmax
from sklearn import metrics
from sklearn.preprocessing import label_binarize

import modellens
from harness import PROVIDERS, Served
from modellens import curves

NAMES = ["<img src=x onerror=alert(1)>", "dog", "bird", "empty"]


def evaluation(step: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(step)
    labels = rng.integers(0, 3, 1500)  # class 3 ("empty") has no samples: undefined
    logits = rng.normal(size=(1500, 4))
    logits[np.arange(1500), labels] += 1.0 + step / 5
    return labels, softmax(logits, axis=1)


BINARY = (np.random.default_rng(9).random(500) < 0.4, np.round(np.random.default_rng(10).random(500), 2))


@pytest.fixture(params=PROVIDERS)
def served(request, tmp_path):
    with modellens.Writer(tmp_path / "run") as writer:
        for step in (0, 5):
            writer.roc_pr("val/curves", *evaluation(step), class_names=NAMES, step=step)
        writer.roc_pr("val/binary", *BINARY, class_names=["negative", "positive"], step=2)
        broken = curves.encode("broken", curves.from_input(*evaluation(0)))
        broken.tensor.string_val[3] = broken.tensor.string_val[3][:-7]  # class 1's curve damaged
        writer._write(broken, 0, None)
    served = Served(tmp_path, request.param)
    served.wait_for(
        lambda: set(served.json("/curves/tags")["runs"].get("run", [])) == {"val/curves", "val/binary", "broken"}
    )
    yield served
    served.close()


def expected(step: int) -> dict:
    labels, scores = evaluation(step)
    indicator = label_binarize(labels, classes=range(4))
    defined = range(3)
    auc = [metrics.roc_auc_score(indicator[:, c], scores[:, c]) for c in defined]
    ap = [metrics.average_precision_score(indicator[:, c], scores[:, c]) for c in defined]
    return {
        "auc": auc,
        "ap": ap,
        "micro_auc": metrics.roc_auc_score(indicator, scores, average="micro"),
        "micro_ap": metrics.average_precision_score(indicator, scores, average="micro"),
        "macro_auc": np.mean(auc),
        "macro_ap": np.mean(ap),
    }


def test_series_gives_every_steps_numbers(served):
    body = served.json("/curves/series", run="run", tag="val/curves")
    assert [s["step"] for s in body["steps"]] == [0, 5] and body["downsampled"] is False
    for item in body["steps"]:
        truth = expected(item["step"])
        assert (item["binary"], item["num_classes"], item["samples"]) == (False, 4, 1500)
        assert item["auc"][:3] == pytest.approx(truth["auc"], abs=1e-12) and item["auc"][3] is None
        assert item["ap"][:3] == pytest.approx(truth["ap"], abs=1e-12) and item["ap"][3] is None
        for name in ("micro_auc", "micro_ap", "macro_auc", "macro_ap"):
            assert item[name] == pytest.approx(truth[name], abs=1e-12), name
    (binary,) = served.json("/curves/series", run="run", tag="val/binary")["steps"]
    y, s = BINARY
    assert binary["binary"] is True and binary["num_classes"] == 1
    assert binary["auc"] == [pytest.approx(metrics.roc_auc_score(y, s), abs=1e-12)]
    assert binary["micro_auc"] == binary["macro_auc"] == binary["auc"][0]
    assert binary["micro_ap"] == binary["macro_ap"] == binary["ap"][0]


def test_step_describes_the_step(served):
    body = served.json("/curves/step", run="run", tag="val/curves", step=5)
    labels, scores = evaluation(5)
    assert body["step"] == 5 and body["class_names"] == NAMES and body["binary"] is False
    assert body["samples"] == 1500 and body["micro_exact"] is True and body["max_points"] == 2000
    assert body["positives"] == np.bincount(labels, minlength=4).tolist()
    assert body["negatives"] == (1500 - np.bincount(labels, minlength=4)).tolist()
    assert body["distinct"] == [np.unique(scores[:, c]).size for c in range(4)]
    assert body["points"] == [min(d, 2000) for d in body["distinct"]]
    assert body["auc"][3] is None and body["macro_auc"] == pytest.approx(expected(5)["macro_auc"], abs=1e-12)
    binary = served.json("/curves/step", run="run", tag="val/binary", step=2)
    assert binary["class_names"] == ["positive"] and binary["points"] == [np.unique(BINARY[1]).size]


def test_one_curve_is_sklearns(served):
    labels, scores = evaluation(0)
    for c in range(3):
        body = served.json("/curves/curve", run="run", tag="val/curves", step=0, **{"class": c})
        _, fps, _, tps, thresholds = metrics.confusion_matrix_at_thresholds(labels == c, scores[:, c])
        assert body["class"] == c and body["name"] == NAMES[c]
        assert (body["positives"], body["negatives"]) == ((labels == c).sum(), (labels != c).sum())
        assert body["thresholds"] == thresholds.tolist()  # every distinct score: exact
        assert body["tp"] == tps.tolist() and body["fp"] == fps.tolist()
        assert body["auc"] == pytest.approx(metrics.roc_auc_score(labels == c, scores[:, c]), abs=1e-12)
    empty = served.json("/curves/curve", run="run", tag="val/curves", step=0, **{"class": 3})
    assert empty["auc"] is None and empty["ap"] is None and empty["positives"] == 0 and set(empty["tp"]) == {0}
    micro = served.json("/curves/curve", run="run", tag="val/curves", step=0, **{"class": "micro"})
    indicator = label_binarize(labels, classes=range(4))
    assert micro["class"] == "micro" and micro["name"] == curves.MICRO_NAME
    assert (micro["positives"], micro["negatives"]) == (1500, 4500)
    assert micro["auc"] == pytest.approx(metrics.roc_auc_score(indicator, scores, average="micro"), abs=1e-12)
    _, fps, _, tps, thresholds = metrics.confusion_matrix_at_thresholds(indicator.ravel(), scores.ravel())
    assert len(micro["tp"]) <= 2000 < tps.size  # compressed: exact points of the pooled curve
    index = np.searchsorted(-thresholds, -np.array(micro["thresholds"]))
    assert np.array_equal(tps[index], micro["tp"]) and np.array_equal(fps[index], micro["fp"])
    assert index[0] == 0 and index[-1] == tps.size - 1
    binary = served.json("/curves/curve", run="run", tag="val/binary", step=2, **{"class": 0})
    _, fps, _, tps, thresholds = metrics.confusion_matrix_at_thresholds(*BINARY)
    assert binary["name"] == "positive" and binary["tp"] == tps.tolist() and binary["fp"] == fps.tolist()


def test_bad_parameters_get_400_and_absent_curves_404(served):
    base = {"run": "run", "tag": "val/curves", "step": 5}
    cases = [
        (base, 400),  # no class
        (base | {"class": "abc"}, 400),
        (base | {"class": "01"}, 400),
        (base | {"class": "1.0"}, 400),
        (base | {"class": " 1"}, 400),
        (base | {"class": "MICRO"}, 400),
        ({"run": "run", "tag": "val/curves", "class": 0}, 400),  # no step
        (base | {"step": "x", "class": 0}, 400),
        (base | {"class": 4}, 404),
        (base | {"class": 999}, 404),
        (base | {"class": -1}, 404),
        (base | {"step": 4, "class": 0}, 404),
        ({"run": "nope", "tag": "val/curves", "step": 5, "class": 0}, 404),
        ({"run": "run", "tag": "nope", "step": 5, "class": 0}, 404),
        ({"run": "run", "tag": "val/binary", "step": 2, "class": "micro"}, 404),  # binary: no micro
        ({"run": "run", "tag": "val/binary", "step": 2, "class": 1}, 404),
        ({"run": "run", "tag": "broken", "step": 0, "class": 1}, 404),  # a damaged blob: 404, never 500
    ]
    for params, status in cases:
        response = served.get("/curves/curve", **params)
        assert response.status_code == status, (params, response.get_data(as_text=True)[:200])
    assert served.get("/curves/curve", run="run", tag="broken", step=0, **{"class": 0}).status_code == 200
    assert served.get("/curves/curve", run="run", tag="broken", step=0, **{"class": "micro"}).status_code == 200
