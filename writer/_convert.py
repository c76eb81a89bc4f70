"""Turns numpy arrays, lists, and torch / TensorFlow / JAX tensors into numpy arrays."""

from __future__ import annotations

from typing import Any

import numpy as np


def to_numpy(value: Any, argument: str) -> np.ndarray:
    """A numpy view or copy of ``value``; never imports torch or TensorFlow itself."""
    if isinstance(value, np.ndarray):
        return value
    module = type(value).__module__ or ""
    if module.startswith("torch") and hasattr(value, "detach"):
        return value.detach().cpu().numpy()
    if hasattr(value, "numpy") and callable(value.numpy):  # TensorFlow eager tensors, Keras
        return np.asarray(value.numpy())
    try:
        return np.asarray(value)
    except (ValueError, TypeError) as error:
        raise TypeError(
            f"{argument} must be array-like (numpy array, list, torch or TensorFlow tensor); "
            f"got {type(value).__name__}: {error}"
        ) from None


def check_step(step: Any) -> int:
    """Steps are non-negative integers (TensorBoard orders records by them)."""
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"step must be a non-negative int, got {step!r} ({type(step).__name__})")
    if step < 0:
        raise ValueError(f"step must be a non-negative int, got {step}")
    return int(step)


def check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not tag.strip():
        raise TypeError(f"tag must be a non-empty str such as 'val/confusion', got {tag!r}")
    return tag
