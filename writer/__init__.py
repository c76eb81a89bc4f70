"""ModelLens: log what is inside your models, see it in TensorBoard.

``import modellens`` is cheap: the writer and its protobuf machinery load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = ["Writer", "__version__"]

if TYPE_CHECKING:
    from modellens._writer import Writer


_SUBMODULES = (
    "torch",
    "keras",
    "transformers",
    "distributions",
    "confusion_matrix",
    "graph",
    "attention",
    "curves",
    "predictions",
    "heatmap",
    "embeddings",
    "alerts",
)


def __getattr__(name: str) -> Any:
    if name == "Writer":
        from modellens._writer import Writer

        return Writer
    if name in _SUBMODULES:  # integrations import their framework only when used
        import importlib

        return importlib.import_module(f"modellens.{name}")
    raise AttributeError(f"module 'modellens' has no attribute {name!r}")
