"""Regenerates ModelLens's demo logs from real training runs.

Confusion matrices: a small multi-layer perceptron (scikit-learn's ``MLPClassifier``) learns the 8×8 handwritten
digits that ship with scikit-learn, once per learning rate. Every epoch logs the train and
validation confusion matrices, loss and accuracy scalars, and a histogram of the first
layer's weights; the validation split's ROC/PR curves and calibration (``roc_pr``,
``predictions``), the first layer's weights as heatmaps and the hidden layer's embeddings for the
Projector. A regression over epochs: ``evaluation_demo.py`` (diabetes). Training health: the
runs of ``distributions_demo.py`` (torch ``watch``, the Keras callback, plain ``add_histogram``),
which log their models' graphs too. Structure graphs:
the runs of ``graph_demo.py`` (BERT-base from its config, a two-input CNN). Attention maps: the
runs of ``attention_demo.py`` (a torch and a Keras transformer learning to reverse digits, BERT-base
with random weights). Usage::

    python demo_logs/generate.py [--out demo_logs] [--epochs 30]
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from typing import Any, Callable, Optional, Sequence

import numpy as np

import modellens

DIGIT_NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
LEARNING_RATES = (0.0003, 0.003)


def train_run(
    logdir: str,
    *,
    learning_rate: float,
    epochs: int,
    seed: int = 0,
    class_names: Sequence[str] = DIGIT_NAMES,
    progress: bool = True,
    on_predictions: Optional[Callable[[str, int, np.ndarray, np.ndarray], None]] = None,
) -> None:
    """Trains the MLP for ``epochs`` epochs, writing one step per epoch into ``logdir``.

    ``on_predictions(split, epoch, y_true, probabilities)`` sees what was logged (tests use it).
    """
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier

    digits = load_digits()
    x = digits.data / 16.0
    x_train, x_val, y_train, y_val, _, index_val = train_test_split(
        x, digits.target, np.arange(len(x)), test_size=0.3, random_state=seed, stratify=digits.target
    )
    val_ids = [f"digits[{i}]" for i in index_val]  # the sample's index in load_digits()
    embedding_epochs = {0, epochs // 2, epochs - 1}
    model = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=learning_rate, batch_size=64, random_state=seed)
    classes = np.arange(10)
    epoch_iter = range(epochs)
    if progress:
        from tqdm import tqdm

        epoch_iter = tqdm(epoch_iter, desc=os.path.basename(logdir), unit="epoch")
    with modellens.Writer(logdir) as writer, warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for epoch in epoch_iter:
            model.partial_fit(x_train, y_train, classes=classes)
            for split, features, truth in (("train", x_train, y_train), ("val", x_val, y_val)):
                probabilities = model.predict_proba(features)
                if on_predictions is not None:
                    on_predictions(split, epoch, truth, probabilities)
                writer.confusion_matrix(
                    f"{split}/confusion", truth, probabilities, class_names=list(class_names), step=epoch
                )
                writer.scalar(f"{split}/accuracy", float(np.mean(probabilities.argmax(1) == truth)), step=epoch)
            writer.scalar("train/loss", model.loss_, step=epoch)
            writer.histogram("weights/hidden", model.coefs_[0], step=epoch)
            log_evaluation(writer, epoch, model, x_val, y_val, val_ids, list(class_names), epoch in embedding_epochs)


def log_evaluation(
    writer: modellens.Writer,
    epoch: int,
    model: Any,
    x_val: np.ndarray,
    y_val: np.ndarray,
    val_ids: list[str],
    class_names: list[str],
    embeddings: bool,
) -> None:
    """The digits classifier's evaluation at one epoch: ROC/PR curves, calibration and the most
    confidently wrong samples of the validation split, its first layer's weights as heatmaps
    (the matrix, and each hidden unit's 8 × 8 receptive field), and, when ``embeddings``, the
    hidden layer's activations for the Projector."""
    probabilities = model.predict_proba(x_val)
    writer.roc_pr("val/curves", y_val, probabilities, class_names=class_names, step=epoch)
    writer.predictions("val/predictions", y_val, probabilities, ids=val_ids, class_names=class_names, step=epoch)
    weights = model.coefs_[0]  # [64 pixels, 32 hidden units]
    writer.tensor_heatmap("heatmaps/hidden", weights, step=epoch)  # not "weights/hidden": a histogram owns that tag
    writer.tensor_heatmap("heatmaps/hidden_fields", weights.T.reshape(-1, 8, 8), layout="channels", step=epoch)
    if embeddings:
        hidden = np.maximum(x_val @ weights + model.intercepts_[0], 0.0)
        writer.embeddings("val/hidden", hidden, labels=[class_names[t] for t in y_val], step=epoch)


def run_name(learning_rate: float) -> str:
    return f"mlp_lr{learning_rate:g}"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)))
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)
    for learning_rate in LEARNING_RATES:
        train_run(os.path.join(args.out, run_name(learning_rate)), learning_rate=learning_rate, epochs=args.epochs)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import attention_demo
    import distributions_demo
    import evaluation_demo
    import graph_demo

    distributions_demo.run(args.out)
    graph_demo.run(args.out)
    attention_demo.run(args.out)
    evaluation_demo.run(args.out)


if __name__ == "__main__":
    main()
