"""``GET alerts`` over both TensorBoard data providers: health verdicts and evaluation
regressions of every run, each with the link to its view; 400 for bad thresholds."""

from __future__ import annotations

import numpy as np
import pytest

import modellens
from harness import PROVIDERS, Served

HOSTILE = "<img src=x onerror=alert(1)>"


def confusion(recall_of_first: float, samples: int = 50) -> np.ndarray:
    right = round(recall_of_first * samples)
    return np.array([[right, samples - right], [5, samples - 5]])


def curve_scores(separation: float) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 200)
    logits = rng.normal(size=(600, 3))
    logits[np.arange(600), labels] += np.array([separation, 3.0, 3.0])[labels]
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return labels, probabilities


@pytest.fixture(params=PROVIDERS, scope="module")
def served(request, tmp_path_factory):
    logdir = tmp_path_factory.mktemp("alerts")
    with modellens.Writer(logdir / "mlp") as writer:
        for step, recall in enumerate([0.6, 0.9, 0.8, 0.62, 0.65]):
            writer.confusion_matrix("val/confusion", matrix=confusion(recall), class_names=[HOSTILE, "dog"], step=step)
        for step, (train, val) in enumerate([(0.6, 0.6), (0.7, 0.75), (0.8, 0.74), (0.9, 0.71), (0.95, 0.7)]):
            writer.scalar("train/accuracy", train, step=step)
            writer.scalar("val/accuracy", val, step=step)
        for step in range(3):
            gradient = np.ones(4) if step < 2 else np.array([1.0, np.nan, 1.0, 1.0])
            writer.distributions("gradients", {"fc.weight": gradient}, step=step)
        for step, separation in enumerate([3.0, 3.0, 0.5]):
            labels, scores = curve_scores(separation)
            writer.roc_pr("val/curves", labels, scores, class_names=["zero", "one", "two"], step=step)
    for split, values in (("train", [0.5, 0.6, 0.7]), ("validation", [0.5, 0.55, 0.56])):  # Keras, healthy
        with modellens.Writer(logdir / "fit" / split) as writer:
            for step, value in enumerate(values):
                writer.scalar("epoch_accuracy", value, step=step)
    served = Served(logdir, request.param)
    served.wait_for(lambda: len(served.json("/alerts")["alerts"]) == 4)
    yield served
    served.close()


def by_code(body: dict) -> dict[str, dict]:
    return {alert["code"]: alert for alert in body["alerts"]}


def test_every_source_is_reported_once_errors_first(served):
    body = served.json("/alerts")
    assert [a["code"] for a in body["alerts"]][0] == "nonfinite"  # the only error sorts first
    assert sorted(by_code(body)) == ["auc_drop", "nonfinite", "overfitting", "recall_drop"]
    assert body["runs"] == ["mlp"]
    assert body["thresholds"]["recall_drop"] == 0.2 and body["thresholds"]["exploding_factor"] == 10.0


def test_a_recall_drop_names_the_class_as_given_and_links_to_its_matrix(served):
    alert = by_code(served.json("/alerts"))["recall_drop"]
    assert alert == {
        "run": "mlp",
        "tag": "val/confusion",
        "source": "evaluation",
        "severity": "warning",
        "code": "recall_drop",
        "subject": HOSTILE,
        "message": f"recall of class {HOSTILE} fell from 0.900 (step 1) to 0.620 (step 3)",
        "first_step": 3,
        "last_step": 4,
        "view": "confusion",
        "link": {"view": "confusion", "run": "mlp", "tag": "val/confusion", "step": 3, "tensor": HOSTILE},
    }


def test_health_auc_and_overfitting_alerts_link_to_their_views(served):
    found = by_code(served.json("/alerts"))
    health = found["nonfinite"]
    assert (health["source"], health["severity"], health["view"]) == ("health", "error", "distributions")
    assert health["link"] == {
        "view": "distributions",
        "run": "mlp",
        "tag": "gradients",
        "step": 2,
        "tensor": "fc.weight",
    }
    auc = found["auc_drop"]
    assert (auc["subject"], auc["first_step"], auc["view"], auc["link"]["tensor"]) == ("zero", 2, "curves", "zero")
    overfitting = found["overfitting"]
    assert (overfitting["tag"], overfitting["subject"], overfitting["first_step"]) == (
        "val/accuracy",
        "train/accuracy",
        3,
    )
    assert overfitting["view"] == "timeseries"


def test_thresholds_come_from_the_query(served):
    assert "recall_drop" not in by_code(served.json("/alerts", recall_drop="0.3"))
    assert "overfitting" in by_code(served.json("/alerts", recall_drop="0.25"))
    strict = by_code(served.json("/alerts", overfit_drop="0.001", min_support="1"))
    assert "overfitting" in strict


@pytest.mark.parametrize("params", [{"recall_drop": "abc"}, {"auc_drop": "-1"}, {"min_support": "inf"}])
def test_bad_thresholds_are_400(served, params):
    response = served.get("/alerts", **params)
    assert response.status_code == 400, response.get_data(as_text=True)
