"""Query-parameter parsing shared by the routes: anything wrong is a 400 with a reason."""

from __future__ import annotations

import re

from tensorboard import errors
from werkzeug import wrappers

_PLAIN_INTEGER = re.compile(r"-?[0-9]+\Z", re.ASCII)  # not "+3", " 3", "03", "٣", "３"


def required(request: wrappers.Request, name: str) -> str:
    value = request.args.get(name)
    if value is None or value == "":
        raise errors.InvalidArgumentError(f"missing query parameter {name!r}")
    return value


def integer(request: wrappers.Request, name: str) -> int:
    """A plain decimal integer: ASCII digits, an optional leading '-', no leading zeros."""
    text = required(request, name)
    if len(text) > 40:
        raise errors.InvalidArgumentError(f"query parameter {name!r} is {len(text)} characters long; no step is")
    if not _PLAIN_INTEGER.match(text) or (text.lstrip("-").startswith("0") and text.lstrip("-") != "0"):
        raise errors.InvalidArgumentError(f"query parameter {name!r} must be a plain integer, got {text!r}")
    return int(text)


def choice(request: wrappers.Request, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.args.get(name) or default
    if value not in allowed:
        raise errors.InvalidArgumentError(
            f"query parameter {name!r} must be one of {', '.join(allowed)}; got {value!r}"
        )
    return value


def positive_number(request: wrappers.Request, name: str, default: float) -> float:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not (value > 0 and value != float("inf")):
        raise errors.InvalidArgumentError(f"query parameter {name!r} must be a positive number, got {text!r}")
    return value
