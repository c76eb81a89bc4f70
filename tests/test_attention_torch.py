"""``modellens.torch.attention``: per-head weights of every ``nn.MultiheadAttention``, outputs unchanged.

Ground truth is torch itself: each layer's ``self_attn`` called by hand with ``need_weights=True,
average_attn_weights=False`` on that layer's input; what was captured is written with a real
``modellens.Writer`` and read back from the event file.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from torch import nn  # noqa: E402

import modellens  # noqa: E402
import modellens.torch as mltorch  # noqa: E402
from attention_logs import read_attention  # noqa: E402

D, HEADS, T = 16, 4, 7
TOKENS = [f"t{i}" for i in range(T)]


def encoder(seed: int = 0, layers: int = 2) -> nn.TransformerEncoder:
    torch.manual_seed(seed)
    layer = nn.TransformerEncoderLayer(D, HEADS, 32, dropout=0.1, batch_first=True)
    return nn.TransformerEncoder(layer, layers, enable_nested_tensor=True).eval()


def reference(model: nn.TransformerEncoder, x: torch.Tensor, mask=None) -> list[torch.Tensor]:
    """Each layer's per-head weights [B, H, T, T], from a manual call on that layer's input."""
    weights = []
    h = x
    with torch.no_grad():
        for layer in model.layers:
            _, w = layer.self_attn(h, h, h, key_padding_mask=mask, need_weights=True, average_attn_weights=False)
            weights.append(w)
            h = layer(h, src_key_padding_mask=mask)
    return weights


def hooks(model: nn.Module) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules())


def written(tmp_path, collector, **kwargs):
    with modellens.Writer(tmp_path) as writer:
        writer.attention("encoder/self", collector, tokens=TOKENS, step=3, **kwargs)
    return read_attention(tmp_path)["encoder/self"][3]


def assert_maps(record, expected: list[torch.Tensor], sample: int) -> None:
    header = record.header
    assert (header.layers, header.heads, header.queries, header.keys) == (len(expected), HEADS, T, T)
    for layer, weights in enumerate(expected):
        for head in range(HEADS):
            want = weights[sample, head].numpy()
            stored = record.quantized(layer, head)
            bound = stored.scales[:, None] / 510 + 1e-6  # per row: max / 510, plus float rounding
            assert np.all(np.abs(stored.dense() - want) <= bound), (layer, head)
            assert np.abs(stored.dense() - want).max() <= header.max_error + 1e-6


def test_encoder_capture_outputs_unchanged_and_per_head_weights(tmp_path):
    model = encoder()
    x = torch.randn(3, T, D, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        plain = model(x)
        with mltorch.attention(model, batch_index=2) as captured:
            hooked = model(x)
        again = model(x)
    torch.testing.assert_close(hooked, plain, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(again, plain, atol=0, rtol=0)  # the fused path is back, bit for bit
    assert captured.names == ["layers.0.self_attn", "layers.1.self_attn"]
    assert list(captured.groups) == ["layers.*.self_attn"] and len(captured) == 2
    assert hooks(model) == 0
    record = written(tmp_path, captured.weights)
    assert record.header.layer_names == captured.names
    assert_maps(record, reference(model, x), sample=2)


def test_training_mode_with_grad_keeps_outputs_and_gradients():
    model = encoder()
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0
        if isinstance(module, nn.MultiheadAttention):
            module.dropout = 0.0
    model.train()
    x = torch.randn(2, T, D, generator=torch.Generator().manual_seed(2))
    plain = model(x)
    plain.sum().backward()
    grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    with mltorch.attention(model) as captured:
        hooked = model(x)
    hooked.sum().backward()
    torch.testing.assert_close(hooked, plain, atol=1e-5, rtol=1e-5)
    for p, g in zip(model.parameters(), grads):
        torch.testing.assert_close(p.grad, g, atol=1e-5, rtol=1e-4)
    assert len(captured.weights) == 2


def test_padding_mask_in_eval_the_nested_tensor_path(tmp_path):
    model = encoder()
    x = torch.randn(2, T, D, generator=torch.Generator().manual_seed(3))
    pad = torch.zeros(2, T, dtype=torch.bool)
    pad[1, 5:] = True
    with torch.no_grad():
        plain = model(x, src_key_padding_mask=pad)
        with mltorch.attention(model, batch_index=1) as captured:
            hooked = model(x, src_key_padding_mask=pad)
    assert model.use_nested_tensor  # restored
    live = ~pad
    torch.testing.assert_close(hooked[live], plain[live], atol=1e-5, rtol=1e-5)
    record = written(tmp_path, captured.weights)
    expected = reference(model, x, pad)
    assert_maps(record, expected, sample=1)
    assert np.all(record.map(0, 0)[:, 5:] == 0)  # padded keys get no attention


def test_the_caller_gets_what_it_asked_for():
    torch.manual_seed(4)
    mha = nn.MultiheadAttention(D, HEADS, batch_first=True).eval()
    x = torch.randn(2, T, D)
    mem = torch.randn(2, T + 2, D)
    with torch.no_grad():
        asked_mean = mha(x, mem, mem)
        asked_heads = mha(x, mem, mem, None, True, None, False)  # positional flags
        asked_none = mha(x, mem, mem, need_weights=False)
        with mltorch.attention(mha) as captured:
            got_mean = mha(x, mem, mem)
            got_heads = mha(x, mem, mem, None, True, None, False)
            got_none = mha(x, mem, mem, need_weights=False)
            got_positional_none = mha(x, mem, mem, None, False)
    torch.testing.assert_close(got_mean[1], asked_mean[1], atol=0, rtol=0)
    assert got_mean[1].shape == (2, T, T + 2)
    torch.testing.assert_close(got_heads[1], asked_heads[1], atol=0, rtol=0)
    assert got_none[1] is None and got_positional_none[1] is None
    torch.testing.assert_close(got_none[0], asked_none[0], atol=1e-5, rtol=1e-5)
    # one module called four times
    assert captured.names == [
        "MultiheadAttention",
        "MultiheadAttention#1",
        "MultiheadAttention#2",
        "MultiheadAttention#3",
    ]
    layers = captured.weights.layers
    assert [layer.shape for layer in layers] == [(HEADS, T, T + 2)] * 4


def test_unbatched_input(tmp_path):
    torch.manual_seed(5)
    mha = nn.MultiheadAttention(D, HEADS).eval()
    x = torch.randn(T, D)  # unbatched: weights are [H, T, T]
    with torch.no_grad():
        _, want = mha(x, x, x, average_attn_weights=False)
        with mltorch.attention(mha, batch_index=None) as captured:
            out, mean = mha(x, x, x)
    assert mean.shape == (T, T)
    record = written(tmp_path, captured.weights)
    assert_maps(record, [want[None]], sample=0)


def test_transformer_has_three_stacks_and_modules_selects(tmp_path):
    torch.manual_seed(6)
    model = nn.Transformer(D, HEADS, 2, 2, 32, dropout=0.0, batch_first=True).eval()
    src, tgt = torch.randn(1, T, D), torch.randn(1, 4, D)
    with torch.no_grad(), mltorch.attention(model) as captured:
        model(src, tgt)
    assert list(captured.groups) == [
        "encoder.layers.*.self_attn",
        "decoder.layers.*.self_attn",
        "decoder.layers.*.multihead_attn",
    ]
    assert [len(c) for c in captured.groups.values()] == [2, 2, 2]
    assert captured.groups["decoder.layers.*.multihead_attn"].layers[0].shape == (HEADS, 4, T)
    with pytest.raises(ValueError, match="3 attention stacks"):
        _ = captured.weights
    with torch.no_grad(), mltorch.attention(model, modules="decoder") as decoder:
        model(src, tgt)
    assert len(decoder.groups) == 2 and all(name.startswith("decoder.") for name in decoder.names)
    with pytest.raises(ValueError, match="no torch.nn.MultiheadAttention under 'nothing'"):
        mltorch.attention(model, modules="nothing")
    record = written(tmp_path, captured.groups["encoder.layers.*.self_attn"])
    assert record.header.layers == 2
    assert hooks(model) == 0


def test_hooks_removed_also_on_error():
    model = encoder()
    with pytest.raises(RuntimeError):
        with torch.no_grad(), mltorch.attention(model):
            model(torch.randn(2, T, D + 1))  # wrong width: the first layer raises
    assert hooks(model) == 0
    assert model.use_nested_tensor
    with pytest.raises(KeyError):
        with mltorch.attention(model):
            raise KeyError("the user's own error")
    assert hooks(model) == 0


def test_bad_input_is_refused_and_nothing_written(tmp_path):
    model = encoder()
    with torch.no_grad(), mltorch.attention(model) as captured:
        model(torch.randn(1, T, D))
    with modellens.Writer(tmp_path) as writer:
        with pytest.raises(ValueError):
            writer.attention("encoder/self", captured.weights, tokens=TOKENS[:-1], step=0)
    assert read_attention(tmp_path) == {}
    with pytest.raises(TypeError, match="torch.nn.Module"):
        mltorch.attention(object())
    with pytest.raises(ValueError, match="no torch.nn.MultiheadAttention"):
        mltorch.attention(nn.Linear(2, 2))
    with pytest.raises(ValueError, match="batch_index 5 is out of range"):
        with torch.no_grad(), mltorch.attention(model, batch_index=5):
            model(torch.randn(2, T, D))
    assert hooks(model) == 0
    with pytest.raises(ValueError, match="no nn.MultiheadAttention ran"):
        _ = mltorch.attention(model).weights
