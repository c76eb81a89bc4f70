"""Plugin routes over TensorBoard's real data providers (Python loader and Rust data server)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from tensorboard.compat.proto import summary_pb2, tensor_pb2, types_pb2

import modellens
from conftest import EPOCHS, XSS_NAME
from harness import PROVIDERS, Served
from modellens import _proto
from modellens import confusion_matrix as cm
from modellens.tb_plugin.loader import Loader


@pytest.fixture(scope="module", params=PROVIDERS)
def training_served(request, training):
    logdir, predictions = training
    served = Served(logdir, request.param)
    served.wait_for(
        lambda: (
            len(served.json("/confusion/series", run="lr_low", tag="val/confusion")["steps"]) == EPOCHS
            and len(served.json("/confusion/series", run="lr_high", tag="train/confusion")["steps"]) == EPOCHS
        )
    )
    yield served, predictions
    served.close()


def test_tags_list_every_run_and_split(training_served):
    served, _ = training_served
    runs = served.json("/confusion/tags")["runs"]
    assert runs == {
        "lr_high": ["train/confusion", "val/confusion"],
        "lr_low": ["train/confusion", "val/confusion"],
        "wide": ["wide/confusion"],
    }


def test_a_1000_class_step_matches_sklearn(training_served):
    served, predictions = training_served
    truth, predicted = predictions[("wide", "wide", 0)]
    detail = served.json("/confusion/step", run="wide", tag="wide/confusion", step=0)
    expected = sk_confusion_matrix(truth, predicted, labels=range(1000))
    np.testing.assert_array_equal(np.array(detail["counts"]).reshape(1000, 1000), expected)


@pytest.mark.parametrize("run", ["lr_high", "lr_low"])
@pytest.mark.parametrize("split", ["train", "val"])
def test_every_step_matches_sklearn(training_served, run, split):
    served, predictions = training_served
    series = served.json("/confusion/series", run=run, tag=f"{split}/confusion")["steps"]
    assert [p["step"] for p in series] == list(range(EPOCHS))  # every step kept, not 10 samples
    for point in series:
        truth, predicted = predictions[(run, split, point["step"])]
        assert point["accuracy"] == pytest.approx(np.mean(truth == predicted))
        assert point["total"] == truth.size
    for step in (0, EPOCHS // 2, EPOCHS - 1):
        truth, predicted = predictions[(run, split, step)]
        detail = served.json("/confusion/step", run=run, tag=f"{split}/confusion", step=step)
        expected = sk_confusion_matrix(truth, predicted, labels=range(10))
        np.testing.assert_array_equal(np.array(detail["counts"]).reshape(10, 10), expected)
        assert detail["metrics"]["support"] == expected.sum(axis=1).tolist()
    assert (XSS_NAME in detail["class_names"]) == (run == "lr_low")


@pytest.mark.parametrize(
    "route, params, status",
    [
        ("/confusion/series", {"tag": "val/confusion"}, 400),
        ("/confusion/series", {"run": "lr_low"}, 400),
        ("/confusion/step", {"run": "lr_low", "tag": "val/confusion"}, 400),
        ("/confusion/step", {"run": "lr_low", "tag": "val/confusion", "step": "abc"}, 400),
        ("/confusion/step", {"run": "lr_low", "tag": "val/confusion", "step": "1.5"}, 400),
        ("/confusion/step", {"run": "lr_low", "tag": "val/confusion", "step": "-1"}, 404),
        ("/confusion/step", {"run": "lr_low", "tag": "val/confusion", "step": "99999"}, 404),
        ("/confusion/series", {"run": "nope", "tag": "val/confusion"}, 404),
        ("/confusion/series", {"run": "lr_low", "tag": "nope"}, 404),
        ("/index.js/..%2f..%2fsetup.py", {}, 404),
        ("/..%2f..%2f..%2fsetup.py", {}, 404),
        ("/%2e%2e/%2e%2e/setup.py", {}, 404),
        ("/..%5c..%5csetup.py", {}, 404),
        ("/static/index.js", {}, 404),
    ],
)
def test_bad_requests_get_4xx_with_a_reason(training_served, route, params, status):
    served, _ = training_served
    response = served.get(route, **params)
    assert response.status_code == status
    assert "setup(" not in response.get_data(as_text=True)


def test_the_bundle_is_served_as_javascript(training_served):
    served, _ = training_served
    response = served.get("/index.js")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/javascript")
    assert b"render" in response.get_data()


def foreign_value(tag: str, version: int, payload: bytes) -> summary_pb2.Summary.Value:
    metadata = summary_pb2.SummaryMetadata(data_class=summary_pb2.DATA_CLASS_TENSOR)
    metadata.plugin_data.plugin_name = "modellens"
    metadata.plugin_data.content = _proto.PluginData(version=version, kind=1).SerializeToString()
    tensor = tensor_pb2.TensorProto(dtype=types_pb2.DT_STRING, string_val=[payload])
    tensor.tensor_shape.dim.add(size=1)
    return summary_pb2.Summary.Value(tag=tag, metadata=metadata, tensor=tensor)


def run_tags(served: Served) -> list[str]:
    return served.json("/confusion/tags")["runs"].get("run", [])


@pytest.mark.parametrize("kind", PROVIDERS)
def test_newer_broken_and_changing_records_are_handled(tmp_path, kind, caplog):
    with modellens.Writer(tmp_path / "run") as writer:
        writer.confusion_matrix("grows", matrix=[[1, 2], [3, 4]], class_names=["a", "b"], step=0)
        writer.confusion_matrix("grows", matrix=np.eye(3, dtype=int), class_names=["b", "c", "d"], step=1)
        writer._write(foreign_value("future", 2, b"whatever"), 0, None)
        writer._write(foreign_value("broken", 1, b"\xff\xfe not a message"), 0, None)
        writer._write(cm.encode("broken", cm.ConfusionMatrix(np.array([[5]]), ["only"])), 1, None)
    served = Served(tmp_path, kind)
    with caplog.at_level("WARNING"):
        served.wait_for(lambda: run_tags(served) == ["broken", "grows"])  # the newer version is skipped
        first = served.json("/confusion/step", run="run", tag="grows", step=0)
        second = served.json("/confusion/step", run="run", tag="grows", step=1)
        assert (first["class_names"], first["counts"]) == (["a", "b"], [1, 2, 3, 4])
        assert (second["class_names"], second["counts"]) == (["b", "c", "d"], [1, 0, 0, 0, 1, 0, 0, 0, 1])
        broken = served.json("/confusion/series", run="run", tag="broken")["steps"]
        assert [p["step"] for p in broken] == [1]  # the malformed step 0 is skipped, not a 500
        assert served.get("/confusion/series", run="run", tag="future").status_code == 404
    assert any("newer" in r.getMessage() or "version 2" in r.getMessage() for r in caplog.records)
    assert any("Skipping step 0" in r.getMessage() for r in caplog.records)
    served.close()


@pytest.mark.parametrize("kind", PROVIDERS)
def test_a_truncated_last_record_is_ignored(tmp_path, kind):
    with modellens.Writer(tmp_path / "run") as writer:
        for step in range(3):
            writer.confusion_matrix("c", [0, 1, 1], [0, 1, step % 2], step=step)
    (path,) = (tmp_path / "run").iterdir()
    record = cm.encode("c", cm.ConfusionMatrix(np.array([[9]]), ["x"]))
    payload = summary_pb2.Summary(value=[record]).SerializeToString()
    with open(path, "ab") as handle:  # a writer mid-record: header and half the data
        handle.write(struct.pack("<Q", len(payload) + 10) + b"\0\0\0\0" + payload[: len(payload) // 2])
    served = Served(tmp_path, kind)
    served.wait_for(lambda: len(served.json("/confusion/series", run="run", tag="c")["steps"]) == 3)
    assert served.json("/confusion/step", run="run", tag="c", step=2)["counts"] == [1, 0, 1, 1]
    served.close()


def test_loader_keeps_every_step_unless_the_user_chose():
    class Flags:
        samples_per_plugin = {}

    flags = Flags()
    Loader().fix_flags(flags)
    assert flags.samples_per_plugin == {"modellens": 0}
    flags.samples_per_plugin = {"modellens": 5}
    Loader().fix_flags(flags)
    assert flags.samples_per_plugin == {"modellens": 5}
