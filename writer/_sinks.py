"""Where a ``Writer``'s records go: an event file of its own, or a user's torch/tensorboardX writer."""

from __future__ import annotations

import os
import threading
from typing import Any

from tensorboard.compat.proto import event_pb2, summary_pb2

from modellens._event_file import EventFileWriter


class OwnFile:
    """Writes to a new event file of our own."""

    def __init__(self, logdir: str, flush_secs: float, filename_suffix: str) -> None:
        self._file = EventFileWriter(logdir, flush_secs=flush_secs, filename_suffix=filename_suffix)
        self.path = self._file.path
        self.logdir = os.path.dirname(os.path.abspath(self.path))

    def add_summary(self, summary: summary_pb2.Summary, step: int, wall_time: float) -> None:
        self._file.add_event(event_pb2.Event(wall_time=wall_time, step=step, summary=summary))

    def flush(self) -> None:
        self._file.flush()

    def close(self) -> None:
        self._file.close()


class ForeignWriter:
    """Writes through a torch ``SummaryWriter`` or tensorboardX writer's own event file.

    TensorBoard's Python loader reads only the newest file of a run, so a second file
    beside theirs would hide one of the two. Their writers flush every 120 s; this one
    flushes theirs ``flush_secs`` after ModelLens writes.
    """

    def __init__(self, writer: Any, flush_secs: float) -> None:
        self._writer = writer
        self._flush_secs = flush_secs
        self._is_tensorboardx = type(writer).__module__.startswith("tensorboardX")
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self.path = writer._get_file_writer().get_logdir()
        self.logdir = self.path

    def add_summary(self, summary: summary_pb2.Summary, step: int, wall_time: float) -> None:
        file_writer = self._writer._get_file_writer()
        records = getattr(getattr(file_writer, "event_writer", None), "_ev_writer", None)
        if self._is_tensorboardx and records is not None:
            from tensorboardX.proto import event_pb2 as tbx_event_pb2

            # tensorboardX's flush() does not drain its queue, so a queued record could still be
            # in memory after our flush() returned: write to its (locked) record writer instead.
            # Its protos lack data_class; the field survives re-parsing as unknown bytes.
            event = event_pb2.Event(wall_time=wall_time, step=step, summary=summary)
            records.write_event(tbx_event_pb2.Event.FromString(event.SerializeToString()))
        else:
            file_writer.add_summary(summary, step, wall_time)
        with self._lock:
            if self._timer is None:
                self._timer = threading.Timer(self._flush_secs, self._timed_flush)
                self._timer.daemon = True
                self._timer.start()

    def _timed_flush(self) -> None:
        with self._lock:
            self._timer = None
        try:
            self._writer.flush()
        except Exception:  # the user closed their writer; nothing left to flush
            pass

    def flush(self) -> None:
        self._writer.flush()

    def close(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None
        self._writer.flush()  # the user owns their writer and closes it


def is_foreign_writer(target: Any) -> bool:
    return hasattr(target, "_get_file_writer") and hasattr(target, "flush")
