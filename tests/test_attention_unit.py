"""The attention kind without a server: what is stored, its error bound, the rollout, the
scores, blocking above 512 tokens, and bad input refused with nothing written."""

from __future__ import annotations

import os

import numpy as np
import pytest

import modellens
from attention_logs import read_attention
from modellens import attention
from modellens._metadata import UnreadableRecord
from modellens.attention import reduce, wire


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


def maps(shape: tuple[int, ...], seed: int = 0, sharpness: float = 3.0) -> np.ndarray:
    return softmax(np.random.default_rng(seed).normal(size=shape) * sharpness)


def tokens(n: int) -> list[str]:
    return [f"t{i}" for i in range(n)]


def write_and_read(tmp_path, weights, **kwargs) -> attention.AttentionRecord:
    with modellens.Writer(tmp_path) as writer:
        writer.attention("attn", weights, step=kwargs.pop("step", 3), **kwargs)
    (record,) = read_attention(tmp_path)["attn"].values()
    return record


def assert_within_bound(stored: np.ndarray, truth: np.ndarray, header: attention.AttentionHeader) -> None:
    bound = truth.max(axis=1) / 510 * (1 + 1e-5) + 1e-9
    assert (np.abs(stored - truth) <= bound[:, None]).all()
    assert np.abs(stored - truth).max() <= header.max_error * (1 + 1e-5)


def rollout_plain(weights: np.ndarray) -> np.ndarray:
    """Abnar & Zuidema's rollout written out by hand in float64."""
    size = weights.shape[-1]
    result = np.eye(size)
    for layer in weights.astype(np.float64):
        a = 0.5 * layer.mean(axis=0) + 0.5 * np.eye(size)
        a = a / a.sum(axis=1, keepdims=True)
        result = a @ result
    return result


def test_round_trip_is_within_the_stated_bound_for_every_map(tmp_path):
    weights = maps((3, 4, 20, 20))
    record = write_and_read(tmp_path, weights, tokens=tokens(20), layer_names=["a", "b", "c"])
    header = record.header
    assert (header.layers, header.heads, header.queries, header.keys) == (3, 4, 20, 20)
    assert header.layer_names == ["a", "b", "c"] and header.tokens == tokens(20) and header.self_attention
    assert header.row_block == header.col_block == 1 and header.top_k == 0
    assert "row max / 510" in header.quantization
    for layer in range(3):
        for head in range(4):
            assert_within_bound(record.map(layer, head), weights[layer, head], header)
        assert_within_bound(record.map(layer, "mean"), weights[layer].mean(axis=0), header)
    assert header.max_error <= weights.max() / 510 * (1 + 1e-6)


def test_rollout_matches_a_plain_numpy_rollout(tmp_path):
    weights = maps((6, 3, 16, 16), seed=1)
    record = write_and_read(tmp_path, weights, tokens=tokens(16))
    truth = rollout_plain(weights)
    stored = record.map("rollout")
    assert np.allclose(stored.sum(axis=1), 1, atol=16 / 510)
    assert np.abs(stored - truth).max() <= truth.max(axis=1).max() / 510 + 1e-5
    assert np.allclose(attention.rollout_reference(weights), truth)


def test_every_input_form_stores_the_same_maps(tmp_path):
    torch = pytest.importorskip("torch")
    weights = maps((2, 2, 5, 5), seed=2)
    forms = {
        "numpy": weights,
        "per layer": [w for w in weights],
        "per layer, batch of 1": [w[None] for w in weights],
        "torch float16": torch.tensor(weights, dtype=torch.float16),
        "torch bfloat16 per layer": [torch.tensor(w, dtype=torch.bfloat16) for w in weights],
    }
    for index, (name, form) in enumerate(forms.items()):
        record = write_and_read(tmp_path / str(index), form, tokens=tokens(5))
        tolerance = {"torch float16": 1e-3, "torch bfloat16 per layer": 8e-3}.get(name, 0) + record.header.max_error
        assert np.abs(record.map(1, 1) - weights[1, 1]).max() <= tolerance * 1.001, name


def test_a_single_head_or_map_and_a_picked_batch_sample(tmp_path):
    one = maps((7, 7), seed=3)
    record = write_and_read(tmp_path / "one", one, tokens=tokens(7))
    assert (record.header.layers, record.header.heads) == (1, 1) and record.header.layer_names == ["layer 0"]
    assert_within_bound(record.map(0, 0), one, record.header)
    batch = maps((3, 2, 7, 7), seed=4)  # one layer, a batch of 3
    record = write_and_read(tmp_path / "batch", [batch, batch], tokens=tokens(7), batch_index=2)
    assert_within_bound(record.map(1, 0), batch[2, 0], record.header)
    with pytest.raises(ValueError, match="batch_index"):
        attention.from_input([batch], tokens=tokens(7))


def test_padded_rows_stay_exactly_zero(tmp_path):
    weights = maps((1, 2, 6, 6), seed=5)
    weights[:, :, 4:] = 0
    weights[:, :, :, 4:] = 0
    weights /= np.maximum(weights.sum(axis=-1, keepdims=True), 1e-30)
    record = write_and_read(tmp_path, weights, tokens=tokens(6))
    assert (record.map(0, 1)[4:] == 0).all() and (record.map(0, "mean")[4:] == 0).all()
    assert np.isfinite(record.header.scores[0, :, 0]).all()  # padded rows are left out of the scores


def test_head_scores_follow_their_definitions(tmp_path):
    weights = maps((2, 3, 9, 9), seed=6)
    names = ["[CLS]", "a", "b", "[SEP]", "c", "d", "e", "f", "[SEP]"]
    header = write_and_read(tmp_path, weights, tokens=names).header
    assert header.score_names == ["entropy", "previous", "first", "self", "separator"]
    head = weights[1, 2].astype(np.float64)
    expected = [
        -(head * np.log(head)).sum(axis=1).mean(),
        np.mean([head[i, i - 1] for i in range(1, 9)]),
        head[:, 0].mean(),
        np.diagonal(head).mean(),
        head[:, [3, 8]].sum(axis=1).mean(),
    ]
    assert np.allclose(header.scores[1, 2], expected, rtol=1e-5)


def test_cross_attention_has_query_tokens_and_no_rollout(tmp_path):
    weights = maps((2, 2, 4, 6), seed=7)
    record = write_and_read(tmp_path, weights, tokens=tokens(6), query_tokens=["q0", "q1", "q2", "q3"])
    header = record.header
    assert not header.self_attention and not header.rollout and header.query_tokens == ["q0", "q1", "q2", "q3"]
    assert np.isnan(header.scores[:, :, 1]).all() and np.isnan(header.scores[:, :, 3]).all()
    assert np.isnan(header.scores[:, :, 4]).all()  # no separator token
    with pytest.raises(IndexError):
        header.map_index("rollout", None)
    assert_within_bound(record.map(1, 0), weights[1, 0], header)


def test_query_tokens_make_cross_attention_even_when_equal_to_the_tokens(tmp_path):
    weights = maps((1, 2, 5, 5), seed=12)
    header = write_and_read(tmp_path, weights, tokens=tokens(5), query_tokens=tokens(5)).header
    assert not header.self_attention and not header.rollout and header.query_tokens == tokens(5)


def test_maps_above_512_tokens_are_blocked_with_rows_summing_to_one_and_exact_top_keys():
    weights = maps((1, 1, 1100, 1100), seed=8, sharpness=6)
    data = attention.from_input(weights, tokens=tokens(1100))
    stored = data.layers[0].heads[0]
    assert stored.values.shape == (367, 367) and (stored.row_block, stored.col_block) == (3, 3)
    blocked = reduce.block_reduce(weights[0, 0], 3, 3)
    assert np.allclose(blocked.sum(axis=1), 1, atol=1e-5)  # the last block holds 2 rows, averaged
    last = weights[0, 0, 1098:]  # the last row block holds 2 queries, averaged
    assert np.allclose(blocked[-1], [last[:, j : j + 3].sum(axis=1).mean() for j in range(0, 1100, 3)])
    assert np.abs(stored.dense() - blocked).max() <= stored.max_error * 1.00001
    order = np.argsort(-weights[0, 0], axis=1, kind="stable")[:, : attention.TOP_K]
    assert (np.sort(stored.top_index, axis=1) == np.sort(order, axis=1)).all()
    assert np.array_equal(stored.top_value, np.take_along_axis(weights[0, 0], stored.top_index.astype(int), axis=1))
    assert (np.diff(stored.top_value, axis=1) <= 0).all()
    payload = wire.pack_map(stored)
    back = wire.unpack_map(payload)
    assert np.array_equal(back.top_index, stored.top_index) and np.array_equal(back.values, stored.values)


def test_one_head_at_4096_tokens_stays_small_and_explorable(tmp_path):
    weights = maps((1, 1, 4096, 4096), seed=9, sharpness=8)
    record = write_and_read(tmp_path, weights, tokens=tokens(4096))
    header = record.header
    assert (header.rows, header.cols, header.row_block, header.top_k) == (512, 512, 8, attention.TOP_K)
    assert header.rollout and not header.rollout_exact  # above 2,048 tokens, multiplied per block
    top = record.quantized(0, 0)
    assert top.top_index.shape == (4096, attention.TOP_K)
    row = 1234
    assert top.top_index[row, 0] == np.argmax(weights[0, 0, row]) and top.top_value[row, 0] == weights[0, 0, row].max()
    size = sum(os.path.getsize(os.path.join(tmp_path, name)) for name in os.listdir(tmp_path))
    assert size < 4096 * 4096 * 2 / 10  # a tenth of the float16 map


def test_the_collector_reduces_layer_by_layer_and_checks_shapes():
    collector = attention.Collector(batch_index=0)
    collector.add(maps((2, 3, 5, 5), seed=10), name="enc.0")
    collector.add(maps((2, 3, 5, 5), seed=11), name="enc.1")
    assert len(collector) == 2 and collector.names == ["enc.0", "enc.1"]
    with pytest.raises(ValueError, match="same shape"):
        collector.add(maps((2, 3, 6, 6)), name="enc.2")
    data = attention.from_input(collector, tokens=tokens(5))
    assert data.layer_names == ["enc.0", "enc.1"]
    with pytest.raises(ValueError, match="batch_index"):
        attention.from_input(collector, tokens=tokens(5), batch_index=0)


BAD_INPUTS = [
    ("token count", dict(weights=maps((1, 2, 4, 4)), tokens=tokens(3)), ValueError, "tokens has 3"),
    (
        "query token count",
        dict(weights=maps((1, 2, 4, 5)), tokens=tokens(5), query_tokens=["a"]),
        ValueError,
        "query_tokens",
    ),
    ("cross without query tokens", dict(weights=maps((1, 2, 4, 5)), tokens=tokens(5)), ValueError, "query_tokens"),
    ("NaN", dict(weights=np.full((1, 1, 2, 2), np.nan), tokens=tokens(2)), ValueError, "NaN"),
    ("negative", dict(weights=-maps((1, 1, 2, 2)), tokens=tokens(2)), ValueError, "negative"),
    ("rank 5", dict(weights=np.ones((1, 1, 1, 2, 2)), tokens=tokens(2)), ValueError, "weights must be"),
    ("rank 1", dict(weights=np.ones(3), tokens=tokens(3)), ValueError, "weights must be"),
    ("integers", dict(weights=np.ones((1, 2, 2), np.int64), tokens=tokens(2)), TypeError, "floating-point"),
    ("not strings", dict(weights=maps((1, 2, 2)), tokens=[1, 2]), TypeError, "tokens must all be str"),
    ("one string", dict(weights=maps((1, 2, 2)), tokens="ab"), TypeError, "tokens must be a sequence"),
    ("layer names", dict(weights=maps((2, 1, 2, 2)), tokens=tokens(2), layer_names=["x"]), ValueError, "layer_names"),
    (
        "duplicate layer names",
        dict(weights=maps((2, 1, 2, 2)), tokens=tokens(2), layer_names=["x", "x"]),
        ValueError,
        "duplicate",
    ),
    (
        "too long",
        dict(
            weights=np.zeros((1, 1, 8193), np.float32).reshape(1, 1, 1, 8193), tokens=tokens(8193), query_tokens=["q"]
        ),
        ValueError,
        "8192",
    ),
    ("empty sequence", dict(weights=[], tokens=tokens(2)), ValueError, "empty"),
    (
        "mixed layer shapes",
        dict(weights=[maps((1, 2, 2)), maps((1, 3, 3))], tokens=tokens(2)),
        ValueError,
        "same shape",
    ),
    ("empty collector", dict(weights=attention.Collector(), tokens=tokens(2)), ValueError, "no layer"),
]


@pytest.mark.parametrize("case", BAD_INPUTS, ids=[c[0] for c in BAD_INPUTS])
def test_bad_input_is_refused_naming_the_argument_with_nothing_written(tmp_path, case):
    _, kwargs, error, message = case
    with modellens.Writer(tmp_path) as writer:
        writer.scalar("before", 1.0, step=0)
        writer.flush()
        (path,) = [os.path.join(tmp_path, name) for name in os.listdir(tmp_path)]
        size = os.path.getsize(path)
        with pytest.raises(error, match=message):
            writer.attention("attn", step=1, **kwargs)
        writer.flush()
        assert os.path.getsize(path) == size
    assert read_attention(tmp_path) == {}


def test_hostile_tokens_are_kept_as_given(tmp_path):
    hostile = ["<img src=x onerror=alert(1)>", "##ing", "Ġthe", " ", "", "\u200b", "שלום", "🙂", "\n"]
    record = write_and_read(tmp_path, maps((1, 1, 9, 9)), tokens=hostile)
    assert record.header.tokens == hostile


def test_malformed_blobs_are_unreadable_records():
    value = attention.encode("t", attention.from_input(maps((2, 2, 4, 4)), tokens=tokens(4)))
    blobs = list(value.tensor.string_val)
    record = attention.read_step(blobs)
    header = record.header
    with pytest.raises(UnreadableRecord):
        attention.map_payload(header, 0, blobs[2][:-3])
    with pytest.raises(UnreadableRecord):
        attention.map_payload(header, 0, b"")
    with pytest.raises(UnreadableRecord):
        attention.thumbnails_payload(header, blobs[2])  # a map where thumbnails belong
    with pytest.raises(UnreadableRecord):
        attention.read_step(blobs[:-1])
    for garbage in (b"\xff\xfe", b"", blobs[1]):
        with pytest.raises(UnreadableRecord):
            attention.decode([garbage])
    broken = attention._proto.AttentionStep.FromString(blobs[0])
    broken.keys = 5
    with pytest.raises(UnreadableRecord):
        attention.decode([broken.SerializeToString()])
    broken = attention._proto.AttentionStep.FromString(blobs[0])
    broken.scores = broken.scores[:-4]
    with pytest.raises(UnreadableRecord):
        attention.decode([broken.SerializeToString()])
