"""Event-file throughput on 1 MB and 10 MB records: ModelLens's writer against TensorBoard's
``EventFileWriter`` (what torch's ``SummaryWriter`` uses) and tensorboardX's, same events."""

from __future__ import annotations

import os
import tempfile

from tensorboard.compat.proto import event_pb2, summary_pb2

from common import best_of, table

TOTAL_MB = 40


def events_of(size: int) -> list[event_pb2.Event]:
    payload = os.urandom(size)
    count = max(2, TOTAL_MB * 2**20 // size)
    return [
        event_pb2.Event(
            step=i,
            summary=summary_pb2.Summary(
                value=[summary_pb2.Summary.Value(tag="blob", tensor={"string_val": [payload], "dtype": 7})]
            ),
        )
        for i in range(count)
    ]


def modellens_writer(logdir: str, events) -> None:
    from modellens._event_file import EventFileWriter

    writer = EventFileWriter(logdir)
    for event in events:
        writer.add_event(event)
    writer.close()


def tensorboard_writer(logdir: str, events) -> None:
    from tensorboard.summary.writer.event_file_writer import EventFileWriter

    writer = EventFileWriter(logdir)
    for event in events:
        writer.add_event(event)
    writer.close()


def tensorboardx_writer(logdir: str, events) -> None:
    from tensorboardX.event_file_writer import EventFileWriter
    from tensorboardX.proto import event_pb2 as tbx_event_pb2

    converted = [tbx_event_pb2.Event.FromString(e.SerializeToString()) for e in events]
    writer = EventFileWriter(logdir)
    for event in converted:
        writer.add_event(event)
    writer.close()


def main() -> str:
    peers = [
        ("modellens", modellens_writer),
        ("tensorboard EventFileWriter", tensorboard_writer),
        ("tensorboardX EventFileWriter", tensorboardx_writer),
    ]
    rows = []
    for size_mb in (1, 10):
        events = events_of(size_mb * 2**20)
        total = sum(e.ByteSize() for e in events) / 2**20
        speeds = []
        for name, run in peers:

            def once():
                with tempfile.TemporaryDirectory() as logdir:
                    run(logdir, events)

            speeds.append((name, total / best_of(once, repeats=2)))
        for name, speed in speeds:
            rows.append([f"{size_mb} MB", name, f"{speed:.0f} MB/s", f"{speeds[0][1] / speed:.1f}×"])
    return table(
        f"Event-file throughput ({TOTAL_MB} MB of records, written and closed)",
        ["record", "writer", "throughput", "ModelLens is faster by"],
        rows,
    )


if __name__ == "__main__":
    print(main())
