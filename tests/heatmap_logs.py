"""Reads the tensor heatmap steps of a log directory straight from its event files (no server)."""

from __future__ import annotations

import os

from harness import modellens_values
from modellens import heatmap
from modellens._metadata import kind_number, parse_plugin_data


def read_heatmaps(logdir: os.PathLike | str) -> dict[str, dict[int, tuple[heatmap.HeatmapHeader, heatmap.HeatmapBody]]]:
    """``{tag: {step: (header, body)}}`` of every heatmap record under ``logdir``."""
    out: dict[str, dict[int, tuple[heatmap.HeatmapHeader, heatmap.HeatmapBody]]] = {}
    kind = kind_number(heatmap.KIND)
    for tag, step, value in modellens_values(logdir):
        if parse_plugin_data(value.metadata.plugin_data.content).kind == kind:
            out.setdefault(tag, {})[step] = heatmap.read_step(list(value.tensor.string_val))
    return out
