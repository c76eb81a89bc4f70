"""Attention routes over both TensorBoard data providers: the header as JSON, maps and
thumbnails as binary, and 400/404 (never 500) for bad parameters and damaged blobs."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

import modellens
from harness import PROVIDERS, Served
from modellens import attention


def softmax(logits: np.ndarray) -> np.ndarray:
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return (e / e.sum(axis=-1, keepdims=True)).astype(np.float32)


WEIGHTS = {step: softmax(np.random.default_rng(step).normal(size=(2, 3, 6, 6)) * 3) for step in (0, 5)}
CROSS = softmax(np.random.default_rng(9).normal(size=(1, 2, 3, 6)))
TOKENS = ["[CLS]", "<img src=x onerror=alert(1)>", "Ġthe", " ", "\u200b", "[SEP]"]


def parse_map(payload: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The documented map layout, read independently of ``modellens.attention.wire``."""
    rows, cols, queries, keys, top_k, row_block, col_block, zero = np.frombuffer(payload, "<u4", 8)
    scales = np.frombuffer(payload, "<f4", rows, 32)
    values = np.frombuffer(payload, np.uint8, rows * cols, 32 + 4 * rows).reshape(rows, cols)
    return (
        values.astype(np.float32) / 255 * scales[:, None],
        np.array([queries, keys, top_k, row_block, col_block]),
        scales,
    )


@pytest.fixture(params=PROVIDERS)
def served(request, tmp_path):
    with modellens.Writer(tmp_path / "run") as writer:
        for step, weights in WEIGHTS.items():
            writer.attention("enc", weights, tokens=TOKENS, layer_names=["first", "second"], step=step)
        writer.attention("cross", CROSS, tokens=TOKENS, query_tokens=["a", "b", "c"], step=0)
        broken = attention.encode("broken", attention.from_input(WEIGHTS[0], tokens=TOKENS))
        broken.tensor.string_val[2] = broken.tensor.string_val[2][:-5]
        broken.tensor.string_val[1] = b"\x00garbage"
        writer._write(broken, 0, None)
    served = Served(tmp_path, request.param)
    served.wait_for(lambda: set(served.json("/attention/tags")["runs"].get("run", [])) == {"enc", "cross", "broken"})
    yield served
    served.close()


def test_series_and_step_describe_the_step(served):
    series = served.json("/attention/series", run="run", tag="enc")
    assert [s["step"] for s in series["steps"]] == [0, 5]
    assert series["steps"][0] | {"wall_time": 0} == {
        "step": 0,
        "wall_time": 0,
        "layers": 2,
        "heads": 3,
        "queries": 6,
        "keys": 6,
    }
    body = served.json("/attention/step", run="run", tag="enc", step=5)
    assert body["tokens"] == TOKENS and body["query_tokens"] == TOKENS and body["self_attention"] is True
    assert body["layer_names"] == ["first", "second"] and body["rollout"] is True
    assert (body["rows"], body["cols"], body["row_block"], body["top_k"]) == (6, 6, 1, 0)
    assert body["max_error"] <= WEIGHTS[5].max() / 510 * 1.00001 and "510" in body["quantization"]
    assert body["score_names"][0] == "entropy"
    head = WEIGHTS[5][1, 2].astype(np.float64)
    assert body["scores"][1][2][0] == pytest.approx(-(head * np.log(head)).sum(axis=1).mean(), rel=1e-5)
    assert body["scores"][1][2][4] == pytest.approx(head[:, 5].mean(), rel=1e-5)
    assert body["thumbnail"] == {"rows": 6, "cols": 6}
    cross = served.json("/attention/step", run="run", tag="cross", step=0)
    assert cross["self_attention"] is False and cross["query_tokens"] == ["a", "b", "c"] and cross["rollout"] is False
    assert cross["scores"][0][0][1] is None and cross["scores"][0][0][3] is None


def test_one_map_is_served_as_documented_bytes(served):
    for layer, head, truth in [
        (1, 2, WEIGHTS[5][1, 2]),
        (0, "mean", WEIGHTS[5][0].mean(axis=0)),
        ("rollout", None, attention.rollout_reference(WEIGHTS[5])),
    ]:
        params = {"run": "run", "tag": "enc", "step": 5, "layer": layer} | ({} if head is None else {"head": head})
        response = served.get("/attention/map", **params)
        assert response.status_code == 200 and response.headers["Content-Type"] == "application/octet-stream"
        payload = response.get_data()
        if response.headers.get("Content-Encoding") == "gzip":
            payload = gzip.decompress(payload)
        dense, sizes, scales = parse_map(payload)
        assert sizes.tolist() == [6, 6, 0, 1, 1]
        assert (np.abs(dense - truth) <= scales[:, None] / 510 * 1.0001 + 1e-7).all(), (layer, head)


def test_thumbnails_cover_every_map_in_order(served):
    response = served.get("/attention/thumbnails", run="run", tag="enc", step=0)
    payload = response.get_data()
    if response.headers.get("Content-Encoding") == "gzip":
        payload = gzip.decompress(payload)
    count, rows, cols, _ = np.frombuffer(payload, "<u4", 4)
    assert (count, rows, cols) == (2 * 4 + 1, 6, 6)
    maxes = np.frombuffer(payload, "<f4", count, 16)
    values = np.frombuffer(payload, np.uint8, count * rows * cols, 16 + 4 * count).reshape(count, rows, cols)
    fifth = values[5].astype(np.float32) / 255 * maxes[5]  # layer 1, head 1
    assert np.abs(fifth - WEIGHTS[0][1, 1]).max() <= WEIGHTS[0][1, 1].max() / 510 * 1.0001


def test_bad_parameters_get_400_and_absent_maps_404(served):
    base = {"run": "run", "tag": "enc", "step": 5}
    cases = [
        ("map", base | {"head": 0}, 400),  # no layer
        ("map", base | {"layer": 0}, 400),  # no head
        ("map", base | {"layer": "x", "head": 0}, 400),
        ("map", base | {"layer": 0, "head": "max"}, 400),
        ("map", base | {"layer": "01", "head": 0}, 400),
        ("map", {"run": "run", "tag": "enc", "layer": 0, "head": 0}, 400),  # no step
        ("map", base | {"layer": 2, "head": 0}, 404),
        ("map", base | {"layer": -1, "head": 0}, 404),
        ("map", base | {"layer": 0, "head": 3}, 404),
        ("map", base | {"step": 4, "layer": 0, "head": 0}, 404),
        ("map", {"run": "run", "tag": "cross", "step": 0, "layer": "rollout"}, 404),
        ("map", {"run": "nope", "tag": "enc", "step": 5, "layer": 0, "head": 0}, 404),
        ("thumbnails", {"run": "run", "tag": "enc"}, 400),
        ("thumbnails", {"run": "run", "tag": "enc", "step": 6}, 404),
        # a healthy header whose map and thumbnail blobs are damaged: 404, never 500
        ("map", {"run": "run", "tag": "broken", "step": 0, "layer": 0, "head": 0}, 404),
        ("thumbnails", {"run": "run", "tag": "broken", "step": 0}, 404),
    ]
    for route, params, status in cases:
        response = served.get(f"/attention/{route}", **params)
        assert response.status_code == status, (route, params, response.get_data(as_text=True)[:200])
    assert served.get("/attention/map", run="run", tag="broken", step=0, layer=0, head=1).status_code == 200
