"""Hugging Face transformers 5 integration: attention maps of a ``PreTrainedModel``.

    modellens.transformers.log_attention(writer, model, inputs, tokens=tokens, step=step)
    trainer = Trainer(..., callbacks=[modellens.transformers.AttentionCallback(writer, inputs, tokens=tokens)])

transformers 5 builds models with the ``sdpa`` attention implementation by default, and then
``output_attentions=True`` returns an empty tuple (with only a log warning). ``log_attention``
therefore runs one forward pass of its own with the ``eager`` implementation, set for that pass
with ``model.set_attn_implementation("eager")`` and put back afterwards (every config's setting
restored as it was, also when the forward raises).

How it captures: the attention modules a model declares in ``_can_record_outputs`` (the
``"attentions"`` and ``"cross_attentions"`` entries transformers itself uses for
``output_attentions``: ``BertSelfAttention``, ``GPT2Attention``, T5's ``T5LayerSelfAttention``
and ``T5LayerCrossAttention``, ...) return their weights as one element of their output under
``eager``. A forward hook on each of them reduces that layer's weights into a
``modellens.attention.Collector`` as soon as the layer has run, so a long sequence never holds
every layer's float maps (BERT-base at 2,048 tokens: 2.4 GB with ``output_attentions=True``).
The pass runs with ``output_attentions=False``, so transformers keeps no tuple of its own. A
model that declares no such modules (older remote code) is run with ``output_attentions=True``
and the returned tuples are used instead.

The pass runs under ``torch.no_grad()`` in **eval mode** (dropout off: eager attention applies
dropout to the weights it returns in training mode); every module's train/eval flag is restored
afterwards. It is an extra forward on one held example, so it costs about one inference step.

This module imports nothing heavy: torch and transformers load on first use.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from contextlib import contextmanager
from typing import Any, Iterator, Sequence

from modellens._lazy import built_on_access

__all__ = ["log_attention", "AttentionCallback", "DEFAULT_TAG"]  # noqa: F822 (AttentionCallback is made on first access)

#: The tag written when none is given (``<tag>/encoder``, ``/decoder``, ``/cross`` for encoder-decoder models).
DEFAULT_TAG = "attention"
_NEEDS = "modellens.transformers needs transformers: pip install 'modellens[transformers]'"


def _import() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as error:
        raise ImportError(_NEEDS) from error
    return torch, transformers


# ---------------------------------------------------------------------------- checks


def _check_tokens(tokens: Any, argument: str) -> list[str]:
    if isinstance(tokens, str) or not isinstance(tokens, Sequence):
        raise TypeError(f"{argument} must be a list of str (one per token, e.g. tokenizer.convert_ids_to_tokens(ids))")
    tokens = list(tokens)
    for i, token in enumerate(tokens):
        if not isinstance(token, str):
            raise TypeError(f"{argument}[{i}] is a {type(token).__name__}, not a str; give every token as text")
    return tokens


def _check_int(value: Any, argument: str, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{argument} must be an int >= {minimum}, got {value!r}")
    return int(value)


def _check_tag(tag: Any) -> str:
    if tag is None:
        return DEFAULT_TAG
    if not isinstance(tag, str) or not tag.strip("/"):
        raise ValueError(f"tag must be a non-empty str such as 'attention', got {tag!r}")
    return tag.rstrip("/")


def _check_inputs(inputs: Any) -> dict[str, Any]:
    if not isinstance(inputs, Mapping):
        raise TypeError(
            "inputs must be a dict of the model's keyword arguments, such as a tokenizer's output "
            f"(input_ids, attention_mask, ...), got {type(inputs).__name__}"
        )
    return {str(key): value for key, value in inputs.items()}


def _length(value: Any) -> int | None:
    shape = getattr(value, "shape", None)
    return int(shape[-1]) if shape is not None and len(shape) >= 1 else None


def _batch(inputs: dict[str, Any]) -> int | None:
    for key in ("input_ids", "inputs_embeds", "decoder_input_ids", "pixel_values"):
        shape = getattr(inputs.get(key), "shape", None)
        if shape is not None and len(shape) >= 2:
            return int(shape[0])
    return None


def _check_lengths(inputs: dict[str, Any], tokens: list[str], decoder_tokens: list[str] | None) -> None:
    """Token counts against the inputs before any forward (so nothing runs or is written)."""
    ids = inputs.get("input_ids")
    n = _length(ids)
    if n is None and getattr(inputs.get("inputs_embeds"), "ndim", 0) >= 2:
        n = int(inputs["inputs_embeds"].shape[-2])
    if n is not None and n != len(tokens):
        raise ValueError(
            f"tokens has {len(tokens)} entries but the inputs have {n} tokens per sample; "
            "give one token string per input position (padding included)"
        )
    if decoder_tokens is None:
        return
    m = _length(inputs.get("decoder_input_ids"))
    if m is None:
        m = _length(inputs.get("labels"))
    if m is None and getattr(inputs.get("decoder_inputs_embeds"), "ndim", 0) >= 2:
        m = int(inputs["decoder_inputs_embeds"].shape[-2])
    if m is None:
        raise ValueError(
            "inputs has no decoder_input_ids (nor labels) for this encoder-decoder model; add "
            "decoder_input_ids (e.g. model._shift_right(labels)) matching decoder_tokens"
        )
    if m != len(decoder_tokens):
        raise ValueError(
            f"decoder_tokens has {len(decoder_tokens)} entries but the decoder inputs have {m} tokens per "
            "sample; give one token string per decoder position"
        )


# ---------------------------------------------------------------------------- state


def _configs(transformers: Any, model: Any) -> list[Any]:
    """Every config the model's modules read their attention implementation from."""
    base = transformers.PretrainedConfig
    found: dict[int, Any] = {}
    queue = [getattr(module, "config", None) for module in model.modules()]
    while queue:
        config = queue.pop()
        if not isinstance(config, base) or id(config) in found:
            continue
        found[id(config)] = config
        for key in getattr(config, "sub_configs", {}) or {}:
            queue.append(getattr(config, key, None))
    return list(found.values())


@contextmanager
def _eager(transformers: Any, model: Any) -> Iterator[None]:
    """The ``eager`` attention implementation inside; each config's own setting restored after."""
    configs = _configs(transformers, model)
    saved = [(config, config.__dict__.get("_attn_implementation_internal")) for config in configs]
    try:
        if any(config._attn_implementation != "eager" for config in configs):
            model.set_attn_implementation("eager")
            left = sorted({str(c._attn_implementation) for c in configs if c._attn_implementation != "eager"})
            if left:
                raise ValueError(
                    f"{type(model).__name__} could not switch to the eager attention implementation at run time "
                    f"(still {', '.join(left)}); load it with attn_implementation='eager' "
                    "(from_pretrained(..., attn_implementation='eager') or _from_config(config, attn_implementation='eager'))"
                )
        yield
    finally:
        for config, value in saved:
            config._attn_implementation_internal = value  # the raw field: no recursive dispatch


@contextmanager
def _evaluating(torch: Any, model: Any) -> Iterator[None]:
    """Eval mode and no gradients inside; every module's train/eval flag restored after."""
    modes = [(module, module.training) for module in model.modules()]
    try:
        model.eval()
        with torch.no_grad():
            yield
    finally:
        for module, training in modes:
            module.training = training


# ---------------------------------------------------------------------------- targets


def _specs(transformers: Any, model: Any) -> list[tuple[str, Any]]:
    """``(key, OutputRecorder)`` for the attention entries of a model's ``_can_record_outputs``."""
    from transformers.utils.output_capturing import OutputRecorder

    declared = getattr(model, "_can_record_outputs", None) or {}
    specs = []
    for key in ("attentions", "cross_attentions"):
        entries = declared.get(key)
        if entries is None:
            continue
        for entry in entries if isinstance(entries, list) else [entries]:
            if not isinstance(entry, OutputRecorder):
                named = isinstance(entry, str)
                entry = OutputRecorder(
                    target_class=None if named else entry, index=1, class_name=entry if named else None
                )
            specs.append((key, entry))
    return specs


def _targets(transformers: Any, model: Any) -> list[tuple[str, str, Any, int]]:
    """``(key, module name, module, output index)`` of every module that returns attention
    weights, matched as transformers matches its output-recording hooks (each sub-model by its
    own ``_can_record_outputs``)."""
    base = transformers.PreTrainedModel
    found: list[tuple[str, str, Any, int]] = []

    def visit(module: Any, name: str, specs: list[tuple[str, Any]]) -> None:
        for child_name, child in module.named_children():
            child_path = f"{name}.{child_name}" if name else child_name
            visit(child, child_path, _specs(transformers, child) if isinstance(child, base) else specs)
        for key, spec in specs:
            by_class = spec.target_class is not None and isinstance(module, spec.target_class)
            by_name = spec.class_name is not None and name.endswith(spec.class_name)
            if not (by_class or by_name):
                continue
            if spec.layer_name is not None and f".{spec.layer_name.strip('.')}." not in f".{name}.":
                continue
            found.append((key, name, module, spec.index))
            break

    visit(model, "", _specs(transformers, model))
    order = {id(module): i for i, module in enumerate(model.modules())}
    found.sort(key=lambda target: order.get(id(target[2]), 0))
    return found


# ---------------------------------------------------------------------------- log_attention


def log_attention(
    writer: Any,
    model: Any,
    inputs: Mapping[str, Any],
    *,
    tokens: Sequence[str],
    step: int,
    decoder_tokens: Sequence[str] | None = None,
    tag: str | None = None,
    batch_index: int = 0,
) -> list[str]:
    """Logs every attention layer and head of a Hugging Face transformers model on ``inputs``.

    ``writer``: a ``modellens.Writer``. ``model``: a ``transformers.PreTrainedModel`` (torch).
    ``inputs``: the forward's keyword arguments, such as a tokenizer's output (``input_ids``,
    ``attention_mask``, ``decoder_input_ids``, ...); tensors are moved to the model's device.
    ``tokens``: one str per input position (padding included) of the sample ``batch_index``.

    Encoder-only and decoder-only models write one record under ``tag`` (default
    ``"attention"``). Encoder-decoder models (T5, BART, ...) write three: ``<tag>/encoder``
    (encoder self-attention), ``<tag>/decoder`` (decoder self-attention) and ``<tag>/cross``
    (decoder queries, labelled by ``decoder_tokens``, over encoder keys, labelled by
    ``tokens``); ``decoder_tokens`` is then required and ``inputs`` needs ``decoder_input_ids``
    (or ``labels``). Layer names are the attention modules' names in the model.

    The forward runs once with the eager attention implementation, under ``no_grad``, in eval
    mode; the model's attention implementation and train/eval flags are restored afterwards,
    also on error. Token counts are checked against the inputs before the forward, and every
    record is checked before the first is written: bad input raises ``ValueError``/``TypeError``
    and writes nothing. Returns the tags written.
    """
    torch, transformers = _import()
    from modellens._convert import check_step

    if not isinstance(model, transformers.PreTrainedModel):
        raise TypeError(
            f"model must be a transformers.PreTrainedModel (torch), got {type(model).__name__}; for a plain torch "
            "model use modellens.torch.attention"
        )
    if not callable(getattr(writer, "attention", None)):
        raise TypeError(f"writer must be a modellens.Writer, got {type(writer).__name__}")
    inputs = _check_inputs(inputs)
    tokens = _check_tokens(tokens, "tokens")
    step = check_step(step)
    batch_index = _check_int(batch_index, "batch_index", 0)
    base_tag = _check_tag(tag)
    encoder_decoder = bool(getattr(model.config, "is_encoder_decoder", False))
    if encoder_decoder:
        if decoder_tokens is None:
            raise ValueError(
                f"{type(model).__name__} is an encoder-decoder model: pass decoder_tokens (one str per "
                "decoder_input_ids position) to label its decoder and cross-attention"
            )
        decoder_tokens = _check_tokens(decoder_tokens, "decoder_tokens")
    elif decoder_tokens is not None:
        raise ValueError(f"decoder_tokens is only for encoder-decoder models; {type(model).__name__} is not one")
    _check_lengths(inputs, tokens, decoder_tokens)
    batch = _batch(inputs)
    if batch is not None and batch_index >= batch:
        raise ValueError(f"batch_index {batch_index} is out of range for inputs with a batch of {batch}")

    from modellens.attention import Collector

    # (tag, collector, key tokens, query tokens), in the order they are written
    if encoder_decoder:
        plan = {
            "encoder": (f"{base_tag}/encoder", tokens, tokens),
            "decoder": (f"{base_tag}/decoder", decoder_tokens, decoder_tokens),
            "cross": (f"{base_tag}/cross", tokens, decoder_tokens),
        }
    else:
        plan = {"self": (base_tag, tokens, tokens)}
    collectors = {kind: Collector(batch_index=batch_index) for kind in plan}
    encoder_ids: set[int] = set()
    if encoder_decoder:
        get_encoder = getattr(model, "get_encoder", None)
        encoder = get_encoder() if callable(get_encoder) else None
        encoder_ids = {id(m) for m in encoder.modules()} if encoder is not None else set()

    def kind_of(key: str, module: Any) -> str | None:
        if not encoder_decoder:
            return "self" if key == "attentions" else None  # a decoder-only model's cross-attention: unlabelled
        return "cross" if key == "cross_attentions" else ("encoder" if id(module) in encoder_ids else "decoder")

    targets = _targets(transformers, model)
    device = _device(torch, model)
    call = {key: value.to(device) if isinstance(value, torch.Tensor) else value for key, value in inputs.items()}
    accepts = _accepts_output_attentions(model)
    handles: list[Any] = []
    calls: dict[str, int] = {}

    def hook_for(kind: str, name: str, index: int) -> Any:
        def hook(module: Any, args: Any, output: Any) -> None:
            weights = output[index] if isinstance(output, tuple) and len(output) > abs(index) else None
            if weights is None or not isinstance(weights, torch.Tensor) or weights.dim() != 4:
                return
            count = calls.get(name, 0)
            calls[name] = count + 1
            collectors[kind].add(weights.detach(), name=name if count == 0 else f"{name}#{count}")

        return hook

    with _eager(transformers, model), _evaluating(torch, model):
        if targets:
            try:
                for key, name, module, index in targets:
                    kind = kind_of(key, module)
                    if kind is not None:
                        handles.append(module.register_forward_hook(hook_for(kind, name, index)))
                if accepts and "output_attentions" not in call:
                    call["output_attentions"] = False  # transformers keeps no tuple of all layers
                model(**call)
            finally:
                for handle in handles:
                    handle.remove()
        else:  # no declared attention modules: the model's own output_attentions tuples
            if not accepts:
                raise ValueError(
                    f"{type(model).__name__} declares no attention modules and its forward takes no "
                    "output_attentions; log its weights with Writer.attention"
                )
            call["output_attentions"] = True
            outputs = model(**call)
            _from_outputs(outputs, collectors, encoder_decoder)

    missing = [plan[kind][0] for kind, collector in collectors.items() if len(collector) == 0]
    if missing:
        raise ValueError(
            f"{type(model).__name__} returned no attention weights for {', '.join(missing)} "
            f"(attention implementation: {model.config._attn_implementation!r}); this model's attention "
            "modules may not return weights under eager attention"
        )
    for kind, (name, keys, queries) in plan.items():
        layers = collectors[kind].layers
        if layers:
            _, q, k = layers[0].shape
            if k != len(keys) or q != len(queries):
                what = "tokens" if k != len(keys) else "decoder_tokens"
                raise ValueError(
                    f"{name}: the model's attention has {q} queries × {k} keys, but {what} gives "
                    f"{len(queries) if what == 'decoder_tokens' else len(keys)} tokens; give one token per position"
                )
    from modellens import attention

    records = [
        (name, collectors[kind], keys, None if queries is keys else queries)
        for kind, (name, keys, queries) in plan.items()
    ]
    for _, collector, keys, queries in records:  # every record checked before any is written
        attention.check(collector, tokens=keys, query_tokens=queries)
    for name, collector, keys, queries in records:
        writer.attention(name, collector, tokens=keys, step=step, query_tokens=queries)
    return [name for name, *_ in records]


def _device(torch: Any, model: Any) -> Any:
    device = getattr(model, "device", None)
    if device is not None:
        return device
    for parameter in model.parameters():
        return parameter.device
    return torch.device("cpu")


def _accepts_output_attentions(model: Any) -> bool:
    try:
        parameters = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        return True
    return "output_attentions" in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()
    )


def _from_outputs(outputs: Any, collectors: dict[str, Any], encoder_decoder: bool) -> None:
    """Feeds the collectors from a model output's attention tuples (the fallback path)."""

    def take(field: str) -> Sequence[Any]:
        value = getattr(outputs, field, None)
        if value is None and isinstance(outputs, Mapping):
            value = outputs.get(field)
        return value or ()

    fields = (
        {"encoder": "encoder_attentions", "decoder": "decoder_attentions", "cross": "cross_attentions"}
        if encoder_decoder
        else {"self": "attentions"}
    )
    for kind, field in fields.items():
        for i, weights in enumerate(take(field)):
            if weights is not None:
                collectors[kind].add(weights.detach(), name=f"{field}.{i}")


# ---------------------------------------------------------------------------- Trainer callback


def _build_callback_class() -> type:
    _, transformers = _import()

    class AttentionCallback(transformers.TrainerCallback):
        """A ``transformers.TrainerCallback`` that logs attention on a held example during training.

        ``writer``: a ``modellens.Writer``, or a log directory (opened at train begin, closed at
        train end). ``inputs``, ``tokens``, ``decoder_tokens``, ``tag``, ``batch_index``: as for
        ``log_attention``, checked now. Logs at every global step that is a multiple of
        ``every`` (after that optimizer step), and at step 0 when training starts from scratch
        (``at_start``), so the step slider shows attention forming. Only the main process logs
        (``state.is_world_process_zero``). The model the Trainer hands to callbacks (unwrapped)
        is run once in eval mode under ``no_grad``; its mode and attention implementation are
        restored, and training continues exactly as before. Not for models sharded across
        processes (FSDP, DeepSpeed ZeRO-3), where one process cannot run a forward alone.
        """

        def __init__(
            self,
            writer: Any,
            inputs: Mapping[str, Any],
            *,
            tokens: Sequence[str],
            every: int = 500,
            decoder_tokens: Sequence[str] | None = None,
            tag: str | None = None,
            batch_index: int = 0,
            at_start: bool = True,
        ) -> None:
            _import()
            self.every = _check_int(every, "every", 1)
            if not isinstance(at_start, bool):
                raise TypeError(f"at_start must be True or False, got {at_start!r}")
            self.at_start = at_start
            self.inputs = _check_inputs(inputs)
            self.tokens = _check_tokens(tokens, "tokens")
            self.decoder_tokens = None if decoder_tokens is None else _check_tokens(decoder_tokens, "decoder_tokens")
            _check_lengths(self.inputs, self.tokens, self.decoder_tokens)
            self.tag = _check_tag(tag)
            self.batch_index = _check_int(batch_index, "batch_index", 0)
            if callable(getattr(writer, "attention", None)):
                self._writer, self._logdir = writer, None
            elif isinstance(writer, str) or hasattr(writer, "__fspath__"):
                self._writer, self._logdir = None, writer
            else:
                raise TypeError(f"writer must be a modellens.Writer or a log directory, got {type(writer).__name__}")
            self._owns_writer = self._writer is None
            self.logged: list[int] = []  # the global steps logged so far

        @property
        def writer(self) -> Any:
            """The ``modellens.Writer`` written to (``None`` outside training when the callback owns it)."""
            return self._writer

        def _log(self, state: Any, model: Any) -> None:
            if model is None or not getattr(state, "is_world_process_zero", True):
                return
            step = int(state.global_step)
            if step in self.logged:
                return
            if self._writer is None:
                from modellens._writer import Writer

                self._writer = Writer(self._logdir)
            log_attention(
                self._writer,
                model,
                self.inputs,
                tokens=self.tokens,
                step=step,
                decoder_tokens=self.decoder_tokens,
                tag=self.tag,
                batch_index=self.batch_index,
            )
            self.logged.append(step)

        def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
            if self.at_start and int(state.global_step) == 0:
                self._log(state, model)

        def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kwargs: Any) -> None:
            if int(state.global_step) % self.every == 0:
                self._log(state, model)

        def on_train_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            if self._writer is not None:
                if self._owns_writer:
                    self._writer.close()
                    self._writer = None
                else:
                    self._writer.flush()

    AttentionCallback.__module__ = __name__
    AttentionCallback.__qualname__ = "AttentionCallback"
    return AttentionCallback


__getattr__ = built_on_access(__name__, {"AttentionCallback": _build_callback_class})
