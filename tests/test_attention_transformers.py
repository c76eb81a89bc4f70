"""``modellens.transformers``: attention of Hugging Face transformers 5 models, from tiny configs.

Models are built with ``_from_config`` (random weights, the default ``sdpa`` attention, which
returns no weights). Ground truth is the same model switched to ``eager`` by hand and run with
``output_attentions=True``; what ``log_attention`` wrote is read back from the event file.
"""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
transformers = pytest.importorskip("transformers")

import modellens  # noqa: E402
import modellens.transformers as mltr  # noqa: E402
from attention_logs import read_attention  # noqa: E402

T, S = 12, 6  # encoder / decoder tokens
VOCAB = 64


def bert(model_class=None, **config):
    """A 2-layer, 4-head BERT from its config (``BertModel`` unless another class is given)."""
    torch.manual_seed(0)
    cfg = transformers.BertConfig(
        vocab_size=VOCAB,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=64,
        **config,
    )
    return (model_class or transformers.BertModel)._from_config(cfg)


def t5():
    torch.manual_seed(0)
    cfg = transformers.T5Config(
        vocab_size=VOCAB, d_model=32, d_kv=8, d_ff=64, num_layers=2, num_decoder_layers=2, num_heads=4
    )
    return transformers.T5ForConditionalGeneration._from_config(cfg)


def gpt2():
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(vocab_size=VOCAB, n_positions=64, n_embd=32, n_layer=2, n_head=2)
    return transformers.GPT2LMHeadModel._from_config(cfg)


def ids(batch: int, length: int, seed: int) -> torch.Tensor:
    return torch.randint(0, VOCAB, (batch, length), generator=torch.Generator().manual_seed(seed))


def tokens(n: int, prefix: str = "w") -> list[str]:
    return ["[CLS]"] + [f"{prefix}{i}" for i in range(1, n - 1)] + ["[SEP]"]


def implementations(model) -> list:
    return [m.config._attn_implementation for m in model.modules() if isinstance(m, transformers.PreTrainedModel)]


def manual(model, inputs, *fields):
    """The model's eager attentions, switched by hand, in eval mode; then back to sdpa."""
    training = model.training
    model.eval()
    model.set_attn_implementation("eager")
    try:
        with torch.no_grad():
            out = model(**inputs, output_attentions=True)
    finally:
        model.set_attn_implementation("sdpa")
        model.train(training)
    return [getattr(out, field) for field in fields]


def assert_record(record, expected, sample: int, names: list[str]) -> None:
    header = record.header
    layers, heads = len(expected), expected[0].shape[1]
    assert (header.layers, header.heads) == (layers, heads)
    assert (header.queries, header.keys) == tuple(expected[0].shape[-2:])
    assert header.layer_names == names
    for layer in range(layers):
        for head in [*range(heads), "mean"]:
            want = expected[layer][sample]
            want = want.mean(0) if head == "mean" else want[head]
            stored = record.quantized(layer, head)
            error = np.abs(stored.dense() - want.numpy())
            assert np.all(error <= stored.scales[:, None] / 510 + 1e-6), (layer, head)
            assert error.max() <= header.max_error + 1e-6


def test_bert_weights_equal_a_manual_eager_forward(tmp_path):
    model = bert()
    model.train()  # the user's mode, restored after
    assert model.config._attn_implementation == "sdpa"
    input_ids = ids(2, T, 1)
    mask = torch.ones_like(input_ids)
    mask[1, 9:] = 0  # padded sample
    inputs = {"input_ids": input_ids, "attention_mask": mask}
    (expected,) = manual(model, inputs, "attentions")
    with modellens.Writer(tmp_path) as writer:
        tags = mltr.log_attention(writer, model, inputs, tokens=tokens(T), step=5, batch_index=1)
    assert tags == ["attention"]
    assert model.config._attn_implementation == "sdpa"
    assert all(m.training for m in model.modules())
    record = read_attention(tmp_path)["attention"][5]
    names = ["encoder.layer.0.attention.self", "encoder.layer.1.attention.self"]
    assert_record(record, expected, sample=1, names=names)
    assert record.header.tokens == tokens(T)
    assert np.all(record.map(0, 0)[:, 9:] == 0)  # padded keys


def test_t5_encoder_decoder_and_cross_attention(tmp_path):
    model = t5()
    inputs = {"input_ids": ids(1, T, 2), "decoder_input_ids": ids(1, S, 3)}
    enc, dec, cross = manual(model, inputs, "encoder_attentions", "decoder_attentions", "cross_attentions")
    with modellens.Writer(tmp_path) as writer:
        tags = mltr.log_attention(
            writer, model, inputs, tokens=tokens(T), decoder_tokens=tokens(S, "d"), step=1, tag="t5"
        )
    assert tags == ["t5/encoder", "t5/decoder", "t5/cross"]
    assert set(implementations(model)) == {"sdpa"}
    logs = read_attention(tmp_path)
    assert_record(logs["t5/encoder"][1], enc, 0, ["encoder.block.0.layer.0", "encoder.block.1.layer.0"])
    assert_record(logs["t5/decoder"][1], dec, 0, ["decoder.block.0.layer.0", "decoder.block.1.layer.0"])
    assert_record(logs["t5/cross"][1], cross, 0, ["decoder.block.0.layer.1", "decoder.block.1.layer.1"])
    header = logs["t5/cross"][1].header
    assert (header.queries, header.keys) == (S, T)
    assert header.tokens == tokens(T) and header.query_tokens == tokens(S, "d")
    assert not header.self_attention and logs["t5/encoder"][1].header.self_attention


def test_cross_attention_over_equal_token_lists_stays_cross_attention(tmp_path):
    model = t5()
    inputs = {"input_ids": ids(1, T, 2), "decoder_input_ids": ids(1, T, 3)}
    with modellens.Writer(tmp_path) as writer:
        mltr.log_attention(writer, model, inputs, tokens=tokens(T), decoder_tokens=tokens(T), step=1, tag="t5")
    header = read_attention(tmp_path)["t5/cross"][1].header
    assert not header.self_attention and not header.rollout and np.isnan(header.scores[:, :, 3]).all()


def test_gpt2_causal_one_tag(tmp_path):
    model = gpt2()
    inputs = {"input_ids": ids(1, T, 4)}
    (expected,) = manual(model, inputs, "attentions")
    with modellens.Writer(tmp_path) as writer:
        mltr.log_attention(writer, model, inputs, tokens=[f"g{i}" for i in range(T)], step=0)
    record = read_attention(tmp_path)["attention"][0]
    assert_record(record, expected, 0, ["transformer.h.0.attn", "transformer.h.1.attn"])
    assert np.all(np.triu(record.map(1, 0), 1) == 0)  # causal


def test_layers_are_reduced_one_at_a_time(tmp_path):
    """No layer's float weights outlive the next layer's forward: transformers keeps no
    tuple of them (the pass runs with output_attentions=False), the hook reduces and drops."""
    import weakref

    model = bert()
    model.config.output_attentions = False
    alive = []
    seen = []

    def spy(module, args, output):
        seen.append(output[1] is not None)
        alive.append(sum(ref() is not None for ref in refs))
        refs.append(weakref.ref(output[1]))

    refs: list = []
    attention_modules = [m for m in model.modules() if type(m).__name__ == "BertSelfAttention"]
    handles = [m.register_forward_hook(spy) for m in attention_modules]
    try:
        with modellens.Writer(tmp_path) as writer:
            mltr.log_attention(writer, model, {"input_ids": ids(1, T, 11)}, tokens=tokens(T), step=0)
    finally:
        for handle in handles:
            handle.remove()
    assert seen == [True, True] and alive == [0, 0]


def test_implementation_and_mode_restored_when_the_forward_raises(tmp_path):
    model = t5()
    model.train()
    bad = {"input_ids": ids(1, T, 5), "decoder_input_ids": torch.full((1, S), VOCAB + 5)}  # out of the vocabulary
    with modellens.Writer(tmp_path) as writer:
        with pytest.raises(IndexError):
            mltr.log_attention(writer, model, bad, tokens=tokens(T), decoder_tokens=tokens(S), step=0)
    assert set(implementations(model)) == {"sdpa"}
    assert all(m.training for m in model.modules())
    assert sum(len(m._forward_hooks) for m in model.modules()) == 0
    assert read_attention(tmp_path) == {}


def test_an_eager_model_stays_eager(tmp_path):
    model = transformers.BertModel._from_config(bert().config, attn_implementation="eager")
    with modellens.Writer(tmp_path) as writer:
        mltr.log_attention(writer, model, {"input_ids": ids(1, T, 6)}, tokens=tokens(T), step=0)
    assert model.config._attn_implementation == "eager"


def test_bad_input_raises_and_writes_nothing(tmp_path):
    model, seq2seq = bert(), t5()
    inputs = {"input_ids": ids(1, T, 7)}
    with modellens.Writer(tmp_path) as writer:
        with pytest.raises(ValueError, match="tokens has 11 entries but the inputs have 12"):
            mltr.log_attention(writer, model, inputs, tokens=tokens(T)[:-1], step=0)
        with pytest.raises(TypeError, match=r"tokens\[2\] is a int"):
            mltr.log_attention(writer, model, inputs, tokens=["a", "b", 3] + ["c"] * (T - 3), step=0)
        with pytest.raises(ValueError, match="pass decoder_tokens"):
            mltr.log_attention(writer, seq2seq, inputs, tokens=tokens(T), step=0)
        with pytest.raises(ValueError, match="no decoder_input_ids"):
            mltr.log_attention(writer, seq2seq, inputs, tokens=tokens(T), decoder_tokens=tokens(S), step=0)
        with pytest.raises(ValueError, match="decoder_tokens has 5 entries"):
            mltr.log_attention(
                writer,
                seq2seq,
                {**inputs, "decoder_input_ids": ids(1, S, 8)},
                tokens=tokens(T),
                decoder_tokens=tokens(S)[:-1],
                step=0,
            )
        with pytest.raises(ValueError, match="not valid Unicode"):  # the decoder's record fails: none is written
            mltr.log_attention(
                writer,
                seq2seq,
                {**inputs, "decoder_input_ids": ids(1, S, 8)},
                tokens=tokens(T),
                decoder_tokens=["x", "\ud800"] + tokens(S)[2:],
                step=0,
            )
        with pytest.raises(ValueError, match="only for encoder-decoder"):
            mltr.log_attention(writer, model, inputs, tokens=tokens(T), decoder_tokens=tokens(S), step=0)
        with pytest.raises(ValueError, match="batch_index 1 is out of range"):
            mltr.log_attention(writer, model, inputs, tokens=tokens(T), step=0, batch_index=1)
        with pytest.raises(TypeError, match="PreTrainedModel"):
            mltr.log_attention(writer, torch.nn.Linear(2, 2), inputs, tokens=tokens(T), step=0)
        with pytest.raises(TypeError, match="dict of the model's keyword arguments"):
            mltr.log_attention(writer, model, inputs["input_ids"], tokens=tokens(T), step=0)
    assert read_attention(tmp_path) == {}
    assert model.config._attn_implementation == "sdpa"


def test_trainer_callback_logs_every_n_steps(tmp_path):
    """Driven by transformers' own CallbackHandler with real TrainerState/TrainerControl, step by
    step, as the Trainer calls it."""
    from transformers.trainer_callback import CallbackHandler, TrainerControl, TrainerState

    model = bert()
    held = {"input_ids": ids(1, T, 9)}
    callback = mltr.AttentionCallback(str(tmp_path), held, tokens=tokens(T), every=2)
    assert isinstance(callback, transformers.TrainerCallback)
    handler = CallbackHandler([callback], model, None, None, None)
    state, control = TrainerState(), TrainerControl()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    model.train()
    handler.on_train_begin(None, state, control)
    for step in range(5):
        batch = ids(4, T, 100 + step)
        loss = model(input_ids=batch).last_hidden_state.pow(2).mean()
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        state.global_step = step + 1
        handler.on_step_end(None, state, control)
        assert model.training and model.config._attn_implementation == "sdpa"
    handler.on_train_end(None, state, control)
    assert callback.logged == [0, 2, 4] and callback.writer is None
    logs = read_attention(tmp_path)["attention"]
    assert sorted(logs) == [0, 2, 4]
    assert not np.array_equal(logs[0].map(1, 0), logs[4].map(1, 0))  # training changed the attention
    with pytest.raises(ValueError, match="every must be an int >= 1"):
        mltr.AttentionCallback(str(tmp_path), held, tokens=tokens(T), every=0)
    with pytest.raises(ValueError, match="tokens has 3 entries"):
        mltr.AttentionCallback(str(tmp_path), held, tokens=["a", "b", "c"])


def test_the_callback_in_a_real_trainer(tmp_path):
    """``transformers.Trainer`` itself, on a tiny classification task, the callback attached."""
    model = bert(transformers.BertForSequenceClassification, num_labels=2)
    data = [{"input_ids": ids(1, T, 200 + i)[0], "labels": torch.tensor(i % 2)} for i in range(24)]
    held = {"input_ids": ids(1, T, 9)}
    callback = mltr.AttentionCallback(str(tmp_path / "attention"), held, tokens=tokens(T), every=2)
    arguments = transformers.TrainingArguments(
        output_dir=str(tmp_path / "out"),
        max_steps=6,
        per_device_train_batch_size=4,
        learning_rate=1e-2,
        report_to=[],
        save_strategy="no",
        logging_strategy="no",
        use_cpu=True,
        disable_tqdm=True,
    )
    transformers.Trainer(model=model, args=arguments, train_dataset=data, callbacks=[callback]).train()
    logs = read_attention(tmp_path / "attention")["attention"]
    assert sorted(logs) == [0, 2, 4, 6]
    assert logs[0].header.layer_names == ["bert.encoder.layer.0.attention.self", "bert.encoder.layer.1.attention.self"]
    assert model.config._attn_implementation == "sdpa" and model.training
    assert not np.array_equal(logs[0].map(1, 0), logs[6].map(1, 0))


def test_import_is_lazy_and_names_the_extra():
    import subprocess
    import sys

    code = (
        "import sys, modellens, modellens.transformers as m\n"
        "assert 'transformers' not in sys.modules and 'torch' not in sys.modules\n"
        "sys.modules['transformers'] = None\n"
        "try:\n"
        "    m.log_attention(None, None, {}, tokens=[], step=0)\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "modellens.transformers needs transformers: pip install 'modellens[transformers]'"
