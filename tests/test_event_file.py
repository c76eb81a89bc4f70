"""The event-file writer: CRC32C, framing read back independently and by TensorFlow, durability."""

from __future__ import annotations

import signal
import struct
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from tensorboard.compat.proto import event_pb2
from tensorboard.compat.tensorflow_stub.pywrap_tensorflow import masked_crc32c as reference_masked_crc32c

import modellens
from modellens._event_file import EventFileWriter, masked_crc32c


def read_records(path: Path) -> list[bytes]:
    """An independent TFRecord reader that checks both CRCs with TensorBoard's own CRC code."""
    data = path.read_bytes()
    records, offset = [], 0
    while offset < len(data):
        header = data[offset : offset + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[offset + 8 : offset + 12])
        assert header_crc == reference_masked_crc32c(header)
        body = data[offset + 12 : offset + 12 + length]
        (body_crc,) = struct.unpack("<I", data[offset + 12 + length : offset + 16 + length])
        assert body_crc == reference_masked_crc32c(body)
        records.append(body)
        offset += 16 + length
    return records


def events(path: Path) -> list[event_pb2.Event]:
    return [event_pb2.Event.FromString(r) for r in read_records(path)]


@pytest.mark.parametrize("size", [1, 100, 2047, 2048, 2049, 4096 + 7, 70_001, 300_000])
def test_crc32c_agrees_with_tensorboard_at_every_size(size):
    data = np.random.default_rng(size).integers(0, 256, size, dtype=np.uint8).tobytes()
    assert masked_crc32c(data) == reference_masked_crc32c(data)


def test_events_are_framed_and_flushed(tmp_path):
    writer = EventFileWriter(str(tmp_path), flush_secs=60)
    for step in range(100):
        writer.add_event(event_pb2.Event(step=step, wall_time=1.0))
    writer.flush()  # on disk without close
    got = events(Path(writer.path))
    assert got[0].file_version == "brain.Event:2"
    assert [e.step for e in got[1:]] == list(range(100))
    writer.close()


def test_timer_flushes_without_being_asked(tmp_path):
    writer = EventFileWriter(str(tmp_path), flush_secs=0.2)
    writer.add_event(event_pb2.Event(step=7))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and len(read_records(Path(writer.path))) < 2:
        time.sleep(0.05)
    assert [e.step for e in events(Path(writer.path))][-1] == 7
    writer.close()


def test_threads_writing_flushing_and_closing_at_once_lose_nothing_and_never_hang(tmp_path):
    import threading

    writer = EventFileWriter(str(tmp_path), flush_secs=60)
    accepted = []

    def work(offset: int) -> None:
        for step in range(offset, offset + 200):
            try:
                writer.add_event(event_pb2.Event(step=step))
                accepted.append(step)
                if step % 50 == 0:
                    writer.flush()
            except ValueError:  # closed by another thread: refused, never silently dropped
                return

    threads = [threading.Thread(target=work, args=(1000 * i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    writer.close()
    writer.close()
    for thread in threads:
        thread.join(timeout=30)
        assert not thread.is_alive()
    written = [e.step for e in events(Path(writer.path))[1:]]
    assert sorted(written) == sorted(accepted)


def test_writing_after_close_is_a_clear_error(tmp_path):
    with modellens.Writer(tmp_path) as writer:
        pass
    with pytest.raises(ValueError, match="closed"):
        writer.scalar("x", 1.0, step=0)


SCRIPT = """
import sys, time
import modellens
writer = modellens.Writer(sys.argv[1], flush_secs=0.5)
for step in range(5):
    writer.confusion_matrix("c", [0, 1], [1, 1], step=step)
print("written", flush=True)
if sys.argv[2] == "hang":
    time.sleep(60)
"""


def run_script(tmp_path: Path, mode: str) -> subprocess.Popen:
    script = tmp_path / "job.py"
    script.write_text(textwrap.dedent(SCRIPT))
    return subprocess.Popen([sys.executable, str(script), str(tmp_path / "run"), mode], stdout=subprocess.PIPE)


def test_a_killed_job_loses_at_most_the_flush_interval(tmp_path):
    job = run_script(tmp_path, "hang")
    assert job.stdout.readline().strip() == b"written"
    time.sleep(1.5)  # three flush intervals
    job.send_signal(signal.SIGKILL)
    job.wait()
    (path,) = (tmp_path / "run").iterdir()
    assert [e.step for e in events(path) if e.HasField("summary")] == [0, 1, 2, 3, 4]


def test_an_unclosed_writer_is_flushed_at_exit(tmp_path):
    job = run_script(tmp_path, "exit")
    job.communicate(timeout=60)
    assert job.returncode == 0
    (path,) = (tmp_path / "run").iterdir()
    assert len([e for e in events(path) if e.HasField("summary")]) == 5


def test_tensorflow_reads_the_records_and_checks_their_crcs(tmp_path):
    tf = pytest.importorskip("tensorflow")
    with modellens.Writer(tmp_path) as writer:
        for step in range(3):
            writer.confusion_matrix("c", np.arange(2000) % 40, np.arange(2000) % 37, step=step)
    path = Path(writer.path)
    records = [r.numpy() for r in tf.data.TFRecordDataset(str(path))]
    assert records == read_records(path)
    corrupted = bytearray(path.read_bytes())
    corrupted[len(corrupted) // 2] ^= 0xFF
    bad = tmp_path / "corrupted.tfevents"
    bad.write_bytes(bytes(corrupted))
    with pytest.raises(tf.errors.DataLossError):
        list(tf.data.TFRecordDataset(str(bad)))


def test_import_is_light_even_with_tensorflow_installed(tmp_path):
    code = (
        "import sys, modellens; assert 'tensorflow' not in sys.modules and 'torch' not in sys.modules;"
        "w = modellens.Writer(sys.argv[1]); w.scalar('x', 1.0, step=0); w.histogram('h', [1, 2], step=0);"
        "w.confusion_matrix('c', [0], [0], step=0); w.close();"
        "loaded = [m for m in ('tensorflow', 'torch', 'keras') if m in sys.modules]; assert not loaded, loaded"
    )
    result = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
