"""Serves the dashboard bundle from a fixed allowlist; no path is ever built from the URL."""

from __future__ import annotations

import os

from tensorboard import errors
from tensorboard.backend import http_util
from werkzeug import wrappers

_STATIC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "static")
_FILES = {
    "/index.js": ("index.js", "text/javascript"),
    # the Structure view's layout worker (a worker must come from a same-origin script file)
    "/graph_worker.js": ("graph_worker.js", "text/javascript"),
}


def routes() -> dict[str, object]:
    return {route: _serve(name, content_type) for route, (name, content_type) in _FILES.items()}


def _serve(name: str, content_type: str):
    path = os.path.join(_STATIC, name)

    @wrappers.Request.application
    def serve(request: wrappers.Request) -> wrappers.Response:
        try:
            with open(path, "rb") as handle:
                content = handle.read()
        except FileNotFoundError:
            raise errors.NotFoundError(
                f"the ModelLens dashboard bundle {name} is missing; reinstall modellens with Node.js present"
            ) from None
        return http_util.Respond(request, content, content_type)

    return serve
