"""The evaluation demos train for real, and what the routes serve of them is what scikit-learn
computes from the predictions they logged."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics

from harness import PROVIDERS, Served, load_demo

evaluation_demo = load_demo("evaluation_demo")


@pytest.fixture(scope="module")
def regression(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("regression")
    seen = {}
    evaluation_demo.train_regression(
        str(logdir / "diabetes"), epochs=12, on_predictions=lambda epoch, *logged: seen.__setitem__(epoch, logged)
    )
    return logdir, seen


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_regression_improves_and_its_scores_are_sklearns(regression, provider):
    logdir, seen = regression
    served = Served(logdir, provider)
    try:
        served.wait_for(
            lambda: len(served.json("/predictions/series", run="diabetes", tag="val/predictions")["steps"]) == 12
        )
        series = served.json("/predictions/series", run="diabetes", tag="val/predictions")["steps"]
        for item in series:
            truth, predicted, _ = seen[item["step"]]
            assert item["mae"] == pytest.approx(metrics.mean_absolute_error(truth, predicted), rel=1e-12)
            assert item["r2"] == pytest.approx(metrics.r2_score(truth, predicted), rel=1e-9)
        assert series[-1]["r2"] > 0.3 > series[0]["r2"]  # it learned
        last = served.json("/predictions/step", run="diabetes", tag="val/predictions", step=11)
        truth, predicted, ids = seen[11]
        assert last["points"]["ids"] == ids and last["points"]["true"] == truth.tolist()
        heatmaps = served.json("/heatmap/tags")["runs"]["diabetes"]
        assert set(heatmaps) == {f"heatmaps/{name}" for name in evaluation_demo.HEATMAPS}
        weights = served.json("/heatmap/step", run="diabetes", tag="heatmaps/0.weight", step=0)
        assert weights["shape"] == [32, 10] and weights["reduced"] is False
    finally:
        served.close()


def test_the_digits_classifier_logs_curves_and_calibration_of_what_it_predicted(tmp_path):
    generate = load_demo("generate")
    seen = {}
    generate.train_run(
        str(tmp_path / "mlp"),
        learning_rate=0.003,
        epochs=3,
        progress=False,
        on_predictions=lambda split, epoch, truth, scores: seen.__setitem__((split, epoch), (truth, scores)),
    )
    served = Served(tmp_path, "python")
    try:
        truth, scores = seen[("val", 2)]
        step = served.json("/curves/step", run="mlp", tag="val/curves", step=2)
        expected = [metrics.roc_auc_score(truth == c, scores[:, c]) for c in range(10)]
        assert step["auc"] == pytest.approx(expected, abs=1e-12)
        assert step["class_names"] == generate.DIGIT_NAMES
        calibration = served.json("/predictions/step", run="mlp", tag="val/predictions", step=2)
        assert calibration["accuracy"] == pytest.approx(np.mean(scores.argmax(1) == truth))
        assert all(w["id"].startswith("digits[") for w in calibration["wrong"])
        assert served.json("/heatmap/step", run="mlp", tag="heatmaps/hidden_fields", step=2)["layout"] == "channels"
    finally:
        served.close()
    config = (tmp_path / "mlp" / "projector_config.pbtxt").read_text()
    assert "val/hidden" in config
