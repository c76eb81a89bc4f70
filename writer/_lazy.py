"""Module attributes built on first access: integration classes that subclass a framework's
class (``keras.callbacks.Callback``, ``transformers.TrainerCallback``) exist only once asked for,
so importing the integration imports no framework."""

from __future__ import annotations

import sys
from typing import Any, Callable


def built_on_access(module_name: str, builders: dict[str, Callable[[], Any]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that builds ``name`` with ``builders[name]()`` once and keeps it."""

    def __getattr__(name: str) -> Any:
        if name in builders:
            value = builders[name]()
            setattr(sys.modules[module_name], name, value)
            return value
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__
