"""``KindRoutes``: the three routes every kind has, from two pure functions per kind.

``/<slug>/tags`` lists runs and tags, ``/<slug>/series`` one small summary per step
(``summarize``), ``/<slug>/step`` one step in full (``detail``). A kind subclasses this, sets
``slug``, writes the two functions and adds its own routes in ``extra_routes``.
"""

from __future__ import annotations

import json
import math
from typing import Any, Callable

from tensorboard import plugin_util
from tensorboard.backend import http_util
from werkzeug import wrappers

from modellens.tb_plugin import query
from modellens.tb_plugin.data import KindReader, Step

Handler = Callable[[Any, Any], Any]


def experiment(request: wrappers.Request) -> tuple[Any, str]:
    """The request's TensorBoard context and experiment id."""
    return plugin_util.context(request.environ), plugin_util.experiment_id(request.environ)


def respond(request: wrappers.Request, body: Any) -> wrappers.Response:
    """JSON through TensorBoard's ``Respond``. Bodies already hold ``None`` for undefined
    numbers, so they are serialized directly (TensorBoard's ``Cleanse`` walk costs more than
    the encoding on large series, and writes "Infinity" strings); one that still holds a
    non-finite number has it replaced by ``null``."""
    try:
        text = json.dumps(body, allow_nan=False)
    except ValueError:
        text = json.dumps(_finite_or_null(body), allow_nan=False)
    return http_util.Respond(request, text, "application/json")


def _finite_or_null(value: Any) -> Any:
    """``value`` with NaN and ±Inf replaced by ``None`` (JSON has no such numbers)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {key: _finite_or_null(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite_or_null(item) for item in value]
    return value


class KindRoutes:
    slug = ""

    def __init__(self, reader: KindReader) -> None:
        self.reader = reader

    # ---- the two pure functions of a kind
    @staticmethod
    def summarize(item: Step) -> Any:
        """A decoded step → what ``/series`` returns for it (small)."""
        raise NotImplementedError

    @staticmethod
    def detail(item: Step) -> dict[str, Any]:
        """A decoded step → what ``/step`` returns."""
        raise NotImplementedError

    def extra_routes(self) -> dict[str, Handler]:
        return {}

    # ---- wiring
    def routes(self) -> dict[str, Handler]:
        base = {
            f"/{self.slug}/tags": self._tags,
            f"/{self.slug}/series": self._series,
            f"/{self.slug}/step": self._step,
        }
        extra = self.extra_routes()
        clash = set(base) & set(extra)
        if clash:
            raise ValueError(f"{type(self).__name__} defines {sorted(clash)} twice")
        return {**base, **extra}

    def run_tag(self, request: wrappers.Request) -> tuple[Any, str, str, str]:
        return (*experiment(request), query.required(request, "run"), query.required(request, "tag"))

    def tags(self, request: wrappers.Request) -> dict[str, list[str]]:
        return self.reader.tags(*experiment(request))

    def series_body(self, request: wrappers.Request) -> dict[str, Any]:
        key = self.run_tag(request)
        steps = self.reader.series(*key, type(self).summarize)
        return {
            "steps": [{"step": item.step, "wall_time": item.wall_time, **item.value} for item in steps],
            "downsampled": self.reader.downsampled(*key),
        }

    def step_body(self, request: wrappers.Request) -> dict[str, Any]:
        return self.detail(self.reader.step(*self.run_tag(request), query.integer(request, "step")))

    @wrappers.Request.application
    def _tags(self, request: wrappers.Request) -> wrappers.Response:
        return respond(request, {"runs": self.tags(request)})

    @wrappers.Request.application
    def _series(self, request: wrappers.Request) -> wrappers.Response:
        return respond(request, self.series_body(request))

    @wrappers.Request.application
    def _step(self, request: wrappers.Request) -> wrappers.Response:
        return respond(request, self.step_body(request))
