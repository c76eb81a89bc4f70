"""Logging ROC and precision-recall curves: ``Writer.roc_pr`` against scikit-learn and against the
matplotlib-image recipe, on the same scores in this process.

Multi-class: 1,000 classes × 100,000 samples of a realistic classifier's softmax scores (float32:
logits = one-hot · signal + standard normal noise, the signal rising from 0.45 to 3.2 over the
classes, so that the per-class ROC AUCs spread from about 0.6 to 0.99). Peers:

- ``modellens``: ``Writer.roc_pr`` of one step into a new logdir (computing every exact curve,
  AUC, AP, the micro and macro averages, compressing, encoding, writing, closing the file);
- ``scikit-learn``: the same numbers without writing: ``label_binarize``, then per class
  ``roc_curve`` + ``precision_recall_curve``, ``roc_auc_score`` and ``average_precision_score``
  (``average=None``), and the micro averages (``roc_curve``/``precision_recall_curve`` of the
  raveled one-vs-rest arrays, ``average="micro"`` scores);
- ``matplotlib → add_figure``: the recipe of scikit-learn's ``plot_roc``/``plot_precision_recall``
  examples: per class ``roc_curve`` + ``auc`` and ``precision_recall_curve`` +
  ``average_precision_score``, the micro curves from the raveled arrays, a two-panel figure of
  every curve (ROC, PR) logged with torch's ``SummaryWriter.add_figure``: one PNG per step, no
  per-class hover, no thresholds, no counts.

Binary: 1 M and 10 M samples (10 % positives), ``Writer.roc_pr`` against scikit-learn's
``roc_curve`` + ``precision_recall_curve`` + ``roc_auc_score`` + ``average_precision_score``.

Each round runs every peer once (the order alternating between rounds, after one unmeasured
warm-up of each on small data); reported are medians of ``REPEATS`` rounds, the median of the
per-round ratios to ModelLens, the peak resident memory of a call above what the process held
before it (Linux ``VmHWM``, reset through ``/proc/self/clear_refs`` before each call, after
``gc.collect()`` and glibc's ``malloc_trim(0)`` hand freed memory back, so that a call cannot
hide its peak in pages an earlier one left resident; the inputs are allocated before), the
bytes on disk per step, and the largest difference between the AUC/AP that ModelLens stored
(read back from the event file) and scikit-learn's. ``torch.set_num_threads(1)`` is pinned for
the ratios; the torch-dependent part of the recipe (figure → ``add_figure``) is also timed at
torch's default thread count. Expect about an hour at the default sizes on a 2-core machine
(scikit-learn's micro averages sort 10^8 pooled scores four times per round); ``BENCH_REPEATS``
overrides the rounds.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import directory_bytes, table  # noqa: E402

CLASSES = 1000
SAMPLES = 100_000
BINARY_SAMPLES = (1_000_000, 10_000_000)
REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))
TAG = "val/roc_pr"


# ---------------------------------------------------------------------------- data


def multiclass_data(samples: int = SAMPLES, classes: int = CLASSES, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Integer labels ``[n]`` and float32 softmax scores ``[n, C]`` of a classifier whose
    separation grows with the class index."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, samples)
    scores = rng.standard_normal((samples, classes), dtype=np.float32)
    signal = np.linspace(0.45, 3.2, classes, dtype=np.float32)
    scores[np.arange(samples), labels] += signal[labels]
    for start in range(0, samples, 10_000):  # softmax in place, row chunks
        rows = scores[start : start + 10_000]
        rows -= rows.max(axis=1, keepdims=True)
        np.exp(rows, out=rows)
        rows /= rows.sum(axis=1, keepdims=True)
    return labels, scores


def binary_data(samples: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Boolean labels (10 % positive) and float32 sigmoid scores."""
    rng = np.random.default_rng(seed)
    labels = rng.random(samples) < 0.1
    logits = rng.standard_normal(samples, dtype=np.float32) + 1.5 * labels
    return labels, (1 / (1 + np.exp(-logits))).astype(np.float32)


# ---------------------------------------------------------------------------- memory


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _trim() -> None:
    """Collects garbage and hands freed heap memory back to the system (glibc)."""
    gc.collect()
    name = ctypes.util.find_library("c")
    if name:
        try:
            ctypes.CDLL(name).malloc_trim(0)
        except (OSError, AttributeError):
            pass


class PeakMemory:
    """Peak resident memory above the start of the block (Linux: ``VmHWM`` reset on entry)."""

    def __enter__(self) -> PeakMemory:
        _trim()
        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")
            self.start = _status("VmRSS")
        except OSError:
            self.start = None
        self.bytes: int | None = None
        return self

    def __exit__(self, *exc) -> None:
        if self.start is not None:
            self.bytes = max(0, _status("VmHWM") - self.start)


# ---------------------------------------------------------------------------- peers


def modellens_roc_pr(logdir: str, labels: np.ndarray, scores: np.ndarray, class_names=None) -> None:
    import modellens

    with modellens.Writer(logdir) as writer:
        writer.roc_pr(TAG, labels, scores, step=0, class_names=class_names)


def stored_numbers(logdir: str) -> dict:
    """AUC, AP and the micro averages of the step that ModelLens wrote, read back from disk."""
    from harness import modellens_values
    from modellens import curves

    [(_, _, value)] = [found for found in modellens_values(logdir) if found[0] == TAG]
    header = curves.decode(list(value.tensor.string_val))
    return {
        "auc": header.auc,
        "ap": header.ap,
        "micro_auc": header.micro_auc,
        "micro_ap": header.micro_ap,
        "micro_exact": header.micro_exact,
        "points": int(header.points.max()),
    }


def sklearn_multiclass(labels: np.ndarray, scores: np.ndarray) -> dict:
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve
    from sklearn.preprocessing import label_binarize

    classes = scores.shape[1]
    truth = label_binarize(labels, classes=np.arange(classes))
    for c in range(classes):
        roc_curve(truth[:, c], scores[:, c])
        precision_recall_curve(truth[:, c], scores[:, c])
    auc = roc_auc_score(truth, scores, average=None)
    ap = average_precision_score(truth, scores, average=None)
    roc_curve(truth.ravel(), scores.ravel())
    precision_recall_curve(truth.ravel(), scores.ravel())
    micro_auc = roc_auc_score(truth, scores, average="micro")
    micro_ap = average_precision_score(truth, scores, average="micro")
    return {"auc": auc, "ap": ap, "micro_auc": micro_auc, "micro_ap": micro_ap, "macro_auc": float(np.mean(auc))}


def recipe_curves(labels: np.ndarray, scores: np.ndarray) -> dict:
    """The curves of scikit-learn's plot_roc / plot_precision_recall examples."""
    from sklearn.metrics import auc, average_precision_score, precision_recall_curve, roc_curve
    from sklearn.preprocessing import label_binarize

    classes = scores.shape[1]
    truth = label_binarize(labels, classes=np.arange(classes))
    out: dict = {"roc": [], "pr": [], "auc": [], "ap": []}
    for c in range(classes):
        fpr, tpr, _ = roc_curve(truth[:, c], scores[:, c])
        precision, recall, _ = precision_recall_curve(truth[:, c], scores[:, c])
        out["roc"].append((fpr, tpr))
        out["pr"].append((recall, precision))
        out["auc"].append(auc(fpr, tpr))
        out["ap"].append(average_precision_score(truth[:, c], scores[:, c]))
    fpr, tpr, _ = roc_curve(truth.ravel(), scores.ravel())
    precision, recall, _ = precision_recall_curve(truth.ravel(), scores.ravel())
    out["micro_roc"], out["micro_pr"] = (fpr, tpr), (recall, precision)
    out["micro_auc"] = auc(fpr, tpr)
    out["micro_ap"] = average_precision_score(truth, scores, average="micro")
    return out


def recipe_figure(logdir: str, found: dict) -> None:
    """A two-panel figure of every curve, logged with torch's ``SummaryWriter.add_figure``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from torch.utils.tensorboard import SummaryWriter

    figure, (roc, pr) = plt.subplots(1, 2, figsize=(12, 5.5))
    for (fpr, tpr), (recall, precision) in zip(found["roc"], found["pr"]):
        roc.plot(fpr, tpr, linewidth=0.3, alpha=0.4)
        pr.plot(recall, precision, linewidth=0.3, alpha=0.4)
    roc.plot(*found["micro_roc"], color="black", linewidth=2, label=f"micro (AUC {found['micro_auc']:.3f})")
    pr.plot(*found["micro_pr"], color="black", linewidth=2, label=f"micro (AP {found['micro_ap']:.3f})")
    roc.plot([0, 1], [0, 1], "k--", linewidth=0.8)
    roc.set(
        xlabel="false positive rate", ylabel="true positive rate", title=f"ROC, macro AUC {np.mean(found['auc']):.3f}"
    )
    pr.set(xlabel="recall", ylabel="precision", title=f"precision-recall, macro AP {np.mean(found['ap']):.3f}")
    roc.legend(loc="lower right")
    pr.legend(loc="upper right")
    writer = SummaryWriter(logdir)
    writer.add_figure(TAG, figure, 0, close=True)
    writer.close()


def sklearn_binary(labels: np.ndarray, scores: np.ndarray) -> dict:
    from sklearn.metrics import average_precision_score, precision_recall_curve, roc_auc_score, roc_curve

    roc_curve(labels, scores)
    precision_recall_curve(labels, scores)
    return {"auc": np.array([roc_auc_score(labels, scores)]), "ap": np.array([average_precision_score(labels, scores)])}


# ---------------------------------------------------------------------------- rounds


def warm_up() -> None:
    """Every peer once on small data, unmeasured: imports and first-call costs out of the rounds."""
    labels, scores = multiclass_data(2000, 5)
    with tempfile.TemporaryDirectory() as logdir:
        modellens_roc_pr(logdir, labels, scores)
        sklearn_multiclass(labels, scores)
        recipe_figure(logdir, recipe_curves(labels, scores))
        labels, scores = binary_data(2000)
        modellens_roc_pr(logdir, labels, scores)
        sklearn_binary(labels, scores)


def rounds(peers: list[tuple[str, Callable[[str], object]]], repeats: int) -> dict[str, dict]:
    """Runs every peer once per round (order alternating), each in a new temporary logdir.

    Returns per peer: seconds, peak memory and bytes on disk of each round, and what the last
    round's call returned (ModelLens: the numbers read back from disk)."""
    results = {name: {"seconds": [], "memory": [], "bytes": [], "found": None} for name, _ in peers}
    for round_ in range(repeats):
        order = peers if round_ % 2 == 0 else peers[::-1]
        for name, run in order:
            with tempfile.TemporaryDirectory() as logdir:
                with PeakMemory() as memory:
                    start = time.perf_counter()
                    found = run(logdir)
                    seconds = time.perf_counter() - start
                entry = results[name]
                entry["seconds"].append(seconds)
                entry["memory"].append(memory.bytes)
                entry["bytes"].append(directory_bytes(logdir))
                if name == "modellens":
                    found = stored_numbers(logdir)
                entry["found"] = found
            print(f"  {name}: {seconds:.2f} s, {size(memory.bytes)}", file=sys.stderr, flush=True)
    return results


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value < 100 else f"{value:.0f} s"


def size(value: float | None) -> str:
    if value is None:
        return "—"
    if value >= 2**30:
        return f"{value / 2**30:.2f} GiB"
    if value >= 2**20:
        return f"{value / 2**20:.1f} MiB"
    return f"{value / 2**10:.1f} KiB"


def ratio_to(results: dict, name: str, base: str = "modellens") -> float:
    return statistics.median(a / b for a, b in zip(results[name]["seconds"], results[base]["seconds"]))


def difference(ours: dict, theirs: dict) -> str:
    """Largest |ΔAUC| and |ΔAP| over the defined classes (and the micro averages when both have them)."""
    auc = np.nanmax(np.abs(np.asarray(ours["auc"]) - np.asarray(theirs["auc"])))
    ap = np.nanmax(np.abs(np.asarray(ours["ap"]) - np.asarray(theirs["ap"])))
    text = f"AUC {auc:.1e}, AP {ap:.1e}"
    if "micro_auc" in theirs:
        text += (
            f"; micro AUC {abs(ours['micro_auc'] - theirs['micro_auc']):.1e}, "
            f"AP {abs(ours['micro_ap'] - theirs['micro_ap']):.1e}"
        )
    return text


def row(results: dict, name: str, stored: str, agreement: str) -> list[str]:
    entry = results[name]
    times = entry["seconds"]
    memory = [m for m in entry["memory"] if m is not None]
    return [
        name,
        f"{seconds(statistics.median(times))} ({seconds(min(times))} – {seconds(max(times))})",
        "1×" if name == "modellens" else f"{ratio_to(results, name):.1f}×",
        size(statistics.median(memory)) if memory else "—",
        size(entry["bytes"][-1]) if entry["bytes"][-1] else "nothing written",
        stored,
        agreement,
    ]


HEADER = [
    "peer",
    "time, median (range)",
    "÷ ModelLens",
    "peak RSS above inputs",
    "bytes per step",
    "stored",
    "vs ModelLens",
]


def multiclass_case(samples: int, classes: int, repeats: int, default_threads: int) -> str:
    labels, scores = multiclass_data(samples, classes)
    names = [f"class {i}" for i in range(classes)]
    holder: dict = {}

    def recipe(logdir: str) -> dict:
        holder.clear()  # the previous round's curves
        found = recipe_curves(labels, scores)
        recipe_figure(logdir, found)
        holder["curves"] = found
        return {"auc": found["auc"], "ap": found["ap"]}

    peers = [
        ("modellens", lambda logdir: modellens_roc_pr(logdir, labels, scores, names)),
        ("scikit-learn (no writing)", lambda logdir: sklearn_multiclass(labels, scores)),
        ("matplotlib → add_figure", recipe),
    ]
    results = rounds(peers, repeats)
    ours = results["modellens"]["found"]
    reference = results["scikit-learn (no writing)"]["found"]
    recipe_found = results["matplotlib → add_figure"]["found"]
    rows = [
        row(
            results,
            "modellens",
            f"exact curves ≤ {ours['points']} points per class + micro"
            f" ({'exact' if ours['micro_exact'] else 'histogram'}), thresholds, counts",
            "—",
        ),
        row(results, "scikit-learn (no writing)", "nothing", difference(ours, reference)),
        row(
            results,
            "matplotlib → add_figure",
            "one PNG of both panels: no per-class hover, no thresholds",
            difference(ours, {"auc": recipe_found["auc"], "ap": recipe_found["ap"]}),
        ),
    ]
    auc = reference["auc"]
    title = (
        f"Logging ROC/PR curves, {classes:,} classes × {samples:,} samples (float32 softmax scores, "
        f"AUC {np.min(auc):.2f} – {np.max(auc):.2f}, micro AUC {reference['micro_auc']:.3f}); "
        f"medians of {repeats} paired rounds, torch threads pinned to 1"
    )
    out = table(title, HEADER, rows)
    out += "\n" + figure_threads_case(holder.pop("curves"), repeats, default_threads)
    return out


def figure_threads_case(found: dict, repeats: int, default: int) -> str:
    """The torch-dependent part of the recipe (figure drawn → add_figure) at 1 thread and at
    torch's default, on the same precomputed curves."""
    import torch

    timings: dict[int, list[float]] = {1: [], default: []}
    written = 0
    for round_ in range(repeats):
        for threads in (1, default) if round_ % 2 == 0 else (default, 1):
            torch.set_num_threads(threads)
            with tempfile.TemporaryDirectory() as logdir:
                start = time.perf_counter()
                recipe_figure(logdir, found)
                timings[threads].append(time.perf_counter() - start)
                written = directory_bytes(logdir)
    torch.set_num_threads(1)
    rows = [
        [f"{threads}", seconds(statistics.median(values)), f"{min(values):.2f} – {max(values):.2f} s", size(written)]
        for threads, values in timings.items()
    ]
    return table(
        f"The recipe's figure → add_figure part alone (same curves), torch threads 1 and default ({default}); "
        f"medians of {repeats}",
        ["torch threads", "time, median", "range", "bytes per step"],
        rows,
    )


def binary_case(sizes: tuple[int, ...], repeats: int) -> str:
    rows = []
    for samples in sizes:
        labels, scores = binary_data(samples)
        peers = [
            ("modellens", lambda logdir: modellens_roc_pr(logdir, labels, scores)),
            ("scikit-learn (no writing)", lambda logdir: sklearn_binary(labels, scores)),
        ]
        results = rounds(peers, repeats)
        ours, reference = results["modellens"]["found"], results["scikit-learn (no writing)"]["found"]
        for name, stored, agreement in (
            ("modellens", f"exact curve ≤ {ours['points']} points, thresholds, counts", "—"),
            ("scikit-learn (no writing)", "nothing", difference(ours, reference)),
        ):
            rows.append([f"{samples:,}", *row(results, name, stored, agreement)])
    return table(
        f"Logging a binary ROC/PR curve (float32 scores, 10 % positives); medians of {repeats} paired rounds",
        ["samples", *HEADER],
        rows,
    )


def main(
    samples: int = SAMPLES,
    classes: int = CLASSES,
    binary_sizes: tuple[int, ...] = BINARY_SAMPLES,
    repeats: int = REPEATS,
) -> str:
    import torch

    default_threads = torch.get_num_threads()
    torch.set_num_threads(1)
    warm_up()
    return multiclass_case(samples, classes, repeats, default_threads) + "\n" + binary_case(binary_sizes, repeats)


if __name__ == "__main__":
    print(main())
