"""Reads the attention steps of a log directory straight from its event files (no server)."""

from __future__ import annotations

import os

from tensorboard.backend.event_processing import event_file_loader

from modellens import attention
from modellens._metadata import PLUGIN_NAME, parse_plugin_data


def read_attention(logdir: os.PathLike | str) -> dict[str, dict[int, attention.AttentionRecord]]:
    """``{tag: {step: AttentionRecord}}`` of every attention record under ``logdir``."""
    out: dict[str, dict[int, attention.AttentionRecord]] = {}
    kind = attention._metadata.kind_number(attention.KIND)
    for root, _, files in os.walk(logdir):
        for name in sorted(files):
            if "tfevents" not in name:
                continue
            for event in event_file_loader.LegacyEventFileLoader(os.path.join(root, name)).Load():
                for value in event.summary.value:
                    plugin = value.metadata.plugin_data
                    if plugin.plugin_name != PLUGIN_NAME or parse_plugin_data(plugin.content).kind != kind:
                        continue
                    out.setdefault(value.tag, {})[event.step] = attention.read_step(list(value.tensor.string_val))
    return out
