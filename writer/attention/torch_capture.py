"""Per-head attention weights of every ``torch.nn.MultiheadAttention`` call, reduced into
``modellens.attention.Collector`` objects as each call returns (``modellens.torch.attention``
is the public entry point)."""

from __future__ import annotations

from typing import Any, Callable

from modellens.attention.reduce import Collector


def _torch():
    import torch

    return torch


def _clean(name: str) -> str:
    return name.replace("_orig_mod.", "")


# Where ``nn.MultiheadAttention.forward(query, key, value, key_padding_mask, need_weights,
# attn_mask, average_attn_weights, is_causal)`` takes its flags when passed positionally
# (hook ``args`` exclude ``self``).
_NEED_WEIGHTS_AT = 4
_AVERAGE_AT = 6


def _group_of(name: str) -> str:
    """The stack a module belongs to: its name with list indices as ``*``
    (``encoder.layers.3.self_attn`` → ``encoder.layers.*.self_attn``)."""
    return ".".join("*" if part.isdigit() else part for part in name.split("."))


def _selected(name: str, prefixes: tuple[str, ...] | None) -> bool:
    return prefixes is None or any(name == p or name.startswith(p + ".") for p in prefixes)


class AttentionCapture:
    """What ``modellens.torch.attention(model)`` yields: the attention weights of the
    ``nn.MultiheadAttention`` calls made inside the ``with`` block, reduced as each call returns.

    Calls are grouped by stack: the module name with list indices as ``*``, so the layers of an
    ``nn.TransformerEncoder`` form one group (``layers.*.self_attn``) and an ``nn.Transformer``
    has three (``encoder.layers.*.self_attn``, ``decoder.layers.*.self_attn`` and the
    cross-attention ``decoder.layers.*.multihead_attn``). ``groups`` maps each group to a
    ``modellens.attention.Collector``, in the order of their first call; ``weights`` is the
    Collector when there is one group. Pass a Collector to ``Writer.attention`` as ``weights``.
    """

    def __init__(self, model: Any, batch_index: int | None, modules: tuple[str, ...] | None) -> None:
        torch = _torch()
        self._model = model
        self._batch_index = batch_index
        self._modules = [
            (_clean(name) or type(module).__name__, module)
            for name, module in model.named_modules()
            if isinstance(module, torch.nn.MultiheadAttention) and _selected(_clean(name), modules)
        ]
        if not self._modules:
            where = "" if modules is None else f" under {', '.join(repr(m) for m in modules)} (modules=)"
            raise ValueError(
                f"model ({type(model).__name__}) holds no torch.nn.MultiheadAttention{where}; for a Hugging Face "
                "model use modellens.transformers.log_attention, or pass weights to Writer.attention yourself"
            )
        self.groups: dict[str, Any] = {}
        self._names: list[str] = []
        self._asked: dict[int, tuple[bool, bool]] = {}
        self._calls: dict[str, int] = {}
        self._handles: list[Any] = []
        self._nested: list[tuple[Any, bool]] = []

    @property
    def weights(self) -> Any:
        """The captured layers as one ``modellens.attention.Collector`` (``groups`` when the
        model has several attention stacks, such as an encoder and a decoder)."""
        if len(self.groups) == 1:
            return next(iter(self.groups.values()))
        if not self.groups:
            raise ValueError(
                "no nn.MultiheadAttention ran inside the with block: call the model inside it, then read weights"
            )
        raise ValueError(
            f"the capture holds {len(self.groups)} attention stacks ({', '.join(self.groups)}); write each of "
            "captured.groups[name] under its own tag (with its own tokens), or pick one with attention(model, modules=...)"
        )

    @property
    def names(self) -> list[str]:
        """Every captured call's layer name, in call order (a module called twice: ``name``,
        then ``name#1``)."""
        return list(self._names)

    def __len__(self) -> int:
        return len(self._names)

    # ------------------------------------------------------------------ hooks

    def _install(self) -> None:
        torch = _torch()
        try:
            for name, module in self._modules:
                self._handles.append(module.register_forward_pre_hook(self._pre_hook, with_kwargs=True))
                self._handles.append(module.register_forward_hook(self._hook(name), with_kwargs=True))
            # A TransformerEncoder in eval mode with a padding mask packs its input into a nested
            # tensor for the fused path, which MultiheadAttention cannot take outside that path.
            for module in self._model.modules():
                if isinstance(module, torch.nn.TransformerEncoder) and getattr(module, "use_nested_tensor", False):
                    self._nested.append((module, module.use_nested_tensor))
                    module.use_nested_tensor = False
        except BaseException:
            self.remove()
            raise

    def remove(self) -> None:
        """Removes every hook and restores what the capture changed (done on leaving ``with``)."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        for module, value in self._nested:
            module.use_nested_tensor = value
        self._nested = []
        self._asked.clear()

    def _pre_hook(self, module: Any, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
        args = list(args)
        kwargs = dict(kwargs)
        if len(args) > _NEED_WEIGHTS_AT:
            need, args[_NEED_WEIGHTS_AT] = bool(args[_NEED_WEIGHTS_AT]), True
        else:
            need, kwargs["need_weights"] = bool(kwargs.get("need_weights", True)), True
        if len(args) > _AVERAGE_AT:
            average, args[_AVERAGE_AT] = bool(args[_AVERAGE_AT]), False
        else:
            average, kwargs["average_attn_weights"] = bool(kwargs.get("average_attn_weights", True)), False
        self._asked[id(module)] = (need, average)  # a module never runs inside itself
        return tuple(args), kwargs

    def _hook(self, name: str) -> Callable[..., Any]:
        group = _group_of(name)

        def hook(module: Any, args: tuple, kwargs: dict, output: Any) -> Any:
            need, average = self._asked.pop(id(module), (True, True))
            if not isinstance(output, tuple) or len(output) != 2 or output[1] is None:
                return None
            attn_output, weights = output
            calls = self._calls.get(name, 0)
            self._calls[name] = calls + 1
            layer = name if calls == 0 else f"{name}#{calls}"
            collector = self.groups.get(group)
            if collector is None:
                collector = self.groups[group] = Collector(batch_index=self._batch_index)
            # [batch, heads, q, k], or [heads, q, k] for unbatched input; reduced now
            collector.add(weights.detach(), name=layer, argument=f"the attention weights of {layer}")
            self._names.append(layer)
            if not need:
                return attn_output, None
            if average:  # what torch returns for average_attn_weights=True: the mean over heads
                return attn_output, weights.mean(dim=-3)
            return output

        return hook

    # ------------------------------------------------------------------ context manager

    def __enter__(self) -> AttentionCapture:
        self._install()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.remove()
