"""``Writer.embeddings``: the Projector files it writes, its validation (bad input writes
nothing), and what TensorBoard's own projector plugin serves from them: in-process over both
data providers, and from real ``tensorboard`` processes (``--load_fast`` true and false, with
and without TensorFlow), vectors and labels compared exactly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from google.protobuf import text_format
from tensorboard.backend import application
from tensorboard.backend.event_processing import data_provider as multiplexer_provider
from tensorboard.backend.event_processing import plugin_event_multiplexer
from tensorboard.data import server_ingester
from tensorboard.plugins import base_plugin
from tensorboard.plugins.projector import projector_plugin
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from tensorboard.util import grpc_util
from werkzeug.test import Client

import modellens
from harness import ARTIFACTS, PROVIDERS, TensorBoardProcess, free_port
from modellens import embeddings

ROUTE = "/data/plugin/projector"
HOSTILE = ["<img src=x onerror=alert(1)>", "naïve ☃ 猫", ' "quoted" ', "a\u2028b", "x\x0by", "&amp;", "#1", "100%"]


def config_of(run_dir) -> ProjectorConfig:
    config = ProjectorConfig()
    text_format.Parse(Path(run_dir, "projector_config.pbtxt").read_text(), config)
    return config


def names_in(run_dir) -> list[str]:
    return [e.tensor_name for e in config_of(run_dir).embeddings]


def files_under(path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in Path(path).rglob("*") if p.is_file() and "tfevents" not in p.name)


def read_like_the_plugin(run_dir, entry) -> np.ndarray:
    """The plugin's own readers, applied the way ``_serve_tensor`` applies them."""
    path = os.path.join(run_dir, entry.tensor_path)
    try:
        return projector_plugin._read_tensor_tsv_file(path)
    except UnicodeDecodeError:
        return projector_plugin._read_tensor_binary_file(path, entry.tensor_shape)


def labels_tsv(labels) -> str:
    """The metadata the Projector expects, built independently: one column bare, several with a header."""
    if isinstance(labels, dict):
        columns = list(labels.values())
        lines = ["\t".join(labels)] + ["\t".join(str(c[i]) for c in columns) for i in range(len(columns[0]))]
        if len(columns) == 1:
            lines = lines[1:]
    else:
        lines = [str(label) for label in labels]
    return "".join(line + "\n" for line in lines)


# ---------------------------------------------------------------------------- files


def test_a_step_is_a_config_entry_a_binary_tensor_and_a_label_file(tmp_path):
    vectors = np.random.default_rng(0).normal(size=(40, 7))
    labels = [f"point {i}" for i in range(40)]
    with modellens.Writer(tmp_path / "run") as writer:
        writer.embeddings("layer/emb", vectors, step=3, labels=labels)
    run = tmp_path / "run"
    [entry] = config_of(run).embeddings
    assert entry.tensor_name == "layer/emb @ step 3"
    assert list(entry.tensor_shape) == [40, 7]
    assert entry.tensor_path.startswith("modellens-projector/layer_emb-") and entry.tensor_path.endswith(
        "/step-3.tensor.bytes"
    )
    assert entry.metadata_path == entry.tensor_path.replace(".tensor.bytes", ".metadata.tsv")
    assert (run / entry.tensor_path).read_bytes() == vectors.astype(np.float32).tobytes()
    assert (run / entry.metadata_path).read_text("utf-8") == labels_tsv(labels)
    np.testing.assert_array_equal(read_like_the_plugin(run, entry), vectors.astype(np.float32))
    assert not [p for p in files_under(run) if p.endswith(".tmp")]


def test_several_label_columns_get_a_header_row_and_ints_become_text(tmp_path):
    labels = {"class": np.array([3, 1, 2]), "name": ("cat", "dog", "<b>bird</b>"), "id": [10, 20, 30]}
    with modellens.Writer(tmp_path) as writer:
        writer.embeddings("e", np.eye(3) * 1.5, step=0, labels=labels)
    [entry] = config_of(tmp_path).embeddings
    assert (
        tmp_path / entry.metadata_path
    ).read_text() == "class\tname\tid\n3\tcat\t10\n1\tdog\t20\n2\t<b>bird</b>\t30\n"


def test_one_named_column_is_written_without_a_header(tmp_path):
    """The Projector reads a header only when the first line has a tab: one column has none."""
    with modellens.Writer(tmp_path) as writer:
        writer.embeddings("e", np.ones((2, 2)) * 3, step=0, labels={"digit": [7, 8]})
    [entry] = config_of(tmp_path).embeddings
    assert (tmp_path / entry.metadata_path).read_text() == "7\n8\n"


def test_no_labels_no_metadata_file(tmp_path):
    with modellens.Writer(tmp_path) as writer:
        writer.embeddings("e", np.random.default_rng(1).normal(size=(5, 3)), step=0)
    [entry] = config_of(tmp_path).embeddings
    assert entry.metadata_path == ""
    assert [p for p in files_under(tmp_path) if p.endswith(".tsv")] == []


@pytest.mark.parametrize(
    "vectors",
    [np.zeros((4, 3)), np.full((3, 5), 0.5), np.array([[2.0, 8.0], [0.5, 32.0]]), np.eye(4) * 2],
    ids=["zeros", "halves", "powers of two", "one-hot times two"],
)
def test_bytes_the_plugin_would_read_as_text_are_written_as_tsv(tmp_path, vectors):
    """The plugin reads a tensor file as UTF-8 text first; these float32 bytes decode as text
    (the plugin would then fail parsing them), so the step is written as exact TSV instead."""
    assert not embeddings.read_as_binary(vectors.astype(np.float32).tobytes())
    with modellens.Writer(tmp_path) as writer:
        writer.embeddings("e", vectors, step=1)
    [entry] = config_of(tmp_path).embeddings
    assert entry.tensor_path.endswith("/step-1.tensor.tsv")
    got = read_like_the_plugin(tmp_path, entry)
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, vectors.astype(np.float32))


def test_tsv_digits_give_back_every_float32_bit_for_bit():
    """9 significant digits, read by the plugin's float() then float32: exact for any finite
    float32 (random bit patterns, subnormals, extremes, signed zero)."""
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2**32, size=200_000, dtype=np.uint64).astype(np.uint32)
    values = bits.view(np.float32)
    values = values[np.isfinite(values)]
    special = np.array(
        [0.0, -0.0, 1e-45, -1e-45, 1.1754942e-38, 1.1754944e-38, 3.4028235e38, -3.4028235e38, 0.1, 1 / 3],
        dtype=np.float32,
    )
    values = np.concatenate([special, values])[: (len(values) // 10) * 10].reshape(-1, 10)
    text = embeddings.tsv_text(values)
    parsed = np.array([[float(x) for x in line.split("\t")] for line in text.decode().splitlines()], dtype=np.float32)
    np.testing.assert_array_equal(parsed.view(np.uint32), values.view(np.uint32))


def plugin_reads_text_first(path, monkeypatch, gfile: str) -> BaseException:
    """What the plugin's text-first tensor reader raises, with TensorFlow's GFile or with the
    TensorFlow stub TensorBoard uses when TensorFlow is absent."""
    with monkeypatch.context() as patch:
        if gfile == "stub":
            from tensorboard.compat import tensorflow_stub

            patch.setattr(projector_plugin, "tf", tensorflow_stub)
        with pytest.raises(ValueError) as error:
            projector_plugin._read_tensor_tsv_file(str(path))
    return error.value


_BIG = 16 * 2**20  # the stub decodes in 16 MiB chunks; TensorFlow decodes line by line


@pytest.mark.parametrize(
    ("data", "binary"),
    [
        (b"\x00\x00\x80\x3f", True),  # 1.0: 0x80 is no UTF-8
        (b"\x00\x00\x00\x40", False),  # 2.0: "\0\0\0@" decodes, then float() fails
        (b"\x00\x00\x00\x40\n\xff", False),  # with TensorFlow the first line is parsed first
        (b"\x00\x00\x00\x40\r" + b"\x00" * _BIG + b"\xff", False),  # without, "\r" ends a line
        (b"\x00\xff\x00\x40\n\x00", True),
        (b"\x00\xe2\x82\n", True),  # a multi-byte sequence cut by the newline
        (b"\x00\xe2\x82\xac", False),  # "€" decodes
    ],
    ids=["1.0", "2.0", "newline", "carriage return", "invalid first", "cut sequence", "euro"],
)
def test_read_as_binary_follows_the_plugins_text_first_rule(tmp_path, monkeypatch, data, binary):
    """Binary must fall back to binary with and without TensorFlow; anything else would fail
    parsing as text (a 500) with at least one of them."""
    assert embeddings.read_as_binary(data) is binary
    path = tmp_path / "t"
    path.write_bytes(data)
    errors = [plugin_reads_text_first(path, monkeypatch, gfile) for gfile in ("tensorflow", "stub")]
    if binary:
        assert all(isinstance(error, UnicodeDecodeError) for error in errors)
    else:
        assert any(not isinstance(error, UnicodeDecodeError) for error in errors)


def test_latest_step_first_across_tags_and_others_entries_kept(tmp_path):
    theirs = ProjectorConfig()
    theirs.embeddings.add(tensor_name="their_table", tensor_path="their.tsv")
    (tmp_path / "projector_config.pbtxt").write_text(text_format.MessageToString(theirs))
    (tmp_path / "their.tsv").write_text("1\t2\n")
    rng = np.random.default_rng(2)
    with modellens.Writer(tmp_path) as writer:
        for tag, step in [("a", 1), ("a", 3), ("a", 2), ("b", 3), ("b", 0)]:
            writer.embeddings(tag, rng.normal(size=(3, 2)), step=step)
    assert names_in(tmp_path) == [
        "b @ step 3",
        "a @ step 3",
        "a @ step 2",
        "a @ step 1",
        "b @ step 0",
        "their_table",
    ]


def test_a_step_written_again_replaces_the_earlier_under_new_file_names(tmp_path):
    rng = np.random.default_rng(3)
    with modellens.Writer(tmp_path) as writer:
        writer.embeddings("e", rng.normal(size=(4, 3)), step=5, labels=list("abcd"))
        first = config_of(tmp_path).embeddings[0]
        writer.embeddings("e", rng.normal(size=(4, 3)), step=6)
        again = rng.normal(size=(6, 2))
        writer.embeddings("e", again, step=5)  # no labels this time, a new shape
    assert names_in(tmp_path) == ["e @ step 6", "e @ step 5"]
    entry = config_of(tmp_path).embeddings[1]
    assert entry.tensor_path != first.tensor_path and entry.metadata_path == ""
    assert not (tmp_path / first.tensor_path).exists() and not (tmp_path / first.metadata_path).exists()
    np.testing.assert_array_equal(read_like_the_plugin(tmp_path, entry), again.astype(np.float32))
    assert len([p for p in files_under(tmp_path) if "tensor" in p]) == 2


def test_the_config_is_replaced_never_rewritten_in_place(tmp_path):
    """A reader holding the old file keeps reading it whole: the new one is renamed over it."""
    rng = np.random.default_rng(4)
    with modellens.Writer(tmp_path) as writer:
        writer.embeddings("e", rng.normal(size=(3, 2)), step=0)
        with open(tmp_path / "projector_config.pbtxt") as held:
            before = os.fstat(held.fileno()).st_ino
            writer.embeddings("e", rng.normal(size=(3, 2)), step=1)
            old_text = held.read()
        assert os.stat(tmp_path / "projector_config.pbtxt").st_ino != before
    old = ProjectorConfig()
    text_format.Parse(old_text, old)
    assert [e.tensor_name for e in old.embeddings] == ["e @ step 0"]
    assert names_in(tmp_path) == ["e @ step 1", "e @ step 0"]


def test_threads_writing_one_run_lose_no_step(tmp_path):
    rng = np.random.default_rng(5)
    vectors = {step: rng.normal(size=(8, 4)) for step in range(24)}
    with modellens.Writer(tmp_path) as writer:
        threads = [
            threading.Thread(target=lambda part=part: [writer.embeddings("e", vectors[s], step=s) for s in part])
            for part in (range(0, 24, 3), range(1, 24, 3), range(2, 24, 3))
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    entries = config_of(tmp_path).embeddings
    assert [e.tensor_name for e in entries] == [f"e @ step {s}" for s in range(23, -1, -1)]
    for entry in entries:
        step = int(entry.tensor_name.rsplit(" ", 1)[1])
        np.testing.assert_array_equal(read_like_the_plugin(tmp_path, entry), vectors[step].astype(np.float32))


def test_wall_time_is_the_files_modification_time(tmp_path):
    with modellens.Writer(tmp_path) as writer:
        writer.embeddings("e", np.random.default_rng(6).normal(size=(2, 2)), step=0, labels=["x", "y"], wall_time=1e9)
    [entry] = config_of(tmp_path).embeddings
    assert os.stat(tmp_path / entry.tensor_path).st_mtime == 1e9
    assert os.stat(tmp_path / entry.metadata_path).st_mtime == 1e9


def test_framework_tensors_and_dtypes(tmp_path):
    import torch

    with modellens.Writer(tmp_path) as writer:
        writer.embeddings("bf16", torch.linspace(-1, 1, 12).reshape(4, 3).to(torch.bfloat16), step=0)
        writer.embeddings("f16", np.linspace(-1, 1, 12, dtype=np.float16).reshape(6, 2), step=0)
        writer.embeddings("i", torch.arange(6).reshape(3, 2), step=0, labels=torch.tensor([4, 5, 6]))
    by_name = {e.tensor_name: e for e in config_of(tmp_path).embeddings}
    np.testing.assert_array_equal(
        read_like_the_plugin(tmp_path, by_name["bf16 @ step 0"]),
        torch.linspace(-1, 1, 12).reshape(4, 3).to(torch.bfloat16).float().numpy(),
    )
    np.testing.assert_array_equal(
        read_like_the_plugin(tmp_path, by_name["f16 @ step 0"]),
        np.linspace(-1, 1, 12, dtype=np.float16).reshape(6, 2).astype(np.float32),
    )
    assert (tmp_path / by_name["i @ step 0"].metadata_path).read_text() == "4\n5\n6\n"


# ---------------------------------------------------------------------------- validation

GOOD = np.random.default_rng(8).normal(size=(3, 4))


@pytest.mark.parametrize(
    ("arguments", "error", "match"),
    [
        ({"vectors": None}, TypeError, "2-D array"),
        ({"vectors": np.ones(5)}, ValueError, "2-D"),
        ({"vectors": np.ones((2, 3, 4))}, ValueError, "reshape"),
        ({"vectors": np.ones((0, 4))}, ValueError, "0 point"),
        ({"vectors": np.ones((1, 4))}, ValueError, "at least 2 points"),
        ({"vectors": np.ones((5, 1))}, ValueError, "at least 2"),
        ({"vectors": np.ones((2, 2), dtype=complex)}, TypeError, "real numbers"),
        ({"vectors": [["a", "b"], ["c", "d"]]}, TypeError, "real numbers"),
        ({"vectors": np.array([[1.0, np.nan], [0, 1]])}, ValueError, "NaN or infinite values .the first in row 0"),
        ({"vectors": np.array([[1.0, 2], [0, -np.inf]])}, ValueError, "row 1"),
        ({"vectors": np.array([[1e39, 0.0], [0, 1]])}, ValueError, "float32 range"),
        ({"vectors": np.broadcast_to(np.float32(1), (100_001, 2))}, ValueError, "MAX_POINTS = 100,000"),
        ({"vectors": np.broadcast_to(np.float32(1), (65_536, 1025))}, ValueError, "MAX_ELEMENTS"),
        ({"labels": ["a", "b"]}, ValueError, "2 labels but vectors has 3"),
        ({"labels": "abc"}, TypeError, "not a single str"),
        ({"labels": ["a", "b\tc", "d"]}, ValueError, r"labels\[1\].*tab"),
        ({"labels": ["a", "b", "line\nbreak"]}, ValueError, "newline"),
        ({"labels": ["a\r", "b", "c"]}, ValueError, "carriage return"),
        ({"labels": ["a", "", "c"]}, ValueError, r"labels\[1\] is blank"),
        ({"labels": ["a", " \u3000", "c"]}, ValueError, "placeholder"),
        ({"labels": ["a", True, "c"]}, TypeError, "bool"),
        ({"labels": ["a", 1.5, "c"]}, TypeError, "str or int"),
        ({"labels": np.array([0.5, 1, 2])}, TypeError, "dtype float64"),
        ({"labels": np.array([["a"], ["b"], ["c"]])}, ValueError, "1-D"),
        ({"labels": ["a", "\ud800", "c"]}, ValueError, "not valid Unicode"),
        ({"labels": {}}, ValueError, "empty mapping"),
        ({"labels": {1: ["a", "b", "c"]}}, TypeError, "column names must be str"),
        ({"labels": {" ": ["a", "b", "c"], "b": [1, 2, 3]}}, ValueError, "blank column name"),
        ({"labels": {"a\tb": ["a", "b", "c"], "c": [1, 2, 3]}}, ValueError, "tab or line break"),
        ({"labels": {"a": ["x", "", "z"], "b": ["1", " ", "3"]}}, ValueError, "point 1 has only blank labels"),
        ({"labels": {"a": ["x", "y", "z"], "b": [1, 2]}}, ValueError, r"labels\['b'\] has 2 labels"),
        ({"tag": "a&b"}, ValueError, "'&'"),
        ({"tag": "a#b"}, ValueError, "unescaped"),
        ({"tag": "a+b"}, ValueError, "'\\+'"),
        ({"tag": "50%"}, ValueError, "'%'"),
        ({"tag": "a\nb"}, ValueError, "control characters"),
        ({"tag": ""}, TypeError, "non-empty str"),
        ({"step": -1}, ValueError, "non-negative"),
        ({"step": 1.0}, TypeError, "int"),
        ({"wall_time": float("nan")}, ValueError, "finite"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(tmp_path, arguments, error, match):
    call = {"tag": "e", "vectors": GOOD, "step": 0, "labels": None, **arguments}
    with modellens.Writer(tmp_path) as writer:
        with pytest.raises(error, match=match):
            writer.embeddings(call.pop("tag"), call.pop("vectors"), **call)
    assert files_under(tmp_path) == []


def test_an_unreadable_config_is_left_alone(tmp_path):
    (tmp_path / "projector_config.pbtxt").write_text("embeddings { tensor_name: ")
    with modellens.Writer(tmp_path) as writer:
        with pytest.raises(ValueError, match="not a readable ProjectorConfig.*nothing was written"):
            writer.embeddings("e", GOOD, step=0)
    assert files_under(tmp_path) == ["projector_config.pbtxt"]
    assert (tmp_path / "projector_config.pbtxt").read_text() == "embeddings { tensor_name: "


def test_a_closed_writer_refuses(tmp_path):
    writer = modellens.Writer(tmp_path)
    writer.close()
    with pytest.raises(ValueError, match="closed"):
        writer.embeddings("e", GOOD, step=0)
    assert files_under(tmp_path) == []


# ---------------------------------------------------------------------------- plugin


def write_runs(logdir: Path) -> dict:
    """Runs written every way a user can: own files (also at the logdir's root, run "."), a
    torch ``SummaryWriter`` and a tensorboardX one. Returns ``{run: {name: (vectors, metadata)}}``."""
    import tensorboardX
    from torch.utils.tensorboard import SummaryWriter

    rng = np.random.default_rng(10)
    expected: dict = {}

    def log(writer, run, tag, step, vectors, labels=None):
        writer.embeddings(tag, vectors, step=step, labels=labels)
        metadata = None if labels is None else labels_tsv(labels)
        expected.setdefault(run, {})[embeddings.tensor_name(tag, step)] = (np.asarray(vectors, np.float32), metadata)

    with modellens.Writer(logdir / "alpha") as writer:
        log(writer, "alpha", "layer/emb", 0, rng.normal(size=(200, 16)), HOSTILE * 25)
        log(
            writer,
            "alpha",
            "layer/emb",
            5,
            rng.normal(size=(300, 16)) * 1e-3,
            {"class": list(rng.integers(0, 10, 300)), "name": [f"s{i} ☃" for i in range(300)], "empty": [""] * 300},
        )
        log(writer, "alpha", 'quirky "tag" <x> ü=1?/', 5, np.arange(20.0).reshape(10, 2), [str(i) for i in range(10)])
    with modellens.Writer(logdir) as writer:
        log(writer, ".", "root", 1, rng.normal(size=(5, 3)))
    torch_writer = SummaryWriter(str(logdir / "nested" / "torch"))
    with modellens.Writer(torch_writer) as writer:
        log(writer, "nested/torch", "emb", 3, rng.normal(size=(50, 8)), list(range(50)))
    torch_writer.close()
    tbx_writer = tensorboardX.SummaryWriter(str(logdir / "tbx"))
    with modellens.Writer(tbx_writer) as writer:
        log(writer, "tbx", "emb", 2, rng.normal(size=(30, 4)), {"x": list("abcdefghij" * 3)})
    tbx_writer.close()
    return expected


@pytest.fixture(scope="module")
def logged(tmp_path_factory):
    logdir = tmp_path_factory.mktemp("projector_logs")
    return logdir, write_runs(logdir)


def check_served(get, expected: dict) -> None:
    """``get(route, params) -> (status, body bytes)``: every route of every step, compared exactly."""
    status, body = get("runs", {})
    assert status == 200 and sorted(json.loads(body)) == sorted(expected)
    for run, steps in expected.items():
        status, body = get("info", {"run": run})
        assert status == 200, body
        info = json.loads(body)
        ours = [e for e in info["embeddings"] if e["tensorName"] in steps]
        # latest step first; of equal steps, the one written last first
        assert [e["tensorName"] for e in ours] == sorted(reversed(list(steps)), key=lambda n: -int(n.rsplit(" ", 1)[1]))
        for entry in ours:
            vectors, metadata = steps[entry["tensorName"]]
            assert entry["tensorShape"] == list(vectors.shape)
            status, body = get("tensor", {"run": run, "name": entry["tensorName"]})
            assert status == 200, body
            np.testing.assert_array_equal(np.frombuffer(body, np.float32).reshape(vectors.shape), vectors)
            status, body = get("tensor", {"run": run, "name": entry["tensorName"], "num_rows": "2"})
            assert status == 200 and body == vectors[:2].tobytes()
            status, body = get("metadata", {"run": run, "name": entry["tensorName"]})
            if metadata is None:
                assert status == 400 and b"No metadata file" in body
            else:
                assert status == 200 and body.decode("utf-8") == metadata
    status, body = get("tensor", {"run": "alpha", "name": "layer/emb @ step 4"})
    assert status == 400


def projector_client(logdir: Path, provider_kind: str):
    if provider_kind == "python":
        multiplexer = plugin_event_multiplexer.EventMultiplexer()
        multiplexer.AddRunsFromDirectory(str(logdir))
        multiplexer.Reload()
        provider = multiplexer_provider.MultiplexerDataProvider(multiplexer, str(logdir))
        ingester = None
    else:
        ingester = server_ingester.SubprocessServerDataIngester(
            server_ingester.get_server_binary(),
            str(logdir),
            reload_interval=1,
            channel_creds_type=grpc_util.ChannelCredsType.LOCAL,
        )
        ingester.start()
        provider = ingester.data_provider
    context = base_plugin.TBContext(data_provider=provider, logdir=str(logdir))
    plugin = projector_plugin.ProjectorPlugin(context)
    client = Client(application.TensorBoardWSGI([plugin], data_provider=provider))

    def get(route, params):
        response = client.get(f"{ROUTE}/{route}", query_string=params)
        return response.status_code, response.get_data()

    return get, ingester


def wait_for_runs(get, runs, timeout: float = 60.0) -> None:
    """The loaders find runs in the background; the plugin re-reads configs when the run list changes."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = get("runs", {})
        if status == 200 and set(json.loads(body)) >= set(runs):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"the projector lists {body!r}, not all of {sorted(runs)}")
        time.sleep(0.3)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_projector_plugin_serves_every_step_exactly(logged, provider):
    logdir, expected = logged
    get, ingester = projector_client(logdir, provider)
    wait_for_runs(get, expected)
    check_served(get, expected)


def test_steps_written_after_the_plugin_read_the_runs_wait_for_a_restart(tmp_path):
    """TensorBoard's projector re-reads configs only when the list of runs changes."""
    rng = np.random.default_rng(11)
    with modellens.Writer(tmp_path / "run") as writer:
        writer.embeddings("e", rng.normal(size=(4, 2)), step=0)
        get, _ = projector_client(tmp_path, "python")
        wait_for_runs(get, ["run"])
        writer.embeddings("e", rng.normal(size=(4, 2)), step=1)
        status, body = get("info", {"run": "run"})
        assert [e["tensorName"] for e in json.loads(body)["embeddings"]] == ["e @ step 0"]
        status, _ = get("tensor", {"run": "run", "name": "e @ step 1"})
        assert status == 400
    restarted, _ = projector_client(tmp_path, "python")
    status, body = restarted("info", {"run": "run"})
    assert [e["tensorName"] for e in json.loads(body)["embeddings"]] == ["e @ step 1", "e @ step 0"]


# ---------------------------------------------------------------------------- real tensorboard

_NO_TENSORFLOW = (
    "import sys, types; sys.modules['tensorboard.compat.notf'] = types.ModuleType('tensorboard.compat.notf'); "
    "from tensorboard.main import run_main; sys.argv[0] = 'tensorboard'; run_main()"
)


class TensorBoardWithoutTensorFlow(TensorBoardProcess):
    """A real ``tensorboard`` that uses its TensorFlow stub (TensorBoard's own ``notf`` switch)."""

    def __init__(self, logdir: Path, load_fast: bool) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = ARTIFACTS / f"tensorboard-{self.port}.log"
        ARTIFACTS.mkdir(exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-c", _NO_TENSORFLOW, "--logdir", str(logdir), "--host", "127.0.0.1"]
            + ["--port", str(self.port), f"--load_fast={'true' if load_fast else 'false'}", "--reload_interval", "1"],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )


def http_get(server):
    def get(route, params):
        url = f"{server.url}{ROUTE}/{route}?{urllib.parse.urlencode(params, quote_via=urllib.parse.quote)}"
        if server.process.poll() is not None:
            raise RuntimeError(f"tensorboard exited: {server.log_path.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(url, timeout=30) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()
        except urllib.error.URLError:
            return 0, b"[]"  # not listening yet

    return get


SERVERS = [(True, True), (False, True), (True, False), (False, False)]


@pytest.fixture(
    scope="module",
    params=SERVERS,
    ids=[f"load_fast={str(fast).lower()}-{'tensorflow' if tf else 'no tensorflow'}" for fast, tf in SERVERS],
)
def server(request, logged):
    load_fast, with_tensorflow = request.param
    cls = TensorBoardProcess if with_tensorflow else TensorBoardWithoutTensorFlow
    instance = cls(logged[0], load_fast=load_fast)
    try:
        wait_for_runs(http_get(instance), logged[1], timeout=120)
        yield instance, with_tensorflow
    finally:
        instance.stop()


def test_a_real_tensorboard_serves_every_step_exactly(server, logged):
    instance, with_tensorflow = server
    check_served(http_get(instance), logged[1])
    log = instance.log_path.read_text(errors="replace")
    assert ("TensorFlow installation not found" in log) is not with_tensorflow


def test_names_survive_the_projectors_unescaped_urls_in_chromium(logged, browser):
    """The Projector's browser code builds ``tensor?run=${run}&name=${name}`` without escaping:
    fetched the same way in Chromium, every name (spaces, quotes, <, >, =, ?, /, non-ASCII) reads back."""
    logdir, expected = logged
    instance = TensorBoardProcess(logdir, load_fast=True)
    try:
        wait_for_runs(http_get(instance), expected, timeout=120)
        context = browser.new_context()
        page = context.new_page()
        try:
            page.goto(instance.url + "/")
            for run, steps in expected.items():
                for name, (vectors, metadata) in steps.items():
                    got = page.evaluate(
                        """async ([run, name]) => {
                            const base = "data/plugin/projector";
                            const tensor = await fetch(`${base}/tensor?run=${run}&name=${name}&num_rows=100000`);
                            const meta = await fetch(`${base}/metadata?run=${run}&name=${name}&num_rows=100000`);
                            return {status: tensor.status,
                                    values: Array.from(new Float32Array(await tensor.arrayBuffer())),
                                    metaStatus: meta.status, meta: await meta.text()};
                        }""",
                        [run, name],
                    )
                    assert got["status"] == 200, (run, name)
                    np.testing.assert_array_equal(np.array(got["values"], np.float32), vectors.reshape(-1))
                    if metadata is not None:
                        assert got["metaStatus"] == 200 and got["meta"] == metadata
        finally:
            context.close()
    finally:
        instance.stop()


_DEEP_TEXT = """() => {
    const out = [];
    const walk = (node) => {
        if (node.shadowRoot) walk(node.shadowRoot);
        for (const child of node.childNodes) {
            if (child.nodeType !== 3) walk(child);
            else if (child.textContent.trim() && !["STYLE", "SCRIPT"].includes(child.parentNode.nodeName))
                out.push(child.textContent.trim());
        }
    };
    walk(document.body);
    return out.join(" | ");
}"""


def test_the_projector_tab_loads_the_steps_in_chromium(tmp_path, browser):
    """TensorBoard's Projector tab itself: it lists both steps (in its own order: tensors with
    metadata first, then more points first, then by name), loads the first, and offers the label
    columns."""

    rng = np.random.default_rng(12)
    with modellens.Writer(tmp_path / "run") as writer:
        writer.embeddings(
            "emb",
            rng.normal(size=(500, 16)),
            step=1,
            labels={"class": list(rng.integers(0, 5, 500)), "name": [f"p{i}" for i in range(500)]},
        )
        writer.embeddings("emb", rng.normal(size=(300, 16)), step=2, labels=[f"q{i}" for i in range(300)])
    instance = TensorBoardProcess(tmp_path, load_fast=True)
    try:
        wait_for_runs(http_get(instance), ["run"], timeout=120)
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        try:
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(instance.url + "/#projector")
            text = ""
            for _ in range(180):  # the Projector loads in two nested iframes
                frames = [frame for frame in page.frames if "projector_binary" in frame.url]
                if frames:
                    text = frames[0].evaluate(_DEEP_TEXT)
                    if "Points: | 500 | Dimension: | 16" in text:
                        break
                page.wait_for_timeout(500)
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "embeddings_projector_tab.png"))
        finally:
            context.close()
    finally:
        instance.stop()
    assert "Points: | 500 | Dimension: | 16" in text, text[-2000:]
    assert "2 tensors found | emb @ step 1 | 500x16 | emb @ step 2 | 300x16" in text
    assert "Label by | class | name" in text
    assert not errors, errors
