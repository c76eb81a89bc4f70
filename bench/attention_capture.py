"""Cost of logging attention on Hugging Face BERT-base, and its bytes per step, against a plain
forward, the eager ``output_attentions=True`` forward a user would write, float16 and bertviz.

Model: ``transformers.BertModel._from_config(BertConfig(max_position_embeddings=2048))``, i.e.
BERT-base (12 layers × 12 heads, hidden 768) with random weights (nothing is downloaded), in
eval mode, batch 1, at 128 / 512 / 2,048 tokens: random ids between ``[CLS]`` and ``[SEP]``,
labelled ``[CLS] w1 w2 … [SEP]``.

(a) Time. Per size, in rounds, three ways on the same inputs in the same process:

- forward: ``model(**inputs)`` under ``torch.no_grad()``, with transformers 5's default ``sdpa``
  attention (which computes no weights);
- ModelLens: ``modellens.transformers.log_attention(writer, model, inputs, tokens=..., step=...)``
  and ``writer.flush()``: the eager forward, each layer reduced inside its hook (quantized,
  blocked above 512 tokens, top-k, scores, rollout step), then the rollout, the encoding and the
  write to disk;
- eager + output_attentions: what a user writes without ModelLens (``sdpa`` returns an empty
  tuple): ``model.set_attn_implementation("eager")``, ``model(**inputs, output_attentions=True)``
  under ``no_grad``, and back to ``sdpa``; the 12 float32 tensors are returned, nothing is stored.

Medians of ``ROUNDS`` paired rounds after one unmeasured call of each (``ROUNDS_LONG`` rounds
at 2,048 tokens, where one forward takes 5-15 s, right after the 512-token rounds, without a
warm-up); the ratios are the medians of the per-round ratios to that round's forward. Measured
with ``torch.set_num_threads(1)`` (and numpy's BLAS, used by the reduction, held to one thread
by threadpoolctl) and again with the default thread count.

At the default thread count, ``log_attention`` is also timed with only numpy's BLAS held to one
thread (threadpoolctl), in paired rounds: the rollout's matrix products inside the hooks run
between torch's OpenMP regions, and the two thread pools contend for the cores.

Peak memory, at one thread: each (way, size) in a fresh Python process that builds the model and
imports everything, resets its high-water mark (``/proc/self/clear_refs``), makes one call and
reports ``VmHWM`` minus the resident size just before the call (the memory above the model).

(b) Bytes per step: what one ``log_attention`` step adds to ModelLens's event file, against the
raw float16 maps (L·H·T²·2 bytes) and bertviz 1.4.1's ``head_view(attention, tokens,
html_action="return")`` HTML of the same weights. bertviz's HTML is built by ``head_view`` itself
at 128 and 256 tokens; at 512 its exact bytes are produced layer by layer (``bertviz_chunks``:
``head_view`` runs with a placeholder for the weights' JSON, which is then written one layer at
a time; checked byte for byte against ``head_view`` at 128 and 256), since ``head_view`` itself
would hold a 1.7 GB string several times over. At 2,048 tokens bertviz's size is layer 0's
exact JSON × 12 plus the page (an estimate, marked so; within 0.02 % of the exact size at 600
tokens). How much ModelLens stores depends on the weights (zlib of the uint8 rows): one more
table writes 512-token steps of synthetic rows, softmax(σ · N(0, 1)), more peaked than BERT's
random-init rows (which are nearly uniform), with ``Writer.attention``.

(c) The writer's reduction alone on the eager weights at 512 tokens (12 × 12): the 12
``Collector.add`` calls, then ``from_input`` (rollout map and head scores), ``encode`` and the
write with flush; medians of ``ROUNDS``, at one and at the default thread count.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterator

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import table  # noqa: E402

SIZES = (128, 512, 2048)
BERTVIZ_SIZES = (128, 256, 512)
ROUNDS = 5
ROUNDS_LONG = 3  # at 2,048 tokens
LONG = 2048
WAYS = ("forward", "modellens", "eager")
WAY_NAMES = {
    "forward": "forward (sdpa)",
    "modellens": "ModelLens log_attention",
    "eager": "eager + output_attentions",
}
LAYERS = HEADS = 12
PEAKED_SIGMAS = (2, 3, 6)  # mean row entropy ≈ 4.4, 3.0 and 1.2 nats at 512 tokens


# ---------------------------------------------------------------------------- model and inputs


def bert_base():
    import torch
    import transformers

    torch.manual_seed(0)
    config = transformers.BertConfig(max_position_embeddings=2048)
    return transformers.BertModel._from_config(config).eval()


def example(tokens: int) -> tuple[dict, list[str]]:
    """Random ids between [CLS] (101) and [SEP] (102), and their labels."""
    import torch

    ids = torch.randint(1000, 30000, (1, tokens), generator=torch.Generator().manual_seed(tokens))
    ids[0, 0], ids[0, -1] = 101, 102
    labels = ["[CLS]", *(f"w{i}" for i in range(1, tokens - 1)), "[SEP]"]
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids)}, labels


def ways(model, inputs: dict, tokens: list[str], writer) -> dict[str, Callable[[], object]]:
    import torch

    from modellens.transformers import log_attention

    steps = itertools.count()

    def forward():
        with torch.no_grad():
            model(**inputs)

    def modellens():
        log_attention(writer, model, inputs, tokens=tokens, step=next(steps))
        writer.flush()

    def eager():
        saved = model.config._attn_implementation
        model.set_attn_implementation("eager")
        try:
            with torch.no_grad():
                attentions = model(**inputs, output_attentions=True).attentions
        finally:
            model.set_attn_implementation(saved)
        assert len(attentions) == LAYERS, "eager attention returned no weights"
        return attentions

    return {"forward": forward, "modellens": modellens, "eager": eager}


@contextlib.contextmanager
def threads(count: int) -> Iterator[None]:
    """torch's intra-op threads, and numpy's BLAS (the reduction's rollout) when threadpoolctl is here."""
    import torch

    saved = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        limits = contextlib.nullcontext()
    else:
        limits = threadpool_limits(count, user_api="blas")
    try:
        with limits:
            yield
    finally:
        torch.set_num_threads(saved)


def seconds(function: Callable[[], object]) -> float:
    start = time.perf_counter()
    function()
    return time.perf_counter() - start


# ---------------------------------------------------------------------------- (a) time


def time_ways(model, size: int, logdir: Path) -> dict[str, list[float]]:
    import modellens

    inputs, tokens = example(size)
    rounds = ROUNDS_LONG if size >= LONG else ROUNDS
    with modellens.Writer(logdir / f"timing_{size}") as writer:
        calls = ways(model, inputs, tokens, writer)
        if size < LONG:
            for way in WAYS:
                calls[way]()
        out: dict[str, list[float]] = {way: [] for way in WAYS}
        for _ in range(rounds):
            for way in WAYS:
                out[way].append(seconds(calls[way]))
                gc.collect()
    return out


def time_table(results: dict[int, dict[str, list[float]]], count: int) -> str:
    med = statistics.median
    rows = []
    for size, samples in results.items():
        forward = samples["forward"]
        ratio = {way: med([s / f for s, f in zip(samples[way], forward)]) for way in WAYS}
        rows.append(
            [
                f"{size:,}",
                str(len(forward)),
                f"{med(forward):.3f} s",
                f"{med(samples['modellens']):.3f} s ({ratio['modellens']:.2f}×)",
                f"{med(samples['eager']):.3f} s ({ratio['eager']:.2f}×)",
                f"{med([m / e for m, e in zip(samples['modellens'], samples['eager'])]):.2f}×",
            ]
        )
    return table(
        f"Attention capture time, BERT-base, batch 1, torch threads = {count}"
        + (" (and numpy BLAS)" if count == 1 else "")
        + " (medians of paired rounds)",
        [
            "tokens",
            "rounds",
            "forward (sdpa)",
            "ModelLens log_attention (÷ forward)",
            "eager + output_attentions (÷ forward)",
            "ModelLens ÷ eager",
        ],
        rows,
    )


def blas_contention(model, logdir: Path, sizes: tuple[int, ...]) -> str:
    """At the default thread count: ``log_attention`` as it comes, against the same call with only
    numpy's BLAS (the rollout's matrix products) held to one thread, in paired rounds."""
    import torch
    from threadpoolctl import threadpool_limits

    import modellens

    rows = []
    for size in sizes:
        inputs, tokens = example(size)
        with modellens.Writer(logdir / f"blas_{size}") as writer:
            call = ways(model, inputs, tokens, writer)["modellens"]
            call()
            free, held = [], []
            for _ in range(ROUNDS):
                free.append(seconds(call))
                with threadpool_limits(1, user_api="blas"):
                    held.append(seconds(call))
        med = statistics.median
        rows.append(
            [
                f"{size:,}",
                f"{med(free):.3f} s",
                f"{med(held):.3f} s",
                f"{med([f / h for f, h in zip(free, held)]):.2f}×",
            ]
        )
    return table(
        f"log_attention at torch threads = {torch.get_num_threads()}: numpy BLAS threads as they come vs held "
        f"to 1 (threadpoolctl; medians of {ROUNDS} paired rounds)",
        ["tokens", "BLAS default threads", "BLAS 1 thread", "default ÷ 1 thread"],
        rows,
    )


# ---------------------------------------------------------------------------- (a) memory


def _status(field: str) -> int:
    """A ``/proc/self/status`` field in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def memory_child(way: str, size: int) -> None:
    """In a fresh process: the memory one call of ``way`` needs above the built model (JSON on stdout)."""
    import modellens

    model = bert_base()
    inputs, tokens = example(size)
    with tempfile.TemporaryDirectory() as directory, threads(1), modellens.Writer(directory) as writer:
        call = ways(model, inputs, tokens, writer)[way]
        gc.collect()
        before = _status("VmRSS")
        try:
            Path("/proc/self/clear_refs").write_text("5")  # VmHWM := VmRSS
            reset = True
        except OSError:
            reset = False
        result = call()
        peak = _status("VmHWM")
        del result
    print(json.dumps({"before": before, "peak": peak, "above": peak - before, "reset": reset}))


def measure_memory(way: str, size: int) -> dict:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--memory", way, str(size)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def memory_table(results: dict[int, dict[str, dict]]) -> str:
    rows = []
    for size, by_way in results.items():
        model = by_way["forward"]["before"]
        cells = [f"{size:,}", f"{model / 2**20:,.0f} MB"]
        for way in WAYS:
            above = by_way[way]["above"] / 2**20
            cells.append(f"{above:,.0f} MB")
        forward = by_way["forward"]["above"]
        cells.append(f"{by_way['eager']['above'] / max(by_way['modellens']['above'], 1):.1f}×")
        cells.append(f"{(by_way['modellens']['above'] - forward) / 2**20:,.0f} MB")
        rows.append(cells)
    reset = all(r["reset"] for by_way in results.values() for r in by_way.values())
    return table(
        "Attention capture peak memory above the model (RSS high-water mark, fresh process per cell, 1 thread"
        + ("" if reset else "; VmHWM not resettable here: includes the model's construction")
        + ")",
        [
            "tokens",
            "RSS before the call",
            *(WAY_NAMES[w] for w in WAYS),
            "eager ÷ ModelLens",
            "ModelLens − forward",
        ],
        rows,
    )


# ---------------------------------------------------------------------------- (b) bytes


class _Placeholder:
    """Stands in for bertviz's ``attention.tolist()``: indexes like ``[layers][heads][q][k]`` for
    its shape checks, and is written by ``json.dumps`` as ``_MARKER``."""

    def __init__(self, tokens: int) -> None:
        self._layer = [[[0.0] * tokens] * tokens]

    def __getitem__(self, index: int):
        return self._layer


_MARKER = "@@modellens-bench-attention@@"


def bertviz_page(attentions, tokens: list[str]) -> list[str]:
    """What bertviz's ``head_view(attentions, tokens, html_action="return").data`` writes around
    the weights' JSON: ``head_view`` itself runs, with a placeholder for the weights. The page
    holds the weights twice: head_view.js's ``PYTHON_PARAMS`` marker is replaced by the JSON of
    every parameter, weights included, and the marker also occurs in a comment on that line."""
    import importlib
    import types

    head_view_module = importlib.import_module("bertviz.head_view")  # the module, not bertviz.head_view()

    class Stacked:
        def tolist(self):
            return _Placeholder(len(tokens))

    def dumps(value):
        return json.dumps(value, default=lambda o: _MARKER if isinstance(o, _Placeholder) else repr(o))

    saved = head_view_module.format_attention, head_view_module.json
    head_view_module.format_attention = lambda attention, layers: Stacked()
    head_view_module.json = types.SimpleNamespace(dumps=dumps)
    try:
        page = head_view_module.head_view(attention=list(attentions), tokens=tokens, html_action="return").data
    finally:
        head_view_module.format_attention, head_view_module.json = saved
    return page.split(json.dumps(_MARKER))


def bertviz_chunks(attentions, tokens: list[str]) -> Iterator[str]:
    """Exactly ``head_view(attentions, tokens, html_action="return").data``, apart from its random
    element id, as chunks: the page, and at each place the weights go their JSON one layer at a
    time (what ``json.dumps(torch.stack([a.squeeze(0) for a in attentions]).tolist())`` writes)."""
    import torch

    parts = bertviz_page(attentions, tokens)
    yield parts[0]
    for part in parts[1:]:
        yield "["
        for index, layer in enumerate(attentions):
            with torch.no_grad():
                text = json.dumps(layer.squeeze(0).tolist())
            yield (", " if index else "") + text
            del text
        yield "]" + part


def bertviz_bytes(attentions, tokens: list[str]) -> int:
    return sum(len(chunk.encode()) for chunk in bertviz_chunks(attentions, tokens))


def write_bertviz_html(path: Path, attentions, tokens: list[str]) -> int:
    """bertviz's ``head_view`` HTML of ``attentions`` in ``path`` (written layer by layer); its bytes."""
    size = 0
    with open(path, "w", encoding="utf-8") as out:
        for chunk in bertviz_chunks(attentions, tokens):
            out.write(chunk)
            size += len(chunk.encode())
    return size


def _same_page(a: str, b: str) -> bool:
    """The same bertviz page but for the random element id."""
    import re

    ids = [re.search(r"bertviz-[0-9a-f]{32}", page) for page in (a, b)]
    return all(ids) and len(a) == len(b) and a.replace(ids[0].group(), ids[1].group()) == b


def bertviz_size(eager: Callable[[], object], size: int, tokens: list[str]) -> dict:
    """bertviz's HTML bytes of one step (and how long ``head_view`` took, where it ran)."""
    from bertviz import head_view

    attentions = eager()
    if size <= 256:
        start = time.perf_counter()
        page = head_view(attention=list(attentions), tokens=tokens, html_action="return").data
        took = time.perf_counter() - start
        streamed = "".join(bertviz_chunks(attentions, tokens))
        assert _same_page(page, streamed), "bertviz_chunks differs from head_view"
        out = {"bytes": len(page.encode()), "how": "head_view", "seconds": took}
        del page, streamed
        return out
    if size <= 512:
        start = time.perf_counter()
        total = bertviz_bytes(attentions, tokens)
        return {"bytes": total, "how": "exact, layer by layer", "seconds": time.perf_counter() - start}
    # 2,048 tokens: the page, and layer 0's JSON (head by head) × 12 at each place it goes
    parts = bertviz_page(attentions, tokens)
    first = attentions[0].squeeze(0)
    heads = first.shape[0]
    layer0 = 2 + sum(len(json.dumps(first[h].tolist())) for h in range(heads)) + 2 * (heads - 1)
    weights = 2 + LAYERS * layer0 + 2 * (LAYERS - 1)
    estimate = len("".join(parts).encode()) + (len(parts) - 1) * weights
    return {"bytes": estimate, "how": "estimate: layer 0's JSON × 12", "seconds": None}


def modellens_step_bytes(model, size: int, logdir: Path) -> int:
    import modellens
    from modellens.transformers import log_attention

    inputs, tokens = example(size)
    with modellens.Writer(logdir / f"bytes_{size}") as writer:
        writer.flush()
        empty = os.path.getsize(writer.path)
        log_attention(writer, model, inputs, tokens=tokens, step=0)
        writer.flush()
        return os.path.getsize(writer.path) - empty


def mean_entropy(layers) -> float:
    """Mean row entropy in nats of per-layer ``[heads, q, k]`` (or ``[1, heads, q, k]``) weights."""
    import numpy as np

    total = count = 0.0
    for layer in layers:
        w = np.asarray(layer, dtype=np.float32).reshape(-1, layer.shape[-1])
        total += float(-(w * np.log(np.maximum(w, 1e-30))).sum(axis=1).sum())
        count += w.shape[0]
    return total / count


def peaked_weights(sigma: float, size: int = 512) -> list:
    """12 layers of 12 heads of softmax(sigma · N(0, 1)) rows: the larger sigma, the more peaked."""
    import numpy as np

    rng = np.random.default_rng(0)
    out = []
    for _ in range(LAYERS):
        logits = rng.normal(size=(HEADS, size, size)).astype(np.float32) * np.float32(sigma)
        weights = np.exp(logits - logits.max(axis=-1, keepdims=True))
        out.append(weights / weights.sum(axis=-1, keepdims=True))
    return out


def peakedness_table(bert_512, bert_bytes: int, logdir: Path) -> str:
    """ModelLens's bytes per 512-token step as the weights get more peaked (``Writer.attention``)."""
    import math

    import modellens

    size = 512
    tokens = ["[CLS]", *(f"w{i}" for i in range(1, size - 1)), "[SEP]"]
    raw = LAYERS * HEADS * size * size * 2
    cases = [("BERT-base, random weights (eager forward)", mean_entropy(bert_512), bert_bytes)]
    for sigma in PEAKED_SIGMAS:
        weights = peaked_weights(sigma, size)
        with modellens.Writer(logdir / f"peaked_{sigma}") as writer:
            writer.flush()
            empty = os.path.getsize(writer.path)
            writer.attention("attention", weights, tokens=tokens, step=0)
            writer.flush()
            stored = os.path.getsize(writer.path) - empty
        cases.append((f"synthetic softmax({sigma} · N(0, 1)) rows", mean_entropy(weights), stored))
        del weights
    rows = [[what, f"{entropy:.2f}", mb(stored), f"{raw / stored:.1f}×"] for what, entropy, stored in cases]
    return table(
        f"ModelLens bytes per 12 × 12 × 512 × 512 step by how peaked the weights are (uniform rows: "
        f"{math.log(size):.2f} nats; float16 raw: {mb(raw)})",
        ["weights", "mean row entropy (nats)", "ModelLens event file", "float16 ÷ ModelLens"],
        rows,
    )


def mb(value: float) -> str:
    if value >= 2**30:
        return f"{value / 2**30:.2f} GB"
    return f"{value / 2**20:.1f} MB" if value >= 2**20 else f"{value / 1024:.0f} KB"


def bytes_table(modellens_bytes: dict[int, int], bertviz: dict[int, dict]) -> str:
    rows = []
    for size in sorted(set(modellens_bytes) | set(bertviz)):
        raw = LAYERS * HEADS * size * size * 2
        ours = modellens_bytes.get(size)
        peer = bertviz.get(size)
        rows.append(
            [
                f"{size:,}",
                mb(ours) if ours else "—",
                mb(raw),
                f"{raw / ours:.1f}×" if ours else "—",
                f"{mb(peer['bytes'])} ({peer['how']})" if peer else "—",
                f"{peer['bytes'] / ours:.0f}×" if peer and ours else "—",
                f"{peer['seconds']:.1f} s" if peer and peer["seconds"] is not None else "—",
            ]
        )
    return table(
        "Attention bytes per step, BERT-base 12 × 12 (one step; 1 MB = 2^20 bytes)",
        [
            "tokens",
            "ModelLens event file",
            "float16 raw",
            "float16 ÷ ModelLens",
            "bertviz head_view HTML",
            "bertviz ÷ ModelLens",
            "bertviz HTML built in",
        ],
        rows,
    )


# ---------------------------------------------------------------------------- (c) reduction


def time_reduction(attentions, tokens: list[str], logdir: Path) -> dict[str, list[float]]:
    import modellens
    from modellens.attention import Collector, encode, from_input

    out: dict[str, list[float]] = {"add": [], "from_input": [], "encode": [], "write": []}
    with modellens.Writer(logdir) as writer:
        for step in range(ROUNDS + 1):
            collector = Collector()
            start = time.perf_counter()
            for index, layer in enumerate(attentions):
                collector.add(layer, name=f"layer {index}")
            added = time.perf_counter()
            data = from_input(collector, tokens=tokens)
            reduced = time.perf_counter()
            value = encode("attention", data)
            encoded = time.perf_counter()
            writer._write(value, step, None)
            writer.flush()
            written = time.perf_counter()
            if step:  # the first is a warm-up
                out["add"].append(added - start)
                out["from_input"].append(reduced - added)
                out["encode"].append(encoded - reduced)
                out["write"].append(written - encoded)
    return out


def reduction_table(results: dict[int, dict[str, list[float]]], forward: dict[int, float]) -> str:
    med = statistics.median
    rows = []
    for count, parts in results.items():
        total = med([sum(values) for values in zip(*parts.values())])
        rows.append(
            [
                str(count),
                f"{med(parts['add']) * 1000:.0f} ms ({med(parts['add']) * 1000 / LAYERS:.0f} ms a layer)",
                f"{med(parts['from_input']) * 1000:.0f} ms",
                f"{med(parts['encode']) * 1000:.0f} ms",
                f"{med(parts['write']) * 1000:.0f} ms",
                f"{total * 1000:.0f} ms",
                f"{total / forward[count]:.2f}×" if count in forward else "—",
            ]
        )
    return table(
        f"Writer reduction alone, 12 × 12 × 512 × 512 eager weights (medians of {ROUNDS})",
        [
            "threads",
            "12 × Collector.add (quantize, thumbnails, scores, rollout step)",
            "from_input (rollout map, scores)",
            "encode",
            "write + flush",
            "total",
            "÷ sdpa forward at 512",
        ],
        rows,
    )


# ---------------------------------------------------------------------------- main


def main(sizes: tuple[int, ...] = SIZES) -> str:
    import torch

    default_threads = torch.get_num_threads()
    out = []
    model = bert_base()
    forward_512: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as directory:
        logdir = Path(directory)
        for count in dict.fromkeys((1, default_threads)):
            with threads(count):
                timings = {size: time_ways(model, size, logdir) for size in sizes}
            out.append(time_table(timings, count))
            if 512 in timings:
                forward_512[count] = statistics.median(timings[512]["forward"])
            for child in logdir.iterdir():  # the timing steps' event files: up to 50 MB a step
                for file in child.iterdir():
                    file.unlink()
        if default_threads > 1:
            out.append(blas_contention(model, logdir, tuple(s for s in sizes if s < LONG)))
        memory = {size: {way: measure_memory(way, size) for way in WAYS} for size in sizes}
        out.append(memory_table(memory))
        ours = {size: modellens_step_bytes(model, size, logdir) for size in sizes}
        peers = {}
        for size in sorted(set(BERTVIZ_SIZES) | set(sizes)):
            inputs, tokens = example(size)
            eager = ways(model, inputs, tokens, None)["eager"]
            peers[size] = bertviz_size(eager, size, tokens)
            gc.collect()
        out.append(bytes_table(ours, peers))
        inputs, tokens = example(512)
        attentions = ways(model, inputs, tokens, None)["eager"]()
        reductions = {}
        for count in dict.fromkeys((1, default_threads)):
            with threads(count):
                reductions[count] = time_reduction(attentions, tokens, logdir / f"reduction_{count}")
        out.append(reduction_table(reductions, forward_512))
        if 512 in ours:
            out.append(peakedness_table(attentions, ours[512], logdir))
    return "\n".join(out)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--memory":
        memory_child(sys.argv[2], int(sys.argv[3]))
    else:
        chosen = tuple(int(s) for s in sys.argv[1:]) or SIZES
        print(main(chosen))
