"""Statistics of torch tensors against an independent float64 numpy reference.

One test body, run against every implementation of the same definition (the pattern of
TensorBoard's histogram ``SummaryBaseTest``): the torch CPU path, the torch bucketed path that
CUDA tensors take (run here on CPU), and the numpy path.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from modellens.distributions import stats as numpy_stats  # noqa: E402
from modellens.distributions import torch_stats  # noqa: E402
from modellens.distributions.stats import BINS, PERCENTILES  # noqa: E402

F32_MAX = float(torch.finfo(torch.float32).max)


def _torch_cpu(tensors):
    return torch_stats.tensor_stats(tensors)


def _torch_bucketed(tensors):
    """The path of non-CPU devices, forced on CPU tensors."""
    rows = torch_stats._Rows(len(tensors))
    with torch.no_grad():
        torch_stats._bucket_stats(list(tensors), list(range(len(tensors))), rows)
    return rows.finish()


def _numpy(tensors):
    return numpy_stats.tensor_stats([t.float().numpy() if t.dtype == torch.bfloat16 else t.numpy() for t in tensors])


IMPLEMENTATIONS = {"torch": _torch_cpu, "torch-bucketed": _torch_bucketed, "numpy": _numpy}


def _generator(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def _cases() -> dict[str, torch.Tensor]:
    g = _generator()
    nan, inf = float("nan"), float("inf")
    mixed = torch.randn(10_000, generator=g)
    mixed[[3, 500, 9000]] = torch.tensor([nan, inf, -inf])
    mixed[7] = 0.0
    mixed_small = torch.tensor([1.5, nan, -2.0, inf, 0.0, -inf, nan, 4.0])
    huge = (torch.rand(10_000, generator=g) * 2 - 1) * F32_MAX
    huge[:2] = torch.tensor([F32_MAX, -F32_MAX])
    base = torch.randn(600, 700, generator=g)
    return {
        "normal": torch.randn(1000, 300, generator=g) * 0.02 + 0.001,
        "normal small": torch.randn(3, 5, 7, generator=g),
        "all nan": torch.full((100,), nan),
        "all nan big": torch.full((5000,), nan),
        "only inf": torch.tensor([inf, -inf, inf]),
        "only inf big": torch.tensor([inf, -inf]).repeat(3000),
        "mixed nan inf": mixed,
        "mixed nan inf small": mixed_small,
        "constant": torch.full((5000,), 0.7),
        "constant small": torch.full((10,), -3.25),
        "zeros": torch.zeros(8192),
        "one element": torch.tensor([3.5]),
        "zero-dim": torch.tensor(2.0),
        "empty": torch.empty(0),
        "empty 2-d": torch.empty(3, 0),
        "near float32 max": huge,
        "near float32 max small": huge[:100].clone(),
        "near float32 max one sign": F32_MAX * (1 - torch.rand(5000, generator=g) * 1e-3),
        "large squares": torch.randn(6000, generator=g) * 1e25,
        "denormals": torch.randn(10_000, generator=g) * 1e-40,
        "denormals small": torch.tensor([1e-45, -3e-44, 0.0, 2e-40]),
        "tiny range": 1.0 + torch.arange(5000) * 1e-7,
        "far from zero": 1000.0 + torch.randn(10_000, generator=g) * 0.01,
        "batchnorm gamma": 1.0 + torch.randn(512, generator=g) * 1e-3,
        "batchnorm gamma big": 1.0 + torch.randn(100_000, generator=g) * 1e-4,
        "float16": (torch.randn(5000, generator=g) * 3).half(),
        "float16 small": torch.tensor([65504.0, -65504.0, 6e-8, 0.0]).half(),
        "float16 inf": torch.tensor([1.0, float("inf"), 2.0] * 2000).half(),
        "bfloat16": (torch.randn(70, 80, generator=g) * 1e3).bfloat16(),
        "bfloat16 small": torch.randn(16, generator=g).bfloat16(),
        "float64": torch.randn(5000, generator=g, dtype=torch.float64) * 1e100,
        "float64 small": torch.tensor([1e-300, 2.0, -5e150], dtype=torch.float64),
        "int64": torch.randint(-1000, 1000, (5000,), generator=g),
        "int64 big values": torch.randint(-(2**40), 2**40, (5000,), generator=g),
        "int32 small": torch.randint(-5, 5, (64,), generator=g, dtype=torch.int32),
        "uint8": torch.randint(0, 256, (5000,), generator=g, dtype=torch.uint8),
        "int8": torch.randint(-128, 128, (300,), generator=g, dtype=torch.int8),
        "transposed": base.t(),
        "strided slice": base[::3, 1::2],
        "transposed small": torch.randn(40, 30, generator=g).t(),
        "expanded": torch.randn(1, 700, generator=g).expand(50, 700),
    }


CASES = _cases()


def _reference(t: torch.Tensor) -> dict:
    x = t.detach().to(torch.float64).reshape(-1).numpy()
    finite = x[np.isfinite(x)]
    ref = {
        "counts": [
            x.size,
            int((finite == 0).sum()),
            int(np.isnan(x).sum()),
            int((x == np.inf).sum()),
            int((x == -np.inf).sum()),
        ],
        "finite": finite,
    }
    if finite.size:
        lo, hi = finite.min(), finite.max()
        scale = max(abs(lo), abs(hi)) or 1.0
        scaled = finite / scale
        mean = (
            float(np.mean(finite / finite.size) * finite.size)
            if not np.isfinite(finite.sum())
            else float(finite.mean())
        )
        ref["values"] = [lo, hi, mean, float(np.std(scaled) * scale), float(np.sqrt(np.dot(scaled, scaled)) * scale)]
        ordered = np.sort(finite)
        ranks = np.rint(np.asarray(PERCENTILES) / 100 * (finite.size - 1)).astype(int)
        ref["percentiles"] = ordered[ranks]
    return ref


def _check(stats, row: int, t: torch.Tensor, label: str) -> None:
    ref = _reference(t)
    counts = stats.counts[row]
    assert counts.tolist() == ref["counts"], f"{label}: counts"
    finite = ref["finite"]
    values, histogram, percentiles = stats.values[row], stats.histograms[row], stats.percentiles[row]
    assert histogram.sum() == finite.size, f"{label}: every finite element counted once"
    if not finite.size:
        assert np.isnan(values).all() and np.isnan(percentiles).all(), f"{label}: no finite value → NaN"
        return
    lo, hi, mean, std, norm = ref["values"]
    assert values[0] == lo and values[1] == hi, f"{label}: exact min/max {values[:2]} vs {(lo, hi)}"
    assert abs(values[2] - mean) <= 1e-5 * (abs(mean) + std) + 1e-300, f"{label}: mean {values[2]} vs {mean}"
    assert abs(values[3] - std) <= 1e-5 * std + 1e-12 * abs(mean) + 1e-300, f"{label}: std {values[3]} vs {std}"
    assert abs(values[4] - norm) <= 1e-5 * norm + 1e-300, f"{label}: norm {values[4]} vs {norm}"
    # Equal bins over [min, max]: the elements left of edge k are those below it, give or take
    # the ones on the edge (within float rounding, which decides their side).
    if hi > lo:
        span = hi / 2 - lo / 2
        edges = lo / 2 + span * np.arange(1, BINS) / BINS
        half = np.sort(finite / 2)
        tolerance = 2e-6 * span
        below = np.searchsorted(half, edges - tolerance, side="left")
        at_most = np.searchsorted(half, edges + tolerance, side="right")
        left_of_edge = np.cumsum(histogram)[:-1]
        bad = np.flatnonzero((left_of_edge < below) | (left_of_edge > at_most))
        assert bad.size == 0, (
            f"{label}: histogram edges {bad[:5]}: {left_of_edge[bad[:5]]} not in {below[bad[:5]]}..{at_most[bad[:5]]}"
        )
    else:
        assert histogram[0] == finite.size, f"{label}: a constant tensor is all in bin 0"
    width = (hi / 2 - lo / 2) / BINS * 2
    assert np.all(np.abs(percentiles - ref["percentiles"]) <= width * 1.0001 + 1e-300), f"{label}: percentiles"
    assert np.all((percentiles >= lo) & (percentiles <= hi)), f"{label}: percentiles inside [min, max]"


@pytest.fixture(params=list(IMPLEMENTATIONS), scope="module")
def implementation(request):
    return request.param


@pytest.fixture(scope="module")
def all_case_stats(implementation):
    names = list(CASES)
    return names, IMPLEMENTATIONS[implementation]([CASES[n] for n in names])


@pytest.mark.parametrize("case", list(CASES))
def test_statistics_match_float64_reference(all_case_stats, case):
    names, stats = all_case_stats
    _check(stats, names.index(case), CASES[case], case)


def test_each_case_alone_matches_the_batch(implementation):
    """Rows do not depend on the other tensors of the call (grouping, buckets, order)."""
    compute = IMPLEMENTATIONS[implementation]
    names = list(CASES)
    together = compute([CASES[n] for n in reversed(names)])
    for row, name in enumerate(reversed(names)):
        alone = compute([CASES[name]])
        assert np.array_equal(alone.counts[0], together.counts[row]), name
        np.testing.assert_allclose(alone.values[0], together.values[row], rtol=1e-12, equal_nan=True, err_msg=name)
        assert np.array_equal(alone.histograms[0], together.histograms[row]), name


def test_output_shapes_and_types():
    stats = torch_stats.tensor_stats([torch.randn(10), torch.randn(5000)])
    assert stats.counts.shape == (2, 5) and stats.counts.dtype == np.int64
    assert stats.values.shape == (2, 5) and stats.values.dtype == np.float64
    assert stats.percentiles.shape == (2, len(PERCENTILES))
    assert stats.histograms.shape == (2, BINS) and stats.histograms.dtype == np.int64
    assert len(torch_stats.tensor_stats([])) == 0


@pytest.mark.parametrize("implementation", ["torch", "torch-bucketed"])
def test_tensors_larger_than_a_chunk(implementation):
    """Tensors split into several pieces (contiguous, transposed, with NaN) and a whole group
    of small tensors larger than one stacked batch."""
    g = _generator(1)
    chunk = torch_stats.CHUNK_BYTES // 4
    contiguous = torch.randn(chunk + 12_345, generator=g) * 0.1 + 0.5
    transposed = torch.randn(2050, chunk // 2048 + 3, generator=g).t()
    with_nan = torch.randn(torch_stats.SLOW_CHUNK * 2 + 7, generator=g)
    with_nan[[5, torch_stats.SLOW_CHUNK + 9]] = float("nan")
    with_nan[-1] = float("-inf")
    gammas = [1 + 1e-3 * torch.randn(4096, generator=g) for _ in range(300)]
    assert transposed.numel() > chunk and not transposed.is_contiguous()
    tensors = [contiguous, transposed, with_nan, *gammas]
    stats = IMPLEMENTATIONS[implementation](tensors)
    for row, (t, label) in enumerate(zip(tensors[:4], ["contiguous", "transposed", "with nan", "gamma"])):
        _check(stats, row, t, label)
    _check(stats, len(tensors) - 1, gammas[-1], "last gamma")


def test_requires_grad_and_parameters():
    layer = torch.nn.Linear(100, 60)
    stats = torch_stats.tensor_stats([layer.weight, layer.bias])
    _check(stats, 0, layer.weight.detach(), "weight")
    assert layer.weight.grad is None


@pytest.mark.parametrize("bad", [torch.zeros(3, dtype=torch.complex64), "not a tensor"])
def test_refuses_what_it_cannot_describe(bad):
    with pytest.raises(TypeError, match="tensors"):
        torch_stats.tensor_stats([torch.zeros(2), bad])


def test_peak_memory_stays_bounded():
    """Extra memory stays < 64 MB on a 120 MB tensor, through the fast, exact and copy paths."""
    code = """
import resource, torch
from modellens.distributions import torch_stats
torch.set_num_threads(1)
x = torch.randn(30_000_000)
y = x.view(6000, 5000)
z = torch.randn(8_000_000).half()
torch_stats.tensor_stats([torch.randn(100), torch.randn(10000)])  # imports, small scratch
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
torch_stats.tensor_stats([x])
torch_stats.tensor_stats([y.t()])
torch_stats.tensor_stats([z])
x[123] = float("nan")
torch_stats.tensor_stats([x])
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    grown_mb = float(out.stdout.strip().splitlines()[-1])
    assert grown_mb < 64, f"peak memory grew by {grown_mb:.0f} MB"


def test_import_modellens_distributions_does_not_import_torch():
    code = "import sys, modellens, modellens.distributions; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_from_input_reduces_torch_tensors_with_torch():
    import modellens.distributions as distributions

    g = _generator(2)
    tensors = {"w": torch.randn(300, 20, generator=g), "b": torch.randn(20, generator=g), "n": np.arange(5.0)}
    data = distributions.from_input(tensors)
    expected = torch_stats.tensor_stats([tensors["w"], tensors["b"]])
    assert np.array_equal(data.stats.counts[:2], expected.counts)
    np.testing.assert_array_equal(data.stats.values[:2], expected.values)
    assert data.stats.counts[2, 0] == 5
