"""Route latency (p50, p95) of the Training health routes over both TensorBoard data providers,
at the scale of the issue: one run of 3 tags × 161 tensors (ResNet-50's parameter count) × 2,000
logged steps. TensorBoard's own histograms route over one 2,000-step tag is the reference.

The statistics are synthetic (a random walk per tensor, encoded as ModelLens records): what is
timed is reading, caching and shaping, not computing statistics (see distributions_stats.py).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from common import table, timed_get, write_synthetic_run  # noqa: E402

TENSORS = 161
STEPS = 2000
TAGS = ("weights", "gradients", "updates")
REQUESTS = 10


def write_logs(logdir: Path) -> None:
    def reference(writer, rng, step):
        writer.histogram("reference/histogram", rng.normal(size=2048), step=step)

    write_synthetic_run(logdir / "big", tensors=TENSORS, steps=STEPS, tags=TAGS, each_step=reference)


def main() -> str:
    from tensorboard.backend import application
    from tensorboard.plugins import base_plugin
    from tensorboard.plugins.histogram import histograms_plugin
    from werkzeug.test import Client

    from harness import Served

    rows = []
    with tempfile.TemporaryDirectory() as directory:
        logdir = Path(directory)
        write_logs(logdir)
        for kind in ("rust", "python"):
            served = Served(logdir, kind)
            served.wait_for(
                lambda: len(served.json("/distributions/series", run="big", tag="updates")["steps"]) == STEPS,
                timeout=300,
            )
            provider = served.client.application._data_provider
            context = base_plugin.TBContext(data_provider=provider, logdir=str(logdir))
            reference = Client(
                application.TensorBoardWSGI([histograms_plugin.HistogramsPlugin(context)], data_provider=provider)
            )
            base = "/data/plugin/modellens/distributions"
            cases = [
                (
                    "heatmap: series, one metric",
                    served.client.get,
                    f"{base}/series",
                    {"run": "big", "tag": "gradients", "metric": "norm"},
                ),
                (
                    "one tensor, every step",
                    served.client.get,
                    f"{base}/tensor",
                    {"run": "big", "tag": "gradients", "name": "layer20.block0.weight"},
                ),
                (
                    "one step, every tensor",
                    served.client.get,
                    f"{base}/step",
                    {"run": "big", "tag": "gradients", "step": 1000},
                ),
                ("verdicts of the run", served.client.get, f"{base}/verdicts", {"run": "big"}),
                (
                    "TensorBoard histograms, one tag (reference)",
                    reference.get,
                    "/data/plugin/histograms/histograms",
                    {"run": "big", "tag": "reference/histogram"},
                ),
            ]
            for name, get, path, params in cases:
                first = time.perf_counter()
                get(path, query_string=params).get_data()
                first = time.perf_counter() - first
                p50, p95 = timed_get(get, path, params, REQUESTS)
                rows.append([kind, name, f"{first * 1000:.0f} ms", f"{p50 * 1000:.0f} ms", f"{p95 * 1000:.0f} ms"])
            served.close()
    return table(
        f"Training health routes, {len(TAGS)} tags × {TENSORS} tensors × {STEPS} steps ({REQUESTS} requests each, in-process)",
        ["data provider", "route", "first (uncached)", "p50", "p95"],
        rows,
    )


if __name__ == "__main__":
    print(main())
