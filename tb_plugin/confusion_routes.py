"""HTTP routes of the confusion-matrix view. Thin: parse, read, shape, respond."""

from __future__ import annotations

from typing import Any

from modellens import confusion_matrix
from modellens.tb_plugin.data import Step
from modellens.tb_plugin.routes import KindRoutes


class ConfusionRoutes(KindRoutes):
    slug = "confusion"

    @staticmethod
    def summarize(item: Step) -> dict[str, Any]:
        """Only the scores of a step, so a long series of large matrices never sits in memory
        decoded."""
        counts = item.value.counts
        return {"num_classes": int(counts.shape[0]), **confusion_matrix.overall_scores(counts)}

    @staticmethod
    def detail(item: Step) -> dict[str, Any]:
        """One step in full: class names, row-major counts and per-class metrics."""
        counts = item.value.counts
        return {
            "step": item.step,
            "wall_time": item.wall_time,
            "class_names": item.value.class_names,
            "counts": counts.reshape(-1).tolist(),
            "metrics": confusion_matrix.metrics(counts),
        }
