"""What every ModelLens record carries: the plugin name and a versioned ``PluginData``.

Versions are per kind: bumping one kind's format never hides the other kinds from an older
reader. Records written before versions were per kind carry version 1, which every kind reads.
"""

from __future__ import annotations

import logging

from tensorboard.compat.proto import summary_pb2

from modellens import _proto

PLUGIN_NAME = "modellens"

_logger = logging.getLogger(__name__)
_warned_versions: set[tuple[int, int]] = set()


class UnreadableRecord(ValueError):
    """Raised by decoders for data that is not ModelLens's, or too new, or malformed."""


class NewerVersion(UnreadableRecord):
    """Data of a newer format than this code reads (already logged once by ``check_version``)."""


def kind_number(kind_name: str) -> int:
    return _proto.KIND.values_by_name[kind_name].number


def summary_metadata(kind_name: str, version: int, data_class: int) -> summary_pb2.SummaryMetadata:
    """The metadata of a record of the given kind (``CONFUSION_MATRIX``, ...) and version."""
    content = _proto.PluginData(version=version, kind=kind_number(kind_name))
    metadata = summary_pb2.SummaryMetadata(data_class=data_class)
    metadata.plugin_data.plugin_name = PLUGIN_NAME
    metadata.plugin_data.content = content.SerializeToString()
    return metadata


def parse_plugin_data(content: bytes) -> _proto.PluginData:
    """Parses a record's plugin content; raises ``UnreadableRecord`` for broken data."""
    try:
        data = _proto.PluginData.FromString(content)
    except Exception as error:  # protobuf raises DecodeError and others
        raise UnreadableRecord(f"plugin content is not a ModelLens PluginData: {error}") from None
    if data.version < 1:
        raise UnreadableRecord("plugin content has no version")
    return data


def check_version(data: _proto.PluginData, newest: int) -> None:
    """Raises ``UnreadableRecord`` for a version newer than ``newest``, logging it once per
    process and kind, as TensorBoard's own plugins do."""
    if data.version <= newest:
        return
    kind = _proto.KIND.values_by_number[data.kind].name if data.kind in _proto.KIND.values_by_number else data.kind
    if (data.kind, data.version) not in _warned_versions:
        _warned_versions.add((data.kind, data.version))
        _logger.warning(
            "Skipping ModelLens %s data of version %d; this ModelLens reads up to version %d. "
            "Upgrade modellens to see it.",
            kind,
            data.version,
            newest,
        )
    raise NewerVersion(f"version {data.version} is newer than {newest}")
