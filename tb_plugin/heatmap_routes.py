"""HTTP routes of the Tensor heatmap view. Thin: parse, read, respond. ``series`` reads only each
step's header; ``step`` reads one step's body blob and answers its cells as JSON (row-major,
``null`` for NaN, ±Inf and padding, with the non-finite cells listed apart)."""

from __future__ import annotations

import gzip
import json
import logging
import math
import re
from typing import Any

import numpy as np
from tensorboard import errors
from tensorboard.backend import http_util
from werkzeug import wrappers

from modellens import heatmap
from modellens._metadata import UnreadableRecord
from modellens.tb_plugin import query
from modellens.tb_plugin.data import Step
from modellens.tb_plugin.routes import KindRoutes, respond

_logger = logging.getLogger(__name__)


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _cells(values: np.ndarray, hide: np.ndarray) -> list[float | None]:
    """``values`` row-major as exact JSON numbers, ``None`` where ``hide``."""
    out = values.astype(np.float64).reshape(-1).tolist()
    for index in np.flatnonzero(hide).tolist():
        out[index] = None
    return out


def _stats(header: heatmap.HeatmapHeader) -> dict[str, Any]:
    s = header.stats
    return {
        "finite_min": _number(s.finite_min),
        "finite_max": _number(s.finite_max),
        "mean": _number(s.mean),
        "std": _number(s.std),
        "nan": s.nan,
        "posinf": s.posinf,
        "neginf": s.neginf,
    }


def cells(header: heatmap.HeatmapHeader, body: heatmap.HeatmapBody) -> dict[str, Any]:
    """The stored cells of a step: ``values`` (exact values, or block means), ``min``/``max``
    (reduced only) and ``nonfinite``: the cells holding NaN or ±Inf with their counts (exact
    steps: 1 in the cell's kind)."""
    if not header.reduced:
        values = body.values
        finite = np.isfinite(values)
        data = header.geometry.data_mask()
        flagged = np.flatnonzero(~finite & data)
        picked = values.reshape(-1)[flagged]
        return {
            "values": _cells(values, ~(finite & data)),
            "min": None,
            "max": None,
            "nonfinite": {
                "cells": flagged.tolist(),
                "nan": np.isnan(picked).astype(int).tolist(),
                "posinf": (picked == np.inf).astype(int).tolist(),
                "neginf": (picked == -np.inf).astype(int).tolist(),
            },
        }
    counts = {name: getattr(body, name).reshape(-1) for name in heatmap.BLOCK_COUNTS}
    flagged = np.flatnonzero(counts["nan"].astype(np.int64) + counts["posinf"] + counts["neginf"])
    empty = ~np.isfinite(body.mean)  # a block without any finite value (or only padding)
    return {
        "values": _cells(body.mean, empty),
        "min": _cells(body.min, empty),
        "max": _cells(body.max, empty),
        "nonfinite": {"cells": flagged.tolist(), **{name: c[flagged].tolist() for name, c in counts.items()}},
    }


class HeatmapRoutes(KindRoutes):
    slug = "heatmap"

    @staticmethod
    def summarize(item: Step) -> dict[str, Any]:
        """The tensor's shape and global statistics (the header only is read)."""
        header: heatmap.HeatmapHeader = item.value
        return {"shape": list(header.shape), **_stats(header), "reduced": header.reduced}

    @staticmethod
    def detail(item: Step) -> dict[str, Any]:
        """A step's header as JSON: the tensor, its layout, the image, its blocking, statistics."""
        header: heatmap.HeatmapHeader = item.value
        geo = header.geometry
        stored_rows, stored_cols = header.stored
        return {
            "step": item.step,
            "wall_time": item.wall_time,
            "shape": list(header.shape),
            "dtype": header.dtype,
            "layout": header.layout,
            "channels_last": header.channels_last,
            "batch_index": header.batch_index,
            "rows": geo.rows,
            "cols": geo.cols,
            "row_block": header.row_block,
            "col_block": header.col_block,
            "stored_rows": stored_rows,
            "stored_cols": stored_cols,
            "tile": None if geo.tile is None else list(geo.tile),
            "grid": None if geo.grid is None else list(geo.grid),
            "channels": geo.channels,
            "reduced": header.reduced,
            **_stats(header),
            "count": header.stats.count,
            "zeros": header.stats.zeros,
        }

    def step_body(self, request: wrappers.Request) -> dict[str, Any]:
        key = self.run_tag(request)
        step = query.integer(request, "step")
        item = self.reader.step(*key, step)
        blob = self.reader.blob(*key, step, heatmap.BODY_BLOB)
        try:
            body = heatmap.read_body(item.value, blob)
        except UnreadableRecord as reason:
            _logger.warning("Cannot read the cells of step %d of %s/%s: %s", step, key[2], key[3], reason)
            raise errors.NotFoundError(f"step {step} of {key[2]!r}/{key[3]!r}: {reason}") from None
        return {**self.detail(item), **cells(item.value, body)}

    @wrappers.Request.application
    def _step(self, request: wrappers.Request) -> wrappers.Response:
        """As ``respond`` does, gzipped at level 1 when accepted: a step holds up to 3 × 1024²
        numbers (~65 MB of JSON), where TensorBoard's level 3 costs twice the time."""
        body = self.step_body(request)
        try:
            text = json.dumps(body, allow_nan=False)
        except ValueError:  # a non-finite number left in: the shared path replaces it by null
            return respond(request, body)
        if not _GZIP.search(request.headers.get("Accept-Encoding", "")):
            return http_util.Respond(request, text, "application/json")
        payload = gzip.compress(text.encode("utf-8"), compresslevel=1, mtime=0)
        return http_util.Respond(request, payload, "application/json", content_encoding="gzip")


_GZIP = re.compile(r"(?:^|,|\s)(?:(?:x-)?gzip|\*)(?!;q=0)(?:\s|,|$)")  # as tensorboard.backend.http_util
