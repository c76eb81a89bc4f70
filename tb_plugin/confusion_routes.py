"""HTTP routes of the confusion-matrix dashboard. Thin: parse, read, shape, respond."""

from __future__ import annotations

from typing import Any

from tensorboard import plugin_util
from tensorboard.backend import http_util
from werkzeug import wrappers

from modellens import confusion_matrix
from modellens.tb_plugin import query
from modellens.tb_plugin.data import KindReader, Step


def step_summary(raw: Any) -> dict[str, Any]:
    """Decodes one step and keeps only its scores, so a long series of large matrices never
    sits in memory decoded."""
    counts = confusion_matrix.decode(raw).counts
    return {"num_classes": int(counts.shape[0]), **confusion_matrix.overall_scores(counts)}


def step_detail(item: Step) -> dict[str, Any]:
    """One step in full: class names, row-major counts and per-class metrics."""
    counts = item.value.counts
    return {
        "step": item.step,
        "wall_time": item.wall_time,
        "class_names": item.value.class_names,
        "counts": counts.reshape(-1).tolist(),
        "metrics": confusion_matrix.metrics(counts),
    }


class ConfusionRoutes:
    def __init__(self, reader: KindReader) -> None:
        self._reader = reader

    def routes(self) -> dict[str, object]:
        return {
            "/confusion/tags": self._tags,
            "/confusion/series": self._series,
            "/confusion/step": self._step,
        }

    def _series_key(self, request: wrappers.Request) -> tuple:
        return (
            plugin_util.context(request.environ),
            plugin_util.experiment_id(request.environ),
            query.required(request, "run"),
            query.required(request, "tag"),
        )

    @wrappers.Request.application
    def _tags(self, request: wrappers.Request) -> wrappers.Response:
        tags = self._reader.tags(plugin_util.context(request.environ), plugin_util.experiment_id(request.environ))
        return http_util.Respond(request, {"runs": tags}, "application/json")

    @wrappers.Request.application
    def _series(self, request: wrappers.Request) -> wrappers.Response:
        steps = self._reader.series(*self._series_key(request), step_summary)
        shaped = [{"step": item.step, "wall_time": item.wall_time, **item.value} for item in steps]
        return http_util.Respond(request, {"steps": shaped}, "application/json")

    @wrappers.Request.application
    def _step(self, request: wrappers.Request) -> wrappers.Response:
        key = self._series_key(request)
        item = self._reader.step(*key, query.integer(request, "step"), confusion_matrix.decode)
        return http_util.Respond(request, step_detail(item), "application/json")
