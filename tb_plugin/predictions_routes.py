"""HTTP routes of the Predictions view. Thin: parse, read, shape, respond. A series reads step
headers only; ``/step`` of a regression step also reads its body blob (density and points)."""

from __future__ import annotations

import logging
from typing import Any

from tensorboard import errors
from werkzeug import wrappers

from modellens import predictions
from modellens._metadata import UnreadableRecord
from modellens.tb_plugin import query
from modellens.tb_plugin.data import Step
from modellens.tb_plugin.routes import KindRoutes

_logger = logging.getLogger(__name__)


def _floats(values: Any) -> list[Any]:
    return [float(v) for v in values]  # NaN (undefined) becomes null in respond()


def _regression(header: predictions.Regression, body: predictions.RegressionBody) -> dict[str, Any]:
    points = None
    if header.exact_points and body.true is not None and body.pred is not None:
        points = {"true": body.true.tolist(), "pred": body.pred.tolist(), "ids": body.ids}
    edges = header.quantile_edges
    errors_by_bin = header.quantile_errors
    return {
        "mean_error": header.mean_error,
        "max_abs_error": header.max_abs_error,
        "range": list(header.range),
        "exact_points": header.exact_points,
        "points": points,
        "density": {"bins": predictions.DENSITY_BINS, "counts": body.density.reshape(-1).tolist()},
        "residuals": {"edges": _floats(header.residual_edges), "counts": header.residual_counts.tolist()},
        "by_quantile": [
            {
                "lo": float(edges[j]),
                "hi": float(edges[j + 1]),
                "count": int(header.quantile_counts[j]),
                "mae": float(errors_by_bin[0, j]),
                "rmse": float(errors_by_bin[1, j]),
                "mean_error": float(errors_by_bin[2, j]),
            }
            for j in range(header.quantile_counts.size)
        ],
    }


def _classification(header: predictions.Classification) -> dict[str, Any]:
    edges = predictions.reliability_edges()
    ids = header.wrong_ids
    return {
        "class_names": header.class_names,
        "mce": header.mce,
        "reliability": [
            {
                "lo": float(edges[b]),
                "hi": float(edges[b + 1]),
                "count": int(header.reliability_counts[b]),
                "confidence": float(header.reliability[0, b]),
                "accuracy": float(header.reliability[1, b]),
            }
            for b in range(header.reliability_counts.size)
        ],
        "confidence": {
            "edges": _floats(predictions.confidence_edges()),
            "right": header.confidence_counts[0].tolist(),
            "wrong": header.confidence_counts[1].tolist(),
        },
        "wrong": [
            {
                "index": int(header.wrong_index[k]),
                "id": ids[k] if ids else None,
                "true": int(header.wrong_labels[0, k]),
                "predicted": int(header.wrong_labels[1, k]),
                "confidence": float(header.wrong_scores[0, k]),
                "true_probability": float(header.wrong_scores[1, k]),
            }
            for k in range(header.wrong_index.size)
        ],
    }


class PredictionsRoutes(KindRoutes):
    slug = "predictions"

    @staticmethod
    def summarize(item: Step) -> dict[str, Any]:
        """The headline numbers of a step (its header only is read)."""
        header: predictions.Predictions = item.value
        if isinstance(header, predictions.Regression):
            return {
                "task": header.task,
                "samples": header.samples,
                "mae": header.mae,
                "rmse": header.rmse,
                "r2": header.r2,
            }
        return {
            "task": header.task,
            "samples": header.samples,
            "num_classes": len(header.class_names),
            "accuracy": header.accuracy,
            "ece": header.ece,
        }

    @staticmethod
    def detail(item: Step, body: predictions.RegressionBody | None = None) -> dict[str, Any]:
        """One step in full; a regression step needs its ``body``."""
        header: predictions.Predictions = item.value
        common = {"step": item.step, "wall_time": item.wall_time, "task": header.task, "samples": header.samples}
        if isinstance(header, predictions.Regression):
            if body is None:
                raise ValueError("a regression step is detailed with its body")
            return {**common, "mae": header.mae, "rmse": header.rmse, "r2": header.r2, **_regression(header, body)}
        return {**common, "accuracy": header.accuracy, "ece": header.ece, **_classification(header)}

    def step_body(self, request: wrappers.Request) -> dict[str, Any]:
        key = self.run_tag(request)
        step = query.integer(request, "step")
        item = self.reader.step(*key, step)
        body = None
        if isinstance(item.value, predictions.Regression):
            blob = self.reader.blob(*key, step, predictions.BODY_BLOB)
            try:
                body = predictions.read_body(item.value, blob)
            except UnreadableRecord as reason:
                _logger.warning("Cannot read the body of step %d of %s/%s: %s", step, key[2], key[3], reason)
                raise errors.NotFoundError(f"step {step} of {key[2]!r}/{key[3]!r}: {reason}") from None
        return self.detail(item, body)
