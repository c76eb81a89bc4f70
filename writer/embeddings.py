"""Embeddings for TensorBoard's own Projector tab: the files its ``projector`` plugin reads.

``write`` puts, in the run directory (the directory of the run's event file):

- ``projector_config.pbtxt``: a ``ProjectorConfig`` text proto listing one ``embeddings`` entry
  per (tag, step), tensor name ``"<tag> @ step <n>"``, the latest step first; replaced
  atomically (temporary file, then ``os.replace``) so a reader never sees half a file; entries
  not written by ModelLens are kept as they are;
- ``modellens-projector/<tag slug>/step-<n>.tensor.bytes``: the vectors as raw float32, the
  smallest format the plugin reads; it tells binary from TSV by whether the file decodes as
  UTF-8 text, so when the bytes' first line would decode (zeros, small integers, 0.5...) the
  step is written as ``step-<n>.tensor.tsv`` instead, with 9 significant digits (exact in
  float32);
- ``step-<n>.metadata.tsv`` when ``labels`` are given: one column without a header, or a header
  row then one row per point for several columns (the Projector's two layouts).

Labels may hold no tab, newline or carriage return (refused, not escaped: the Projector has no
escaping, so any escape would be shown literally), and no point may have only blank labels
(the Projector skips blank lines, which would shift every later label onto the wrong point).

What TensorBoard 2.21 does with them (``tensorboard/plugins/projector``): the server finds runs
through the data provider (both ``--load_fast`` values; a config at the logdir's root is run
``"."``), reads the config when it first sees a set of runs and again only when that set
changes (steps written later appear once TensorBoard is restarted, or a new run appears), and
then reads every listed tensor. The browser asks for at most 100,000 rows, lists only tensors
of at least 2 points and 2 dimensions, orders its tensor menu itself (tensors with labels
first, then more points first, then by name) and opens the first; PCA, t-SNE and UMAP run in
the browser. It puts tensor names into URLs unescaped, so tags with ``& # + %`` are refused.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import secrets
import threading
from dataclasses import dataclass
from typing import Any, Iterator, Mapping, Sequence

import numpy as np
from google.protobuf import text_format
from tensorboard.plugins.projector.projector_config_pb2 import EmbeddingInfo, ProjectorConfig

from modellens._convert import to_numpy
from modellens._packing import check_text

try:
    import fcntl
except ImportError:  # Windows: the in-process lock alone
    fcntl = None  # type: ignore[assignment]

#: The file TensorBoard's projector looks for in each run directory.
CONFIG_FILENAME = "projector_config.pbtxt"
#: Where the tensors and metadata go, inside the run directory.
DIRECTORY = "modellens-projector"
#: The Projector's browser code asks for at most 100,000 rows (``num_rows=1e5``); it would
#: silently show only the first ones.
MAX_POINTS = 100_000
#: The Projector's browser code lists only tensors with more than one point and more than one
#: dimension (its tensor menu drops the others).
MIN_POINTS = 2
MIN_DIMENSIONS = 2
#: 2**26 float32 values (256 MiB): the plugin holds a step in memory and the browser downloads it.
MAX_ELEMENTS = 2**26
#: The metadata TSV, in UTF-8.
MAX_METADATA_BYTES = 2**26
#: The name the Projector gives a single headerless column.
DEFAULT_COLUMN = "label"
#: printf format of TSV tensors: 9 significant digits identify every float32.
TSV_FORMAT = "%.9g"

# The Projector's browser code puts the tensor name into its URLs without escaping it.
_URL_BREAKING = re.compile(r"[&#+%\x00-\x1f\x7f]")
# What JavaScript's String.prototype.trim() removes: the Projector skips lines that trim to "".
_JS_WHITESPACE = "\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
_LINE_BREAKING = re.compile(r"[\t\n\r]")
_OUR_NAME = re.compile(r" @ step (\d+)\Z")

__all__ = [
    "CONFIG_FILENAME",
    "DIRECTORY",
    "MAX_ELEMENTS",
    "MAX_METADATA_BYTES",
    "MAX_POINTS",
    "MIN_DIMENSIONS",
    "MIN_POINTS",
    "Embeddings",
    "check_tag",
    "from_input",
    "read_config",
    "tensor_name",
    "write",
]


@dataclass(frozen=True)
class Embeddings:
    """One step: ``vectors`` float32 ``[points, dimensions]`` (C order, owned) and, per metadata
    column, its name and one label per point (``columns`` empty without labels)."""

    vectors: np.ndarray
    columns: tuple[str, ...] = ()
    labels: tuple[tuple[str, ...], ...] = ()

    @property
    def points(self) -> int:
        return int(self.vectors.shape[0])

    @property
    def dimensions(self) -> int:
        return int(self.vectors.shape[1])

    def metadata_tsv(self) -> bytes | None:
        """The metadata file: no header for one column, a header row for several."""
        if not self.columns:
            return None
        if len(self.columns) == 1:
            lines: Sequence[str] = self.labels[0]
        else:
            lines = ["\t".join(self.columns), *map("\t".join, zip(*self.labels))]
        return "".join(f"{line}\n" for line in lines).encode("utf-8")

    def tensor_file(self) -> tuple[str, bytes]:
        """``("bytes", raw float32)`` when TensorBoard reads the bytes as binary, else ``("tsv", text)``."""
        data = self.vectors.tobytes()
        if read_as_binary(data):
            return "bytes", data
        return "tsv", tsv_text(self.vectors)


# ---------------------------------------------------------------------------- validation


def from_input(vectors: Any, labels: Any = None) -> Embeddings:
    """Validated, converted step; raises ``ValueError``/``TypeError`` naming the argument."""
    array = _vectors(vectors)
    columns: tuple[str, ...] = ()
    values: tuple[tuple[str, ...], ...] = ()
    if labels is not None:
        columns, values = _labels(labels, array.shape[0])
    data = Embeddings(array, columns, values)
    if columns:
        size = sum(len(label.encode("utf-8")) + 1 for column in values for label in column)
        if size > MAX_METADATA_BYTES:
            raise ValueError(
                f"labels take {size:,} bytes of TSV, more than MAX_METADATA_BYTES = {MAX_METADATA_BYTES:,}; "
                "shorten them or log fewer points"
            )
    return data


def _vectors(vectors: Any) -> np.ndarray:
    if vectors is None:
        raise TypeError("vectors must be a 2-D array [points, dimensions], got None")
    if (type(vectors).__module__ or "").startswith("torch") and str(getattr(vectors, "dtype", "")) == "torch.bfloat16":
        vectors = vectors.float()  # numpy has no bfloat16
    array = to_numpy(vectors, "vectors")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"vectors must be real numbers, got dtype {array.dtype}")
    if array.ndim != 2:
        raise ValueError(
            f"vectors must be 2-D [points, dimensions], got shape {tuple(array.shape)}; "
            "flatten each point's vector, e.g. x.reshape(len(x), -1)"
        )
    points, dimensions = array.shape
    if points < MIN_POINTS:
        raise ValueError(
            f"vectors has {points} point(s); the Projector lists only tensors of at least {MIN_POINTS} points"
        )
    if dimensions < MIN_DIMENSIONS:
        raise ValueError(
            f"vectors has {dimensions} dimension(s); the Projector needs at least {MIN_DIMENSIONS} per point"
        )
    if points > MAX_POINTS:
        raise ValueError(
            f"vectors has {points:,} points; the Projector shows at most MAX_POINTS = {MAX_POINTS:,}: "
            "log a sample, e.g. vectors[:100_000]"
        )
    if points * dimensions > MAX_ELEMENTS:
        raise ValueError(
            f"vectors has {points:,} x {dimensions:,} = {points * dimensions:,} values, more than "
            f"MAX_ELEMENTS = {MAX_ELEMENTS:,}; log fewer points or reduce the dimensions first"
        )
    if array.dtype.kind == "f":
        finite = np.isfinite(array)
        if not finite.all():
            row = int(np.argwhere(~finite)[0][0])
            raise ValueError(
                f"vectors holds {int((~finite).sum())} NaN or infinite values (the first in row {row}); "
                "the Projector cannot place them"
            )
    with np.errstate(over="ignore"):
        result = np.array(array, dtype=np.float32, order="C", copy=True)
    if not np.isfinite(result).all():
        row = int(np.argwhere(~np.isfinite(result))[0][0])
        raise ValueError(
            f"vectors has values beyond the float32 range (the first in row {row}); the Projector stores float32"
        )
    return result


def _labels(labels: Any, points: int) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    if isinstance(labels, Mapping):
        if not labels:
            raise ValueError("labels is an empty mapping; give at least one column, or labels=None")
        names = []
        for name in labels:
            if not isinstance(name, str):
                raise TypeError(f"labels column names must be str, got {name!r} ({type(name).__name__})")
            check_text(name, "labels column name")
            if not name.strip(_JS_WHITESPACE):
                raise ValueError(f"labels has the blank column name {name!r}; name every column")
            if _LINE_BREAKING.search(name):
                raise ValueError(
                    f"labels column name {name!r} holds a tab or line break; the TSV header cannot hold it"
                )
            names.append(name)
        columns = tuple(_column(labels[name], f"labels[{name!r}]", points) for name in names)
    else:
        names = [DEFAULT_COLUMN]
        columns = (_column(labels, "labels", points),)
    if len(columns) == 1:
        for index, label in enumerate(columns[0]):
            if not label.strip(_JS_WHITESPACE):
                raise ValueError(
                    f"labels[{index}] is blank ({label!r}); the Projector skips blank metadata lines, which "
                    "would shift every later label: give a placeholder such as '<none>'"
                )
    else:
        for index, row in enumerate(zip(*columns)):
            if not "".join(row).strip(_JS_WHITESPACE):
                raise ValueError(
                    f"point {index} has only blank labels {row!r}; the Projector skips blank metadata lines, "
                    "which would shift every later row: give at least one a placeholder such as '<none>'"
                )
    return tuple(names), columns


def _column(values: Any, argument: str, points: int) -> tuple[str, ...]:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{argument} must be a sequence of str or int labels, not a single {type(values).__name__}")
    if isinstance(values, (list, tuple)):
        items = list(values)
    else:
        array = to_numpy(values, argument)
        if array.ndim != 1:
            raise ValueError(f"{argument} must be 1-D (one label per point), got shape {tuple(array.shape)}")
        if array.dtype.kind not in "iuUO":
            raise TypeError(f"{argument} must hold str or int labels, got dtype {array.dtype}")
        items = array.tolist()
    if len(items) != points:
        raise ValueError(f"{argument} has {len(items):,} labels but vectors has {points:,} points; give one per point")
    result = []
    for index, item in enumerate(items):
        if isinstance(item, (bool, np.bool_)):
            raise TypeError(f"{argument}[{index}] is the bool {item!r}; give str or int labels (e.g. str(flag))")
        if isinstance(item, (int, np.integer)):
            result.append(str(int(item)))
            continue
        if not isinstance(item, str):
            raise TypeError(f"{argument}[{index}] must be str or int, got {item!r} ({type(item).__name__})")
        check_text(item, f"{argument}[{index}]")
        found = _LINE_BREAKING.search(item)
        if found:
            raise ValueError(
                f"{argument}[{index}] = {item!r} holds a {_CHAR_NAMES[found.group()]}, which would split the "
                "Projector's TSV; replace it, e.g. label.replace('\\t', ' ')"
            )
        result.append(str(item))
    return tuple(result)


_CHAR_NAMES = {"\t": "tab", "\n": "newline", "\r": "carriage return"}


def check_tag(tag: str) -> str:
    """A tag usable in the Projector, whose browser code puts tensor names into URLs unescaped."""
    found = _URL_BREAKING.search(tag)
    if found:
        raise ValueError(
            f"embeddings tag {tag!r} holds {found.group()!r}; the Projector puts tensor names into its URLs "
            "unescaped, so '&', '#', '+', '%' and control characters would break it: use e.g. '/' or '_'"
        )
    return tag


def tensor_name(tag: str, step: int) -> str:
    """The name the Projector lists a step under."""
    return f"{tag} @ step {step}"


# ---------------------------------------------------------------------------- file formats


def read_as_binary(data: bytes) -> bool:
    """Whether TensorBoard's projector reads ``data`` as raw float32 rather than TSV text.

    It first reads a tensor file as UTF-8 text and falls back to binary on a
    ``UnicodeDecodeError``. With TensorFlow it decodes line by line (lines end at ``\\n``);
    without it, in 16 MiB chunks with universal newlines (lines also end at ``\\r``). Either
    way the decoding fails before any line is parsed exactly when the bytes up to the first
    ``\\n`` or ``\\r`` (included) are not valid UTF-8.
    """
    ends = [i for i in (data.find(b"\n"), data.find(b"\r")) if i >= 0]
    first = data[: min(ends) + 1] if ends else data
    try:
        first.decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def tsv_text(vectors: np.ndarray) -> bytes:
    """One line per point, tab-separated, 9 significant digits (exact once read back as float32)."""
    row = "\t".join([TSV_FORMAT] * vectors.shape[1]) + "\n"
    return "".join(row % tuple(values) for values in vectors.tolist()).encode("ascii")


# ---------------------------------------------------------------------------- writing


def read_config(run_dir: str) -> ProjectorConfig:
    """The run's ``projector_config.pbtxt`` (empty when there is none)."""
    path = os.path.join(run_dir, CONFIG_FILENAME)
    config = ProjectorConfig()
    try:
        with open(path, "rb") as file:
            text = file.read()
    except FileNotFoundError:
        return config
    try:
        text_format.Parse(text.decode("utf-8"), config)
    except (UnicodeDecodeError, text_format.ParseError) as error:
        raise ValueError(
            f"{path} is not a readable ProjectorConfig text proto ({error}); fix or remove it, nothing was written"
        ) from None
    return config


def write(run_dir: str, tag: str, step: int, data: Embeddings, wall_time: float | None = None) -> str:
    """Writes one step's files and lists it in the run's config; returns its tensor name.

    A step written again replaces the earlier one (under new file names, so the config never
    points at a file being rewritten). ``wall_time`` becomes the files' modification time.
    """
    check_tag(tag)
    run_dir = os.path.abspath(run_dir)
    name = tensor_name(tag, step)
    folder = f"{DIRECTORY}/{_slug(tag)}"
    with _locked(run_dir):
        config = read_config(run_dir)
        replaced = [(e.tensor_path, e.metadata_path) for e in config.embeddings if e.tensor_name == name]
        extension, tensor_bytes = data.tensor_file()
        metadata = data.metadata_tsv()
        stem = f"{folder}/step-{step}"
        if any(path and os.path.exists(os.path.join(run_dir, path)) for path in _paths_of(stem, extension, metadata)):
            stem = f"{stem}.{secrets.token_hex(4)}"  # a rewrite: never touch files the config lists
        tensor_path, metadata_path = _paths_of(stem, extension, metadata)
        os.makedirs(os.path.join(run_dir, folder), exist_ok=True)
        written = []
        try:
            _atomic_write(os.path.join(run_dir, tensor_path), tensor_bytes, wall_time)
            written.append(tensor_path)
            if metadata is not None:
                _atomic_write(os.path.join(run_dir, metadata_path), metadata, wall_time)
                written.append(metadata_path)
            entry = EmbeddingInfo(tensor_name=name, tensor_path=tensor_path, metadata_path=metadata_path or "")
            entry.tensor_shape.extend([data.points, data.dimensions])
            entries = [_copy(e) for e in config.embeddings if e.tensor_name != name]
            entries.insert(_insertion_index(entries, step), entry)
            config.ClearField("embeddings")
            config.embeddings.extend(entries)
            _atomic_write(os.path.join(run_dir, CONFIG_FILENAME), text_format.MessageToString(config).encode(), None)
        except BaseException:
            for path in written:
                with contextlib.suppress(OSError):
                    os.remove(os.path.join(run_dir, path))
            raise
        kept = {tensor_path, metadata_path}
        for paths in replaced:
            for path in paths:
                if path.startswith(f"{DIRECTORY}/") and ".." not in path.split("/") and path not in kept:
                    with contextlib.suppress(OSError):
                        os.remove(os.path.join(run_dir, path))
    return name


def _copy(entry: EmbeddingInfo) -> EmbeddingInfo:
    copy = EmbeddingInfo()
    copy.CopyFrom(entry)
    return copy


def _paths_of(stem: str, extension: str, metadata: bytes | None) -> tuple[str, str | None]:
    return f"{stem}.tensor.{extension}", (f"{stem}.metadata.tsv" if metadata is not None else None)


def _slug(tag: str) -> str:
    """A file-system-safe, collision-free folder name for ``tag``."""
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "_", tag).strip("._")[:48] or "tag"
    return f"{readable}-{hashlib.sha256(tag.encode('utf-8')).hexdigest()[:10]}"


def _step_of(entry: EmbeddingInfo) -> int | None:
    """The step of an entry ModelLens wrote, None for anyone else's."""
    found = _OUR_NAME.search(entry.tensor_name)
    if found is None or not entry.tensor_path.startswith(f"{DIRECTORY}/"):
        return None
    return int(found.group(1))


def _insertion_index(entries: Sequence[EmbeddingInfo], step: int) -> int:
    """Latest step first: before our first entry of an equal or earlier step, else after our last."""
    last_ours = None
    for index, entry in enumerate(entries):
        other = _step_of(entry)
        if other is None:
            continue
        if other <= step:
            return index
        last_ours = index
    return 0 if last_ours is None else last_ours + 1


def _atomic_write(path: str, content: bytes, wall_time: float | None) -> None:
    """Writes a temporary file beside ``path`` and renames it over ``path``."""
    directory, base = os.path.split(path)
    temporary = os.path.join(directory, f".{base}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        if wall_time is not None:
            os.utime(temporary, (wall_time, wall_time))
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.remove(temporary)
        raise


_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@contextlib.contextmanager
def _locked(run_dir: str) -> Iterator[None]:
    """One writer of a run's config at a time: threads of this process, and other processes
    (``flock`` on the run directory, where the OS has it)."""
    key = os.path.realpath(run_dir)
    with _locks_guard:
        lock = _locks.setdefault(key, threading.Lock())
    with lock:
        os.makedirs(run_dir, exist_ok=True)
        fd = os.open(run_dir, os.O_RDONLY) if fcntl is not None else None
        try:
            if fd is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            if fd is not None:
                os.close(fd)  # closing releases the flock
