"""Keras 3 ``MultiHeadAttention`` scores on a held example: each layer's ``call`` is wrapped to
compute its scores, which are reduced into ``modellens.attention.Collector`` objects as each
layer runs (``modellens.keras.Callback(attention_example=...)`` is the public entry point)."""

from __future__ import annotations

from typing import Any, Callable

from modellens.attention.reduce import Collector

_ABSENT = object()


def attention_layers(keras: Any, model: Any) -> list[tuple[str, Any]]:
    """``(name, layer)`` of every ``keras.layers.MultiHeadAttention`` in ``model``, nested
    models and layers included (a nested one is named ``outer/inner``), each once."""
    found: list[tuple[str, Any]] = []
    seen: set[int] = set()

    def visit(layer: Any, prefix: str) -> None:
        for child in layer._flatten_layers(include_self=False, recursive=False):
            if id(child) in seen:
                continue
            seen.add(id(child))
            name = prefix + str(child.name)
            if isinstance(child, keras.layers.MultiHeadAttention):
                found.append((name, child))
            else:
                visit(child, name + "/")

    visit(model, "")
    return found


def _wrapped_call(original: Any, name: str, on_scores: Callable[[str, Any], None]) -> Any:
    """``original`` (a layer's ``call``) made to compute its attention scores, handed to
    ``on_scores(name, scores)``; the caller gets the output it asked for."""
    import inspect

    signature = inspect.signature(original)

    def call(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        asked = bool(bound.arguments.get("return_attention_scores", False))
        bound.arguments["return_attention_scores"] = True
        output, scores = original(*bound.args, **bound.kwargs)
        on_scores(name, scores)
        return (output, scores) if asked else output

    return call


def capture(model: Any, x: Any, on_scores: Callable[[str, Any], None]) -> None:
    """Calls ``model(x, training=False)`` eagerly with every ``MultiHeadAttention`` layer's
    ``call`` wrapped to compute its attention scores, handed to ``on_scores(layer name,
    scores)`` as each layer runs (a layer called twice: ``name``, then ``name#1``). Scores are
    the softmax output before dropout, what ``layer(q, v, return_attention_scores=True)``
    returns: ``[batch, heads, queries, keys]`` (more axes with custom ``attention_axes``). Each
    layer's ``call`` and flash-attention flag (off while capturing: flash attention computes no
    scores) are restored afterwards, also on error."""
    import keras

    layers = attention_layers(keras, model)
    if not layers:
        raise ValueError(
            f"model {getattr(model, 'name', type(model).__name__)!r} has no keras.layers.MultiHeadAttention "
            "layer; drop attention_example, or log attention with Writer.attention"
        )
    counts: dict[str, int] = {}

    def numbered(name: str, scores: Any) -> None:
        k = counts.get(name, 0)
        counts[name] = k + 1
        on_scores(name if k == 0 else f"{name}#{k}", scores)

    saved: list[tuple[Any, Any, Any]] = []
    try:
        for name, layer in layers:
            saved.append((layer, layer.__dict__.get("call", _ABSENT), layer.__dict__.get("_flash_attention", _ABSENT)))
            layer.__dict__["call"] = _wrapped_call(layer.call, name, numbered)
            if getattr(layer, "_flash_attention", False):
                layer.__dict__["_flash_attention"] = False
        model(x, training=False)
    finally:
        for layer, call, flash in reversed(saved):
            for attribute, value in (("call", call), ("_flash_attention", flash)):
                if value is _ABSENT:
                    layer.__dict__.pop(attribute, None)
                else:
                    layer.__dict__[attribute] = value


def records(
    model: Any, x: Any, tokens: list[str], query_tokens: list[str] | None, tag: str = "attention"
) -> tuple[list[tuple[str, Any]], list[str]]:
    """``([(tag, Collector)], skipped layer descriptions)``: the model's attention on ``x``
    (its first sample), reduced layer by layer as each runs. Layers of one shape
    ``[heads, queries, keys]`` share a record; the first group matching the tokens is written
    under ``tag``, any other matching group under ``"<tag>/<its first layer>"``."""
    queries = len(query_tokens) if query_tokens is not None else len(tokens)
    groups: dict[tuple[int, ...], tuple[str, Any]] = {}
    skipped: list[str] = []

    def on_scores(name: str, scores: Any) -> None:
        shape = tuple(int(d) if d is not None else -1 for d in getattr(scores, "shape", ()))
        if not hasattr(scores, "numpy") or len(shape) != 4:
            skipped.append(f"{name} (scores {list(shape)}, not eager [batch, heads, queries, keys])")
            return
        if shape[2] != queries or shape[3] != len(tokens):
            skipped.append(f"{name} ({shape[2]} queries × {shape[3]} keys)")
            return
        key = shape[1:]
        if key not in groups:
            tag_of = tag if not groups else f"{tag}/{name}"
            groups[key] = (tag_of, Collector(batch_index=0))
        groups[key][1].add(scores, name=name)

    capture(model, x, on_scores)
    return list(groups.values()), skipped
