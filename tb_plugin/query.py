"""Query-parameter parsing shared by the routes: anything wrong is a 400 with a reason."""

from __future__ import annotations

from tensorboard import errors
from werkzeug import wrappers


def required(request: wrappers.Request, name: str) -> str:
    value = request.args.get(name)
    if value is None or value == "":
        raise errors.InvalidArgumentError(f"missing query parameter {name!r}")
    return value


def integer(request: wrappers.Request, name: str) -> int:
    text = required(request, name)
    try:
        value = int(text, 10)
    except ValueError:
        raise errors.InvalidArgumentError(f"query parameter {name!r} must be an integer, got {text!r}") from None
    return value
