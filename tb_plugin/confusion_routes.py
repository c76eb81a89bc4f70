"""HTTP routes of the confusion-matrix dashboard. Thin: parse, read, shape, respond."""

from __future__ import annotations

from typing import Any

from tensorboard import errors, plugin_util
from tensorboard.backend import http_util
from werkzeug import wrappers

from modellens import confusion_matrix
from modellens.tb_plugin import query
from modellens.tb_plugin.data import KindReader, Step


def series_summary(steps: list[Step]) -> list[dict[str, Any]]:
    """Per step: accuracy, macro-F1, sample count and class count (for the line chart and slider)."""
    shaped = []
    for item in steps:
        counts = item.value.counts
        scores = confusion_matrix.metrics(counts)
        shaped.append(
            {
                "step": item.step,
                "wall_time": item.wall_time,
                "num_classes": int(counts.shape[0]),
                "total": scores["total"],
                "accuracy": scores["accuracy"],
                "macro_f1": scores["macro_f1"],
            }
        )
    return shaped


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

    def _read(self, request: wrappers.Request) -> list[Step]:
        run = query.required(request, "run")
        tag = query.required(request, "tag")
        return self._reader.series(
            plugin_util.context(request.environ),
            plugin_util.experiment_id(request.environ),
            run,
            tag,
            confusion_matrix.decode,
        )

    @wrappers.Request.application
    def _tags(self, request: wrappers.Request) -> wrappers.Response:
        tags = self._reader.tags(plugin_util.context(request.environ), plugin_util.experiment_id(request.environ))
        return http_util.Respond(request, {"runs": tags}, "application/json")

    @wrappers.Request.application
    def _series(self, request: wrappers.Request) -> wrappers.Response:
        return http_util.Respond(request, {"steps": series_summary(self._read(request))}, "application/json")

    @wrappers.Request.application
    def _step(self, request: wrappers.Request) -> wrappers.Response:
        wanted = query.integer(request, "step")
        for item in self._read(request):
            if item.step == wanted:
                return http_util.Respond(request, step_detail(item), "application/json")
        raise errors.NotFoundError(f"no step {wanted} in this series")
