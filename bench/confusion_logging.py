"""Logging a 100-class confusion matrix per epoch: ModelLens against the usual recipe
(a matplotlib figure → torch ``SummaryWriter.add_figure`` / ``tf.summary.image``).

Same predictions for every peer, in one process; prints time per call and bytes per step.
"""

from __future__ import annotations

import tempfile

import numpy as np

from common import best_of, directory_bytes, table

CLASSES = 100
SAMPLES = 10_000
EPOCHS = 5


def predictions(epoch: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(epoch)
    truth = rng.integers(0, CLASSES, SAMPLES)
    wrong = rng.random(SAMPLES) < 0.3 - 0.04 * epoch
    return truth, np.where(wrong, rng.integers(0, CLASSES, SAMPLES), truth)


def figure_of(truth: np.ndarray, predicted: np.ndarray):
    """The recipe of torch's and TensorFlow's tutorials: an annotated-free imshow of the counts."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import confusion_matrix

    counts = confusion_matrix(truth, predicted, labels=range(CLASSES))
    figure, axes = plt.subplots(figsize=(10, 10))
    axes.imshow(counts, cmap="Blues")
    axes.set_xticks(range(CLASSES))
    axes.set_yticks(range(CLASSES))
    axes.set_xticklabels([f"class {i}" for i in range(CLASSES)], rotation=90, fontsize=4)
    axes.set_yticklabels([f"class {i}" for i in range(CLASSES)], fontsize=4)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    return figure


def run_modellens(logdir: str) -> None:
    import modellens

    names = [f"class {i}" for i in range(CLASSES)]
    with modellens.Writer(logdir) as writer:
        for epoch in range(EPOCHS):
            writer.confusion_matrix("val/confusion", *predictions(epoch), class_names=names, step=epoch)


def run_torch_figure(logdir: str) -> None:
    from torch.utils.tensorboard import SummaryWriter

    writer = SummaryWriter(logdir)
    for epoch in range(EPOCHS):
        writer.add_figure("val/confusion", figure_of(*predictions(epoch)), epoch, close=True)
    writer.close()


def run_tf_image(logdir: str) -> None:
    import io

    import matplotlib.pyplot as plt
    import tensorflow as tf

    writer = tf.summary.create_file_writer(logdir)
    with writer.as_default():
        for epoch in range(EPOCHS):
            figure = figure_of(*predictions(epoch))
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png")
            plt.close(figure)
            image = tf.image.decode_png(buffer.getvalue(), channels=4)[tf.newaxis]
            tf.summary.image("val/confusion", image, step=epoch)
    writer.close()


def measure(run) -> tuple[float, float]:
    sizes = []

    def once():
        with tempfile.TemporaryDirectory() as logdir:
            run(logdir)
            sizes.append(directory_bytes(logdir))

    seconds = best_of(once, repeats=3)
    return seconds / EPOCHS, sizes[-1] / EPOCHS


def main() -> str:
    peers = [("modellens confusion_matrix", run_modellens), ("matplotlib → torch add_figure", run_torch_figure)]
    try:
        import tensorflow  # noqa: F401

        peers.append(("matplotlib → tf.summary.image", run_tf_image))
    except ImportError:
        pass
    results = [(name, *measure(run)) for name, run in peers]
    base_time, base_bytes = results[0][1], results[0][2]
    rows = [
        [name, f"{t * 1000:.1f} ms", f"{t / base_time:.0f}×", f"{b / 1024:.1f} KiB", f"{b / base_bytes:.0f}×"]
        for name, t, b in results
    ]
    return table(
        f"Logging a {CLASSES}-class confusion matrix ({SAMPLES} samples) per epoch",
        ["writer", "time per call", "vs ModelLens", "bytes per step", "vs ModelLens"],
        rows,
    )


if __name__ == "__main__":
    print(main())
