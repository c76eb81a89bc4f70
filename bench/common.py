"""Helpers shared by the benchmarks: timing, percentiles and a result table."""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Callable, Sequence


def best_of(function: Callable[[], object], repeats: int = 5) -> float:
    """The fastest of ``repeats`` runs, in seconds (the least disturbed by the machine)."""
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        timings.append(time.perf_counter() - start)
    return min(timings)


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 of ``samples``."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def timed_get(get: Callable, path: str, params: dict, requests: int) -> tuple[float, float]:
    """p50 and p95 of ``requests`` GETs of a WSGI test client's route (each must answer 200)."""
    samples = []
    for _ in range(requests):
        start = time.perf_counter()
        response = get(path, query_string=params)
        response.get_data()
        samples.append(time.perf_counter() - start)
        assert response.status_code == 200, response.get_data(as_text=True)[:200]
    return percentiles(samples)


def directory_bytes(path: str) -> int:
    return sum(os.path.getsize(os.path.join(root, name)) for root, _, names in os.walk(path) for name in names)


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows)]

    def line(cells: list) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"

    out = [f"\n### {title}\n", line(header), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out.extend(line(row) for row in rows)
    return "\n".join(out)


def synthetic_distributions(rng, level, tensors: int):
    """One synthetic training-health step: ``tensors`` tensors whose scale follows ``level``
    (statistics only: the route and browser benchmarks time reading and drawing, not reducing)."""
    import numpy as np

    from modellens.distributions import Distributions
    from modellens.distributions.stats import BINS, Stats

    counts = np.zeros((tensors, 5), dtype=np.int64)
    counts[:, 0] = 2048
    spread = level * np.exp(rng.normal(0, 0.05, tensors))
    values = np.stack([-3 * spread, 3 * spread, rng.normal(0, 0.01, tensors) * spread, spread, spread * 45], axis=1)
    percentiles = np.outer(spread, [-2.3, -1.6, -0.7, 0, 0.7, 1.6, 2.3])
    centre = np.exp(-0.5 * np.linspace(-3, 3, BINS) ** 2)
    histograms = rng.poisson(np.outer(np.full(tensors, 2048 / centre.sum()), centre)).astype(np.int64)
    return Distributions(
        names=[f"layer{t // 4}.block{t % 4}.weight" for t in range(tensors)],
        shapes=[(256, 8)] * tensors,
        dtypes=["float32"] * tensors,
        stats=Stats(counts, values, percentiles, histograms),
        extras={"update_ratio": np.full(tensors, 1e-3)},
    )


def write_synthetic_run(
    run_dir: Path, *, tensors: int, steps: int, tags: Sequence[str], each_step: Callable | None = None
) -> None:
    """A run of ``steps`` synthetic steps of every tag; ``each_step(writer, rng, step)`` adds more."""
    import numpy as np

    import modellens
    from modellens import distributions

    rng = np.random.default_rng(0)
    level = np.full(tensors, 0.05)
    with modellens.Writer(run_dir) as writer:
        for step in range(steps):
            level = level * np.exp(rng.normal(0, 0.01, tensors))
            for tag in tags:
                writer._write(distributions.encode(tag, synthetic_distributions(rng, level, tensors)), step, None)
            if each_step is not None:
                each_step(writer, rng, step)
