"""Writes TensorBoard event files (TFRecord framing) on a background thread."""

from __future__ import annotations

import atexit
import os
import queue
import socket
import struct
import threading
import time
import weakref

import google_crc32c
from tensorboard.compat.proto import event_pb2

_FLUSH = object()
_CLOSE = object()
_open_writers: weakref.WeakSet[EventFileWriter] = weakref.WeakSet()
_file_counter = 0
_counter_lock = threading.Lock()


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC32C, with Google's C library (``google-crc32c``)."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def frame_record(data: bytes) -> bytes:
    """One TFRecord: length, masked CRC of the length, data, masked CRC of the data."""
    header = struct.pack("<Q", len(data))
    return b"".join(
        (
            header,
            struct.pack("<I", masked_crc32c(header)),
            data,
            struct.pack("<I", masked_crc32c(data)),
        )
    )


def event_file_name(filename_suffix: str = "") -> str:
    """A name TensorBoard recognises, unique within this process."""
    global _file_counter
    with _counter_lock:
        _file_counter += 1
        counter = _file_counter
    return (
        f"events.out.tfevents.{int(time.time()):010d}.{socket.gethostname()}.{os.getpid()}.{counter}{filename_suffix}"
    )


class EventFileWriter:
    """Appends ``Event`` protos to one new event file in ``logdir``.

    ``add_event`` only serializes and queues; the background thread frames the record
    (CRC32C) and writes it. The file is flushed every ``flush_secs`` when there is
    something new, on ``flush()``, on ``close()`` and at interpreter exit.
    """

    def __init__(self, logdir: str, *, flush_secs: float = 2.0, filename_suffix: str = "") -> None:
        os.makedirs(logdir, exist_ok=True)
        self.path = os.path.join(logdir, event_file_name(filename_suffix))
        self._file = open(self.path, "wb")
        self._flush_secs = flush_secs
        self._queue: queue.Queue[object] = queue.Queue(maxsize=256)
        self._error: BaseException | None = None
        self._closed = False
        self._lock = threading.Lock()  # makes "check, then queue" atomic against close()
        self._thread = threading.Thread(target=self._run, name="modellens-event-writer", daemon=True)
        self._thread.start()
        _open_writers.add(self)
        self.add_event(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2"))

    def add_event(self, event: event_pb2.Event) -> None:
        data = event.SerializeToString()
        with self._lock:
            self._check()
            self._queue.put(data)

    def flush(self) -> None:
        """Returns once every event added so far is written to the operating system."""
        done = threading.Event()
        with self._lock:
            self._check()
            self._queue.put((_FLUSH, done))
        done.wait()
        self._raise_if_failed()

    def close(self) -> None:
        done = threading.Event()
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._queue.put((_CLOSE, done))
        done.wait()
        self._thread.join()
        _open_writers.discard(self)
        self._raise_if_failed()

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise RuntimeError(f"writing {self.path} failed: {self._error}") from self._error

    def _check(self) -> None:
        self._raise_if_failed()
        if self._closed:
            raise ValueError(f"the event file {self.path} is closed; make a new Writer to write more")

    def _run(self) -> None:
        dirty = False
        next_flush = time.monotonic() + self._flush_secs
        while True:
            timeout = max(0.0, next_flush - time.monotonic()) if dirty else None
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            try:
                if isinstance(item, bytes):
                    if self._error is None:
                        self._file.write(frame_record(item))
                    if not dirty:
                        dirty = True
                        next_flush = time.monotonic() + self._flush_secs
                    continue
                if self._error is None:
                    self._file.flush()
                dirty = False
            except BaseException as error:  # keep the thread alive to release waiters
                self._error = error
            if isinstance(item, tuple):
                command, done = item
                if command is _CLOSE:
                    try:
                        self._file.close()
                    except BaseException as error:
                        self._error = self._error or error
                    done.set()
                    return
                done.set()


@atexit.register
def _flush_all_at_exit() -> None:
    for writer in list(_open_writers):
        try:
            writer.close()
        except Exception:
            pass
