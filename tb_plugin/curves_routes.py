"""HTTP routes of the Curves view (ROC and precision-recall). Thin: parse, read, respond. The
step's header is the series and step; one curve (a class's, or the micro average) per request."""

from __future__ import annotations

from typing import Any

import numpy as np
from tensorboard import errors
from werkzeug import wrappers

from modellens import curves
from modellens._metadata import UnreadableRecord
from modellens.tb_plugin import query
from modellens.tb_plugin.data import Step
from modellens.tb_plugin.routes import Handler, KindRoutes, respond


def _numbers(values: np.ndarray) -> list[float | None]:
    """Floats as JSON numbers, NaN (undefined) as ``null``."""
    return [None if np.isnan(v) else v for v in values.astype(float).tolist()]


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


class CurvesRoutes(KindRoutes):
    slug = "curves"

    @staticmethod
    def summarize(item: Step) -> dict[str, Any]:
        """A step's averages and per-class AUC/AP (its header only is read)."""
        header: curves.CurvesHeader = item.value
        return {
            "binary": header.binary,
            "num_classes": header.num_classes,
            "samples": header.samples,
            "micro_auc": _number(header.micro_auc),
            "macro_auc": _number(header.macro_auc),
            "micro_ap": _number(header.micro_ap),
            "macro_ap": _number(header.macro_ap),
            "auc": _numbers(header.auc),
            "ap": _numbers(header.ap),
        }

    @staticmethod
    def detail(item: Step) -> dict[str, Any]:
        """A step's header: class names, per-class numbers and point counts, the averages."""
        header: curves.CurvesHeader = item.value
        return {
            "step": item.step,
            "wall_time": item.wall_time,
            "binary": header.binary,
            "samples": header.samples,
            "class_names": header.class_names,
            "auc": _numbers(header.auc),
            "ap": _numbers(header.ap),
            "positives": header.positives.tolist(),
            "negatives": header.negatives.tolist(),
            "points": header.points.tolist(),
            "distinct": header.distinct.tolist(),
            "micro_auc": _number(header.micro_auc),
            "micro_ap": _number(header.micro_ap),
            "macro_auc": _number(header.macro_auc),
            "macro_ap": _number(header.macro_ap),
            "micro_exact": header.micro_exact,
            "max_points": header.max_points,
        }

    def extra_routes(self) -> dict[str, Handler]:
        return {f"/{self.slug}/curve": self._curve}

    def curve_body(self, request: wrappers.Request) -> dict[str, Any]:
        which = _class(request)
        key = self.run_tag(request)
        step = query.integer(request, "step")
        header: curves.CurvesHeader = self.reader.step(*key, step).value
        try:
            index = header.blob_index(which)
        except IndexError as reason:
            raise errors.NotFoundError(str(reason)) from None
        blob = self.reader.blob(*key, step, index)
        try:
            curve = curves.read_curve(header, which, blob)
        except UnreadableRecord as reason:
            raise errors.NotFoundError(f"step {step} of {key[2]!r}/{key[3]!r}: {reason}") from None
        if which == "micro":
            name, auc, ap = curves.MICRO_NAME, header.micro_auc, header.micro_ap
        else:
            name, auc, ap = header.class_names[which], header.auc[which], header.ap[which]
        return {
            "class": which,
            "name": name,
            "positives": curve.positives,
            "negatives": curve.negatives,
            "auc": _number(auc),
            "ap": _number(ap),
            "thresholds": curve.thresholds.tolist(),
            "tp": curve.tp.tolist(),
            "fp": curve.fp.tolist(),
        }

    @wrappers.Request.application
    def _curve(self, request: wrappers.Request) -> wrappers.Response:
        return respond(request, self.curve_body(request))


def _class(request: wrappers.Request) -> int | str:
    if request.args.get("class") == "micro":
        return "micro"
    return query.integer(request, "class")
