"""Runs every benchmark and prints their tables (Markdown, ready for the README)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import browser_draw  # noqa: E402
import confusion_logging  # noqa: E402
import event_writing  # noqa: E402
import routes  # noqa: E402

if __name__ == "__main__":
    for module in (confusion_logging, event_writing, routes, browser_draw):
        print(module.main(), flush=True)
