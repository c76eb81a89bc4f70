"""Route latency (first request, then p50 and p95 of repeats) of the confusion-matrix routes over
both TensorBoard data providers: a 5000-step × 100-class series and one of its steps, and one
1000 × 1000 step. TensorBoard's own scalars route over
the same 1000 steps is timed beside them as the reference point."""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import table, timed_get  # noqa: E402

STEPS = 5000
CLASSES = 100
BIG = 1000
REQUESTS = 30


def write_logs(logdir: Path) -> None:
    import modellens

    rng = np.random.default_rng(0)
    with modellens.Writer(logdir / "series") as writer:
        for step in range(STEPS):
            truth = rng.integers(0, CLASSES, 2000)
            predicted = np.where(rng.random(2000) < 0.3, rng.integers(0, CLASSES, 2000), truth)
            writer.confusion_matrix("val/confusion", truth, predicted, labels=np.arange(CLASSES), step=step)
            writer.scalar("loss", 1.0 / (step + 1), step=step)
    with modellens.Writer(logdir / "big") as writer:
        truth = rng.integers(0, BIG, 200_000)
        predicted = np.where(rng.random(200_000) < 0.3, rng.integers(0, BIG, 200_000), truth)
        writer.confusion_matrix("val/confusion", truth, predicted, labels=np.arange(BIG), step=0)


def main() -> str:
    from tensorboard.backend import application
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.scalar import scalars_plugin

    from harness import Served

    rows = []
    with tempfile.TemporaryDirectory() as directory:
        logdir = Path(directory)
        write_logs(logdir)
        for kind in ("rust", "python"):
            served = Served(logdir, kind)
            served.wait_for(
                lambda: (
                    len(served.json("/confusion/series", run="series", tag="val/confusion")["steps"]) == STEPS
                    and served.get("/confusion/step", run="big", tag="val/confusion", step=0).status_code == 200
                ),
                timeout=300,
            )
            provider = served.client.application._data_provider
            context = base_plugin.TBContext(data_provider=provider, logdir=str(logdir))
            scalars = application.TensorBoardWSGI([scalars_plugin.ScalarsPlugin(context)], data_provider=provider)
            from werkzeug.test import Client

            scalar_client = Client(scalars)
            cases = [
                (
                    f"{STEPS}-step × {CLASSES}-class series",
                    served.client.get,
                    "/data/plugin/modellens/confusion/series",
                    {"run": "series", "tag": "val/confusion"},
                ),
                (
                    f"one {CLASSES}-class step",
                    served.client.get,
                    "/data/plugin/modellens/confusion/step",
                    {"run": "series", "tag": "val/confusion", "step": STEPS // 2},
                ),
                (
                    f"one {BIG} × {BIG} step",
                    served.client.get,
                    "/data/plugin/modellens/confusion/step",
                    {"run": "big", "tag": "val/confusion", "step": 0},
                ),
                (
                    f"TensorBoard scalars, {STEPS} steps (reference)",
                    scalar_client.get,
                    "/data/plugin/scalars/scalars",
                    {"run": "series", "tag": "loss"},
                ),
            ]
            fresh = Served(logdir, kind) if kind == "python" else None  # loaded synchronously, nothing cached
            for name, get, path, params in cases:
                first = "—"
                if fresh is not None and "modellens" in path:
                    start = time.perf_counter()
                    fresh.client.get(path, query_string=params).get_data()
                    first = f"{(time.perf_counter() - start) * 1000:.0f} ms"
                p50, p95 = timed_get(get, path, params, REQUESTS)
                rows.append([kind, name, first, f"{p50 * 1000:.0f} ms", f"{p95 * 1000:.0f} ms"])
            served.close()
    return table(
        f"Confusion routes ({REQUESTS} requests each, in-process WSGI)",
        ["data provider", "route", "first (uncached)", "p50", "p95"],
        rows,
    )


if __name__ == "__main__":
    print(main())
