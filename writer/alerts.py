"""Evaluation regressions for the Alerts page: pure functions over series the plugin reads.

Three findings, each with its documented threshold (``Thresholds``):

- ``recall_drop``: a class's recall (from confusion matrices) fell by at least ``recall_drop``
  below its best earlier value, on steps where the class has at least ``min_support`` samples;
- ``auc_drop``: a class's ROC AUC (from ``roc_pr`` curves) fell by at least ``auc_drop`` below
  its best earlier value;
- ``overfitting``: a validation accuracy scalar fell by at least ``overfit_drop`` below its best
  while the matching training accuracy rose by at least ``overfit_rise`` since that best step.

Training-health verdicts come from ``modellens.distributions.health``; the plugin merges both.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Mapping, Sequence

import numpy as np


@dataclass(frozen=True)
class Thresholds:
    """Defaults of the evaluation regressions; ``alerts`` query parameters override each."""

    recall_drop: float = 0.2  # absolute drop of a class's recall below its best earlier step
    min_support: float = 10  # samples of the class needed at both steps for a recall to count
    auc_drop: float = 0.05  # absolute drop of a class's ROC AUC below its best earlier step
    overfit_drop: float = 0.02  # validation accuracy below its best by at least this ...
    overfit_rise: float = 0.01  # ... while training accuracy rose by at least this since then

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class Regression:
    code: str
    subject: str | None  # the class, or the validation tag
    first_step: int
    last_step: int
    message: str
    severity: str = "warning"
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def drops(
    steps: Sequence[int], values: np.ndarray, names: Sequence[str], threshold: float, *, code: str, what: str
) -> list[Regression]:
    """Per column of ``values`` ``[steps, classes]`` (NaN where undefined): the steps whose value
    lies at least ``threshold`` below the best value of an earlier step; one finding per class,
    its message naming the largest drop."""
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2 or values.shape[0] < 2:
        return []
    filled = np.where(np.isnan(values), -np.inf, values)
    best_before = np.maximum.accumulate(filled, axis=0)
    best_before = np.vstack([np.full((1, values.shape[1]), -np.inf), best_before[:-1]])
    with np.errstate(invalid="ignore"):
        fall = best_before - values  # NaN where undefined, -inf/inf never flagged below
    flagged = np.isfinite(fall) & (fall >= threshold)
    found = []
    for column in np.flatnonzero(flagged.any(axis=0)):
        rows = np.flatnonzero(flagged[:, column])
        worst = rows[np.argmax(fall[rows, column])]
        best_row = int(np.argmax(filled[:worst, column]))
        best, now = float(values[best_row, column]), float(values[worst, column])
        found.append(
            Regression(
                code=code,
                subject=str(names[column]),
                first_step=int(steps[rows[0]]),
                last_step=int(steps[rows[-1]]),
                message=(
                    f"{what} of class {names[column]} fell from {best:.3f} (step {steps[best_row]}) "
                    f"to {now:.3f} (step {steps[worst]})"
                ),
                evidence={"best": best, "best_step": int(steps[best_row]), "value": now, "step": int(steps[worst])},
            )
        )
    return found


def recalls(counts: np.ndarray, min_support: float) -> np.ndarray:
    """Per-class recall of one confusion matrix; NaN where the class has too few samples."""
    support = counts.sum(axis=1).astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        recall = np.diag(counts) / support
    return np.where(support >= max(min_support, 1), recall, np.nan)


def overfitting(
    train: tuple[Sequence[int], Sequence[float]],
    validation: tuple[Sequence[int], Sequence[float]],
    thresholds: Thresholds,
    subject: str,
) -> Regression | None:
    """Validation accuracy fallen ``overfit_drop`` below its best while training accuracy rose
    ``overfit_rise`` since that step (training read at the latest step at or before each)."""
    val_steps, val_values = np.asarray(validation[0]), np.asarray(validation[1], dtype=np.float64)
    train_steps, train_values = np.asarray(train[0]), np.asarray(train[1], dtype=np.float64)
    if val_steps.size < 2 or train_steps.size < 2:
        return None
    best = int(np.nanargmax(val_values))
    after = np.arange(val_steps.size) > best
    fallen = after & (val_values <= val_values[best] - thresholds.overfit_drop)
    if not fallen.any() or not fallen[-1]:
        return None  # it recovered: not a trend worth an alert

    def train_at(step: int) -> float:
        index = np.searchsorted(train_steps, step, side="right") - 1
        return float(train_values[max(index, 0)])

    rise = train_at(int(val_steps[-1])) - train_at(int(val_steps[best]))
    if rise < thresholds.overfit_rise:
        return None
    return Regression(
        code="overfitting",
        subject=subject,
        first_step=int(val_steps[np.argmax(fallen)]),
        last_step=int(val_steps[-1]),
        message=(
            f"validation accuracy fell from {val_values[best]:.3f} (step {val_steps[best]}) to "
            f"{val_values[-1]:.3f} while training accuracy rose by {rise:.3f}"
        ),
        evidence={"best": float(val_values[best]), "best_step": int(val_steps[best]), "train_rise": rise},
    )


_VALIDATION = re.compile(r"^(val|valid|validation|eval|evaluation|test)$", re.IGNORECASE)
_VALIDATION_PREFIX = re.compile(r"^(val|valid|validation|eval|test)_", re.IGNORECASE)


def _is_accuracy(tag: str) -> bool:
    return "acc" in tag.rsplit("/", 1)[-1].lower()


def _training_name(path: str) -> str | None:
    """``val/accuracy`` → ``train/accuracy``, ``val_accuracy`` → ``accuracy``; None if ``path``
    names no validation split."""
    parts = path.split("/")
    for index, part in enumerate(parts):
        if _VALIDATION.match(part):
            return "/".join([*parts[:index], "train", *parts[index + 1 :]])
        if _VALIDATION_PREFIX.match(part):
            return "/".join([*parts[:index], _VALIDATION_PREFIX.sub("", part), *parts[index + 1 :]])
    return None


def accuracy_pairs(listing: Mapping[str, Sequence[str]]) -> list[tuple[tuple[str, str], tuple[str, str]]]:
    """``((train run, tag), (validation run, tag))`` pairs among scalar tags: a validation
    accuracy tag beside its training tag in one run (``val/accuracy`` and ``train/accuracy``,
    ``val_acc`` and ``acc``), or the same tag in sibling runs (Keras' ``…/validation`` and
    ``…/train``)."""
    pairs = []
    for run, tags in sorted(listing.items()):
        for tag in sorted(tags):
            if not _is_accuracy(tag):
                continue
            train_tag = _training_name(tag)
            if train_tag is not None:
                for candidate in (
                    train_tag,
                    train_tag.replace("train/", "", 1),
                    train_tag.replace("train", "training"),
                ):
                    if candidate in tags:
                        pairs.append(((run, candidate), (run, tag)))
                        break
                continue
            train_run = _training_name(run)
            if train_run is not None and tag in listing.get(train_run, ()):
                pairs.append(((train_run, tag), (run, tag)))
    return pairs
