"""The Writer's standard kinds, and writing through torch's and tensorboardX's writers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.compat.proto import summary_pb2
from tensorboard.util import tensor_util

import modellens
from modellens import confusion_matrix as cm


def accumulate(path: Path) -> event_accumulator.EventAccumulator:
    accumulator = event_accumulator.EventAccumulator(str(path), size_guidance={event_accumulator.TENSORS: 0})
    accumulator.Reload()
    return accumulator


def test_scalars_and_histograms_use_tensorboards_own_formats(tmp_path):
    values = np.random.default_rng(0).normal(size=1000)
    with modellens.Writer(tmp_path) as writer:
        for step in range(3):
            writer.scalar("loss", 1.0 / (step + 1), step=step)
            writer.histogram("weights", values * (step + 1), step=step, bins=20)
    accumulator = accumulate(tmp_path)
    assert accumulator.SummaryMetadata("loss").plugin_data.plugin_name == "scalars"
    assert accumulator.SummaryMetadata("weights").plugin_data.plugin_name == "histograms"
    losses = [float(tensor_util.make_ndarray(e.tensor_proto)) for e in accumulator.Tensors("loss")]
    np.testing.assert_allclose(losses, [1.0, 0.5, 1 / 3], rtol=1e-6)
    buckets = tensor_util.make_ndarray(accumulator.Tensors("weights")[0].tensor_proto)
    assert buckets.shape == (20, 3)
    assert buckets[:, 2].sum() == 1000
    assert buckets[0, 0] == values.min() and buckets[-1, 1] == values.max()


@pytest.mark.parametrize("bad", [np.array([1.0, 2.0]), "x", None])
def test_scalar_rejects_non_scalars(tmp_path, bad):
    with modellens.Writer(tmp_path) as writer, pytest.raises(TypeError, match="value"):
        writer.scalar("loss", bad, step=0)


def test_writer_rejects_things_that_are_not_a_logdir_or_writer():
    with pytest.raises(TypeError, match="log directory"):
        modellens.Writer(42)


def modellens_steps(path: Path, tag: str) -> list[cm.ConfusionMatrix]:
    return [cm.decode(tensor_util.make_ndarray(e.tensor_proto)) for e in accumulate(path).Tensors(tag)]


def test_writes_through_a_torch_summary_writer_into_its_one_file(tmp_path):
    pytest.importorskip("torch")
    from torch.utils.tensorboard import SummaryWriter

    torch_writer = SummaryWriter(str(tmp_path))
    torch_writer.add_scalar("loss", 0.5, 0)
    writer = modellens.Writer(torch_writer)
    writer.confusion_matrix("val/confusion", [0, 1, 1], [0, 1, 0], step=0, class_names=["a", "b"])
    writer.flush()  # on disk now, though torch's own writer flushes every 120 s
    assert len(list(tmp_path.iterdir())) == 1
    (step,) = modellens_steps(tmp_path, "val/confusion")
    np.testing.assert_array_equal(step.counts, [[1, 0], [1, 1]])
    assert "loss" in accumulate(tmp_path).Tags()["scalars"] + accumulate(tmp_path).Tags()["tensors"]
    writer.close()
    torch_writer.add_scalar("loss", 0.25, 1)  # the user's writer stays theirs
    torch_writer.close()


def test_writes_through_a_tensorboardx_writer_keeping_data_class(tmp_path):
    tensorboardX = pytest.importorskip("tensorboardX")
    tbx_writer = tensorboardX.SummaryWriter(str(tmp_path))
    with modellens.Writer(tbx_writer) as writer:
        writer.confusion_matrix("c", ["x", "y"], ["y", "y"], step=3)
    assert len(list(tmp_path.iterdir())) == 1
    accumulator = accumulate(tmp_path)
    assert (
        accumulator.SummaryMetadata("c").data_class == summary_pb2.DATA_CLASS_TENSOR
    )  # survived tensorboardX's older protos
    (step,) = modellens_steps(tmp_path, "c")
    assert step.class_names == ["x", "y"]
    tbx_writer.close()


def test_setup_ships_every_package_of_the_writer():
    """A kind package missing from setup.py installs without it (a wheel then fails on import)."""
    import setuptools

    from harness import ROOT

    captured = {}
    original = setuptools.setup
    setuptools.setup = lambda **options: captured.update(options)
    try:
        source = (ROOT / "setup.py").read_text()
        exec(
            compile(source, str(ROOT / "setup.py"), "exec"),
            {"__file__": str(ROOT / "setup.py"), "__name__": "__main__"},
        )
    finally:
        setuptools.setup = original
    on_disk = {p.parent.name for p in (ROOT / "writer").glob("*/__init__.py")}
    assert {f"modellens.{name}" for name in on_disk} <= set(captured["packages"])
    assert {"modellens", "modellens.tb_plugin", "modellens.distributions"} <= set(captured["packages"])
