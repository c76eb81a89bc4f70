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


_INT64_MAX = 2**63 - 1


def check_step(step: Any) -> int:
    """Steps are non-negative integers that fit an int64 (TensorBoard orders records by them)."""
    if isinstance(step, (bool, np.bool_)) or not isinstance(step, (int, np.integer)):
        raise TypeError(f"step must be a non-negative int, got {step!r} ({type(step).__name__})")
    if step < 0 or step > _INT64_MAX:
        raise ValueError(f"step must be a non-negative int up to 2**63 - 1, got {step}")
    return int(step)


def check_tag(tag: Any) -> str:
    if not isinstance(tag, str) or not tag.strip():
        raise TypeError(f"tag must be a non-empty str such as 'val/confusion', got {tag!r}")
    try:
        tag.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(f"tag {tag!r} is not valid Unicode text (it holds a lone surrogate)") from None
    return tag


def check_wall_time(wall_time: Any) -> float | None:
    """``None`` (now) or seconds since the epoch, a finite non-negative number."""
    if wall_time is None:
        return None
    if isinstance(wall_time, (bool, np.bool_)) or not isinstance(wall_time, (int, float, np.integer, np.floating)):
        raise TypeError(f"wall_time must be seconds since the epoch (a number) or None, got {wall_time!r}")
    value = float(wall_time)
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"wall_time must be a finite, non-negative number of seconds, got {wall_time!r}")
    return value
