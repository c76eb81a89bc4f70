"""The evaluation regressions of the Alerts page, as pure functions."""

from __future__ import annotations

import numpy as np
import pytest

from modellens import alerts


def test_a_drop_below_the_best_earlier_value_is_found_with_its_first_and_last_step():
    steps = [0, 10, 20, 30, 40]
    values = np.array(
        [
            [0.5, 0.9],
            [0.8, 0.9],
            [0.55, 0.85],  # class a: 0.25 below its best (0.8): flagged
            [0.7, 0.88],  # 0.1 below: not flagged
            [0.58, np.nan],  # flagged again; b undefined
        ]
    )
    [found] = alerts.drops(steps, values, ["a", "b"], 0.2, code="recall_drop", what="recall")
    assert (found.code, found.subject, found.first_step, found.last_step) == ("recall_drop", "a", 20, 40)
    assert found.evidence == {"best": 0.8, "best_step": 10, "value": 0.55, "step": 20}
    assert "fell from 0.800 (step 10) to 0.550 (step 20)" in found.message


def test_a_rise_and_undefined_values_are_not_drops():
    values = np.array([[np.nan, 0.1], [0.9, 0.5], [np.nan, 0.95]])
    assert alerts.drops([0, 1, 2], values, ["a", "b"], 0.2, code="auc_drop", what="ROC AUC") == []
    assert alerts.drops([0], np.array([[0.5]]), ["a"], 0.2, code="auc_drop", what="ROC AUC") == []


def test_a_drop_of_exactly_the_threshold_counts():
    [found] = alerts.drops([0, 1], np.array([[0.75], [0.5]]), ["a"], 0.25, code="recall_drop", what="recall")
    assert found.first_step == 1


def test_recalls_leave_out_classes_with_too_few_samples():
    counts = np.array([[8, 2, 0], [1, 1, 0], [0, 0, 0]])
    recall = alerts.recalls(counts, min_support=5)
    assert recall[0] == pytest.approx(0.8) and np.isnan(recall[1]) and np.isnan(recall[2])


def test_overfitting_needs_a_lasting_validation_fall_while_training_rises():
    thresholds = alerts.Thresholds()
    train = ([0, 1, 2, 3, 4], [0.6, 0.7, 0.8, 0.9, 0.95])
    found = alerts.overfitting(train, ([0, 1, 2, 3, 4], [0.6, 0.72, 0.71, 0.69, 0.68]), thresholds, "val/accuracy")
    assert found is not None and (found.first_step, found.last_step) == (3, 4)
    assert found.evidence["best_step"] == 1 and found.evidence["train_rise"] == pytest.approx(0.25)
    # recovered at the end: no alert
    assert alerts.overfitting(train, ([0, 1, 2, 3, 4], [0.6, 0.72, 0.65, 0.69, 0.72]), thresholds, "v") is None
    # training flat too: no alert (both fell: not overfitting)
    flat = ([0, 1, 2, 3, 4], [0.7, 0.7, 0.7, 0.7, 0.7])
    assert alerts.overfitting(flat, ([0, 1, 2, 3, 4], [0.6, 0.72, 0.71, 0.69, 0.68]), thresholds, "v") is None


def test_accuracy_pairs_in_one_run_and_across_keras_sibling_runs():
    listing = {
        "mlp": ["train/accuracy", "val/accuracy", "val/loss", "train/loss"],
        "keras": ["acc", "val_acc"],
        "fit/train": ["epoch_accuracy", "epoch_loss"],
        "fit/validation": ["epoch_accuracy", "epoch_loss"],
        "lonely": ["val/accuracy"],
    }
    assert alerts.accuracy_pairs(listing) == [
        (("fit/train", "epoch_accuracy"), ("fit/validation", "epoch_accuracy")),
        (("keras", "acc"), ("keras", "val_acc")),
        (("mlp", "train/accuracy"), ("mlp", "val/accuracy")),
    ]
