"""Route latency of the evaluation views (ROC/PR curves, Predictions, Tensors heatmaps, Alerts)
over both TensorBoard data providers, in-process WSGI (``tests/harness.py``'s ``Served``).

The logdir (written once, by the public ``Writer`` methods):

- ``curves``: ``val/roc_pr``, 20 steps × 1,000 classes × 50,000 samples (softmax scores as in
  ``curves_logging.py``, the separation growing over the steps and ten classes collapsing after
  step 14, so the Alerts page has ``auc_drop`` findings); every stored class curve is at the
  2,000-point cap, as it would be at 100,000 samples. Also ``train/accuracy`` and
  ``val/accuracy`` scalars that overfit (the ``overfitting`` finding);
- ``regression``: ``val/50k`` (5 steps of 50,000 points: every point stored) and ``val/10M``
  (one step of 10 M points: the 128 × 128 density only);
- ``classification``: ``val/predictions``, 5 steps of 100,000 samples × 10 classes;
- ``heatmap``: ``weights/1024`` (a 1024 × 1024 float32 matrix, stored exactly) and
  ``weights/4096`` (4096 × 4096, block-reduced to 1024 × 1024 mean/min/max), a few NaN and ±Inf
  cells in each.

Per route: the first request on a freshly loaded Python provider (nothing cached; "—" for the
Rust provider, whose first request is made while waiting for the data), then p50 and p95 of
``REQUESTS`` requests, each asking for gzip as a browser does (the time includes compressing);
and the response's bytes, gzipped (as sent) and as JSON.
"""

from __future__ import annotations

import gzip
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import percentiles, table  # noqa: E402

CLASSES = 1000
CURVE_SAMPLES = 50_000
CURVE_STEPS = 20
COLLAPSING = 10  # classes whose AUC falls after COLLAPSE_STEP
COLLAPSE_STEP = 14
EXACT_POINTS = 50_000
DENSITY_POINTS = 10_000_000
REGRESSION_STEPS = 5
CLASSIFICATION = (100_000, 10)
CLASSIFICATION_STEPS = 5
HEATMAP_SIDES = (1024, 4096)
REQUESTS = 20
GZIP = {"Accept-Encoding": "gzip"}


# ---------------------------------------------------------------------------- the logs


def softmax_rows(scores: np.ndarray) -> np.ndarray:
    """Softmax per row, in place, in row chunks (float32)."""
    for start in range(0, scores.shape[0], 10_000):
        rows = scores[start : start + 10_000]
        rows -= rows.max(axis=1, keepdims=True)
        np.exp(rows, out=rows)
        rows /= rows.sum(axis=1, keepdims=True)
    return scores


def curve_step(rng, step: int, samples: int = CURVE_SAMPLES, classes: int = CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """Labels and softmax scores of one evaluation: separation grows with the class and the step;
    the first ``COLLAPSING`` classes lose it after ``COLLAPSE_STEP``."""
    labels = rng.integers(0, classes, samples)
    signal = np.linspace(0.45, 3.2, classes, dtype=np.float32) * np.float32(0.6 + 0.4 * step / (CURVE_STEPS - 1))
    if step > COLLAPSE_STEP:
        signal[:COLLAPSING] *= 0.3
    scores = rng.standard_normal((samples, classes), dtype=np.float32)
    scores[np.arange(samples), labels] += signal[labels]
    return labels, softmax_rows(scores)


def write_curves(run_dir: Path, steps: int = CURVE_STEPS, samples: int = CURVE_SAMPLES, classes: int = CLASSES) -> None:
    import modellens

    rng = np.random.default_rng(0)
    names = [f"class {i}" for i in range(classes)]
    with modellens.Writer(run_dir) as writer:
        for step in range(steps):
            labels, scores = curve_step(rng, step, samples, classes)
            writer.roc_pr("val/roc_pr", labels, scores, step=step, class_names=names)
            train = 0.6 + 0.02 * step
            val = 0.6 + 0.02 * min(step, 10) - 0.01 * max(0, step - 10)
            writer.scalar("train/accuracy", train, step=step)
            writer.scalar("val/accuracy", val, step=step)


def regression_pair(rng, samples: int, step: int) -> tuple[np.ndarray, np.ndarray]:
    truth = rng.gamma(2.0, 1.5, samples)
    noise = rng.standard_normal(samples) * (0.2 + 0.15 * truth) / (1 + 0.2 * step)
    return truth, truth * 0.95 + 0.1 + noise


def write_regression(run_dir: Path) -> None:
    import modellens

    rng = np.random.default_rng(1)
    with modellens.Writer(run_dir) as writer:
        for step in range(REGRESSION_STEPS):
            truth, pred = regression_pair(rng, EXACT_POINTS, step)
            writer.predictions("val/50k", truth, pred, step=step, ids=[f"sample {i}" for i in range(EXACT_POINTS)])
        truth, pred = regression_pair(rng, DENSITY_POINTS, 0)
        writer.predictions("val/10M", truth, pred, step=0)


def write_classification(run_dir: Path) -> None:
    import modellens

    rng = np.random.default_rng(2)
    samples, classes = CLASSIFICATION
    names = [f"class {i}" for i in range(classes)]
    with modellens.Writer(run_dir) as writer:
        for step in range(CLASSIFICATION_STEPS):
            labels = rng.integers(0, classes, samples)
            logits = rng.standard_normal((samples, classes)) * 1.5
            logits[np.arange(samples), labels] += 1.0 + 0.5 * step
            writer.predictions("val/predictions", labels, logits, step=step, logits=True, class_names=names)


def heatmap_tensor(rng, side: int) -> np.ndarray:
    values = rng.standard_normal((side, side), dtype=np.float32) * np.linspace(0.01, 0.2, side, dtype=np.float32)
    values[rng.integers(0, side, 8), rng.integers(0, side, 8)] = np.nan
    values[rng.integers(0, side, 4), rng.integers(0, side, 4)] = np.inf
    values[rng.integers(0, side, 4), rng.integers(0, side, 4)] = -np.inf
    return values


def write_heatmaps(run_dir: Path) -> None:
    import modellens

    rng = np.random.default_rng(3)
    with modellens.Writer(run_dir) as writer:
        for side in HEATMAP_SIDES:
            writer.tensor_heatmap(f"weights/{side}", heatmap_tensor(rng, side), step=0, layout="matrix")


def write_logs(logdir: Path) -> None:
    write_curves(logdir / "curves")
    write_regression(logdir / "regression")
    write_classification(logdir / "classification")
    write_heatmaps(logdir / "heatmap")


# ---------------------------------------------------------------------------- routes

BASE = "/data/plugin/modellens"


def cases() -> list[tuple[str, str, dict]]:
    """(name, route, query) of every timed route, at the sizes of the module constants."""
    return [
        (
            f"curves/series: {CURVE_STEPS} steps × {CLASSES:,} classes",
            "curves/series",
            {"run": "curves", "tag": "val/roc_pr"},
        ),
        (
            f"curves/step: {CLASSES:,} classes",
            "curves/step",
            {"run": "curves", "tag": "val/roc_pr", "step": CURVE_STEPS - 1},
        ),
        (
            "curves/curve: one class",
            "curves/curve",
            {"run": "curves", "tag": "val/roc_pr", "step": CURVE_STEPS - 1, "class": CLASSES // 2},
        ),
        (
            "curves/curve: micro",
            "curves/curve",
            {"run": "curves", "tag": "val/roc_pr", "step": CURVE_STEPS - 1, "class": "micro"},
        ),
        (
            f"predictions/step: regression, {EXACT_POINTS:,} points (exact)",
            "predictions/step",
            {"run": "regression", "tag": "val/50k", "step": REGRESSION_STEPS - 1},
        ),
        (
            "predictions/step: regression, 10 M points (density)",
            "predictions/step",
            {"run": "regression", "tag": "val/10M", "step": 0},
        ),
        (
            f"predictions/step: classification, {CLASSIFICATION[0]:,} × {CLASSIFICATION[1]}",
            "predictions/step",
            {"run": "classification", "tag": "val/predictions", "step": CLASSIFICATION_STEPS - 1},
        ),
        ("heatmap/step: 1024² exact", "heatmap/step", {"run": "heatmap", "tag": "weights/1024", "step": 0}),
        ("heatmap/step: 4096² reduced to 1024²", "heatmap/step", {"run": "heatmap", "tag": "weights/4096", "step": 0}),
        ("alerts: every run", "alerts", {}),
    ]


def ready(served) -> bool:
    """Every step of every tag has arrived (the Rust provider loads in the background)."""
    want = [
        ("curves", {"run": "curves", "tag": "val/roc_pr"}, CURVE_STEPS),
        ("predictions", {"run": "regression", "tag": "val/50k"}, REGRESSION_STEPS),
        ("predictions", {"run": "regression", "tag": "val/10M"}, 1),
        ("predictions", {"run": "classification", "tag": "val/predictions"}, CLASSIFICATION_STEPS),
        *(("heatmap", {"run": "heatmap", "tag": f"weights/{side}"}, 1) for side in HEATMAP_SIDES),
    ]
    for slug, params, steps in want:
        response = served.get(f"/{slug}/series", **params)
        if response.status_code != 200 or len(response.get_json()["steps"]) < steps:
            return False
    return True


def request(client, route: str, params: dict) -> tuple[float, int, int]:
    """Seconds, gzipped bytes and JSON bytes of one GET that asks for gzip (must answer 200)."""
    start = time.perf_counter()
    response = client.get(f"{BASE}/{route}", query_string=params, headers=GZIP)
    data = response.get_data()
    seconds = time.perf_counter() - start
    assert response.status_code == 200, (route, params, response.status_code, data[:200])
    raw = gzip.decompress(data) if response.headers.get("Content-Encoding") == "gzip" else data
    return seconds, len(data), len(raw)


def size(value: int) -> str:
    if value >= 2**20:
        return f"{value / 2**20:.1f} MiB"
    return f"{value / 2**10:.1f} KiB"


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def main() -> str:
    from harness import Served

    rows = []
    alerts_found = None
    with tempfile.TemporaryDirectory() as directory:
        logdir = Path(directory)
        start = time.perf_counter()
        write_logs(logdir)
        print(f"  logs written in {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
        for kind in ("rust", "python"):
            served = Served(logdir, kind)
            served.wait_for(lambda: ready(served), timeout=900)
            fresh = Served(logdir, kind) if kind == "python" else None  # loaded synchronously, nothing cached
            for name, route, params in cases():
                first = "—"
                if fresh is not None:
                    first = ms(request(fresh.client, route, params)[0])
                samples = []
                for _ in range(REQUESTS):
                    seconds, sent, raw = request(served.client, route, params)
                    samples.append(seconds)
                p50, p95 = percentiles(samples)
                rows.append([kind, name, first, ms(p50), ms(p95), size(sent), size(raw)])
                print(f"  {kind} {name}: p50 {ms(p50)}", file=sys.stderr, flush=True)
            if alerts_found is None:
                body = served.json("/alerts")
                codes: dict[str, int] = {}
                for alert in body["alerts"]:
                    codes[alert["code"]] = codes.get(alert["code"], 0) + 1
                alerts_found = ", ".join(f"{count} {code}" for code, count in sorted(codes.items())) or "none"
            served.close()
            if fresh is not None:
                fresh.close()
    return table(
        f"Evaluation routes ({REQUESTS} requests each, in-process WSGI, gzip accepted; alerts found: {alerts_found})",
        ["data provider", "route", "first (uncached)", "p50", "p95", "response (gzip)", "response (JSON)"],
        rows,
    )


if __name__ == "__main__":
    print(main())
