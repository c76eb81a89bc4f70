"""The attention demo trains for real: attention forms over its logged steps."""

from __future__ import annotations

import numpy as np

from attention_logs import read_attention
from harness import load_demo

attention_demo = load_demo("attention_demo")


def anti_diagonal(record, layer: int) -> float:
    """The most any head of ``layer`` puts, on average, from each placeholder onto the digit it
    must copy (query ``DIGITS + 1 + i`` → key ``DIGITS - 1 - i``)."""
    digits = attention_demo.DIGITS
    return max(
        np.mean([record.map(layer, head)[digits + 1 + i, digits - 1 - i] for i in range(digits)])
        for head in range(record.header.heads)
    )


def test_the_torch_reverser_learns_its_attention_pattern(tmp_path):
    seen = []
    attention_demo.reverse_transformer(str(tmp_path), steps=60, on_record=lambda step, *_: seen.append(step))
    records = read_attention(tmp_path)["encoder/self"]
    assert sorted(records) == seen == [s for s in attention_demo.LOG_STEPS if s <= 60]
    first, last = records[0], records[60]
    assert first.header.layer_names == ["encoder.layers.0.self_attn", "encoder.layers.1.self_attn"]
    assert first.header.tokens[attention_demo.DIGITS] == "|" and first.header.rollout
    assert anti_diagonal(first, 0) < 0.2 < 0.6 < anti_diagonal(last, 0)
