"""HTTP routes of the Attention view. Thin: parse, read, respond. The step's header is JSON;
thumbnails and maps are binary (``modellens.attention.wire``), one request per drawn thing."""

from __future__ import annotations

import gzip
from typing import Any

from tensorboard import errors
from tensorboard.backend import http_util
from werkzeug import wrappers

from modellens import attention
from modellens._metadata import UnreadableRecord
from modellens.tb_plugin import query
from modellens.tb_plugin.data import Step
from modellens.tb_plugin.routes import Handler, KindRoutes


def _binary(request: wrappers.Request, payload: bytes) -> wrappers.Response:
    return http_util.Respond(request, gzip.compress(payload, 1), "application/octet-stream", content_encoding="gzip")


class AttentionRoutes(KindRoutes):
    slug = "attention"

    @staticmethod
    def summarize(item: Step) -> dict[str, Any]:
        """The sizes of a step (its header only is read)."""
        header = item.value
        return {"layers": header.layers, "heads": header.heads, "queries": header.queries, "keys": header.keys}

    @staticmethod
    def detail(item: Step) -> dict[str, Any]:
        """A step's header: sizes, tokens, layer names, the storage policy and its bound, scores."""
        header: attention.AttentionHeader = item.value
        return {
            "step": item.step,
            "wall_time": item.wall_time,
            "layers": header.layers,
            "heads": header.heads,
            "queries": header.queries,
            "keys": header.keys,
            "tokens": header.tokens,
            "query_tokens": header.query_tokens,
            "self_attention": header.self_attention,
            "layer_names": header.layer_names,
            "rows": header.rows,
            "cols": header.cols,
            "row_block": header.row_block,
            "col_block": header.col_block,
            "top_k": header.top_k,
            "quantization": header.quantization,
            "max_error": header.max_error,
            "score_names": header.score_names,
            "scores": header.scores.astype(float).tolist(),  # NaN (undefined) becomes null in respond()
            "rollout": header.rollout,
            "rollout_exact": header.rollout_exact,
            "thumbnail": {"rows": header.thumbnail_rows, "cols": header.thumbnail_cols},
        }

    def extra_routes(self) -> dict[str, Handler]:
        return {f"/{self.slug}/map": self._map, f"/{self.slug}/thumbnails": self._thumbnails}

    def _blob_payload(self, request: wrappers.Request, index_of, payload_of) -> bytes:
        key = self.run_tag(request)
        step = query.integer(request, "step")
        header = self.reader.step(*key, step).value
        index = index_of(header)
        blob = self.reader.blob(*key, step, index)
        try:
            return payload_of(header, blob)
        except UnreadableRecord as reason:
            raise errors.NotFoundError(f"step {step} of {key[2]!r}/{key[3]!r}: {reason}") from None

    @wrappers.Request.application
    def _map(self, request: wrappers.Request) -> wrappers.Response:
        layer = _layer(request)
        head = None if layer == "rollout" else _head(request)

        def index_of(header: attention.AttentionHeader) -> int:
            try:
                return attention.FIRST_MAP_BLOB + header.map_index(layer, head)
            except IndexError as reason:
                raise errors.NotFoundError(str(reason)) from None

        def payload_of(header: attention.AttentionHeader, blob: bytes) -> bytes:
            return attention.map_payload(header, header.map_index(layer, head), blob)

        return _binary(request, self._blob_payload(request, index_of, payload_of))

    @wrappers.Request.application
    def _thumbnails(self, request: wrappers.Request) -> wrappers.Response:
        return _binary(request, self._blob_payload(request, lambda header: 1, attention.thumbnails_payload))


def _layer(request: wrappers.Request) -> int | str:
    if request.args.get("layer") == "rollout":
        return "rollout"
    return query.integer(request, "layer")


def _head(request: wrappers.Request) -> int | str:
    if request.args.get("head") == "mean":
        return "mean"
    return query.integer(request, "head")
