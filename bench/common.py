"""Helpers shared by the benchmarks: timing, percentiles and a result table."""

from __future__ import annotations

import os
import statistics
import time
from typing import Callable


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
