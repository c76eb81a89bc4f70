"""Runs every benchmark and prints their tables (Markdown, ready for the README)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import attention_browser  # noqa: E402
import attention_capture  # noqa: E402
import browser_draw  # noqa: E402
import confusion_logging  # noqa: E402
import curves_logging  # noqa: E402
import distributions_routes  # noqa: E402
import distributions_stats  # noqa: E402
import evaluation_browser  # noqa: E402
import evaluation_routes  # noqa: E402
import event_writing  # noqa: E402
import graph_browser  # noqa: E402
import graph_capture  # noqa: E402
import routes  # noqa: E402
import watch_overhead  # noqa: E402

if __name__ == "__main__":
    for module in (
        confusion_logging,
        distributions_stats,
        watch_overhead,
        event_writing,
        routes,
        distributions_routes,
        browser_draw,
        graph_capture,
        graph_browser,
        attention_capture,
        attention_browser,
        curves_logging,
        evaluation_routes,
        evaluation_browser,
    ):
        print(module.main(), flush=True)
