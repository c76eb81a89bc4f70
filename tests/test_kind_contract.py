"""The kind contract, one body run against every kind over both TensorBoard data providers:
round trip, a newer version skipped with one warning, malformed steps skipped (the others still
served), a truncated last record, and the 400/404 table of the three common routes."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import pytest
from tensorboard.compat.proto import summary_pb2, tensor_pb2, types_pb2

import modellens
from harness import PROVIDERS, Served
from modellens import _metadata, _proto, attention, confusion_matrix, curves, distributions, graph, heatmap, predictions


@dataclass(frozen=True)
class Kind:
    slug: str
    module: Any
    write: Callable[[modellens.Writer, str, int], None]  # one healthy step
    check: Callable[[dict, int], None]  # asserts a /step body is the step written


def write_confusion(writer: modellens.Writer, tag: str, step: int) -> None:
    writer.confusion_matrix(tag, matrix=[[step, 1], [2, 3]], class_names=["a", "b"], step=step)


def check_confusion(body: dict, step: int) -> None:
    assert body["counts"] == [step, 1, 2, 3] and body["class_names"] == ["a", "b"]


def write_distributions(writer: modellens.Writer, tag: str, step: int) -> None:
    writer.distributions(tag, {"w": np.arange(10.0) + step, "b": np.array([step, np.nan])}, step=step)


def check_distributions(body: dict, step: int) -> None:
    tensors = {t["name"]: t for t in body["tensors"]}
    assert tensors["w"]["min"] == step and tensors["w"]["max"] == step + 9 and sum(tensors["w"]["histogram"]) == 10
    assert tensors["b"]["nan"] == 1 and tensors["b"]["elements"] == 2


def write_graph(writer: modellens.Writer, tag: str, step: int) -> None:
    import torch

    writer.graph(torch.nn.Sequential(torch.nn.Linear(step + 1, 2), torch.nn.ReLU()), tag=tag, step=step)


def check_graph(body: dict, step: int) -> None:
    graph = body["graph"]
    assert graph["totals"]["params"] == 2 * (step + 1) + 2 and graph["capture"] == "hierarchy"
    assert [graph["strings"][t] for t in graph["nodes"]["type"]] == ["Linear", "ReLU"]


def write_attention(writer: modellens.Writer, tag: str, step: int) -> None:
    weights = np.full((2, 2, 3, 3), 1 / 3)
    weights[:, :, 0] = [step / (step + 1), 1 / (step + 1), 0]
    writer.attention(tag, weights, tokens=["<b>a</b>", "b", "[SEP]"], step=step)


def check_attention(body: dict, step: int) -> None:
    assert body["layers"] == 2 and body["heads"] == 2 and body["tokens"] == ["<b>a</b>", "b", "[SEP]"]
    assert body["scores"][1][1][2] == pytest.approx((step / (step + 1) + 2 / 3) / 3, abs=1e-6)


def write_heatmap(writer: modellens.Writer, tag: str, step: int) -> None:
    values = np.arange(12.0).reshape(3, 4) + step
    values[0, 1] = np.nan
    writer.tensor_heatmap(tag, values, step=step)


def check_heatmap(body: dict, step: int) -> None:
    assert body["shape"] == [3, 4] and body["layout"] == "matrix" and body["reduced"] is False
    assert body["values"][:3] == [step, None, step + 2] and body["finite_max"] == step + 11
    assert body["nonfinite"] == {"cells": [1], "nan": [1], "posinf": [0], "neginf": [0]}


def write_predictions(writer: modellens.Writer, tag: str, step: int) -> None:
    y_true = np.arange(10.0) + step
    writer.predictions(tag, y_true, y_true + (step + 1) * (-1.0) ** np.arange(10), ids=list("abcdefghij"), step=step)


def check_predictions(body: dict, step: int) -> None:
    assert body["task"] == "regression" and body["samples"] == 10 and body["mae"] == step + 1
    assert body["points"]["true"] == (np.arange(10.0) + step).tolist() and body["points"]["ids"] == list("abcdefghij")
    assert body["mean_error"] == 0 and sum(body["density"]["counts"]) == 10


def write_curves(writer: modellens.Writer, tag: str, step: int) -> None:
    scores = np.array([[0.9, 0.1], [0.6, 0.4], [0.3, 0.7], [0.2, 0.8]] + [[0.5, 0.5]] * step)
    writer.roc_pr(tag, [0, 1, 0, 1] + [0] * step, scores, class_names=["<b>a</b>", "b"], step=step)


def check_curves(body: dict, step: int) -> None:
    assert body["class_names"] == ["<b>a</b>", "b"] and body["samples"] == 4 + step and body["binary"] is False
    assert body["positives"] == [2 + step, 2] and body["points"] == [4 + min(step, 1)] * 2
    assert body["auc"][1] == pytest.approx((3 + step) / (4 + 2 * step))


KINDS = [
    Kind("confusion", confusion_matrix, write_confusion, check_confusion),
    Kind("distributions", distributions, write_distributions, check_distributions),
    Kind("graph", graph, write_graph, check_graph),
    Kind("attention", attention, write_attention, check_attention),
    Kind("curves", curves, write_curves, check_curves),
    Kind("predictions", predictions, write_predictions, check_predictions),
    Kind("heatmap", heatmap, write_heatmap, check_heatmap),
]


def record(
    kind: Kind, tag: str, *, version: int | None = None, tensor: tensor_pb2.TensorProto
) -> summary_pb2.Summary.Value:
    metadata = _metadata.summary_metadata(kind.module.KIND, version or kind.module.VERSION, kind.module.DATA_CLASS)
    return summary_pb2.Summary.Value(tag=tag, metadata=metadata, tensor=tensor)


def malformed_tensors(kind: Kind) -> dict[str, tensor_pb2.TensorProto]:
    """Tensors that TensorBoard or the decoder cannot read as one step of the kind."""

    def strings(values: list[bytes], shape: list[int]) -> tensor_pb2.TensorProto:
        tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=values)
        for size in shape:
            tensor.tensor_shape.dim.add(size=size)
        return tensor

    floats = tensor_pb2.TensorProto(dtype=types_pb2.DT_FLOAT, float_val=[1.0])
    floats.tensor_shape.dim.add(size=1)
    in_content = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, tensor_content=b"\x01\x02\x03")
    in_content.tensor_shape.dim.add(size=1)
    return {
        "float dtype": floats,
        "no string": strings([], [1]),
        "two strings": strings([b"a", b"b"], [2]),
        "string in tensor_content": in_content,
        "garbage message": strings([b"\xff\xfe not a message"], [1]),
        "truncated message": strings([b"\x0a\x05ab"], [1]),
    }


@pytest.fixture(params=KINDS, ids=[k.slug for k in KINDS])
def kind(request) -> Kind:
    return request.param


@pytest.mark.parametrize("provider", PROVIDERS)
def test_healthy_steps_survive_every_malformed_record(tmp_path, kind, provider, caplog):
    """Each malformed shape sits between healthy steps of its own series: the series answers
    200 with the healthy steps, the bad step is a 404, and a warning says why."""
    bad = malformed_tensors(kind)
    with modellens.Writer(tmp_path / "run") as writer:
        for index, tensor in enumerate(bad.values()):
            tag = f"bad{index}"
            kind.write(writer, tag, 0)
            writer._write(record(kind, tag, tensor=tensor), 1, None)
            kind.write(writer, tag, 2)
        kind.write(writer, "future", 0)
        writer._write(
            record(kind, "future", version=kind.module.VERSION + 1, tensor=malformed_tensors(kind)["no string"]),
            1,
            None,
        )
    served = Served(tmp_path, provider)
    tags = [f"bad{i}" for i in range(len(bad))]
    with caplog.at_level("WARNING"):
        served.wait_for(lambda: set(tags) <= set(served.json(f"/{kind.slug}/tags")["runs"]["run"]))
        for tag, name in zip(tags, bad):
            response = served.get(f"/{kind.slug}/series", run="run", tag=tag)
            assert response.status_code == 200, (name, response.get_data(as_text=True))
            body = response.get_json()
            steps = body["steps"] if isinstance(body["steps"][0], int) else [s["step"] for s in body["steps"]]
            assert steps == [0, 2], name
            kind.check(served.json(f"/{kind.slug}/step", run="run", tag=tag, step=2), 2)
            assert served.get(f"/{kind.slug}/step", run="run", tag=tag, step=1).status_code == 404, name
        # first-wins metadata: the series "future" was announced as the current version; its newer
        # record is read as malformed, never as a 500
        assert served.get(f"/{kind.slug}/series", run="run", tag="future").status_code == 200
    assert any("Skipping step 1" in r.getMessage() or "record by record" in r.getMessage() for r in caplog.records)
    served.close()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_newer_version_is_skipped_with_one_warning(tmp_path, kind, provider, caplog):
    with modellens.Writer(tmp_path / "run") as writer:
        kind.write(writer, "now", 0)
        value = record(kind, "later", version=kind.module.VERSION + 1, tensor=malformed_tensors(kind)["no string"])
        writer._write(value, 0, None)
    served = Served(tmp_path, provider)
    with caplog.at_level("WARNING"):
        served.wait_for(lambda: "now" in served.json(f"/{kind.slug}/tags")["runs"].get("run", []))
        for _ in range(3):
            assert "later" not in served.json(f"/{kind.slug}/tags")["runs"]["run"]
        assert served.get(f"/{kind.slug}/series", run="run", tag="later").status_code == 404
    newer = [r for r in caplog.records if f"version {kind.module.VERSION + 1}" in r.getMessage()]
    assert len(newer) == 1
    served.close()


def test_a_newer_version_of_one_kind_leaves_the_others_readable():
    modules = [kind.module for kind in KINDS]
    for module, sibling in zip(modules, modules[1:] + modules[:1]):
        newer = _proto.PluginData(version=module.VERSION + 1, kind=_metadata.kind_number(module.KIND))
        with pytest.raises(_metadata.UnreadableRecord):
            _metadata.check_version(newer, module.VERSION)
        current = _proto.PluginData(version=sibling.VERSION, kind=_metadata.kind_number(sibling.KIND))
        _metadata.check_version(current, sibling.VERSION)  # does not raise


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_truncated_last_record_is_ignored(tmp_path, kind, provider):
    with modellens.Writer(tmp_path / "run") as writer:
        for step in range(3):
            kind.write(writer, "t", step)
    (path,) = (tmp_path / "run").iterdir()
    payload = summary_pb2.Summary(
        value=[record(kind, "t", tensor=malformed_tensors(kind)["garbage message"])]
    ).SerializeToString()
    with open(path, "ab") as handle:  # a writer mid-record: header and half the data
        handle.write(struct.pack("<Q", len(payload) + 10) + b"\0\0\0\0" + payload[: len(payload) // 2])
    served = Served(tmp_path, provider)
    served.wait_for(lambda: served.get(f"/{kind.slug}/step", run="run", tag="t", step=2).status_code == 200)
    kind.check(served.json(f"/{kind.slug}/step", run="run", tag="t", step=2), 2)
    served.close()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_bad_requests_get_400_or_404(tmp_path, kind, provider):
    with modellens.Writer(tmp_path / "run") as writer:
        for step in range(2):
            kind.write(writer, "t", step)
    served = Served(tmp_path, provider)
    served.wait_for(lambda: served.get(f"/{kind.slug}/step", run="run", tag="t", step=1).status_code == 200)
    cases = [
        ("series", {"tag": "t"}, 400),
        ("series", {"run": "run"}, 400),
        ("step", {"run": "run", "tag": "t"}, 400),
        *[
            ("step", {"run": "run", "tag": "t", "step": bad}, 400)
            for bad in ("abc", "1.5", "+1", " 1", "01", "١", "１", "1e0")
        ],
        ("step", {"run": "run", "tag": "t", "step": "-1"}, 404),
        ("step", {"run": "run", "tag": "t", "step": "99999999999999999999999"}, 404),
        ("step", {"run": "run", "tag": "t", "step": "9" * 5000}, 400),
        ("series", {"run": "nope", "tag": "t"}, 404),
        ("series", {"run": "run", "tag": "nope"}, 404),
        ("step", {"run": "run", "tag": "nope", "step": "0"}, 404),
    ]
    for route, params, status in cases:
        response = served.get(f"/{kind.slug}/{route}", **params)
        assert response.status_code == status, (route, params, response.get_data(as_text=True))
    served.close()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_series_too_large_for_one_read_is_an_even_sample_that_says_so(tmp_path, kind, provider, monkeypatch):
    from modellens.tb_plugin import data

    with modellens.Writer(tmp_path / "run") as writer:
        for step in range(40):
            kind.write(writer, "t", step)
    served = Served(tmp_path, provider)
    served.wait_for(lambda: served.get(f"/{kind.slug}/step", run="run", tag="t", step=39).status_code == 200)
    body = served.json(f"/{kind.slug}/series", run="run", tag="t")
    assert body["downsampled"] is False
    monkeypatch.setattr(data, "READ_BUDGET_BYTES", 1024)
    served = Served(tmp_path, provider)  # a fresh plugin: nothing cached
    served.wait_for(lambda: served.get(f"/{kind.slug}/step", run="run", tag="t", step=39).status_code == 200)
    body = served.json(f"/{kind.slug}/series", run="run", tag="t")
    steps = body["steps"] if isinstance(body["steps"][0], int) else [s["step"] for s in body["steps"]]
    if kind.module.DATA_CLASS == summary_pb2.DATA_CLASS_BLOB_SEQUENCE:
        # a blob sequence lists small references and reads one blob at a time: never sampled
        assert body["downsampled"] is False and steps == list(range(40))
    else:
        assert body["downsampled"] is True and 2 <= len(steps) < 40 and steps[-1] == 39
    served.close()


@pytest.mark.parametrize("provider", PROVIDERS)
def test_a_blob_sequence_kind_reads_its_blobs_on_demand(tmp_path, provider):
    """The reader serves blob-sequence kinds (graphs and attention maps, later) the same way:
    a healthy step decodes from its blob, a malformed one is skipped with the others served."""
    from tensorboard.context import RequestContext

    from modellens.tb_plugin.data import KindReader, Source

    def blob_record(tag: str, tensor: tensor_pb2.TensorProto) -> summary_pb2.Summary.Value:
        value = record(KINDS[0], tag, tensor=tensor)
        value.metadata.data_class = summary_pb2.DATA_CLASS_BLOB_SEQUENCE
        return value

    def healthy(step: int) -> tensor_pb2.TensorProto:
        counts = np.array([[step, 1], [0, 2]])
        return confusion_matrix.encode("b", confusion_matrix.ConfusionMatrix(counts, ["a", "b"])).tensor

    with modellens.Writer(tmp_path / "run") as writer:
        writer._write(blob_record("blobs", healthy(0)), 0, None)
        writer._write(blob_record("blobs", malformed_tensors(KINDS[0])["garbage message"]), 1, None)
        writer._write(blob_record("blobs", healthy(2)), 2, None)
        kind = KINDS[0]
        kind.write(writer, "tensor_tag", 0)  # a tensor series of the same kind: not a blob sequence
    served = Served(tmp_path, provider)
    data_provider = served.client.application._data_provider
    source = Source.kind(confusion_matrix)
    reader = KindReader(
        data_provider, Source(source.plugin_name, source.accepts, source.decode, summary_pb2.DATA_CLASS_BLOB_SEQUENCE)
    )
    ctx = RequestContext()
    served.wait_for(lambda: reader.tags(ctx, "") == {"run": ["blobs"]})
    assert reader.step(ctx, "", "run", "blobs", 2).value.counts.tolist() == [[2, 1], [0, 2]]
    steps = reader.series(ctx, "", "run", "blobs", lambda item: int(item.value.counts[0, 0]))
    assert [(s.step, s.value) for s in steps] == [(0, 0), (2, 2)]
    served.close()
