"""Reads the attention steps of a log directory straight from its event files (no server)."""

from __future__ import annotations

import os

from harness import modellens_values
from modellens import attention
from modellens._metadata import kind_number, parse_plugin_data


def read_attention(logdir: os.PathLike | str) -> dict[str, dict[int, attention.AttentionRecord]]:
    """``{tag: {step: AttentionRecord}}`` of every attention record under ``logdir``."""
    out: dict[str, dict[int, attention.AttentionRecord]] = {}
    kind = kind_number(attention.KIND)
    for tag, step, value in modellens_values(logdir):
        if parse_plugin_data(value.metadata.plugin_data.content).kind == kind:
            out.setdefault(tag, {})[step] = attention.read_step(list(value.tensor.string_val))
    return out
